// Pipeline schedules, uneven stages and overlap flags through the whole compiler and engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "models/hw/hardware.h"
#include "models/ops/layer_builder.h"
#include "plan/compile.h"
#include "plan/schedule.h"
#include "plan/simulate.h"

namespace foresight::plan {
namespace {

// An A100 node whose links are free (infinite bandwidth, no latency): pipeline sends and the
// tied-embedding all-reduce cost nothing, so a step is compute and bubble only.
hw::HardwareProfile FreeLinks() {
  auto hw = hw::LoadHardware("dgx-a100-80gb");
  EXPECT_TRUE(hw.ok());
  for (hw::LinkSpec* link : {&hw->node.scale_up, &hw->network.nic}) {
    link->bandwidth_bytes_per_s = 1e30;
    link->latency_seconds = 0;
  }
  return *hw;
}

// 32 layers, h=4096, s=1024, a 128-token vocabulary so the embedding and head are small next to
// a stage (stage 0's embedding adds ~0.3% to its work, stage p-1's head ~0.5%, at pp 4).
ops::ModelConfig Uniform() {
  ops::ModelConfig m = *ops::FindPreset("gpt3-13b");
  m.preset = "";
  m.layers = 32;
  m.hidden = 4096;
  m.heads = 32;
  m.kv_heads = 32;
  m.ffn_hidden = 16384;
  m.seq_len = 1024;
  m.vocab = 128;
  return m;
}

StepInput Input(std::int64_t pp, std::int64_t global_batch, Schedule schedule, std::int64_t vpp) {
  StepInput in;
  in.model = Uniform();
  in.hardware = FreeLinks();
  in.cluster = ClusterConfig{"dgx-a100-80gb", 1, pp};
  in.training = TrainingConfig{global_batch, 1, Dtype::kBf16};
  in.plan.pp = pp;
  in.plan.schedule = schedule;
  in.plan.vpp = vpp;
  in.plan.fusion = ops::FusionRules{};
  auto errors = ValidateAndResolve(in.model, in.cluster, in.training, in.plan);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].key + ": " + errors[0].message);
  return in;
}

// Seconds of one layer's forward, input-gradient (B) and weight-gradient (W) kernels, summed
// op by op from the layer builder and the cost model, independently of the compiler.
struct LayerTimes {
  double f = 0, b = 0, w = 0;
};
LayerTimes Layer(const StepInput& in) {
  ops::BuildOptions o;
  const auto layer = ops::BuildTransformerLayer(in.model, o);
  LayerTimes t;
  for (const ops::Op& op : layer.forward) {
    t.f += CostOp(op, in.hardware, in.training.dtype, {}).duration.ToSeconds();
  }
  for (const ops::Op& op : layer.backward) {
    const double s = CostOp(op, in.hardware, in.training.dtype, {}).duration.ToSeconds();
    (op.pass == ops::Pass::kWeightGrad ? t.w : t.b) += s;
  }
  return t;
}

TEST(PipelineStepTest, InterleavedBubbleIsOneOverVOfOneFOneB) {
  // p = 4 stages of 8 layers, m = 8, v = 2 chunks of 4 layers. Per stage T = 8(f + b + w).
  // 1F1B: step = m T + (p-1) T + optimizer; interleaved: m T + (p-1) T / v + optimizer
  // (bubble (p-1)/(v m) of the ideal m T). The difference is (p-1) T (1 - 1/v) = 1.5 T.
  const StepInput base = Input(4, 8, Schedule::k1F1B, 1);
  const StepInput il = Input(4, 8, Schedule::kInterleaved1F1B, 2);
  auto a = SimulateStep(base);
  auto b = SimulateStep(il);
  ASSERT_TRUE(a.ok() && b.ok());
  const LayerTimes l = Layer(base);
  const double stage = 8 * (l.f + l.b + l.w);
  // Tolerances: the embedding and head make the end stages up to 0.5% slower than T.
  EXPECT_NEAR(a->step_time_s - b->step_time_s, 1.5 * stage, 0.02 * 1.5 * stage);
  // The bubble itself (mean over stages): (p-1) T vs (p-1) T / v.
  EXPECT_NEAR(a->time.bubble_s, 3 * stage, 0.03 * 3 * stage);
  EXPECT_NEAR(b->time.bubble_s, 1.5 * stage, 0.03 * 1.5 * stage);
  // Rank 0 keeps 2(p-1) + (v-1)p + 1 = 11 chunk-micro-batches of 4 layers each, i.e. 5.5 stage
  // micro-batches, against p = 4 for 1F1B (Korthikanti et al. 2022: p (1 + (p-1)/(p v))).
  EXPECT_EQ(b->stages[0].micro_batches_in_flight, 11);
  EXPECT_EQ(a->stages[0].micro_batches_in_flight, 4);
  const double per_layer = a->compiled.stages[1].saved_activation_bytes_per_micro_batch / 8;
  EXPECT_NEAR(b->compiled.stages[1].saved_activation_bytes_per_micro_batch, 4 * per_layer,
              1e-6 * per_layer);
  // The chunks' sends include the wrap from rank 3 (chunk 0) to rank 0 (chunk 1).
  std::int64_t sends_on_rank3 = 0;
  for (sim::TaskId t = 0; t < b->compiled.graph.num_tasks(); ++t) {
    const auto& seg = b->compiled.segments[static_cast<std::size_t>(b->compiled.graph.tag(t))];
    if (seg.name == "pp_send_activations" &&
        b->compiled.graph.stream(t) == b->compiled.stages[3].p2p_stream) {
      ++sends_on_rank3;
    }
  }
  EXPECT_EQ(sends_on_rank3, 8);  // chunk 0's 8 micro-batches; chunk 1 is the last stage
}

TEST(PipelineStepTest, ZeroBubbleH1CutsTheBubbleByTwoW) {
  // Qi et al. 2024: 1F1B bubble (p-1)(T_F + T_B + T_W), ZB-H1 (p-1)(T_F + T_B - T_W) when
  // T_W <= T_F (a layer's W is its weight-gradient GEMMs, equal in FLOPs to the forward GEMMs
  // and without the attention core, so T_W < T_F). p = 4 stages of 8 layers, m = 8: the step
  // shrinks by 2 (p-1) T_W with T_W = 8 w per stage.
  const StepInput base = Input(4, 8, Schedule::k1F1B, 1);
  const StepInput zb = Input(4, 8, Schedule::kZbH1, 1);
  auto a = SimulateStep(base);
  auto b = SimulateStep(zb);
  ASSERT_TRUE(a.ok() && b.ok());
  const LayerTimes l = Layer(base);
  ASSERT_LT(l.w, l.f);
  const double tw = 8 * l.w;
  EXPECT_NEAR(a->step_time_s - b->step_time_s, 2 * 3 * tw, 0.02 * 2 * 3 * tw);
  // Same work: compute time per stage is unchanged by the split.
  EXPECT_NEAR(a->time.compute_s, b->time.compute_s, 1e-9);
  // Every stage holds p = 4 micro-batches until their W.
  for (const auto& s : b->stages) EXPECT_EQ(s.micro_batches_in_flight, 4);
  // W tasks exist and run on the compute stream.
  std::int64_t w_tasks = 0;
  for (sim::TaskId t = 0; t < b->compiled.graph.num_tasks(); ++t) {
    const auto& seg = b->compiled.segments[static_cast<std::size_t>(b->compiled.graph.tag(t))];
    if (seg.name != "weight_grad") continue;
    ++w_tasks;
    const auto rank = b->compiled.graph.stream_info(b->compiled.graph.stream(t)).rank;
    EXPECT_EQ(b->compiled.graph.stream(t), b->compiled.stages[rank].compute_stream);
  }
  EXPECT_GE(w_tasks, 4 * 8);
}

TEST(PipelineStepTest, UnevenStagesSplitLayersAndParameters) {
  // layers_per_stage {6, 26} on 32 layers: stage 0 holds 6 layers + the embedding, stage 1
  // 26 layers + the final norm + its copy of the (tied) word embedding (pp > 1).
  StepInput in = Input(2, 4, Schedule::k1F1B, 1);
  in.plan.layers_per_stage = {6, 26};
  auto errors = ValidateAndResolve(in.model, in.cluster, in.training, in.plan);
  ASSERT_TRUE(errors.empty());
  auto r = SimulateStep(in);
  ASSERT_TRUE(r.ok());
  const ops::ParameterCounts counts = ops::CountParameters(in.model);
  const auto per_layer = static_cast<double>(counts.per_layer);
  const double word = static_cast<double>(in.model.vocab * in.model.hidden);
  const double positions =
      in.model.learned_positions ? static_cast<double>(in.model.seq_len * in.model.hidden) : 0.0;
  EXPECT_DOUBLE_EQ(r->stages[0].params_per_rank, 6 * per_layer + word + positions);
  EXPECT_DOUBLE_EQ(r->stages[1].params_per_rank,
                   26 * per_layer + static_cast<double>(counts.final_norm) + word);
  EXPECT_EQ(r->compiled.stages[0].layers, 6);
  EXPECT_EQ(r->compiled.stages[1].layers, 26);
  // Activations per micro-batch scale with the layers (the 128-token embedding and head are
  // small): stage 1 keeps 26/6 of stage 0's, within 1%.
  EXPECT_NEAR(
      r->stages[1].activation_bytes_per_micro_batch / r->stages[0].activation_bytes_per_micro_batch,
      26.0 / 6.0, 0.01 * 26.0 / 6.0);
}

TEST(PipelineStepTest, P2pOverlapFlagMovesSendsToTheComputeStream) {
  // Real links (A100 NVLink): with overlap.p2p the sends run on the p2p stream; without it
  // they occupy the sender's compute stream between its passes, so the step grows and the time
  // breakdown counts them as exposed communication.
  StepInput on = Input(4, 8, Schedule::k1F1B, 1);
  on.hardware = *hw::LoadHardware("dgx-a100-80gb");
  StepInput off = on;
  off.plan.overlap.p2p = false;
  auto a = SimulateStep(on);
  auto b = SimulateStep(off);
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto* r : {&*a, &*b}) {
    std::int64_t sends = 0;
    for (sim::TaskId t = 0; t < r->compiled.graph.num_tasks(); ++t) {
      const auto& seg = r->compiled.segments[static_cast<std::size_t>(r->compiled.graph.tag(t))];
      if (seg.name != "pp_send_activations" && seg.name != "pp_send_grads") continue;
      ++sends;
      const sim::StreamId stream = r->compiled.graph.stream(t);
      const auto& info = r->compiled.stages[r->compiled.graph.stream_info(stream).rank];
      EXPECT_EQ(stream, r == &*a ? info.p2p_stream : info.compute_stream);
    }
    EXPECT_EQ(sends, 2 * 3 * 8);  // (p-1) links x 2 directions x m
  }
  EXPECT_GT(b->step_time_s, a->step_time_s);
  EXPECT_GT(b->time.exposed_comm_s, a->time.exposed_comm_s);
}

TEST(PipelineStepTest, ParamGatherOverlapHidesTheZeroOneAllGather) {
  // zero 1, dp 8, one stage, micro-batch 4 (a layer's forward, ~4 x 0.4 TFLOP, outlasts its
  // 400 MB all-gather on NVLink). Without overlap the parameter all-gather runs whole after the
  // optimizer, exposed. With overlap.param_gather it runs per part (embedding, each layer,
  // head) on the comm stream from the step start, each gating its part's first forward: the
  // embedding forward waits for its gather e, the first layer for e + g1 (the embedding forward
  // f_e hides part of g1), and every later gather hides under the forward before it. So
  // e + g1 - f_e stays exposed: the step shrinks by whole - (e + g1 - f_e), and exposed
  // communication falls by the same.
  StepInput off = Input(1, 64, Schedule::k1F1B, 1);
  off.hardware = *hw::LoadHardware("dgx-a100-80gb");
  off.cluster = ClusterConfig{"dgx-a100-80gb", 1, 8};
  off.training.micro_batch = 4;
  off.plan.dp = 0;
  off.plan.zero = 1;
  ASSERT_TRUE(ValidateAndResolve(off.model, off.cluster, off.training, off.plan).empty());
  StepInput on = off;
  on.plan.overlap.param_gather = true;
  ASSERT_TRUE(ValidateAndResolve(on.model, on.cluster, on.training, on.plan).empty());
  auto a = SimulateStep(off);
  auto b = SimulateStep(on);
  ASSERT_TRUE(a.ok() && b.ok());
  double whole = 0;
  std::vector<double> parts;
  for (sim::TaskId t = 0; t < a->compiled.graph.num_tasks(); ++t) {
    const auto& seg = a->compiled.segments[static_cast<std::size_t>(a->compiled.graph.tag(t))];
    if (seg.name == "dp_param_allgather") whole += seg.duration.ToSeconds();
  }
  for (sim::TaskId t = 0; t < b->compiled.graph.num_tasks(); ++t) {
    const auto& seg = b->compiled.segments[static_cast<std::size_t>(b->compiled.graph.tag(t))];
    if (seg.name != "dp_param_allgather") continue;
    EXPECT_EQ(b->compiled.graph.stream(t), b->compiled.stages[0].comm_stream);
    parts.push_back(seg.duration.ToSeconds());
  }
  ASSERT_GT(whole, 0);
  ASSERT_EQ(parts.size(), 34u);  // embedding, 32 layers, head
  ops::BuildOptions o;
  o.micro_batch = 4;
  double f_e = 0;
  for (const ops::Op& op : ops::BuildEmbedding(on.model, o).forward) {
    f_e += CostOp(op, on.hardware, on.training.dtype, {}).duration.ToSeconds();
  }
  ASSERT_LT(f_e, parts[1]);
  const double exposed = parts[0] + parts[1] - f_e;
  EXPECT_NEAR(a->step_time_s - b->step_time_s, whole - exposed, 1e-6 * whole);
  EXPECT_NEAR(a->time.exposed_comm_s - b->time.exposed_comm_s, whole - exposed, 1e-6 * whole);
}

TEST(PipelineStepTest, TpCommOverlapHidesAllReducesUnderTheirGemms) {
  // tp 2 on one stage (2 GPUs, dp 1), m = 4. Each "tp_allreduce" of a layer follows the GEMM
  // that produces its input (attn_out_proj and mlp_fc2 forward, mlp_fc1 and qkv_proj data
  // gradients backward); with overlap.tp_comm min(all-reduce, GEMM) of each leaves the compute
  // stream for the tp_comm stream. With one stage the step is m (F + B) + optimizer, so it
  // shrinks by exactly m * layers * (sum of the hidden parts of one layer), summed here op by
  // op from the layer builder and the cost model.
  StepInput off = Input(1, 4, Schedule::k1F1B, 1);
  off.hardware = *hw::LoadHardware("dgx-a100-80gb");
  off.cluster = ClusterConfig{"dgx-a100-80gb", 1, 2};
  off.plan.tp = 2;
  off.plan.dp = 0;
  ASSERT_TRUE(ValidateAndResolve(off.model, off.cluster, off.training, off.plan).empty());
  StepInput on = off;
  on.plan.overlap.tp_comm = true;
  auto a = SimulateStep(off);
  auto b = SimulateStep(on);
  ASSERT_TRUE(a.ok() && b.ok());
  ops::BuildOptions o;
  o.tp = 2;
  const auto layer = ops::BuildTransformerLayer(on.model, o);
  const auto embedding = ops::BuildEmbedding(on.model, o);
  const auto head = ops::BuildHead(on.model, o);
  GroupSpans spans;
  spans.tp = hw::SpanOf(2, 1, 2);
  // Per micro-batch: 32 layers x (2 forward + 2 backward) all-reduces after a GEMM, plus the
  // head's after the logits data gradient; the embedding's follows the gather, not a GEMM.
  double hidden = 0;
  int overlapped = 0;
  const std::pair<const std::vector<ops::Op>*, int> lists[] = {
      {&layer.forward, 32},     {&layer.backward, 32}, {&embedding.forward, 1},
      {&embedding.backward, 1}, {&head.forward, 1},    {&head.backward, 1}};
  for (const auto& [list, count] : lists) {
    for (std::size_t i = 1; i < list->size(); ++i) {
      if ((*list)[i].name != "tp_allreduce" || (*list)[i - 1].kind != ops::OpKind::kGemm) {
        continue;
      }
      const double comm =
          CostOp((*list)[i], on.hardware, on.training.dtype, spans).duration.ToSeconds();
      const double gemm =
          CostOp((*list)[i - 1], on.hardware, on.training.dtype, spans).duration.ToSeconds();
      hidden += count * std::min(comm, gemm);
      overlapped += count;
    }
  }
  EXPECT_EQ(overlapped, 32 * 4 + 1);
  ASSERT_GT(hidden, 0);
  const double expected = 4 * hidden;  // m = 4 micro-batches
  EXPECT_NEAR(a->step_time_s - b->step_time_s, expected, 1e-6 * expected);
  EXPECT_NEAR(a->time.exposed_comm_s - b->time.exposed_comm_s, expected, 1e-6 * expected);
  // The hidden part runs on the tp_comm stream, starting with its compute task and ending
  // within it.
  const auto& g = b->compiled.graph;
  const StageInfo& info = b->compiled.stages[0];
  ASSERT_GE(info.tp_comm_stream, 0);
  std::int64_t on_tp = 0;
  sim::TaskId last_compute = -1;
  double hidden_total = 0;
  for (sim::TaskId t = 0; t < g.num_tasks(); ++t) {
    if (g.stream(t) == info.compute_stream) last_compute = t;
    if (g.stream(t) != info.tp_comm_stream) continue;
    ++on_tp;
    hidden_total += g.duration(t).ToSeconds();
    ASSERT_GE(last_compute, 0);
    EXPECT_EQ(b->run.start[t], b->run.start[last_compute]);
    EXPECT_LE(b->run.end[t], b->run.end[last_compute]);
  }
  // One per forward (4) and whole backward (3); the last micro-batch's backward is cut at its
  // parts for the gradient buckets: head + 32 layers have hidden all-reduces, the embedding not.
  EXPECT_EQ(on_tp, 4 + 3 + 33);
  EXPECT_NEAR(hidden_total, expected, 1e-6 * expected);
}

}  // namespace
}  // namespace foresight::plan
