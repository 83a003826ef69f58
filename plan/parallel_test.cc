// Sequence, context and expert parallelism and FP8 in the plan: validation errors, pricing,
// overlap and model states, against hand calculations.
#include "plan/parallel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "models/hw/collective.h"
#include "models/hw/hardware.h"
#include "models/ops/layer_builder.h"
#include "plan/simulate.h"

namespace foresight::plan {
namespace {

using ::testing::HasSubstr;

hw::HardwareProfile Load(const std::string& name) {
  auto hw = hw::LoadHardware(name);
  EXPECT_TRUE(hw.ok()) << (hw.ok() ? "" : hw.error().ToString());
  return *hw;
}

ops::ModelConfig Model(const std::string& preset, std::int64_t seq_len = 0) {
  ops::ModelConfig m = *ops::FindPreset(preset);
  if (seq_len > 0) m.seq_len = seq_len;
  return m;
}

struct Case {
  ops::ModelConfig model;
  ClusterConfig cluster;
  TrainingConfig training;
  Plan plan;
};

Case Make(const std::string& preset, std::int64_t gpus, std::int64_t global_batch) {
  Case s;
  s.model = Model(preset);
  s.cluster = ClusterConfig{"dgx-h100", gpus > 8 ? gpus / 8 : 1, gpus > 8 ? 8 : gpus};
  s.training = TrainingConfig{global_batch, 1, Dtype::kBf16};
  return s;
}

std::vector<PlanError> Validate(Case& s) {
  return ValidateAndResolve(s.model, s.cluster, s.training, s.plan);
}

// The first error for `key`, or "" (with a failure) when there is none.
std::string ErrorFor(const std::vector<PlanError>& errors, const std::string& key) {
  for (const PlanError& e : errors) {
    if (e.key == key) return e.message;
  }
  ADD_FAILURE() << "no error for " << key;
  return "";
}

TEST(ParallelValidationTest, InvalidCombinationsNameTheirKey) {
  Case moe = Make("mixtral-8x7b", 64, 64);
  moe.plan.ep = 3;
  EXPECT_THAT(ErrorFor(Validate(moe), "plan.ep"),
              HasSubstr("ep=3 does not divide model.moe.experts=8; valid ep: 1, 2, 4, 8"));

  // Causal load balancing: seq_len 8192 is not divisible by 2*3.
  Case cp = Make("llama3-8b", 48, 48);
  cp.plan.cp = 3;
  EXPECT_THAT(ErrorFor(Validate(cp), "plan.cp"), HasSubstr("must be divisible by 2*cp = 6"));
  cp.plan.cp = 2;
  cp.plan.flash_attention = false;
  EXPECT_THAT(ErrorFor(Validate(cp), "plan.cp"), HasSubstr("needs flash_attention: true"));

  Case dense = Make("llama3-8b", 8, 8);
  dense.plan.ep = 2;
  EXPECT_THAT(ErrorFor(Validate(dense), "plan.ep"), HasSubstr("needs a mixture-of-experts"));

  Case no_sp = Make("mixtral-8x7b", 8, 8);
  no_sp.plan.tp = 2;
  EXPECT_THAT(ErrorFor(Validate(no_sp), "plan.sequence_parallel"),
              HasSubstr("needs sequence_parallel: true"));

  // 8 GPUs, tp = 2: dp*cp = 4, which ep = 8 does not divide.
  Case ep_dp = Make("mixtral-8x7b", 8, 8);
  ep_dp.plan.tp = 2;
  ep_dp.plan.sequence_parallel = true;
  ep_dp.plan.ep = 8;
  EXPECT_THAT(ErrorFor(Validate(ep_dp), "plan.ep"), HasSubstr("does not divide dp*cp = 4*1 = 4"));
}

TEST(ParallelValidationTest, DataParallelIsWhatTpCpPpLeave) {
  // 64 GPUs, tp 4, pp 4, cp 2: dp = 64 / 32 = 2; micro-batches = 32 / (1 * 2) = 16.
  Case s = Make("llama3-70b", 64, 32);
  s.plan.tp = 4;
  s.plan.pp = 4;
  s.plan.cp = 2;
  s.plan.sequence_parallel = true;
  const std::vector<PlanError> errors = Validate(s);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].message);
  EXPECT_EQ(s.plan.dp, 2);
  EXPECT_EQ(GradReduceRanks(s.plan), 4);
  EXPECT_EQ(MicroBatches(s.training, s.plan), 16);
}

TEST(ParallelValidationTest, Fp8NeedsAnFp8Gpu) {
  TrainingConfig t{8, 1, Dtype::kFp8};
  EXPECT_TRUE(ValidateDtypeForHardware(t, Load("dgx-h100")).empty());
  const std::vector<PlanError> errors = ValidateDtypeForHardware(t, Load("dgx-a100-80gb"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "training.dtype");
  EXPECT_THAT(errors[0].message, HasSubstr("A100-SXM4-80GB"));
}

TEST(SequenceParallelCostTest, ReduceScatterPlusAllGatherCostsTheAllReduce) {
  // One DGX H100 ring of 8: T_ar = 2(n-1)/n S/busbw + 2(n-1) alpha = T_rs + T_ag.
  const hw::HardwareProfile h100 = Load("dgx-h100");
  GroupSpans spans;
  spans.tp = hw::SpanOf(8, 1, 8);
  auto cost = [&](ops::CollectiveKind kind) {
    ops::Op op;
    op.kind = ops::OpKind::kCollective;
    op.group = ops::CommGroup::kTensor;
    op.collective = kind;
    op.comm_bytes = 41943040;
    return CostOp(op, h100, Dtype::kBf16, spans).duration.ToSeconds();
  };
  EXPECT_NEAR(cost(ops::CollectiveKind::kAllReduce),
              cost(ops::CollectiveKind::kReduceScatter) + cost(ops::CollectiveKind::kAllGather),
              2e-12);
}

TEST(ContextParallelCostTest, RingIsPricedStepByStepAndHiddenBehindAttention) {
  const hw::HardwareProfile h100 = Load("dgx-h100");
  // cp = 4 within a node (stride tp = 2): 3 steps of one 1 MB chunk.
  const hw::GroupSpan span = hw::SpanOf(4, 2, 8);
  EXPECT_DOUBLE_EQ(ContextRingSeconds(h100, 3e6, span),
                   3 * hw::PointToPointSeconds(h100, 1e6, true));
  // Overlap: ring 10 us before a 8 us attention, cp = 2: (cp-1)/cp * 8 = 4 us hidden, 6 us
  // exposed; cp = 4: 6 us hidden, 4 exposed; a 3 us ring with cp = 2 is fully hidden.
  auto exposed = [](double ring_us, double attn_us, std::int64_t cp) {
    std::vector<CostedOp> ops(2);
    ops[0].name = "cp_ring_kv";
    ops[0].kind = ops::OpKind::kCollective;
    ops[0].duration = sim::SimTime::FromSeconds(ring_us * 1e-6);
    ops[1].name = "attn_flash";
    ops[1].kind = ops::OpKind::kFlashAttention;
    ops[1].duration = sim::SimTime::FromSeconds(attn_us * 1e-6);
    OverlapRingAttention(ops, cp);
    return ops[0].duration.ToSeconds() * 1e6;
  };
  EXPECT_NEAR(exposed(10, 8, 2), 6, 1e-9);
  EXPECT_NEAR(exposed(10, 8, 4), 4, 1e-9);
  EXPECT_NEAR(exposed(3, 8, 2), 0, 1e-9);
}

TEST(ParallelMemoryTest, ExpertStatesShardOverDpOverEp) {
  // zero 1, dp*cp = 64, ep = 8: dense optimizer states over 64 ranks, expert ones over 8:
  // 12 * 1000 / 64 + 12 * 800 / 8 = 187.5 + 1200 = 1387.5 bytes; weights and gradients
  // 2 * 1800 each.
  Plan p;
  p.dp = 64;
  p.ep = 8;
  p.zero = 1;
  const ModelStates s = StageModelStates(1000, 800, Dtype::kBf16, p);
  EXPECT_DOUBLE_EQ(s.optimizer, 1387.5);
  EXPECT_DOUBLE_EQ(s.weights, 3600);
  EXPECT_DOUBLE_EQ(s.gradients, 3600);
  // FP8 (Transformer Engine): 4 B weights (bf16 + cached fp8 and transpose), 2 B gradients.
  p.zero = 0;
  p.dp = 1;
  const ModelStates f = ComputeModelStates(100, Dtype::kFp8, p);
  EXPECT_DOUBLE_EQ(f.weights, 400);
  EXPECT_DOUBLE_EQ(f.gradients, 200);
  EXPECT_DOUBLE_EQ(f.optimizer, 1200);
}

StepInput Input(Case s) {
  StepInput in;
  const std::vector<PlanError> errors = Validate(s);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].key + ": " + errors[0].message);
  in.model = s.model;
  in.hardware = Load("dgx-h100");
  in.cluster = s.cluster;
  in.training = s.training;
  in.plan = s.plan;
  return in;
}

TEST(ParallelStepTest, MixtralExpertParallelParamsPerRank) {
  // mixtral-8x7b, 64 H100, tp 1, pp 1, ep 8: a rank keeps 1 of 8 experts per layer.
  //   per layer 41,943,040 (attention) + 8,192 (norms) + 32,768 (router) + 176,160,768
  //   = 218,144,768; x32 = 6,980,632,576; + embedding, output 2 * 131,072,000 + 4,096
  //   = 7,242,780,672.
  Case s = Make("mixtral-8x7b", 64, 64);
  s.model.seq_len = 4096;
  s.plan.ep = 8;
  s.plan.zero = 1;
  auto r = SimulateStep(Input(s));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_DOUBLE_EQ(r->stages[0].params_per_rank, 7242780672.0);
  EXPECT_GT(r->mfu, 0.05);
  EXPECT_LT(r->mfu, 0.8);
}

TEST(ExpertDataParallelTest, SpanOfTheExpertDataParallelGroup) {
  // tp-cp-ep-dp-pp, tp 2, cp 2, dp 8, ep 4, 8 GPUs a node: the group of rank 0 is the CP ranks
  // {0, 2} (stride tp) of the dp/ep = 2 replicas at stride tp*cp*ep = 16: ranks 0, 2, 16, 18,
  // on nodes 0, 0, 2, 2: size 4, 2 a node, 2 nodes.
  hw::GroupSpan g = ExpertDataParallelSpan(2, 2, 8, 4, 8);
  EXPECT_EQ(g.size, 4);
  EXPECT_EQ(g.ranks_per_node, 2);
  EXPECT_EQ(g.nodes, 2);
  // tp 1, cp 1, dp 16, ep 2: ranks 0, 2, ..., 14 (stride 2): 8 ranks, 4 a node, 2 nodes.
  g = ExpertDataParallelSpan(1, 1, 16, 2, 8);
  EXPECT_EQ(g.size, 8);
  EXPECT_EQ(g.ranks_per_node, 4);
  EXPECT_EQ(g.nodes, 2);
  // ep = dp*cp: every rank holds its own experts, the group is the rank alone.
  g = ExpertDataParallelSpan(1, 2, 4, 8, 8);
  EXPECT_EQ(g.size, 1);
}

// Sum of the comm/compute bytes of the tasks whose segment is named `name`, and their count.
std::pair<int, double> TaskBytes(const StepResult& r, const std::string& name) {
  const CompiledStep& c = r.compiled;
  int count = 0;
  double bytes = 0;
  for (sim::TaskId t = 0; t < c.graph.num_tasks(); ++t) {
    const Segment& seg = c.segments[static_cast<std::size_t>(c.graph.tag(t))];
    if (seg.name != name) continue;
    ++count;
    const auto& ops = c.op_lists[static_cast<std::size_t>(seg.list)];
    for (std::int32_t i = seg.begin; i < seg.end; ++i) {
      bytes += ops[static_cast<std::size_t>(i)].bytes;
    }
  }
  return {count, bytes};
}

TEST(ParallelStepTest, ExpertGradientsReduceOverTheExpertDataParallelGroup) {
  // mixtral-8x7b, 64 H100, tp 1, pp 1, ep 8, zero 1: dp = 64, expert-data-parallel group
  // 64/8 = 8 ranks at stride ep = 8 (one a node). Per rank (see the test above):
  //   experts 32 * 176,160,768 = 5,637,144,576, dense 7,242,780,672 - that = 1,605,636,096.
  // Gradient reduce-scatter bytes (bf16): dense 2 * 1,605,636,096 = 3,211,272,192 over 64
  // ranks, experts 2 * 5,637,144,576 = 11,274,289,152 over 8 ranks, in separate buckets.
  // Adam updates 1,605,636,096/64 + 5,637,144,576/8 = 25,088,064 + 704,643,072 = 729,731,136
  // parameters, 30 bytes each (step_builder: 4 + 12 + 12 + 2) = 21,891,934,080 bytes.
  Case s = Make("mixtral-8x7b", 64, 64);
  s.model.seq_len = 4096;
  s.plan.ep = 8;
  s.plan.zero = 1;
  auto r = SimulateStep(Input(s));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const auto dense = TaskBytes(*r, "dp_grad_reduce_scatter");
  const auto expert = TaskBytes(*r, "expert_dp_grad_reduce_scatter");
  EXPECT_DOUBLE_EQ(dense.second, 3211272192.0);
  EXPECT_DOUBLE_EQ(expert.second, 11274289152.0);
  EXPECT_GT(expert.first, 1);  // 40 MB buckets of their own
  EXPECT_DOUBLE_EQ(TaskBytes(*r, "adam").second, 21891934080.0);
  // The parameter all-gathers after the step: the same split.
  EXPECT_DOUBLE_EQ(TaskBytes(*r, "dp_param_allgather").second, 3211272192.0);
  EXPECT_DOUBLE_EQ(TaskBytes(*r, "expert_dp_param_allgather").second, 11274289152.0);
  // zero 2 with global batch 128: m = 128 / 64 = 2 micro-batches, each reduce-scatters its
  // gradients as its backward produces them: 2 * 11,274,289,152 = 22,548,578,304 expert bytes,
  // 2 * 3,211,272,192 = 6,422,544,384 dense bytes.
  Case z2 = s;
  z2.training.global_batch = 128;
  z2.plan.zero = 2;
  auto r2 = SimulateStep(Input(z2));
  ASSERT_TRUE(r2.ok()) << r2.error().ToString();
  EXPECT_DOUBLE_EQ(TaskBytes(*r2, "expert_dp_grad_reduce_scatter").second, 22548578304.0);
  EXPECT_DOUBLE_EQ(TaskBytes(*r2, "dp_grad_reduce_scatter").second, 6422544384.0);
  // Each expert bucket is priced as a flat 8-rank ring over the NIC.
  const hw::HardwareProfile hw = Load("dgx-h100");
  const CompiledStep& c = r->compiled;
  for (sim::TaskId t = 0; t < c.graph.num_tasks(); ++t) {
    const Segment& seg = c.segments[static_cast<std::size_t>(c.graph.tag(t))];
    if (seg.name != "expert_dp_grad_reduce_scatter") continue;
    const double bytes = c.op_lists[static_cast<std::size_t>(seg.list)][0].bytes;
    EXPECT_NEAR(
        c.graph.duration(t).ToSeconds(),
        hw::CollectiveSeconds(hw, hw::CollectiveOp::kReduceScatter, bytes, hw::GroupSpan{8, 1, 8}),
        1e-9);
  }
}

TEST(ParallelStepTest, ExpertAllReduceWithContextParallelism) {
  // The same model with cp 2, zero 0: dp = 64 / 2 = 32, dp*cp = 64, ep 8. The expert group of
  // rank 0: CP ranks {0, 1} (stride tp = 1) of the 32/8 = 4 replicas at stride 1*2*8 = 16:
  // ranks 0, 1, 16, 17, 32, 33, 48, 49: 8 ranks, 2 a node on 4 nodes. Bytes as above, now
  // all-reduced: dense 3,211,272,192 over 64 ranks, experts 11,274,289,152 over those 8.
  Case s = Make("mixtral-8x7b", 64, 64);
  s.model.seq_len = 4096;
  s.plan.ep = 8;
  s.plan.cp = 2;
  auto r = SimulateStep(Input(s));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_DOUBLE_EQ(TaskBytes(*r, "dp_grad_allreduce").second, 3211272192.0);
  EXPECT_DOUBLE_EQ(TaskBytes(*r, "expert_dp_grad_allreduce").second, 11274289152.0);
  EXPECT_EQ(TaskBytes(*r, "expert_dp_param_allgather").first, 0);
  const hw::HardwareProfile hw = Load("dgx-h100");
  const CompiledStep& c = r->compiled;
  int checked = 0;
  for (sim::TaskId t = 0; t < c.graph.num_tasks(); ++t) {
    const Segment& seg = c.segments[static_cast<std::size_t>(c.graph.tag(t))];
    if (seg.name != "expert_dp_grad_allreduce") continue;
    const double bytes = c.op_lists[static_cast<std::size_t>(seg.list)][0].bytes;
    EXPECT_NEAR(
        c.graph.duration(t).ToSeconds(),
        hw::CollectiveSeconds(hw, hw::CollectiveOp::kAllReduce, bytes, hw::GroupSpan{8, 2, 4}),
        1e-9);
    ++checked;
  }
  EXPECT_GT(checked, 1);
}

TEST(ParallelStepTest, ContextParallelHalvesActivationsAndKeepsFlops) {
  // llama3-8b on 16 H100, tp 8: cp = 2 splits the sequence, so a micro-batch keeps half the
  // activations per rank (every saved tensor is per token), and the model FLOPs of the step do
  // not change.
  Case a = Make("llama3-8b", 16, 16);
  a.plan.tp = 8;
  Case b = a;
  b.plan.cp = 2;
  auto ra = SimulateStep(Input(a));
  auto rb = SimulateStep(Input(b));
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_DOUBLE_EQ(ra->model_flops_per_step, rb->model_flops_per_step);
  EXPECT_NEAR(rb->stages[0].activation_bytes_per_micro_batch /
                  ra->stages[0].activation_bytes_per_micro_batch,
              0.5, 1e-9);
  EXPECT_EQ(rb->micro_batches, 16);  // dp = 1: 16 sequences of 1
  EXPECT_EQ(ra->micro_batches, 8);   // dp = 2
}

TEST(ParallelStepTest, SequenceParallelShardsWhatFullRecomputeKeeps) {
  // llama3-8b on 8 H100, tp 8, pp 1, full recompute, dropout on: a micro-batch keeps the
  // embedding dropout mask (T*h bytes), the head's final-norm and logits inputs (2 * 2*T*h),
  // the fp32 softmax (unchanged by SP) and each layer's input (2*T*h). Sequence parallelism
  // shards all but the softmax over tp = 8, so the difference is
  // 7/8 * T*h * (1 + 4 + 2*32) = 7/8 * 8192*4096 * 69 = 2,025,848,832 bytes.
  Case a = Make("llama3-8b", 8, 8);
  a.plan.tp = 8;
  a.plan.recompute = Recompute::kFull;
  Case b = a;
  b.plan.sequence_parallel = true;
  auto ra = SimulateStep(Input(a));
  auto rb = SimulateStep(Input(b));
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_DOUBLE_EQ(ra->stages[0].activation_bytes_per_micro_batch -
                       rb->stages[0].activation_bytes_per_micro_batch,
                   2025848832.0);
}

TEST(Fp8CostTest, GemmsAtFp8AttentionAtBf16) {
  // Transformer Engine's recipe: the attention kernel costs the same in an fp8 run as in bf16;
  // a large compute-bound GEMM gets faster (the H100's fp8 peak is 2x its bf16 peak).
  const hw::HardwareProfile h100 = Load("dgx-h100");
  ops::Op attn;
  attn.kind = ops::OpKind::kFlashAttention;
  attn.flops = 1e12;
  attn.bytes = 1e8;
  EXPECT_EQ(CostOp(attn, h100, Dtype::kFp8, {}).duration,
            CostOp(attn, h100, Dtype::kBf16, {}).duration);
  ops::Op gemm;
  gemm.kind = ops::OpKind::kGemm;
  gemm.m = gemm.n = gemm.k = 8192;
  gemm.flops = 2.0 * 8192 * 8192 * 8192;
  gemm.bytes = 3.0 * 8192 * 8192;
  EXPECT_LT(CostOp(gemm, h100, Dtype::kFp8, {}).duration.ToSeconds(),
            0.75 * CostOp(gemm, h100, Dtype::kBf16, {}).duration.ToSeconds());
}

TEST(Fp8CostTest, GemmOutsideTransformerEngineRunsAtBf16) {
  // The output layer (ops::Op::bf16_in_fp8) keeps the bf16 peak in an fp8 run.
  const hw::HardwareProfile h100 = Load("dgx-h100");
  ops::Op gemm;
  gemm.kind = ops::OpKind::kGemm;
  gemm.m = gemm.n = gemm.k = 8192;
  gemm.flops = 2.0 * 8192 * 8192 * 8192;
  gemm.bytes = 3.0 * 8192 * 8192 * 2;
  gemm.bf16_in_fp8 = true;
  EXPECT_EQ(CostOp(gemm, h100, Dtype::kFp8, {}).duration,
            CostOp(gemm, h100, Dtype::kBf16, {}).duration);
}

}  // namespace
}  // namespace foresight::plan
