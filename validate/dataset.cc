#include "validate/dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "base/dtype.h"
#include "validate/foundry.h"

namespace foresight::validate {
namespace {

struct Cell {
  std::string_view text;
  int column = 0;  // 1-based
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Lines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == text.size()) break;
    start = end + 1;
  }
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::vector<Cell> SplitCsv(std::string_view line) {
  std::vector<Cell> cells;
  std::size_t start = 0;
  while (true) {
    std::size_t end = line.find(',', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view raw = line.substr(start, end - start);
    std::size_t lead = 0;
    while (lead < raw.size() && std::isspace(static_cast<unsigned char>(raw[lead]))) ++lead;
    cells.push_back({Trim(raw), static_cast<int>(start + lead) + 1});
    if (end == line.size()) break;
    start = end + 1;
  }
  return cells;
}

std::optional<double> Number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool IsComment(std::string_view line) {
  const std::string_view t = Trim(line);
  return t.empty() || t.front() == '#';
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

Result<Dataset> ParseMeasuredRuns(const std::vector<std::string_view>& lines, std::size_t header_at,
                                  const std::string& path) {
  const int header_line = static_cast<int>(header_at) + 1;
  const std::vector<Cell> header = SplitCsv(lines[header_at]);
  std::map<std::string, int, std::less<>> index;  // column name -> cell index
  for (std::size_t k = 0; k < header.size(); ++k) {
    const std::string name(header[k].text);
    const auto& req = RequiredColumns();
    const auto& opt = OptionalColumns();
    if (std::find(req.begin(), req.end(), name) == req.end() &&
        std::find(opt.begin(), opt.end(), name) == opt.end())
      return Error::At(
          path, header_line, header[k].column,
          "unknown column '" + name + "'; expected one of: " + Join(req) + ", " + Join(opt));
    if (index.count(name))
      return Error::At(path, header_line, header[k].column, "column '" + name + "' appears twice");
    index[name] = static_cast<int>(k);
  }
  for (std::string_view name : RequiredColumns()) {
    if (!index.count(name))
      return Error::At(path, header_line, 1,
                       "header lacks the required column '" + std::string(name) +
                           "'; required: " + Join(RequiredColumns()));
  }
  Dataset data;
  data.path = path;
  data.format = "measured-runs";
  for (std::size_t i = header_at + 1; i < lines.size(); ++i) {
    if (IsComment(lines[i])) continue;
    const int line_no = static_cast<int>(i) + 1;
    const std::vector<Cell> cells = SplitCsv(lines[i]);
    if (cells.size() != header.size())
      return Error::At(path, line_no, 1,
                       "expected " + std::to_string(header.size()) +
                           " comma-separated cells (one per header column), found " +
                           std::to_string(cells.size()));
    auto cell = [&](std::string_view name) -> const Cell* {
      auto it = index.find(name);
      return it == index.end() ? nullptr : &cells[static_cast<std::size_t>(it->second)];
    };
    auto integer = [&](std::string_view name, std::int64_t& out) -> std::optional<Error> {
      const Cell* c = cell(name);
      if (!c) return std::nullopt;  // optional column absent: keep the default
      const auto n = Number(c->text);
      if (!n || *n < 1 || std::floor(*n) != *n || *n > 9.0e15)
        return Error::At(path, line_no, c->column,
                         "expected a positive integer for '" + std::string(name) + "', found '" +
                             std::string(c->text) + "'");
      out = static_cast<std::int64_t>(*n);
      return std::nullopt;
    };
    RunRow row;
    calibrate::StepRow& s = row.step;
    s.line = line_no;
    const std::pair<std::string_view, std::int64_t*> ints[] = {
        {"layers", &s.layers},
        {"hidden", &s.hidden},
        {"heads", &s.heads},
        {"seq_len", &s.seq_len},
        {"gpus", &s.gpus},
        {"tp", &s.tp},
        {"pp", &s.pp},
        {"dp", &s.dp},
        {"global_batch", &s.global_batch},
        {"micro_batch", &s.micro_batch},
        {"vocab", &row.conventions.vocab},
        {"vocab_multiple", &row.conventions.vocab_multiple}};
    for (const auto& [name, field] : ints) {
      if (auto e = integer(name, *field)) return *e;
    }
    const Cell* t = cell("measured_step_seconds");
    const auto seconds = Number(t->text);
    if (!seconds || *seconds <= 0)
      return Error::At(path, line_no, t->column,
                       "expected a positive measured step time in seconds, found '" +
                           std::string(t->text) + "'");
    s.step_seconds = *seconds;
    if (s.tp * s.pp * s.dp != s.gpus)
      return Error::At(path, line_no, cell("gpus")->column,
                       "gpus = " + std::to_string(s.gpus) +
                           " but tp * pp * dp = " + std::to_string(s.tp * s.pp * s.dp));
    if (const Cell* c = cell("schedule")) {
      if (c->text == "1f1b")
        row.conventions.schedule = plan::Schedule::k1F1B;
      else if (c->text == "gpipe")
        row.conventions.schedule = plan::Schedule::kGpipe;
      else
        return Error::At(path, line_no, c->column,
                         "expected schedule 1f1b or gpipe, found '" + std::string(c->text) + "'");
    }
    if (const Cell* c = cell("recompute")) {
      if (c->text == "none")
        row.conventions.recompute = plan::Recompute::kNone;
      else if (c->text == "selective")
        row.conventions.recompute = plan::Recompute::kSelective;
      else if (c->text == "full")
        row.conventions.recompute = plan::Recompute::kFull;
      else
        return Error::At(
            path, line_no, c->column,
            "expected recompute none, selective or full, found '" + std::string(c->text) + "'");
    }
    if (const Cell* c = cell("flash_attention")) {
      if (c->text == "true")
        row.conventions.flash_attention = true;
      else if (c->text == "false")
        row.conventions.flash_attention = false;
      else
        return Error::At(
            path, line_no, c->column,
            "expected flash_attention true or false, found '" + std::string(c->text) + "'");
    }
    if (const Cell* c = cell("attention_kernel")) {
      if (!c->text.empty() && !row.conventions.flash_attention)
        return Error::At(path, line_no, c->column,
                         "attention_kernel '" + std::string(c->text) +
                             "' names a fused-attention kernel; expected flash_attention true "
                             "on this row (the default is false)");
      row.conventions.attention_kernel = std::string(c->text);
    }
    if (const Cell* c = cell("dtype")) {
      const auto dtype = ParseDtype(c->text);
      if (!dtype)
        return Error::At(
            path, line_no, c->column,
            "expected dtype fp32, tf32, bf16, fp16 or fp8, found '" + std::string(c->text) + "'");
      row.conventions.dtype = *dtype;
    }
    if (const Cell* c = cell("sharding")) {
      if (c->text == "none")
        row.conventions.sharding = calibrate::DpSharding::kNone;
      else if (c->text == "full_shard")
        row.conventions.sharding = calibrate::DpSharding::kFullShard;
      else if (c->text == "shard_grad_op")
        row.conventions.sharding = calibrate::DpSharding::kShardGradOp;
      else
        return Error::At(path, line_no, c->column,
                         "expected sharding none, full_shard or shard_grad_op, found '" +
                             std::string(c->text) + "'");
    }
    if (const Cell* c = cell("hardware")) {
      if (c->text.empty())
        return Error::At(path, line_no, c->column,
                         "expected a hardware catalog name or profile path, found an empty cell");
      std::string hw(c->text);
      const std::filesystem::path p(hw);
      if ((p.extension() == ".yaml" || p.extension() == ".yml") && p.is_relative())
        hw = (std::filesystem::path(path).parent_path() / p).lexically_normal().string();
      row.hardware = hw;
    }
    if (const Cell* c = cell("source")) row.source = std::string(c->text);
    data.rows.push_back(std::move(row));
  }
  if (data.rows.empty()) return Error::At(path, header_line, 1, "dataset has no rows");
  return data;
}

}  // namespace

const std::vector<std::string_view>& RequiredColumns() {
  static const std::vector<std::string_view> kColumns = {"layers",
                                                         "hidden",
                                                         "heads",
                                                         "seq_len",
                                                         "gpus",
                                                         "tp",
                                                         "pp",
                                                         "dp",
                                                         "global_batch",
                                                         "micro_batch",
                                                         "measured_step_seconds"};
  return kColumns;
}

const std::vector<std::string_view>& OptionalColumns() {
  static const std::vector<std::string_view> kColumns = {
      "vocab", "vocab_multiple", "schedule", "recompute", "flash_attention", "attention_kernel",
      "dtype", "sharding",       "hardware", "source"};
  return kColumns;
}

Result<Dataset> ParseDataset(std::string_view text, const std::string& path) {
  if (LooksLikeFoundryTables(text)) return ParseFoundryTables(text, path);
  if (calibrate::LooksLikeStepTable(text)) {
    auto table = calibrate::ParseStepTable(text, path);
    if (!table.ok()) return table.error();
    Dataset data;
    data.path = path;
    data.format = "vtrain";
    for (const calibrate::StepRow& r : table->rows) {
      RunRow row;
      row.step = r;
      row.source = "vTrain (github.com/VIA-Research/vTrain), Megatron-DeepSpeed on A100";
      data.rows.push_back(std::move(row));
    }
    return data;
  }
  const auto lines = Lines(text);
  std::size_t header_at = 0;
  while (header_at < lines.size() && IsComment(lines[header_at])) ++header_at;
  if (header_at == lines.size())
    return Error::At(path, 1, 1,
                     "empty dataset: expected a header line naming the columns (" +
                         Join(RequiredColumns()) + ") or a vTrain step table");
  return ParseMeasuredRuns(lines, header_at, path);
}

Result<Dataset> LoadDataset(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open dataset '" + path + "'", path, 0, 0};
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseDataset(buffer.str(), path);
}

}  // namespace foresight::validate
