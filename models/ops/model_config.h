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

  std::int64_t head_dim() const { return heads > 0 ? hidden / heads : 0; }
};

// Presets with their published dimensions (sources in model_config.cc).
// gpt3-175b, gpt3-13b, llama2-7b, llama2-13b, llama2-70b, llama3-8b, llama3-70b, llama3-405b.
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
struct ParameterCounts {
  std::int64_t embedding = 0;  // token (+ learned position) embedding
  std::int64_t per_layer = 0;  // one transformer layer (attention + MLP + norms)
  std::int64_t final_norm = 0;
  std::int64_t output = 0;  // untied output projection (0 when tied)
  std::int64_t total = 0;
};
ParameterCounts CountParameters(const ModelConfig& model);

}  // namespace foresight::ops
