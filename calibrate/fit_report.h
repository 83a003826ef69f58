// FitSection: what every fitter returns besides its parameters, and the Markdown fit report.
//
// Quality numbers over the points of one fit (m = measured, p = predicted, both in the
// section's unit, usually seconds):
//   R^2                 = 1 - sum (m - p)^2 / sum (m - mean(m))^2       (on the raw values)
//   relative residual   = (p - m) / m
//   median, worst       = median and maximum of |relative residual|
//   MAPE                = mean of |relative residual|
// O(points log points).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace foresight::calibrate {

struct FitParameter {
  std::string key;  // profile key ("node.scale_up.efficiency") or a descriptive name
  double value = 0;
  std::string unit;  // "s", "B/s", "1", ...
  std::string note;  // e.g. "clamped to 1.0", "not in the profile schema"
};

struct FitPoint {
  std::string label;  // what the point is ("all_reduce n=8 S=1048576 out-of-place")
  double measured = 0;
  double predicted = 0;
  double weight = 1;  // final robust weight (1 = full)
};

struct FitQuality {
  std::size_t points = 0;
  double r_squared = 0;
  double median_abs_rel = 0;
  double worst_abs_rel = 0;
  double mape = 0;
};
FitQuality ComputeQuality(const std::vector<FitPoint>& points);

struct FitSection {
  std::string title;
  std::vector<std::string> sources;  // input files
  std::string model;                 // the equation fitted
  std::vector<FitParameter> parameters;
  std::vector<FitPoint> points;
  std::string unit = "s";  // unit of measured / predicted
  std::vector<std::string> notes;
  bool in_profile = true;  // false: reported only (the profile schema has no field for it)
  FitQuality quality;      // filled by ComputeQuality(points)
};

// Markdown: a title, the command line, a summary table (one row per section: points, R^2,
// median and worst |relative residual|), then each section with its parameters, notes and the
// per-point table (at most `max_points_per_section` rows, evenly subsampled; 0 = all).
std::string RenderFitReport(const std::string& title, const std::string& command,
                            const std::vector<FitSection>& sections,
                            std::size_t max_points_per_section = 0);

// Shortest round-trip decimal ("%.17g" trimmed to the fewest digits that read back the same).
std::string FormatDouble(double value);

}  // namespace foresight::calibrate
