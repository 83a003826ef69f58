// The scenario's `network:` section and the step time under the flow model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "models/hw/algorithms.h"
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

// The first op named `name` in the compiled step of `text`, and the scenario's hardware.
struct NamedOp {
  double seconds = 0, bytes = 0;
  hw::HardwareProfile hardware;
};
NamedOp FindOp(const std::string& text, const std::string& name) {
  Result<foresight::scenarios::Scenario> s = LoadScenarioText(text, "s.yaml");
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  if (!s.ok()) return {};
  Result<plan::StepInput> input = StepInputOf(*s);
  EXPECT_TRUE(input.ok()) << input.error().ToString();
  if (!input.ok()) return {};
  Result<plan::StepResult> r = plan::SimulateStep(*input);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return {};
  for (const auto& list : r->compiled.op_lists) {
    for (const plan::CostedOp& op : list) {
      if (op.name == name) return {op.duration.ToSeconds(), op.bytes, s->hardware};
    }
  }
  ADD_FAILURE() << "no op " << name;
  return {};
}

TEST(NetworkSectionTest, FlowModelPricesTheExpertAllToAllOnTheFabric) {
  // 2 DGX H100 nodes, tp 1, ep 16 (= dp): one EP group of all 16 GPUs, 8 per node. In the
  // all-to-all each rank sends S/16 to each peer, S/2 in all to the other node over its own NIC
  // (8 NICs per node, one per GPU). Fat tree, one node per leaf. Oversubscription 1: the leaf
  // uplink (8 NICs' rate) is not a bottleneck, each NIC is: bytes time (S/2) / B_nic.
  // Oversubscription 4: the uplink carries 8 * S/2 = 4 S at 8 B_nic / 4: 2 S / B_nic, 4x the
  // open fabric's (NVLink flows finish long before). Both prices add the same analytical
  // latency L (hw::PriceCollective's, for the group span {16, 8, 2}), so
  // (oversubscribed - L) / (open - L) = 4. The analytical model does not see the fabric: equal
  // prices (what the EP all-to-all got under the flow model too before it was routed through
  // the pricer).
  const std::string moe =
      "name: moe\n"
      "model: {layers: 2, hidden: 4096, heads: 32, vocab: 32000, seq_len: 2048,\n"
      "        moe: {experts: 16, top_k: 2}}\n"
      "cluster: {hardware: dgx-h100, nodes: 2, overrides: {fabric.topology: fat_tree,\n"
      "          fabric.nodes_per_leaf: 1, fabric.oversubscription: ";
  const std::string rest =
      "}}\n"
      "training: {global_batch: 16, micro_batch: 1}\n"
      "plan: {tp: 1, pp: 1, ep: 16}\n";
  const auto text = [&](const std::string& oversubscription, const std::string& model) {
    return moe + oversubscription + rest + "network: {model: " + model + "}\n";
  };
  const NamedOp open = FindOp(text("1", "flow"), "ep_alltoall_dispatch");
  const NamedOp oversubscribed = FindOp(text("4", "flow"), "ep_alltoall_dispatch");
  ASSERT_GT(open.bytes, 0);
  Result<hw::Pricing> analytical =
      hw::PriceCollective(open.hardware, hw::NetOp::kAllToAll, open.bytes, hw::GroupSpan{16, 8, 2});
  ASSERT_TRUE(analytical.ok());
  const double latency = analytical->latency_seconds;
  EXPECT_NEAR((oversubscribed.seconds - latency) / (open.seconds - latency), 4.0, 1e-3);
  EXPECT_DOUBLE_EQ(FindOp(text("1", "analytical"), "ep_alltoall_dispatch").seconds,
                   FindOp(text("4", "analytical"), "ep_alltoall_dispatch").seconds);
}

}  // namespace
}  // namespace foresight::scenarios
