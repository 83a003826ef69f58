#include "scenarios/internal/sections.h"

#include <charconv>
#include <initializer_list>
#include <string>
#include <utility>

#include "models/ops/layer_builder.h"

namespace foresight::scenarios::internal {
namespace {

// The first failed status of reads that were all evaluated, in order (braced lists are
// evaluated left to right); the reads write distinct fields, so evaluating all is harmless.
Status FirstError(std::initializer_list<Status> statuses) {
  for (const Status& s : statuses) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

constexpr const char* kNeedsDims = " (required when model.preset is not given)";

// The FusionRules field names, in declaration order.
std::vector<std::string> FusionRuleKeys() {
  return {"bias_gelu", "bias_dropout_add", "softmax_mask", "softmax_dropout",
          "norm",      "norm_residual",    "cross_entropy"};
}

// Flattens the (possibly nested) mapping `map` into dotted keys under `prefix`.
Status FlattenOverrides(const MapReader& map, const std::string& prefix,
                        std::vector<hw::HardwareOverride>* out) {
  for (const MapReader::Entry& e : map.entries()) {
    const std::string key = prefix.empty() ? e.key : prefix + "." + e.key;
    if (e.value.IsMap()) {
      Result<MapReader> nested = map.ChildAnyKeys(e.key);
      if (!nested.ok()) return nested.error();
      if (Status s = FlattenOverrides(*nested, key, out); !s.ok()) return s;
      continue;
    }
    hw::HardwareOverride o;
    o.key = key;
    o.value = e.value;
    const std::string path = map.PathOf(e.key);
    if (const std::string* set_text = map.context().OverrideFor(path)) {
      o.file = "--set " + *set_text;
    } else {
      o.file = map.context().source();
      const YAML::Mark m = e.value.Mark();
      if (!m.is_null()) {
        o.line = m.line + 1;
        o.column = m.column + 1;
      }
    }
    out->push_back(std::move(o));
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> TopLevelKeys() {
  // sweep: scenarios/sweep.h; workload (instead of model/training/plan): docs/chakra.md
  return {"name", "model", "cluster", "training", "plan", "sweep", "workload", "network"};
}

Status ReadModel(const MapReader& top, ops::ModelConfig* model) {
  if (Status s = top.Require("model"); !s.ok()) return s;
  Result<MapReader> r = top.Child(
      "model", {"preset", "layers", "hidden", "heads", "kv_heads", "ffn_hidden", "activation",
                "norm", "vocab", "seq_len", "bias", "tied_embeddings", "learned_positions", "moe"});
  if (!r.ok()) return r.error();
  const MapReader& m = *r;

  ops::ModelConfig config;
  if (const MapReader::Entry* preset = m.Find("preset")) {
    std::string name;
    if (Status s = m.ReadString("preset", &name); !s.ok()) return s;
    std::optional<ops::ModelConfig> found = ops::FindPreset(name);
    if (!found) {
      const std::vector<std::string> names = ops::PresetNames();
      std::string message = "unknown preset '" + name + "'; valid presets: " + JoinNames(names);
      const std::string guess = ClosestMatch(name, names);
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      return m.ValueError(*preset, message);
    }
    config = *found;
    config.preset = name;
  } else {
    for (const char* key : {"layers", "hidden", "heads", "vocab", "seq_len"}) {
      if (Status s = m.Require(key, kNeedsDims); !s.ok()) return s;
    }
  }

  std::string activation(ops::ActivationName(config.activation));
  std::string norm(ops::NormName(config.norm));
  const std::vector<std::string> activations = {
      std::string(ops::ActivationName(ops::Activation::kGelu)),
      std::string(ops::ActivationName(ops::Activation::kSwiglu))};
  const std::vector<std::string> norms = {std::string(ops::NormName(ops::Norm::kLayerNorm)),
                                          std::string(ops::NormName(ops::Norm::kRmsNorm))};
  if (Status s = FirstError({
          m.ReadPositiveInt("layers", &config.layers),
          m.ReadPositiveInt("hidden", &config.hidden),
          m.ReadPositiveInt("heads", &config.heads),
          m.ReadPositiveInt("kv_heads", &config.kv_heads),
          m.ReadPositiveInt("ffn_hidden", &config.ffn_hidden),
          m.ReadChoice("activation", activations, &activation),
          m.ReadChoice("norm", norms, &norm),
          m.ReadPositiveInt("vocab", &config.vocab),
          m.ReadPositiveInt("seq_len", &config.seq_len),
          m.ReadBool("bias", &config.bias),
          m.ReadBool("tied_embeddings", &config.tied_embeddings),
          m.ReadBool("learned_positions", &config.learned_positions),
      });
      !s.ok()) {
    return s;
  }
  const std::optional<ops::Activation> parsed_activation = ops::ParseActivation(activation);
  const std::optional<ops::Norm> parsed_norm = ops::ParseNorm(norm);
  FS_CHECK(parsed_activation && parsed_norm, "ActivationName/NormName must round-trip");
  config.activation = *parsed_activation;
  config.norm = *parsed_norm;
  // moe: {experts, top_k, capacity_factor, expert_ffn_hidden, shared_experts,
  // first_dense_layers, load_imbalance} (ops::MoeConfig); on top of a preset's, if any.
  if (m.Has("moe")) {
    Result<MapReader> moe =
        m.Child("moe", {"experts", "top_k", "capacity_factor", "expert_ffn_hidden",
                        "shared_experts", "first_dense_layers", "load_imbalance"});
    if (!moe.ok()) return moe.error();
    ops::MoeConfig& c = config.moe;
    if (Status s = FirstError({
            moe->ReadPositiveInt("experts", &c.experts),
            moe->ReadPositiveInt("top_k", &c.top_k),
            moe->ReadPositiveDouble("capacity_factor", &c.capacity_factor),
            moe->ReadPositiveInt("expert_ffn_hidden", &c.expert_ffn_hidden),
            moe->ReadPositiveInt("shared_experts", &c.shared_experts),
            moe->ReadPositiveInt("first_dense_layers", &c.first_dense_layers),
            moe->ReadPositiveDouble("load_imbalance", &c.load_imbalance),
        });
        !s.ok()) {
      return s;
    }
    if (c.experts == 0) return moe->Require("experts");
    if (c.top_k == 0) return moe->Require("top_k");
    if (c.expert_ffn_hidden == 0) c.expert_ffn_hidden = config.ffn_hidden;
  }
  if (config.preset.empty()) {
    if (!m.Has("kv_heads")) config.kv_heads = config.heads;
    if (!m.Has("ffn_hidden")) config.ffn_hidden = 4 * config.hidden;
    if (config.moe.enabled() && config.moe.expert_ffn_hidden == 0) {
      config.moe.expert_ffn_hidden = config.ffn_hidden;
    }
  }
  *model = std::move(config);
  return Status::Ok();
}

Status ReadCluster(const MapReader& top, plan::ClusterConfig* cluster,
                   std::vector<hw::HardwareOverride>* overrides) {
  if (Status s = top.Require("cluster"); !s.ok()) return s;
  Result<MapReader> r = top.Child("cluster", {"hardware", "nodes", "gpus_per_node", "overrides",
                                              "price_per_gpu_hour", "candidates"});
  if (!r.ok()) return r.error();
  const MapReader& c = *r;
  if (Status s = c.Require("hardware"); !s.ok()) return s;
  plan::ClusterConfig config;
  if (Status s = FirstError({
          c.ReadString("hardware", &config.hardware),
          c.ReadPositiveInt("nodes", &config.nodes),
          c.ReadPositiveInt("gpus_per_node", &config.gpus_per_node),
      });
      !s.ok()) {
    return s;
  }
  std::vector<hw::HardwareOverride> flat;
  Result<MapReader> o = c.ChildAnyKeys("overrides", /*null_is_empty=*/true);
  if (!o.ok()) return o.error();
  if (Status s = FlattenOverrides(*o, "", &flat); !s.ok()) return s;
  *cluster = std::move(config);
  *overrides = std::move(flat);
  return Status::Ok();
}

Status ReadTraining(const MapReader& top, plan::TrainingConfig* training) {
  if (Status s = top.Require("training"); !s.ok()) return s;
  Result<MapReader> r = top.Child("training", {"global_batch", "micro_batch", "dtype", "tokens"});
  if (!r.ok()) return r.error();
  const MapReader& t = *r;
  if (Status s = t.Require("global_batch"); !s.ok()) return s;
  plan::TrainingConfig config;
  // fp8: GEMMs in FP8 (hardware with an fp8 peak), the rest in bf16 (plan/parallel.h).
  const std::vector<std::string> dtypes = {"bf16", "fp16", "fp32", "fp8"};
  std::string dtype(DtypeName(config.dtype));
  if (Status s = FirstError({
          t.ReadPositiveInt("global_batch", &config.global_batch),
          t.ReadPositiveInt("micro_batch", &config.micro_batch),
          t.ReadChoice("dtype", dtypes, &dtype),
      });
      !s.ok()) {
    return s;
  }
  const std::optional<Dtype> parsed_dtype = ParseDtype(dtype);
  FS_CHECK(parsed_dtype.has_value(), "ParseDtype must accept " + dtype);
  config.dtype = *parsed_dtype;
  *training = config;
  return Status::Ok();
}

Status ReadPlan(const MapReader& top, plan::Plan* plan) {
  Result<MapReader> r = top.Child("plan", {"tp",
                                           "pp",
                                           "dp",
                                           "vpp",
                                           "schedule",
                                           "recompute",
                                           "flash_attention",
                                           "attention_kernel",
                                           "fusion",
                                           "overlap",
                                           "grad_bucket_bytes",
                                           "recompute_layers",
                                           "zero",
                                           "offload",
                                           "layers_per_stage",
                                           "first_stage_layers",
                                           "last_stage_layers",
                                           "sequence_parallel",
                                           "cp",
                                           "cp_comm",
                                           "ep"});
  if (!r.ok()) return r.error();
  const MapReader& p = *r;
  plan::Plan config;
  std::string schedule(plan::ScheduleName(config.schedule));
  std::string recompute(plan::RecomputeName(config.recompute));
  const std::vector<plan::Schedule> schedule_values = {
      plan::Schedule::kGpipe, plan::Schedule::k1F1B, plan::Schedule::kInterleaved1F1B,
      plan::Schedule::kZbH1};
  std::vector<std::string> schedules;
  for (plan::Schedule v : schedule_values) schedules.emplace_back(plan::ScheduleName(v));
  const std::vector<std::string> recomputes = {
      std::string(plan::RecomputeName(plan::Recompute::kNone)),
      std::string(plan::RecomputeName(plan::Recompute::kSelective)),
      std::string(plan::RecomputeName(plan::Recompute::kFull))};
  std::string zero = "0";
  if (Status s = FirstError({
          p.ReadPositiveInt("tp", &config.tp),
          p.ReadPositiveInt("pp", &config.pp),
          p.ReadPositiveInt("dp", &config.dp),
          p.ReadPositiveInt("vpp", &config.vpp),
          p.ReadChoice("schedule", schedules, &schedule),
          p.ReadChoice("recompute", recomputes, &recompute),
          p.ReadBool("flash_attention", &config.flash_attention),
          p.ReadString("attention_kernel", &config.attention_kernel),
          p.ReadPositiveDouble("grad_bucket_bytes", &config.grad_bucket_bytes),
          p.ReadPositiveInt("recompute_layers", &config.recompute_layers),
          p.ReadChoice("zero", {"0", "1", "2", "3"}, &zero),
          p.ReadPositiveInt("first_stage_layers", &config.first_stage_layers),
          p.ReadPositiveInt("last_stage_layers", &config.last_stage_layers),
      });
      !s.ok()) {
    return s;
  }
  for (std::size_t i = 0; i < schedules.size(); ++i) {
    if (schedule == schedules[i]) config.schedule = schedule_values[i];
  }
  // layers_per_stage: a list of positive integers (plan validation checks length and sum).
  if (const MapReader::Entry* e = p.Find("layers_per_stage")) {
    const std::string expected = "expected a list of positive integers, one per pipeline stage";
    if (!e->value.IsSequence() || e->value.size() == 0) {
      return p.ValueError(*e, expected + ", found " + Describe(e->value));
    }
    for (const YAML::Node& item : e->value) {
      std::int64_t v = 0;
      const std::string text = item.IsScalar() ? item.Scalar() : std::string();
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (!item.IsScalar() || item.Tag() == "!" || ec != std::errc() ||
          ptr != text.data() + text.size() || v <= 0) {
        return p.ValueError(*e, expected + "; entry " +
                                    std::to_string(config.layers_per_stage.size()) + " is " +
                                    Describe(item));
      }
      config.layers_per_stage.push_back(v);
    }
  }
  config.recompute = recompute == recomputes[0]   ? plan::Recompute::kNone
                     : recompute == recomputes[1] ? plan::Recompute::kSelective
                                                  : plan::Recompute::kFull;
  config.zero = std::stoll(zero);

  // fusion: a preset name, or a mapping of rule -> bool on top of "default".
  bool ok = false;
  config.fusion_preset = "default";
  config.fusion = ops::FusionPreset(config.fusion_preset, &ok);
  FS_CHECK(ok, "FusionPreset(\"default\") must exist");
  if (const MapReader::Entry* e = p.Find("fusion")) {
    if (e->value.IsMap()) {
      Result<MapReader> f = p.Child("fusion", FusionRuleKeys());
      if (!f.ok()) return f.error();
      ops::FusionRules& rules = config.fusion;
      if (Status s = FirstError({
              f->ReadBool("bias_gelu", &rules.bias_gelu),
              f->ReadBool("bias_dropout_add", &rules.bias_dropout_add),
              f->ReadBool("softmax_mask", &rules.softmax_mask),
              f->ReadBool("softmax_dropout", &rules.softmax_dropout),
              f->ReadBool("norm", &rules.norm),
              f->ReadBool("norm_residual", &rules.norm_residual),
              f->ReadBool("cross_entropy", &rules.cross_entropy),
          });
          !s.ok()) {
        return s;
      }
      if (rules.norm_residual && !rules.norm) {
        // ops fuses the residual add into the norm kernel only when the norm is one kernel.
        const std::string message =
            "norm_residual needs the fused norm kernel; set norm: true or norm_residual: false";
        const MapReader::Entry* at = f->Find("norm_residual");
        if (at == nullptr) at = f->Find("norm");
        if (at == nullptr) return f->ErrorHere(f->path() + ": " + message);
        return f->ValueError(*at, message);
      }
      config.fusion_preset = "custom";
    } else if (e->value.IsScalar()) {
      if (Status s = p.ReadChoice("fusion", {"none", "default", "max"}, &config.fusion_preset);
          !s.ok()) {
        return s;
      }
      config.fusion = ops::FusionPreset(config.fusion_preset, &ok);
      FS_CHECK(ok, "FusionPreset(\"" + config.fusion_preset + "\") must exist");
    } else {
      return p.ValueError(*e, "expected none, default, max or a mapping of rule -> true/false (" +
                                  JoinNames(FusionRuleKeys()) + "), found " + Describe(e->value));
    }
  }

  Result<MapReader> overlap = p.Child("overlap", {"grad_reduce", "param_gather", "tp_comm", "p2p"});
  if (!overlap.ok()) return overlap.error();
  if (Status s = FirstError({
          overlap->ReadBool("grad_reduce", &config.overlap.grad_reduce),
          overlap->ReadBool("param_gather", &config.overlap.param_gather),
          overlap->ReadBool("tp_comm", &config.overlap.tp_comm),
          overlap->ReadBool("p2p", &config.overlap.p2p),
      });
      !s.ok()) {
    return s;
  }
  // offload: {optimizer, activations, params}: none | cpu (plan/plan.h Offload).
  Result<MapReader> offload = p.Child("offload", {"optimizer", "activations", "params"});
  if (!offload.ok()) return offload.error();
  std::string offload_optimizer = "none", offload_activations = "none", offload_params = "none";
  if (Status s = FirstError({
          offload->ReadChoice("optimizer", {"none", "cpu"}, &offload_optimizer),
          offload->ReadChoice("activations", {"none", "cpu"}, &offload_activations),
          offload->ReadChoice("params", {"none", "cpu"}, &offload_params),
      });
      !s.ok()) {
    return s;
  }
  config.offload.optimizer = offload_optimizer == "cpu";
  config.offload.activations = offload_activations == "cpu";
  config.offload.params = offload_params == "cpu";
  // Sequence, context and expert parallelism (plan/parallel.h).
  std::string cp_comm = "ring";
  if (Status s = FirstError({
          p.ReadBool("sequence_parallel", &config.sequence_parallel),
          p.ReadPositiveInt("cp", &config.cp),
          p.ReadChoice("cp_comm", {"ring", "allgather"}, &cp_comm),
          p.ReadPositiveInt("ep", &config.ep),
      });
      !s.ok()) {
    return s;
  }
  config.cp_comm = cp_comm == "ring" ? ops::CpComm::kRing : ops::CpComm::kAllGather;
  *plan = std::move(config);
  return Status::Ok();
}

}  // namespace foresight::scenarios::internal
