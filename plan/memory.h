// The memory model of a plan: model-state bytes per rank under ZeRO and offload, activation
// bytes a micro-batch keeps per layer under each recompute mode, host (CPU) transfer and Adam
// costs, and the checks that a plan's offload needs from the hardware profile. The simulated
// timeline (plan/compile.h) allocates and frees these bytes; docs/memory.md derives them.
//
// Model states, mixed-precision Adam (Rajbhandari et al. 2020, "ZeRO", Sec. 3.1; Megatron-LM's
// distributed optimizer for stage 1), per parameter held by a rank, e = BytesOf(dtype) (2 for
// bf16/fp16), k = 12 (fp32 master, m, v; 8 with fp32 training, no master copy), d = dp:
//   zero 0:  e + e + k          (16 bytes for bf16)
//   zero 1:  e + e + k/d
//   zero 2:  e + (e + k)/d
//   zero 3:  (e + e + k)/d      (plus the gathered layers in flight, tracked by the timeline)
// FP8 training (Transformer Engine): e = 4 for weights (bf16 weight + the cached fp8 weight and
// its transpose) and 2 for gradients (bf16); k = 12.
// offload.optimizer moves the k part to the host, which also keeps an fp32 copy of the gradient
// shard for the CPU Adam (4 bytes); offload.params (zero 3 only) moves the weight shard (e) to
// the host. All functions are O(1).
#pragma once

#include <string>
#include <vector>

#include "base/dtype.h"
#include "models/hw/hardware.h"
#include "models/ops/layer_builder.h"
#include "plan/plan.h"

namespace foresight::plan {

// Bytes per rank resident for the whole step.
struct ModelStates {
  double weights = 0;  // device
  double gradients = 0;
  double optimizer = 0;
  double host_weights = 0;  // host (offload)
  double host_gradients = 0;
  double host_optimizer = 0;
};

// Optimizer-state bytes per parameter: 12 (fp32 master, m, v) or 8 for fp32 training.
double OptimizerBytesPerParam(Dtype dtype);

// Model states of a rank that holds `params_per_rank` parameters (its TP shard of its stage),
// by the table above. plan.dp must be resolved.
ModelStates ComputeModelStates(double params_per_rank, Dtype dtype, const Plan& plan);

// Parameters of one layer that tensor parallelism does not split: norm weights (and biases)
// and the biases of the row-parallel projections (added after the all-reduce).
double ReplicatedLayerParams(const ops::ModelConfig& m);

// Bytes one micro-batch keeps for the backward from one transformer layer:
//   kNone       layer.saved_activation_bytes
//   kSelective  layer.saved_activation_bytes - layer.attention_core_saved_bytes
//   kFull       layer_input_bytes (the layer's input, 2*s*b*h for 16-bit activations)
double LayerKeptBytes(const ops::LayerOps& layer, Recompute mode, double layer_input_bytes);

// Seconds for one host<->device copy of `bytes` over the GPU's PCIe link (one direction; the
// two directions are independent): latency + bytes / (bandwidth * efficiency).
double PcieCopySeconds(const hw::HardwareProfile& hw, double bytes);

// Seconds for the CPU Adam step over `params` parameters of one rank, all gpus_per_node ranks
// of the node stepping at once on the shared host: params * gpus_per_node / rate, rate =
// host.adam_params_per_s, or host.memory_bandwidth_bytes_per_s / 30 when that is 0 (see
// hw::HostSpec). Requires one of them > 0 (ValidateForHardware).
double HostAdamSeconds(const hw::HardwareProfile& hw, double params, std::int64_t gpus_per_node);

// What an offload plan needs from the profile: host.memory_bytes > 0 for any offload, and
// host.adam_params_per_s or host.memory_bandwidth_bytes_per_s > 0 for offload.optimizer.
// Errors name the plan key and the profile keys to set.
std::vector<PlanError> ValidateForHardware(const Plan& plan, const hw::HardwareProfile& hw);

}  // namespace foresight::plan
