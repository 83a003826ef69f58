#include "models/hw/hardware.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/hw/internal/catalog_data.h"
#include "models/hw/internal/yaml_reader.h"

namespace foresight::hw {

using internal::kAtLeastOne;
using internal::kFraction;
using internal::kNonNegative;
using internal::kPositive;
using internal::kProperFraction;
using internal::MapReader;
using internal::Need;

double GpuSpec::PeakFlopsPerS(Dtype dtype) const {
  switch (dtype) {
    case Dtype::kFp32:
      return peak_flops_per_s_fp32;
    case Dtype::kTf32:
      return peak_flops_per_s_tf32;
    case Dtype::kBf16:
      return peak_flops_per_s_bf16;
    case Dtype::kFp16:
      return peak_flops_per_s_fp16;
    case Dtype::kFp8:
      return peak_flops_per_s_fp8;
  }
  return 0;
}

namespace {

constexpr Need kRequired = Need::kRequired;
constexpr Need kOptional = Need::kOptional;

// The schema, one function per struct of hardware.h; key order is the order of the fields.

void ReadLink(MapReader r, LinkSpec& link) {
  r.Read("bandwidth_bytes_per_s", link.bandwidth_bytes_per_s, kRequired, kPositive);
  r.Read("efficiency", link.efficiency, kOptional, kFraction);
  r.Read("latency_seconds", link.latency_seconds, kOptional, kNonNegative);
  r.Finish();
}

void ReadGpu(MapReader r, GpuSpec& gpu) {
  r.Read("name", gpu.name, kRequired);
  {
    MapReader peak = r.Section("peak_flops_per_s", kRequired);
    peak.Read("fp32", gpu.peak_flops_per_s_fp32, kRequired, kPositive);
    peak.Read("tf32", gpu.peak_flops_per_s_tf32, kRequired, kPositive);
    peak.Read("bf16", gpu.peak_flops_per_s_bf16, kRequired, kPositive);
    peak.Read("fp16", gpu.peak_flops_per_s_fp16, kRequired, kPositive);
    peak.Read("fp8", gpu.peak_flops_per_s_fp8, kOptional, kNonNegative);  // 0: unsupported
    peak.Finish();
  }
  r.Read("memory_bytes", gpu.memory_bytes, kRequired, kPositive);
  r.Read("hbm_bandwidth_bytes_per_s", gpu.hbm_bandwidth_bytes_per_s, kRequired, kPositive);
  r.Read("sm_count", gpu.sm_count, kRequired, kAtLeastOne);
  r.Read("kernel_launch_seconds", gpu.kernel_launch_seconds, kOptional, kNonNegative);
  {
    MapReader gemm = r.Section("gemm", kOptional);
    gemm.Read("max_efficiency", gpu.gemm.max_efficiency, kOptional, kFraction);
    gemm.Read("tile_m", gpu.gemm.tile_m, kOptional, kAtLeastOne);
    gemm.Read("tile_n", gpu.gemm.tile_n, kOptional, kAtLeastOne);
    gemm.Read("k_half", gpu.gemm.k_half, kOptional, kNonNegative);
    gemm.Read("fp8_max_efficiency", gpu.gemm.fp8_max_efficiency, kOptional, kFraction);
    gemm.Finish();
  }
  r.Read("attention_efficiency", gpu.attention_efficiency, kOptional, kFraction);
  {
    MapReader kernels = r.Section("attention_kernels", kOptional);
    for (const std::string& name : kernels.Keys()) {
      double efficiency = 0;
      kernels.Read(name, efficiency, kRequired, kFraction);
      gpu.attention_kernels[name] = efficiency;
    }
    kernels.Finish();
  }
  {
    MapReader memory = r.Section("memory", kOptional);
    memory.Read("max_efficiency", gpu.memory.max_efficiency, kOptional, kFraction);
    memory.Read("bytes_half", gpu.memory.bytes_half, kOptional, kNonNegative);
    memory.Finish();
  }
  {
    MapReader interference = r.Section("interference", kOptional);
    interference.Read("compute_slowdown", gpu.interference.compute_slowdown, kOptional,
                      kNonNegative);
    interference.Read("comm_slowdown", gpu.interference.comm_slowdown, kOptional, kNonNegative);
    interference.Finish();
  }
  r.Finish();
}

void ReadNode(MapReader r, NodeSpec& node) {
  r.Read("gpus_per_node", node.gpus_per_node, kRequired, kAtLeastOne);
  ReadLink(r.Section("scale_up", kRequired), node.scale_up);
  ReadLink(r.Section("pcie", kRequired), node.pcie);
  r.Finish();
}

void ReadNetwork(MapReader r, NetworkSpec& network) {
  r.Read("nics_per_node", network.nics_per_node, kRequired, kAtLeastOne);
  ReadLink(r.Section("nic", kRequired), network.nic);
  r.Finish();
}

void ReadFabric(MapReader r, FabricSpec& fabric, const NodeSpec& node) {
  r.ReadChoice("topology", fabric.topology, kOptional, {"rail_optimized", "fat_tree"});
  r.Read("tiers", fabric.tiers, kOptional, kAtLeastOne);
  if (fabric.tiers != 2 && fabric.tiers != 3) {
    r.Fail("tiers", "must be 2 (leaf, spine) or 3 (leaf, spine, core), found " +
                        std::to_string(fabric.tiers));
  }
  r.Read("nodes_per_leaf", fabric.nodes_per_leaf, kOptional, kAtLeastOne);
  r.Read("leaves_per_pod", fabric.leaves_per_pod, kOptional, kAtLeastOne);
  constexpr internal::Bounds kAtLeastOneReal{1.0, false, internal::kInf, true, ">= 1"};
  r.Read("oversubscription", fabric.oversubscription, kOptional, kAtLeastOneReal);
  r.Read("gpus_per_nic", fabric.gpus_per_nic, kOptional, kNonNegative);
  if (fabric.gpus_per_nic > 0 && node.gpus_per_node % fabric.gpus_per_nic != 0) {
    r.Fail("gpus_per_nic", "must divide node.gpus_per_node (" + std::to_string(node.gpus_per_node) +
                               "), found " + std::to_string(fabric.gpus_per_nic));
  }
  r.Read("switch_latency_seconds", fabric.switch_latency_seconds, kOptional, kNonNegative);
  r.Read("nvls", fabric.nvls, kOptional);
  r.Read("nvls_efficiency", fabric.nvls_efficiency, kOptional, kFraction);
  // Fitted by `foresight validate-collectives` (docs/network.md); 0 = not modelled.
  r.Read("ring_ramp_bytes_per_rank", fabric.ring_ramp_bytes_per_rank, kOptional, kNonNegative);
  r.Read("tree_pipeline_bytes", fabric.tree_pipeline_bytes, kOptional, kNonNegative);
  r.Read("p2p_channel_bytes_per_s", fabric.p2p_channel_bytes_per_s, kOptional, kNonNegative);
  r.Read("p2p_nvlink_channel_bytes_per_s", fabric.p2p_nvlink_channel_bytes_per_s, kOptional,
         kNonNegative);
  r.Read("collective_launch_seconds", fabric.collective_launch_seconds, kOptional, kNonNegative);
  r.Finish();
}

void ReadHost(MapReader r, HostSpec& host) {
  r.Read("memory_bytes", host.memory_bytes, kOptional, kNonNegative);  // 0: unknown
  r.Read("cores", host.cores, kOptional, kNonNegative);
  r.Read("memory_bandwidth_bytes_per_s", host.memory_bandwidth_bytes_per_s, kOptional,
         kNonNegative);
  r.Read("adam_params_per_s", host.adam_params_per_s, kOptional, kNonNegative);
  r.Read("kernel_dispatch_seconds", host.kernel_dispatch_seconds, kOptional, kNonNegative);
  r.Finish();
}

void ReadMemoryOverheads(MapReader r, MemoryOverheads& memory, std::int64_t gpu_memory_bytes) {
  r.Read("reserved_bytes", memory.reserved_bytes, kOptional, kNonNegative);
  r.Read("fragmentation_fraction", memory.fragmentation_fraction, kOptional, kProperFraction);
  if (memory.reserved_bytes >= gpu_memory_bytes && gpu_memory_bytes > 0) {
    r.Fail("reserved_bytes", "must be less than gpu.memory_bytes (" +
                                 std::to_string(gpu_memory_bytes) + "), found " +
                                 std::to_string(memory.reserved_bytes));
  }
  r.Finish();
}

void ReadProfile(MapReader r, HardwareProfile& profile) {
  r.Read("name", profile.name, kRequired);
  r.Read("description", profile.description, kOptional);
  ReadGpu(r.Section("gpu", kRequired), profile.gpu);
  ReadNode(r.Section("node", kRequired), profile.node);
  ReadNetwork(r.Section("network", kRequired), profile.network);
  ReadFabric(r.Section("fabric", kOptional), profile.fabric, profile.node);
  ReadHost(r.Section("host", kOptional), profile.host);
  ReadMemoryOverheads(r.Section("memory", kOptional), profile.memory, profile.gpu.memory_bytes);
  r.Read("price_per_gpu_hour", profile.price_per_gpu_hour, kOptional, kNonNegative);
  r.Finish();
}

// "gpu.gemm.k_half" -> {"gpu", "gemm", "k_half"}; empty when a component is empty.
std::vector<std::string> SplitKeyPath(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream in(key);
  std::string part;
  while (std::getline(in, part, '.')) {
    if (part.empty()) return {};
    parts.push_back(part);
  }
  if (key.empty() || key.back() == '.') return {};
  return parts;
}

// Writes the override into the tree, creating missing sections. Whether the path exists in the
// schema is checked when the tree is read (unknown keys are blamed on the override).
Status ApplyOverride(YAML::Node root, const HardwareOverride& override) {
  const auto fail = [&](const std::string& message) -> Status {
    return Error::At(override.file, override.line, override.column,
                     "override '" + override.key + "': " + message);
  };
  const std::vector<std::string> parts = SplitKeyPath(override.key);
  if (parts.empty()) return fail("expected a dotted key path such as gpu.memory_bytes");
  YAML::Node node = root;
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i == 0 ? "" : ".") + parts[i];
    YAML::Node child = node[parts[i]];
    if (child.IsDefined() && !child.IsNull() && !child.IsMap()) {
      return fail("'" + walked + "' is a value, not a section with keys");
    }
    node.reset(child);  // rebind, not assign (YAML::Node assignment writes through)
  }
  node[parts.back()] = YAML::Clone(override.value);
  return Status::Ok();
}

Result<HardwareProfile> ParseTree(const YAML::Node& root, const std::string& source,
                                  const std::vector<HardwareOverride>& overrides) {
  if (!root.IsDefined() || root.IsNull()) {
    return Error::At(source, 0, 0,
                     "empty hardware profile: expected a map with keys name, gpu, "
                     "node, network (see models/hw/catalog/*.yaml)");
  }
  if (!root.IsMap()) {
    const YAML::Mark mark = root.Mark();
    return Error::At(source, mark.line + 1, mark.column + 1,
                     "expected a map at top level, found " + internal::DescribeNode(root));
  }
  std::vector<internal::OverrideSite> sites;
  for (const HardwareOverride& override : overrides) {
    if (Status status = ApplyOverride(root, override); !status.ok()) return status.error();
    sites.push_back({override.key, override.file, override.line, override.column});
  }
  internal::YamlContext context(source, std::move(sites));
  HardwareProfile profile;
  ReadProfile(MapReader(context, root, "", root.Mark()), profile);
  if (context.failed()) return *context.error();
  profile.source_file = source;
  return profile;
}

bool LooksLikePath(const std::string& name_or_path) {
  const auto ends_with = [&](std::string_view suffix) {
    return name_or_path.size() >= suffix.size() &&
           name_or_path.compare(name_or_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name_or_path.find('/') != std::string::npos || ends_with(".yaml") || ends_with(".yml");
}

}  // namespace

std::vector<std::string> CatalogNames() {
  std::vector<std::string> names;
  for (const auto& [name, text] : internal::CatalogEntries()) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

Result<HardwareProfile> ParseHardware(const std::string& yaml_text, const std::string& source,
                                      const std::vector<HardwareOverride>& overrides) {
  try {
    return ParseTree(YAML::Load(yaml_text), source, overrides);
  } catch (const YAML::ParserException& e) {
    return Error::At(source, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    const bool has_mark = !e.mark.is_null();
    return Error::At(source, has_mark ? e.mark.line + 1 : 0, has_mark ? e.mark.column + 1 : 0,
                     e.msg);
  }
}

Result<HardwareProfile> LoadHardware(const std::string& name_or_path,
                                     const std::vector<HardwareOverride>& overrides) {
  if (LooksLikePath(name_or_path)) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(name_or_path, ec)) {
      return Error::At(name_or_path, 0, 0, "no such hardware profile file");
    }
    std::ifstream in(name_or_path, std::ios::binary);
    if (!in.is_open()) return Error::At(name_or_path, 0, 0, "cannot read hardware profile file");
    std::stringstream text;
    text << in.rdbuf();
    return ParseHardware(text.str(), name_or_path, overrides);
  }
  for (const auto& [name, text] : internal::CatalogEntries()) {
    if (name == name_or_path) {
      return ParseHardware(std::string(text), "<catalog>/" + name_or_path + ".yaml", overrides);
    }
  }
  std::string valid;
  for (const std::string& name : CatalogNames()) valid += (valid.empty() ? "" : ", ") + name;
  return Error{"unknown hardware '" + name_or_path + "'; catalog entries: " + valid +
                   " (or a path to a profile .yaml)",
               "", 0, 0};
}

}  // namespace foresight::hw
