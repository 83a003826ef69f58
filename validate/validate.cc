#include "validate/validate.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "models/hw/hardware.h"
#include "plan/simulate.h"

namespace foresight::validate {

ErrorStats ComputeStats(const std::vector<double>& signed_errors) {
  ErrorStats s;
  s.rows = signed_errors.size();
  if (s.rows == 0) return s;
  std::vector<double> abs;
  abs.reserve(s.rows);
  for (double e : signed_errors) {
    abs.push_back(std::abs(e));
    s.mape += std::abs(e);
    s.bias += e;
    s.worst_abs = std::max(s.worst_abs, std::abs(e));
  }
  s.mape /= static_cast<double>(s.rows);
  s.bias /= static_cast<double>(s.rows);
  std::sort(abs.begin(), abs.end());
  const std::size_t mid = s.rows / 2;
  s.median_abs = s.rows % 2 == 1 ? abs[mid] : 0.5 * (abs[mid - 1] + abs[mid]);
  return s;
}

std::string ParallelismMix(std::int64_t tp, std::int64_t pp, std::int64_t dp) {
  std::string out;
  if (tp > 1) out += "tp";
  if (pp > 1) out += std::string(out.empty() ? "" : "+") + "pp";
  if (dp > 1) out += std::string(out.empty() ? "" : "+") + "dp";
  return out.empty() ? "none" : out;
}

Result<Report> RunValidation(const Dataset& dataset, const Options& options) {
  Report report;
  report.dataset = dataset.path;
  report.format = dataset.format;
  report.hardware = options.hardware;
  std::map<std::string, hw::HardwareProfile> profiles;  // by name or path
  const std::size_t n = dataset.rows.size();
  const std::size_t k = options.max_rows == 0 || n <= options.max_rows
                            ? 1
                            : (n + options.max_rows - 1) / options.max_rows;
  std::map<std::int64_t, std::vector<double>> by_gpus;
  std::map<std::string, std::vector<double>> by_mix;
  std::vector<double> all;
  for (std::size_t i = 0; i < n; i += k) {
    const RunRow& row = dataset.rows[i];
    const std::string hw_name = options.hardware.empty() ? row.hardware : options.hardware;
    if (hw_name.empty())
      return Error::At(dataset.path, row.step.line, 1,
                       "row names no hardware: give --hardware NAME|PROFILE or a 'hardware' "
                       "column");
    auto it = profiles.find(hw_name);
    if (it == profiles.end()) {
      auto loaded = hw::LoadHardware(hw_name);
      if (!loaded.ok()) return loaded.error();
      it = profiles.emplace(hw_name, std::move(*loaded)).first;
    }
    auto input = calibrate::StepInputFor(row.step, dataset.path, it->second, row.conventions);
    if (!input.ok()) return input.error();
    auto result = plan::SimulateStep(*input);
    if (!result.ok()) {
      Error e = result.error();
      return Error::At(dataset.path, row.step.line, 1, "simulation failed: " + e.ToString());
    }
    RowResult r;
    r.row = row;
    r.hardware = it->second.name;
    const calibrate::StepRow& s = row.step;
    r.config = "h=" + std::to_string(s.hidden) + " L=" + std::to_string(s.layers) +
               " heads=" + std::to_string(s.heads) + " s=" + std::to_string(s.seq_len) +
               " B=" + std::to_string(s.global_batch) + " b=" + std::to_string(s.micro_batch) +
               " tp=" + std::to_string(s.tp) + " pp=" + std::to_string(s.pp) +
               " dp=" + std::to_string(s.dp);
    r.parallelism = ParallelismMix(s.tp, s.pp, s.dp);
    r.measured_s = s.step_seconds;
    r.predicted_s = result->step_time_s;
    r.error = (r.predicted_s - r.measured_s) / r.measured_s;
    all.push_back(r.error);
    by_gpus[s.gpus].push_back(r.error);
    by_mix[r.parallelism].push_back(r.error);
    report.rows.push_back(std::move(r));
  }
  report.overall = ComputeStats(all);
  for (const auto& [gpus, errors] : by_gpus)
    report.by_gpus.push_back(
        {std::to_string(gpus) + (gpus == 1 ? " GPU" : " GPUs"), ComputeStats(errors)});
  for (const auto& [mix, errors] : by_mix)
    report.by_parallelism.push_back({mix, ComputeStats(errors)});
  return report;
}

}  // namespace foresight::validate
