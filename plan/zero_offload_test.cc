// Recompute, ZeRO and offload through the simulated step (plan/compile.h, plan/simulate.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "models/hw/hardware.h"
#include "models/ops/layer_builder.h"
#include "plan/simulate.h"

namespace foresight::plan {
namespace {

// A small GPT: 8 layers, h = 1024, 16 heads, s = 1024, V = 51200, f = 4h.
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

StepInput Input(std::int64_t gpus, std::int64_t tp, std::int64_t pp, std::int64_t global_batch,
                std::int64_t micro_batch, const Plan& base = Plan{}) {
  StepInput in;
  in.model = SmallGpt();
  in.hardware = *hw::LoadHardware("dgx-a100-80gb");
  in.cluster = ClusterConfig{"dgx-a100-80gb", gpus > 8 ? gpus / 8 : 1, gpus > 8 ? 8 : gpus};
  in.training = TrainingConfig{global_batch, micro_batch, Dtype::kBf16};
  in.plan = base;
  in.plan.tp = tp;
  in.plan.pp = pp;
  auto errors = ValidateAndResolve(in.model, in.cluster, in.training, in.plan);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].message);
  return in;
}

StepResult Simulate(const StepInput& in) {
  auto r = SimulateStep(in);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : StepResult{};
}

// Tasks whose segment is named `name`, and their total duration in seconds.
std::pair<int, double> Tasks(const StepResult& r, const std::string& name) {
  const CompiledStep& c = r.compiled;
  int count = 0;
  double seconds = 0;
  for (sim::TaskId t = 0; t < c.graph.num_tasks(); ++t) {
    if (c.segments[static_cast<std::size_t>(c.graph.tag(t))].name != name) continue;
    ++count;
    seconds += c.graph.duration(t).ToSeconds();
  }
  return {count, seconds};
}

TEST(RecomputeTest, HardwareFlopsGrowByExactlyTheRecomputedForward) {
  // One layer's forward matmul FLOPs per sequence (GPT, f = 4h, MHA): QKV 6sh^2, scores 2s^2h,
  // context 2s^2h, out-proj 2sh^2, MLP 16sh^2 = 24sh^2 + 4s^2h. Selective recompute replays the
  // attention core (scores + context, or flash's 4s^2h): B*l*4s^2h more per step. Full
  // recompute of N layers per stage replays B*N*pp*(24sh^2 + 4s^2h).
  const double B = 16, s = 1024, h = 1024, l = 8;
  for (const bool flash : {true, false}) {
    Plan base;
    base.flash_attention = flash;
    const StepResult none = Simulate(Input(16, 2, 2, 16, 1, base));
    base.recompute = Recompute::kSelective;
    const StepResult sel = Simulate(Input(16, 2, 2, 16, 1, base));
    EXPECT_NEAR(sel.hardware_flops_per_step - none.hardware_flops_per_step, B * l * 4 * s * s * h,
                1e-9 * none.hardware_flops_per_step)
        << "flash " << flash;
    EXPECT_DOUBLE_EQ(sel.model_flops_per_step, none.model_flops_per_step);
    base.recompute = Recompute::kFull;
    base.recompute_layers = 3;  // of 4 per stage, pp = 2
    const StepResult part = Simulate(Input(16, 2, 2, 16, 1, base));
    EXPECT_NEAR(part.hardware_flops_per_step - none.hardware_flops_per_step,
                B * 3 * 2 * (24 * s * h * h + 4 * s * s * h), 1e-9 * none.hardware_flops_per_step);
    EXPECT_NEAR(part.hfu / part.mfu, part.hardware_flops_per_step / part.model_flops_per_step,
                1e-12);
  }
}

TEST(RecomputeTest, SelectiveRecomputeTimeAndMemoryOnOneGpu) {
  // One GPU, unfused attention, m = 2 micro-batches of b = 2. The step grows by exactly m*l
  // replays of the attention core (its kernels priced one by one here). 1F1B on one stage
  // holds one micro-batch: the peak is during a backward, with the embedding's mask (b*s*h),
  // the head's norm and logits inputs (2*2bsh) and fp32 softmax (4*b*s*V), l layers of
  // 34*s*b*h (Korthikanti, selective), and one layer's recomputed core, 5*a*s^2*b.
  Plan base;
  base.flash_attention = false;
  const StepResult none = Simulate(Input(1, 1, 1, 4, 2, base));
  base.recompute = Recompute::kSelective;
  const StepInput in = Input(1, 1, 1, 4, 2, base);
  const StepResult sel = Simulate(in);
  ops::BuildOptions o;
  o.micro_batch = 2;
  o.flash_attention = false;
  const ops::LayerOps layer = ops::BuildTransformerLayer(in.model, o);
  double core = 0;
  for (std::int32_t i = layer.attention_core_begin; i < layer.attention_core_end; ++i) {
    core += CostOp(layer.forward[static_cast<std::size_t>(i)], in.hardware, Dtype::kBf16, {})
                .duration.ToSeconds();
  }
  EXPECT_NEAR(sel.step_time_s - none.step_time_s, 2 * 8 * core, 1e-9);
  const double b = 2, s = 1024, h = 1024, a = 16, V = 51200, l = 8;
  const double expected =
      b * s * h + 4 * b * s * h + 4 * b * s * V + l * 34 * s * b * h + 5 * a * s * s * b;
  EXPECT_DOUBLE_EQ(sel.stages[0].breakdown.activations, expected);
}

TEST(ZeroTest, ModelStatesDivideOverDataParallelRanks) {
  // dp = 8, tp = pp = 1: P parameters per rank. Optimizer states never hold transients, so
  // they are exactly 12P (zero 0) or 12P/8; weights 2P for zero <= 2; gradients 2P for
  // zero <= 1 (zero >= 2 adds the unreduced bucket in flight to its 2P/8).
  const double P = static_cast<double>(ops::CountParameters(SmallGpt()).total);
  for (int z = 0; z <= 3; ++z) {
    Plan base;
    base.zero = z;
    const StepResult r = Simulate(Input(8, 1, 1, 16, 1, base));
    const MemoryBreakdown& m = r.stages[0].breakdown;
    EXPECT_DOUBLE_EQ(m.optimizer, z == 0 ? 12 * P : 12 * P / 8) << "zero " << z;
    EXPECT_EQ(m.weights == 2 * P, z <= 2) << "zero " << z;
    EXPECT_EQ(m.gradients == 2 * P, z <= 1) << "zero " << z;
    EXPECT_EQ(m.gradients < 2 * P, z >= 2) << "zero " << z;
    EXPECT_EQ(m.weights < 2 * P, z == 3) << "zero " << z;
    EXPECT_NEAR(r.compiled.stages[0].model_state_bytes,
                z == 0   ? 16 * P
                : z == 1 ? (4 + 12.0 / 8) * P
                : z == 2 ? (2 + 14.0 / 8) * P
                         : 16 * P / 8,
                1.0);
  }
}

TEST(ZeroTest, CommunicationOfEachStageRunsInTheStep) {
  // m = 2 micro-batches (global 16, dp 8). Parts per pass on one stage: embedding, 8 layers,
  // head = 10, so zero 3 gathers 2 passes x 10 parts x 2 micro-batches = 40 times; zero 2
  // reduce-scatters every micro-batch (at least 2 buckets), zero 1 only the last; zero 1 and 2
  // all-gather the updated parameters once.
  Plan base;
  base.zero = 1;
  const StepResult z1 = Simulate(Input(8, 1, 1, 16, 1, base));
  EXPECT_EQ(Tasks(z1, "dp_param_allgather").first, 1);
  EXPECT_EQ(Tasks(z1, "dp_grad_allreduce").first, 0);
  const int z1_buckets = Tasks(z1, "dp_grad_reduce_scatter").first;
  EXPECT_GE(z1_buckets, 1);
  base.zero = 2;
  const StepResult z2 = Simulate(Input(8, 1, 1, 16, 1, base));
  EXPECT_EQ(Tasks(z2, "dp_grad_reduce_scatter").first, 2 * z1_buckets);
  EXPECT_EQ(Tasks(z2, "dp_param_allgather").first, 1);
  base.zero = 3;
  const StepResult z3 = Simulate(Input(8, 1, 1, 16, 1, base));
  EXPECT_EQ(Tasks(z3, "zero3_param_allgather").first, 40);
  EXPECT_EQ(Tasks(z3, "dp_param_allgather").first, 0);
  // The first forward part (the embedding) cannot start before its parameters are gathered:
  // a ring all-gather over the 8 GPUs of the node of S = 2 * (V*h + s*h) bytes takes
  // (n-1)/n * S / (300 GB/s * 0.765) + (n-1) * 3.4 us (dgx-a100-80gb NVLink, collective.h).
  // Later gathers are prefetched two parts ahead.
  const double S = 2.0 * (51200 * 1024 + 1024 * 1024);
  const double gather = 7.0 / 8 * S / (300e9 * 0.765) + 7 * 3.4e-6;
  const CompiledStep& c = z3.compiled;
  sim::TaskId first = 0;
  while (c.graph.stream(first) != c.stages[0].compute_stream) ++first;
  EXPECT_NEAR(z3.run.start[first].ToSeconds(), gather, 1e-9);
}

TEST(OffloadTest, OptimizerOffloadMovesStatesToTheHostAndRunsAdamThere) {
  // zero 1, dp = 8: the host holds 12 B (master, m, v) + 4 B (fp32 gradient) per parameter of
  // the rank's P/8 shard; the device none. Host Adam: 30 B/param at 409.6 GB/s shared by the
  // node's 8 GPUs (uncalibrated catalog); gradients down and parameters up: 2 B/param each over
  // PCIe (10 us + bytes / (32 GB/s * 0.87)).
  const double P = static_cast<double>(ops::CountParameters(SmallGpt()).total);
  Plan base;
  base.zero = 1;
  base.offload.optimizer = true;
  const StepResult r = Simulate(Input(8, 1, 1, 16, 1, base));
  EXPECT_DOUBLE_EQ(r.stages[0].breakdown.optimizer, 0.0);
  EXPECT_NEAR(r.stages[0].host_breakdown.optimizer, 12 * P / 8, 1.0);
  EXPECT_NEAR(r.stages[0].host_breakdown.gradients, 4 * P / 8, 1.0);
  EXPECT_NEAR(Tasks(r, "host_adam_step").second, P / 8 * 8 * 30 / 409.6e9, 1e-9);
  const double copy = 10e-6 + 2 * P / 8 / (32e9 * 0.87);
  EXPECT_NEAR(Tasks(r, "optimizer_grad_offload").second, copy, 1e-9);
  EXPECT_NEAR(Tasks(r, "optimizer_param_upload").second, copy, 1e-9);
  // Eight ranks of one node share its host memory.
  EXPECT_NEAR(r.host_peak_bytes, 8 * r.stages[0].host_peak_bytes, 1.0);
  EXPECT_TRUE(r.fits && r.host_fits);
  EXPECT_GT(r.time.other_s, 0.0);

  // A host too small for the offloaded states: fits = false, explained.
  StepInput small = Input(8, 1, 1, 16, 1, base);
  small.hardware.host.memory_bytes = 1'000'000'000;
  const StepResult tight = Simulate(small);
  EXPECT_FALSE(tight.fits);
  EXPECT_FALSE(tight.host_fits);
  EXPECT_NE(tight.fits_detail.find("host memory"), std::string::npos) << tight.fits_detail;
  // A host of unknown size is an error naming the key.
  small.hardware.host.memory_bytes = 0;
  auto err = SimulateStep(small);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("plan.offload.optimizer"), std::string::npos);
}

TEST(OffloadTest, ActivationOffloadKeepsFewerMicroBatchesOnTheDevice) {
  // GPipe, one stage, m = 4: without offload the device holds all 4 micro-batches'
  // activations (A each). With offload every micro-batch is copied out after its forward
  // (GPipe's order F0..F3 B0..B3 never runs a backward right after its own forward) and fetched
  // back one slot ahead of its backward. The host holds whole micro-batches: a multiple of A.
  // Over the catalog's PCIe Gen4 link a copy of A (~0.5 GB) takes longer than a forward of
  // this small model, so the copies cannot keep up; with a hypothetical 1 TB/s host link they
  // do, and the device never holds all four.
  Plan base;
  base.schedule = Schedule::kGpipe;
  const StepResult plain = Simulate(Input(1, 1, 1, 4, 1, base));
  const double A = plain.compiled.stages[0].saved_activation_bytes_per_micro_batch;
  EXPECT_DOUBLE_EQ(plain.stages[0].breakdown.activations, 4 * A);
  base.offload.activations = true;
  const StepResult pcie = Simulate(Input(1, 1, 1, 4, 1, base));
  EXPECT_LE(pcie.stages[0].breakdown.activations, 4 * A);
  EXPECT_EQ(Tasks(pcie, "activation_offload").first, 4);
  EXPECT_EQ(Tasks(pcie, "activation_fetch").first, 4);
  EXPECT_GT(pcie.step_time_s, plain.step_time_s);
  StepInput fast = Input(1, 1, 1, 4, 1, base);
  fast.hardware.node.pcie.bandwidth_bytes_per_s = 1e12;
  const StepResult off = Simulate(fast);
  EXPECT_LE(off.stages[0].breakdown.activations, 3 * A);
  const double host = off.stages[0].host_breakdown.activations;
  EXPECT_GE(host, A);
  EXPECT_LE(host, 4 * A);
  EXPECT_DOUBLE_EQ(host / A, std::round(host / A));
}

TEST(OffloadTest, ParameterOffloadFetchesEveryPartFromTheHost) {
  // zero 3 + params and optimizer on the host: no resident device weights; each of the 40
  // gathers (see above) is preceded by a PCIe fetch of the rank's shard.
  Plan base;
  base.zero = 3;
  base.offload.optimizer = true;
  base.offload.params = true;
  const StepResult r = Simulate(Input(8, 1, 1, 16, 1, base));
  EXPECT_EQ(Tasks(r, "param_fetch").first, 40);
  EXPECT_EQ(Tasks(r, "optimizer_param_upload").first, 0);
  const double P = static_cast<double>(ops::CountParameters(SmallGpt()).total);
  EXPECT_NEAR(r.stages[0].host_breakdown.weights, 2 * P / 8, 1.0);
  EXPECT_NEAR(r.compiled.stages[0].model_state_bytes, 2 * P / 8, 1.0);  // gradient shard only
}

}  // namespace
}  // namespace foresight::plan
