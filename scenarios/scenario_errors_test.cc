// Bad scenarios: every error names the source, line and column (1-based, counted by hand in
// the texts below, which start on line 1 right after R"yaml( ), the dotted key, what was found
// and what would be valid. Errors caused by --set name the override instead of a location.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenarios/internal/yaml_reader.h"
#include "scenarios/scenario.h"

namespace foresight::scenarios {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The rendered error ("file:line:column: message") of loading `text` as "s.yaml".
std::string LoadError(const std::string& text, const std::vector<SetOverride>& sets = {}) {
  Result<Scenario> r = LoadScenarioText(text, "s.yaml", sets);
  EXPECT_FALSE(r.ok()) << "loaded without error";
  return r.ok() ? std::string() : r.error().ToString();
}

std::vector<SetOverride> Sets(std::initializer_list<const char*> texts) {
  std::vector<SetOverride> out;
  for (const char* t : texts) {
    Result<SetOverride> r = ParseSetOverride(t);
    EXPECT_TRUE(r.ok()) << t;
    if (r.ok()) out.push_back(r.value());
  }
  return out;
}

// Valid apart from what each test changes: llama3-8b on one DGX H100 (8 GPUs).
constexpr const char* kBase = R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
plan:
  tp: 2
)yaml";

TEST(ScenarioErrorsTest, UnknownKeySuggestsTheClosest) {
  // Line 9 "  tpp: 2" (after the 8 lines of kBase): the key starts at column 3. 'tpp' is one edit
  // from 'tp' and from 'pp'; the tie goes to the first valid key, 'tp'.
  EXPECT_EQ(LoadError(std::string(kBase) + "  tpp: 2\n"),
            "s.yaml:9:3: unknown key 'tpp' in plan; valid keys: tp, pp, dp, vpp, schedule, "
            "recompute, flash_attention, attention_kernel, fusion, overlap, grad_bucket_bytes, "
            "recompute_layers, "
            "zero, offload, layers_per_stage, first_stage_layers, last_stage_layers, "
            "sequence_parallel, cp, cp_comm, ep; did you mean 'tp'?");
  // Line 1 "modle:" at column 1; 'modle' is one transposition from 'model'.
  EXPECT_EQ(LoadError("modle: {}\n"),
            "s.yaml:1:1: unknown key 'modle' at the top level; valid keys: name, model, cluster, "
            "training, plan, sweep, workload, network; did you mean 'model'?");
  // Nothing close: no suggestion.
  EXPECT_EQ(LoadError(R"yaml(model: {preset: llama3-8b}
cluster: {hardware: dgx-h100, racks: 2}
training: {global_batch: 16}
)yaml"),
            "s.yaml:2:31: unknown key 'racks' in cluster; valid keys: hardware, nodes, "
            "gpus_per_node, overrides, price_per_gpu_hour, candidates");
}

TEST(ScenarioErrorsTest, WrongType) {
  // Line 8 "  tp: eight": the value starts at column 7.
  EXPECT_EQ(LoadError(R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
plan:
  tp: eight
)yaml"),
            "s.yaml:8:7: plan.tp: expected a positive integer, found 'eight'");
  // Line 9 "  flash_attention: yes": 2 + 15 + 2 = 19 characters before the value.
  EXPECT_EQ(LoadError(std::string(kBase) + "  flash_attention: yes\n"),
            "s.yaml:9:20: plan.flash_attention: expected true or false, found 'yes'");
  EXPECT_EQ(LoadError(std::string(kBase) + "  pp: \"2\"\n"),
            "s.yaml:9:7: plan.pp: expected a positive integer, found '2' (a quoted string)");
  EXPECT_EQ(LoadError(std::string(kBase) + "  pp: 0\n"),
            "s.yaml:9:7: plan.pp: expected a positive integer, found '0'");
  EXPECT_EQ(LoadError(std::string(kBase) + "  overlap: true\n"),
            "s.yaml:9:12: plan.overlap: expected a mapping, found 'true'");
  // "model:" with nothing under it, at line 1 column 1.
  EXPECT_EQ(LoadError("model:\ncluster: {hardware: dgx-h100}\ntraining: {global_batch: 1}\n"),
            "s.yaml:1:1: model: expected a mapping, found nothing (null)");
}

TEST(ScenarioErrorsTest, BadEnums) {
  // "  dtype: bf32" under training (line 7): 2 + 6 + 1 = 9 characters before the value.
  const std::string training = R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
  dtype: )yaml";
  EXPECT_EQ(LoadError(training + "bf32\n"),
            "s.yaml:7:10: training.dtype: unknown value 'bf32'; valid: bf16, fp16, fp32, fp8; did "
            "you mean 'bf16'?");
  // fp8 is valid on dgx-h100 and an error naming the GPU on the A100 (no FP8 tensor cores).
  EXPECT_TRUE(LoadScenarioText(training + "fp8\n", "s.yaml").ok());
  std::string a100 = training + "fp8\n";
  a100.replace(a100.find("dgx-h100"), 8, "dgx-a100-80gb");
  EXPECT_THAT(LoadError(a100),
              StartsWith("s.yaml:7:10: training.dtype: fp8 needs FP8 tensor cores, "
                         "but "));
  EXPECT_THAT(LoadError(a100), HasSubstr("has no fp8 peak"));
  EXPECT_EQ(LoadError(std::string(kBase) + "  schedule: interleaved\n"),
            "s.yaml:9:13: plan.schedule: unknown value 'interleaved'; valid: gpipe, 1f1b, "
            "interleaved-1f1b, zb-h1");
  EXPECT_EQ(LoadError(std::string(kBase) + "  schedule: zb-h2\n"),
            "s.yaml:9:13: plan.schedule: unknown value 'zb-h2'; valid: gpipe, 1f1b, "
            "interleaved-1f1b, zb-h1; did you mean 'zb-h1'?");
  // Plan validation, located at the value: "  vpp: 2" has its value at column 8.
  EXPECT_EQ(LoadError(std::string(kBase) + "  vpp: 2\n"),
            "s.yaml:9:8: plan.vpp: vpp=2 needs schedule: interleaved-1f1b (schedule is 1f1b); or "
            "set vpp: 1");
  // Located at the sequence ('[' at column 21); entry 1 is not a positive integer.
  EXPECT_EQ(LoadError(std::string(kBase) + "  layers_per_stage: [16, x]\n"),
            "s.yaml:9:21: plan.layers_per_stage: expected a list of positive integers, one per "
            "pipeline stage; entry 1 is 'x'");
  EXPECT_EQ(LoadError(std::string(kBase) + "  overlap: {p2p: 1}\n"),
            "s.yaml:9:18: plan.overlap.p2p: expected true or false, found '1'");
  EXPECT_EQ(LoadError(std::string(kBase) + "  fusion: all\n"),
            "s.yaml:9:11: plan.fusion: unknown value 'all'; valid: none, default, max");
  // "  fusion: {norm: false, norm_residual: " is 39 characters.
  EXPECT_EQ(LoadError(std::string(kBase) + "  fusion: {norm: false, norm_residual: true}\n"),
            "s.yaml:9:40: plan.fusion.norm_residual: norm_residual needs the fused norm kernel; "
            "set norm: true or norm_residual: false");
  EXPECT_THAT(LoadError(std::string(kBase) + "  fusion: {bias_gelu: false, norm_resid: true}\n"),
              StartsWith("s.yaml:9:30: unknown key 'norm_resid' in plan.fusion; valid keys: "
                         "bias_gelu, "));
}

TEST(ScenarioErrorsTest, UnknownPreset) {
  const std::string e = LoadError("model: {preset: llama3-9b}\n");
  // "model: {preset: " is 16 characters: the value is at column 17.
  EXPECT_THAT(e, StartsWith("s.yaml:1:17: model.preset: unknown preset 'llama3-9b'; valid "
                            "presets: "));
  EXPECT_THAT(e, HasSubstr("llama3-8b"));
  EXPECT_THAT(e, HasSubstr("; did you mean 'llama3-8b'?"));
}

TEST(ScenarioErrorsTest, MissingSectionsAndKeys) {
  // The top-level mapping starts at line 1 column 1.
  EXPECT_EQ(LoadError("model: {preset: llama3-8b}\ncluster: {hardware: dgx-h100}\n"),
            "s.yaml:1:1: missing required section 'training'");
  // Without a preset the dimensions are required; blamed on the "model" key (line 1).
  EXPECT_EQ(LoadError("model:\n  layers: 2\n"),
            "s.yaml:1:1: missing required key 'hidden' in model (required when model.preset is "
            "not given)");
  EXPECT_EQ(LoadError("model: {preset: llama3-8b}\ncluster: {nodes: 2}\n"),
            "s.yaml:2:1: missing required key 'hardware' in cluster");
}

TEST(ScenarioErrorsTest, DuplicateKey) {
  EXPECT_EQ(LoadError(std::string(kBase) + "  tp: 4\n"),
            "s.yaml:9:3: duplicate key 'tp' in plan; first written at line 8, column 3");
}

TEST(ScenarioErrorsTest, EmptyNonMappingAndMultipleDocuments) {
  EXPECT_THAT(LoadError(""), StartsWith("s.yaml: the scenario is empty"));
  EXPECT_THAT(LoadError("# only a comment\n"), StartsWith("s.yaml: the scenario is empty"));
  EXPECT_THAT(LoadError("- a\n- b\n"),
              StartsWith("s.yaml:1:1: expected a mapping at the top level"));
  EXPECT_THAT(LoadError("- a\n- b\n"), HasSubstr("found a sequence"));
  // The second document starts on line 3 (after "---" on line 2).
  EXPECT_EQ(LoadError("name: a\n---\nname: b\n"),
            "s.yaml:3:1: expected one YAML document, found 2");
}

TEST(ScenarioErrorsTest, SyntaxError) {
  // Line 5 "    micro_batch: 2" continues the plain scalar "16" of line 4, so its ':' (after
  // 4 spaces and the 11 letters of micro_batch: column 16) is an illegal map value.
  EXPECT_EQ(LoadError(R"yaml(model:
  preset: llama3-8b
training:
  global_batch: 16
    micro_batch: 2
)yaml"),
            "s.yaml:5:16: YAML syntax error: illegal map value");
}

TEST(ScenarioErrorsTest, TpMustDivideHeads) {
  // heads = 32 and ffn_hidden = 4 * 512 = 2048 = 2^11: the tp that divide both are the
  // divisors of 32. Line 12 "  tp: 3" has its value at column 7. tp * pp = 3 does not divide
  // the 8 GPUs either, which is the second error (its own line).
  const std::string e = LoadError(R"yaml(model:
  layers: 4
  hidden: 512
  heads: 32
  vocab: 1000
  seq_len: 128
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
plan:
  tp: 3
)yaml");
  EXPECT_THAT(e, StartsWith("s.yaml:12:7: plan.tp: tp=3 does not divide heads=32"));
  EXPECT_THAT(e, HasSubstr("; valid tp: 1, 2, 4, 8, 16, 32\n"));
  EXPECT_THAT(e, HasSubstr("\ns.yaml:12:7: plan.tp: "));
}

TEST(ScenarioErrorsTest, AttentionKernelMustBeNamedByTheProfile) {
  // Line 9 "  attention_kernel: flash4": the value starts at column 21. dgx-h100 lists flash1,
  // flash2, flash3 and triton_flash (models/hw/catalog/dgx-h100.yaml).
  EXPECT_EQ(LoadError(std::string(kBase) + "  attention_kernel: flash4\n"),
            "s.yaml:9:21: plan.attention_kernel: 'flash4' is not an attention kernel of the "
            "hardware profile dgx-h100; valid: flash1, flash2, flash3, triton_flash; add "
            "gpu.attention_kernels.flash4 (fraction of peak) to the profile or "
            "cluster.overrides, or remove attention_kernel to use gpu.attention_efficiency");
  // With unfused attention the kernel name has nothing to apply to.
  EXPECT_THAT(
      LoadError(std::string(kBase) + "  flash_attention: false\n  attention_kernel: flash2\n"),
      StartsWith("s.yaml:10:21: plan.attention_kernel: names the fused-attention kernel "
                 "'flash2', but flash_attention is false"));
  // A kernel added by cluster.overrides is accepted.
  Result<Scenario> ok = LoadScenarioText(
      "model: {preset: llama3-8b}\n"
      "cluster: {hardware: dgx-h100, overrides: {gpu.attention_kernels.mine: 0.5}}\n"
      "training: {global_batch: 16}\n"
      "plan: {tp: 2, attention_kernel: mine}\n",
      "s.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->plan.attention_kernel, "mine");
  EXPECT_EQ(ok->hardware.gpu.attention_kernels.at("mine"), 0.5);
}

TEST(ScenarioErrorsTest, PpMustDivideLayers) {
  // layers = 6: valid pp are its divisors 1, 2, 3, 6. tp 2 * pp 4 = 8 GPUs, so that is the only
  // error. Line 13 "  pp: 4": value at column 7.
  EXPECT_EQ(LoadError(R"yaml(model:
  layers: 6
  hidden: 512
  heads: 32
  vocab: 1000
  seq_len: 128
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
plan:
  tp: 2
  pp: 4
)yaml"),
            "s.yaml:13:7: plan.pp: pp=4 does not divide layers=6; valid pp: 1, 2, 3, 6 (or set "
            "plan.layers_per_stage / first_stage_layers / last_stage_layers)");
}

TEST(ScenarioErrorsTest, WorldSizeMismatch) {
  // 2 nodes x 8 GPUs = 16, but tp * pp * dp = 2 * 2 * 2 = 8; dp would have to be
  // 16 / (2 * 2) = 4. Blamed on dp (line 11, value at column 7).
  const std::string e = LoadError(R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
  nodes: 2
training:
  global_batch: 64
plan:
  tp: 2
  pp: 2
  dp: 2
)yaml");
  EXPECT_THAT(e, StartsWith("s.yaml:11:7: plan.dp: "));
  EXPECT_THAT(e, HasSubstr("world size 16"));
  EXPECT_THAT(e, HasSubstr("dp must be 4"));
}

TEST(ScenarioErrorsTest, GlobalBatchMustDivideByMicroBatchTimesDp) {
  // dp = 8 / (2 * 2) = 2, micro_batch * dp = 4, and 30 = 7 * 4 + 2. Line 6
  // "  global_batch: 30": 2 + 13 + 1 = 16 characters before the value.
  const std::string e = LoadError(R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
training:
  global_batch: 30
  micro_batch: 2
plan:
  tp: 2
  pp: 2
)yaml");
  EXPECT_THAT(e, StartsWith("s.yaml:6:17: training.global_batch: global_batch=30"));
  EXPECT_THAT(e, HasSubstr("= 4"));
}

TEST(ScenarioErrorsTest, GpusPerNodeAboveTheHardware) {
  // A DGX H100 has 8 GPUs; asking for 16 per node is blamed on the written value:
  // "cluster: {hardware: dgx-h100, gpus_per_node: " is 45 characters.
  EXPECT_EQ(LoadError("model: {preset: llama3-8b}\n"
                      "cluster: {hardware: dgx-h100, gpus_per_node: 16}\n"
                      "training: {global_batch: 16}\n"),
            "s.yaml:2:46: cluster.gpus_per_node: 16 exceeds the 8 GPUs per node of dgx-h100; "
            "valid: 1 to 8");
}

TEST(ScenarioErrorsTest, UnknownHardware) {
  // Line 4 "  hardware: dgx-h900": 2 + 9 + 1 = 12 characters before the value.
  const std::string e = LoadError(R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h900
training:
  global_batch: 16
)yaml");
  EXPECT_THAT(e, StartsWith("s.yaml:4:13: cluster.hardware: "));
  EXPECT_THAT(e, HasSubstr("dgx-h900"));
  EXPECT_THAT(e, HasSubstr("dgx-h100"));  // the catalog entries are listed
  // A relative profile path from text (no scenario directory) that does not exist.
  EXPECT_THAT(LoadError("model: {preset: llama3-8b}\ncluster: {hardware: nowhere/x.yaml}\n"
                        "training: {global_batch: 16}\n"),
              StartsWith("s.yaml:2:21: cluster.hardware: nowhere/x.yaml: "));
}

TEST(ScenarioErrorsTest, BadHardwareOverrideKey) {
  // Line 6 "    gpu.memroy_bytes: 1": 4 + 16 + 2 = 22 characters before the value.
  const std::string e = LoadError(R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
  overrides:
    gpu.memroy_bytes: 1
training:
  global_batch: 16
)yaml");
  EXPECT_THAT(e, StartsWith("s.yaml:6:23: "));
  EXPECT_THAT(e, HasSubstr("memroy_bytes"));
}

TEST(ScenarioErrorsTest, ErrorsFromSetNameTheOverride) {
  EXPECT_EQ(LoadError(kBase, Sets({"plan.tp=abc"})),
            "--set plan.tp=abc: plan.tp: expected a positive integer, found 'abc'");
  EXPECT_THAT(LoadError(kBase, Sets({"plan.tpp=4"})),
              StartsWith("--set plan.tpp=4: unknown key 'tpp' in plan; valid keys: tp, "));
  // A plan error about an overridden key: llama3-8b has 8 KV heads, tp=3 divides none.
  EXPECT_THAT(LoadError(kBase, Sets({"plan.tp=3"})), StartsWith("--set plan.tp=3: plan.tp: "));
  EXPECT_THAT(LoadError(kBase, Sets({"plan.tp.x=1"})),
              StartsWith("--set plan.tp.x=1: plan.tp is '2', not a mapping"));
  EXPECT_THAT(LoadError(kBase, Sets({"plan.tp=[1"})),
              StartsWith("--set plan.tp=[1: cannot parse the value as YAML: "));
  EXPECT_THAT(LoadError(kBase, Sets({"cluster.overrides.gpu.memroy_bytes=1"})),
              StartsWith("--set cluster.overrides.gpu.memroy_bytes=1: "));
  // The file's own errors still point into the file.
  EXPECT_EQ(LoadError(std::string(kBase) + "  pp: x\n", Sets({"plan.tp=4"})),
            "s.yaml:9:7: plan.pp: expected a positive integer, found 'x'");
}

TEST(ScenarioErrorsTest, MalformedSetOverrides) {
  for (const char* bad : {"plantp4", "=4", "plan..tp=4", "plan.=4", "plan tp=4"}) {
    Result<SetOverride> r = ParseSetOverride(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.error().ToString(), StartsWith(std::string("--set ") + bad + ": ")) << bad;
  }
}

TEST(ScenarioErrorsTest, UnreadableFile) {
  Result<Scenario> r = LoadScenarioFile("/nonexistent/foresight/scenario.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(), StartsWith("/nonexistent/foresight/scenario.yaml: "));
}

// Robustness: truncations and line edits of the bundled examples load or fail cleanly (never
// throw, crash or report an error without a message).
TEST(ScenarioErrorsTest, MangledExamplesFailCleanly) {
  for (const char* name : {"gpt3-175b-128x-dgx-a100.yaml", "llama3-8b-1x-dgx-h100.yaml",
                           "llama2-70b-8x-dgx-h100.yaml"}) {
    std::ifstream in(std::string(FORESIGHT_SOURCE_DIR) + "/scenarios/examples/" + name);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    ASSERT_FALSE(text.empty()) << name;
    std::vector<std::string> variants;
    for (std::size_t cut = 0; cut < text.size(); cut += 7) variants.push_back(text.substr(0, cut));
    std::vector<std::string> lines;
    std::stringstream split(text);
    for (std::string line; std::getline(split, line);) lines.push_back(line + "\n");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string dropped, doubled, shifted;
      for (std::size_t j = 0; j < lines.size(); ++j) {
        if (j != i) dropped += lines[j];
        doubled += lines[j];
        if (j == i) doubled += lines[j];
        shifted += (j == i ? " " : "") + lines[j];
      }
      variants.push_back(dropped);
      variants.push_back(doubled);
      variants.push_back(shifted);
    }
    for (const std::string& v : variants) {
      Result<Scenario> r = LoadScenarioText(v, "s.yaml");
      if (!r.ok()) {
        EXPECT_FALSE(r.error().message.empty());
        EXPECT_EQ(r.error().file, "s.yaml") << r.error().ToString();
      }
    }
  }
}

TEST(ReadContextTest, KeysWithoutAMarkAreBlamedOnTheNearestAncestor) {
  internal::ReadContext context("s.yaml");
  YAML::Mark plan_mark;  // 0-based: line 7, column 1 when rendered
  plan_mark.line = 6;
  plan_mark.column = 0;
  context.RecordMark("plan", plan_mark);
  // plan.dp was derived (never written): blamed on the plan section.
  EXPECT_EQ(context.ErrorForKey("plan.dp", "plan.dp: m").ToString(), "s.yaml:7:1: plan.dp: m");
  // Nothing recorded at all: the file alone.
  EXPECT_EQ(context.ErrorForKey("training.global_batch", "x").ToString(), "s.yaml: x");
  // An override of an ancestor takes the blame for everything under it.
  context.AddOverride("plan", "plan={tp: 3}");
  EXPECT_EQ(context.ErrorForKey("plan.tp", "plan.tp: m").ToString(),
            "--set plan={tp: 3}: plan.tp: m");
}

TEST(ClosestMatchTest, SuggestsOnlyLikelyTypos) {
  const std::vector<std::string> keys = {"global_batch", "micro_batch", "dtype"};
  EXPECT_EQ(internal::ClosestMatch("glboal_batch", keys), "global_batch");  // 1 transposition
  EXPECT_EQ(internal::ClosestMatch("micro_batches", keys), "micro_batch");  // 2 insertions
  EXPECT_EQ(internal::ClosestMatch("DType", keys), "dtype");                // case ignored
  EXPECT_EQ(internal::ClosestMatch("batch", keys), "");                     // >= 5 edits from each
  EXPECT_EQ(internal::ClosestMatch("xyz", {"tp", "pp"}), "");  // 3 edits > 1 for short words
}

TEST(ScenarioErrorsTest, ParallelismAndMoeErrorsAreLocated) {
  // Mixtral on one node (8 GPUs): "  ep: 3" is line 9, its value at column 7.
  const std::string moe = R"yaml(model:
  preset: mixtral-8x7b
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
plan:
  tp: 1
  ep: 3
)yaml";
  EXPECT_EQ(LoadError(moe),
            "s.yaml:9:7: plan.ep: ep=3 does not divide model.moe.experts=8; valid ep: 1, 2, 4, 8");
  // llama3-8b (seq 8192) with "  cp: 3" on line 9: 8192 is not divisible by 2*3.
  EXPECT_THAT(LoadError(std::string(kBase) + "  cp: 3\n"),
              StartsWith("s.yaml:9:7: plan.cp: cp=3: seq_len=8192 must be divisible by 2*cp = 6"));
  // "    top_k: 9" (line 4, value at column 12) exceeds the 8 experts.
  const std::string top_k = R"yaml(model:
  preset: mixtral-8x7b
  moe:
    top_k: 9
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
)yaml";
  EXPECT_EQ(LoadError(top_k),
            "s.yaml:4:12: model.moe.top_k: top_k=9 must be between 1 and experts=8");
  // A MoE section without experts on a dense model.
  EXPECT_THAT(LoadError(R"yaml(model:
  preset: llama3-8b
  moe:
    top_k: 2
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
)yaml"),
              HasSubstr("missing required key 'experts' in model.moe"));
}

}  // namespace
}  // namespace foresight::scenarios
