// Text, JSON, CSV, SVG and Markdown renderings of a validation Report (validate.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "validate/validate.h"

namespace foresight::validate {
namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}
std::string Pct(double fraction) { return Fmt("%.2f", 100 * fraction); }
std::string SignedPct(double fraction) { return Fmt("%+.2f", 100 * fraction); }

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

nlohmann::ordered_json StatsJson(const ErrorStats& s) {
  nlohmann::ordered_json j;
  j["runs"] = s.rows;
  j["mape"] = 100 * s.mape;
  j["median_abs_pct_error"] = 100 * s.median_abs;
  j["worst_abs_pct_error"] = 100 * s.worst_abs;
  j["mean_signed_pct_error"] = 100 * s.bias;
  return j;
}

std::string StatsLine(const ErrorStats& s) {
  return "MAPE " + Pct(s.mape) + "%  median " + Pct(s.median_abs) + "%  worst " + Pct(s.worst_abs) +
         "%  bias " + SignedPct(s.bias) + "%  (" + std::to_string(s.rows) + " rows)";
}

// "predicted not to fit: 2 of 216 runs (lines 10, 12)" or "" when every run fits.
std::string MemoryLine(const Report& r) {
  std::string lines;
  std::size_t n = 0;
  for (const RowResult& row : r.rows) {
    if (row.fits) continue;
    ++n;
    lines += (lines.empty() ? "" : ", ") + std::to_string(row.row.step.line);
  }
  if (n == 0) return "";
  return "predicted not to fit in GPU memory: " + std::to_string(n) + " of " +
         std::to_string(r.rows.size()) + " runs (lines " + lines + "); every measured run ran";
}

}  // namespace

std::string RenderText(const Report& r) {
  std::string out = "dataset " + r.dataset + " (" + r.format + "), hardware " +
                    (r.hardware.empty() ? "per row" : r.hardware) + "\n";
  char line[256];
  std::snprintf(line, sizeof(line), "%6s  %-58s %12s %12s %9s\n", "line", "configuration",
                "measured ms", "predicted ms", "error %");
  out += line;
  for (const RowResult& row : r.rows) {
    std::snprintf(line, sizeof(line), "%6d  %-58s %12.2f %12.2f %+9.2f\n", row.row.step.line,
                  row.config.c_str(), 1e3 * row.measured_s, 1e3 * row.predicted_s, 100 * row.error);
    out += line;
  }
  out += "\noverall: " + StatsLine(r.overall) + "\n";
  out += "by GPU count:\n";
  for (const Category& c : r.by_gpus) {
    std::snprintf(line, sizeof(line), "  %-10s ", c.name.c_str());
    out += line + StatsLine(c.stats) + "\n";
  }
  out += "by parallelism:\n";
  for (const Category& c : r.by_parallelism) {
    std::snprintf(line, sizeof(line), "  %-10s ", c.name.c_str());
    out += line + StatsLine(c.stats) + "\n";
  }
  for (const Grouping& g : r.by_tag) {
    out += "by " + g.name + ":\n";
    for (const Category& c : g.categories) {
      std::snprintf(line, sizeof(line), "  %-10s ", c.name.c_str());
      out += line + StatsLine(c.stats) + "\n";
    }
  }
  if (const std::string m = MemoryLine(r); !m.empty()) out += m + "\n";
  if (!r.skipped.empty()) {
    out += "skipped " + std::to_string(r.skipped.size()) + " rows (not simulated):\n";
    for (const SkippedRow& s : r.skipped)
      out += "  line " + std::to_string(s.line) +
             (s.section.empty() ? "" : " [" + s.section + "]") + ": " + s.reason + "\n";
  }
  return out;
}

std::string RenderJson(const Report& r) {
  nlohmann::ordered_json j;
  j["dataset"] = r.dataset;
  j["format"] = r.format;
  j["hardware"] = r.hardware;
  const nlohmann::ordered_json overall = StatsJson(r.overall);
  for (auto it = overall.begin(); it != overall.end(); ++it) j[it.key()] = it.value();
  auto categories = [](const std::vector<Category>& cs) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const Category& c : cs) {
      nlohmann::ordered_json e;
      e["category"] = c.name;
      const nlohmann::ordered_json s = StatsJson(c.stats);
      for (auto it = s.begin(); it != s.end(); ++it) e[it.key()] = it.value();
      a.push_back(e);
    }
    return a;
  };
  j["by_gpus"] = categories(r.by_gpus);
  j["by_parallelism"] = categories(r.by_parallelism);
  if (!r.section.empty()) j["section"] = r.section;
  if (!r.by_tag.empty()) {
    nlohmann::ordered_json tags;
    for (const Grouping& g : r.by_tag) tags[g.name] = categories(g.categories);
    j["by_tag"] = tags;
  }
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  for (const SkippedRow& s : r.skipped) {
    nlohmann::ordered_json e;
    e["line"] = s.line;
    if (!s.section.empty()) e["section"] = s.section;
    e["reason"] = s.reason;
    skipped.push_back(e);
  }
  j["skipped"] = skipped;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const RowResult& row : r.rows) {
    const calibrate::StepRow& s = row.row.step;
    nlohmann::ordered_json e;
    e["line"] = s.line;
    e["hardware"] = row.hardware;
    e["gpus"] = s.gpus;
    e["layers"] = s.layers;
    e["hidden"] = s.hidden;
    e["heads"] = s.heads;
    e["seq_len"] = s.seq_len;
    e["global_batch"] = s.global_batch;
    e["micro_batch"] = s.micro_batch;
    e["tp"] = s.tp;
    e["pp"] = s.pp;
    e["dp"] = s.dp;
    e["parallelism"] = row.parallelism;
    e["measured_step_seconds"] = row.measured_s;
    e["predicted_step_seconds"] = row.predicted_s;
    e["pct_error"] = 100 * row.error;
    e["fits"] = row.fits;
    e["peak_gib"] = row.peak_bytes / (1024.0 * 1024.0 * 1024.0);
    if (!row.row.source.empty()) e["source"] = row.row.source;
    rows.push_back(e);
  }
  j["rows"] = rows;
  return j.dump(2) + "\n";
}

std::string RenderCsv(const Report& r) {
  std::string out =
      "line,hardware,gpus,layers,hidden,heads,seq_len,global_batch,micro_batch,tp,pp,dp,"
      "parallelism,measured_step_seconds,predicted_step_seconds,pct_error\n";
  for (const RowResult& row : r.rows) {
    const calibrate::StepRow& s = row.row.step;
    out += std::to_string(s.line) + "," + row.hardware + "," + std::to_string(s.gpus) + "," +
           std::to_string(s.layers) + "," + std::to_string(s.hidden) + "," +
           std::to_string(s.heads) + "," + std::to_string(s.seq_len) + "," +
           std::to_string(s.global_batch) + "," + std::to_string(s.micro_batch) + "," +
           std::to_string(s.tp) + "," + std::to_string(s.pp) + "," + std::to_string(s.dp) + "," +
           row.parallelism + "," + Fmt("%.9g", row.measured_s) + "," +
           Fmt("%.9g", row.predicted_s) + "," + Fmt("%.4f", 100 * row.error) + "\n";
  }
  return out;
}

std::string RenderSvg(const Report& r) {
  // Log-log axes over whole decades covering every measured and predicted time.
  double lo = 1e300, hi = 0;
  for (const RowResult& row : r.rows) {
    lo = std::min({lo, row.measured_s, row.predicted_s});
    hi = std::max({hi, row.measured_s, row.predicted_s});
  }
  if (r.rows.empty()) lo = hi = 1;
  const int d0 = static_cast<int>(std::floor(std::log10(lo)));
  int d1 = static_cast<int>(std::ceil(std::log10(hi)));
  if (d1 <= d0) d1 = d0 + 1;
  const double left = 90, top = 50, size = 520;
  auto pos = [&](double seconds) { return (std::log10(seconds) - d0) / (d1 - d0) * size; };
  auto X = [&](double s) { return Fmt("%.2f", left + pos(s)); };
  auto Y = [&](double s) { return Fmt("%.2f", top + size - pos(s)); };
  const double lo_s = std::pow(10.0, d0), hi_s = std::pow(10.0, d1);
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"660\" height=\"660\" "
      "viewBox=\"0 0 660 660\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"660\" height=\"660\" fill=\"white\"/>\n";
  svg += "<text x=\"330\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" +
         XmlEscape(BaseName(r.dataset)) + " on " +
         XmlEscape(r.hardware.empty() ? "per-row hardware" : BaseName(r.hardware)) + ": MAPE " +
         Pct(r.overall.mape) + "%, worst " + Pct(r.overall.worst_abs) + "% (" +
         std::to_string(r.overall.rows) + " runs)</text>\n";
  // +-10% band: between predicted = 0.9 * measured and 1.1 * measured, clipped to the axes.
  auto clip = [&](double s) { return std::clamp(s, lo_s, hi_s); };
  svg += "<polygon fill=\"#dbe9f6\" points=\"" + X(lo_s) + "," + Y(clip(1.1 * lo_s)) + " " +
         X(clip(hi_s / 1.1)) + "," + Y(hi_s) + " " + X(hi_s) + "," + Y(hi_s) + " " + X(hi_s) + "," +
         Y(0.9 * hi_s) + " " + X(clip(lo_s / 0.9)) + "," + Y(lo_s) + " " + X(lo_s) + "," + Y(lo_s) +
         "\"/>\n";
  // Grid and ticks at 1, 2, 5 x 10^d.
  for (int d = d0; d <= d1; ++d) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double s = m * std::pow(10.0, d);
      if (s > hi_s * 1.0000001) break;
      const bool major = m == 1.0;
      const std::string stroke = major ? "#bbbbbb" : "#e6e6e6";
      svg += "<line x1=\"" + X(s) + "\" y1=\"" + Fmt("%.2f", top) + "\" x2=\"" + X(s) + "\" y2=\"" +
             Fmt("%.2f", top + size) + "\" stroke=\"" + stroke + "\"/>\n";
      svg += "<line x1=\"" + Fmt("%.2f", left) + "\" y1=\"" + Y(s) + "\" x2=\"" +
             Fmt("%.2f", left + size) + "\" y2=\"" + Y(s) + "\" stroke=\"" + stroke + "\"/>\n";
      const std::string label = Fmt("%g", s);
      svg += "<text x=\"" + X(s) + "\" y=\"" + Fmt("%.2f", top + size + 18) +
             "\" text-anchor=\"middle\">" + label + "</text>\n";
      svg += "<text x=\"" + Fmt("%.2f", left - 6) + "\" y=\"" + Y(s) +
             "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + label + "</text>\n";
    }
  }
  svg += "<rect x=\"" + Fmt("%.2f", left) + "\" y=\"" + Fmt("%.2f", top) + "\" width=\"" +
         Fmt("%.2f", size) + "\" height=\"" + Fmt("%.2f", size) +
         "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += "<line x1=\"" + X(lo_s) + "\" y1=\"" + Y(lo_s) + "\" x2=\"" + X(hi_s) + "\" y2=\"" +
         Y(hi_s) + "\" stroke=\"#1f4e79\" stroke-width=\"1.5\"/>\n";
  for (const RowResult& row : r.rows) {
    svg += "<circle cx=\"" + X(row.measured_s) + "\" cy=\"" + Y(row.predicted_s) +
           "\" r=\"3\" fill=\"#d62728\" fill-opacity=\"0.6\"><title>line " +
           std::to_string(row.row.step.line) + ": " + XmlEscape(row.config) + ", error " +
           SignedPct(row.error) + "%</title></circle>\n";
  }
  svg += "<text x=\"" + Fmt("%.2f", left + size / 2) + "\" y=\"" + Fmt("%.2f", top + size + 40) +
         "\" text-anchor=\"middle\">measured step time (s, log scale)</text>\n";
  svg += "<text transform=\"translate(24," + Fmt("%.2f", top + size / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">predicted step time (s, log scale)</text>\n";
  svg += "<text x=\"" + Fmt("%.2f", left + 8) + "\" y=\"" + Fmt("%.2f", top + 16) +
         "\">line: predicted = measured; band: within 10%</text>\n";
  svg += "</svg>\n";
  return svg;
}

std::string RenderMarkdown(const Report& r, const std::string& title) {
  std::string out = "### " + title + "\n\n";
  out += "`" + r.dataset + "`" + (r.section.empty() ? "" : " (section " + r.section + ")") +
         " on `" + (r.hardware.empty() ? "per-row hardware" : r.hardware) +
         "`: " + std::to_string(r.overall.rows) + " runs, **MAPE " + Pct(r.overall.mape) +
         "%**, median " + Pct(r.overall.median_abs) + "%, worst " + Pct(r.overall.worst_abs) +
         "%, mean signed error " + SignedPct(r.overall.bias) + "%.\n\n";
  auto table = [&](const std::string& head, const std::vector<Category>& cs) {
    out += "| " + head +
           " | runs | MAPE | median | worst | mean signed |\n|---|---|---|---|---|---|\n";
    for (const Category& c : cs)
      out += "| " + c.name + " | " + std::to_string(c.stats.rows) + " | " + Pct(c.stats.mape) +
             "% | " + Pct(c.stats.median_abs) + "% | " + Pct(c.stats.worst_abs) + "% | " +
             SignedPct(c.stats.bias) + "% |\n";
    out += "\n";
  };
  table("GPUs", r.by_gpus);
  table("parallelism", r.by_parallelism);
  for (const Grouping& g : r.by_tag) table(g.name, g.categories);
  if (const std::string m = MemoryLine(r); !m.empty()) out += m + ".\n\n";
  if (!r.skipped.empty()) {
    out += std::to_string(r.skipped.size()) + " rows skipped (not simulated):\n\n";
    for (const SkippedRow& s : r.skipped)
      out += "- line " + std::to_string(s.line) + ": " + s.reason + "\n";
    out += "\n";
  }
  return out;
}

}  // namespace foresight::validate
