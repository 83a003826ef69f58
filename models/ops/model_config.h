// ModelConfig: the dimensions of a decoder-only transformer, and the published presets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::ops {

enum class Activation : std::uint8_t { kGelu, kSwiglu };
enum class Norm : std::uint8_t { kLayerNorm, kRmsNorm };

// Mixture of experts (model.moe). experts = 0: every layer has the dense MLP. Otherwise every
// layer after the first `first_dense_layers` replaces its MLP by: a router (h x experts GEMM,
// softmax/top-k), `experts` routed experts of which each token visits top_k, and
// `shared_experts` experts every token visits; each expert is an MLP of width
// expert_ffn_hidden with the model's activation. capacity_factor > 0: an expert takes at most
// capacity_factor * tokens * top_k / experts tokens and drops the rest (0 = dropless).
// load_imbalance (>= 1) is a scenario parameter, not an architecture one: the tokens the
// busiest expert-parallel rank receives over the mean (1 = perfectly balanced routing).
struct MoeConfig {
  std::int64_t experts = 0;
  std::int64_t top_k = 0;
  double capacity_factor = 0;
  std::int64_t expert_ffn_hidden = 0;
  std::int64_t shared_experts = 0;
  std::int64_t first_dense_layers = 0;
  double load_imbalance = 1.0;
  bool enabled() const { return experts > 0; }
};

// Multi-head latent attention (DeepSeek-V2/V3), q_rank = 0 and kv_rank = 0: standard (GQA)
// attention. Q = up_q(norm(down_q(x))) with q_rank latent (no down projection when q_rank = 0),
// K/V from a kv_rank latent (+ a shared rope_dim rotary key), each head with head_dim
// no-position query/key dims and head_dim value dims, plus rope_dim rotary query/key dims.
struct MlaConfig {
  std::int64_t q_rank = 0;
  std::int64_t kv_rank = 0;
  std::int64_t rope_dim = 0;
  bool enabled() const { return kv_rank > 0; }
};

struct ModelConfig {
  std::string preset;  // name of the preset it started from, or empty
  std::int64_t layers = 0;
  std::int64_t hidden = 0;
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;    // = heads for multi-head attention (0 is read as heads)
  std::int64_t ffn_hidden = 0;  // MLP inner size (per matrix for swiglu)
  Activation activation = Activation::kGelu;
  Norm norm = Norm::kLayerNorm;
  std::int64_t vocab = 0;
  std::int64_t seq_len = 0;
  bool bias = true;             // linear layers carry biases (GPT) or not (Llama)
  bool tied_embeddings = true;  // output projection shares the input embedding
  // GPT learned position embedding (seq_len x hidden params). A model without learned
  // positions is taken to use rotary embeddings (RoPE, applied to Q and K in every layer, no
  // parameters), as every Llama preset does.
  bool learned_positions = true;
  // Attention head width when it is not hidden / heads (0 = hidden / heads).
  std::int64_t head_dim_override = 0;
  MoeConfig moe;
  MlaConfig mla;

  std::int64_t head_dim() const {
    if (head_dim_override > 0) return head_dim_override;
    return heads > 0 ? hidden / heads : 0;
  }
  // Whether layer `index` (0-based) has the MoE block instead of the dense MLP.
  bool IsMoeLayer(std::int64_t index) const {
    return moe.enabled() && index >= moe.first_dense_layers;
  }
};

// Presets with their published dimensions (sources in model_config.cc).
// gpt3-175b, gpt3-13b, llama2-7b, llama2-13b, llama2-70b, llama3-8b, llama3-70b, llama3-405b,
// mixtral-8x7b, mixtral-8x22b, deepseek-v3 (MoE; the last with multi-head latent attention).
std::optional<ModelConfig> FindPreset(std::string_view name);
std::vector<std::string> PresetNames();

std::string_view ActivationName(Activation a);
std::optional<Activation> ParseActivation(std::string_view name);
std::string_view NormName(Norm n);
std::optional<Norm> ParseNorm(std::string_view name);

// Exact trainable parameter counts (O(1)). Per layer:
//   attention h*(h + 2*kv) + h*h, kv = kv_heads * head_dim (QKV and output projection),
//             + (h + 2*kv) + h biases when model.bias;
//   MLP       2*h*f (gelu) or 3*h*f (swiglu: gate, up, down) + f + h (gelu) or 2f + h biases;
//   norms     2 per layer, 2h each (layernorm: gain and bias) or h each (rmsnorm: gain).
// Embedding vocab*h (+ seq_len*h learned positions); final norm as above; output vocab*h when
// untied. GPT shapes (ffn = 4h, kv = h, biases, layernorm) give 12h^2 + 13h per layer.
// Multi-head latent attention (MlaConfig, a = heads, d = head_dim, r = rope_dim, rmsnorm):
//   h*qr + qr + qr*a*(d + r)  (q_rank > 0; else h*a*(d + r))
//   + h*(kvr + r) + kvr + kvr*a*2d + a*d*h.
// MoE layer: attention + norms + router h*experts + (shared_experts + experts) expert MLPs of
// width expert_ffn_hidden (3*h*fe swiglu, 2*h*fe gelu, + biases). Active parameters (used by one
// token) count top_k + shared_experts experts, and everything outside the experts.
struct ParameterCounts {
  std::int64_t embedding = 0;  // token (+ learned position) embedding
  std::int64_t per_layer = 0;  // one dense transformer layer (attention + MLP + norms)
  std::int64_t final_norm = 0;
  std::int64_t output = 0;  // untied output projection (0 when tied)
  std::int64_t total = 0;
  // MoE models (0 otherwise): one MoE layer's parameters outside the routed experts
  // (attention, norms, router, shared experts), and its routed experts.
  std::int64_t moe_layer_dense = 0;
  std::int64_t moe_layer_experts = 0;
  std::int64_t moe_layers = 0;  // layers with the MoE block
  std::int64_t active = 0;      // parameters one token uses (= total for dense models)
};
// Parameters of one attention block (projections, their biases and MLA's latent norms).
std::int64_t AttentionParameters(const ModelConfig& model);
// Parameters of one MLP of inner width `ffn` (weights and biases).
std::int64_t MlpParameters(const ModelConfig& model, std::int64_t ffn);
ParameterCounts CountParameters(const ModelConfig& model);

}  // namespace foresight::ops
