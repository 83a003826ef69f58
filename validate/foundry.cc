#include "validate/foundry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>

namespace foresight::validate {
namespace {

// MPT dimensions from llm-foundry's pretraining yamls (github.com/mosaicml/llm-foundry,
// scripts/train/yamls/pretrain/mpt-<name>.yaml, model.d_model / n_heads / n_layers; read at
// commits 2a59782 (125m, 350m), 39393a2 (760m, 30b), 06560d5 (1b), 34c28fc (3b), 15fb4ff (7b),
// 309f683 (13b), 17e6d63 (70b)). Every yaml sets expansion_ratio 4 and vocab_size 50368 and
// leaves no_bias, learned_pos_emb and tie_word_embeddings at MPTConfig's defaults
// (llmfoundry/models/mpt/configuration_mpt.py: learned_pos_emb = True, no_bias = False,
// tie_word_embeddings = True, norm_type = 'low_precision_layernorm', a LayerNorm with bias;
// attn_config alibi = False). The benchmark tables' NumParams confirm it: they grow with the
// sequence length by exactly seq_len x d_model (the learned position table of max_seq_len
// rows) and equal 12 h^2 + 13 h per layer (biases and layernorm biases) -- foundry_test.cc.
constexpr MptDims kModels[] = {
    {"125m", 768, 12, 12}, {"350m", 1024, 16, 24}, {"760m", 1536, 12, 24},
    {"1b", 2048, 16, 24},  {"3b", 2560, 20, 32},   {"7b", 4096, 32, 32},
    {"13b", 5120, 40, 40}, {"30b", 7168, 56, 48},  {"70b", 8192, 64, 80},
};

struct Cell {
  std::string_view text;
  int column = 0;  // 1-based
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "|  a | b |" -> {a, b} with the column of each cell's first non-blank character.
std::vector<Cell> SplitRow(std::string_view line) {
  std::vector<Cell> cells;
  std::size_t start = line.find('|');
  if (start == std::string_view::npos) return cells;
  ++start;
  while (start < line.size()) {
    std::size_t end = line.find('|', start);
    const bool closed = end != std::string_view::npos;
    if (!closed) end = line.size();
    const std::string_view raw = line.substr(start, end - start);
    if (!closed && Trim(raw).empty()) break;  // nothing after the closing '|'
    std::size_t lead = 0;
    while (lead < raw.size() && std::isspace(static_cast<unsigned char>(raw[lead]))) ++lead;
    cells.push_back({Trim(raw), static_cast<int>(start + lead) + 1});
    start = end + 1;
  }
  return cells;
}

bool IsSeparator(const std::vector<Cell>& cells) {
  if (cells.empty()) return false;
  for (const Cell& c : cells) {
    if (c.text.empty() || c.text.find_first_not_of("-: ") != std::string_view::npos) return false;
  }
  return true;
}

const std::vector<std::string_view>& Required() {
  static const std::vector<std::string_view> kColumns = {"Model",
                                                         "SeqLen (T)",
                                                         "# GPUs",
                                                         "GPU",
                                                         "MicroBatchSize",
                                                         "GradAccum",
                                                         "GlobalBatchSize",
                                                         "Throughput (T/s)",
                                                         "GlobalBatchSize (T)",
                                                         "Precision",
                                                         "Sharding Strategy",
                                                         "Activation Checkpointing",
                                                         "Activation CPUOffload",
                                                         "NumParams"};
  return kColumns;
}

std::optional<std::int64_t> PositiveInteger(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = 10 * v + (c - '0');
  }
  if (v <= 0) return std::nullopt;
  return v;
}

}  // namespace

const std::vector<MptDims>& MptModels() {
  static const std::vector<MptDims> kAll(std::begin(kModels), std::end(kModels));
  return kAll;
}

std::optional<MptDims> FindMpt(std::string_view name) {
  for (const MptDims& m : kModels) {
    if (m.name == name) return m;
  }
  return std::nullopt;
}

ops::ModelConfig MptModelConfig(const MptDims& dims, std::int64_t seq_len) {
  ops::ModelConfig m;
  m.preset = "mpt-" + std::string(dims.name);
  m.layers = dims.n_layers;
  m.hidden = dims.d_model;
  m.heads = dims.n_heads;
  m.kv_heads = dims.n_heads;
  m.ffn_hidden = 4 * dims.d_model;
  m.activation = ops::Activation::kGelu;
  m.norm = ops::Norm::kLayerNorm;
  m.vocab = 50368;
  m.seq_len = seq_len;
  m.bias = true;
  m.tied_embeddings = true;
  m.learned_positions = true;
  return m;
}

std::optional<std::string> FoundryHardwareFor(std::string_view gpu) {
  // H100 tables: the README does not state the interconnect; the catalog DGX H100 (8 x 400
  // Gbit/s) is used. A100 tables: "1600 Gbps node-node interconnect (RoCE)" = 8 x 200 Gbit/s,
  // the catalog DGX A100's per-node total (25 GB/s per GPU); the 40 GB part has its own
  // profile (memory and HBM bandwidth of the 40 GB SXM4 datasheet, same network).
  if (gpu == "h100_80gb") return std::string("dgx-h100");
  if (gpu == "a100_80gb") return std::string("dgx-a100-80gb");
  if (gpu == "a100_40gb") return std::string("calibrate/profiles/a100-40gb-roce.yaml");
  return std::nullopt;
}

bool LooksLikeFoundryTables(std::string_view text) {
  return text.find("Throughput (T/s)") != std::string_view::npos &&
         text.find("Sharding Strategy") != std::string_view::npos &&
         text.find("| Model") != std::string_view::npos;
}

Result<Dataset> ParseFoundryTables(std::string_view text, const std::string& path) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  Dataset data;
  data.path = path;
  data.format = "llm-foundry";
  std::string section;
  std::map<std::string, int, std::less<>> index;  // column name -> cell index, current table
  std::size_t header_cells = 0;
  int header_line = 0;
  bool in_table = false, seen_separator = false;
  int line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    const bool last = end == text.size();
    start = end + 1;
    const std::string_view t = Trim(line);
    if (t.empty() || t.front() != '|') {
      in_table = false;
      if (!t.empty() && t.front() == '#') {
        std::string_view h = t;
        while (!h.empty() && h.front() == '#') h.remove_prefix(1);
        section = std::string(Trim(h));
      }
      if (last) break;
      continue;
    }
    const std::vector<Cell> cells = SplitRow(line);
    if (!in_table) {
      // A header row.
      in_table = true;
      seen_separator = false;
      index.clear();
      header_cells = cells.size();
      header_line = line_no;
      for (std::size_t k = 0; k < cells.size(); ++k) {
        const std::string name(cells[k].text);
        if (index.count(name))
          return Error::At(path, line_no, cells[k].column, "column '" + name + "' appears twice");
        index[name] = static_cast<int>(k);
      }
      for (std::string_view name : Required()) {
        if (!index.count(name)) {
          std::string all;
          for (std::string_view n : Required()) all += (all.empty() ? "" : ", ") + std::string(n);
          return Error::At(path, line_no, 1,
                           "llm-foundry table header lacks the column '" + std::string(name) +
                               "'; required: " + all);
        }
      }
      if (section.empty())
        return Error::At(path, line_no, 1,
                         "table without a section heading: expected a '## <GPU> <dtype>' line "
                         "before it");
      if (last) break;
      continue;
    }
    if (!seen_separator) {
      if (!IsSeparator(cells))
        return Error::At(path, line_no, 1,
                         "expected the table's separator row ('| --- | --- | ...') after the "
                         "header of line " +
                             std::to_string(header_line));
      seen_separator = true;
      if (last) break;
      continue;
    }
    if (cells.size() != header_cells)
      return Error::At(path, line_no, 1,
                       "expected " + std::to_string(header_cells) +
                           " cells (one per header column of line " + std::to_string(header_line) +
                           "), found " + std::to_string(cells.size()));
    auto cell = [&](std::string_view name) -> const Cell& {
      return cells[static_cast<std::size_t>(index.find(name)->second)];
    };
    std::int64_t seq = 0, gpus = 0, micro = 0, accum = 0, global = 0, tokens_per_s = 0,
                 global_tokens = 0, num_params = 0;
    const std::pair<std::string_view, std::int64_t*> ints[] = {
        {"SeqLen (T)", &seq},
        {"# GPUs", &gpus},
        {"MicroBatchSize", &micro},
        {"GradAccum", &accum},
        {"GlobalBatchSize", &global},
        {"Throughput (T/s)", &tokens_per_s},
        {"GlobalBatchSize (T)", &global_tokens},
        {"NumParams", &num_params}};
    for (const auto& [name, field] : ints) {
      const Cell& c = cell(name);
      const auto v = PositiveInteger(c.text);
      if (!v)
        return Error::At(path, line_no, c.column,
                         "expected a positive integer for '" + std::string(name) + "', found '" +
                             std::string(c.text) + "'");
      *field = *v;
    }
    bool flags[2] = {false, false};
    const std::string_view flag_names[2] = {"Activation Checkpointing", "Activation CPUOffload"};
    for (int k = 0; k < 2; ++k) {
      const Cell& c = cell(flag_names[k]);
      if (c.text == "True")
        flags[k] = true;
      else if (c.text != "False")
        return Error::At(path, line_no, c.column,
                         "expected True or False for '" + std::string(flag_names[k]) +
                             "', found '" + std::string(c.text) + "'");
    }
    if (global_tokens != global * seq)
      return Error::At(path, line_no, cell("GlobalBatchSize (T)").column,
                       "GlobalBatchSize (T) = " + std::to_string(global_tokens) +
                           " but GlobalBatchSize x SeqLen = " + std::to_string(global * seq));
    const std::string model_name(cell("Model").text);
    const std::string gpu(cell("GPU").text);
    const std::string precision(cell("Precision").text);
    const std::string sharding(cell("Sharding Strategy").text);
    auto skip = [&](const std::string& reason) {
      data.skipped.push_back({line_no, section, reason});
    };
    const auto dims = FindMpt(model_name);
    if (!dims) {
      skip("model '" + model_name + "' is not one of llm-foundry's MPT pretraining yamls");
      continue;
    }
    const auto hardware = FoundryHardwareFor(gpu);
    if (!hardware) {
      skip("GPU '" + gpu + "' has no hardware profile (known: h100_80gb, a100_80gb, a100_40gb)");
      continue;
    }
    if (flags[1]) {
      skip("activation CPU offload is not modelled");
      continue;
    }
    RunRow row;
    calibrate::StepConventions& conv = row.conventions;
    if (precision == "amp_bf16" || precision == "bf16") {
      conv.dtype = Dtype::kBf16;
    } else if (precision == "amp_fp8") {
      conv.dtype = Dtype::kFp8;
    } else {
      skip("precision '" + precision + "' has no mapping (amp_bf16, bf16, amp_fp8)");
      continue;
    }
    if (sharding == "FULL_SHARD") {
      conv.sharding = calibrate::DpSharding::kFullShard;
    } else if (sharding == "SHARD_GRAD_OP") {
      conv.sharding = calibrate::DpSharding::kShardGradOp;
    } else {
      skip("sharding strategy '" + sharding + "' has no mapping (FULL_SHARD, SHARD_GRAD_OP)");
      continue;
    }
    if (global % gpus != 0 || (global / gpus) % micro != 0) {
      skip("micro-batch " + std::to_string(micro) + " does not split the per-GPU batch " +
           std::to_string(global) + "/" + std::to_string(gpus) +
           " evenly (llm-foundry then runs a shorter last micro-batch)");
      continue;
    }
    if ((global / gpus) / micro != accum) {
      skip("GradAccum " + std::to_string(accum) + " disagrees with GlobalBatchSize / (# GPUs x " +
           "MicroBatchSize) = " + std::to_string(global / gpus / micro));
      continue;
    }
    if (conv.sharding == calibrate::DpSharding::kShardGradOp && accum > 1) {
      skip(
          "SHARD_GRAD_OP with gradient accumulation re-gathers parameters every micro-batch "
          "(not modelled)");
      continue;
    }
    const ops::ModelConfig model = MptModelConfig(*dims, seq);
    const std::int64_t counted = ops::CountParameters(model).total;
    if (counted != num_params) {
      skip("NumParams " + std::to_string(num_params) + " differs from the MPT-" + model_name +
           " parameter count " + std::to_string(counted));
      continue;
    }
    conv.vocab = model.vocab;
    conv.vocab_multiple = 1;  // 50368 is used as is (a multiple of 64 already)
    conv.recompute = flags[0] ? plan::Recompute::kFull : plan::Recompute::kNone;
    // "our models use Flash Attention" (benchmarking/README.md, HFU): submit_benchmarks.py sets
    // model.attn_impl from --attn_impl, default 'triton', i.e. llm-foundry's
    // flash_attn_triton.py, Tri Dao's experimental FlashAttention in Triton (pre-MLIR Triton).
    conv.flash_attention = true;
    conv.attention_kernel = "triton_flash";
    calibrate::StepRow& s = row.step;
    s.line = line_no;
    s.gpus = gpus;
    s.global_batch = global;
    s.micro_batch = micro;
    s.hidden = dims->d_model;
    s.heads = dims->n_heads;
    s.layers = dims->n_layers;
    s.seq_len = seq;
    s.tp = 1;
    s.pp = 1;
    s.dp = gpus;
    // Tokens per step over measured tokens per second.
    s.step_seconds = static_cast<double>(global_tokens) / static_cast<double>(tokens_per_s);
    row.hardware = *hardware;
    row.source = "llm-foundry " + section + ": MPT-" + model_name;
    row.tags = {{"section", section},
                {"sharding", sharding},
                {"activation checkpointing", flags[0] ? "on" : "off"},
                {"sequence length", std::to_string(seq)},
                {"model", model_name}};
    data.rows.push_back(std::move(row));
    if (last) break;
  }
  if (data.rows.empty() && data.skipped.empty())
    return Error::At(path, 1, 1, "no llm-foundry table rows found");
  return data;
}

}  // namespace foresight::validate
