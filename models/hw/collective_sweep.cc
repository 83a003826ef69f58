#include "models/hw/collective_sweep.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <utility>

namespace foresight::hw {

Result<double> ParseByteSize(std::string_view text) {
  const auto fail = [&]() -> Result<double> {
    return Error::At("", 0, 0,
                     "invalid size '" + std::string(text) +
                         "': expected bytes as a whole number, optionally with a K, M, G or T "
                         "suffix (binary: 32M = 33554432)");
  };
  if (text.empty()) return fail();
  double multiplier = 1;
  std::string digits(text);
  switch (digits.back()) {
    case 'K':
    case 'k':
      multiplier = 1024.0;
      break;
    case 'M':
    case 'm':
      multiplier = 1024.0 * 1024;
      break;
    case 'G':
    case 'g':
      multiplier = 1024.0 * 1024 * 1024;
      break;
    case 'T':
    case 't':
      multiplier = 1024.0 * 1024 * 1024 * 1024;
      break;
    default:
      break;
  }
  if (multiplier != 1) digits.pop_back();
  if (digits.empty()) return fail();
  char* end = nullptr;
  const double value = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(value) || value < 0 ||
      value != std::floor(value)) {
    return fail();
  }
  return value * multiplier;
}

Result<std::vector<SweepRow>> RunCollectiveSweep(const HardwareProfile& hw,
                                                 const SweepOptions& options) {
  const auto fail = [](const std::string& message) -> Result<std::vector<SweepRow>> {
    return Error::At("", 0, 0, message);
  };
  if (options.nodes < 1)
    return fail("--nodes must be >= 1, found " + std::to_string(options.nodes));
  const std::int32_t g = options.gpus_per_node == 0 ? hw.node.gpus_per_node : options.gpus_per_node;
  if (g < 1 || g > hw.node.gpus_per_node) {
    return fail("--gpus-per-node must be in [1, " + std::to_string(hw.node.gpus_per_node) +
                "] (the profile's node.gpus_per_node), found " + std::to_string(g));
  }
  const std::int32_t ranks = options.nodes * g;
  if (ranks < 2) return fail("a collective needs at least 2 ranks; found 1 node x 1 GPU");
  if (!(options.step_factor > 1)) {
    return fail("--stepfactor must be > 1, found " + std::to_string(options.step_factor));
  }
  if (options.min_bytes > options.max_bytes) return fail("--minbytes is larger than --maxbytes");
  if (options.min_bytes < 1) return fail("--minbytes must be >= 1 byte");

  std::vector<std::int64_t> gpus;
  for (std::int32_t k = 0; k < options.nodes; ++k) {
    for (std::int32_t j = 0; j < g; ++j)
      gpus.push_back(std::int64_t{k} * hw.node.gpus_per_node + j);
  }
  const GroupSpan span{ranks, options.nodes > 1 ? g : ranks, options.nodes};
  std::optional<Topology> topology;
  if (options.model == NetworkModel::kFlow) {
    Result<Topology> built = BuildTopology(hw, options.nodes);
    if (!built.ok()) return built.error();
    topology = std::move(*built);
  }
  const bool per_rank = options.op == NetOp::kAllGather || options.op == NetOp::kReduceScatter ||
                        options.op == NetOp::kAllToAll;
  const double unit = per_rank ? 4.0 * ranks : 4.0;
  std::vector<SweepRow> rows;
  for (double size = options.min_bytes; size <= options.max_bytes; size *= options.step_factor) {
    SweepRow row;
    row.bytes = std::floor(std::floor(size) / unit) * unit;
    row.count = static_cast<std::int64_t>(row.bytes / 4.0 / (per_rank ? ranks : 1));
    Result<Pricing> pricing =
        options.model == NetworkModel::kFlow
            ? FlowCollective(hw, *topology, options.op, row.bytes, {gpus}, options.algorithm)
            : PriceCollective(hw, options.op, row.bytes, span, options.algorithm);
    if (!pricing.ok()) return pricing.error();
    row.pricing = *pricing;
    if (row.seconds() > 0) {
      row.algbw_bytes_per_s = row.bytes / row.seconds();
      row.busbw_bytes_per_s = row.algbw_bytes_per_s * BusBandwidthFactor(options.op, ranks);
    }
    rows.push_back(row);
    if (options.step_factor * size == size) break;
  }
  return rows;
}

namespace {

// nccl-tests prints times with 2, 1 or 0 decimals to keep 7 columns.
std::string FormatTime(double us) {
  char buffer[32];
  if (us < 1e4) {
    std::snprintf(buffer, sizeof buffer, "%7.2f", us);
  } else if (us < 1e5) {
    std::snprintf(buffer, sizeof buffer, "%7.1f", us);
  } else {
    std::snprintf(buffer, sizeof buffer, "%7.0f", us);
  }
  return buffer;
}

}  // namespace

std::string RenderNcclTestsTable(const std::vector<SweepRow>& rows, const SweepOptions& options,
                                 const std::string& title) {
  std::ostringstream out;
  const bool reduces = options.op == NetOp::kAllReduce || options.op == NetOp::kReduceScatter ||
                       options.op == NetOp::kReduce;
  out << "# " << title << "\n#\n";
  out << "#                                                              out-of-place\n";
  out << "#       size         count      type   redop    root     time   algbw   busbw  #wrong"
         "  algorithm\n";
  out << "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)\n";
  double busbw_sum = 0;
  for (const SweepRow& row : rows) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "%12.0f  %12lld  %8s  %6s  %6d  %s  %6.2f  %6.2f  %6s  %s/%s\n", row.bytes,
                  static_cast<long long>(row.count), "float", reduces ? "sum" : "none", -1,
                  FormatTime(row.seconds() * 1e6).c_str(), row.algbw_bytes_per_s / 1e9,
                  row.busbw_bytes_per_s / 1e9, "N/A",
                  std::string(AlgorithmName(row.pricing.algorithm)).c_str(),
                  std::string(ProtocolName(row.pricing.protocol)).c_str());
    out << line;
    busbw_sum += row.busbw_bytes_per_s / 1e9;
  }
  char footer[96];
  std::snprintf(footer, sizeof footer, "# Avg bus bandwidth    : %g \n",
                rows.empty() ? 0.0 : busbw_sum / static_cast<double>(rows.size()));
  out << footer << "#\n";
  return out.str();
}

}  // namespace foresight::hw
