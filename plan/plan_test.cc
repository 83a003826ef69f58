#include "plan/plan.h"

#include <gtest/gtest.h>

namespace foresight::plan {
namespace {

ops::ModelConfig Gpt(std::int64_t layers, std::int64_t hidden, std::int64_t heads) {
  ops::ModelConfig m;
  m.layers = layers;
  m.hidden = hidden;
  m.heads = heads;
  m.kv_heads = heads;
  m.ffn_hidden = 4 * hidden;
  m.vocab = 51200;
  m.seq_len = 2048;
  return m;
}

struct Case {
  ops::ModelConfig model = Gpt(96, 12288, 96);
  ClusterConfig cluster{"dgx-a100-80gb", 128, 8};
  TrainingConfig training{1536, 1, Dtype::kBf16};
  Plan plan;
  Case() {
    plan.tp = 8;
    plan.pp = 16;
  }
};

TEST(ValidateTest, DerivesDataParallelDegree) {
  Case c;
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(c.plan.dp, 8);                           // 1024 GPUs / (tp 8 * pp 16)
  EXPECT_EQ(MicroBatches(c.training, c.plan), 192);  // 1536 / (1 * 8)
}

TEST(ValidateTest, TensorParallelMustDivideHeads) {
  Case c;
  c.model = Gpt(32, 4096, 32);
  c.plan.tp = 3;
  c.plan.pp = 1;
  c.cluster.nodes = 1;
  c.cluster.gpus_per_node = 3;
  c.training.global_batch = 3;
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].key, "plan.tp");
  // Divisors of 32 that also divide ffn 16384.
  EXPECT_NE(errors[0].message.find("valid tp: 1, 2, 4, 8, 16, 32"), std::string::npos)
      << errors[0].message;
}

TEST(ValidateTest, PipelineMustDivideLayers) {
  Case c;
  c.plan.pp = 5;
  c.plan.dp = 0;
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].key, "plan.pp");
  EXPECT_NE(errors[0].message.find("valid pp: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96"),
            std::string::npos)
      << errors[0].message;
}

TEST(ValidateTest, WorldSizeMismatchNamesTheRequiredDp) {
  Case c;
  c.plan.dp = 4;  // 8 * 16 * 4 = 512 != 1024
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.dp");
  EXPECT_NE(errors[0].message.find("dp must be 8"), std::string::npos) << errors[0].message;
}

TEST(ValidateTest, GlobalBatchMustDivideByMicroBatchTimesDp) {
  Case c;
  c.training.global_batch = 1500;  // 1500 % 8 = 4
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "training.global_batch");
  EXPECT_NE(errors[0].message.find("1496 or 1504"), std::string::npos) << errors[0].message;
}

TEST(ValidateTest, InterleavedStagesAreRejectedForNow) {
  Case c;
  c.plan.vpp = 2;
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].key, "plan.vpp");
}

}  // namespace
}  // namespace foresight::plan
