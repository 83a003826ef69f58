#include "plan/simulate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "models/hw/hardware.h"
#include "models/ops/layer_builder.h"

namespace foresight::plan {
namespace {

hw::HardwareProfile A100() {
  auto hw = hw::LoadHardware("dgx-a100-80gb");
  EXPECT_TRUE(hw.ok()) << (hw.ok() ? "" : hw.error().ToString());
  return *hw;
}

// A small GPT: 8 layers, h=1024, 16 heads, s=1024, V=51200.
ops::ModelConfig SmallGpt() {
  ops::ModelConfig m = *ops::FindPreset("gpt3-13b");
  m.preset = "";
  m.layers = 8;
  m.hidden = 1024;
  m.heads = 16;
  m.kv_heads = 16;
  m.ffn_hidden = 4096;
  m.seq_len = 1024;
  m.vocab = 51200;
  return m;
}

StepInput MakeInput(const ops::ModelConfig& model, std::int64_t gpus, std::int64_t tp,
                    std::int64_t pp, std::int64_t global_batch, std::int64_t micro_batch) {
  StepInput in;
  in.model = model;
  in.hardware = A100();
  in.cluster = ClusterConfig{"dgx-a100-80gb", gpus > 8 ? gpus / 8 : 1, gpus > 8 ? 8 : gpus};
  in.training = TrainingConfig{global_batch, micro_batch, Dtype::kBf16};
  in.plan.tp = tp;
  in.plan.pp = pp;
  in.plan.fusion = ops::FusionRules{};
  auto errors = ValidateAndResolve(in.model, in.cluster, in.training, in.plan);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].message);
  return in;
}

double Sum(const std::vector<ops::Op>& ops, const StepInput& in) {
  double total = 0;
  for (const ops::Op& op : ops)
    total += CostOp(op, in.hardware, in.training.dtype, {}).duration.ToSeconds();
  return total;
}

TEST(SimulateStepTest, SingleGpuStepIsTheSumOfItsKernels) {
  // One GPU, no parallelism: the step is m * (forward + backward) + the optimizer step, with
  // no communication and no bubble. Summed here op by op, independently of the task graph.
  StepInput in = MakeInput(SmallGpt(), 1, 1, 1, 4, 2);
  auto result = SimulateStep(in);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  ops::BuildOptions o;
  o.micro_batch = 2;
  const auto layer = ops::BuildTransformerLayer(in.model, o);
  const auto emb = ops::BuildEmbedding(in.model, o);
  const auto head = ops::BuildHead(in.model, o);
  const double per_micro_batch = Sum(emb.forward, in) + Sum(emb.backward, in) +
                                 Sum(head.forward, in) + Sum(head.backward, in) +
                                 8 * (Sum(layer.forward, in) + Sum(layer.backward, in));
  const double params = static_cast<double>(ops::CountParameters(in.model).total);
  const double adam = Sum({ops::BuildAdamStep(params, Dtype::kBf16)}, in);
  // Each op duration is rounded to 1 ps, so allow 1 ps per op.
  EXPECT_NEAR(result->step_time_s, 2 * per_micro_batch + adam, 1e-9);
  EXPECT_DOUBLE_EQ(result->time.exposed_comm_s, 0.0);
  EXPECT_NEAR(result->time.bubble_s, 0.0, 1e-12);
  EXPECT_NEAR(result->time.compute_s + result->time.other_s, result->step_time_s, 1e-12);
}

TEST(SimulateStepTest, NamedAttentionKernelRunsAtItsOwnEfficiency) {
  // One GPU, so the step is the sum of its kernels (test above). Switching the fused attention
  // from the default (0.6 of the 312 TFLOP/s BF16 peak) to triton_flash (0.325, the catalog's
  // FlashAttention-v1 figure) changes only the attention kernels, which are compute-bound here
  // (forward: 4*b*a*s^2*d*(n+1)/(2n) = 4.8 GFLOP -> 26 us at 0.6 against 16.8 MB of q, k, v, o
  // -> about 9 us of HBM time), so the step grows by
  //   2 micro-batches * 8 layers * sum over the attention kernels of F * (1/0.325 - 1/0.6) / P.
  StepInput in = MakeInput(SmallGpt(), 1, 1, 1, 4, 2);
  auto base = SimulateStep(in);
  ASSERT_TRUE(base.ok()) << base.error().ToString();
  in.plan.attention_kernel = "triton_flash";
  auto triton = SimulateStep(in);
  ASSERT_TRUE(triton.ok()) << triton.error().ToString();

  ops::BuildOptions o;
  o.micro_batch = 2;
  const auto layer = ops::BuildTransformerLayer(in.model, o);
  double attention_flops = 0;  // executed, forward + backward, one layer and micro-batch
  int kernels = 0;
  for (const auto* pass : {&layer.forward, &layer.backward}) {
    for (const ops::Op& op : *pass) {
      if (op.kind != ops::OpKind::kFlashAttention) continue;
      attention_flops += ops::ExecutedFlops(op);
      ++kernels;
    }
  }
  ASSERT_EQ(kernels, 2);
  const double peak = 312e12;
  const double expected = 2 * 8 * attention_flops * (1 / 0.325 - 1 / 0.6) / peak;
  EXPECT_NEAR(triton->step_time_s - base->step_time_s, expected, 1e-9 + 1e-6 * expected);
  EXPECT_GT(expected, 1e-3);  // a visible change: over a millisecond
}

TEST(SimulateStepTest, FlopsMatchNarayananClosedForms) {
  // Model FLOPs 72*B*s*l*h^2*(1 + s/(6h) + V/(12lh)); with full recompute the hardware FLOPs are
  // 96*B*s*l*h^2*(1 + s/(6h) + V/(16lh)) (Narayanan et al. 2021, appendix).
  const ops::ModelConfig m = SmallGpt();
  const double B = 16, s = 1024, l = 8, h = 1024, V = 51200;
  const double model_flops = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
  const double recompute_flops = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
  StepInput in = MakeInput(m, 16, 2, 2, 16, 1);
  auto plain = SimulateStep(in);
  ASSERT_TRUE(plain.ok());
  EXPECT_NEAR(plain->model_flops_per_step / model_flops, 1.0, 1e-12);
  EXPECT_NEAR(plain->hardware_flops_per_step / model_flops, 1.0, 1e-12);
  in.plan.recompute = Recompute::kFull;
  auto full = SimulateStep(in);
  ASSERT_TRUE(full.ok());
  EXPECT_NEAR(full->hardware_flops_per_step / recompute_flops, 1.0, 1e-12);
  EXPECT_NEAR(full->hfu / full->mfu, recompute_flops / model_flops, 1e-9);
}

TEST(SimulateStepTest, ModelStatesAreSixteenBytesPerParameter) {
  // Mixed-precision Adam: bf16 weights (2) + bf16 grads (2) + fp32 master, m, v (12).
  StepInput in = MakeInput(SmallGpt(), 1, 1, 1, 2, 1);
  auto r = SimulateStep(in);
  ASSERT_TRUE(r.ok());
  const double params = static_cast<double>(ops::CountParameters(in.model).total);
  const auto& b = r->stages[0].breakdown;
  EXPECT_DOUBLE_EQ(b.weights, 2 * params);
  EXPECT_DOUBLE_EQ(b.gradients, 2 * params);
  EXPECT_DOUBLE_EQ(b.optimizer, 12 * params);
}

TEST(SimulateStepTest, OneFOneBStageZeroHoldsPipelineDepthMicroBatches) {
  // pp = 4, m = 8, no recompute: stage 0 under 1F1B keeps p = 4 micro-batches of activations,
  // GPipe keeps all m = 8.
  StepInput in = MakeInput(SmallGpt(), 4, 1, 4, 8, 1);
  auto r1 = SimulateStep(in);
  ASSERT_TRUE(r1.ok());
  const double per_mb = r1->compiled.stages[0].saved_activation_bytes_per_micro_batch;
  EXPECT_DOUBLE_EQ(r1->stages[0].breakdown.activations, 4 * per_mb);
  in.plan.schedule = Schedule::kGpipe;
  auto r2 = SimulateStep(in);
  ASSERT_TRUE(r2.ok());
  EXPECT_DOUBLE_EQ(r2->stages[0].breakdown.activations, 8 * per_mb);
  // Same work, same bubble for uniform stages: GPipe and 1F1B differ only through the
  // non-uniform first/last stages and communication, so within 5%.
  EXPECT_NEAR(r1->step_time_s / r2->step_time_s, 1.0, 0.05);
}

TEST(SimulateStepTest, TensorParallelCommIsExposedOnTheComputeStream) {
  StepInput in = MakeInput(SmallGpt(), 8, 8, 1, 8, 1);
  auto r = SimulateStep(in);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->time.exposed_comm_s, 0.0);
  EXPECT_NEAR(r->time.compute_s + r->time.exposed_comm_s + r->time.other_s + r->time.bubble_s,
              r->step_time_s, 1e-9);
}

TEST(SimulateStepTest, OverlappedGradientReduceIsNeverSlower) {
  StepInput in = MakeInput(SmallGpt(), 16, 1, 1, 64, 1);  // dp = 16 across 2 nodes
  auto overlapped = SimulateStep(in);
  in.plan.overlap.grad_reduce = false;
  auto serial = SimulateStep(in);
  ASSERT_TRUE(overlapped.ok() && serial.ok());
  EXPECT_LT(overlapped->step_time_s, serial->step_time_s);
  EXPECT_LT(overlapped->time.exposed_comm_s, serial->time.exposed_comm_s);
}

TEST(SimulateStepTest, InterferenceSlowsComputeWhileTheGradientReduceRuns) {
  // dp = 16 over 2 nodes with the gradient all-reduce overlapped with the backward. With
  // gpu.interference.compute_slowdown a (comm_slowdown 0), compute runs at 1/(1 + a) exactly
  // while a comm-stream kernel runs beside it, so the compute stream's extra time is
  // a/(1 + a) times the overlap of the two streams, measured here from the run's intervals.
  StepInput in = MakeInput(SmallGpt(), 16, 1, 1, 64, 1);
  auto plain = SimulateStep(in);
  const double a = 0.25;
  in.hardware.gpu.interference.compute_slowdown = a;
  auto slowed = SimulateStep(in);
  ASSERT_TRUE(plain.ok() && slowed.ok());
  EXPECT_DOUBLE_EQ(plain->time.interference_s, 0.0);
  EXPECT_GT(slowed->step_time_s, plain->step_time_s);
  const StageInfo& stage = slowed->compiled.stages[0];
  std::vector<std::pair<std::int64_t, std::int64_t>> compute, comm;
  for (sim::TaskId t = 0; t < slowed->compiled.graph.num_tasks(); ++t) {
    const auto iv = std::make_pair(slowed->run.start[t].ps(), slowed->run.end[t].ps());
    if (slowed->compiled.graph.stream(t) == stage.compute_stream) compute.push_back(iv);
    if (slowed->compiled.graph.stream(t) == stage.comm_stream) comm.push_back(iv);
  }
  std::int64_t overlap_ps = 0;  // both lists are sorted and disjoint within themselves
  for (std::size_t i = 0, j = 0; i < compute.size() && j < comm.size();) {
    overlap_ps += std::max<std::int64_t>(
        0, std::min(compute[i].second, comm[j].second) - std::max(compute[i].first, comm[j].first));
    (compute[i].second < comm[j].second) ? ++i : ++j;
  }
  ASSERT_GT(overlap_ps, 0);
  // One picosecond of rounding per reschedule at most.
  EXPECT_NEAR(slowed->time.interference_s, a / (1 + a) * static_cast<double>(overlap_ps) * 1e-12,
              1e-9);
  EXPECT_NEAR(slowed->time.compute_s + slowed->time.exposed_comm_s + slowed->time.other_s +
                  slowed->time.interference_s + slowed->time.bubble_s,
              slowed->step_time_s, 1e-9);
  EXPECT_DOUBLE_EQ(slowed->time.compute_s, plain->time.compute_s);  // the kernels' own time
}

TEST(SimulateStepTest, SameInputSameResult) {
  StepInput in = MakeInput(SmallGpt(), 16, 2, 4, 32, 1);
  auto a = SimulateStep(in);
  auto b = SimulateStep(in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->run.start, b->run.start);
  EXPECT_EQ(a->run.end, b->run.end);
  EXPECT_EQ(a->step_time_s, b->step_time_s);
}

}  // namespace
}  // namespace foresight::plan
