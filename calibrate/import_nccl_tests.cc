#include "calibrate/import_nccl_tests.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "calibrate/internal/fit_text.h"

namespace foresight::calibrate {
namespace {

using internal::Field;

// Per-file facts that the content cannot tell, keyed by a file-name fragment. Each reason quotes
// the file's own header notes (data/nccl-tests/*.txt).
struct NcclQuirk {
  std::string_view file_fragment;
  std::int64_t nodes = 0;      // 0: not overridden
  std::string_view algorithm;  // empty: not overridden
  std::string_view op;         // empty: not overridden (summaries need it)
  std::int64_t ranks = 0;      // 0: not overridden (summaries need it)
  std::string_view reason;
};
constexpr NcclQuirk kNcclQuirks[] = {
    {"a100_coreweave_multinode_32rank", 4, "sharp", "", 0,
     "header: the table is a 32-rank run (busbw/algbw = 1.937), 'likely 4 nodes x 8 GPUs'; "
     "SHARP group-init lines in the output"},
    {"h100_together_1node_8gpu_all_reduce_perf_nvls", 0, "ring", "", 0,
     "header CAVEAT: peak busbw equals the ring run, 'NVLS was probably not active ... Treat "
     "as a ring-like result'"},
    {"azure_summaries_a100_h200_1node_allreduce_busbw", 1, "", "all_reduce", 8,
     "header: 'NCCL AllReduce ... in-place', 'single all_reduce_perf process on the GPUs of one "
     "host', 8 GPUs per VM"},
};

const NcclQuirk* FindQuirk(std::string_view path) {
  const std::string_view name = internal::BaseName(path);
  for (const NcclQuirk& q : kNcclQuirks) {
    if (name.find(q.file_fragment) != std::string_view::npos) return &q;
  }
  return nullptr;
}

Error At(const std::string& path, int line, int column, std::string message) {
  return Error::At(path, line, column, std::move(message));
}

bool StartsWithDigit(std::string_view line) {
  const std::string_view t = internal::Trim(line);
  return !t.empty() && std::isdigit(static_cast<unsigned char>(t.front()));
}

bool IsColumnHeader(std::string_view line) {
  if (line.empty() || line.front() != '#') return false;
  const auto fields = internal::SplitWhitespace(line.substr(1));
  bool size = false, count = false, time = false, busbw = false;
  for (const Field& f : fields) {
    size |= f.text == "size";
    count |= f.text == "count";
    time |= f.text == "time";
    busbw |= f.text == "busbw";
  }
  return size && count && time && busbw;
}

// Algorithm hint from NCCL_ALGO=X in the text or from the file name.
std::string AlgorithmHint(std::string_view text, std::string_view path, std::string& note) {
  const std::size_t pos = text.find("NCCL_ALGO=");
  if (pos != std::string_view::npos) {
    std::size_t end = pos + 10;
    while (end < text.size() && std::isalnum(static_cast<unsigned char>(text[end]))) ++end;
    note = "algorithm from NCCL_ALGO in the text";
    return internal::ToLower(text.substr(pos + 10, end - pos - 10));
  }
  const std::string name = internal::ToLower(internal::BaseName(path));
  for (const char* algo : {"ring", "nvls", "sharp", "tree", "collnet"}) {
    if (name.find(std::string("_") + algo) != std::string::npos) {
      note = std::string("algorithm '") + algo + "' from the file name";
      return algo;
    }
  }
  return "default";
}

// Solves BusFactor(op, n) = ratio for n (ops whose factor depends on n).
std::optional<std::int64_t> RanksFromRatio(CommOp op, double ratio) {
  double n = 0;
  if (op == CommOp::kAllReduce && ratio < 2.0) n = 2.0 / (2.0 - ratio);
  if ((op == CommOp::kAllGather || op == CommOp::kReduceScatter || op == CommOp::kAllToAll) &&
      ratio < 1.0)
    n = 1.0 / (1.0 - ratio);
  if (n < 1.5 || n > 1e6) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(n));
}

struct DeviceList {
  std::map<long, std::string> rank_host;
  std::string device_name;
  bool elided = false;
};

struct Table {
  int header_line = 0;
  std::vector<std::string> columns;
  std::optional<CommOp> op;
  int op_line = 0;
  std::vector<CommPoint> points;
  double best_algbw = 0, best_ratio = 0;
};

}  // namespace

bool LooksLikeNcclTests(std::string_view text) {
  for (std::string_view line : internal::SplitLines(text)) {
    if (IsColumnHeader(line)) return true;
  }
  return false;
}

Result<std::vector<CommSeries>> ParseNcclTests(std::string_view text, const std::string& path) {
  const auto lines = internal::SplitLines(text);
  const NcclQuirk* quirk = FindQuirk(path);
  DeviceList devices;
  bool in_devices = false;
  std::optional<CommOp> text_op;  // first X_perf token anywhere before a table
  std::optional<long> cmd_gpus;
  std::vector<Table> tables;
  std::optional<CommOp> pending_op;
  int pending_line = 0;
  std::string hardware_line;

  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const int line_no = static_cast<int>(i) + 1;
    const std::string_view trimmed = internal::Trim(line);
    if (trimmed.empty()) continue;
    if (line.rfind("# HARDWARE:", 0) == 0) hardware_line = std::string(line.substr(11));
    if (const std::size_t p = line.find("Collective test starting:"); p != std::string_view::npos) {
      const std::string_view name = internal::Trim(line.substr(p + 25));
      pending_op = ParseCommOp(name);
      if (!pending_op)
        return At(path, line_no, static_cast<int>(p) + 26,
                  "unknown nccl-tests collective '" + std::string(name) +
                      "'; expected all_reduce_perf, all_gather_perf, reduce_scatter_perf, "
                      "alltoall_perf, sendrecv_perf, broadcast_perf or reduce_perf");
      pending_line = line_no;
      continue;
    }
    if (trimmed == "...") {
      if (in_devices) devices.elided = true;
      continue;
    }
    if (IsColumnHeader(line)) {
      Table t;
      t.header_line = line_no;
      for (const Field& f : internal::SplitWhitespace(line.substr(1)))
        t.columns.emplace_back(f.text);
      t.op = pending_op;
      t.op_line = pending_line;
      tables.push_back(std::move(t));
      in_devices = false;
      continue;
    }
    if (line.front() == '#') {
      if (line.find("Using devices") != std::string_view::npos) in_devices = true;
      const auto fields = internal::SplitWhitespace(line.substr(1));
      if (fields.size() >= 2 && fields[0].text == "Rank") {
        const auto rank = internal::ParseNumber(fields[1].text);
        const std::size_t on = line.find(" on ");
        if (rank && on != std::string_view::npos) {
          const auto rest = internal::SplitWhitespace(line.substr(on + 4));
          if (!rest.empty())
            devices.rank_host[static_cast<long>(*rank)] = std::string(rest[0].text);
          const std::size_t bracket = line.find("] ");
          if (bracket != std::string_view::npos && devices.device_name.empty())
            devices.device_name = std::string(internal::Trim(line.substr(bracket + 2)));
        }
      }
    }
    if (!tables.empty() && line.front() != '#' && StartsWithDigit(line)) {
      Table& t = tables.back();
      const auto fields = internal::SplitWhitespace(line);
      if (fields.size() != t.columns.size())
        return At(path, line_no, 1,
                  "nccl-tests data row has " + std::to_string(fields.size()) +
                      " fields; the column header on line " + std::to_string(t.header_line) +
                      " names " + std::to_string(t.columns.size()));
      std::vector<int> time_cols, algbw_cols, busbw_cols;
      int size_col = -1;
      for (std::size_t c = 0; c < t.columns.size(); ++c) {
        if (t.columns[c] == "size") size_col = static_cast<int>(c);
        if (t.columns[c] == "time") time_cols.push_back(static_cast<int>(c));
        if (t.columns[c] == "algbw") algbw_cols.push_back(static_cast<int>(c));
        if (t.columns[c] == "busbw") busbw_cols.push_back(static_cast<int>(c));
      }
      auto number = [&](int c) -> Result<double> {
        const auto v = internal::ParseNumber(fields[c].text);
        if (!v || *v < 0)
          return At(path, line_no, fields[c].column,
                    "expected a non-negative number in column '" + t.columns[c] + "', found '" +
                        std::string(fields[c].text) + "'");
        return *v;
      };
      auto bytes = number(size_col);
      if (!bytes.ok()) return bytes.error();
      for (std::size_t k = 0; k < time_cols.size(); ++k) {
        auto us = number(time_cols[k]);
        if (!us.ok()) return us.error();
        if (k < algbw_cols.size() && k < busbw_cols.size()) {
          auto algbw = number(algbw_cols[k]);
          if (!algbw.ok()) return algbw.error();
          auto busbw = number(busbw_cols[k]);
          if (!busbw.ok()) return busbw.error();
          if (*algbw > t.best_algbw) {
            t.best_algbw = *algbw;
            t.best_ratio = *busbw / *algbw;
          }
        }
        if (*bytes > 0) {
          if (*us <= 0)
            return At(path, line_no, fields[time_cols[k]].column,
                      "time must be > 0 for a non-empty message");
          t.points.push_back({*bytes, *us * 1e-6, k == 1, line_no});
        }
      }
      continue;
    }
    // Header-region text: command lines name the test and the GPU count.
    if (!text_op) {
      for (const Field& f : internal::SplitWhitespace(line)) {
        const std::string_view base = internal::BaseName(f.text);
        if (base.size() > 5 && base.substr(base.size() - 5) == "_perf") {
          text_op = ParseCommOp(base);
          if (text_op) break;
        }
      }
    }
    if (line.front() != '#' && line.find("_perf") != std::string_view::npos) {
      const auto fields = internal::SplitWhitespace(line);
      for (std::size_t k = 0; k + 1 < fields.size(); ++k) {
        if (fields[k].text == "-g") {
          if (auto g = internal::ParseNumber(fields[k + 1].text)) cmd_gpus = static_cast<long>(*g);
        }
      }
    }
  }
  if (tables.empty())
    return At(path, 1, 1, "no nccl-tests column header ('#  size  count  type ... busbw') found");

  std::vector<CommSeries> out;
  for (Table& t : tables) {
    CommSeries s;
    s.path = path;
    if (t.points.empty())
      return At(path, t.header_line, 1, "nccl-tests table has no data rows with size > 0");
    if (t.op) {
      s.op = *t.op;
      s.notes.push_back("op from 'Collective test starting' on line " + std::to_string(t.op_line));
    } else if (text_op) {
      s.op = *text_op;
      s.notes.push_back("op from an X_perf command in the text");
    } else {
      const std::string name = internal::ToLower(internal::BaseName(path));
      bool found = false;
      for (CommOp op : {CommOp::kReduceScatter, CommOp::kAllReduce, CommOp::kAllGather,
                        CommOp::kAllToAll, CommOp::kSendRecv, CommOp::kBroadcast}) {
        if (name.find(CommOpName(op)) != std::string::npos) {
          s.op = op;
          found = true;
          break;
        }
      }
      if (!found)
        return At(path, t.header_line, 1,
                  "cannot tell which collective this table measures: no 'Collective test "
                  "starting' line, no X_perf command, and no collective name in the file name");
      s.notes.push_back("op from the file name");
    }
    // Ranks.
    const bool complete =
        !devices.rank_host.empty() && !devices.elided &&
        devices.rank_host.rbegin()->first + 1 == static_cast<long>(devices.rank_host.size());
    // 0 when the ratio cannot tell (small messages only, or an op whose factor is 1).
    const std::int64_t ratio_ranks =
        t.best_algbw >= 1.0 ? RanksFromRatio(s.op, t.best_ratio).value_or(0) : 0;
    const std::string name(internal::BaseName(path));
    if (complete) {
      s.ranks = static_cast<std::int64_t>(devices.rank_host.size());
      s.notes.push_back("ranks from the 'Rank' lines");
      if (ratio_ranks > 0 && ratio_ranks != s.ranks)
        s.notes.push_back("warning: busbw/algbw implies " + std::to_string(ratio_ranks) + " ranks");
    } else if (ratio_ranks > 0) {
      s.ranks = ratio_ranks;
      s.notes.push_back("ranks from busbw/algbw = " + std::to_string(t.best_ratio) +
                        " (device list incomplete)");
    } else if (cmd_gpus) {
      s.ranks = *cmd_gpus;
      s.notes.push_back("ranks from '-g' on the command line");
    } else if (auto g = internal::IntegerBefore(name, "gpu")) {
      s.ranks = *g;
      s.notes.push_back("ranks from the file name");
    } else if (auto r = internal::IntegerBefore(name, "rank")) {
      s.ranks = *r;
      s.notes.push_back("ranks from the file name");
    } else {
      return At(path, t.header_line, 1,
                "cannot tell the rank count: no complete 'Rank' device list, no busbw/algbw "
                "ratio, no '-g N' command and no '<N>gpu' in the file name");
    }
    // Nodes.
    if (complete) {
      std::set<std::string> hosts;
      for (const auto& [rank, host] : devices.rank_host) hosts.insert(host);
      s.nodes = static_cast<std::int64_t>(hosts.size());
      s.notes.push_back("nodes from the hosts of the 'Rank' lines");
    } else if (quirk && quirk->nodes > 0) {
      s.nodes = quirk->nodes;
      s.notes.push_back("nodes from the quirk table: " + std::string(quirk->reason));
    } else if (auto n = internal::IntegerBefore(name, "node")) {
      s.nodes = *n;
      s.notes.push_back("nodes from the file name");
    } else {
      return At(path, t.header_line, 1,
                "cannot tell the node count: no complete 'Rank' device list and no '<N>node' "
                "in the file name");
    }
    std::string algo_note;
    s.algorithm = AlgorithmHint(text, path, algo_note);
    if (!algo_note.empty()) s.notes.push_back(algo_note);
    if (quirk && !quirk->algorithm.empty()) {
      s.algorithm = std::string(quirk->algorithm);
      s.notes.push_back("algorithm from the quirk table: " + std::string(quirk->reason));
    }
    s.hardware = !devices.device_name.empty() ? devices.device_name
                                              : std::string(internal::Trim(hardware_line));
    s.points = std::move(t.points);
    out.push_back(std::move(s));
  }
  return out;
}

// ---- busbw summaries ----

namespace {

std::optional<double> SizeLabelBytes(std::string_view label) {
  if (label.size() < 2) return std::nullopt;
  const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(label.back())));
  const double scale = unit == 'K' ? 1e3 : unit == 'M' ? 1e6 : unit == 'G' ? 1e9 : 0;
  if (scale == 0) return std::nullopt;
  const auto value = internal::ParseNumber(label.substr(0, label.size() - 1));
  if (!value || *value <= 0) return std::nullopt;
  // Labels are rounded inconsistently (65K = 65536, 132K = 131072, 1M = 1048576): snap to the
  // nearest power of two bytes.
  return std::exp2(std::round(std::log2(*value * scale)));
}

}  // namespace

bool LooksLikeBusbwSummary(std::string_view text) {
  if (LooksLikeNcclTests(text)) return false;
  int rows = 0;
  for (std::string_view line : internal::SplitLines(text)) {
    const auto f = internal::SplitWhitespace(line);
    if (f.size() >= 2 && SizeLabelBytes(f[0].text) && internal::ParseNumber(f[1].text)) ++rows;
  }
  return rows >= 3;
}

Result<std::vector<CommSeries>> ParseBusbwSummary(std::string_view text, const std::string& path) {
  const NcclQuirk* quirk = FindQuirk(path);
  if (!quirk || quirk->ranks == 0)
    return At(path, 1, 1,
              "busbw summary tables do not say the collective, rank or node count; add this "
              "file to the quirk table in calibrate/import_nccl_tests.cc");
  const auto op = ParseCommOp(quirk->op);
  FS_CHECK(op.has_value(), "quirk table op must be a collective name");
  std::vector<std::string> names;
  std::vector<CommSeries> series;
  const auto lines = internal::SplitLines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const int line_no = static_cast<int>(i) + 1;
    if (line.rfind("# Columns:", 0) == 0) {
      std::string_view rest = line.substr(10);
      std::size_t bar = rest.find('|');
      while (bar != std::string_view::npos) {
        rest = rest.substr(bar + 1);
        bar = rest.find('|');
        names.emplace_back(internal::Trim(rest.substr(0, bar)));
      }
      continue;
    }
    if (internal::Trim(line).empty() || line.front() == '#') continue;
    const auto fields = internal::SplitWhitespace(line);
    const auto bytes = SizeLabelBytes(fields[0].text);
    if (!bytes)
      return At(path, line_no, fields[0].column,
                "expected a size label such as 1K, 64M or 8G, found '" +
                    std::string(fields[0].text) + "'");
    if (series.empty()) series.resize(fields.size() - 1);
    if (fields.size() != series.size() + 1 || series.empty())
      return At(path, line_no, 1,
                "expected a size label and " + std::to_string(series.size()) +
                    " busbw values, found " + std::to_string(fields.size()) + " fields");
    for (std::size_t c = 1; c < fields.size(); ++c) {
      const auto busbw = internal::ParseNumber(fields[c].text);
      if (!busbw || *busbw <= 0)
        return At(path, line_no, fields[c].column,
                  "expected a positive busbw in GB/s, found '" + std::string(fields[c].text) + "'");
      const double seconds = *bytes * BusFactor(*op, quirk->ranks) / (*busbw * 1e9);
      series[c - 1].points.push_back({*bytes, seconds, true, line_no});
    }
  }
  if (series.empty()) return At(path, 1, 1, "no 'SIZE busbw...' rows found");
  for (std::size_t c = 0; c < series.size(); ++c) {
    CommSeries& s = series[c];
    s.path = path;
    s.op = *op;
    s.ranks = quirk->ranks;
    s.nodes = quirk->nodes;
    s.algorithm = "default";
    s.hardware = c < names.size() ? names[c] : "column " + std::to_string(c + 1);
    s.notes.push_back("op, ranks and nodes from the quirk table: " + std::string(quirk->reason));
    s.notes.push_back("seconds derived from busbw: bytes * BusFactor / busbw");
  }
  return series;
}

}  // namespace foresight::calibrate
