#include <nlohmann/json.hpp>

#include "plan/cost.h"
#include "reports/reports.h"

namespace foresight::reports {
namespace {

using Json = nlohmann::ordered_json;

Json Breakdown(const plan::MemoryBreakdown& b) {
  return Json{{"weights", b.weights},
              {"gradients", b.gradients},
              {"optimizer", b.optimizer},
              {"activations", b.activations},
              {"other", b.other}};
}

Json HostBreakdown(const plan::MemoryBreakdown& b) {
  return Json{{"weights", b.weights},
              {"gradients", b.gradients},
              {"optimizer", b.optimizer},
              {"activations", b.activations}};
}

Json Times(const plan::TimeBreakdown& t) {
  return Json{{"compute", t.compute_s},
              {"exposed_comm", t.exposed_comm_s},
              {"bubble", t.bubble_s},
              {"other", t.other_s},
              {"interference", t.interference_s}};
}

// The model.moe keys, and the parameters a token uses; null for a dense model.
Json MoeJson(const ops::ModelConfig& m) {
  if (!m.moe.enabled()) return Json(nullptr);
  const ops::MoeConfig& moe = m.moe;
  return Json{{"experts", moe.experts},
              {"top_k", moe.top_k},
              {"shared_experts", moe.shared_experts},
              {"expert_ffn_hidden", moe.expert_ffn_hidden},
              {"capacity_factor", moe.capacity_factor},
              {"first_dense_layers", moe.first_dense_layers},
              {"load_imbalance", moe.load_imbalance},
              {"active_parameters", ops::CountParameters(m).active}};
}

Json PlanJson(const scenarios::Scenario& s, const plan::StepResult& r) {
  const plan::Plan& p = s.plan;
  const ops::FusionRules& f = p.fusion;
  return Json{
      {"tp", p.tp},
      {"pp", p.pp},
      {"dp", p.dp},
      {"cp", p.cp},
      {"cp_comm", p.cp_comm == ops::CpComm::kAllGather ? "allgather" : "ring"},
      {"ep", p.ep},
      {"sequence_parallel", p.sequence_parallel},
      {"vpp", p.vpp},
      {"schedule", std::string(plan::ScheduleName(p.schedule))},
      {"recompute", std::string(plan::RecomputeName(p.recompute))},
      {"flash_attention", p.flash_attention},
      {"attention_kernel", p.attention_kernel.empty() ? "default" : p.attention_kernel},
      {"attention_efficiency", plan::AttentionEfficiencyFor(p, s.hardware.gpu)},
      {"fusion",
       {{"preset", p.fusion_preset},
        {"bias_gelu", f.bias_gelu},
        {"bias_dropout_add", f.bias_dropout_add},
        {"softmax_mask", f.softmax_mask},
        {"softmax_dropout", f.softmax_dropout},
        {"norm", f.norm},
        {"norm_residual", f.norm_residual},
        {"cross_entropy", f.cross_entropy}}},
      {"overlap", {{"grad_reduce", p.overlap.grad_reduce}}},
      {"grad_bucket_bytes", p.grad_bucket_bytes},
      {"micro_batch", s.training.micro_batch},
      {"micro_batches", r.micro_batches},
      {"global_batch", s.training.global_batch},
      {"dtype", std::string(DtypeName(s.training.dtype))},
      // A number for even stages, the list of each stage's layers for uneven ones.
      {"layers_per_stage",
       p.layers_per_stage.empty() && p.first_stage_layers == 0 && p.last_stage_layers == 0
           ? Json(s.model.layers / p.pp)
           : Json(plan::StageLayers(s.model, p))},
      {"recompute_layers", p.recompute == plan::Recompute::kFull
                               ? Json(plan::RecomputedLayersPerStage(s.model, p))
                               : Json(0)},
      {"zero", p.zero},
      {"offload",
       {{"optimizer", p.offload.optimizer ? "cpu" : "none"},
        {"activations", p.offload.activations ? "cpu" : "none"},
        {"params", p.offload.params ? "cpu" : "none"}}},
  };
}

}  // namespace

std::string RenderJson(const scenarios::Scenario& s, const plan::StepResult& r, bool pretty) {
  Json per_stage = Json::array();
  for (const plan::StageResult& st : r.stages) {
    per_stage.push_back(
        Json{{"stage", st.stage},
             {"peak_bytes", st.peak_bytes},
             {"breakdown", Breakdown(st.breakdown)},
             {"time_breakdown_s", Times(st.time)},
             {"params_per_rank", st.params_per_rank},
             {"activation_bytes_per_micro_batch", st.activation_bytes_per_micro_batch},
             {"micro_batches_in_flight", st.micro_batches_in_flight},
             {"recomputed_layers", st.recomputed_layers},
             {"host_peak_bytes", st.host_peak_bytes},
             {"host_breakdown", HostBreakdown(st.host_breakdown)}});
  }
  const plan::StageResult& peak = r.stages[static_cast<std::size_t>(r.peak_stage)];
  Json j{
      {"name", s.name},
      {"world_size", r.world_size},
      {"hardware", s.hardware.name},
      {"nodes", s.cluster.nodes},
      {"gpus_per_node", s.cluster.gpus_per_node},
      {"model",
       {{"preset", s.model.preset},
        {"layers", s.model.layers},
        {"hidden", s.model.hidden},
        {"heads", s.model.heads},
        {"kv_heads", s.model.kv_heads},
        {"ffn_hidden", s.model.ffn_hidden},
        {"activation", std::string(ops::ActivationName(s.model.activation))},
        {"vocab", s.model.vocab},
        {"seq_len", s.model.seq_len},
        {"parameters", ops::CountParameters(s.model).total},
        {"moe", MoeJson(s.model)}}},
      {"step_time_s", r.step_time_s},
      {"tokens_per_s", r.tokens_per_s},
      {"samples_per_s", r.samples_per_s},
      {"model_flops_per_step", r.model_flops_per_step},
      {"hardware_flops_per_step", r.hardware_flops_per_step},
      {"model_tflops_per_gpu", r.model_tflops_per_gpu},
      {"hardware_tflops_per_gpu", r.hardware_tflops_per_gpu},
      {"mfu", r.mfu},
      {"hfu", r.hfu},
      {"memory",
       {{"peak_bytes", r.peak_bytes},
        {"capacity_bytes", r.capacity_bytes},
        {"fits", r.fits},
        {"peak_stage", r.peak_stage},
        {"breakdown", Breakdown(peak.breakdown)},
        {"per_stage", per_stage},
        {"fits_detail", r.fits_detail},
        {"host",
         {{"peak_bytes_per_node", r.host_peak_bytes},
          {"capacity_bytes_per_node", r.host_capacity_bytes},
          {"fits", r.host_fits}}}}},
      {"time_breakdown_s", Times(r.time)},
      {"plan", PlanJson(s, r)},
      {"simulation", {{"tasks", r.num_tasks}, {"events", r.run.events_processed}}},
  };
  return pretty ? j.dump(2) : j.dump();
}

}  // namespace foresight::reports
