#include "reports/reports.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "plan/simulate.h"
#include "scenarios/scenario.h"

namespace foresight::reports {
namespace {

// A small two-stage, two-way tensor-parallel scenario on one DGX H100 node.
constexpr const char* kScenario = R"(name: small
model:
  layers: 4
  hidden: 512
  heads: 8
  vocab: 1000
  seq_len: 256
cluster:
  hardware: dgx-h100
  nodes: 1
  gpus_per_node: 8
training:
  global_batch: 16
  micro_batch: 2
plan:
  tp: 2
  pp: 2
)";

struct Fixture {
  scenarios::Scenario scenario;
  plan::StepResult result;
};

Fixture Simulate(const std::string& extra = "") {
  auto s = scenarios::LoadScenarioText(kScenario + extra, "small.yaml");
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  plan::StepInput in{s->model, s->hardware, s->cluster, s->training, s->plan};
  auto r = plan::SimulateStep(in);
  EXPECT_TRUE(r.ok());
  return Fixture{*s, std::move(r).value()};
}

TEST(JsonReportTest, CarriesTheResolvedParallelismAndMoeKeys) {
  // A dense scenario: cp, ep = 1, ring, no sequence parallelism, model.moe null.
  Fixture dense = Simulate();
  const auto d = nlohmann::json::parse(RenderJson(dense.scenario, dense.result));
  EXPECT_EQ(d["plan"]["cp"], 1);
  EXPECT_EQ(d["plan"]["cp_comm"], "ring");
  EXPECT_EQ(d["plan"]["ep"], 1);
  EXPECT_EQ(d["plan"]["sequence_parallel"], false);
  EXPECT_TRUE(d["model"]["moe"].is_null());
  // MoE with tp 2 (sequence parallel), cp 2, ep 4 on 8 GPUs: dp = 8 / (2 * 2) = 2, ep divides
  // dp * cp = 4; micro-batches 16 / (2 * 2) = 4.
  auto s = scenarios::LoadScenarioText(R"(name: moe
model:
  layers: 4
  hidden: 512
  heads: 8
  vocab: 1000
  seq_len: 256
  moe:
    experts: 4
    top_k: 2
    expert_ffn_hidden: 1024
cluster:
  hardware: dgx-h100
  nodes: 1
  gpus_per_node: 8
training:
  global_batch: 16
  micro_batch: 2
plan:
  tp: 2
  cp: 2
  cp_comm: allgather
  ep: 4
  sequence_parallel: true
)",
                                       "moe.yaml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  plan::StepInput in{s->model, s->hardware, s->cluster, s->training, s->plan};
  auto r = plan::SimulateStep(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const auto j = nlohmann::json::parse(RenderJson(*s, *r));
  EXPECT_EQ(j["plan"]["dp"], 2);
  EXPECT_EQ(j["plan"]["cp"], 2);
  EXPECT_EQ(j["plan"]["cp_comm"], "allgather");
  EXPECT_EQ(j["plan"]["ep"], 4);
  EXPECT_EQ(j["plan"]["sequence_parallel"], true);
  EXPECT_EQ(j["plan"]["micro_batches"], 4);
  EXPECT_EQ(j["model"]["moe"]["experts"], 4);
  EXPECT_EQ(j["model"]["moe"]["top_k"], 2);
  EXPECT_EQ(j["model"]["moe"]["expert_ffn_hidden"], 1024);
  // A token uses 2 of the 4 experts of each of the 4 layers: fewer parameters than the model.
  EXPECT_LT(j["model"]["moe"]["active_parameters"].get<double>(),
            j["model"]["parameters"].get<double>());
}

TEST(JsonReportTest, HasEveryDocumentedKeyAndConsistentValues) {
  Fixture f = Simulate();
  const auto j = nlohmann::json::parse(RenderJson(f.scenario, f.result));
  for (const char* key :
       {"name", "world_size", "step_time_s", "tokens_per_s", "samples_per_s",
        "model_flops_per_step", "hardware_flops_per_step", "model_tflops_per_gpu",
        "hardware_tflops_per_gpu", "mfu", "hfu", "memory", "time_breakdown_s", "plan"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["world_size"], 8);
  EXPECT_EQ(j["plan"]["dp"], 2);             // 8 / (2 * 2)
  EXPECT_EQ(j["plan"]["micro_batches"], 4);  // 16 / (2 * 2)
  const double step = j["step_time_s"];
  // tokens/s = 16 sequences * 256 tokens / step.
  EXPECT_DOUBLE_EQ(j["tokens_per_s"].get<double>(), 16.0 * 256.0 / step);
  // MFU = model FLOPs / (step * 8 GPUs * 989e12 bf16 peak of the H100).
  EXPECT_DOUBLE_EQ(j["mfu"].get<double>(),
                   j["model_flops_per_step"].get<double>() / (step * 8 * 989e12));
  const auto& t = j["time_breakdown_s"];
  EXPECT_NEAR(t["compute"].get<double>() + t["exposed_comm"].get<double>() +
                  t["bubble"].get<double>() + t["other"].get<double>(),
              step, 1e-12);
  const auto& mem = j["memory"];
  for (const char* key : {"peak_bytes", "capacity_bytes", "fits", "breakdown", "per_stage"}) {
    EXPECT_TRUE(mem.contains(key)) << key;
  }
  ASSERT_EQ(mem["per_stage"].size(), 2u);
  const auto& b = mem["breakdown"];
  EXPECT_DOUBLE_EQ(b["weights"].get<double>() + b["gradients"].get<double>() +
                       b["optimizer"].get<double>() + b["activations"].get<double>() +
                       b["other"].get<double>(),
                   mem["peak_bytes"].get<double>());
  EXPECT_EQ(mem["capacity_bytes"].get<double>(), 80.0 * 1024 * 1024 * 1024);
}

TEST(JsonReportTest, ReportsHostMemoryAndPerStageDetail) {
  // ZeRO-1 with the optimizer on the host, 8 GPUs of one node: tp 2, pp 2, dp 2. The node's
  // host holds, per GPU, 12 B (master, m, v) + 4 B (fp32 gradient) per parameter of the rank's
  // 1/dp optimizer shard, i.e. 16 * params_per_rank / 2; four GPUs per stage.
  auto s = scenarios::LoadScenarioText(
      std::string(kScenario) + "  zero: 1\n  offload: {optimizer: cpu}\n", "small.yaml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  plan::StepInput in{s->model, s->hardware, s->cluster, s->training, s->plan};
  auto r = plan::SimulateStep(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const auto j = nlohmann::json::parse(RenderJson(*s, *r));
  EXPECT_EQ(j["plan"]["zero"], 1);
  EXPECT_EQ(j["plan"]["offload"]["optimizer"], "cpu");
  EXPECT_EQ(j["plan"]["offload"]["params"], "none");
  const auto& mem = j["memory"];
  double node = 0;
  for (const auto& st : mem["per_stage"]) {
    const double params = st["params_per_rank"].get<double>();
    EXPECT_GT(params, 0.0);
    EXPECT_NEAR(st["host_peak_bytes"].get<double>(), 16 * params / 2, 2.0);
    EXPECT_NEAR(st["host_breakdown"]["optimizer"].get<double>(), 12 * params / 2, 1.0);
    EXPECT_DOUBLE_EQ(st["breakdown"]["optimizer"].get<double>(), 0.0);
    EXPECT_GT(st["activation_bytes_per_micro_batch"].get<double>(), 0.0);
    node += 4 * st["host_peak_bytes"].get<double>();
  }
  // 1F1B, pp 2: stage 0 holds 2 micro-batches in flight, stage 1 one.
  EXPECT_EQ(mem["per_stage"][0]["micro_batches_in_flight"], 2);
  EXPECT_EQ(mem["per_stage"][1]["micro_batches_in_flight"], 1);
  EXPECT_NEAR(mem["host"]["peak_bytes_per_node"].get<double>(), node, 1.0);
  EXPECT_EQ(mem["host"]["capacity_bytes_per_node"].get<double>(), 2.0 * 1024 * 1024 * 1024 * 1024);
  EXPECT_EQ(mem["host"]["fits"], true);
  EXPECT_EQ(mem["fits_detail"], "");
  const std::string summary = RenderSummary(*s, *r);
  EXPECT_NE(summary.find("host memory per node"), std::string::npos) << summary;
  EXPECT_NE(summary.find("zero 1, offload optimizer to cpu"), std::string::npos) << summary;
  // The trace gets a host-memory counter per stage next to the device one.
  std::ostringstream trace;
  WriteChromeTrace(*s, *r, TraceOptions{}, trace);
  EXPECT_NE(trace.str().find("\"name\":\"host_memory_bytes\""), std::string::npos);
  EXPECT_NE(trace.str().find("\"name\":\"host_adam_step\""), std::string::npos);
}

TEST(JsonReportTest, SameScenarioGivesByteIdenticalJson) {
  Fixture a = Simulate();
  Fixture b = Simulate();
  EXPECT_EQ(RenderJson(a.scenario, a.result), RenderJson(b.scenario, b.result));
  EXPECT_EQ(RenderSummary(a.scenario, a.result), RenderSummary(b.scenario, b.result));
}

TEST(ChromeTraceTest, OneSpanPerOpOrPerTaskAndValidJson) {
  Fixture f = Simulate();
  std::size_t ops = 0;
  for (sim::TaskId t = 0; t < f.result.compiled.graph.num_tasks(); ++t) {
    const auto& seg = f.result.compiled.segments[f.result.compiled.graph.tag(t)];
    ops += static_cast<std::size_t>(seg.end - seg.begin);
  }
  for (bool per_op : {true, false}) {
    std::ostringstream out;
    WriteChromeTrace(f.scenario, f.result, TraceOptions{per_op}, out);
    const auto j = nlohmann::json::parse(out.str());
    std::size_t spans = 0, processes = 0;
    double last_end_us = 0;
    for (const auto& e : j["traceEvents"]) {
      if (e["ph"] == "X") {
        ++spans;
        last_end_us = std::max(last_end_us, e["ts"].get<double>() + e["dur"].get<double>());
      }
      if (e["ph"] == "M" && e["name"] == "process_name") ++processes;
    }
    EXPECT_EQ(processes, 2u);  // one per pipeline stage
    EXPECT_EQ(spans, per_op ? ops : static_cast<std::size_t>(f.result.compiled.graph.num_tasks()));
    // The last span ends at the step time (microseconds).
    EXPECT_NEAR(last_end_us, f.result.step_time_s * 1e6, 1e-3);
  }
}

TEST(ChromeTraceTest, ScheduleAndOverlapSpansLandOnTheirStreams) {
  // zb-h1 puts weight-gradient passes on the compute stream; overlap.p2p: false puts the
  // pipeline sends there too; overlap.param_gather puts the ZeRO-1 parameter all-gathers on the
  // comm stream (before the first forward, not after the optimizer); overlap.tp_comm puts the
  // hidden part of the TP all-reduces on the tp_comm stream.
  Fixture f = Simulate(
      "  schedule: zb-h1\n  zero: 1\n  overlap: {param_gather: true, p2p: false, tp_comm: true}\n");
  std::ostringstream out;
  WriteChromeTrace(f.scenario, f.result, TraceOptions{false}, out);
  const auto j = nlohmann::json::parse(out.str());
  std::map<std::pair<int, int>, std::string> threads;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      threads[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"].get<std::string>();
    }
  }
  std::map<std::string, std::map<std::string, int>> where;  // span name -> thread -> count
  double first_gather_us = 1e300, last_gather_end_us = 0, optimizer_start_us = 1e300;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const std::string name = e["name"].get<std::string>();
    ++where[name][threads[{e["pid"].get<int>(), e["tid"].get<int>()}]];
    const double ts = e["ts"].get<double>(), end = ts + e["dur"].get<double>();
    if (name == "dp_param_allgather") {
      first_gather_us = std::min(first_gather_us, ts);
      last_gather_end_us = std::max(last_gather_end_us, end);
    }
    if (name == "adam") optimizer_start_us = std::min(optimizer_start_us, ts);
  }
  // 4 layers over 2 stages, 16 / (2 * 2) = 4 micro-batches per pipeline.
  EXPECT_GE(where["weight_grad"]["compute"], 2 * 4);
  EXPECT_EQ(where["weight_grad"].size(), 1u);
  EXPECT_EQ(where["pp_send_activations"]["compute"], 4);  // stage 0 -> 1, per micro-batch
  EXPECT_EQ(where["pp_send_grads"]["compute"], 4);        // stage 1 -> 0
  EXPECT_EQ(where["pp_send_activations"].size(), 1u);
  // Parameter gathers: embedding + 2 layers on stage 0, 2 layers + head on stage 1.
  EXPECT_EQ(where["dp_param_allgather"]["comm"], 6);
  EXPECT_EQ(where["dp_param_allgather"].size(), 1u);
  EXPECT_EQ(first_gather_us, 0.0);  // issued at the step start
  // Every forward and backward (B) task of both stages has layer all-reduces after a GEMM.
  EXPECT_GE(where["tp_allreduce_overlapped"]["tp_comm"], 2 * 2 * 4);
  EXPECT_EQ(where["tp_allreduce_overlapped"].size(), 1u);
  EXPECT_LT(last_gather_end_us, optimizer_start_us);
}

TEST(SummaryTest, ShowsTheHeadlineNumbers) {
  Fixture f = Simulate();
  const std::string text = RenderSummary(f.scenario, f.result);
  for (const char* needle : {"step time", "tokens/s", "MFU", "HFU", "where the time goes",
                             "exposed comm", "bubble", "memory per GPU", "fits"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
}

}  // namespace
}  // namespace foresight::reports
