#include "search/evaluation.h"

#include "reports/reports.h"
#include "scenarios/step_input.h"

namespace foresight::search {

std::vector<std::string> OutputColumns() {
  return {"status",
          "error",
          "hardware",
          "nodes",
          "gpus_per_node",
          "world_size",
          "tp",
          "pp",
          "dp",
          "micro_batch",
          "micro_batches",
          "schedule",
          "recompute",
          "vpp",
          "cp",
          "ep",
          "zero",
          "sequence_parallel",
          "step_time_s",
          "tokens_per_s",
          "samples_per_s",
          "model_tflops_per_gpu",
          "mfu",
          "hfu",
          "peak_bytes",
          "capacity_bytes",
          "fits",
          "compute_s",
          "exposed_comm_s",
          "bubble_s",
          "other_s",
          "interference_s",
          "weights_bytes",
          "gradients_bytes",
          "optimizer_bytes",
          "activations_bytes",
          "other_bytes"};
}

void MarkNotEvaluated(const std::string& status, const std::string& message, Row* row) {
  for (const std::string& c : OutputColumns()) row->record[c] = nullptr;
  row->record["status"] = status;
  row->record["error"] = message;
  row->result = nullptr;
}

void EvaluateScenario(const scenarios::Scenario& s, Row* row) {
  Result<plan::StepInput> input = scenarios::StepInputOf(s);  // network: section's pricer
  if (!input.ok()) {
    MarkNotEvaluated("failed", input.error().ToString(), row);
    return;
  }
  Result<plan::StepResult> result = plan::SimulateStep(*input);
  if (!result.ok()) {
    MarkNotEvaluated("failed", result.error().ToString(), row);
    return;
  }
  const plan::StepResult& r = *result;
  const plan::StageResult& peak = r.stages[static_cast<std::size_t>(r.peak_stage)];
  Json& j = row->record;
  j["status"] = "ok";
  j["error"] = nullptr;
  j["hardware"] = s.hardware.name;
  j["nodes"] = s.cluster.nodes;
  j["gpus_per_node"] = s.cluster.gpus_per_node;
  j["world_size"] = r.world_size;
  j["tp"] = s.plan.tp;
  j["pp"] = s.plan.pp;
  j["dp"] = s.plan.dp;
  j["micro_batch"] = s.training.micro_batch;
  j["micro_batches"] = r.micro_batches;
  j["schedule"] = std::string(plan::ScheduleName(s.plan.schedule));
  j["recompute"] = std::string(plan::RecomputeName(s.plan.recompute));
  j["vpp"] = s.plan.vpp;
  j["cp"] = s.plan.cp;
  j["ep"] = s.plan.ep;
  j["zero"] = s.plan.zero;
  j["sequence_parallel"] = s.plan.sequence_parallel;
  j["step_time_s"] = r.step_time_s;
  j["tokens_per_s"] = r.tokens_per_s;
  j["samples_per_s"] = r.samples_per_s;
  j["model_tflops_per_gpu"] = r.model_tflops_per_gpu;
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  j["peak_bytes"] = r.peak_bytes;
  j["capacity_bytes"] = r.capacity_bytes;
  j["fits"] = r.fits;
  j["compute_s"] = r.time.compute_s;
  j["exposed_comm_s"] = r.time.exposed_comm_s;
  j["bubble_s"] = r.time.bubble_s;
  j["other_s"] = r.time.other_s;
  j["interference_s"] = r.time.interference_s;
  j["weights_bytes"] = peak.breakdown.weights;
  j["gradients_bytes"] = peak.breakdown.gradients;
  j["optimizer_bytes"] = peak.breakdown.optimizer;
  j["activations_bytes"] = peak.breakdown.activations;
  j["other_bytes"] = peak.breakdown.other;
  row->result = Json::parse(reports::RenderJson(s, r, /*pretty=*/false));
}

double NumberOf(const Json& record, const std::string& key) {
  if (!record.contains(key) || !record[key].is_number()) return 0.0;
  return record[key].get<double>();
}

std::string TextOf(const Json& record, const std::string& key) {
  if (!record.contains(key)) return "";
  return CellText(record[key]);
}

}  // namespace foresight::search
