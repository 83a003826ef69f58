#include "calibrate/validate_collectives.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "calibrate/comm_series.h"
#include "calibrate/import_nccl_tests.h"
#include "calibrate/import_vtrain.h"
#include "models/hw/algorithms.h"
#include "models/hw/hardware.h"

namespace foresight::calibrate {
namespace {

namespace fs = std::filesystem;

constexpr double kLargeBytes = 64.0 * 1024 * 1024;  // busbw target from here up

struct Point {
  double bytes = 0;
  double seconds = 0;
  bool fit = false;  // even-numbered size
};

struct Series {
  std::string file;    // file name (and system column for summaries)
  std::string family;  // parameter set
  std::string base;    // catalog profile
  std::string log_algorithm;
  hw::NetOp op = hw::NetOp::kAllReduce;
  hw::Algorithm algorithm = hw::Algorithm::kAuto;
  hw::GroupSpan span;
  std::int64_t nodes = 1;
  std::vector<Point> points;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<hw::NetOp> NetOpOfComm(CommOp op) {
  switch (op) {
    case CommOp::kAllReduce:
      return hw::NetOp::kAllReduce;
    case CommOp::kAllGather:
      return hw::NetOp::kAllGather;
    case CommOp::kReduceScatter:
      return hw::NetOp::kReduceScatter;
    case CommOp::kAllToAll:
      return hw::NetOp::kAllToAll;
    case CommOp::kSendRecv:
      return hw::NetOp::kSendRecv;
    case CommOp::kBroadcast:
      return hw::NetOp::kBroadcast;
    case CommOp::kReduce:
      return hw::NetOp::kReduce;
  }
  return std::nullopt;
}

std::string BaseFor(const std::string& text) {
  const std::string t = Lower(text);
  if (t.find("h200") != std::string::npos) return "dgx-h200";
  if (t.find("h100") != std::string::npos) return "dgx-h100";
  if (t.find("a100") != std::string::npos) return "dgx-a100-80gb";
  return "";
}

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return Error::At(path.string(), 0, 0, "cannot read file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds `cs` as a Series (split into fit / held-out sizes).
void Add(const CommSeries& cs, const std::string& file, const std::string& family,
         std::vector<Series>& out) {
  const std::optional<hw::NetOp> op = NetOpOfComm(cs.op);
  if (!op || cs.ranks < 2 || cs.nodes < 1 || cs.ranks % cs.nodes != 0) return;
  Series s;
  s.file = file;
  s.family = family;
  s.base = BaseFor(family + " " + cs.hardware);
  if (s.base.empty()) return;
  s.op = *op;
  s.log_algorithm = cs.algorithm;
  s.nodes = cs.nodes;
  s.span = hw::GroupSpan{static_cast<std::int32_t>(cs.ranks),
                         static_cast<std::int32_t>(cs.ranks / cs.nodes),
                         static_cast<std::int32_t>(cs.nodes)};
  if (cs.algorithm == "ring") s.algorithm = hw::Algorithm::kRing;
  if (cs.algorithm == "nvls") s.algorithm = hw::Algorithm::kNvls;
  std::set<double> sizes;
  for (const CommPoint& p : cs.points) sizes.insert(p.bytes);
  const std::vector<double> ordered(sizes.begin(), sizes.end());
  for (const CommPoint& p : cs.points) {
    const auto index = std::lower_bound(ordered.begin(), ordered.end(), p.bytes) - ordered.begin();
    s.points.push_back({p.bytes, p.seconds, index % 2 == 0});
  }
  out.push_back(std::move(s));
}

Result<std::vector<Series>> Load(const std::string& data_dir) {
  std::vector<Series> out;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(data_dir) / "nccl-tests", ec)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  if (ec)
    return Error::At(data_dir + "/nccl-tests", 0, 0, "cannot list directory: " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    Result<std::string> text = ReadText(path);
    if (!text.ok()) return text.error();
    const std::string name = path.stem().string();
    const std::size_t first = name.find('_');
    const std::size_t second = name.find('_', first + 1);
    const std::string family = name.substr(0, second);
    if (LooksLikeNcclTests(*text)) {
      Result<std::vector<CommSeries>> series = ParseNcclTests(*text, path.string());
      if (!series.ok()) return series.error();
      for (const CommSeries& cs : *series) Add(cs, path.filename().string(), family, out);
    } else if (LooksLikeBusbwSummary(*text)) {
      Result<std::vector<CommSeries>> series = ParseBusbwSummary(*text, path.string());
      if (!series.ok()) return series.error();
      for (const CommSeries& cs : *series) {
        Add(cs, path.filename().string() + " [" + cs.hardware + "]", "azure " + cs.hardware, out);
      }
    }
  }
  std::vector<fs::path> csvs;
  for (const auto& entry : fs::directory_iterator(fs::path(data_dir) / "vtrain-a100", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("allreduce_", 0) == 0 && entry.path().extension() == ".csv") {
      csvs.push_back(entry.path());
    }
  }
  if (ec)
    return Error::At(data_dir + "/vtrain-a100", 0, 0, "cannot list directory: " + ec.message());
  std::sort(csvs.begin(), csvs.end(), [](const fs::path& a, const fs::path& b) {
    return a.string().size() != b.string().size() ? a.string().size() < b.string().size() : a < b;
  });
  for (const fs::path& path : csvs) {
    Result<std::string> text = ReadText(path);
    if (!text.ok()) return text.error();
    Result<CommSeries> series = ParseVtrainAllReduce(*text, path.string());
    if (!series.ok()) return series.error();
    series->hardware = "A100";
    Add(*series, "vtrain-a100/" + path.filename().string(), "vtrain_a100", out);
  }
  return out;
}

double ModelSeconds(const hw::HardwareProfile& profile, const Series& s, double bytes,
                    hw::Pricing* chosen = nullptr) {
  hw::Algorithm algorithm = s.algorithm;
  if (algorithm != hw::Algorithm::kAuto && !hw::Supports(profile, s.op, algorithm, s.span)) {
    algorithm = hw::Algorithm::kAuto;
  }
  Result<hw::Pricing> p = hw::PriceCollective(profile, s.op, bytes, s.span, algorithm);
  if (!p.ok()) return std::numeric_limits<double>::quiet_NaN();
  if (chosen != nullptr) *chosen = *p;
  return p->seconds();
}

// Sum of squared relative errors of the fit points of `series` under `profile`.
double Objective(const hw::HardwareProfile& profile, const std::vector<const Series*>& series) {
  double sum = 0;
  for (const Series* s : series) {
    for (const Point& p : s->points) {
      if (!p.fit) continue;
      const double r = ModelSeconds(profile, *s, p.bytes) / p.seconds - 1;
      sum += std::isfinite(r) ? r * r : 1e6;
    }
  }
  return sum;
}

// Nelder-Mead on 2 parameters (Lagarias et al. 1998 coefficients: 1, 2, 0.5, 0.5).
std::array<double, 2> NelderMead(const std::function<double(const std::array<double, 2>&)>& f,
                                 std::array<double, 2> start, double step, int iterations) {
  std::array<std::array<double, 2>, 3> x = {start, start, start};
  x[1][0] += step;
  x[2][1] += step;
  std::array<double, 3> fx = {f(x[0]), f(x[1]), f(x[2])};
  for (int it = 0; it < iterations; ++it) {
    std::array<int, 3> order = {0, 1, 2};
    std::sort(order.begin(), order.end(), [&](int a, int b) { return fx[a] < fx[b]; });
    const auto best = x[order[0]], mid = x[order[1]], worst = x[order[2]];
    const double f_best = fx[order[0]], f_mid = fx[order[1]], f_worst = fx[order[2]];
    if (std::fabs(f_worst - f_best) <= 1e-12 * (1 + std::fabs(f_best))) break;
    const std::array<double, 2> centroid = {(best[0] + mid[0]) / 2, (best[1] + mid[1]) / 2};
    const auto along = [&](double t) {
      return std::array<double, 2>{centroid[0] + t * (worst[0] - centroid[0]),
                                   centroid[1] + t * (worst[1] - centroid[1])};
    };
    const auto reflected = along(-1);
    const double f_reflected = f(reflected);
    std::array<double, 2> next;
    double f_next;
    if (f_reflected < f_best) {
      const auto expanded = along(-2);
      const double f_expanded = f(expanded);
      next = f_expanded < f_reflected ? expanded : reflected;
      f_next = std::min(f_expanded, f_reflected);
    } else if (f_reflected < f_mid) {
      next = reflected;
      f_next = f_reflected;
    } else {
      const auto contracted = f_reflected < f_worst ? along(-0.5) : along(0.5);
      const double f_contracted = f(contracted);
      if (f_contracted < std::min(f_reflected, f_worst)) {
        next = contracted;
        f_next = f_contracted;
      } else {  // shrink towards the best
        for (int k : {order[1], order[2]}) {
          x[k] = {(x[k][0] + best[0]) / 2, (x[k][1] + best[1]) / 2};
          fx[k] = f(x[k]);
        }
        continue;
      }
    }
    x[order[2]] = next;
    fx[order[2]] = f_next;
  }
  const int best = static_cast<int>(std::min_element(fx.begin(), fx.end()) - fx.begin());
  return x[best];
}

struct LinkFit {
  bool fitted = false;
  int points = 0;
  double rms = 0;
};

LinkFit FitLink(hw::HardwareProfile& profile, hw::LinkSpec& link,
                const std::vector<const Series*>& series) {
  LinkFit fit;
  for (const Series* s : series) {
    for (const Point& p : s->points) fit.points += p.fit ? 1 : 0;
  }
  if (fit.points < 2) return fit;
  const auto f = [&](const std::array<double, 2>& x) {
    link.latency_seconds = std::exp(x[0]);
    link.efficiency = std::exp(x[1]);
    return Objective(profile, series);
  };
  const std::array<double, 2> start = {std::log(std::max(link.latency_seconds, 1e-6)),
                                       std::log(link.efficiency)};
  // Two restarts from the previous optimum guard against an early collapse of the simplex.
  std::array<double, 2> x = NelderMead(f, start, 0.7, 400);
  x = NelderMead(f, x, 0.3, 400);
  f(x);
  fit.fitted = true;
  fit.rms = std::sqrt(Objective(profile, series) / fit.points);
  return fit;
}

// fabric.nvls_efficiency by golden-section search on [0.2, 1] (the objective is unimodal in
// it: it scales the bytes term of the NVLS-priced points only). Not fitted (kept) when no fit
// point is priced with NVLS.
bool FitNvls(hw::HardwareProfile& profile, const std::vector<const Series*>& series) {
  double& x = profile.fabric.nvls_efficiency;
  const double keep = x;
  x = 0.3;
  const double f_low = Objective(profile, series);
  x = 0.9;
  const double f_high = Objective(profile, series);
  if (f_low == f_high) {
    x = keep;
    return false;
  }
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = 0.2, b = 1.0;
  double c = b - ratio * (b - a), d = a + ratio * (b - a);
  for (int i = 0; i < 60; ++i) {
    x = c;
    const double fc = Objective(profile, series);
    x = d;
    const double fd = Objective(profile, series);
    if (fc < fd) {
      b = d;
    } else {
      a = c;
    }
    c = b - ratio * (b - a);
    d = a + ratio * (b - a);
  }
  x = (a + b) / 2;
  return true;
}

// fabric.ring_ramp_bytes_per_rank (the ring ramp of models/hw/algorithms.h) by golden-section
// search over log(r) on [log 4 KiB, log 1 GiB] with the links fixed; kept only when it lowers
// the objective below the model without the ramp (r = 0), else left at 0. Returns whether set.
bool FitRamp(hw::HardwareProfile& profile, const std::vector<const Series*>& series) {
  double& c = profile.fabric.ring_ramp_bytes_per_rank;
  c = 0;
  const double f_off = Objective(profile, series);
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(4096.0), b = std::log(1073741824.0);
  for (int i = 0; i < 60; ++i) {
    const double x1 = b - ratio * (b - a), x2 = a + ratio * (b - a);
    c = std::exp(x1);
    const double f1 = Objective(profile, series);
    c = std::exp(x2);
    const double f2 = Objective(profile, series);
    if (f1 < f2) {
      b = x2;
    } else {
      a = x1;
    }
  }
  c = std::exp((a + b) / 2);
  if (Objective(profile, series) < f_off) return true;
  c = 0;
  return false;
}

// fabric.collective_launch_seconds (models/hw/algorithms.h "Launch") by golden-section search on
// [0, 200 us] with the links fixed; kept only when it lowers the objective below 0 (no extra
// launch cost), else left at 0. Returns whether set.
bool FitLaunch(hw::HardwareProfile& profile, const std::vector<const Series*>& series) {
  double& c = profile.fabric.collective_launch_seconds;
  c = 0;
  const double f_off = Objective(profile, series);
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = 0, b = 2e-4;
  for (int i = 0; i < 60; ++i) {
    const double x1 = b - ratio * (b - a), x2 = a + ratio * (b - a);
    c = x1;
    const double f1 = Objective(profile, series);
    c = x2;
    const double f2 = Objective(profile, series);
    if (f1 < f2) {
      b = x2;
    } else {
      a = x1;
    }
  }
  c = (a + b) / 2;
  if (Objective(profile, series) < f_off) return true;
  c = 0;
  return false;
}

// fabric.tree_pipeline_bytes (the tree pipeline fill of models/hw/algorithms.h) by golden-section
// search over log(F) on [log 64 KiB, log 1 GiB] with the links fixed; kept only when it lowers
// the objective below the model without the fill (F = 0), else left at 0. Returns whether set.
bool FitTreeFill(hw::HardwareProfile& profile, const std::vector<const Series*>& series) {
  double& c = profile.fabric.tree_pipeline_bytes;
  c = 0;
  const double f_off = Objective(profile, series);
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(65536.0), b = std::log(1073741824.0);
  for (int i = 0; i < 60; ++i) {
    const double x1 = b - ratio * (b - a), x2 = a + ratio * (b - a);
    c = std::exp(x1);
    const double f1 = Objective(profile, series);
    c = std::exp(x2);
    const double f2 = Objective(profile, series);
    if (f1 < f2) {
      b = x2;
    } else {
      a = x1;
    }
  }
  c = std::exp((a + b) / 2);
  if (Objective(profile, series) < f_off) return true;
  c = 0;
  return false;
}

// fabric.p2p_channel_bytes_per_s (send/recv between nodes on NCCL's few p2p channels per peer,
// models/hw/algorithms.h) by golden-section search over log(b) on [log 1 GB/s, log 1 TB/s] with
// the links fixed; kept only when it lowers the objective below the uncapped model (b = 0).
bool FitP2pChannel(hw::HardwareProfile& profile, const std::vector<const Series*>& series,
                   double& c) {
  c = 0;
  if (series.empty()) return false;
  const double f_off = Objective(profile, series);
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(1e9), b = std::log(1e12);
  for (int i = 0; i < 60; ++i) {
    const double x1 = b - ratio * (b - a), x2 = a + ratio * (b - a);
    c = std::exp(x1);
    const double f1 = Objective(profile, series);
    c = std::exp(x2);
    const double f2 = Objective(profile, series);
    if (f1 < f2) {
      b = x2;
    } else {
      a = x1;
    }
  }
  c = std::exp((a + b) / 2);
  if (Objective(profile, series) < f_off * (1 - 1e-9)) return true;
  c = 0;
  return false;
}

std::string Format(const char* format, double a) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, a);
  return buffer;
}

std::string Percent(double fraction) { return Format("%+.1f%%", 100 * fraction); }

}  // namespace

Result<std::string> ValidateCollectives(const std::string& data_dir) {
  Result<std::vector<Series>> loaded = Load(data_dir);
  if (!loaded.ok()) return loaded.error();
  const std::vector<Series>& all = *loaded;
  std::map<std::string, std::vector<const Series*>> families;
  for (const Series& s : all) families[s.family].push_back(&s);

  std::ostringstream params;
  params << "Fitted link parameters (fit set: even-numbered sizes of every series of the "
            "family; `efficiency` x line rate = busbw; > 1 is flagged):\n\n"
         << "| family | base profile | link | latency (us) | efficiency | busbw (GB/s) | fit "
            "points | RMS rel. residual |\n"
         << "|---|---|---|---:|---:|---:|---:|---:|\n";
  std::ostringstream rows;
  rows << "Held-out error per series (odd-numbered sizes; busbw error = model/measured - 1 "
          "for sizes >= 64 MiB, time error = model/measured - 1 below):\n\n"
       << "| series | op | ranks (nodes) | log algo -> model at largest size | busbw err >= 64 MiB "
          "mean abs / worst (n) | time err < 64 MiB mean abs / worst (n) | targets |\n"
       << "|---|---|---|---|---|---|---|\n";
  int met = 0, total = 0;
  for (const auto& [family, series] : families) {
    Result<hw::HardwareProfile> base = hw::LoadHardware(series.front()->base);
    if (!base.ok()) return base.error();
    hw::HardwareProfile profile = *base;
    // NCCL runs send/recv on its own p2p channels (fewer per peer), whose throughput the
    // collective links do not describe: send/recv series are fitted apart (p2p links below).
    // All-to-all is p2p as well (nccl-tests' alltoall is grouped ncclSend/ncclRecv to every
    // peer), but it drives every p2p channel at once where send/recv drives the few channels of
    // one peer (NCCL_NCHANNELS_PER_NET_PEER), so it gets links of its own (a2a below).
    std::vector<const Series*> intra, inter, p2p_intra, p2p_inter, a2a_intra, a2a_inter;
    for (const Series* s : series) {
      if (s->op == hw::NetOp::kSendRecv) {
        (s->nodes == 1 ? p2p_intra : p2p_inter).push_back(s);
      } else if (s->op == hw::NetOp::kAllToAll) {
        (s->nodes == 1 ? a2a_intra : a2a_inter).push_back(s);
      } else {
        (s->nodes == 1 ? intra : inter).push_back(s);
      }
    }
    LinkFit up = FitLink(profile, profile.node.scale_up, intra);
    bool nvls = FitNvls(profile, intra);
    if (nvls) {  // one more round: the ring points and the NVLS points share the latency
      up = FitLink(profile, profile.node.scale_up, intra);
      FitNvls(profile, intra);
    }
    LinkFit nic = FitLink(profile, profile.network.nic, inter);
    std::vector<const Series*> collectives = intra;
    collectives.insert(collectives.end(), inter.begin(), inter.end());
    const bool ramp = FitRamp(profile, collectives);
    if (ramp) {  // the links again with the ramp, then the ramp once more
      up = FitLink(profile, profile.node.scale_up, intra);
      if (nvls) FitNvls(profile, intra);
      nic = FitLink(profile, profile.network.nic, inter);
      FitRamp(profile, collectives);
    }
    const bool launch = FitLaunch(profile, collectives);
    if (launch) {  // the links and the ramp again with the launch cost
      up = FitLink(profile, profile.node.scale_up, intra);
      if (nvls) FitNvls(profile, intra);
      nic = FitLink(profile, profile.network.nic, inter);
      if (ramp) FitRamp(profile, collectives);
    }
    const bool fill = FitTreeFill(profile, inter);
    if (fill) {  // the nic again with the fill, then the fill once more
      nic = FitLink(profile, profile.network.nic, inter);
      FitTreeFill(profile, inter);
    }
    // Point-to-point links: the same profile with scale_up and nic refitted from the family's
    // send/recv series only (NCCL's p2p channels); used for the send/recv series.
    hw::HardwareProfile p2p = profile;
    LinkFit p2p_nic = FitLink(p2p, p2p.network.nic, p2p_inter);
    const bool p2p_channels = FitP2pChannel(p2p, p2p_inter, p2p.fabric.p2p_channel_bytes_per_s);
    if (p2p_channels) {  // the p2p nic again with the channel cap, then the cap once more
      p2p_nic = FitLink(p2p, p2p.network.nic, p2p_inter);
      FitP2pChannel(p2p, p2p_inter, p2p.fabric.p2p_channel_bytes_per_s);
    }
    // The NVLink channel cap first, from the collective scale_up (a p2p link fitted without the
    // cap would already have folded the plateau into its latency), then the link, then the cap.
    const bool p2p_nvlink =
        FitP2pChannel(p2p, p2p_intra, p2p.fabric.p2p_nvlink_channel_bytes_per_s);
    LinkFit p2p_up = FitLink(p2p, p2p.node.scale_up, p2p_intra);
    if (p2p_nvlink) FitP2pChannel(p2p, p2p_intra, p2p.fabric.p2p_nvlink_channel_bytes_per_s);
    std::vector<std::tuple<std::string, hw::LinkSpec, LinkFit>> links = {
        {"scale_up", profile.node.scale_up, up}, {"nic", profile.network.nic, nic}};
    hw::HardwareProfile a2a = profile;
    const LinkFit a2a_up = FitLink(a2a, a2a.node.scale_up, a2a_intra);
    const LinkFit a2a_nic = FitLink(a2a, a2a.network.nic, a2a_inter);
    if (p2p_up.fitted) links.emplace_back("p2p scale_up", p2p.node.scale_up, p2p_up);
    if (p2p_nic.fitted) links.emplace_back("p2p nic", p2p.network.nic, p2p_nic);
    if (a2a_up.fitted) links.emplace_back("all-to-all scale_up", a2a.node.scale_up, a2a_up);
    if (a2a_nic.fitted) links.emplace_back("all-to-all nic", a2a.network.nic, a2a_nic);
    for (const auto& [name, link, fit] : links) {
      params << "| " << family << " | " << series.front()->base << " | " << name << " | ";
      if (!fit.fitted) {
        params << Format("%.2f", link.latency_seconds * 1e6) << " (catalog) | "
               << Format("%.3f", link.efficiency) << " (catalog) | "
               << Format("%.1f", link.EffectiveBytesPerS() / 1e9) << " | 0 | - |\n";
        continue;
      }
      params << Format("%.2f", link.latency_seconds * 1e6) << " | "
             << Format("%.3f", link.efficiency) << (link.efficiency > 1 ? " (> 1)" : "") << " | "
             << Format("%.1f", link.EffectiveBytesPerS() / 1e9) << " | " << fit.points << " | "
             << Format("%.3f", fit.rms) << " |\n";
    }
    if (nvls) {
      params << "| " << family << " | " << series.front()->base << " | nvls | - | "
             << Format("%.3f", profile.fabric.nvls_efficiency) << " (nvls_efficiency) | "
             << Format("%.1f", profile.node.scale_up.bandwidth_bytes_per_s *
                                   profile.fabric.nvls_efficiency / 1e9)
             << " per GPU each way | " << up.points << " | - |\n";
    }
    if (ramp) {
      int points = 0;
      for (const Series* s : collectives) {
        for (const Point& p : s->points) points += p.fit ? 1 : 0;
      }
      params << "| " << family << " | " << series.front()->base << " | ring ramp | - | "
             << Format("%.2f", profile.fabric.ring_ramp_bytes_per_rank / 1048576.0)
             << " MiB per rank (ring_ramp_bytes_per_rank) | - | " << points << " | "
             << Format("%.3f", std::sqrt(Objective(profile, collectives) / points)) << " |\n";
    }
    if (launch) {
      int points = 0;
      for (const Series* s : collectives) {
        for (const Point& p : s->points) points += p.fit ? 1 : 0;
      }
      params << "| " << family << " | " << series.front()->base << " | launch | "
             << Format("%.2f", profile.fabric.collective_launch_seconds * 1e6)
             << " (collective_launch_seconds) | - | - | " << points << " | "
             << Format("%.3f", std::sqrt(Objective(profile, collectives) / points)) << " |\n";
    }
    if (fill) {
      int points = 0;
      for (const Series* s : inter) {
        for (const Point& p : s->points) points += p.fit ? 1 : 0;
      }
      params << "| " << family << " | " << series.front()->base << " | tree fill | - | "
             << Format("%.2f", profile.fabric.tree_pipeline_bytes / 1048576.0)
             << " MiB per rank (tree_pipeline_bytes) | - | " << points << " | "
             << Format("%.3f", std::sqrt(Objective(profile, inter) / points)) << " |\n";
    }
    if (p2p_channels) {
      params << "| " << family << " | " << series.front()->base << " | p2p channel | - | "
             << Format("%.1f", p2p.fabric.p2p_channel_bytes_per_s / 1e9)
             << " GB/s per channel (p2p_channel_bytes_per_s) | - | " << p2p_nic.points << " | "
             << Format("%.3f", p2p_nic.rms) << " |\n";
    }
    if (p2p_nvlink) {
      params << "| " << family << " | " << series.front()->base << " | p2p NVLink channel | - | "
             << Format("%.1f", p2p.fabric.p2p_nvlink_channel_bytes_per_s / 1e9)
             << " GB/s per channel (p2p_nvlink_channel_bytes_per_s) | - | " << p2p_up.points
             << " | " << Format("%.3f", p2p_up.rms) << " |\n";
    }
    for (const Series* s : series) {
      double large_sum = 0, large_worst = 0, small_sum = 0, small_worst = 0;
      int large_n = 0, small_n = 0;
      double largest = 0;
      const hw::HardwareProfile& model_profile = s->op == hw::NetOp::kSendRecv   ? p2p
                                                 : s->op == hw::NetOp::kAllToAll ? a2a
                                                                                 : profile;
      for (const Point& p : s->points) {
        if (p.fit) continue;
        const double model = ModelSeconds(model_profile, *s, p.bytes);
        largest = std::max(largest, p.bytes);
        if (p.bytes >= kLargeBytes) {
          const double e = p.seconds / model - 1;  // busbw_model / busbw_measured - 1
          large_sum += std::fabs(e);
          if (std::fabs(e) > std::fabs(large_worst)) large_worst = e;
          ++large_n;
        } else {
          const double e = model / p.seconds - 1;
          small_sum += std::fabs(e);
          if (std::fabs(e) > std::fabs(small_worst)) small_worst = e;
          ++small_n;
        }
      }
      if (large_n + small_n == 0) continue;
      hw::Pricing chosen;
      ModelSeconds(model_profile, *s, largest, &chosen);
      const bool ok_large = large_n == 0 || std::fabs(large_worst) <= 0.10;
      const bool ok_small = small_n == 0 || std::fabs(small_worst) <= 0.20;
      ++total;
      met += ok_large && ok_small ? 1 : 0;
      rows << "| " << s->file << " | " << hw::NetOpName(s->op) << " | " << s->span.size << " ("
           << s->nodes << ") | " << s->log_algorithm << " -> "
           << hw::AlgorithmName(chosen.algorithm) << "/" << hw::ProtocolName(chosen.protocol)
           << " | ";
      if (large_n > 0) {
        rows << Format("%.1f%%", 100 * large_sum / large_n) << " / " << Percent(large_worst) << " ("
             << large_n << ")";
      } else {
        rows << "-";
      }
      rows << " | ";
      if (small_n > 0) {
        rows << Format("%.1f%%", 100 * small_sum / small_n) << " / " << Percent(small_worst) << " ("
             << small_n << ")";
      } else {
        rows << "-";
      }
      rows << " | "
           << (ok_large && ok_small     ? "met"
               : !ok_large && !ok_small ? "missed (both)"
               : !ok_large              ? "missed (busbw)"
                                        : "missed (time)")
           << " |\n";
    }
  }
  std::ostringstream out;
  out << "Generated by `foresight validate-collectives --data ../shared/data --doc "
         "docs/validation.md` (calibrate/validate_collectives.h); do not edit by hand.\n\n"
      << params.str() << "\n"
      << rows.str() << "\n"
      << "Series meeting both targets on held-out sizes: " << met << " of " << total << ".\n";
  return out.str();
}

Status ReplaceGeneratedBlock(const std::string& doc_path, const std::string& block) {
  constexpr std::string_view kBegin = "<!-- BEGIN generated: collectives -->";
  constexpr std::string_view kEnd = "<!-- END generated: collectives -->";
  Result<std::string> text = ReadText(doc_path);
  if (!text.ok()) return text.error();
  const std::size_t begin = text->find(kBegin);
  const std::size_t end = text->find(kEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return Error::At(doc_path, 0, 0,
                     "expected the marker lines '" + std::string(kBegin) + "' and then '" +
                         std::string(kEnd) + "'");
  }
  const std::size_t after_begin = begin + kBegin.size();
  const std::string updated = text->substr(0, after_begin) + "\n" + block + text->substr(end);
  std::ofstream out(doc_path, std::ios::binary | std::ios::trunc);
  if (!out.is_open()) return Error::At(doc_path, 0, 0, "cannot write file");
  out << updated;
  if (!out.good()) return Error::At(doc_path, 0, 0, "write failed");
  return Status::Ok();
}

}  // namespace foresight::calibrate
