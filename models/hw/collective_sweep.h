// A simulated nccl-tests run: one collective over a sweep of message sizes, priced by the
// analytical or the flow-level model (models/hw/algorithms.h), printed in the nccl-tests layout
// (github.com/NVIDIA/nccl-tests, src/common.cu and doc/PERFORMANCE.md).
//
// Sizes follow nccl-tests: from min_bytes, multiplied by step_factor while <= max_bytes; each
// size is rounded down to a whole number of elements (float, 4 bytes), and for all_gather,
// reduce_scatter and alltoall to a multiple of ranks * 4 bytes, as nccl-tests does (count is
// then per rank: size / 4 / ranks). algbw = size / time, busbw = algbw * BusBandwidthFactor.
// The group is every GPU: node k contributes its first gpus_per_node GPUs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "models/hw/algorithms.h"
#include "models/hw/hardware.h"

namespace foresight::hw {

// "33554432", "32M", "16G", "1K" (binary multiples: K = 2^10, M = 2^20, G = 2^30, also T);
// a plain number may be written in floating notation if exact ("1e6"). Errors name the text.
Result<double> ParseByteSize(std::string_view text);

enum class NetworkModel : std::uint8_t { kAnalytical, kFlow };

struct SweepOptions {
  NetOp op = NetOp::kAllReduce;
  std::int32_t nodes = 1;
  std::int32_t gpus_per_node = 0;  // 0 = the profile's
  double min_bytes = 32.0 * 1024 * 1024;
  double max_bytes = 32.0 * 1024 * 1024;
  double step_factor = 2;
  Algorithm algorithm = Algorithm::kAuto;
  NetworkModel model = NetworkModel::kAnalytical;
};

struct SweepRow {
  double bytes = 0;  // nccl-tests size
  std::int64_t count = 0;
  Pricing pricing;
  double seconds() const { return pricing.seconds(); }
  double algbw_bytes_per_s = 0;
  double busbw_bytes_per_s = 0;
};

// Errors: nodes < 1, gpus_per_node outside [1, profile's], fewer than 2 ranks, min > max,
// step factor <= 1, an algorithm that cannot run the op, a topology that cannot be built.
Result<std::vector<SweepRow>> RunCollectiveSweep(const HardwareProfile& hw,
                                                 const SweepOptions& options);

// The nccl-tests table (header, one row per size, "# Avg bus bandwidth" footer); `title` goes
// on the first comment line.
std::string RenderNcclTestsTable(const std::vector<SweepRow>& rows, const SweepOptions& options,
                                 const std::string& title);

}  // namespace foresight::hw
