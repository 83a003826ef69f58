#include "validate/validate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
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

namespace {
std::string JoinSections(const Options& options) {
  std::string out;
  for (const std::string& s : options.sections) out += (out.empty() ? "" : " + ") + s;
  return out;
}
}  // namespace

Result<std::vector<const RunRow*>> SelectRows(const Dataset& dataset, const Options& options) {
  std::vector<const RunRow*> selected;
  std::vector<std::string> sections;  // known sections, in order of first appearance
  for (const RunRow& row : dataset.rows) {
    const std::string* section = nullptr;
    for (const auto& [name, value] : row.tags) {
      if (name == "section") section = &value;
    }
    if (section && std::find(sections.begin(), sections.end(), *section) == sections.end())
      sections.push_back(*section);
    if (!options.sections.empty() &&
        (!section || std::find(options.sections.begin(), options.sections.end(), *section) ==
                         options.sections.end()))
      continue;
    if (options.max_gpus > 0 && row.step.gpus > options.max_gpus) continue;
    if (options.min_gpus > 0 && row.step.gpus < options.min_gpus) continue;
    selected.push_back(&row);
  }
  for (const std::string& wanted : options.sections) {
    if (std::find(sections.begin(), sections.end(), wanted) != sections.end()) continue;
    std::string known;
    for (const std::string& s : sections) known += (known.empty() ? "'" : ", '") + s + "'";
    return Error{"no section '" + wanted + "' in " + dataset.path +
                     (known.empty() ? " (it has no sections)" : "; sections: " + known),
                 dataset.path, 0, 0};
  }
  return selected;
}

Result<calibrate::StepTableWithConventions> StepTableFor(const Dataset& dataset,
                                                         const Options& options,
                                                         const std::string& base) {
  auto selected = SelectRows(dataset, options);
  if (!selected.ok()) return selected.error();
  if (selected->empty()) {
    return Error{"no rows of " + dataset.path + " pass the section and GPU-count filters",
                 dataset.path, 0, 0};
  }
  auto normal = [](const std::string& p) {
    return std::filesystem::path(p).lexically_normal().string();
  };
  calibrate::StepTableWithConventions out;
  out.table.path = dataset.path;
  for (const RunRow* row : *selected) {
    if (!row->hardware.empty() && normal(row->hardware) != normal(base)) {
      return Error::At(dataset.path, row->step.line, 1,
                       "row runs on " + row->hardware + " but the fit's base profile is " + base +
                           "; one fit calibrates one profile: select rows with --section or "
                           "--max-gpus, or use --base " +
                           row->hardware);
    }
    out.table.rows.push_back(row->step);
    out.conventions.push_back(row->conventions);
  }
  out.kind =
      dataset.format + ", " + std::to_string(out.table.rows.size()) + " rows" +
      (options.sections.empty() ? "" : " of section '" + JoinSections(options) + "'") +
      (options.min_gpus > 0 ? ", at least " + std::to_string(options.min_gpus) + " GPUs" : "") +
      (options.max_gpus > 0 ? ", at most " + std::to_string(options.max_gpus) + " GPUs" : "");
  return out;
}

Result<Report> RunValidation(const Dataset& dataset, const Options& options) {
  Report report;
  report.dataset = dataset.path;
  report.format = dataset.format;
  report.hardware = options.hardware;
  report.section = JoinSections(options);
  std::map<std::string, hw::HardwareProfile> profiles;  // by name or path
  auto chosen = SelectRows(dataset, options);
  if (!chosen.ok()) return chosen.error();
  const std::vector<const RunRow*>& selected = *chosen;
  for (const SkippedRow& s : dataset.skipped) {
    if (options.sections.empty() || std::find(options.sections.begin(), options.sections.end(),
                                              s.section) != options.sections.end())
      report.skipped.push_back(s);
  }
  const std::size_t n = selected.size();
  const std::size_t k = options.max_rows == 0 || n <= options.max_rows
                            ? 1
                            : (n + options.max_rows - 1) / options.max_rows;
  std::map<std::int64_t, std::vector<double>> by_gpus;
  std::map<std::string, std::vector<double>> by_mix;
  // tag name -> (value -> errors), names and values in order of first appearance.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<double>>>>>
      by_tag;
  std::vector<double> all;
  for (std::size_t i = 0; i < n; i += k) {
    const RunRow& row = *selected[i];
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
    r.fits = result->fits;
    r.peak_bytes = result->peak_bytes;
    all.push_back(r.error);
    by_gpus[s.gpus].push_back(r.error);
    by_mix[r.parallelism].push_back(r.error);
    for (const auto& [name, value] : row.tags) {
      auto g = std::find_if(by_tag.begin(), by_tag.end(),
                            [&](const auto& e) { return e.first == name; });
      if (g == by_tag.end()) g = by_tag.insert(by_tag.end(), {name, {}});
      auto c = std::find_if(g->second.begin(), g->second.end(),
                            [&](const auto& e) { return e.first == value; });
      if (c == g->second.end()) c = g->second.insert(g->second.end(), {value, {}});
      c->second.push_back(r.error);
    }
    report.rows.push_back(std::move(r));
  }
  report.overall = ComputeStats(all);
  for (const auto& [gpus, errors] : by_gpus)
    report.by_gpus.push_back(
        {std::to_string(gpus) + (gpus == 1 ? " GPU" : " GPUs"), ComputeStats(errors)});
  for (const auto& [mix, errors] : by_mix)
    report.by_parallelism.push_back({mix, ComputeStats(errors)});
  for (auto& [name, values] : by_tag) {
    const bool numeric = std::all_of(values.begin(), values.end(), [](const auto& v) {
      return !v.first.empty() && v.first.size() < 18 &&
             v.first.find_first_not_of("0123456789") == std::string::npos;
    });
    if (numeric)
      std::stable_sort(values.begin(), values.end(), [](const auto& a, const auto& b) {
        return std::stoll(a.first) < std::stoll(b.first);
      });
    Grouping grouping{name, {}};
    for (const auto& [value, errors] : values)
      grouping.categories.push_back({value, ComputeStats(errors)});
    report.by_tag.push_back(std::move(grouping));
  }
  return report;
}

}  // namespace foresight::validate
