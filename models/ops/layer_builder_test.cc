#include "models/ops/layer_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "models/ops/internal/op_test_util.h"

namespace foresight::ops {
namespace {

using test_util::CountOps;
using test_util::FindOp;
using test_util::IsTpAllReduce;

ModelConfig Preset(std::string_view name) { return FindPreset(name).value_or(ModelConfig{}); }

BuildOptions Options(std::int64_t b, std::int64_t tp, bool flash) {
  BuildOptions o;
  o.micro_batch = b;
  o.tp = tp;
  o.flash_attention = flash;
  return o;
}

double FlopsOf(const std::vector<Op>& ops, std::string_view name) {
  const Op* op = FindOp(ops, name);
  EXPECT_NE(op, nullptr) << name;
  return op == nullptr ? -1 : op->flops;
}

TEST(LayerBuilderTest, GptGemmFlopsMatchHeaderFormulasAtTp8) {
  // b = 2, s = 2048, h = 12288, f = 4h, kv = h, tp = 8 (layer_builder.h):
  // qkv 2bsh(h + 2kv)/tp, scores 2bs^2h/tp, context 2bs^2h/tp, proj 2bsh^2/tp, mlp 4bshf/tp.
  const double b = 2, s = 2048, h = 12288, f = 4 * h, t = 8;
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-175b"), Options(2, 8, false));
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "qkv_proj"), 2 * b * s * h * (3 * h) / t);
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "attn_scores"), 2 * b * s * s * h / t);
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "attn_context"), 2 * b * s * s * h / t);
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "attn_out_proj"), 2 * b * s * h * h / t);
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "mlp_fc1") + FlopsOf(l.forward, "mlp_fc2"),
                   4 * b * s * h * f / t);
  const Op* qkv = FindOp(l.forward, "qkv_proj");
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(qkv->m, 2 * 2048);
  EXPECT_EQ(qkv->n, 3 * 12288 / 8);
  EXPECT_EQ(qkv->k, 12288);
  const Op* scores = FindOp(l.forward, "attn_scores");
  ASSERT_NE(scores, nullptr);
  EXPECT_EQ(scores->batch, 2 * 96 / 8);
  EXPECT_EQ(scores->k, 128);
}

TEST(LayerBuilderTest, SwigluGqaGemmFlopsAtTp8) {
  // llama3-70b: h = 8192, kv = 8 heads * 128 = 1024, f = 28672, s = 8192, b = 1, tp = 8:
  // qkv 2bsh(h + 2kv)/tp, mlp 6bshf/tp (fc1 h -> 2f, fc2 f -> h).
  const double b = 1, s = 8192, h = 8192, kv = 1024, f = 28672, t = 8;
  const LayerOps l = BuildTransformerLayer(Preset("llama3-70b"), Options(1, 8, true));
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "qkv_proj"), 2 * b * s * h * (h + 2 * kv) / t);
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "mlp_fc1") + FlopsOf(l.forward, "mlp_fc2"),
                   6 * b * s * h * f / t);
  EXPECT_DOUBLE_EQ(FlopsOf(l.forward, "attn_flash"), 4 * b * s * s * h / t);
  EXPECT_NE(FindOp(l.forward, "rope_q"), nullptr);  // no learned positions: RoPE
  EXPECT_NE(FindOp(l.forward, "mlp_swiglu"), nullptr);
  EXPECT_EQ(FindOp(l.forward, "attn_bias_dropout_add"), nullptr);  // no bias in Llama
  EXPECT_NE(FindOp(l.forward, "attn_dropout_add"), nullptr);
}

TEST(LayerBuilderTest, BackwardIsTwiceForwardForEveryMatmul) {
  for (bool flash : {false, true}) {
    const LayerOps l = BuildTransformerLayer(Preset("gpt3-13b"), Options(1, 4, flash));
    for (const char* name : {"qkv_proj", "attn_out_proj", "mlp_fc1", "mlp_fc2"}) {
      const double fwd = FlopsOf(l.forward, name);
      const Op* dgrad = FindOp(l.backward, std::string(name) + "_dgrad");
      const Op* wgrad = FindOp(l.backward, std::string(name) + "_wgrad");
      ASSERT_TRUE(dgrad != nullptr && wgrad != nullptr) << name;
      EXPECT_EQ(dgrad->pass, Pass::kBackward);
      EXPECT_EQ(wgrad->pass, Pass::kWeightGrad);
      EXPECT_DOUBLE_EQ(dgrad->flops, fwd) << name;
      EXPECT_DOUBLE_EQ(wgrad->flops, fwd) << name;
    }
    EXPECT_DOUBLE_EQ(test_util::ModelFlops(l.backward), 2 * test_util::ModelFlops(l.forward));
  }
}

TEST(LayerBuilderTest, OnlyMatmulsCountAsModelFlops) {
  for (bool flash : {false, true}) {
    const LayerOps l = BuildTransformerLayer(Preset("llama2-7b"), Options(1, 2, flash));
    for (const std::vector<Op>* ops : {&l.forward, &l.backward}) {
      for (const Op& op : *ops) {
        const bool matmul = op.kind == OpKind::kGemm || op.kind == OpKind::kFlashAttention;
        EXPECT_EQ(op.model_flops, matmul) << op.name;
        if (op.kind == OpKind::kNorm) {
          EXPECT_GT(op.flops, 0) << op.name;
        }
      }
    }
  }
}

TEST(LayerBuilderTest, FlashAttentionFlopsAndBytes) {
  // gpt3-175b, b = 1, tp = 8: a/t = 12 heads, d = 128, s = 2048, e = 2 bytes.
  // forward FLOPs 4*b*s^2*h/t = 4 * 2048^2 * 1536 = 25,769,803,776; backward = 2x.
  // Q, K, V, O are T*(h/t) = 2048 * 1536 = 3,145,728 elements = 6,291,456 bytes each;
  // log-sum-exp 4 * b * 12 * 2048 = 98,304 bytes.
  // forward bytes: read Q, K, V, write O, write lse = 4 * 6,291,456 + 98,304 = 25,264,128
  // backward: read Q, K, V, O, dO, lse, write dQ, dK, dV = 8 * 6,291,456 + 98,304 = 50,429,952
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-175b"), Options(1, 8, true));
  const Op* fwd = FindOp(l.forward, "attn_flash");
  const Op* bwd = FindOp(l.backward, "attn_flash_bwd");
  ASSERT_TRUE(fwd != nullptr && bwd != nullptr);
  EXPECT_EQ(fwd->kind, OpKind::kFlashAttention);
  EXPECT_DOUBLE_EQ(fwd->flops, 25769803776.0);
  EXPECT_DOUBLE_EQ(bwd->flops, 2 * 25769803776.0);
  EXPECT_DOUBLE_EQ(fwd->bytes, 25264128.0);
  EXPECT_DOUBLE_EQ(bwd->bytes, 50429952.0);
  // Causal: 16 query tiles of 128 -> (16 + 1) / 32 of the tiles; backward executes 2.5x.
  EXPECT_DOUBLE_EQ(fwd->executed_flops, 25769803776.0 * 17 / 32);
  EXPECT_DOUBLE_EQ(bwd->executed_flops, 2.5 * 25769803776.0 * 17 / 32);
  EXPECT_DOUBLE_EQ(ExecutedFlops(*fwd), fwd->executed_flops);
  EXPECT_EQ(FindOp(l.forward, "attn_softmax"), nullptr);
}

TEST(LayerBuilderTest, UnfusedAttentionTouchesScoreTensors) {
  // gpt3-175b, b = 1, tp = 8: S2 = b * (a/t) * s^2 = 12 * 2048^2 = 50,331,648 elements.
  // Fused scale+mask+softmax reads and writes S2 at 2 bytes: 4 * S2 = 201,326,592 bytes.
  // Dropout reads S2, writes S2 and a 1-byte mask: 5 * S2 = 251,658,240 bytes.
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-175b"), Options(1, 8, false));
  const Op* softmax = FindOp(l.forward, "attn_softmax");
  const Op* dropout = FindOp(l.forward, "attn_probs_dropout");
  ASSERT_TRUE(softmax != nullptr && dropout != nullptr);
  EXPECT_DOUBLE_EQ(softmax->bytes, 201326592.0);
  EXPECT_DOUBLE_EQ(dropout->bytes, 251658240.0);
  EXPECT_NE(FindOp(l.backward, "attn_softmax_bwd"), nullptr);
  EXPECT_NE(FindOp(l.backward, "attn_probs_dropout_bwd"), nullptr);
}

double Korthikanti(double s, double b, double h, double a, double t) {
  // Korthikanti et al. 2022, activation memory per layer with tensor parallelism, no sequence
  // parallelism, 16-bit activations: s*b*h*(10 + 24/t + 5*a*s/(h*t)) bytes.
  return s * b * h * (10 + 24 / t + 5 * a * s / (h * t));
}

TEST(LayerBuilderTest, SavedActivationsMatchKorthikanti) {
  const ModelConfig gpt = Preset("gpt3-175b");
  // tp = 1, b = 1: 2048 * 12288 * (34 + 80) = 2,868,903,936 bytes.
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(gpt, Options(1, 1, false)).saved_activation_bytes,
                   Korthikanti(2048, 1, 12288, 96, 1));
  EXPECT_DOUBLE_EQ(Korthikanti(2048, 1, 12288, 96, 1), 2868903936.0);
  // tp = 8, b = 2: 2048 * 2 * 12288 * (10 + 3 + 10) = 1,157,627,904 bytes.
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(gpt, Options(2, 8, false)).saved_activation_bytes,
                   Korthikanti(2048, 2, 12288, 96, 8));
  EXPECT_DOUBLE_EQ(Korthikanti(2048, 2, 12288, 96, 8), 1157627904.0);
  // Another GPT shape, tp = 4, b = 2 (b * a/t = 20: Megatron's fused softmax kernel, whose
  // 16-bit output the formula assumes; b = 1 is the fp32 fallback, next test).
  EXPECT_DOUBLE_EQ(
      BuildTransformerLayer(Preset("gpt3-13b"), Options(2, 4, false)).saved_activation_bytes,
      Korthikanti(2048, 2, 5120, 40, 4));
}

TEST(LayerBuilderTest, SoftmaxFallsBackToFp32WhereMegatronsFusedKernelIsUnavailable) {
  // gpt3-13b (a = 40, s = 2048), tp = 8: a/t = 5 heads per rank. Megatron's fused kernel needs
  // b * a/t to be a multiple of 4 (fused_softmax.py, is_kernel_available): b = 4 (20) is fused,
  // b = 1 (5) runs forward_torch_softmax in fp32. S2 = 1 * 5 * 2048^2 = 20,971,520 elements:
  //   float() reads 2 B, writes 4 B:            6 * S2       = 125,829,120 B
  //   * scale reads and writes 4 B:             8 * S2       = 167,772,160 B
  //   masked_fill_ 8 B + the s x s bool mask:   8 * S2 + s^2 = 171,966,464 B
  //   softmax 8 B, half() 6 B; softmax backward reads dy and y, writes dx at 4 B: 12 * S2.
  const ModelConfig gpt = Preset("gpt3-13b");
  const LayerOps fused = BuildTransformerLayer(gpt, Options(4, 8, false));
  EXPECT_EQ(FindOp(fused.forward, "attn_softmax_upcast"), nullptr);
  const LayerOps l = BuildTransformerLayer(gpt, Options(1, 8, false));
  const double s2 = 20971520.0;
  auto bytes = [&](const std::vector<Op>& ops, std::string_view name) {
    const Op* op = FindOp(ops, name);
    EXPECT_NE(op, nullptr) << name;
    return op == nullptr ? -1.0 : op->bytes;
  };
  EXPECT_DOUBLE_EQ(bytes(l.forward, "attn_softmax_upcast"), 125829120.0);
  EXPECT_DOUBLE_EQ(bytes(l.forward, "attn_scale"), 167772160.0);
  EXPECT_DOUBLE_EQ(bytes(l.forward, "attn_mask"), 171966464.0);
  EXPECT_DOUBLE_EQ(bytes(l.forward, "attn_softmax"), 8 * s2);
  EXPECT_DOUBLE_EQ(bytes(l.forward, "attn_softmax_downcast"), 6 * s2);
  EXPECT_DOUBLE_EQ(bytes(l.backward, "attn_softmax_bwd"), 12 * s2);
  EXPECT_DOUBLE_EQ(bytes(l.backward, "attn_mask_bwd"), 8 * s2 + 2048.0 * 2048.0);
  EXPECT_DOUBLE_EQ(bytes(l.backward, "attn_scale_bwd"), 8 * s2);
  EXPECT_DOUBLE_EQ(bytes(l.backward, "attn_softmax_downcast_bwd"), 6 * s2);
  EXPECT_DOUBLE_EQ(bytes(l.backward, "attn_softmax_upcast_bwd"), 6 * s2);
  // Five kernels where the fused path has one, forward and backward.
  EXPECT_EQ(l.forward.size(), fused.forward.size() + 4);
  EXPECT_EQ(l.backward.size(), fused.backward.size() + 4);
  // The softmax output kept for the backward is fp32: 2 more bytes per S2 element than the
  // Korthikanti (16-bit) count.
  EXPECT_DOUBLE_EQ(l.saved_activation_bytes, Korthikanti(2048, 1, 5120, 40, 8) + 2 * s2);
  // Without dropout the context GEMM keeps the 16-bit cast of the probabilities besides the
  // fp32 softmax output: 6 bytes per element, 6 * S2 = 125,829,120 B (fused: 2 bytes).
  BuildOptions no_dropout = Options(1, 8, false);
  no_dropout.dropout = false;
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(gpt, no_dropout).attention_core_saved_bytes, 125829120.0);
  no_dropout.micro_batch = 4;  // fused: 2 * (4 * 5 * 2048^2) = 167,772,160 B
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(gpt, no_dropout).attention_core_saved_bytes, 167772160.0);
}

TEST(LayerBuilderTest, FlashDropsTheScoreTermAndKeepsLogSumExp) {
  // sbh(10 + 24/t) + 4 bytes * b * (a/t) * s (fp32 log-sum-exp).
  const double s = 2048, b = 2, h = 12288, a = 96, t = 8;
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-175b"), Options(2, 8, true));
  EXPECT_DOUBLE_EQ(l.saved_activation_bytes,
                   Korthikanti(s, b, h, a, t) - 5 * a * s * s * b / t + 4 * b * (a / t) * s);
}

TEST(LayerBuilderTest, SwigluGqaSavedActivations) {
  // llama2-70b, b = 1, tp = 8, flash, no dropout: T = 4096, h = 8192, a/t = 8, kv/t = 1,
  // d = 128, f/t = 3584, e = 2. Bytes per token:
  //   norm inputs, QKV input, fc1 input: 4 * 2h = 65,536
  //   Q 2*1024 = 2,048; K, V 2*2*128 = 512; lse 4*8 = 32; out-proj input 2*1024 = 2,048
  //   swiglu input 2*2*3584 = 14,336; fc2 input 2*3584 = 7,168
  //   sum 91,680 bytes/token * 4096 tokens = 375,521,280
  BuildOptions o = Options(1, 8, true);
  o.dropout = false;
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(Preset("llama2-70b"), o).saved_activation_bytes,
                   375521280.0);
  // With dropout the two residual-branch masks add 2 * T * h bytes = 67,108,864.
  o.dropout = true;
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(Preset("llama2-70b"), o).saved_activation_bytes,
                   375521280.0 + 67108864.0);
}

TEST(LayerBuilderTest, TensorParallelAllReducesPerLayer) {
  // b = 2, s = 2048, h = 5120, bf16: comm_bytes = b*s*h*2 = 41,943,040.
  for (bool flash : {false, true}) {
    const LayerOps l8 = BuildTransformerLayer(Preset("gpt3-13b"), Options(2, 8, flash));
    EXPECT_EQ(CountOps(l8.forward, IsTpAllReduce), 2);
    EXPECT_EQ(CountOps(l8.backward, IsTpAllReduce), 2);
    for (const std::vector<Op>* ops : {&l8.forward, &l8.backward}) {
      for (const Op& op : *ops) {
        if (IsTpAllReduce(op)) {
          EXPECT_DOUBLE_EQ(op.comm_bytes, 41943040.0);
        }
      }
    }
    // Backward all-reduces follow the column-parallel data gradients (Megatron's "f").
    for (std::size_t i = 0; i < l8.backward.size(); ++i) {
      if (!IsTpAllReduce(l8.backward[i])) continue;
      ASSERT_GT(i, 0u);
      const std::string& prev = l8.backward[i - 1].name;
      EXPECT_TRUE(prev == "qkv_proj_dgrad" || prev == "mlp_fc1_dgrad") << prev;
    }
    const LayerOps l1 = BuildTransformerLayer(Preset("gpt3-13b"), Options(2, 1, flash));
    EXPECT_EQ(CountOps(l1.forward, IsTpAllReduce) + CountOps(l1.backward, IsTpAllReduce), 0);
  }
}

TEST(LayerBuilderTest, FusionPresets) {
  bool ok = false;
  const FusionRules def = FusionPreset("default", &ok);
  EXPECT_TRUE(ok);
  EXPECT_TRUE(def.bias_gelu && def.bias_dropout_add && def.softmax_mask && def.norm);
  EXPECT_FALSE(def.norm_residual || def.cross_entropy || def.softmax_dropout);
  const FusionRules none = FusionPreset("none", &ok);
  EXPECT_TRUE(ok);
  EXPECT_FALSE(none.bias_gelu || none.bias_dropout_add || none.softmax_mask || none.norm ||
               none.norm_residual || none.cross_entropy || none.softmax_dropout);
  const FusionRules max = FusionPreset("max", &ok);
  EXPECT_TRUE(ok);
  EXPECT_TRUE(max.bias_gelu && max.bias_dropout_add && max.softmax_mask && max.norm &&
              max.norm_residual && max.cross_entropy && max.softmax_dropout);
  FusionPreset("fastest", &ok);
  EXPECT_FALSE(ok);
  FusionPreset("none", nullptr);  // ok may be null
}

// Embedding + layers + head, the whole step of one rank.
struct Totals {
  int kernels = 0;
  double bytes = 0;
  int norms = 0;  // forward norm-kind kernels
};
Totals WholeModel(const ModelConfig& m, const BuildOptions& o) {
  Totals t;
  const LayerOps layer = BuildTransformerLayer(m, o);
  const LayerOps parts[] = {BuildEmbedding(m, o), BuildHead(m, o)};
  auto is_norm = [](const Op& op) { return op.kind == OpKind::kNorm; };
  t.kernels = static_cast<int>(m.layers) * test_util::Kernels(layer);
  t.bytes = static_cast<double>(m.layers) * test_util::Bytes(layer);
  t.norms = static_cast<int>(m.layers) * CountOps(layer.forward, is_norm);
  for (const LayerOps& p : parts) {
    t.kernels += test_util::Kernels(p);
    t.bytes += test_util::Bytes(p);
    t.norms += CountOps(p.forward, is_norm);
  }
  return t;
}

TEST(LayerBuilderTest, FusionOrdersKernelsAndBytes) {
  for (const char* model : {"gpt3-13b", "llama2-7b"}) {
    for (bool flash : {false, true}) {
      BuildOptions o = Options(1, 2, flash);
      o.fusion = FusionPreset("none", nullptr);
      const Totals none = WholeModel(Preset(model), o);
      o.fusion = FusionPreset("default", nullptr);
      const Totals def = WholeModel(Preset(model), o);
      o.fusion = FusionPreset("max", nullptr);
      const Totals max = WholeModel(Preset(model), o);
      EXPECT_GT(none.kernels, def.kernels) << model;
      EXPECT_GT(none.bytes, def.bytes) << model;
      EXPECT_GE(def.kernels, max.kernels) << model;
      EXPECT_GE(def.bytes, max.bytes) << model;
      // One fused norm per norm of the model: 2 per layer + the final norm, whether the norm
      // sits in its own kernel ("default") or shares the residual kernel ("max").
      const ModelConfig m = Preset(model);
      EXPECT_EQ(def.norms, 2 * m.layers + 1) << model;
      EXPECT_EQ(max.norms, 2 * m.layers + 1) << model;
    }
  }
}

TEST(LayerBuilderTest, UnfusedResidualBlockHasThreeKernels) {
  // "none" splits bias, dropout and residual add: each reads and writes b*s*h.
  BuildOptions o = Options(1, 1, true);
  o.fusion = FusionPreset("none", nullptr);
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-13b"), o);
  for (const char* name : {"attn_bias", "attn_dropout", "attn_residual_add", "mlp_fc1_bias",
                           "mlp_gelu", "input_norm_stats", "input_norm_shift"}) {
    EXPECT_NE(FindOp(l.forward, name), nullptr) << name;
  }
  // bias add: read x and bias, write x: 2 * 2048 * 5120 * 2 + 5120 * 2 bytes.
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "attn_bias")->bytes, 2.0 * 2048 * 5120 * 2 + 5120 * 2);
}

TEST(LayerBuilderTest, NoDropoutMeansNoDropoutKernels) {
  BuildOptions o = Options(1, 1, false);
  o.dropout = false;
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-13b"), o);
  for (const std::vector<Op>* ops : {&l.forward, &l.backward}) {
    for (const Op& op : *ops) EXPECT_EQ(op.name.find("dropout"), std::string::npos) << op.name;
  }
  // Korthikanti without dropout: the two 1-byte masks (2sbh) and the attention dropout mask
  // and output (3as^2b) disappear: sbh*(32 + 2as/h) at tp = 1.
  const double s = 2048, h = 5120, a = 40;
  EXPECT_DOUBLE_EQ(l.saved_activation_bytes, s * h * (32 + 2 * a * s / h));
}

TEST(LayerBuilderTest, Fp8ReadsOneByteOperandsAndWritesBf16) {
  // gpt3-13b, b = 1, tp = 1, fp8: qkv_proj m = 2048, n = 15360, k = 5120.
  // Operands X (m*k) and W (k*n) at 1 byte, output (m*n) and bias (n) at 2 bytes:
  // 10,485,760 + 78,643,200 + 62,914,560 + 30,720 = 152,074,240 bytes.
  BuildOptions o = Options(1, 1, true);
  o.dtype = Dtype::kFp8;
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-13b"), o);
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "qkv_proj")->bytes, 152074240.0);
  // Weight gradient: reads X and dY at 1 byte (10,485,760 + 31,457,280), reads and writes the
  // fp32 main gradient (78,643,200 * 8 = 629,145,600), and reduces the bias gradient (reads dY
  // at 2 bytes: 62,914,560; writes 15360 fp32: 61,440) = 734,064,640 bytes.
  EXPECT_DOUBLE_EQ(FindOp(l.backward, "qkv_proj_wgrad")->bytes, 734064640.0);
}

TEST(LayerBuilderTest, Fp8KeepsGemmInputsAsOneByteTransposes) {
  // gpt3-13b, b = 1, tp = 1: T = 2048 tokens, h = 5120, f = 4h. Transformer Engine keeps the
  // fp8 transpose (1 B) of each GEMM input instead of the bf16 tensor (2 B): QKV input -T*h,
  // fc1 input -T*h, fc2 input -4T*h; the out-proj input stays bf16 for the flash backward (its
  // output O) and gains its 1-byte transpose, +T*h. Net -5*T*h = -52,428,800 bytes.
  for (const bool flash : {true, false}) {
    SCOPED_TRACE(flash ? "flash" : "unfused");
    BuildOptions o = Options(1, 1, flash);
    const double bf16 = BuildTransformerLayer(Preset("gpt3-13b"), o).saved_activation_bytes;
    o.dtype = Dtype::kFp8;
    const double fp8 = BuildTransformerLayer(Preset("gpt3-13b"), o).saved_activation_bytes;
    // Unfused attention does not need the context again: its out-proj input is 1 byte too,
    // -T*h instead of +T*h: net -7*T*h = -73,400,320 bytes.
    EXPECT_DOUBLE_EQ(bf16 - fp8, flash ? 52428800.0 : 73400320.0);
  }
}

TEST(LayerBuilderTest, Fp8CastsEveryTransformerEngineGemmInput) {
  // gpt3-13b, b = 1, tp = 1 (m = 2048 tokens, h = 5120, ffn 20480). One cast-transpose kernel
  // per 16-bit GEMM input: reads 2 B, writes the fp8 copy and its fp8 transpose, 4 B/element.
  BuildOptions o = Options(1, 1, true);
  o.dtype = Dtype::kFp8;
  const LayerOps l = BuildTransformerLayer(Preset("gpt3-13b"), o);
  // qkv_proj X[2048 x 5120], W[5120 x 15360]: 4 * 10,485,760 and 4 * 78,643,200.
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "qkv_proj_fp8_cast_input")->bytes, 41943040.0);
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "qkv_proj_fp8_cast_weight")->bytes, 314572800.0);
  // mlp_fc2 X[2048 x 20480]: 4 * 41,943,040.
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "mlp_fc2_fp8_cast_input")->bytes, 167772160.0);
  // Backward: qkv_proj's output gradient dY[2048 x 15360], 4 * 31,457,280, before its dgrad.
  EXPECT_DOUBLE_EQ(FindOp(l.backward, "qkv_proj_fp8_cast_grad")->bytes, 125829120.0);
  // Four linear layers (qkv_proj, attn_out_proj, mlp_fc1, mlp_fc2): 2 casts forward, 1 backward.
  auto casts = [](const std::vector<Op>& ops) {
    int n = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].name.find("_fp8_cast_") == std::string::npos) continue;
      ++n;
      EXPECT_EQ(ops[i].kind, OpKind::kElementwise);
    }
    return n;
  };
  EXPECT_EQ(casts(l.forward), 8);
  EXPECT_EQ(casts(l.backward), 4);
  const auto grad = std::find_if(l.backward.begin(), l.backward.end(),
                                 [](const Op& op) { return op.name == "mlp_fc1_fp8_cast_grad"; });
  ASSERT_NE(grad + 1, l.backward.end());
  EXPECT_EQ((grad + 1)->name, "mlp_fc1_dgrad");
  // The attention core indices move with the inserted casts (qkv_proj's two come before it).
  EXPECT_EQ(l.forward[static_cast<std::size_t>(l.attention_core_begin)].name, "attn_flash");
  EXPECT_EQ(l.attention_core_end, l.attention_core_begin + 1);

  // Megatron-Core casts each weight once per step: with 4 micro-batches each pays a quarter.
  o.fp8_weight_cast_share = 0.25;
  const LayerOps shared = BuildTransformerLayer(Preset("gpt3-13b"), o);
  EXPECT_DOUBLE_EQ(FindOp(shared.forward, "qkv_proj_fp8_cast_weight")->bytes, 78643200.0);

  // Unfused attention: its batched GEMMs stay bf16 (no casts), the core still starts at
  // attn_scores; bf16 runs have no casts at all.
  o.flash_attention = false;
  const LayerOps unfused = BuildTransformerLayer(Preset("gpt3-13b"), o);
  EXPECT_EQ(unfused.forward[static_cast<std::size_t>(unfused.attention_core_begin)].name,
            "attn_scores");
  EXPECT_EQ(unfused.forward[static_cast<std::size_t>(unfused.attention_core_end - 1)].name,
            "attn_context");
  EXPECT_EQ(FindOp(unfused.forward, "attn_scores_fp8_cast_input"), nullptr);
  EXPECT_EQ(casts(unfused.forward), 8);
  EXPECT_EQ(casts(BuildTransformerLayer(Preset("gpt3-13b"), Options(1, 1, true)).forward), 0);
}

TEST(LayerBuilderTest, ForwardKernelNamesAreUnique) {
  for (const char* preset : {"none", "default", "max"}) {
    for (bool flash : {false, true}) {
      BuildOptions o = Options(1, 2, flash);
      o.fusion = FusionPreset(preset, nullptr);
      const LayerOps l = BuildTransformerLayer(Preset("gpt3-13b"), o);
      std::set<std::string> names;
      for (const Op& op : l.forward) {
        if (op.kind == OpKind::kCollective) continue;
        EXPECT_TRUE(names.insert(op.name).second) << preset << ": " << op.name;
      }
    }
  }
}

TEST(LayerBuilderDeathTest, TpMustDivideHeads) {
  EXPECT_DEATH(BuildTransformerLayer(Preset("gpt3-13b"), Options(1, 3, true)),
               "tp=3 does not divide heads=40");
}

}  // namespace
}  // namespace foresight::ops
