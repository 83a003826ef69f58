// HardwareProfile: everything the cost models know about one kind of node and its fabric.
//
// Loaded from YAML: a catalog entry compiled into the binary (models/hw/catalog/*.yaml, every
// number cited there) or a user's profile file with the same schema (what `foresight calibrate
// fit` writes). Units are SI and explicit in the key names: bytes, bytes_per_s, flops_per_s,
// seconds. Efficiency parameters are the knobs calibration replaces; the catalog documents
// where each default comes from.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/dtype.h"
#include "base/status.h"

namespace foresight::hw {

// GEMM efficiency model (fraction of peak reached by a GEMM of shape m x n x k, batch):
//   eff = ceiling(dtype) * wave_efficiency * k / (k + k_half)
//   ceiling(dtype) = fp8_max_efficiency for fp8 when set (> 0), else max_efficiency
//   wave_efficiency = tiles / (ceil(tiles / sm_count) * sm_count),
//   tiles = batch * ceil(m / tile_m) * ceil(n / tile_n)
struct GemmEfficiency {
  double max_efficiency = 0.8;
  std::int64_t tile_m = 128;
  std::int64_t tile_n = 128;
  double k_half = 0.0;  // 0 disables the k term
  // Best fraction of the fp8 peak an fp8 GEMM reaches; fp8 matmuls sit further below their
  // peak than 16-bit ones (H100: 70.9% against 80.3%, HARDWARE.md). 0: max_efficiency.
  double fp8_max_efficiency = 0.0;
};

// Memory-bound kernels: achieved bandwidth = hbm_bandwidth * max_efficiency * B / (B + bytes_half)
struct MemoryEfficiency {
  double max_efficiency = 0.9;
  double bytes_half = 0.0;  // 0 disables the size term
};

// Compute-communication interference on one GPU (sim::EngineOptions): while a communication
// (NCCL) kernel and a compute kernel run at the same time, each takes longer, the compute one by
// compute_slowdown (0.1 = 10% more time) and the communication one by comm_slowdown: they share
// SMs and HBM bandwidth. 0 = none (the default; no published measurement pins a value, so the
// catalog keeps 0 until `foresight calibrate` or a what-if sets it).
struct Interference {
  double compute_slowdown = 0;
  double comm_slowdown = 0;
};

struct GpuSpec {
  std::string name;
  double peak_flops_per_s_fp32 = 0;
  double peak_flops_per_s_tf32 = 0;
  double peak_flops_per_s_bf16 = 0;
  double peak_flops_per_s_fp16 = 0;
  double peak_flops_per_s_fp8 = 0;  // 0: not supported
  std::int64_t memory_bytes = 0;
  double hbm_bandwidth_bytes_per_s = 0;
  std::int32_t sm_count = 0;
  double kernel_launch_seconds = 0;  // fixed overhead per kernel
  GemmEfficiency gemm;
  // Fraction of peak reached by fused (flash) attention kernels: the default kernel's, used
  // unless the plan names one (plan.attention_kernel).
  double attention_efficiency = 0.6;
  // Named fused-attention implementations and their fraction of peak (gpu.attention_kernels,
  // e.g. flash2, flash3, triton_flash); the catalog cites each value. Ordered by name.
  std::map<std::string, double> attention_kernels;
  MemoryEfficiency memory;
  Interference interference;

  // Peak dense FLOP/s for a compute dtype; 0 when the GPU lacks it.
  double PeakFlopsPerS(Dtype dtype) const;
};

// A link class: per-GPU, one direction.
struct LinkSpec {
  double bandwidth_bytes_per_s = 0;  // line rate, one direction
  double efficiency = 1.0;           // achievable fraction for collectives (bus bandwidth / line)
  double latency_seconds = 0;        // per step (alpha) of a ring/tree algorithm
  double EffectiveBytesPerS() const { return bandwidth_bytes_per_s * efficiency; }
};

struct NodeSpec {
  std::int32_t gpus_per_node = 8;
  LinkSpec scale_up;  // NVLink / NVSwitch, per GPU
  LinkSpec pcie;      // host <-> device, per GPU
};

struct NetworkSpec {
  LinkSpec nic;  // scale-out bandwidth available to one GPU (its share of the node's NICs)
  std::int32_t nics_per_node = 8;
};

// The scale-out fabric and node-internal switching, for the topology graph (models/hw/
// topology.h) and the collective algorithms (models/hw/algorithms.h). Every key is optional;
// the defaults describe a non-blocking two-tier rail-optimized fat tree (the DGX SuperPOD
// reference design), so profiles written before this section existed keep loading unchanged.
//   topology          "rail_optimized": NIC k of every node goes to a leaf of rail k;
//                     "fat_tree": all NICs of a node go to the same leaf.
//   tiers             2 (leaf, spine) or 3 (leaf, spine, core).
//   nodes_per_leaf    nodes whose NICs (of one rail when rail-optimized) share a leaf switch.
//   leaves_per_pod    3 tiers: leaves under one spine group (a pod); ignored for 2 tiers.
//   oversubscription  leaf downlink : uplink bandwidth (>= 1; 1 = non-blocking); with 3 tiers
//                     the spine : core ratio as well.
//   gpus_per_nic      GPUs sharing one NIC; 0 = gpus_per_node / nics_per_node. network.nic
//                     stays one GPU's share, so a NIC's line rate is gpus_per_nic times it.
//   switch_latency_seconds  added to a flow's start for each switch it crosses (flow model).
//   nvls              the NVSwitches can reduce in the switch (NVLink SHARP, H100 class).
//   nvls_efficiency   NVLS all-reduce: each GPU sends and receives S once at
//                     node.scale_up.bandwidth_bytes_per_s * nvls_efficiency (the switch's
//                     reduction throughput, not the link, limits it).
//   ring_ramp_bytes_per_rank  bytes per rank from which a ring collective runs at full busbw
//                     (the ramp of models/hw/algorithms.h; 0 = not modelled, the default). Fitted
//                     by the collective fit (calibrate/validate_collectives.h).
//   tree_pipeline_bytes  bytes per rank that one stage of a pipelined tree (tree, NVLS-tree
//                     across nodes) holds: the pipeline fill of models/hw/algorithms.h ("Tree
//                     pipeline fill"; 0 = not modelled, the default). Fitted by the collective fit.
//   p2p_channel_bytes_per_s  throughput of one NCCL p2p channel over the network: send/recv
//                     between nodes runs on P2pNetChannelsPerPeer channels (models/hw/
//                     algorithms.h); 0 = not modelled (the NIC alone limits it), the default.
//                     Fitted by the collective fit.
//   p2p_nvlink_channel_bytes_per_s  the same for send/recv inside a node (NVLink p2p channels,
//                     P2pChannelsForSend); 0 = not modelled, the default.
//   collective_launch_seconds  added once to every collective's price on top of NCCL's base
//                     latency (models/hw/algorithms.h "Launch"); 0 = the default. Fitted by the
//                     collective fit.
struct FabricSpec {
  std::string topology = "rail_optimized";
  std::int32_t tiers = 2;
  std::int32_t nodes_per_leaf = 32;
  std::int32_t leaves_per_pod = 8;
  double oversubscription = 1.0;
  std::int32_t gpus_per_nic = 0;
  double switch_latency_seconds = 0;
  bool nvls = false;
  double nvls_efficiency = 0.6;
  double ring_ramp_bytes_per_rank = 0;
  double tree_pipeline_bytes = 0;
  double p2p_channel_bytes_per_s = 0;
  double p2p_nvlink_channel_bytes_per_s = 0;
  double collective_launch_seconds = 0;
};

// The host (CPU side) of one node, shared by its gpus_per_node GPUs. Used by the offload plans
// (plan/offload.cc): host memory holds offloaded optimizer states, parameters and activations;
// the host Adam step runs at adam_params_per_s, or, when that is 0 (not yet calibrated), is
// taken as memory bound: 30 bytes per parameter (fp32 main grad 4 + master/m/v 12 read and 12
// written + bf16 weight 2, as plan's GPU Adam) at memory_bandwidth_bytes_per_s. Both figures
// are for the whole node. Calibration (calibrate/, CPU microkernels) fills adam_params_per_s
// and memory_bandwidth_bytes_per_s with measured values; the catalog holds cited peaks.
// kernel_dispatch_seconds: host (CPU) time to issue one kernel -- framework dispatch plus the
// CUDA launch call -- per issuing process. Kernels are issued asynchronously, so this overlaps
// GPU execution: within a pass the GPU waits only when it has drained the queue faster than
// the host fills it (plan::ApplyHostDispatch). 0 = never host-bound (the catalog default:
// it depends on the framework, not the node, and is fitted from measured steps).
struct HostSpec {
  std::int64_t memory_bytes = 0;
  std::int32_t cores = 0;
  double memory_bandwidth_bytes_per_s = 0;  // 0 = unknown
  double adam_params_per_s = 0;             // 0 = derive from memory bandwidth (see above)
  double kernel_dispatch_seconds = 0;       // per kernel, per process; 0 = not host-bound
};

// Device memory not available to the model: CUDA context, library workspaces, allocator
// fragmentation. reserved_bytes is subtracted from capacity; fragmentation_fraction inflates
// the allocated bytes.
struct MemoryOverheads {
  std::int64_t reserved_bytes = 0;
  double fragmentation_fraction = 0.0;
};

struct HardwareProfile {
  std::string name;
  std::string description;
  std::string source_file;  // the YAML the profile was read from ("<catalog>/NAME.yaml")
  GpuSpec gpu;
  NodeSpec node;
  NetworkSpec network;
  FabricSpec fabric;
  HostSpec host;
  MemoryOverheads memory;
  double price_per_gpu_hour = 0;  // USD; 0 = unknown
};

// One override: dotted key path into the profile YAML (e.g. "gpu.memory_bytes") and a value.
struct HardwareOverride {
  std::string key;
  YAML::Node value;
  // Where the override was written, for error messages (may be empty).
  std::string file;
  int line = 0;
  int column = 0;
};

// Profile YAML schema: one key per field above ("?" = optional; an absent key keeps the
// default written in the struct):
//   name, description?
//   gpu: {name, peak_flops_per_s: {fp32, tf32, bf16, fp16, fp8?}, memory_bytes,
//         hbm_bandwidth_bytes_per_s, sm_count, kernel_launch_seconds?,
//         gemm?: {max_efficiency?, tile_m?, tile_n?, k_half?, fp8_max_efficiency?},
//         attention_efficiency?, attention_kernels?: {NAME: fraction, ...},
//         memory?: {max_efficiency?, bytes_half?},
//         interference?: {compute_slowdown? (>= 0), comm_slowdown? (>= 0)}}
//   node: {gpus_per_node, scale_up: LINK, pcie: LINK}
//   network: {nics_per_node, nic: LINK}
//   fabric?: {topology? (rail_optimized | fat_tree), tiers? (2 | 3), nodes_per_leaf?,
//             leaves_per_pod?, oversubscription? (>= 1), gpus_per_nic? (0 = derived; must
//             divide gpus_per_node), switch_latency_seconds?, nvls? (true | false),
//             nvls_efficiency? (0, 1]}
//   host?: {memory_bytes?, cores?, memory_bandwidth_bytes_per_s?, adam_params_per_s?,
//           kernel_dispatch_seconds?}
//                                                         (0 = unknown)
//   memory?: {reserved_bytes?, fragmentation_fraction?}
//   price_per_gpu_hour?
//   LINK = {bandwidth_bytes_per_s, efficiency?, latency_seconds?}
// Ranges: peaks, bandwidths and memory_bytes > 0 (fp8 >= 0, 0 = unsupported); efficiencies in
// (0, 1]; sm_count, gpus_per_node, nics_per_node, tile_m, tile_n >= 1; latencies, k_half,
// bytes_half, host figures, reserved_bytes and price >= 0; fragmentation_fraction in [0, 1);
// reserved_bytes < gpu.memory_bytes. Integer keys accept exact floating literals (80e9).
// Unknown keys (the error lists the valid keys at that level), duplicate keys, wrong types
// (a quoted "1e12" is a string) and missing required keys are errors at file:line:column.
//
// Overrides replace the YAML node at their dotted path (creating missing sections) before the
// profile is read, so any key can be overridden. A path the schema lacks, or a value of the
// wrong type or range, is reported at the override's own file:line:column.

// Names of the catalog entries compiled into the binary ("dgx-a100-80gb", ...), sorted.
std::vector<std::string> CatalogNames();

// Loads a catalog entry by name, or a profile YAML by path (anything containing '/' or ending
// in .yaml/.yml is a path). Applies the overrides in order (an unknown key path is an error
// naming the valid keys), then validates (positive bandwidths, efficiencies in (0, 1], ...).
// Errors name the file, line and column.
Result<HardwareProfile> LoadHardware(const std::string& name_or_path,
                                     const std::vector<HardwareOverride>& overrides = {});

// Parses a profile from YAML text; `source` names it in errors.
Result<HardwareProfile> ParseHardware(const std::string& yaml_text, const std::string& source,
                                      const std::vector<HardwareOverride>& overrides = {});

}  // namespace foresight::hw
