#include "models/hw/roofline.h"

#include <algorithm>
#include <string>

#include "base/check.h"

namespace foresight::hw {
namespace {

std::int64_t CeilDiv(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

double PeakOrDie(const GpuSpec& gpu, Dtype dtype) {
  const double peak = gpu.PeakFlopsPerS(dtype);
  FS_CHECK(peak > 0, "GPU " + gpu.name + " has no " + std::string(DtypeName(dtype)) +
                         " peak; plans must be validated against the hardware before pricing");
  return peak;
}

// Seconds to move `bytes` through HBM; 0 for no bytes.
double MemorySeconds(const GpuSpec& gpu, double bytes) {
  FS_CHECK(bytes >= 0, "negative byte count");
  if (bytes == 0) return 0;
  return bytes / (gpu.hbm_bandwidth_bytes_per_s * MemoryEfficiencyFor(gpu, bytes));
}

}  // namespace

double GemmCeiling(const GpuSpec& gpu, Dtype dtype) {
  return dtype == Dtype::kFp8 && gpu.gemm.fp8_max_efficiency > 0 ? gpu.gemm.fp8_max_efficiency
                                                                 : gpu.gemm.max_efficiency;
}

double GemmEfficiencyFor(const GpuSpec& gpu, std::int64_t m, std::int64_t n, std::int64_t k,
                         std::int64_t batch, Dtype dtype) {
  FS_CHECK(m >= 1 && n >= 1 && k >= 1 && batch >= 1, "GEMM dimensions must be >= 1");
  FS_CHECK(gpu.sm_count >= 1 && gpu.gemm.tile_m >= 1 && gpu.gemm.tile_n >= 1,
           "GPU spec not validated");
  const std::int64_t tiles = batch * CeilDiv(m, gpu.gemm.tile_m) * CeilDiv(n, gpu.gemm.tile_n);
  const std::int64_t waves = CeilDiv(tiles, gpu.sm_count);
  const double wave_efficiency =
      static_cast<double>(tiles) / static_cast<double>(waves * gpu.sm_count);
  const double kd = static_cast<double>(k);
  const double k_efficiency = gpu.gemm.k_half > 0 ? kd / (kd + gpu.gemm.k_half) : 1.0;
  return GemmCeiling(gpu, dtype) * wave_efficiency * k_efficiency;
}

double MemoryEfficiencyFor(const GpuSpec& gpu, double bytes) {
  FS_CHECK(bytes >= 0, "negative byte count");
  const double half = gpu.memory.bytes_half;
  const double size_term = half > 0 ? bytes / (bytes + half) : 1.0;
  return gpu.memory.max_efficiency * size_term;
}

double GemmSeconds(const GpuSpec& gpu, Dtype dtype, std::int64_t m, std::int64_t n, std::int64_t k,
                   std::int64_t batch, double bytes) {
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) *
                       static_cast<double>(k) * static_cast<double>(batch);
  const double compute =
      flops / (PeakOrDie(gpu, dtype) * GemmEfficiencyFor(gpu, m, n, k, batch, dtype));
  return gpu.kernel_launch_seconds + std::max(compute, MemorySeconds(gpu, bytes));
}

double AttentionSeconds(const GpuSpec& gpu, Dtype dtype, double flops, double bytes) {
  FS_CHECK(flops >= 0, "negative flop count");
  const double compute = flops / (PeakOrDie(gpu, dtype) * gpu.attention_efficiency);
  return gpu.kernel_launch_seconds + std::max(compute, MemorySeconds(gpu, bytes));
}

double MemoryBoundSeconds(const GpuSpec& gpu, double flops, double bytes) {
  FS_CHECK(flops >= 0, "negative flop count");
  const double compute = flops / PeakOrDie(gpu, Dtype::kFp32);
  return gpu.kernel_launch_seconds + std::max(compute, MemorySeconds(gpu, bytes));
}

}  // namespace foresight::hw
