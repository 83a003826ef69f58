// Tests of BuildEmbedding, BuildHead, BuildAdamStep and ModelFlopsPerStep.
#include <gtest/gtest.h>

#include <cmath>

#include "models/ops/internal/op_test_util.h"
#include "models/ops/layer_builder.h"

namespace foresight::ops {
namespace {

using test_util::CountOps;
using test_util::FindOp;
using test_util::IsTpAllReduce;

ModelConfig Preset(std::string_view name) { return FindPreset(name).value_or(ModelConfig{}); }

BuildOptions Options(std::int64_t b, std::int64_t tp) {
  BuildOptions o;
  o.micro_batch = b;
  o.tp = tp;
  return o;
}

// Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
// Megatron-LM", eq. (3) without recomputation: 72 B s l h^2 (1 + s/(6h) + V/(12 l h)).
double Narayanan(double batch, double s, double l, double h, double v) {
  return 72 * batch * s * l * h * h * (1 + s / (6 * h) + v / (12 * l * h));
}

TEST(ModelFlopsTest, Gpt3_175bMatchesNarayanan) {
  ModelConfig gpt = Preset("gpt3-175b");
  gpt.vocab = 51200;
  const double expected = Narayanan(1536, 2048, 96, 12288, 51200);
  EXPECT_NEAR(ModelFlopsPerStep(gpt, 1536) / expected, 1.0, 1e-9);
  // Sanity: 6 * 174.6e9 params * 1536*2048 tokens = 3.30e18, + 2.8% attention = 3.39e18.
  EXPECT_NEAR(expected, 3.39e18, 0.01e18);
}

TEST(ModelFlopsTest, SmallGptMatchesNarayanan) {
  ModelConfig m;
  m.layers = 2;
  m.hidden = 64;
  m.heads = 4;
  m.kv_heads = 4;
  m.ffn_hidden = 256;
  m.vocab = 100;
  m.seq_len = 32;
  EXPECT_NEAR(ModelFlopsPerStep(m, 3) / Narayanan(3, 32, 2, 64, 100), 1.0, 1e-12);
}

TEST(ModelFlopsTest, LlamaFromGemmShapes) {
  // Per sequence, forward matmuls of one layer: qkv 2sh(h + 2kv), scores + context 4s^2h,
  // proj 2sh^2, swiglu MLP 6shf; logits 2shV; backward 2x forward -> x3.
  // llama3-8b: s = 8192, h = 4096, kv = 1024, f = 14336, V = 128256, l = 32.
  const double s = 8192, h = 4096, kv = 1024, f = 14336, v = 128256, l = 32;
  const double layer = 2 * s * h * (h + 2 * kv) + 4 * s * s * h + 2 * s * h * h + 6 * s * h * f;
  const double expected = 3 * (l * layer + 2 * s * h * v) * 16;
  EXPECT_NEAR(ModelFlopsPerStep(Preset("llama3-8b"), 16) / expected, 1.0, 1e-12);
}

TEST(AdamTest, BytesAndFlopsPerParameter) {
  // Mixed precision: read fp32 master, m, v (12 B) + fp32 main grad (4 B); write master, m, v
  // (12 B) + bf16 weight (2 B) = 30 B. fp32 training: no master copy, 28 B.
  const Op bf16 = BuildAdamStep(1e9, Dtype::kBf16);
  EXPECT_EQ(bf16.kind, OpKind::kOptimizer);
  EXPECT_EQ(bf16.pass, Pass::kOptimizer);
  EXPECT_DOUBLE_EQ(bf16.bytes, 30e9);
  EXPECT_DOUBLE_EQ(bf16.flops, 12e9);
  EXPECT_DOUBLE_EQ(BuildAdamStep(1e9, Dtype::kFp32).bytes, 28e9);
  EXPECT_DOUBLE_EQ(BuildAdamStep(0, Dtype::kBf16).bytes, 0);
}

TEST(EmbeddingTest, VocabParallelGatherAndAllReduce) {
  // gpt3-175b, b = 2, tp = 8: all-reduce of b*s*h*2 = 2*2048*12288*2 = 100,663,296 bytes.
  const LayerOps e8 = BuildEmbedding(Preset("gpt3-175b"), Options(2, 8));
  ASSERT_EQ(CountOps(e8.forward, IsTpAllReduce), 1);
  EXPECT_DOUBLE_EQ(FindOp(e8.forward, "tp_allreduce")->comm_bytes, 100663296.0);
  EXPECT_EQ(CountOps(e8.backward, IsTpAllReduce), 0);
  EXPECT_NE(FindOp(e8.forward, "pos_embedding_gather"), nullptr);  // learned positions
  EXPECT_NE(FindOp(e8.forward, "embedding_dropout"), nullptr);
  const Op* wgrad = FindOp(e8.backward, "embedding_wgrad");
  ASSERT_NE(wgrad, nullptr);
  EXPECT_EQ(wgrad->pass, Pass::kWeightGrad);
  // Saved: the 1-byte dropout mask of b*s*h = 50,331,648 bytes.
  EXPECT_DOUBLE_EQ(e8.saved_activation_bytes, 50331648.0);
  // Dense gradient accumulation: (V/tp) x h = 6400 x 12288 elements, each read at 2 B and the
  // fp32 main gradient read and written (8 B): 78,643,200 * 10 = 786,432,000 bytes.
  EXPECT_DOUBLE_EQ(FindOp(e8.backward, "embedding_grad_accum")->bytes, 786432000.0);

  const LayerOps e1 = BuildEmbedding(Preset("llama2-7b"), Options(1, 1));
  EXPECT_EQ(CountOps(e1.forward, IsTpAllReduce), 0);
  EXPECT_EQ(FindOp(e1.forward, "pos_embedding_gather"), nullptr);  // RoPE instead
  EXPECT_EQ(test_util::ModelFlops(e1.forward) + test_util::ModelFlops(e1.backward), 0);
}

TEST(HeadTest, LogitsGemmAndVocabParallelLoss) {
  // gpt3-175b, b = 1, s = 2048, h = 12288, V = 51200, tp = 8: logits m = 2048, k = h,
  // n = 6400; FLOPs 2*b*s*h*V/tp = 2 * 2048 * 12288 * 6400 = 322,122,547,200.
  const LayerOps head = BuildHead(Preset("gpt3-175b"), Options(1, 8));
  const Op* logits = FindOp(head.forward, "logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->m, 2048);
  EXPECT_EQ(logits->n, 6400);
  EXPECT_EQ(logits->k, 12288);
  EXPECT_TRUE(logits->model_flops);
  EXPECT_DOUBLE_EQ(logits->flops, 322122547200.0);
  EXPECT_DOUBLE_EQ(FindOp(head.backward, "logits_dgrad")->flops, 322122547200.0);
  EXPECT_DOUBLE_EQ(FindOp(head.backward, "logits_wgrad")->flops, 322122547200.0);
  // Loss all-reduces: max (b*s fp32 = 8,192 B) and the concatenated sums (16,384 B); the
  // backward all-reduces the logits input gradient (b*s*h*2 = 50,331,648 B).
  ASSERT_EQ(CountOps(head.forward, IsTpAllReduce), 2);
  EXPECT_DOUBLE_EQ(FindOp(head.forward, "tp_allreduce_ce_max")->comm_bytes, 8192.0);
  EXPECT_DOUBLE_EQ(FindOp(head.forward, "tp_allreduce_ce_sum")->comm_bytes, 16384.0);
  ASSERT_EQ(CountOps(head.backward, IsTpAllReduce), 1);
  EXPECT_DOUBLE_EQ(FindOp(head.backward, "tp_allreduce")->comm_bytes, 50331648.0);
  EXPECT_NE(FindOp(head.forward, "final_norm"), nullptr);
  // Saved: final-norm input and logits input (2 * 2048*12288*2 = 100,663,296) and the fp32
  // softmax 2048 * 6400 * 4 = 52,428,800.
  EXPECT_DOUBLE_EQ(head.saved_activation_bytes, 100663296.0 + 52428800.0);

  const LayerOps head1 = BuildHead(Preset("gpt3-175b"), Options(1, 1));
  EXPECT_EQ(CountOps(head1.forward, IsTpAllReduce) + CountOps(head1.backward, IsTpAllReduce), 0);
}

TEST(HeadTest, Fp8KeepsTheOutputLayerInBf16) {
  // The output layer is not a Transformer Engine module, so an fp8 run computes it in bf16:
  // gpt3-175b, b = 1, tp = 8: m = 2048, k = 12288, n = 6400; operands X (m*k = 25,165,824) and
  // W (k*n = 78,643,200) at 2 bytes, output m*n = 13,107,200 at 2 bytes:
  // 207,618,048 + 26,214,400 = 233,832,448 bytes, as in bf16.
  BuildOptions o = Options(1, 8);
  o.dtype = Dtype::kFp8;
  const LayerOps head = BuildHead(Preset("gpt3-175b"), o);
  const Op* logits = FindOp(head.forward, "logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_TRUE(logits->bf16_in_fp8);
  EXPECT_DOUBLE_EQ(logits->bytes, 233832448.0);
  EXPECT_TRUE(FindOp(head.backward, "logits_dgrad")->bf16_in_fp8);
  EXPECT_TRUE(FindOp(head.backward, "logits_wgrad")->bf16_in_fp8);
  o.dtype = Dtype::kBf16;
  EXPECT_DOUBLE_EQ(FindOp(BuildHead(Preset("gpt3-175b"), o).forward, "logits")->bytes, 233832448.0);
}

TEST(HeadTest, FusedCrossEntropyReadsTheLogitsTwiceAndKeepsFp32Softmax) {
  // llama3-8b, tp = 1: N = 8192 * 128256 logits. Fused: forward reads the bf16 logits twice and
  // writes fp32 exponentials (2*2 + 4 = 8 B/logit); backward reads them and writes the bf16
  // gradient (4 + 2 = 6 B/logit): 14 B per logit, plus per-token terms (< 0.01%).
  BuildOptions o = Options(1, 1);
  o.fusion.cross_entropy = true;
  const LayerOps fused = BuildHead(Preset("llama3-8b"), o);
  o.fusion.cross_entropy = false;
  const LayerOps eager = BuildHead(Preset("llama3-8b"), o);
  const double n = 8192.0 * 128256.0;
  double fused_bytes = 0, eager_bytes = 0;
  for (const LayerOps* h : {&fused, &eager}) {
    double& sum = h == &fused ? fused_bytes : eager_bytes;
    for (const std::vector<Op>* ops : {&h->forward, &h->backward}) {
      for (const Op& op : *ops) sum += op.kind == OpKind::kCrossEntropy ? op.bytes : 0;
    }
  }
  EXPECT_NEAR(fused_bytes / (14 * n), 1.0, 1e-4);
  // Eager: cast 6, max 4, subtract 8, exp 8, sum 4, normalize 8; backward scale 8, cast 6
  // = 52 B per logit.
  EXPECT_NEAR(eager_bytes / (52 * n), 1.0, 1e-4);
}

TEST(StepTest, MaxFusionMovesNormsAcrossBoundaries) {
  BuildOptions o = Options(1, 1);
  o.fusion = FusionPreset("max", nullptr);
  const ModelConfig m = Preset("llama2-7b");
  EXPECT_EQ(FindOp(BuildHead(m, o).forward, "final_norm"), nullptr);
  EXPECT_NE(FindOp(BuildEmbedding(m, o).forward, "embedding_dropout_norm"), nullptr);
  const LayerOps layer = BuildTransformerLayer(m, o);
  EXPECT_EQ(FindOp(layer.forward, "input_norm"), nullptr);
  EXPECT_NE(FindOp(layer.forward, "mlp_dropout_add_norm"), nullptr);
  EXPECT_NE(FindOp(layer.backward, "mlp_dropout_add_norm_bwd"), nullptr);
  EXPECT_EQ(FindOp(layer.backward, "residual_grad_add"), nullptr);
  // Saved activations do not depend on which kernel computes a tensor.
  BuildOptions def = Options(1, 1);
  EXPECT_DOUBLE_EQ(layer.saved_activation_bytes,
                   BuildTransformerLayer(m, def).saved_activation_bytes);
}

}  // namespace
}  // namespace foresight::ops
