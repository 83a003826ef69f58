#include "plan/memory.h"

#include <string>

namespace foresight::plan {
namespace {

// Bytes the CPU Adam moves per parameter (hw::HostSpec, ops::BuildAdamStep): fp32 gradient 4,
// master/m/v read 12 and written 12, low-precision weight written 2.
constexpr double kHostAdamBytesPerParam = 30.0;
constexpr double kFp32Bytes = 4.0;
// FP8 (Transformer Engine): bf16 weights (2) plus the fp8 copy of each weight and its transpose
// that TE caches across the micro-batches of a step (1 + 1); bf16 gradients (2).
constexpr double kFp8WeightBytes = 4.0;
constexpr double kFp8GradBytes = 2.0;

}  // namespace

double OptimizerBytesPerParam(Dtype dtype) { return dtype == Dtype::kFp32 ? 8.0 : 12.0; }

ModelStates ComputeModelStates(double params_per_rank, Dtype dtype, const Plan& plan) {
  const double e = dtype == Dtype::kFp8 ? kFp8WeightBytes : BytesOf(dtype);
  const double g = dtype == Dtype::kFp8 ? kFp8GradBytes : BytesOf(dtype);
  const double k = OptimizerBytesPerParam(dtype);
  const double d = static_cast<double>(plan.dp);
  const double shard = params_per_rank / d;
  ModelStates s;
  s.weights = plan.zero >= 3 ? shard * e : params_per_rank * e;
  s.gradients = plan.zero >= 2 ? shard * g : params_per_rank * g;
  const double optimizer_params = plan.zero >= 1 ? shard : params_per_rank;
  if (plan.offload.optimizer) {
    s.host_optimizer = optimizer_params * k;
    s.host_gradients = optimizer_params * kFp32Bytes;
  } else {
    s.optimizer = optimizer_params * k;
  }
  if (plan.offload.params) {
    s.host_weights = s.weights;
    s.weights = 0;
  }
  return s;
}

double LayerKeptBytes(const ops::LayerOps& layer, Recompute mode, double layer_input_bytes) {
  switch (mode) {
    case Recompute::kNone:
      return layer.saved_activation_bytes;
    case Recompute::kSelective:
      return layer.saved_activation_bytes - layer.attention_core_saved_bytes;
    case Recompute::kFull:
      return layer_input_bytes;
  }
  return layer.saved_activation_bytes;
}

double PcieCopySeconds(const hw::HardwareProfile& hw, double bytes) {
  if (bytes <= 0) return 0;
  return hw.node.pcie.latency_seconds + bytes / hw.node.pcie.EffectiveBytesPerS();
}

double HostAdamSeconds(const hw::HardwareProfile& hw, double params, std::int64_t gpus_per_node) {
  const double rate = hw.host.adam_params_per_s > 0
                          ? hw.host.adam_params_per_s
                          : hw.host.memory_bandwidth_bytes_per_s / kHostAdamBytesPerParam;
  return params * static_cast<double>(gpus_per_node) / rate;
}

std::vector<PlanError> ValidateForHardware(const Plan& plan, const hw::HardwareProfile& hw) {
  std::vector<PlanError> errors;
  const std::string profile = "hardware profile " + hw.name;
  auto need_host_memory = [&](const std::string& key, const std::string& what) {
    if (hw.host.memory_bytes > 0) return;
    errors.push_back(PlanError{
        key, "cpu " + what + " in host memory, but the " + profile +
                 " does not give host.memory_bytes (0 = unknown); set host.memory_bytes in the "
                 "profile (or cluster.overrides: {host.memory_bytes: ...}) or use " +
                 key.substr(key.rfind('.') + 1) + ": none"});
  };
  if (plan.offload.optimizer) {
    need_host_memory("plan.offload.optimizer", "keeps the optimizer states");
    if (hw.host.adam_params_per_s <= 0 && hw.host.memory_bandwidth_bytes_per_s <= 0) {
      errors.push_back(PlanError{
          "plan.offload.optimizer",
          "cpu runs Adam on the host, but the " + profile +
              " gives neither host.adam_params_per_s nor host.memory_bandwidth_bytes_per_s; "
              "set one of them"});
    }
  }
  if (plan.offload.activations) {
    need_host_memory("plan.offload.activations", "keeps the saved activations");
  }
  if (plan.offload.params) need_host_memory("plan.offload.params", "keeps the parameter shards");
  if (!plan.attention_kernel.empty()) {
    if (!plan.flash_attention) {
      errors.push_back(PlanError{"plan.attention_kernel",
                                 "names the fused-attention kernel '" + plan.attention_kernel +
                                     "', but flash_attention is false (unfused attention runs "
                                     "separate GEMM and softmax kernels); set flash_attention: "
                                     "true or remove attention_kernel"});
    } else if (hw.gpu.attention_kernels.count(plan.attention_kernel) == 0) {
      std::string known;
      for (const auto& [name, efficiency] : hw.gpu.attention_kernels) {
        known += (known.empty() ? "" : ", ") + name;
      }
      errors.push_back(
          PlanError{"plan.attention_kernel",
                    "'" + plan.attention_kernel + "' is not an attention kernel of the " + profile +
                        (known.empty() ? " (it lists none)" : "; valid: " + known) +
                        "; add gpu.attention_kernels." + plan.attention_kernel +
                        " (fraction of peak) to the profile or cluster.overrides, or remove "
                        "attention_kernel to use gpu.attention_efficiency"});
    }
  }
  return errors;
}

double ReplicatedLayerParams(const ops::ModelConfig& m) {
  const double norm = (m.norm == ops::Norm::kLayerNorm ? 2.0 : 1.0) * static_cast<double>(m.hidden);
  return 2 * norm + (m.bias ? 2.0 * static_cast<double>(m.hidden) : 0.0);
}

}  // namespace foresight::plan
