#include "calibrate/fit_roofline.h"

#include <algorithm>
#include <cmath>

namespace foresight::calibrate {
namespace {

std::string Clamp01(double& efficiency) {
  if (efficiency > 1.0) {
    efficiency = 1.0;
    return "; clamped to 1";
  }
  return "";
}

// Points (measured, predicted = launch + a.row(i) . x, IRLS weight), the memory-bound note and
// the quality of a GEMM fit.
void FinishGemmSection(FitSection& section, const std::vector<const GemmSample*>& used,
                       const Eigen::MatrixXd& a, const Eigen::VectorXd& d, const RobustResult& fit,
                       double launch_seconds, int memory_bound) {
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    const double predicted = launch_seconds + a.row(i).dot(fit.x);
    section.points.push_back(
        {used[static_cast<std::size_t>(i)]->label, d[i], predicted, fit.weights[i]});
  }
  if (memory_bound > 0)
    section.notes.push_back(std::to_string(memory_bound) +
                            " memory-bound rows left out (roofline memory time > T/2)");
  section.quality = ComputeQuality(section.points);
}

// The compute-bound rows of the fp8 (fp8 = true) or the other dtypes' GEMMs, counting the
// memory-bound ones (roofline memory time > T/2) in *memory_bound. Operands at the dtype's size;
// fp8 GEMMs write a 16-bit output (cuBLASLt's and Transformer Engine's usual fp8 GEMM).
std::vector<const GemmSample*> ComputeBoundGemms(const std::vector<GemmSample>& samples,
                                                 const hw::GpuSpec& gpu, bool fp8,
                                                 int* memory_bound) {
  std::vector<const GemmSample*> used;
  for (const GemmSample& s : samples) {
    if ((s.dtype == Dtype::kFp8) != fp8) continue;
    if (gpu.PeakFlopsPerS(s.dtype) <= 0 || s.seconds <= gpu.kernel_launch_seconds) continue;
    const double in = BytesOf(s.dtype);
    const double out = fp8 ? 2.0 : in;
    const double bytes = s.batch * (in * (s.m * s.k + s.k * s.n) + out * s.m * s.n);
    if (bytes / (gpu.hbm_bandwidth_bytes_per_s * gpu.memory.max_efficiency) > 0.5 * s.seconds) {
      ++*memory_bound;
      continue;
    }
    used.push_back(&s);
  }
  return used;
}

}  // namespace

double WaveEfficiency(const hw::GpuSpec& gpu, std::int64_t m, std::int64_t n, std::int64_t batch) {
  const std::int64_t tiles = batch * ((m + gpu.gemm.tile_m - 1) / gpu.gemm.tile_m) *
                             ((n + gpu.gemm.tile_n - 1) / gpu.gemm.tile_n);
  const std::int64_t waves = (tiles + gpu.sm_count - 1) / gpu.sm_count;
  return static_cast<double>(tiles) / static_cast<double>(waves * gpu.sm_count);
}

std::optional<FitSection> FitGemmEfficiency(const std::vector<GemmSample>& samples,
                                            hw::GpuSpec& gpu, const RobustOptions& options) {
  int memory_bound = 0;  // fp8 rows: FitGemmFp8Efficiency
  const std::vector<const GemmSample*> used =
      ComputeBoundGemms(samples, gpu, /*fp8=*/false, &memory_bound);
  if (used.size() < 2) return std::nullopt;
  const int rows = static_cast<int>(used.size());
  Eigen::MatrixXd a(rows, 2);
  Eigen::VectorXd y(rows), d(rows);
  for (int i = 0; i < rows; ++i) {
    const GemmSample& s = *used[static_cast<std::size_t>(i)];
    const double flops = 2.0 * s.m * s.n * s.k * s.batch;
    const double f = flops / (gpu.PeakFlopsPerS(s.dtype) * WaveEfficiency(gpu, s.m, s.n, s.batch));
    a(i, 0) = f;
    a(i, 1) = f / static_cast<double>(s.k);
    y[i] = s.seconds - gpu.kernel_launch_seconds;
    d[i] = s.seconds;
  }
  const RobustResult fit = RobustLeastSquares(a, y, d, {true, true}, options);
  if (fit.x[0] <= 0) return std::nullopt;
  FitSection section;
  section.title = "GEMM efficiency (gpu.gemm)";
  section.model =
      "T = kernel_launch_seconds + 2mnk*batch / (peak(dtype) * max_efficiency * wave_eff * k / "
      "(k + k_half))";
  double max_eff = 1.0 / fit.x[0];
  const std::string clamp = Clamp01(max_eff);
  gpu.gemm.max_efficiency = max_eff;
  gpu.gemm.k_half = fit.x[1] / fit.x[0];
  section.parameters.push_back({"gpu.gemm.max_efficiency", max_eff, "1", "fitted" + clamp});
  section.parameters.push_back({"gpu.gemm.k_half", gpu.gemm.k_half, "elements of K", "fitted"});
  section.parameters.push_back(
      {"gpu.gemm.tile_m", static_cast<double>(gpu.gemm.tile_m), "rows", "given (base profile)"});
  section.parameters.push_back(
      {"gpu.gemm.tile_n", static_cast<double>(gpu.gemm.tile_n), "cols", "given (base profile)"});
  FinishGemmSection(section, used, a, d, fit, gpu.kernel_launch_seconds, memory_bound);
  return section;
}

std::optional<FitSection> FitGemmFp8Efficiency(const std::vector<GemmSample>& samples,
                                               hw::GpuSpec& gpu, const RobustOptions& options) {
  int memory_bound = 0;
  const std::vector<const GemmSample*> used =
      ComputeBoundGemms(samples, gpu, /*fp8=*/true, &memory_bound);
  if (used.empty()) return std::nullopt;
  const int rows = static_cast<int>(used.size());
  Eigen::MatrixXd a(rows, 1);
  Eigen::VectorXd y(rows), d(rows);
  for (int i = 0; i < rows; ++i) {
    const GemmSample& s = *used[static_cast<std::size_t>(i)];
    const double flops = 2.0 * s.m * s.n * s.k * s.batch;
    const double kd = static_cast<double>(s.k);
    const double k_term = gpu.gemm.k_half > 0 ? (kd + gpu.gemm.k_half) / kd : 1.0;
    a(i, 0) = flops * k_term / (gpu.peak_flops_per_s_fp8 * WaveEfficiency(gpu, s.m, s.n, s.batch));
    y[i] = s.seconds - gpu.kernel_launch_seconds;
    d[i] = s.seconds;
  }
  const RobustResult fit = RobustLeastSquares(a, y, d, {true}, options);
  if (fit.x[0] <= 0) return std::nullopt;
  FitSection section;
  section.title = "GEMM efficiency, fp8 (gpu.gemm.fp8_max_efficiency)";
  section.model =
      "T = kernel_launch_seconds + 2mnk*batch / (peak(fp8) * fp8_max_efficiency * wave_eff * k / "
      "(k + k_half)), tiles and k_half as for the 16-bit GEMMs";
  double max_eff = 1.0 / fit.x[0];
  const std::string clamp = Clamp01(max_eff);
  gpu.gemm.fp8_max_efficiency = max_eff;
  section.parameters.push_back({"gpu.gemm.fp8_max_efficiency", max_eff, "1", "fitted" + clamp});
  section.parameters.push_back({"gpu.gemm.k_half", gpu.gemm.k_half, "elements of K", "given"});
  FinishGemmSection(section, used, a, d, fit, gpu.kernel_launch_seconds, memory_bound);
  return section;
}

std::optional<FitSection> FitInterference(const std::vector<OverlapSample>& samples,
                                          hw::GpuSpec& gpu) {
  if (samples.empty()) return std::nullopt;
  FitSection section;
  section.title = "Compute-communication interference (gpu.interference)";
  section.model =
      "T_overlapped = T_alone * (1 + slowdown); slowdown = median over rows of T_overlapped / "
      "T_alone - 1, clamped at 0, per victim (GEMM: compute_slowdown, collective: "
      "comm_slowdown)";
  for (const bool compute : {true, false}) {
    std::vector<double> ratios;
    for (const OverlapSample& s : samples) {
      if (s.compute_victim == compute && s.alone_s > 0)
        ratios.push_back(s.overlapped_s / s.alone_s);
    }
    if (ratios.empty()) continue;
    std::sort(ratios.begin(), ratios.end());
    const std::size_t n = ratios.size();
    const double median = n % 2 == 1 ? ratios[n / 2] : 0.5 * (ratios[n / 2 - 1] + ratios[n / 2]);
    const double slowdown = std::max(0.0, median - 1.0);
    double& field = compute ? gpu.interference.compute_slowdown : gpu.interference.comm_slowdown;
    field = slowdown;
    section.parameters.push_back(
        {compute ? "gpu.interference.compute_slowdown" : "gpu.interference.comm_slowdown", slowdown,
         "1", "median of " + std::to_string(n) + " rows" + (median < 1.0 ? "; clamped to 0" : "")});
    for (const OverlapSample& s : samples) {
      if (s.compute_victim != compute || s.alone_s <= 0) continue;
      section.points.push_back({s.label, s.overlapped_s, s.alone_s * (1 + slowdown), 1.0});
    }
  }
  section.quality = ComputeQuality(section.points);
  return section;
}

std::optional<FitSection> FitMemoryEfficiency(const std::vector<SizeSample>& samples,
                                              hw::GpuSpec& gpu, const RobustOptions& options) {
  std::vector<const SizeSample*> used;
  for (const SizeSample& s : samples) {
    if (s.bytes > 0 && s.seconds > gpu.kernel_launch_seconds) used.push_back(&s);
  }
  if (used.size() < 2) return std::nullopt;
  const int rows = static_cast<int>(used.size());
  Eigen::MatrixXd a(rows, 2);
  Eigen::VectorXd y(rows), d(rows);
  for (int i = 0; i < rows; ++i) {
    a(i, 0) = used[static_cast<std::size_t>(i)]->bytes;
    a(i, 1) = 1.0;
    y[i] = used[static_cast<std::size_t>(i)]->seconds - gpu.kernel_launch_seconds;
    d[i] = used[static_cast<std::size_t>(i)]->seconds;
  }
  const RobustResult fit = RobustLeastSquares(a, y, d, {true, true}, options);
  if (fit.x[0] <= 0) return std::nullopt;
  FitSection section;
  section.title = "HBM bandwidth efficiency (gpu.memory)";
  section.model =
      "T = kernel_launch_seconds + (B + bytes_half) / (hbm_bandwidth_bytes_per_s * "
      "max_efficiency)";
  double max_eff = 1.0 / (fit.x[0] * gpu.hbm_bandwidth_bytes_per_s);
  const std::string clamp = Clamp01(max_eff);
  gpu.memory.max_efficiency = max_eff;
  gpu.memory.bytes_half = fit.x[1] / fit.x[0];
  section.parameters.push_back({"gpu.memory.max_efficiency", max_eff, "1", "fitted" + clamp});
  section.parameters.push_back({"gpu.memory.bytes_half", gpu.memory.bytes_half, "B", "fitted"});
  for (int i = 0; i < rows; ++i) {
    const double predicted = gpu.kernel_launch_seconds + a(i, 0) * fit.x[0] + fit.x[1];
    section.points.push_back(
        {used[static_cast<std::size_t>(i)]->label, d[i], predicted, fit.weights[i]});
  }
  section.quality = ComputeQuality(section.points);
  return section;
}

std::optional<FitSection> FitLaunchLatency(const std::vector<double>& per_launch_seconds,
                                           hw::GpuSpec& gpu) {
  if (per_launch_seconds.empty()) return std::nullopt;
  std::vector<double> sorted = per_launch_seconds;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  gpu.kernel_launch_seconds = median;
  FitSection section;
  section.title = "kernel launch (gpu.kernel_launch_seconds)";
  section.model = "kernel_launch_seconds = median of back-to-back per-launch times";
  section.parameters.push_back({"gpu.kernel_launch_seconds", median, "s", "median"});
  for (std::size_t i = 0; i < n; ++i) {
    section.points.push_back(
        {"launch row " + std::to_string(i + 1), per_launch_seconds[i], median, 1.0});
  }
  section.quality = ComputeQuality(section.points);
  return section;
}

std::optional<FitSection> FitLink(const std::vector<SizeSample>& samples, const std::string& key,
                                  hw::LinkSpec& link, const RobustOptions& options) {
  if (samples.size() < 2) return std::nullopt;
  const int rows = static_cast<int>(samples.size());
  Eigen::MatrixXd a(rows, 2);
  Eigen::VectorXd y(rows), d(rows);
  for (int i = 0; i < rows; ++i) {
    a(i, 0) = 1.0;
    a(i, 1) = samples[static_cast<std::size_t>(i)].bytes;
    y[i] = d[i] = samples[static_cast<std::size_t>(i)].seconds;
  }
  const RobustResult fit = RobustLeastSquares(a, y, d, {true, true}, options);
  if (fit.x[1] <= 0) return std::nullopt;
  double efficiency = 1.0 / (fit.x[1] * link.bandwidth_bytes_per_s);
  const std::string clamp = Clamp01(efficiency);
  link.latency_seconds = fit.x[0];
  link.efficiency = efficiency;
  FitSection section;
  section.title = key + " (host-device copies)";
  section.model = "T = latency_seconds + S / (bandwidth_bytes_per_s * efficiency)";
  section.parameters.push_back({key + ".latency_seconds", fit.x[0], "s", "fitted"});
  section.parameters.push_back({key + ".efficiency", efficiency, "1", "fitted" + clamp});
  for (int i = 0; i < rows; ++i) {
    section.points.push_back({samples[static_cast<std::size_t>(i)].label, d[i],
                              fit.x[0] + a(i, 1) * fit.x[1], fit.weights[i]});
  }
  section.quality = ComputeQuality(section.points);
  return section;
}

}  // namespace foresight::calibrate
