// The scenario's `network:` section and the step time under the flow model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "plan/simulate.h"
#include "scenarios/scenario.h"
#include "scenarios/step_input.h"

namespace foresight::scenarios {
namespace {

using ::testing::HasSubstr;

// 2 DGX H100 nodes, tp 8 (one node), dp 2: the 8 DP all-reduces each cross the network.
// Line 9 is the network section (tests below replace it).
std::string Scenario(const std::string& network_line, const std::string& overrides = "{}") {
  return "name: net\n"                                                                 // 1
         "model: {layers: 4, hidden: 4096, heads: 32, vocab: 32000, seq_len: 2048}\n"  // 2
         "cluster: {hardware: dgx-h100, nodes: 2, overrides: " +
         overrides +
         "}\n"                                                    // 3
         "training: {global_batch: 16, micro_batch: 1}\n"         // 4
         "plan: {tp: 8, pp: 1, overlap: {grad_reduce: false}}\n"  // 5
         "\n\n\n" +                                               // 6-8
         network_line +
         "\n";  // 9
}

double StepSeconds(const std::string& text) {
  Result<foresight::scenarios::Scenario> s = LoadScenarioText(text, "s.yaml");
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  if (!s.ok()) return 0;
  Result<plan::StepInput> input = StepInputOf(*s);
  EXPECT_TRUE(input.ok()) << input.error().ToString();
  if (!input.ok()) return 0;
  Result<plan::StepResult> r = plan::SimulateStep(*input);
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->step_time_s : 0;
}

TEST(NetworkSectionTest, DefaultsAndKeys) {
  Result<foresight::scenarios::Scenario> s = LoadScenarioText(Scenario(""), "s.yaml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->network.model, "analytical");
  EXPECT_EQ(s->network.algorithm, hw::Algorithm::kAuto);
  EXPECT_EQ(s->network.placement_order, "tp-cp-ep-dp-pp");
  s = LoadScenarioText(
      Scenario("network: {model: flow, algorithm: ring, placement_order: dp-tp-cp-ep-pp}"),
      "s.yaml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->network.model, "flow");
  EXPECT_EQ(s->network.algorithm, hw::Algorithm::kRing);
  EXPECT_EQ(s->network.placement_order, "dp-tp-cp-ep-pp");
}

TEST(NetworkSectionTest, BadValuesAreLocated) {
  Result<foresight::scenarios::Scenario> s =
      LoadScenarioText(Scenario("network: {model: fluid}"), "s.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().ToString(), HasSubstr("s.yaml:9:18"));
  EXPECT_THAT(s.error().ToString(), HasSubstr("analytical"));
  s = LoadScenarioText(Scenario("network: {placement_order: tp-dp}"), "s.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().ToString(), HasSubstr("s.yaml:9:28"));
  EXPECT_THAT(s.error().ToString(), HasSubstr("names 2 dimensions"));
  s = LoadScenarioText(Scenario("network: {modle: flow}"), "s.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().ToString(), HasSubstr("unknown key 'modle'"));
}

TEST(NetworkSectionTest, DefaultModelKeepsTheStepTime) {
  // No section and an explicit analytical/auto section price with hw::CollectiveSeconds.
  EXPECT_EQ(StepSeconds(Scenario("")), StepSeconds(Scenario("network: {model: analytical}")));
}

TEST(NetworkSectionTest, FlowModelSeesAnOversubscribedSpine) {
  // One node per leaf and 4:1 oversubscription: the 8 concurrent DP rings (one per TP rank)
  // cross the spine, whose leaf uplink carries 8 NICs' worth of traffic at 1/4 of their rate,
  // so each DP all-reduce is about 4x slower in the flow model; the analytical model does not
  // see the fabric and the step (no overlap of the gradient reduction) must get longer.
  const std::string fabric =
      "{fabric.nodes_per_leaf: 1, fabric.topology: fat_tree, fabric.oversubscription: 4}";
  const double analytical = StepSeconds(Scenario("network: {model: analytical}", fabric));
  const double flow_open =
      StepSeconds(Scenario("network: {model: flow}", "{fabric.nodes_per_leaf: 1}"));
  const double flow = StepSeconds(Scenario("network: {model: flow}", fabric));
  EXPECT_GT(flow, flow_open);
  EXPECT_GT(flow, analytical);
}

}  // namespace
}  // namespace foresight::scenarios
