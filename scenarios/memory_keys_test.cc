// The memory-plan keys of `plan` (recompute, recompute_layers, zero, offload): parsing and
// located errors. Lines and columns are counted by hand in the texts below (line 1 starts right
// after R"yaml( ).
#include <string>

#include <gtest/gtest.h>

#include "scenarios/scenario.h"

namespace foresight::scenarios {
namespace {

// llama3-8b (32 layers) on one DGX H100 (8 GPUs); the plan lines follow on line 8.
constexpr const char* kBase = R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
training:
  global_batch: 16
plan:
)yaml";

std::string LoadError(const std::string& text) {
  Result<Scenario> r = LoadScenarioText(text, "s.yaml");
  EXPECT_FALSE(r.ok()) << "loaded without error";
  return r.ok() ? std::string() : r.error().ToString();
}

TEST(MemoryKeysTest, ReadsEveryKey) {
  Result<Scenario> r = LoadScenarioText(std::string(kBase) +
                                            "  pp: 2\n"
                                            "  recompute: full\n"
                                            "  recompute_layers: 4\n"
                                            "  zero: 3\n"
                                            "  offload: {optimizer: cpu, activations: cpu, "
                                            "params: cpu}\n",
                                        "s.yaml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->plan.recompute, plan::Recompute::kFull);
  EXPECT_EQ(r->plan.recompute_layers, 4);
  EXPECT_EQ(r->plan.zero, 3);
  EXPECT_TRUE(r->plan.offload.optimizer && r->plan.offload.activations && r->plan.offload.params);
  r = LoadScenarioText(std::string(kBase) + "  recompute: selective\n", "s.yaml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->plan.recompute, plan::Recompute::kSelective);
  EXPECT_EQ(r->plan.zero, 0);
  EXPECT_FALSE(r->plan.offload.optimizer || r->plan.offload.activations);
}

TEST(MemoryKeysTest, BadValuesAreLocated) {
  // Line 8 "  zero: 4": the value starts at column 9.
  EXPECT_EQ(LoadError(std::string(kBase) + "  zero: 4\n"),
            "s.yaml:8:9: plan.zero: unknown value '4'; valid: 0, 1, 2, 3; did you mean '0'?");
  // Line 8 "  offload: {optimizer: gpu}": 'gpu' at column 24.
  EXPECT_EQ(LoadError(std::string(kBase) + "  offload: {optimizer: gpu}\n"),
            "s.yaml:8:24: plan.offload.optimizer: unknown value 'gpu'; valid: none, cpu; did you "
            "mean 'cpu'?");
  // recompute_layers without full recompute: located at the key's value (line 8, column 21).
  const std::string layers = LoadError(std::string(kBase) + "  recompute_layers: 2\n");
  EXPECT_EQ(layers.rfind("s.yaml:8:21: plan.recompute_layers: recompute_layers applies to full", 0),
            0u)
      << layers;
  // Parameter offload needs zero 3 and optimizer offload.
  const std::string params = LoadError(std::string(kBase) + "  offload: {params: cpu}\n");
  EXPECT_NE(params.find("plan.offload.params: offload.params: cpu needs zero: 3"),
            std::string::npos)
      << params;
  // A profile without host memory cannot take an offload plan; the error names the key.
  const std::string host = LoadError(R"yaml(model:
  preset: llama3-8b
cluster:
  hardware: dgx-h100
  overrides: {host.memory_bytes: 0}
training:
  global_batch: 16
plan:
  zero: 1
  offload: {optimizer: cpu}
)yaml");
  EXPECT_EQ(host.rfind("s.yaml:10:", 0), 0u) << host;
  EXPECT_NE(host.find("plan.offload.optimizer: cpu keeps the optimizer states in host memory"),
            std::string::npos)
      << host;
  EXPECT_NE(host.find("host.memory_bytes"), std::string::npos) << host;
}

}  // namespace
}  // namespace foresight::scenarios
