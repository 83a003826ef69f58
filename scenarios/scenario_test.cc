// Scenario loading: the bundled examples, presets, defaults, fusion, hardware overrides, paths
// and --set. Error cases are in scenario_errors_test.cc.
//
// Independent facts used below: a DGX A100 and a DGX H100 hold 8 GPUs each (NVIDIA DGX A100 /
// DGX H100 datasheets); preset dimensions are the published ones cited in
// models/ops/model_config.cc; every derived number is worked out in a comment.
#include "scenarios/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace foresight::scenarios {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Example(const std::string& name) {
  return std::string(FORESIGHT_SOURCE_DIR) + "/scenarios/examples/" + name;
}

// A small scenario without a preset; lines numbered for the tests that point into it.
constexpr const char* kTiny = R"yaml(name: tiny
model:
  layers: 4
  hidden: 256
  heads: 8
  vocab: 1000
  seq_len: 128
cluster:
  hardware: dgx-h100
  nodes: 1
training:
  global_batch: 16
plan:
  tp: 2
  pp: 2
)yaml";

Scenario MustLoad(const std::string& text, const std::vector<SetOverride>& sets = {}) {
  Result<Scenario> r = LoadScenarioText(text, "test.yaml", sets);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : Scenario{};
}

SetOverride Set(const std::string& text) {
  Result<SetOverride> r = ParseSetOverride(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? r.value() : SetOverride{};
}

TEST(ScenarioExamplesTest, Gpt3On128DgxA100) {
  Result<Scenario> r = LoadScenarioFile(Example("gpt3-175b-128x-dgx-a100.yaml"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Scenario& s = *r;
  EXPECT_EQ(s.name, "gpt3-175b on 128 DGX A100");
  // Brown et al. 2020 Table 2.1 / Narayanan et al. 2021 Table 1.
  EXPECT_EQ(s.model.preset, "gpt3-175b");
  EXPECT_EQ(s.model.layers, 96);
  EXPECT_EQ(s.model.hidden, 12288);
  EXPECT_EQ(s.model.heads, 96);
  EXPECT_EQ(s.model.kv_heads, 96);
  EXPECT_EQ(s.model.ffn_hidden, 4 * 12288);
  EXPECT_EQ(s.model.activation, ops::Activation::kGelu);
  EXPECT_EQ(s.model.vocab, 51200);
  EXPECT_EQ(s.model.seq_len, 2048);
  EXPECT_EQ(s.cluster.hardware, "dgx-a100-80gb");
  EXPECT_EQ(s.cluster.nodes, 128);
  EXPECT_EQ(s.cluster.gpus_per_node, 8);
  EXPECT_EQ(s.cluster.world_size(), 1024);  // 128 nodes x 8 GPUs
  EXPECT_EQ(s.hardware.node.gpus_per_node, 8);
  EXPECT_EQ(s.training.global_batch, 1536);
  EXPECT_EQ(s.training.micro_batch, 1);
  EXPECT_EQ(s.training.dtype, Dtype::kBf16);
  EXPECT_EQ(s.plan.tp, 8);
  EXPECT_EQ(s.plan.pp, 16);
  EXPECT_EQ(s.plan.dp, 8);  // 1024 / (8 * 16)
  EXPECT_EQ(s.plan.vpp, 1);
  EXPECT_EQ(s.plan.schedule, plan::Schedule::k1F1B);
  EXPECT_EQ(s.plan.recompute, plan::Recompute::kFull);
  EXPECT_TRUE(s.plan.flash_attention);
  EXPECT_EQ(s.plan.fusion_preset, "default");
  EXPECT_TRUE(s.plan.overlap.grad_reduce);
  EXPECT_EQ(plan::MicroBatches(s.training, s.plan), 192);  // 1536 / (1 * 8)
  EXPECT_EQ(s.source_file, Example("gpt3-175b-128x-dgx-a100.yaml"));
}

TEST(ScenarioExamplesTest, Llama3On1DgxH100) {
  Result<Scenario> r = LoadScenarioFile(Example("llama3-8b-1x-dgx-h100.yaml"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Scenario& s = *r;
  // Llama 3 paper Table 3 and the 8B config.json.
  EXPECT_EQ(s.model.layers, 32);
  EXPECT_EQ(s.model.hidden, 4096);
  EXPECT_EQ(s.model.heads, 32);
  EXPECT_EQ(s.model.kv_heads, 8);
  EXPECT_EQ(s.model.ffn_hidden, 14336);
  EXPECT_EQ(s.model.activation, ops::Activation::kSwiglu);
  EXPECT_EQ(s.model.norm, ops::Norm::kRmsNorm);
  EXPECT_EQ(s.model.vocab, 128256);
  EXPECT_EQ(s.model.seq_len, 8192);
  EXPECT_EQ(s.cluster.gpus_per_node, 8);  // from the dgx-h100 profile
  EXPECT_EQ(s.plan.tp, 4);
  EXPECT_EQ(s.plan.pp, 1);
  EXPECT_EQ(s.plan.dp, 2);  // 8 / (4 * 1)
  EXPECT_EQ(s.plan.recompute, plan::Recompute::kNone);
  EXPECT_EQ(plan::MicroBatches(s.training, s.plan), 16);  // 32 / (1 * 2)
}

TEST(ScenarioExamplesTest, Llama2On8DgxH100) {
  Result<Scenario> r = LoadScenarioFile(Example("llama2-70b-8x-dgx-h100.yaml"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Scenario& s = *r;
  // Llama 2 paper Table 1 and the 70B config.json.
  EXPECT_EQ(s.model.layers, 80);
  EXPECT_EQ(s.model.hidden, 8192);
  EXPECT_EQ(s.model.heads, 64);
  EXPECT_EQ(s.model.kv_heads, 8);
  EXPECT_EQ(s.model.ffn_hidden, 28672);
  EXPECT_EQ(s.model.vocab, 32000);
  EXPECT_EQ(s.model.seq_len, 4096);
  EXPECT_FALSE(s.model.bias);
  EXPECT_EQ(s.cluster.world_size(), 64);  // 8 nodes x 8 GPUs
  EXPECT_EQ(s.plan.tp * s.plan.pp * s.plan.dp, 64);
  EXPECT_EQ(s.plan.dp, 2);
  EXPECT_EQ(plan::MicroBatches(s.training, s.plan), 128);  // 256 / (1 * 2)
}

TEST(ScenarioExamplesTest, SetReproducesThePapersBatch) {
  // The comment in the file: Llama 2 used 1024 sequences of 4096 tokens (4M tokens).
  Result<Scenario> r =
      LoadScenarioFile(Example("llama2-70b-8x-dgx-h100.yaml"), {Set("training.global_batch=1024")});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->training.global_batch * r->model.seq_len, 4194304);  // 1024 * 4096
}

TEST(ScenarioTest, DefaultsWithoutPreset) {
  const Scenario s = MustLoad(kTiny);
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.model.preset, "");
  EXPECT_EQ(s.model.kv_heads, 8);       // = heads
  EXPECT_EQ(s.model.ffn_hidden, 1024);  // 4 * 256
  EXPECT_EQ(s.model.activation, ops::Activation::kGelu);
  EXPECT_EQ(s.model.norm, ops::Norm::kLayerNorm);
  EXPECT_TRUE(s.model.bias);
  EXPECT_EQ(s.cluster.gpus_per_node, 8);
  EXPECT_EQ(s.training.micro_batch, 1);
  EXPECT_EQ(s.training.dtype, Dtype::kBf16);
  EXPECT_EQ(s.plan.dp, 2);  // 8 / (2 * 2)
  EXPECT_EQ(s.plan.vpp, 1);
  EXPECT_EQ(s.plan.schedule, plan::Schedule::k1F1B);
  EXPECT_EQ(s.plan.recompute, plan::Recompute::kNone);
  EXPECT_TRUE(s.plan.flash_attention);
  EXPECT_EQ(s.plan.fusion_preset, "default");
  EXPECT_TRUE(s.plan.overlap.grad_reduce);
  EXPECT_DOUBLE_EQ(s.plan.grad_bucket_bytes, 80e6);  // 40M elements x 2 bytes (Megatron)
}

TEST(ScenarioTest, NameDefaultsToTheFileStemAndPlanIsOptional) {
  Result<Scenario> r = LoadScenarioText(
      "model: {preset: llama3-8b}\ncluster: {hardware: dgx-h100}\n"
      "training: {global_batch: 16}\n",
      "some/dir/my-what-if.yaml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->name, "my-what-if");
  EXPECT_EQ(r->plan.tp, 1);
  EXPECT_EQ(r->plan.pp, 1);
  EXPECT_EQ(r->plan.dp, 8);  // 1 node x 8 GPUs / (1 * 1)
}

TEST(ScenarioTest, ExplicitKeysOverrideThePreset) {
  const Scenario s = MustLoad(R"yaml(model:
  preset: llama3-8b
  layers: 16
  seq_len: 4096
  activation: gelu
cluster: {hardware: dgx-h100}
training: {global_batch: 8}
)yaml");
  EXPECT_EQ(s.model.preset, "llama3-8b");
  EXPECT_EQ(s.model.layers, 16);
  EXPECT_EQ(s.model.seq_len, 4096);
  EXPECT_EQ(s.model.activation, ops::Activation::kGelu);
  EXPECT_EQ(s.model.hidden, 4096);  // kept from the preset
  EXPECT_EQ(s.model.kv_heads, 8);   // kept, not reset to heads
  EXPECT_EQ(s.model.norm, ops::Norm::kRmsNorm);
}

TEST(ScenarioTest, EveryKeyIsRead) {
  const Scenario s = MustLoad(R"yaml(model:
  layers: 4
  hidden: 256
  heads: 8
  kv_heads: 2
  ffn_hidden: 688
  activation: swiglu
  norm: rmsnorm
  vocab: 1000
  seq_len: 128
  bias: false
  tied_embeddings: false
  learned_positions: false
cluster:
  hardware: dgx-h100
  nodes: 2
  gpus_per_node: 4
training:
  global_batch: 32
  micro_batch: 2
  dtype: fp16
plan:
  tp: 2
  pp: 2
  dp: 2
  vpp: 1
  schedule: gpipe
  recompute: full
  flash_attention: false
  fusion: max
  overlap: {grad_reduce: false}
  grad_bucket_bytes: 25e6
)yaml");
  EXPECT_EQ(s.model.kv_heads, 2);
  EXPECT_EQ(s.model.ffn_hidden, 688);
  EXPECT_EQ(s.model.activation, ops::Activation::kSwiglu);
  EXPECT_EQ(s.model.norm, ops::Norm::kRmsNorm);
  EXPECT_FALSE(s.model.bias);
  EXPECT_FALSE(s.model.tied_embeddings);
  EXPECT_FALSE(s.model.learned_positions);
  EXPECT_EQ(s.cluster.world_size(), 8);  // 2 nodes x 4 GPUs = tp 2 * pp 2 * dp 2
  EXPECT_EQ(s.training.micro_batch, 2);
  EXPECT_EQ(s.training.dtype, Dtype::kFp16);
  EXPECT_EQ(s.plan.schedule, plan::Schedule::kGpipe);
  EXPECT_EQ(s.plan.recompute, plan::Recompute::kFull);
  EXPECT_FALSE(s.plan.flash_attention);
  EXPECT_EQ(s.plan.fusion_preset, "max");
  bool ok = false;
  const ops::FusionRules max = ops::FusionPreset("max", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(s.plan.fusion.norm_residual, max.norm_residual);
  EXPECT_EQ(s.plan.fusion.cross_entropy, max.cross_entropy);
  EXPECT_FALSE(s.plan.overlap.grad_reduce);
  EXPECT_DOUBLE_EQ(s.plan.grad_bucket_bytes, 25e6);
}

TEST(ScenarioTest, PipelineSchedulesStagesAndOverlapFlags) {
  // kTiny: 4 layers, pp 2 (2 layers per stage, so vpp 2), 8 GPUs -> dp 2, m = 16 / 2 = 8.
  const Scenario s = MustLoad(std::string(kTiny) +
                              "  schedule: interleaved-1f1b\n  vpp: 2\n  zero: 1\n"
                              "  overlap: {param_gather: true, p2p: false}\n");
  EXPECT_EQ(s.plan.schedule, plan::Schedule::kInterleaved1F1B);
  EXPECT_EQ(s.plan.vpp, 2);
  EXPECT_TRUE(s.plan.overlap.grad_reduce);  // default kept
  EXPECT_TRUE(s.plan.overlap.param_gather);
  EXPECT_FALSE(s.plan.overlap.p2p);
  const Scenario z = MustLoad(std::string(kTiny) + "  schedule: zb-h1\n");
  EXPECT_EQ(z.plan.schedule, plan::Schedule::kZbH1);
  const Scenario u = MustLoad(std::string(kTiny) + "  layers_per_stage: [1, 3]\n");
  EXPECT_EQ(u.plan.layers_per_stage, (std::vector<std::int64_t>{1, 3}));
  const Scenario f = MustLoad(std::string(kTiny) + "  last_stage_layers: 1\n");
  EXPECT_EQ(plan::StageLayers(f.model, f.plan), (std::vector<std::int64_t>{3, 1}));
}

TEST(ScenarioTest, FusionMapStartsFromDefault) {
  const Scenario s =
      MustLoad(std::string(kTiny) + "  fusion: {bias_gelu: false, norm_residual: true}\n");
  bool ok = false;
  const ops::FusionRules d = ops::FusionPreset("default", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(s.plan.fusion_preset, "custom");
  EXPECT_FALSE(s.plan.fusion.bias_gelu);
  EXPECT_TRUE(s.plan.fusion.norm_residual);
  EXPECT_EQ(s.plan.fusion.bias_dropout_add, d.bias_dropout_add);
  EXPECT_EQ(s.plan.fusion.softmax_mask, d.softmax_mask);
  EXPECT_EQ(s.plan.fusion.softmax_dropout, d.softmax_dropout);
  EXPECT_EQ(s.plan.fusion.norm, d.norm);
  EXPECT_EQ(s.plan.fusion.cross_entropy, d.cross_entropy);
}

TEST(ScenarioTest, HardwareOverridesAreApplied) {
  const Scenario s = MustLoad(R"yaml(model: {preset: llama3-8b}
cluster:
  hardware: dgx-h100
  overrides:
    gpu.memory_bytes: 40000000000
    network: {nic: {efficiency: 0.5}}
training: {global_batch: 16}
)yaml");
  EXPECT_EQ(s.hardware.gpu.memory_bytes, 40000000000);
  EXPECT_DOUBLE_EQ(s.hardware.network.nic.efficiency, 0.5);
}

TEST(ScenarioTest, HardwareProfilePathIsRelativeToTheScenarioFile) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "foresight_scenario_path_test";
  std::filesystem::create_directories(dir / "profiles");
  {
    std::ifstream in(std::string(FORESIGHT_SOURCE_DIR) + "/models/hw/catalog/dgx-h100.yaml");
    std::ofstream out(dir / "profiles" / "mine.yaml");
    out << in.rdbuf();
  }
  {
    std::ofstream out(dir / "scenario.yaml");
    out << "model: {preset: llama3-8b}\n"
           "cluster: {hardware: profiles/mine.yaml}\n"
           "training: {global_batch: 16}\n";
  }
  Result<Scenario> r = LoadScenarioFile((dir / "scenario.yaml").string());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->cluster.hardware, (dir / "profiles" / "mine.yaml").string());
  EXPECT_EQ(r->cluster.gpus_per_node, 8);
  // The same relative path given with --set is relative to the working directory instead
  // (which holds no profiles/ folder).
  Result<Scenario> set = LoadScenarioFile((dir / "scenario.yaml").string(),
                                          {Set("cluster.hardware=profiles/mine.yaml")});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().ToString(),
            "--set cluster.hardware=profiles/mine.yaml: cluster.hardware: profiles/mine.yaml: no "
            "such hardware profile file");
  std::filesystem::remove_all(dir);
}

TEST(ScenarioSetTest, ParseSetOverride) {
  const SetOverride a = Set("plan.tp=4");
  EXPECT_EQ(a.key, "plan.tp");
  EXPECT_EQ(a.value, "4");
  const SetOverride b = Set("plan.overlap={grad_reduce: false}");  // first '=' splits
  EXPECT_EQ(b.key, "plan.overlap");
  EXPECT_EQ(b.value, "{grad_reduce: false}");
  const SetOverride c = Set("name=a=b");
  EXPECT_EQ(c.value, "a=b");
}

TEST(ScenarioSetTest, ChangesValuesAndCreatesSections) {
  const Scenario s =
      MustLoad(kTiny, {Set("plan.tp=4"), Set("plan.pp=1"), Set("training.dtype=fp32"),
                       Set("plan.overlap.grad_reduce=false"), Set("name=renamed")});
  EXPECT_EQ(s.plan.tp, 4);
  EXPECT_EQ(s.plan.dp, 2);  // 8 / (4 * 1)
  EXPECT_EQ(s.training.dtype, Dtype::kFp32);
  EXPECT_FALSE(s.plan.overlap.grad_reduce);  // plan.overlap did not exist in the file
  EXPECT_EQ(s.name, "renamed");
}

TEST(ScenarioSetTest, LaterSetWinsAndFlowValuesWork) {
  const Scenario s = MustLoad(kTiny, {Set("plan.tp=1"), Set("plan.tp=8"),
                                      Set("plan.fusion={norm: false}"), Set("plan.pp=1")});
  EXPECT_EQ(s.plan.tp, 8);
  EXPECT_EQ(s.plan.dp, 1);  // 8 / (8 * 1)
  EXPECT_EQ(s.plan.fusion_preset, "custom");
  EXPECT_FALSE(s.plan.fusion.norm);
}

TEST(ScenarioSetTest, SetReplacesAFlatOverrideKey) {
  const Scenario s = MustLoad(R"yaml(model: {preset: llama3-8b}
cluster:
  hardware: dgx-h100
  overrides: {gpu.memory_bytes: 40000000000}
training: {global_batch: 16}
)yaml",
                              {Set("cluster.overrides.gpu.memory_bytes=20000000000")});
  EXPECT_EQ(s.hardware.gpu.memory_bytes, 20000000000);
}

TEST(ScenarioTest, LoadingTwiceGivesTheSameResult) {
  const Scenario a = MustLoad(kTiny);
  const Scenario b = MustLoad(kTiny);
  EXPECT_EQ(a.plan.dp, b.plan.dp);
  EXPECT_EQ(a.model.ffn_hidden, b.model.ffn_hidden);
  EXPECT_EQ(a.hardware.gpu.memory_bytes, b.hardware.gpu.memory_bytes);
}

}  // namespace
}  // namespace foresight::scenarios
