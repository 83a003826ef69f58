#include "models/ops/model_config.h"

#include <algorithm>
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
// * mixtral-8x7b: Jiang et al. 2024, "Mixtral of Experts", Table 1 (dim 4096, 32 layers,
//   head_dim 128, hidden_dim 14336, 32 heads, 8 kv heads, context 32768, vocab 32000, 8
//   experts, top-2) and mistralai/Mixtral-8x7B-v0.1 config.json; dropless (no capacity).
//   Published size: 46.7B total, 12.9B active per token (mistral.ai/news/mixtral-of-experts).
// * mixtral-8x22b: mistralai/Mixtral-8x22B-v0.1 config.json (hidden 6144, intermediate 16384,
//   56 layers, 48 heads, 8 kv heads, vocab 32000, 8 experts, top-2, context 65536). Published
//   size: 141B total, 39B active (mistral.ai/news/mixtral-8x22b).
// * deepseek-v3 ("DeepSeek-V3-like"): DeepSeek-AI 2024, "DeepSeek-V3 Technical Report", Sec.
//   4.2 (61 layers, hidden 7168, 128 heads of 128, MLA with kv compression 512, query
//   compression 1536, decoupled rope dim 64; every FFN but the first three is MoE with 1 shared
//   and 256 routed experts of width 2048, 8 active; no token dropping; 4K pre-training
//   sequences) and deepseek-ai/DeepSeek-V3 config.json (dense FFN 18432, vocab 129280).
//   Published size: 671B total, 37B activated per token (the report's abstract; the 14B
//   multi-token-prediction module is not part of the 671B and is not modelled). Simplified:
//   the attention core runs at head_dim 128 (MLA's query/key heads are 192 wide: 128 + 64
//   rotary), the sigmoid router with bias-based balancing is a softmax top-k router, and
//   node-limited routing is not modelled.
// Llama family (and the MoE presets): SwiGLU MLP, RMSNorm, no biases, untied output projection,
// rotary positions.
constexpr std::array<PresetEntry, 11> kPresets = {{
    {"gpt3-175b", 96, 12288, 96, 96, 4 * 12288, 51200, 2048, false},
    {"gpt3-13b", 40, 5120, 40, 40, 4 * 5120, 51200, 2048, false},
    {"llama2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, true},
    {"llama2-13b", 40, 5120, 40, 40, 13824, 32000, 4096, true},
    {"llama2-70b", 80, 8192, 64, 8, 28672, 32000, 4096, true},
    {"llama3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, true},
    {"llama3-70b", 80, 8192, 64, 8, 28672, 128256, 8192, true},
    {"llama3-405b", 126, 16384, 128, 8, 53248, 128256, 8192, true},
    {"mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000, 32768, true},
    {"mixtral-8x22b", 56, 6144, 48, 8, 16384, 32000, 65536, true},
    {"deepseek-v3", 61, 7168, 128, 128, 18432, 129280, 4096, true},
}};

// The MoE and MLA parts of the presets above (sources there).
void AddMoe(ModelConfig& m) {
  if (m.preset == "mixtral-8x7b" || m.preset == "mixtral-8x22b") {
    m.moe.experts = 8;
    m.moe.top_k = 2;
    m.moe.expert_ffn_hidden = m.ffn_hidden;
  } else if (m.preset == "deepseek-v3") {
    m.moe.experts = 256;
    m.moe.top_k = 8;
    m.moe.expert_ffn_hidden = 2048;
    m.moe.shared_experts = 1;
    m.moe.first_dense_layers = 3;
    m.head_dim_override = 128;
    m.mla.q_rank = 1536;
    m.mla.kv_rank = 512;
    m.mla.rope_dim = 64;
  }
}

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
  AddMoe(m);
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

std::int64_t AttentionParameters(const ModelConfig& model) {
  const std::int64_t h = model.hidden;
  const std::int64_t d = model.head_dim();
  const std::int64_t a = model.heads;
  if (model.mla.enabled()) {
    const MlaConfig& mla = model.mla;
    const std::int64_t norm = model.norm == Norm::kLayerNorm ? 2 : 1;
    const std::int64_t q =
        mla.q_rank > 0 ? h * mla.q_rank + norm * mla.q_rank + mla.q_rank * a * (d + mla.rope_dim)
                       : h * a * (d + mla.rope_dim);
    const std::int64_t kv =
        h * (mla.kv_rank + mla.rope_dim) + norm * mla.kv_rank + mla.kv_rank * a * 2 * d;
    return q + kv + a * d * h + (model.bias ? a * d * 3 + h : 0);
  }
  const std::int64_t kv_heads = model.kv_heads > 0 ? model.kv_heads : model.heads;
  const std::int64_t kv = kv_heads * d;
  const std::int64_t q = a * d;  // = h when heads divides h
  std::int64_t attention = h * (q + 2 * kv) + q * h;
  if (model.bias) attention += (q + 2 * kv) + h;
  return attention;
}

std::int64_t MlpParameters(const ModelConfig& model, std::int64_t ffn) {
  const std::int64_t h = model.hidden;
  const bool swiglu = model.activation == Activation::kSwiglu;
  std::int64_t mlp = (swiglu ? 3 : 2) * h * ffn;
  if (model.bias) mlp += (swiglu ? 2 * ffn : ffn) + h;
  return mlp;
}

ParameterCounts CountParameters(const ModelConfig& model) {
  const std::int64_t h = model.hidden;
  ParameterCounts c;
  c.embedding = model.vocab * h + (model.learned_positions ? model.seq_len * h : 0);
  const std::int64_t attention = AttentionParameters(model) + 2 * NormParams(model);
  c.per_layer = attention + MlpParameters(model, model.ffn_hidden);
  c.final_norm = NormParams(model);
  c.output = model.tied_embeddings ? 0 : model.vocab * h;
  std::int64_t dense_layers = model.layers;
  std::int64_t active_moe = 0;
  if (model.moe.enabled()) {
    const MoeConfig& moe = model.moe;
    const std::int64_t expert = MlpParameters(model, moe.expert_ffn_hidden);
    c.moe_layers = std::max<std::int64_t>(0, model.layers - moe.first_dense_layers);
    dense_layers = model.layers - c.moe_layers;
    c.moe_layer_dense = attention + h * moe.experts + moe.shared_experts * expert;
    c.moe_layer_experts = moe.experts * expert;
    active_moe = c.moe_layers * (c.moe_layer_dense + moe.top_k * expert);
  }
  const std::int64_t outside = c.embedding + c.final_norm + c.output + dense_layers * c.per_layer;
  c.total = outside + c.moe_layers * (c.moe_layer_dense + c.moe_layer_experts);
  c.active = outside + active_moe;
  return c;
}

}  // namespace foresight::ops
