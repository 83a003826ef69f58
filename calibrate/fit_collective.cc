#include "calibrate/fit_collective.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "calibrate/internal/fit_text.h"

namespace foresight::calibrate {
namespace {

std::string PointLabel(const CommSeries& s, const CommPoint& p) {
  return std::string(internal::BaseName(s.path)) + ":" + std::to_string(p.line) + " " +
         std::string(CommOpName(s.op)) + " n=" + std::to_string(s.ranks) +
         " S=" + FormatDouble(p.bytes) + (p.in_place ? " in-place" : " out-of-place");
}

std::vector<std::string> Sources(const std::vector<const CommSeries*>& series) {
  std::set<std::string> paths;
  for (const CommSeries* s : series) paths.insert(s->path);
  return {paths.begin(), paths.end()};
}

// Fits T - offset = a * alpha + b * inv_bw with relative residuals against T.
struct TwoTermRows {
  std::vector<double> a, b, offset, t;
  std::vector<std::string> labels;
};

RobustResult FitTwoTerms(const TwoTermRows& rows, const RobustOptions& options) {
  const int n = static_cast<int>(rows.t.size());
  Eigen::MatrixXd m(n, 2);
  Eigen::VectorXd y(n), d(n);
  for (int i = 0; i < n; ++i) {
    m(i, 0) = rows.a[i];
    m(i, 1) = rows.b[i];
    y[i] = rows.t[i] - rows.offset[i];
    d[i] = rows.t[i];
  }
  return RobustLeastSquares(m, y, d, {true, true}, options);
}

void AddPoints(FitSection& section, const TwoTermRows& rows, const RobustResult& fit) {
  for (std::size_t i = 0; i < rows.t.size(); ++i) {
    const double predicted = rows.offset[i] + rows.a[i] * fit.x[0] + rows.b[i] * fit.x[1];
    section.points.push_back(
        {rows.labels[i], rows.t[i], predicted, fit.weights[static_cast<int>(i)]});
  }
  section.quality = ComputeQuality(section.points);
}

// When the fitted busbw exceeds the line rate, fixes 1/busbw at 1/line rate (efficiency 1, the
// schema's maximum) and refits alpha alone, so the written link is the best one the schema allows.
RobustResult ClampToLineRate(const TwoTermRows& rows, RobustResult fit, double line_rate,
                             const RobustOptions& options) {
  if (fit.x[1] <= 0 || 1.0 / fit.x[1] <= line_rate) return fit;
  const int n = static_cast<int>(rows.t.size());
  Eigen::MatrixXd m(n, 1);
  Eigen::VectorXd y(n), d(n);
  for (int i = 0; i < n; ++i) {
    m(i, 0) = rows.a[i];
    y[i] = rows.t[i] - rows.offset[i] - rows.b[i] / line_rate;
    d[i] = rows.t[i];
  }
  const RobustResult alpha = RobustLeastSquares(m, y, d, {true}, options);
  fit.x[0] = alpha.x[0];
  fit.x[1] = 1.0 / line_rate;
  fit.weights = alpha.weights;
  return fit;
}

std::optional<hw::LinkSpec> LinkFromFit(const RobustResult& fit, const hw::LinkSpec& base,
                                        const std::string& key, FitSection& section) {
  hw::LinkSpec link = base;
  link.latency_seconds = fit.x[0];
  if (fit.x[1] <= 0) {
    section.notes.push_back("the fit found no bandwidth term (1/busbw = 0); " + key +
                            " keeps the base profile's values");
    return std::nullopt;
  }
  const double busbw = 1.0 / fit.x[1];
  double efficiency = busbw / base.bandwidth_bytes_per_s;
  std::string note = "busbw / bandwidth_bytes_per_s = " + FormatDouble(busbw) + " / " +
                     FormatDouble(base.bandwidth_bytes_per_s);
  if (efficiency >= 1.0) {
    note +=
        "; at the schema's maximum 1: the unconstrained fit wanted more bandwidth than the "
        "line rate (the measured algorithm beats this model), alpha refitted with it fixed";
    efficiency = 1.0;
  }
  link.efficiency = efficiency;
  section.parameters.push_back({key + ".latency_seconds", link.latency_seconds, "s", "alpha"});
  section.parameters.push_back({key + ".efficiency", link.efficiency, "1", note});
  section.parameters.push_back({key + ".bandwidth_bytes_per_s", link.bandwidth_bytes_per_s, "B/s",
                                "line rate, from the base profile (not fitted)"});
  return link;
}

}  // namespace

std::optional<hw::GroupSpan> SpanOfSeries(const CommSeries& s) {
  if (s.ranks < 1 || s.nodes < 1 || s.ranks % s.nodes != 0) return std::nullopt;
  return hw::GroupSpan{static_cast<std::int32_t>(s.ranks),
                       static_cast<std::int32_t>(s.ranks / s.nodes),
                       static_cast<std::int32_t>(s.nodes)};
}

std::optional<LinkDesign> DesignFor(CommOp op, const hw::GroupSpan& span) {
  LinkDesign d;
  if (op == CommOp::kSendRecv) {
    (span.nodes <= 1 ? d.up_steps : d.nic_steps) = 1;
    (span.nodes <= 1 ? d.up_bytes : d.nic_bytes) = 1;
    return d;
  }
  if (op != CommOp::kAllReduce && op != CommOp::kAllGather && op != CommOp::kReduceScatter)
    return std::nullopt;
  if (span.nodes <= 1) {
    d.up_steps = LatencySteps(op, span.size);
    d.up_bytes = BusFactor(op, span.size);
    return d;
  }
  if (span.ranks_per_node <= 1) {
    d.nic_steps = LatencySteps(op, span.nodes);
    d.nic_bytes = BusFactor(op, span.nodes);
    return d;
  }
  const std::int64_t p = span.ranks_per_node;
  // Intra-node reduce-scatter and/or all-gather over p ranks: (p-1) steps, (p-1)/p bytes each.
  const double phases = op == CommOp::kAllReduce ? 2.0 : 1.0;
  d.up_steps = phases * LatencySteps(CommOp::kAllGather, p);
  d.up_bytes = phases * BusFactor(CommOp::kAllGather, p);
  // The inter-node ring moves the S/p shard.
  d.nic_steps = LatencySteps(op, span.nodes);
  d.nic_bytes = BusFactor(op, span.nodes) / static_cast<double>(p);
  return d;
}

std::vector<FitSection> FitCollectiveGroups(const std::vector<CommSeries>& series,
                                            const RobustOptions& options) {
  std::map<std::tuple<int, std::string, bool, std::string>, std::vector<const CommSeries*>> groups;
  for (const CommSeries& s : series) {
    groups[{static_cast<int>(s.op), s.algorithm, !s.intra_node(), s.hardware}].push_back(&s);
  }
  std::vector<FitSection> sections;
  for (const auto& [key, members] : groups) {
    const CommSeries& first = *members.front();
    FitSection section;
    section.title = "collective " + std::string(CommOpName(first.op)) + ", algorithm " +
                    first.algorithm + ", " + (first.intra_node() ? "intra-node" : "inter-node") +
                    (first.hardware.empty() ? "" : ", " + first.hardware);
    section.model = "T = LatencySteps(op, n) * alpha + BusFactor(op, n) * S / busbw";
    section.sources = Sources(members);
    section.in_profile = false;
    TwoTermRows rows;
    for (const CommSeries* s : members) {
      for (const CommPoint& p : s->points) {
        rows.a.push_back(LatencySteps(s->op, s->ranks));
        rows.b.push_back(BusFactor(s->op, s->ranks) * p.bytes);
        rows.offset.push_back(0);
        rows.t.push_back(p.seconds);
        rows.labels.push_back(PointLabel(*s, p));
      }
    }
    if (rows.t.size() < 2) continue;
    const RobustResult fit = FitTwoTerms(rows, options);
    section.parameters.push_back({"alpha", fit.x[0], "s", "per ring step"});
    section.parameters.push_back(
        {"busbw", fit.x[1] > 0 ? 1.0 / fit.x[1] : 0.0, "B/s", "nccl-tests bus bandwidth"});
    for (const CommSeries* s : members) {
      section.notes.push_back(std::string(internal::BaseName(s->path)) + ": n=" +
                              std::to_string(s->ranks) + ", nodes=" + std::to_string(s->nodes));
    }
    AddPoints(section, rows, fit);
    sections.push_back(std::move(section));
  }
  return sections;
}

CollectiveLinkFit FitCollectiveLinks(const std::vector<CommSeries>& series,
                                     const hw::HardwareProfile& base,
                                     const RobustOptions& options) {
  CollectiveLinkFit result;
  std::vector<const CommSeries*> intra, inter;
  std::vector<std::string> skipped;
  for (const CommSeries& s : series) {
    const auto span = SpanOfSeries(s);
    if (!span || !DesignFor(s.op, *span)) {
      skipped.push_back(std::string(internal::BaseName(s.path)) + " (" +
                        std::string(CommOpName(s.op)) +
                        (span ? ": not priced by the simulator)" : ": nodes do not divide ranks)"));
      continue;
    }
    (s.intra_node() ? intra : inter).push_back(&s);
  }
  auto build = [&](const std::vector<const CommSeries*>& members, const hw::LinkSpec* up) {
    TwoTermRows rows;
    for (const CommSeries* s : members) {
      const LinkDesign d = *DesignFor(s->op, *SpanOfSeries(*s));
      for (const CommPoint& p : s->points) {
        const bool nic = up != nullptr;
        rows.a.push_back(nic ? d.nic_steps : d.up_steps);
        rows.b.push_back((nic ? d.nic_bytes : d.up_bytes) * p.bytes);
        rows.offset.push_back(nic ? d.up_steps * up->latency_seconds +
                                        d.up_bytes * p.bytes / up->EffectiveBytesPerS()
                                  : 0.0);
        rows.t.push_back(p.seconds);
        rows.labels.push_back(PointLabel(*s, p));
      }
    }
    return rows;
  };
  auto notes = [&](FitSection& section) {
    for (const std::string& s : skipped) section.notes.push_back("not used: " + s);
  };
  if (!intra.empty()) {
    FitSection section;
    section.title = "node.scale_up (intra-node collectives)";
    section.model =
        "T = a_up(op, n) * latency_seconds + b_up(op, n) * S / (bandwidth_bytes_per_s * "
        "efficiency)   (models/hw/collective.h, flat ring over n ranks)";
    section.sources = Sources(intra);
    const TwoTermRows rows = build(intra, nullptr);
    const RobustResult fit = ClampToLineRate(rows, FitTwoTerms(rows, options),
                                             base.node.scale_up.bandwidth_bytes_per_s, options);
    result.scale_up = LinkFromFit(fit, base.node.scale_up, "node.scale_up", section);
    notes(section);
    AddPoints(section, rows, fit);
    result.sections.push_back(std::move(section));
  }
  if (!inter.empty()) {
    const hw::LinkSpec up = result.scale_up ? *result.scale_up : base.node.scale_up;
    FitSection section;
    section.title = "network.nic (inter-node collectives)";
    section.model =
        "T = [scale-up part, fixed] + a_nic(op, N) * latency_seconds + b_nic(op, N, p) * S / "
        "(bandwidth_bytes_per_s * efficiency)   (models/hw/collective.h, hierarchical)";
    section.sources = Sources(inter);
    if (!result.scale_up)
      section.notes.push_back("no intra-node series: the scale-up part uses the base profile");
    const TwoTermRows rows = build(inter, &up);
    const RobustResult fit = ClampToLineRate(rows, FitTwoTerms(rows, options),
                                             base.network.nic.bandwidth_bytes_per_s, options);
    result.nic = LinkFromFit(fit, base.network.nic, "network.nic", section);
    notes(section);
    AddPoints(section, rows, fit);
    result.sections.push_back(std::move(section));
  }
  return result;
}

}  // namespace foresight::calibrate
