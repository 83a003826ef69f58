// Fits of the roofline parameters of models/hw/roofline.h and the host-device link from kernel
// measurements (our own `gemm`, `membw`, `launch` and `memcpy` tables). All are linear in a
// reparameterisation and solved by robust relative least squares (fit_linear.h):
//
// GEMM (gpu.gemm.max_efficiency, gpu.gemm.k_half; tile_m, tile_n and sm_count given):
//   T = launch + F / (max_eff * k / (k + k_half)),  F = 2mnk*batch / (peak(dtype) * wave_eff)
//   => T - launch = F * a + (F / k) * c,   a = 1 / max_eff,  c = k_half / max_eff
//   wave_eff = tiles / (ceil(tiles / sm_count) * sm_count), tiles = batch*ceil(m/tile_m)*
//   ceil(n/tile_n). Compute-bound points only: rows whose roofline memory time (operands read
//   once, result written once) exceeds half the measured time are left out.
// HBM bandwidth (gpu.memory.max_efficiency, gpu.memory.bytes_half):
//   T = launch + (B + bytes_half) / (hbm * max_eff)  =>  T - launch = B * u + v,
//   u = 1 / (hbm * max_eff), v = bytes_half * u.
// Launch (gpu.kernel_launch_seconds): the median of the back-to-back (async) per-launch times.
// Host-device copies (node.pcie): T = latency + S / (bandwidth * efficiency), pinned h2d and
// d2h rows. Efficiencies above 1 are clamped to 1 and said so. O(samples) each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "calibrate/fit_linear.h"
#include "calibrate/fit_report.h"
#include "models/hw/hardware.h"

namespace foresight::calibrate {

struct GemmSample {
  Dtype dtype = Dtype::kBf16;
  std::int64_t m = 0, n = 0, k = 0, batch = 1;
  double seconds = 0;
  std::string label;
};

// One `overlap` measurement row: the victim's time per call alone and under overlap.
struct OverlapSample {
  bool compute_victim = true;  // true: a GEMM slowed by a collective; false: the reverse
  double alone_s = 0;
  double overlapped_s = 0;
  std::string label;
};

struct SizeSample {
  double bytes = 0;
  double seconds = 0;
  std::string label;
};

// Each updates the named fields of `gpu` / `link` and returns the section; nullopt when there
// are fewer usable samples than unknowns (the profile is left unchanged).
std::optional<FitSection> FitGemmEfficiency(const std::vector<GemmSample>& samples,
                                            hw::GpuSpec& gpu, const RobustOptions& options = {});
// fp8 samples only (FitGemmEfficiency leaves them out): the one-parameter fit of
// gpu.gemm.fp8_max_efficiency with the profile's tiles and k_half (fit the 16-bit GEMMs first).
std::optional<FitSection> FitGemmFp8Efficiency(const std::vector<GemmSample>& samples,
                                               hw::GpuSpec& gpu, const RobustOptions& options = {});
// gpu.interference.compute_slowdown (GEMM victims) and comm_slowdown (collective victims): the
// median over each kind's rows of overlapped / alone - 1, clamped at 0 (a median, not a mean:
// a row whose cover ran short reads low, and one with a clock change reads high). A kind with no
// rows keeps the profile's value; nullopt when there are no rows at all.
std::optional<FitSection> FitInterference(const std::vector<OverlapSample>& samples,
                                          hw::GpuSpec& gpu);
std::optional<FitSection> FitMemoryEfficiency(const std::vector<SizeSample>& samples,
                                              hw::GpuSpec& gpu, const RobustOptions& options = {});
std::optional<FitSection> FitLaunchLatency(const std::vector<double>& per_launch_seconds,
                                           hw::GpuSpec& gpu);
std::optional<FitSection> FitLink(const std::vector<SizeSample>& samples, const std::string& key,
                                  hw::LinkSpec& link, const RobustOptions& options = {});

// The GEMM wave-quantization efficiency of roofline.h (exposed for tests).
double WaveEfficiency(const hw::GpuSpec& gpu, std::int64_t m, std::int64_t n, std::int64_t batch);

}  // namespace foresight::calibrate
