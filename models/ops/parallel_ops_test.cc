// Sequence, context and expert parallelism and the MoE presets in the op builders: every
// expectation is a hand calculation written next to it, or a published parameter count.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "models/ops/internal/op_test_util.h"
#include "models/ops/layer_builder.h"
#include "models/ops/model_config.h"

namespace foresight::ops {
namespace {

using test_util::CountOps;
using test_util::FindOp;

ModelConfig Preset(std::string_view name) { return FindPreset(name).value_or(ModelConfig{}); }

double Comm(const std::vector<Op>& ops, std::string_view name) {
  const Op* op = FindOp(ops, name);
  EXPECT_NE(op, nullptr) << name;
  return op == nullptr ? -1 : op->comm_bytes;
}

bool Is(const Op& op, CommGroup g, CollectiveKind k) {
  return op.kind == OpKind::kCollective && op.group == g && op.collective == k;
}

TEST(MoePresetTest, MixtralParameterCountsMatchPublished) {
  // Mixtral 8x7B (mistral.ai/news/mixtral-of-experts: "46.7B total parameters ... 12.9B
  // parameters per token"). h = 4096, kv = 8*128 = 1024, f = 14336, V = 32000, 32 layers:
  //   attention 4096*(4096 + 2048) + 4096*4096 = 41,943,040; norms 2*4096 = 8,192
  //   expert 3*4096*14336 = 176,160,768; router 8*4096 = 32,768
  //   layer 41,943,040 + 8,192 + 32,768 + 8*176,160,768 = 1,451,270,144; x32 = 46,440,644,608
  //   embedding + output 2*32000*4096 = 262,144,000; final norm 4,096
  //   total 46,702,792,704; active: layer with 2 experts 394,305,536 x32 + 262,148,096
  //   = 12,879,925,248.
  const ParameterCounts c7 = CountParameters(Preset("mixtral-8x7b"));
  EXPECT_EQ(c7.total, 46702792704);
  EXPECT_EQ(c7.active, 12879925248);
  EXPECT_NEAR(c7.total / 1e9, 46.7, 0.05);
  EXPECT_NEAR(c7.active / 1e9, 12.9, 0.05);
  // Mixtral 8x22B (mistral.ai/news/mixtral-8x22b: "141B parameters ... 39B active"). h = 6144,
  // kv = 1024, f = 16384, V = 32000, 56 layers:
  //   attention 6144*8192 + 6144^2 = 88,080,384; expert 3*6144*16384 = 301,989,888;
  //   router 49,152; norms 12,288; layer 2,504,060,928 x56 = 140,227,411,968;
  //   + 2*32000*6144 + 6144 = 393,222,144 -> total 140,620,634,112;
  //   active (88,080,384 + 2*301,989,888 + 49,152 + 12,288) x56 + 393,222,144 = 39,152,031,744.
  const ParameterCounts c22 = CountParameters(Preset("mixtral-8x22b"));
  EXPECT_EQ(c22.total, 140620634112);
  EXPECT_EQ(c22.active, 39152031744);
  EXPECT_NEAR(c22.total / 1e9, 141, 0.5);
  EXPECT_NEAR(c22.active / 1e9, 39, 0.5);
}

TEST(MoePresetTest, DeepSeekV3ParameterCountsMatchPublished) {
  // DeepSeek-V3 Technical Report (abstract: "671B total parameters with 37B activated for each
  // token"). h = 7168, 128 heads, d = 128, rope 64, q_rank 1536, kv_rank 512:
  //   MLA: h*1536 = 11,010,048; 1536*128*192 = 37,748,736; h*576 = 4,128,768;
  //        512*128*256 = 16,777,216; o 128*128*h = 117,440,512; latent norms 2,048
  //        = 187,107,328; layer norms 2*7168 = 14,336
  //   dense layer (3): + 3*h*18432 = 396,361,728 -> 583,483,392
  //   MoE layer (58): + router 256*h = 1,835,008 + (1 shared + 256 routed) * 3*h*2048
  //        (44,040,192 each) -> 11,507,286,016
  //   embedding + output 2*129280*h = 1,853,358,080; final norm 7,168
  //   total 3*583,483,392 + 58*11,507,286,016 + 1,853,365,248 = 671,026,404,352
  //   active: MoE layer with 8 routed + 1 shared: 585,318,400 x58 + 1,750,450,176
  //        + 1,853,365,248 = 37,552,282,624 (the report's "37B" with both embeddings
  //        counted, as Mixtral's 12.9B counts them; 36.6B without the input embedding).
  const ModelConfig ds = Preset("deepseek-v3");
  EXPECT_EQ(AttentionParameters(ds), 187107328);
  const ParameterCounts c = CountParameters(ds);
  EXPECT_EQ(c.total, 671026404352);
  EXPECT_EQ(c.active, 37552282624);
  EXPECT_NEAR(c.total / 1e9, 671, 0.5);
  EXPECT_NEAR(c.active / 37e9, 1.0, 0.015);
  EXPECT_EQ(c.moe_layers, 58);
}

TEST(MoePresetTest, DenseModelsAreUnchanged) {
  // No MoE: active = total, and the llama3-8b count is still 8,030,261,248 (Llama 3: 8.0B).
  const ParameterCounts c = CountParameters(Preset("llama3-8b"));
  EXPECT_EQ(c.total, 8030261248);
  EXPECT_EQ(c.active, c.total);
}

TEST(SequenceParallelTest, SavedActivationsMatchKorthikanti) {
  // Korthikanti et al. 2022 Sec. 4.2.2, tensor + sequence parallel, 16-bit, unfused attention
  // with dropout: s*b*h*(34/t + 5*a*s/(h*t)). gpt3-175b, t = 8, b = 1:
  //   2048 * 12288 * (4.25 + 5*96*2048/(12288*8) = 10) = 25,165,824 * 14.25 = 358,612,992.
  BuildOptions o;
  o.tp = 8;
  o.flash_attention = false;
  o.sequence_parallel = true;
  EXPECT_DOUBLE_EQ(BuildTransformerLayer(Preset("gpt3-175b"), o).saved_activation_bytes,
                   358612992.0);
}

TEST(SequenceParallelTest, ReduceScatterAndAllGatherReplaceEachAllReduce) {
  // gpt3-13b, b = 2, s = 2048, h = 5120, bf16, tp = 8: every TP collective has the full buffer
  // b*s*h*2 = 41,943,040 bytes, as the all-reduce it replaces (a ring all-reduce is a
  // reduce-scatter plus an all-gather of that buffer: 2(n-1)/n * S per rank either way).
  BuildOptions o;
  o.micro_batch = 2;
  o.tp = 8;
  const LayerOps plain = BuildTransformerLayer(Preset("gpt3-13b"), o);
  o.sequence_parallel = true;
  const LayerOps sp = BuildTransformerLayer(Preset("gpt3-13b"), o);
  for (const std::vector<Op>* ops : {&sp.forward, &sp.backward}) {
    EXPECT_EQ(CountOps(*ops,
                       [](const Op& op) {
                         return Is(op, CommGroup::kTensor, CollectiveKind::kAllReduce);
                       }),
              0);
    EXPECT_EQ(CountOps(*ops,
                       [](const Op& op) {
                         return Is(op, CommGroup::kTensor, CollectiveKind::kAllGather);
                       }),
              2);
    EXPECT_EQ(CountOps(*ops,
                       [](const Op& op) {
                         return Is(op, CommGroup::kTensor, CollectiveKind::kReduceScatter);
                       }),
              2);
  }
  double plain_bytes = 0, sp_bytes = 0;
  for (const LayerOps* l : {&plain, &sp}) {
    for (const std::vector<Op>* ops : {&l->forward, &l->backward}) {
      for (const Op& op : *ops) {
        if (op.kind != OpKind::kCollective) continue;
        EXPECT_DOUBLE_EQ(op.comm_bytes, 41943040.0) << op.name;
        (l == &plain ? plain_bytes : sp_bytes) += op.comm_bytes;
      }
    }
  }
  // 4 all-reduces of S vs 4 reduce-scatters + 4 all-gathers of S.
  EXPECT_DOUBLE_EQ(plain_bytes, 4 * 41943040.0);
  EXPECT_DOUBLE_EQ(sp_bytes, 8 * 41943040.0);
  // Norms and residual kernels touch 1/tp of the tokens: the fused input norm reads and
  // writes T/t * h * 2 bytes each plus stats: (4096/8) * 5120 * 2 * 2 + gain/bias + stats.
  const Op* norm = FindOp(sp.forward, "input_norm");
  const Op* norm_plain = FindOp(plain.forward, "input_norm");
  ASSERT_NE(norm, nullptr);
  ASSERT_NE(norm_plain, nullptr);
  EXPECT_DOUBLE_EQ(norm->flops * 8, norm_plain->flops);
}

TEST(ContextParallelTest, RingAndAllGatherKvVolumes) {
  // llama3-70b, b = 1, s = 8192, tp = 8: kv_t = 1, d = 128, e = 2. A rank's K and V chunk is
  // 2 * b * (s/cp) * kv_t * d * e bytes.
  //   cp = 2: chunk 2*4096*128*2 = 2,097,152; ring forward (cp-1) chunks = 2,097,152,
  //           backward K/V + dK/dV = 4,194,304.
  //   cp = 4: chunk 1,048,576; ring forward 3,145,728, backward 6,291,456;
  //           all-gather forward and backward cp * chunk = 4,194,304 (the full K/V), and the
  //           dK/dV reduce-scatter 4,194,304.
  BuildOptions o;
  o.tp = 8;
  o.cp = 2;
  const ModelConfig m = Preset("llama3-70b");
  LayerOps l = BuildTransformerLayer(m, o);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "cp_ring_kv"), 2097152.0);
  EXPECT_DOUBLE_EQ(Comm(l.backward, "cp_ring_kv_bwd"), 4194304.0);
  o.cp = 4;
  l = BuildTransformerLayer(m, o);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "cp_ring_kv"), 3145728.0);
  EXPECT_DOUBLE_EQ(Comm(l.backward, "cp_ring_kv_bwd"), 6291456.0);
  o.cp_comm = CpComm::kAllGather;
  l = BuildTransformerLayer(m, o);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "cp_allgather_kv"), 4194304.0);
  EXPECT_DOUBLE_EQ(Comm(l.backward, "cp_allgather_kv_bwd"), 4194304.0);
  EXPECT_DOUBLE_EQ(Comm(l.backward, "cp_reducescatter_dkv"), 4194304.0);
  EXPECT_EQ(FindOp(l.forward, "cp_ring_kv"), nullptr);
}

TEST(ContextParallelTest, EveryRankDoesOneCpthOfTheWork) {
  // Queries s/cp against all s keys: attention FLOPs 4*b*a_t*(s/cp)*s*d, 1/cp of cp = 1; the
  // GEMMs see s/cp tokens. Causal load balancing gives every rank the same executed fraction.
  const ModelConfig m = Preset("llama3-70b");
  BuildOptions o;
  o.tp = 8;
  const LayerOps one = BuildTransformerLayer(m, o);
  o.cp = 4;
  const LayerOps four = BuildTransformerLayer(m, o);
  for (const char* name : {"attn_flash", "qkv_proj", "mlp_fc1", "attn_out_proj"}) {
    EXPECT_DOUBLE_EQ(FindOp(four.forward, name)->flops * 4, FindOp(one.forward, name)->flops)
        << name;
  }
  // attn_flash: 4 * 1 * 8 * 2048 * 8192 * 128 = 68,719,476,736.
  EXPECT_DOUBLE_EQ(FindOp(four.forward, "attn_flash")->flops, 68719476736.0);
  EXPECT_DOUBLE_EQ(FindOp(four.forward, "attn_flash")->executed_flops * 4,
                   FindOp(one.forward, "attn_flash")->executed_flops);
}

ModelConfig Mixtral4k() {
  ModelConfig m = Preset("mixtral-8x7b");
  m.seq_len = 4096;
  return m;
}

TEST(MoeOpsTest, AllToAllVolumesAndExpertGemms) {
  // mixtral-8x7b at s = 4096, b = 1, tp = 1, ep = 8, bf16: T = 4096 tokens, top-2, h = 4096.
  // Dispatch and combine each move T*k*h*e = 4096*2*4096*2 = 67,108,864 bytes per rank,
  // forward and backward (4 all-to-alls per layer). Each rank keeps 8/8 = 1 expert, which
  // receives T*k = 8192 tokens on average: fc1 is 8192 x 28672 x 4096,
  // 2*8192*28672*4096 = 1,924,145,348,608 FLOPs.
  BuildOptions o;
  o.ep = 8;
  const LayerOps l = BuildTransformerLayer(Mixtral4k(), o, true);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "ep_alltoall_dispatch"), 67108864.0);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "ep_alltoall_combine"), 67108864.0);
  EXPECT_DOUBLE_EQ(Comm(l.backward, "ep_alltoall_dispatch_bwd"), 67108864.0);
  EXPECT_DOUBLE_EQ(Comm(l.backward, "ep_alltoall_combine_bwd"), 67108864.0);
  auto a2a = [](const Op& op) { return Is(op, CommGroup::kExpert, CollectiveKind::kAllToAll); };
  EXPECT_EQ(CountOps(l.forward, a2a) + CountOps(l.backward, a2a), 4);
  const Op* fc1 = FindOp(l.forward, "moe_expert_fc1");
  ASSERT_NE(fc1, nullptr);
  EXPECT_EQ(fc1->m, 8192);
  EXPECT_EQ(fc1->batch, 1);
  EXPECT_DOUBLE_EQ(fc1->flops, 1924145348608.0);
  // No dense MLP in an MoE layer.
  EXPECT_EQ(FindOp(l.forward, "mlp_fc1"), nullptr);
}

TEST(MoeOpsTest, Fp8CastsTheExpertGemmsButNotTheRouter) {
  // mixtral-8x7b at s = 4096, b = 1, tp = 1, ep = 8, fp8. The router is outside Transformer
  // Engine (bf16 operands, no casts). Each rank's one expert: fc1 weight W[4096 x 28672],
  // cast-transposed at 4 B per element = 469,762,048 B; its input, the 8192 routed tokens
  // (T*k on average, exactly as in the bf16 test above) x 4096 = 4 * 33,554,432 = 134,217,728 B.
  BuildOptions o;
  o.ep = 8;
  o.dtype = Dtype::kFp8;
  const LayerOps l = BuildTransformerLayer(Mixtral4k(), o, true);
  ASSERT_NE(FindOp(l.forward, "moe_router"), nullptr);
  EXPECT_TRUE(FindOp(l.forward, "moe_router")->bf16_in_fp8);
  EXPECT_TRUE(FindOp(l.backward, "moe_router_dgrad")->bf16_in_fp8);
  EXPECT_EQ(FindOp(l.forward, "moe_router_fp8_cast_input"), nullptr);
  EXPECT_EQ(FindOp(l.backward, "moe_router_fp8_cast_grad"), nullptr);
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "moe_expert_fc1_fp8_cast_weight")->bytes, 469762048.0);
  EXPECT_DOUBLE_EQ(FindOp(l.forward, "moe_expert_fc1_fp8_cast_input")->bytes, 134217728.0);
  // Backward: fc1's output gradient, 8192 x 28672 elements, 4 B each.
  EXPECT_DOUBLE_EQ(FindOp(l.backward, "moe_expert_fc1_fp8_cast_grad")->bytes, 939524096.0);
}

TEST(MoeOpsTest, TensorParallelExpertsAndImbalance) {
  // tp = 2 with sequence parallelism: each rank routes T/2 = 2048 tokens, all-to-all
  // 2048*2*4096*2 = 33,554,432 bytes; the TP pair gathers its 2*2048*2 = 8192 token copies:
  // 8192*4096*2 = 67,108,864 bytes.
  BuildOptions o;
  o.tp = 2;
  o.sequence_parallel = true;
  o.ep = 4;
  ModelConfig m = Mixtral4k();
  LayerOps l = BuildTransformerLayer(m, o, true);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "ep_alltoall_dispatch"), 33554432.0);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "tp_allgather_experts"), 67108864.0);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "tp_reducescatter_experts"), 67108864.0);
  // 2 local experts share 8192 tokens: m = 4096 each, n = 2*14336/2 = 14336.
  const Op* fc1 = FindOp(l.forward, "moe_expert_fc1");
  EXPECT_EQ(fc1->m, 4096);
  EXPECT_EQ(fc1->n, 14336);
  EXPECT_EQ(fc1->batch, 2);
  // load_imbalance 1.5 capped by capacity_factor 1.25: the busiest rank gets 1.25x:
  // all-to-all 1.25 * 33,554,432 = 41,943,040; m = 1.25 * 4096 = 5120.
  m.moe.load_imbalance = 1.5;
  m.moe.capacity_factor = 1.25;
  l = BuildTransformerLayer(m, o, true);
  EXPECT_DOUBLE_EQ(Comm(l.forward, "ep_alltoall_dispatch"), 41943040.0);
  EXPECT_EQ(FindOp(l.forward, "moe_expert_fc1")->m, 5120);
  // Dropless (capacity_factor 0): the full 1.5x, m = 6144.
  m.moe.capacity_factor = 0;
  l = BuildTransformerLayer(m, o, true);
  EXPECT_EQ(FindOp(l.forward, "moe_expert_fc1")->m, 6144);
}

TEST(MoeOpsTest, ExpertModelFlopsAreSixTimesActiveExpertParamsPerToken) {
  // Forward + backward matmul FLOPs of the routed experts = 6 * tokens * top_k * 3*h*f:
  // 6 * 4096 * 2 * 176,160,768 = 8,658,654,068,736 (tp = 1, ep = 1).
  const LayerOps l = BuildTransformerLayer(Mixtral4k(), BuildOptions{}, true);
  double expert = 0;
  for (const std::vector<Op>* ops : {&l.forward, &l.backward}) {
    for (const Op& op : *ops) {
      if (op.model_flops && op.name.rfind("moe_expert_", 0) == 0) expert += op.flops;
    }
  }
  EXPECT_DOUBLE_EQ(expert, 8658654068736.0);
}

TEST(MoeOpsTest, MlaProjectionFlopsAreTwicePerTokenWeights) {
  // deepseek-v3, tp = 1, s = 4096: the MLA projections (all but the output projection and the
  // latent norms) hold 187,107,328 - 117,440,512 - 2,048 = 69,664,768 weights; forward FLOPs
  // 2 * 4096 * 69,664,768 = 570,693,779,456.
  const ModelConfig ds = Preset("deepseek-v3");
  const LayerOps l = BuildTransformerLayer(ds, BuildOptions{}, true);
  double proj = 0;
  for (const char* name : {"mla_down_proj", "mla_q_up_proj", "mla_kv_up_proj"}) {
    const Op* op = FindOp(l.forward, name);
    ASSERT_NE(op, nullptr) << name;
    proj += op->flops;
  }
  EXPECT_DOUBLE_EQ(proj, 570693779456.0);
  // Shared expert present: 1 * 2048 wide.
  EXPECT_EQ(FindOp(l.forward, "moe_shared_fc2")->k, 2048);
}

TEST(MoeOpsTest, ModelFlopsFollowTheSixNRuleOnActiveParameters) {
  // Model FLOPs of one 4096-token Mixtral sequence = 6 * s * (active matmul parameters) +
  // attention 12 * l * s^2 * h (forward 4 s^2 h for scores and context, backward 2x).
  // Active matmul parameters: 12,879,925,248 active - 131,072,000 input embedding (a gather)
  // - 32 * 8,192 - 4,096 norm gains = 12,748,587,008; 6 * 4096 * that = 313,309,274,308,608;
  // attention 12 * 32 * 4096^2 * 4096 = 26,388,279,066,624; sum 339,697,553,375,232.
  EXPECT_DOUBLE_EQ(ModelFlopsPerStep(Mixtral4k(), 1), 339697553375232.0);
}

}  // namespace
}  // namespace foresight::ops
