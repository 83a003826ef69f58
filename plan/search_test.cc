#include "plan/search.h"

#include <gtest/gtest.h>

#include "models/hw/hardware.h"
#include "plan/simulate.h"

namespace foresight::plan {
namespace {

ops::ModelConfig SmallModel() {
  ops::ModelConfig m;
  m.layers = 4;
  m.hidden = 256;
  m.heads = 4;
  m.kv_heads = 4;
  m.ffn_hidden = 16 * 64;  // 1024, divisible by every tp tried
  m.vocab = 1000;
  m.seq_len = 128;
  return m;
}

TEST(EnumeratePlansTest, CountsSmallCaseByHand) {
  // layers 4, heads = kv_heads 4, ffn 1024, 1 node x 4 GPUs, global_batch 8, micro_batch <= 16.
  // tp in {1, 2, 4} (divisors of 4 dividing heads, ffn and the world 4); pp divides layers 4 and
  // tp*pp divides 4: (tp, pp, dp) = (1,1,4) (1,2,2) (1,4,1) (2,1,2) (2,2,1) (4,1,1).
  // micro_batch divides 8/dp: dp 4 -> {1,2}; dp 2 -> {1,2,4}; dp 1 -> {1,2,4,8}.
  // schedules: 1 when pp = 1, else 2; recompute: 2.
  //   (1,1): 2*1*2 = 4   (1,2): 3*2*2 = 12   (1,4): 4*2*2 = 16
  //   (2,1): 3*1*2 = 6   (2,2): 4*2*2 = 16   (4,1): 4*1*2 = 8      total 62.
  const ClusterConfig cluster{"x", 1, 4};
  const TrainingConfig training{8, 1, Dtype::kBf16};
  const Enumeration e = EnumeratePlans(SmallModel(), cluster, training, Plan{}, SearchSpace{});
  EXPECT_EQ(e.points.size(), 62u);
  EXPECT_EQ(e.rejected, 0);
  // First point: the first value of every axis.
  const PlanPoint& first = e.points.front();
  EXPECT_EQ(first.plan.tp, 1);
  EXPECT_EQ(first.plan.pp, 1);
  EXPECT_EQ(first.plan.dp, 4);
  EXPECT_EQ(first.training.micro_batch, 1);
  EXPECT_EQ(first.plan.schedule, Schedule::k1F1B);
  EXPECT_EQ(first.plan.recompute, Recompute::kNone);
  // Last point: tp 4, pp 1, dp 1, micro_batch 8, 1f1b, full recompute.
  const PlanPoint& last = e.points.back();
  EXPECT_EQ(last.plan.tp, 4);
  EXPECT_EQ(last.plan.dp, 1);
  EXPECT_EQ(last.training.micro_batch, 8);
  EXPECT_EQ(last.plan.recompute, Recompute::kFull);
}

TEST(EnumeratePlansTest, RestrictedSpaceByHand) {
  // tp fixed to 2, micro_batch <= 2, 1f1b only, no recompute: (2,1,dp2) and (2,2,dp1), each with
  // micro_batch {1, 2} -> 4 plans.
  SearchSpace space;
  space.tp = {2};
  space.max_micro_batch = 2;
  space.schedules = {Schedule::k1F1B};
  space.recomputes = {Recompute::kNone};
  const Enumeration e = EnumeratePlans(SmallModel(), ClusterConfig{"x", 1, 4},
                                       TrainingConfig{8, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_EQ(e.points.size(), 4u);
  EXPECT_EQ(e.points[0].plan.pp, 1);
  EXPECT_EQ(e.points[2].plan.pp, 2);
  EXPECT_EQ(e.points[3].training.micro_batch, 2);
}

TEST(EnumeratePlansTest, InterleavedAndZeroBubbleAxes) {
  // tp fixed to 1, no recompute, micro_batch 1, schedules {interleaved-1f1b, zb-h1} on 1 node x
  // 4 GPUs, global_batch 8. pp in {1, 2, 4}:
  //   pp 1 (dp 4): interleaving needs two stages; zb-h1 on one stage is kept (no 1f1b in the
  //     space) -> 1 plan.
  //   pp 2 (dp 2, m = 4, a multiple of 2): 2 layers per stage -> vpp 2; zb-h1 -> 2 plans.
  //   pp 4 (dp 1, m = 8, a multiple of 4): 1 layer per stage, no vpp >= 2; zb-h1 -> 1 plan.
  SearchSpace space;
  space.tp = {1};
  space.micro_batch = {1};
  space.schedules = {Schedule::kInterleaved1F1B, Schedule::kZbH1};
  space.recomputes = {Recompute::kNone};
  const Enumeration e = EnumeratePlans(SmallModel(), ClusterConfig{"x", 1, 4},
                                       TrainingConfig{8, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_EQ(e.points.size(), 4u);
  EXPECT_EQ(e.rejected, 0);
  EXPECT_EQ(e.points[1].plan.pp, 2);
  EXPECT_EQ(e.points[1].plan.schedule, Schedule::kInterleaved1F1B);
  EXPECT_EQ(e.points[1].plan.vpp, 2);
  EXPECT_EQ(e.points[2].plan.schedule, Schedule::kZbH1);
  EXPECT_EQ(e.points[2].plan.vpp, 1);
}

TEST(EnumeratePlansTest, GlobalBatchNotDivisibleByAnyDpGivesNothing) {
  // world 4 with tp = pp = 1 forces dp 4; global_batch 6 is not divisible by 4.
  SearchSpace space;
  space.tp = {1};
  space.pp = {1};
  const Enumeration e = EnumeratePlans(SmallModel(), ClusterConfig{"x", 1, 4},
                                       TrainingConfig{6, 1, Dtype::kBf16}, Plan{}, space);
  EXPECT_TRUE(e.points.empty());
}

TEST(EnumeratePlansTest, ParallelismAxesByHand) {
  // SmallModel (seq 128) on 1 node x 8 GPUs, global_batch 16; tp 2, pp 1, micro_batch 1, 1f1b,
  // no recompute. cp in {1, 2} (both divide seq/2 = 64, tp*cp divides 8): dp = 8/(2*cp) = 4 or
  // 2. zero in {0, 1}: dp*cp = 4 > 1 for both, so both stages. sequence_parallel in {false,
  // true}: tp = 2 > 1, both. 2 x 2 x 2 = 8 plans, cp slowest, sequence_parallel fastest.
  SearchSpace space;
  space.tp = {2};
  space.pp = {1};
  space.micro_batch = {1};
  space.schedules = {Schedule::k1F1B};
  space.recomputes = {Recompute::kNone};
  space.cp = {1, 2};
  space.zero = {0, 1};
  space.sequence_parallel = {false, true};
  const Enumeration e = EnumeratePlans(SmallModel(), ClusterConfig{"x", 1, 8},
                                       TrainingConfig{16, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_EQ(e.points.size(), 8u);
  EXPECT_EQ(e.rejected, 0);
  EXPECT_EQ(e.points[0].plan.cp, 1);
  EXPECT_EQ(e.points[0].plan.dp, 4);
  EXPECT_FALSE(e.points[0].plan.sequence_parallel);
  EXPECT_TRUE(e.points[1].plan.sequence_parallel);
  EXPECT_EQ(e.points[2].plan.zero, 1);
  EXPECT_EQ(e.points[4].plan.cp, 2);
  EXPECT_EQ(e.points[4].plan.dp, 2);
  // tp 1: sequence parallelism is the same step, so only `false` is generated; with 1 GPU
  // (dp*cp = 1) ZeRO has nothing to shard, so only stage 0.
  space.tp = {1};
  space.cp = {};
  const Enumeration one = EnumeratePlans(SmallModel(), ClusterConfig{"x", 1, 1},
                                         TrainingConfig{16, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_EQ(one.points.size(), 1u);
  EXPECT_EQ(one.points[0].plan.zero, 0);
  EXPECT_FALSE(one.points[0].plan.sequence_parallel);
}

TEST(EnumeratePlansTest, ExpertParallelAxisDividesExpertsAndDataParallel) {
  // 4 experts on 1 node x 8 GPUs, tp 1, pp 1 (dp 8): ep in {1, 2, 3, 4, 8} keeps the values
  // that divide both 4 experts and dp*cp = 8 -> {1, 2, 4}.
  ops::ModelConfig moe = SmallModel();
  moe.moe.experts = 4;
  moe.moe.top_k = 2;
  moe.moe.capacity_factor = 1.0;
  moe.moe.expert_ffn_hidden = 512;
  SearchSpace space;
  space.tp = {1};
  space.pp = {1};
  space.micro_batch = {1};
  space.schedules = {Schedule::k1F1B};
  space.recomputes = {Recompute::kNone};
  space.ep = {1, 2, 3, 4, 8};
  const Enumeration e = EnumeratePlans(moe, ClusterConfig{"x", 1, 8},
                                       TrainingConfig{16, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_EQ(e.points.size(), 3u);
  EXPECT_EQ(e.points[0].plan.ep, 1);
  EXPECT_EQ(e.points[1].plan.ep, 2);
  EXPECT_EQ(e.points[2].plan.ep, 4);
}

StepInput InputFor(const hw::HardwareProfile& hw, const ops::ModelConfig& model,
                   const ClusterConfig& cluster, const PlanPoint& p) {
  return StepInput{model, hw, cluster, p.training, p.plan};
}

TEST(MemoryLowerBoundTest, ModelStatesClosedForm) {
  // One GPU, tp = pp = 1: the single stage holds every parameter P with 2 (bf16 weights) + 2
  // (bf16 grads) + 12 (fp32 master + two Adam moments) = 16 bytes each (Rajbhandari et al.,
  // ZeRO, Sec. 3.1), plus the reserved bytes, plus the fragmentation allowance on them.
  hw::HardwareProfile a100 = *hw::LoadHardware("dgx-a100-80gb");
  const ops::ModelConfig model = SmallModel();
  const double params = static_cast<double>(ops::CountParameters(model).total);
  PlanPoint p;
  p.training = TrainingConfig{8, 1, Dtype::kBf16};
  const ClusterConfig cluster{"dgx-a100-80gb", 1, 1};
  ASSERT_TRUE(ValidateAndResolve(model, cluster, p.training, p.plan).empty());
  const double bound = MemoryLowerBoundBytes(InputFor(a100, model, cluster, p));
  const double frag = a100.memory.fragmentation_fraction;
  const double states = 16 * params;
  EXPECT_GE(bound, states * (1 + frag) + static_cast<double>(a100.memory.reserved_bytes) - 2);
  // And it is a lower bound of the simulated peak.
  Result<StepResult> r = SimulateStep(InputFor(a100, model, cluster, p));
  ASSERT_TRUE(r.ok());
  EXPECT_LE(bound, r->peak_bytes);
}

TEST(MemoryLowerBoundTest, NeverPrunesAPlanThatFits) {
  // A 8-layer model on 8 GPUs whose memory is cut so that some plans fit and some do not. Every
  // plan is simulated: the bound never exceeds the simulated peak, so every plan CannotFit()
  // prunes really does not fit.
  ops::ModelConfig model;
  model.layers = 8;
  model.hidden = 1024;
  model.heads = 16;
  model.kv_heads = 16;
  model.ffn_hidden = 4096;
  model.vocab = 32000;
  model.seq_len = 1024;
  hw::HardwareProfile gpu = *hw::LoadHardware("dgx-a100-80gb");
  // ~135M parameters x 16 bytes = 2.2 GB unsharded: 2.5 GB above the reserved bytes lets the
  // sharded or recomputed plans fit and not the others.
  gpu.gpu.memory_bytes = gpu.memory.reserved_bytes + 2'500'000'000LL;
  const ClusterConfig cluster{"dgx-a100-80gb", 1, 8};
  SearchSpace space;
  space.max_micro_batch = 4;
  space.schedules = {Schedule::kGpipe, Schedule::k1F1B, Schedule::kInterleaved1F1B,
                     Schedule::kZbH1};
  const Enumeration e =
      EnumeratePlans(model, cluster, TrainingConfig{16, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_GT(e.points.size(), 20u);
  int pruned = 0, fitting = 0;
  for (const PlanPoint& p : e.points) {
    const StepInput in = InputFor(gpu, model, cluster, p);
    Result<StepResult> r = SimulateStep(in);
    ASSERT_TRUE(r.ok());
    const double bound = MemoryLowerBoundBytes(in);
    EXPECT_LE(bound, r->peak_bytes)
        << "tp " << p.plan.tp << " pp " << p.plan.pp << " mb " << p.training.micro_batch << " "
        << ScheduleName(p.plan.schedule) << " vpp " << p.plan.vpp;
    if (CannotFit(in)) {
      ++pruned;
      EXPECT_FALSE(r->fits);
    }
    if (r->fits) ++fitting;
  }
  EXPECT_GT(pruned, 0);   // the test exercises pruning
  EXPECT_GT(fitting, 0);  // and plans that fit
}

TEST(MemoryLowerBoundTest, NeverExceedsTheSimulationWithContextSequenceAndExpertParallelism) {
  // The bound follows compile.cc for sequence parallelism (kept inputs sharded by tp), context
  // parallelism (s/cp tokens, ZeRO over dp*cp) and MoE layers (the smaller of the dense and MoE
  // layer): simulated peak >= bound for every plan of a space with those axes.
  ops::ModelConfig model;
  model.layers = 4;
  model.hidden = 512;
  model.heads = 8;
  model.kv_heads = 8;
  model.ffn_hidden = 2048;
  model.vocab = 8000;
  model.seq_len = 1024;
  model.moe.experts = 4;
  model.moe.top_k = 2;
  model.moe.capacity_factor = 1.25;
  model.moe.expert_ffn_hidden = 1024;
  const hw::HardwareProfile gpu = *hw::LoadHardware("dgx-h100");
  const ClusterConfig cluster{"dgx-h100", 1, 8};
  SearchSpace space;
  space.max_micro_batch = 2;
  space.schedules = {Schedule::k1F1B};
  space.recomputes = {Recompute::kNone, Recompute::kSelective, Recompute::kFull};
  space.cp = {1, 2};
  space.ep = {1, 2, 4};
  space.zero = {0, 1, 3};
  space.sequence_parallel = {false, true};
  const Enumeration e =
      EnumeratePlans(model, cluster, TrainingConfig{16, 1, Dtype::kBf16}, Plan{}, space);
  ASSERT_GT(e.points.size(), 50u);
  for (const PlanPoint& p : e.points) {
    const StepInput in = InputFor(gpu, model, cluster, p);
    Result<StepResult> r = SimulateStep(in);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(MemoryLowerBoundBytes(in), r->peak_bytes)
        << "tp " << p.plan.tp << " cp " << p.plan.cp << " pp " << p.plan.pp << " ep " << p.plan.ep
        << " zero " << p.plan.zero << " sp " << p.plan.sequence_parallel << " "
        << RecomputeName(p.plan.recompute) << " mb " << p.training.micro_batch;
  }
}

}  // namespace
}  // namespace foresight::plan
