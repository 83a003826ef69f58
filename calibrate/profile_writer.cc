#include "calibrate/profile_writer.h"

#include <sstream>
#include <string_view>

#include "calibrate/fit_report.h"

namespace foresight::calibrate {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

class Writer {
 public:
  explicit Writer(const ProfileComments& comments) : comments_(comments) {}

  void Section(const std::string& key, int indent) {
    Comment(key, indent);
    out_ << std::string(static_cast<std::size_t>(indent), ' ') << Last(key) << ":\n";
  }
  void Value(const std::string& key, int indent, const std::string& text) {
    Comment(key, indent);
    out_ << std::string(static_cast<std::size_t>(indent), ' ') << Last(key) << ": " << text << "\n";
  }
  void Number(const std::string& key, int indent, double v) { Value(key, indent, FormatDouble(v)); }
  void Integer(const std::string& key, int indent, std::int64_t v) {
    Value(key, indent, std::to_string(v));
  }
  void Link(const std::string& key, int indent, const hw::LinkSpec& link) {
    Section(key, indent);
    Number(key + ".bandwidth_bytes_per_s", indent + 2, link.bandwidth_bytes_per_s);
    Number(key + ".efficiency", indent + 2, link.efficiency);
    Number(key + ".latency_seconds", indent + 2, link.latency_seconds);
  }
  std::ostringstream& out() { return out_; }

 private:
  static std::string Last(const std::string& key) {
    const std::size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
  }
  void Comment(const std::string& key, int indent) {
    const auto it = comments_.by_key.find(key);
    if (it == comments_.by_key.end()) return;
    std::istringstream lines(it->second);
    std::string line;
    while (std::getline(lines, line)) {
      out_ << std::string(static_cast<std::size_t>(indent), ' ') << "# " << line << "\n";
    }
  }
  const ProfileComments& comments_;
  std::ostringstream out_;
};

}  // namespace

std::string WriteProfileYaml(const hw::HardwareProfile& p, const ProfileComments& comments) {
  Writer w(comments);
  for (const std::string& line : comments.header) w.out() << "# " << line << "\n";
  w.Value("name", 0, Quote(p.name));
  w.Value("description", 0, Quote(p.description));
  const hw::GpuSpec& g = p.gpu;
  w.Section("gpu", 0);
  w.Value("gpu.name", 2, Quote(g.name));
  w.Section("gpu.peak_flops_per_s", 2);
  w.Number("gpu.peak_flops_per_s.fp32", 4, g.peak_flops_per_s_fp32);
  w.Number("gpu.peak_flops_per_s.tf32", 4, g.peak_flops_per_s_tf32);
  w.Number("gpu.peak_flops_per_s.bf16", 4, g.peak_flops_per_s_bf16);
  w.Number("gpu.peak_flops_per_s.fp16", 4, g.peak_flops_per_s_fp16);
  w.Number("gpu.peak_flops_per_s.fp8", 4, g.peak_flops_per_s_fp8);
  w.Integer("gpu.memory_bytes", 2, g.memory_bytes);
  w.Number("gpu.hbm_bandwidth_bytes_per_s", 2, g.hbm_bandwidth_bytes_per_s);
  w.Integer("gpu.sm_count", 2, g.sm_count);
  w.Number("gpu.kernel_launch_seconds", 2, g.kernel_launch_seconds);
  w.Section("gpu.gemm", 2);
  w.Number("gpu.gemm.max_efficiency", 4, g.gemm.max_efficiency);
  w.Integer("gpu.gemm.tile_m", 4, g.gemm.tile_m);
  w.Integer("gpu.gemm.tile_n", 4, g.gemm.tile_n);
  w.Number("gpu.gemm.k_half", 4, g.gemm.k_half);
  if (g.gemm.fp8_max_efficiency > 0) {
    w.Number("gpu.gemm.fp8_max_efficiency", 4, g.gemm.fp8_max_efficiency);
  }
  w.Number("gpu.attention_efficiency", 2, g.attention_efficiency);
  if (!g.attention_kernels.empty()) {
    w.Section("gpu.attention_kernels", 2);
    for (const auto& [name, efficiency] : g.attention_kernels) {
      w.Number("gpu.attention_kernels." + name, 4, efficiency);
    }
  }
  w.Section("gpu.memory", 2);
  w.Number("gpu.memory.max_efficiency", 4, g.memory.max_efficiency);
  w.Number("gpu.memory.bytes_half", 4, g.memory.bytes_half);
  if (g.interference.compute_slowdown > 0 || g.interference.comm_slowdown > 0) {
    w.Section("gpu.interference", 2);
    w.Number("gpu.interference.compute_slowdown", 4, g.interference.compute_slowdown);
    w.Number("gpu.interference.comm_slowdown", 4, g.interference.comm_slowdown);
  }
  w.Section("node", 0);
  w.Integer("node.gpus_per_node", 2, p.node.gpus_per_node);
  w.Link("node.scale_up", 2, p.node.scale_up);
  w.Link("node.pcie", 2, p.node.pcie);
  w.Section("network", 0);
  w.Integer("network.nics_per_node", 2, p.network.nics_per_node);
  w.Link("network.nic", 2, p.network.nic);
  w.Section("fabric", 0);
  w.Value("fabric.topology", 2, p.fabric.topology);
  w.Integer("fabric.tiers", 2, p.fabric.tiers);
  w.Integer("fabric.nodes_per_leaf", 2, p.fabric.nodes_per_leaf);
  w.Integer("fabric.leaves_per_pod", 2, p.fabric.leaves_per_pod);
  w.Number("fabric.oversubscription", 2, p.fabric.oversubscription);
  w.Integer("fabric.gpus_per_nic", 2, p.fabric.gpus_per_nic);
  w.Number("fabric.switch_latency_seconds", 2, p.fabric.switch_latency_seconds);
  w.Value("fabric.nvls", 2, p.fabric.nvls ? "true" : "false");
  w.Number("fabric.nvls_efficiency", 2, p.fabric.nvls_efficiency);
  w.Section("host", 0);
  w.Integer("host.memory_bytes", 2, p.host.memory_bytes);
  w.Integer("host.cores", 2, p.host.cores);
  w.Number("host.memory_bandwidth_bytes_per_s", 2, p.host.memory_bandwidth_bytes_per_s);
  w.Number("host.adam_params_per_s", 2, p.host.adam_params_per_s);
  w.Number("host.kernel_dispatch_seconds", 2, p.host.kernel_dispatch_seconds);
  w.Section("memory", 0);
  w.Integer("memory.reserved_bytes", 2, p.memory.reserved_bytes);
  w.Number("memory.fragmentation_fraction", 2, p.memory.fragmentation_fraction);
  w.Number("price_per_gpu_hour", 0, p.price_per_gpu_hour);
  return w.out().str();
}

}  // namespace foresight::calibrate
