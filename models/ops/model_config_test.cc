#include "models/ops/model_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace foresight::ops {
namespace {

ModelConfig Preset(std::string_view name) {
  const std::optional<ModelConfig> m = FindPreset(name);
  EXPECT_TRUE(m.has_value()) << name;
  return m.value_or(ModelConfig{});
}

TEST(ModelConfigTest, PresetsRoundTripNames) {
  const std::vector<std::string> names = PresetNames();
  ASSERT_EQ(names.size(), 11u);
  for (const std::string& name : names) {
    const std::optional<ModelConfig> m = FindPreset(name);
    ASSERT_TRUE(m.has_value()) << name;
    EXPECT_EQ(m->preset, name);
    EXPECT_EQ(m->hidden % m->heads, 0) << name;
    EXPECT_EQ(m->heads % m->kv_heads, 0) << name;
  }
  EXPECT_FALSE(FindPreset("gpt4").has_value());
  EXPECT_FALSE(FindPreset("").has_value());
}

TEST(ModelConfigTest, PresetsHavePublishedDimensions) {
  // Brown et al. 2020 Table 2.1: 96 layers, d_model 12288, 96 heads, n_ctx 2048.
  const ModelConfig gpt = Preset("gpt3-175b");
  EXPECT_EQ(gpt.layers, 96);
  EXPECT_EQ(gpt.hidden, 12288);
  EXPECT_EQ(gpt.heads, 96);
  EXPECT_EQ(gpt.ffn_hidden, 4 * 12288);
  EXPECT_EQ(gpt.seq_len, 2048);
  EXPECT_EQ(gpt.vocab, 51200);  // 50257 padded to a multiple of 128 * 8 (Megatron, tp = 8)
  EXPECT_EQ(gpt.activation, Activation::kGelu);
  EXPECT_EQ(gpt.norm, Norm::kLayerNorm);
  EXPECT_TRUE(gpt.bias && gpt.tied_embeddings && gpt.learned_positions);
  // gpt3-13b: 40 layers, 40 heads of d_head 128 -> 5120 (the paper's 5140 is not 40 * 128).
  const ModelConfig gpt13 = Preset("gpt3-13b");
  EXPECT_EQ(gpt13.layers, 40);
  EXPECT_EQ(gpt13.hidden, 5120);
  EXPECT_EQ(gpt13.head_dim(), 128);
  // Llama 2 (Touvron et al. 2023; HF config.json): 70B has 80 layers, 8192, 64 heads, 8 KV.
  const ModelConfig l2 = Preset("llama2-70b");
  EXPECT_EQ(l2.layers, 80);
  EXPECT_EQ(l2.kv_heads, 8);
  EXPECT_EQ(l2.ffn_hidden, 28672);
  EXPECT_EQ(l2.seq_len, 4096);
  EXPECT_EQ(l2.vocab, 32000);
  EXPECT_EQ(l2.activation, Activation::kSwiglu);
  EXPECT_EQ(l2.norm, Norm::kRmsNorm);
  EXPECT_FALSE(l2.bias || l2.tied_embeddings || l2.learned_positions);
  // Llama 3 herd paper Table 3: 405B has 126 layers, 16384, FFN 53248, 128 heads, 8 KV heads.
  const ModelConfig l3 = Preset("llama3-405b");
  EXPECT_EQ(l3.layers, 126);
  EXPECT_EQ(l3.hidden, 16384);
  EXPECT_EQ(l3.ffn_hidden, 53248);
  EXPECT_EQ(l3.heads, 128);
  EXPECT_EQ(l3.kv_heads, 8);
  EXPECT_EQ(l3.vocab, 128256);
  EXPECT_EQ(l3.seq_len, 8192);
}

TEST(ModelConfigTest, NamesParse) {
  for (Activation a : {Activation::kGelu, Activation::kSwiglu}) {
    EXPECT_EQ(ParseActivation(ActivationName(a)), a);
  }
  for (Norm n : {Norm::kLayerNorm, Norm::kRmsNorm}) EXPECT_EQ(ParseNorm(NormName(n)), n);
  EXPECT_FALSE(ParseActivation("relu").has_value());
  EXPECT_FALSE(ParseNorm("batchnorm").has_value());
}

TEST(ModelConfigTest, GptLayerIs12hSquaredPlus13h) {
  // QKV 3h^2 + 3h, proj h^2 + h, fc1 4h^2 + 4h, fc2 4h^2 + h, two layernorms 4h.
  const ModelConfig gpt = Preset("gpt3-175b");
  const std::int64_t h = 12288;
  EXPECT_EQ(CountParameters(gpt).per_layer, 12 * h * h + 13 * h);
}

TEST(ModelConfigTest, Gpt3_175bIsAbout175B) {
  // embedding 51200*12288 + 2048*12288 = 629,145,600 + 25,165,824 = 654,311,424
  // per layer 12*12288^2 + 13*12288 = 1,811,939,328 + 159,744 = 1,812,099,072
  // 96 layers = 173,961,510,912; final layernorm 2*12288 = 24,576; tied output.
  // total = 654,311,424 + 173,961,510,912 + 24,576 = 174,615,846,912 (0.22% under 175e9).
  const ParameterCounts c = CountParameters(Preset("gpt3-175b"));
  EXPECT_EQ(c.embedding, 654311424);
  EXPECT_EQ(c.output, 0);
  EXPECT_EQ(c.total, 174615846912);
  EXPECT_LT(std::abs(static_cast<double>(c.total) - 175e9) / 175e9, 0.005);
}

TEST(ModelConfigTest, Llama2_7bMatchesHuggingFace) {
  // embed 32000*4096 = 131,072,000
  // layer 4*4096^2 + 3*4096*11008 + 2*4096 = 67,108,864 + 135,266,304 + 8,192 = 202,383,360
  // 32 layers = 6,476,267,520; final RMSNorm 4096; output 32000*4096 = 131,072,000
  // total = 6,738,415,616 (HF model card: 6.74B).
  const ParameterCounts c = CountParameters(Preset("llama2-7b"));
  EXPECT_EQ(c.per_layer, 202383360);
  EXPECT_EQ(c.final_norm, 4096);
  EXPECT_EQ(c.output, 131072000);
  EXPECT_EQ(c.total, 6738415616);
}

TEST(ModelConfigTest, Llama2_13b) {
  // embed = output = 32000*5120 = 163,840,000
  // layer 4*5120^2 + 3*5120*13824 + 2*5120 = 104,857,600 + 212,336,640 + 10,240 = 317,204,480
  // total = 2*163,840,000 + 40*317,204,480 + 5120 = 13,015,864,320
  EXPECT_EQ(CountParameters(Preset("llama2-13b")).total, 13015864320);
}

TEST(ModelConfigTest, Llama2_70bWithGqa) {
  // GQA attention: h*(h + 2*8*128) + h*h = 8192*10240 + 8192^2 = 83,886,080 + 67,108,864
  //   = 150,994,944; MLP 3*8192*28672 = 704,643,072; norms 16,384 -> layer 855,654,400
  // total = 2*32000*8192 + 80*855,654,400 + 8192 = 524,288,000 + 68,452,352,000 + 8,192
  //       = 68,976,648,192
  const ParameterCounts c = CountParameters(Preset("llama2-70b"));
  EXPECT_EQ(c.per_layer, 855654400);
  EXPECT_EQ(c.total, 68976648192);
}

TEST(ModelConfigTest, Llama3_8b) {
  // embed = output = 128256*4096 = 525,336,576
  // layer 4096*(4096 + 2*1024) + 4096^2 + 3*4096*14336 + 2*4096
  //     = 25,165,824 + 16,777,216 + 176,160,768 + 8,192 = 218,112,000
  // total = 2*525,336,576 + 32*218,112,000 + 4096 = 8,030,261,248
  EXPECT_EQ(CountParameters(Preset("llama3-8b")).total, 8030261248);
}

TEST(ModelConfigTest, Llama3_70b) {
  // embed = output = 128256*8192 = 1,050,673,152; layer as llama2-70b: 855,654,400
  // total = 2,101,346,304 + 80*855,654,400 + 8192 = 70,553,706,496
  EXPECT_EQ(CountParameters(Preset("llama3-70b")).total, 70553706496);
}

TEST(ModelConfigTest, Llama3_405b) {
  // embed = output = 128256*16384 = 2,101,346,304
  // layer 16384*(16384 + 2048) + 16384^2 + 3*16384*53248 + 2*16384
  //     = 301,989,888 + 268,435,456 + 2,617,245,696 + 32,768 = 3,187,703,808
  // total = 4,202,692,608 + 126*3,187,703,808 + 16384 = 405,853,388,800 ("405B")
  EXPECT_EQ(CountParameters(Preset("llama3-405b")).total, 405853388800);
}

TEST(ModelConfigTest, ZeroKvHeadsMeansMultiHead) {
  ModelConfig m = FindPreset("gpt3-13b").value_or(ModelConfig{});
  const std::int64_t mha = CountParameters(m).total;
  m.kv_heads = 0;
  EXPECT_EQ(CountParameters(m).total, mha);
  EXPECT_EQ(CountParameters(ModelConfig{}).total, 0);  // empty config: no division by zero
}

TEST(ModelConfigTest, BiasedSwigluCountsBothInputBiases) {
  // h = 8, heads 2 (d = 4), kv_heads 1 (kv = 4), f = 16, vocab 10, no positions, untied.
  // attention 8*(8 + 8) + 8*8 = 192, biases (8 + 8) + 8 = 24
  // MLP 3*8*16 = 384, biases 2*16 + 8 = 40; rmsnorms 2*8 = 16 -> layer 656
  ModelConfig m;
  m.layers = 3;
  m.hidden = 8;
  m.heads = 2;
  m.kv_heads = 1;
  m.ffn_hidden = 16;
  m.vocab = 10;
  m.seq_len = 4;
  m.activation = Activation::kSwiglu;
  m.norm = Norm::kRmsNorm;
  m.bias = true;
  m.tied_embeddings = false;
  m.learned_positions = false;
  const ParameterCounts c = CountParameters(m);
  EXPECT_EQ(c.per_layer, 656);
  EXPECT_EQ(c.embedding, 80);
  EXPECT_EQ(c.total, 80 + 3 * 656 + 8 + 80);
}

}  // namespace
}  // namespace foresight::ops
