#include "calibrate/fit_pipeline.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "calibrate/detect.h"
#include "calibrate/fit_collective.h"
#include "calibrate/fit_roofline.h"
#include "calibrate/import_nccl_tests.h"
#include "calibrate/import_steps.h"
#include "calibrate/import_vtrain.h"
#include "calibrate/internal/fit_text.h"
#include "calibrate/measurement.h"
#include "calibrate/profile_writer.h"

namespace foresight::calibrate {
namespace {

struct Inputs {
  std::vector<CommSeries> comm;
  std::vector<StepTable> steps;
  std::vector<GemmSample> gemm;
  std::vector<SizeSample> membw;
  std::vector<double> launch;
  std::vector<SizeSample> pcie;
  std::vector<SizeSample> host_membw;
  std::vector<OverlapSample> overlap;
  std::set<std::string> gemm_files, membw_files, launch_files, pcie_files, host_files,
      overlap_files;
  std::int64_t host_cores = 0, host_memory_bytes = 0;
  std::vector<std::pair<std::string, double>> host_rates;
};

std::string Label(const std::string& path, int line, const std::string& what) {
  return std::string(internal::BaseName(path)) + ":" + std::to_string(line) + " " + what;
}

void AddMeasurements(const MeasurementFile& file, Inputs& in) {
  const std::string& path = file.path;
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kGemm)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      std::string dtype = t->Text(r, "dtype");
      if (dtype.rfind("fp8", 0) == 0) dtype = "fp8";
      const auto parsed = ParseDtype(dtype);
      if (!parsed) continue;
      GemmSample s{*parsed,
                   static_cast<std::int64_t>(t->Number(r, "m")),
                   static_cast<std::int64_t>(t->Number(r, "n")),
                   static_cast<std::int64_t>(t->Number(r, "k")),
                   1,
                   t->Number(r, "time_median_s"),
                   ""};
      s.label = Label(path, t->row_lines[r],
                      dtype + " " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                          std::to_string(s.k) + " " + t->Text(r, "layout"));
      in.gemm.push_back(s);
      in.gemm_files.insert(path);
    }
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kMemBw)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      const std::string& op = t->Text(r, "op");
      if (op != "read" && op != "write" && op != "copy" && op != "triad") continue;
      in.membw.push_back({t->Number(r, "bytes"), t->Number(r, "time_median_s"),
                          Label(path, t->row_lines[r], op + " " + t->Text(r, "bytes") + " B")});
      in.membw_files.insert(path);
    }
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kLaunch)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      if (t->Text(r, "mode") != "async") continue;
      in.launch.push_back(t->Number(r, "time_median_s"));
      in.launch_files.insert(path);
    }
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kMemcpy)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      const std::string& dir = t->Text(r, "direction");
      if (t->Text(r, "memory") != "pinned" || (dir != "h2d" && dir != "d2h")) continue;
      in.pcie.push_back({t->Number(r, "bytes"), t->Number(r, "time_median_s"),
                         Label(path, t->row_lines[r], dir + " " + t->Text(r, "bytes") + " B")});
      in.pcie_files.insert(path);
    }
  }
  std::map<std::tuple<std::string, std::int64_t, std::int64_t>, CommSeries> series;
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kCollective)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      const auto op = ParseCommOp(t->Text(r, "collective"));
      if (!op) continue;
      const auto ranks = static_cast<std::int64_t>(t->Number(r, "ranks"));
      const auto nodes = static_cast<std::int64_t>(t->Number(r, "nodes"));
      CommSeries& s = series[{t->Text(r, "collective"), ranks, nodes}];
      s.path = path;
      s.op = *op;
      s.ranks = ranks;
      s.nodes = nodes;
      s.hardware = file.Meta(*t, "device").value_or("");
      const double bytes = t->Number(r, "bytes");
      if (bytes > 0)
        s.points.push_back({bytes, t->Number(r, "time_median_s"), false, t->row_lines[r]});
    }
  }
  for (auto& [key, s] : series) {
    if (!s.points.empty()) in.comm.push_back(std::move(s));
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kOverlap)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      const std::string& victim = t->Text(r, "victim");
      if (victim != "gemm" && victim != "collective") continue;
      in.overlap.push_back(
          {victim == "gemm", t->Number(r, "alone_s"), t->Number(r, "time_median_s"),
           Label(path, t->row_lines[r],
                 victim + " " + t->Text(r, "dtype") + " " + t->Text(r, "m") + "x" +
                     t->Text(r, "n") + "x" + t->Text(r, "k") + " with " + t->Text(r, "collective") +
                     " " + t->Text(r, "bytes") + " B x " + t->Text(r, "ranks"))});
      in.overlap_files.insert(path);
    }
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kCpuMemBw)) {
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      in.host_membw.push_back(
          {t->Number(r, "bytes"), t->Number(r, "time_median_s"),
           Label(path, t->row_lines[r], t->Text(r, "op") + " " + t->Text(r, "bytes") + " B")});
      in.host_files.insert(path);
    }
  }
  auto meta_number = [&](const char* key) -> std::optional<double> {
    const auto v = file.Meta(key);
    return v ? internal::ParseNumber(*v) : std::nullopt;
  };
  if (auto v = meta_number("host_cores"); v && *v > 0) {
    in.host_cores = static_cast<std::int64_t>(*v);
    in.host_files.insert(path);
  }
  if (auto v = meta_number("host_memory_bytes"); v && *v > 0)
    in.host_memory_bytes = static_cast<std::int64_t>(*v);
  for (const char* key : {"host_gemm_flop_per_s", "host_memory_bandwidth_bytes_per_s",
                          "host_adam_params_per_s", "host_memcpy_bandwidth_bytes_per_s"}) {
    if (auto v = meta_number(key)) in.host_rates.emplace_back(key, *v);
  }
}

Status ReadInput(const std::string& path, Inputs& in, std::vector<std::string>& kinds) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) return Error{"cannot open input file: " + path, path, 0, 0};
  std::ostringstream buffer;
  buffer << stream.rdbuf();
  const std::string text = buffer.str();
  const InputKind kind = DetectKind(text);
  kinds.push_back(path + ": " + std::string(InputKindName(kind)));
  switch (kind) {
    case InputKind::kMeasurements: {
      auto file = ParseMeasurements(text, path);
      if (!file.ok()) return file.error();
      file->path = path;
      AddMeasurements(*file, in);
      return Status::Ok();
    }
    case InputKind::kVtrainAllReduce: {
      auto s = ParseVtrainAllReduce(text, path);
      if (!s.ok()) return s.error();
      in.comm.push_back(std::move(*s));
      return Status::Ok();
    }
    case InputKind::kStepTable: {
      auto t = ParseStepTable(text, path);
      if (!t.ok()) return t.error();
      in.steps.push_back(std::move(*t));
      return Status::Ok();
    }
    case InputKind::kNcclTests:
    case InputKind::kBusbwSummary: {
      auto s = kind == InputKind::kNcclTests ? ParseNcclTests(text, path)
                                             : ParseBusbwSummary(text, path);
      if (!s.ok()) return s.error();
      for (CommSeries& c : *s) in.comm.push_back(std::move(c));
      return Status::Ok();
    }
    case InputKind::kUnknown:
      break;
  }
  return Error::At(path, 1, 1,
                   "cannot tell what this file holds; expected a foresight measurement file, "
                   "nccl-tests output, a busbw summary, a vTrain all-reduce CSV, a step-time "
                   "table, or (read by `foresight calibrate fit`) a measured-runs CSV or "
                   "llm-foundry table");
}

std::string Provenance(const FitSection& s) {
  std::string files;
  for (const std::string& f : s.sources) {
    files += (files.empty() ? "" : ", ") + std::string(internal::BaseName(f));
  }
  char quality[160];
  std::snprintf(quality, sizeof(quality), "%zu points, R^2 %.4f, median |rel| %.2f%%, worst %.2f%%",
                s.quality.points, s.quality.r_squared, 100 * s.quality.median_abs_rel,
                100 * s.quality.worst_abs_rel);
  return "fitted by `foresight calibrate fit` (" + s.title + "; " + quality + ")\nfrom: " + files;
}

void Record(FitSection section, const std::set<std::string>& files, FitOutput& out,
            ProfileComments& comments) {
  if (section.sources.empty()) section.sources.assign(files.begin(), files.end());
  if (section.in_profile) {
    for (const FitParameter& p : section.parameters) {
      if (p.note.rfind("given", 0) == 0 || p.note.rfind("line rate", 0) == 0) continue;
      comments.by_key[p.key] = Provenance(section) + (p.note.empty() ? "" : "\n" + p.note);
    }
  }
  out.sections.push_back(std::move(section));
}

}  // namespace

Result<FitOutput> RunCalibrationFit(const FitRequest& request) {
  auto base = hw::LoadHardware(request.base);
  if (!base.ok()) return base.error();
  if (request.files.empty() && request.step_datasets.empty()) {
    return Error{"no input files given", "", 0, 0};
  }
  Inputs in;
  FitOutput out;
  for (const std::string& path : request.files) {
    if (Status s = ReadInput(path, in, out.inputs); !s.ok()) return s.error();
  }
  for (const StepTableWithConventions& d : request.step_datasets) {
    out.inputs.push_back(d.table.path + ": " + d.kind);
  }
  hw::HardwareProfile profile = *base;
  ProfileComments comments;
  if (auto s = FitLaunchLatency(in.launch, profile.gpu)) Record(*s, in.launch_files, out, comments);
  if (auto s = FitMemoryEfficiency(in.membw, profile.gpu, request.robust))
    Record(*s, in.membw_files, out, comments);
  if (auto s = FitGemmEfficiency(in.gemm, profile.gpu, request.robust))
    Record(*s, in.gemm_files, out, comments);
  if (auto s = FitGemmFp8Efficiency(in.gemm, profile.gpu, request.robust))
    Record(*s, in.gemm_files, out, comments);
  if (auto s = FitInterference(in.overlap, profile.gpu))
    Record(*s, in.overlap_files, out, comments);
  if (auto s = FitLink(in.pcie, "node.pcie", profile.node.pcie, request.robust))
    Record(*s, in.pcie_files, out, comments);
  if (!in.comm.empty()) {
    CollectiveLinkFit links = FitCollectiveLinks(in.comm, profile, request.robust);
    if (links.scale_up) profile.node.scale_up = *links.scale_up;
    if (links.nic) profile.network.nic = *links.nic;
    for (FitSection& s : links.sections) Record(std::move(s), {}, out, comments);
    for (FitSection& s : FitCollectiveGroups(in.comm, request.robust))
      Record(std::move(s), {}, out, comments);
  }
  if (in.host_cores > 0 || !in.host_rates.empty() || !in.host_membw.empty()) {
    FitSection host;
    host.title = "host model (cpu measurement tables)";
    host.model =
        "host.{cores, memory_bytes, memory_bandwidth_bytes_per_s, adam_params_per_s} from the "
        "file metadata that `foresight calibrate cpu` derives from its tables";
    if (in.host_cores > 0) {
      profile.host.cores = static_cast<std::int32_t>(in.host_cores);
      host.parameters.push_back({"host.cores", static_cast<double>(in.host_cores), "cores", ""});
    }
    if (in.host_memory_bytes > 0) {
      profile.host.memory_bytes = in.host_memory_bytes;
      host.parameters.push_back(
          {"host.memory_bytes", static_cast<double>(in.host_memory_bytes), "B", ""});
    }
    for (const auto& [key, value] : in.host_rates) {
      const std::string unit = key.find("params") != std::string::npos ? "1/s"
                               : key.find("flop") != std::string::npos ? "FLOP/s"
                                                                       : "B/s";
      if (key == "host_memory_bandwidth_bytes_per_s" && value > 0) {
        profile.host.memory_bandwidth_bytes_per_s = value;
        host.parameters.push_back({"host.memory_bandwidth_bytes_per_s", value, unit,
                                   "best cpu_membw triad/copy (file metadata)"});
      } else if (key == "host_adam_params_per_s" && value > 0) {
        profile.host.adam_params_per_s = value;
        host.parameters.push_back(
            {"host.adam_params_per_s", value, unit, "cpu_adam, largest size (file metadata)"});
      } else {
        host.parameters.push_back(
            {key, value, unit, "report only: the profile schema has no field for it"});
      }
    }
    // A nominal 1 PB/s line rate makes the fitted efficiency the bandwidth / 1e15.
    hw::LinkSpec host_memory{1e15, 1.0, 0.0};
    if (auto s = FitLink(in.host_membw, "host.memory_bandwidth", host_memory, request.robust)) {
      host.points = s->points;
      host.parameters.push_back(
          {"host memory bandwidth (alpha-beta)", host_memory.EffectiveBytesPerS(), "B/s",
           "report only; latency " + FormatDouble(host_memory.latency_seconds) + " s"});
    }
    host.quality = ComputeQuality(host.points);
    Record(std::move(host), in.host_files, out, comments);
  }
  if (!in.steps.empty() || !request.step_datasets.empty()) {
    std::vector<StepTableWithConventions> tables;
    for (const StepTable& t : in.steps) {
      tables.push_back(WithConventions(t, request.step.conventions));
    }
    for (const StepTableWithConventions& d : request.step_datasets) tables.push_back(d);
    auto fit = FitStepTimes(tables, profile, request.step);
    if (!fit.ok()) return fit.error();
    profile = fit->profile;
    Record(std::move(fit->section), {}, out, comments);
  }
  profile.name = request.name.empty() ? base->name + "-calibrated" : request.name;
  profile.description = base->description + " (calibrated by foresight calibrate fit)";
  comments.header = {
      "Hardware profile written by `foresight calibrate fit` (schema: models/hw/hardware.h).",
      "Command (run from the repository root):",
      "Base profile: " + base->name + " (" + base->source_file +
          "); every value without a 'fitted' comment is the base profile's, whose sources are",
      "cited in models/hw/catalog/" + base->name + ".yaml for catalog entries.", "Inputs:"};
  for (const std::string& i : out.inputs) comments.header.push_back("  " + i);
  // The command, wrapped at spaces to about 96 columns, goes after "Command ...:".
  std::vector<std::string> wrapped{"  "};
  std::istringstream words(request.command_line);
  for (std::string word; words >> word;) {
    if (wrapped.back().size() + word.size() > 96) wrapped.push_back("    ");
    wrapped.back() += (wrapped.back().back() == ' ' ? "" : " ") + word;
  }
  comments.header.insert(comments.header.begin() + 2, wrapped.begin(), wrapped.end());
  out.yaml = WriteProfileYaml(profile, comments);
  auto check = hw::ParseHardware(out.yaml, "<fitted profile>");
  if (!check.ok())
    return Error{"the fitted profile does not validate: " + check.error().ToString(), "", 0, 0};
  out.profile = *check;
  out.report = RenderFitReport("Fit report: " + profile.name, request.command_line, out.sections,
                               request.report_points_per_section);
  return out;
}

}  // namespace foresight::calibrate
