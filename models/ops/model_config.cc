#include "models/ops/model_config.h"

#include <array>

namespace foresight::ops {
namespace {

struct PresetEntry {
  std::string_view name;
  std::int64_t layers, hidden, heads, kv_heads, ffn_hidden, vocab, seq_len;
  bool llama;  // Llama family: swiglu, rmsnorm, no bias, untied, RoPE; else GPT-style
};

// Sources:
// * gpt3-175b, gpt3-13b: Brown et al. 2020, "Language Models are Few-Shot Learners", Table 2.1
//   (n_layers, d_model, n_heads, d_head, n_ctx = 2048); GPT architecture: d_ff = 4 d_model, gelu,
//   layernorm, biases, tied input/output embedding, learned positions (Radford et al. 2019).
//   - Vocabulary: the GPT-2 BPE tokenizer has 50257 tokens. Megatron-LM pads the vocabulary to
//     a multiple of 128 * tp (--make-vocab-size-divisible-by 128), which at tp = 8 is 51200,
//     the V used by Narayanan et al. 2021 (their FLOPs formula and Table 1). The presets use
//     51200 so that every tp up to 1024 divides the vocabulary, as in a Megatron run.
//   - gpt3-13b: the paper lists d_model = 5140 with 40 heads of d_head = 128, which is
//     inconsistent (5140 / 40 = 128.5). We use 5120 = 40 * 128, as Megatron-LM's 13B config
//     and every public reimplementation do.
// * llama2-*: Touvron et al. 2023, "Llama 2", Table 1/Sec. 2.2 (context 4096, GQA for 70B) and
//   the Hugging Face config.json of meta-llama/Llama-2-{7b,13b,70b}-hf (hidden_size,
//   intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
//   vocab_size = 32000).
// * llama3-*: Llama Team 2024, "The Llama 3 Herd of Models", Table 3 (layers, model dimension,
//   FFN dimension, attention heads, key/value heads = 8, vocabulary 128,000 -> 128256 in
//   config.json) and meta-llama/Meta-Llama-3-{8B,70B} / Llama-3.1-405B config.json;
//   pre-training sequence length 8192 (the 128K context comes from a later long-context stage).
// Llama family: SwiGLU MLP, RMSNorm, no biases, untied output projection, rotary positions.
constexpr std::array<PresetEntry, 8> kPresets = {{
    {"gpt3-175b", 96, 12288, 96, 96, 4 * 12288, 51200, 2048, false},
    {"gpt3-13b", 40, 5120, 40, 40, 4 * 5120, 51200, 2048, false},
    {"llama2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, true},
    {"llama2-13b", 40, 5120, 40, 40, 13824, 32000, 4096, true},
    {"llama2-70b", 80, 8192, 64, 8, 28672, 32000, 4096, true},
    {"llama3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, true},
    {"llama3-70b", 80, 8192, 64, 8, 28672, 128256, 8192, true},
    {"llama3-405b", 126, 16384, 128, 8, 53248, 128256, 8192, true},
}};

ModelConfig FromEntry(const PresetEntry& e) {
  ModelConfig m;
  m.preset = std::string(e.name);
  m.layers = e.layers;
  m.hidden = e.hidden;
  m.heads = e.heads;
  m.kv_heads = e.kv_heads;
  m.ffn_hidden = e.ffn_hidden;
  m.vocab = e.vocab;
  m.seq_len = e.seq_len;
  m.activation = e.llama ? Activation::kSwiglu : Activation::kGelu;
  m.norm = e.llama ? Norm::kRmsNorm : Norm::kLayerNorm;
  m.bias = !e.llama;
  m.tied_embeddings = !e.llama;
  m.learned_positions = !e.llama;
  return m;
}

std::int64_t NormParams(const ModelConfig& m) {
  return m.norm == Norm::kLayerNorm ? 2 * m.hidden : m.hidden;
}

}  // namespace

std::optional<ModelConfig> FindPreset(std::string_view name) {
  for (const PresetEntry& e : kPresets) {
    if (e.name == name) return FromEntry(e);
  }
  return std::nullopt;
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  names.reserve(kPresets.size());
  for (const PresetEntry& e : kPresets) names.emplace_back(e.name);
  return names;
}

std::string_view ActivationName(Activation a) {
  switch (a) {
    case Activation::kGelu:
      return "gelu";
    case Activation::kSwiglu:
      return "swiglu";
  }
  return "gelu";
}

std::optional<Activation> ParseActivation(std::string_view name) {
  for (Activation a : {Activation::kGelu, Activation::kSwiglu}) {
    if (ActivationName(a) == name) return a;
  }
  return std::nullopt;
}

std::string_view NormName(Norm n) {
  switch (n) {
    case Norm::kLayerNorm:
      return "layernorm";
    case Norm::kRmsNorm:
      return "rmsnorm";
  }
  return "layernorm";
}

std::optional<Norm> ParseNorm(std::string_view name) {
  for (Norm n : {Norm::kLayerNorm, Norm::kRmsNorm}) {
    if (NormName(n) == name) return n;
  }
  return std::nullopt;
}

ParameterCounts CountParameters(const ModelConfig& model) {
  const std::int64_t h = model.hidden;
  const std::int64_t f = model.ffn_hidden;
  const std::int64_t kv_heads = model.kv_heads > 0 ? model.kv_heads : model.heads;
  const std::int64_t kv = kv_heads * model.head_dim();
  const std::int64_t q = model.heads * model.head_dim();  // = h when heads divides h
  ParameterCounts c;
  c.embedding = model.vocab * h + (model.learned_positions ? model.seq_len * h : 0);

  std::int64_t attention = h * (q + 2 * kv) + q * h;
  if (model.bias) attention += (q + 2 * kv) + h;
  const bool swiglu = model.activation == Activation::kSwiglu;
  std::int64_t mlp = (swiglu ? 3 : 2) * h * f;
  if (model.bias) mlp += (swiglu ? 2 * f : f) + h;
  c.per_layer = attention + mlp + 2 * NormParams(model);

  c.final_norm = NormParams(model);
  c.output = model.tied_embeddings ? 0 : model.vocab * h;
  c.total = c.embedding + model.layers * c.per_layer + c.final_norm + c.output;
  return c;
}

}  // namespace foresight::ops
