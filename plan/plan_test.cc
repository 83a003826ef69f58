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

TEST(ValidateTest, VirtualStagesNeedTheInterleavedSchedule) {
  Case c;
  c.plan.vpp = 2;
  auto errors = ValidateAndResolve(c.model, c.cluster, c.training, c.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.vpp");
  EXPECT_NE(errors[0].message.find("interleaved-1f1b"), std::string::npos) << errors[0].message;
}

TEST(ValidateTest, InterleavedChecksChunksAndMicroBatches) {
  Case c;  // 96 layers / pp 16 = 6 layers per stage, m = 192
  c.plan.schedule = Schedule::kInterleaved1F1B;
  c.plan.vpp = 3;
  EXPECT_TRUE(ValidateAndResolve(c.model, c.cluster, c.training, c.plan).empty());
  Case bad;
  bad.plan.schedule = Schedule::kInterleaved1F1B;
  bad.plan.vpp = 4;  // does not divide 6
  auto errors = ValidateAndResolve(bad.model, bad.cluster, bad.training, bad.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.vpp");
  EXPECT_NE(errors[0].message.find("valid vpp: 2, 3, 6"), std::string::npos) << errors[0].message;
  Case one;
  one.plan.schedule = Schedule::kInterleaved1F1B;  // vpp = 1
  errors = ValidateAndResolve(one.model, one.cluster, one.training, one.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.vpp");
  // m = 1544 / 8 = 193 micro-batches, not a multiple of pp = 16; 208 * 8 = 1664 and 192 * 8
  // = 1536 are the nearest valid global batches.
  Case odd;
  odd.plan.schedule = Schedule::kInterleaved1F1B;
  odd.plan.vpp = 2;
  odd.training.global_batch = 1544;
  errors = ValidateAndResolve(odd.model, odd.cluster, odd.training, odd.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "training.global_batch");
  EXPECT_NE(errors[0].message.find("1664 or 1536"), std::string::npos) << errors[0].message;
}

TEST(ValidateTest, UnevenStagesMustCoverTheModel) {
  Case c;
  c.plan.pp = 4;
  c.plan.tp = 8;
  c.plan.layers_per_stage = {20, 26, 26, 24};  // sums to 96
  EXPECT_TRUE(ValidateAndResolve(c.model, c.cluster, c.training, c.plan).empty());
  EXPECT_EQ(StageLayers(c.model, c.plan), (std::vector<std::int64_t>{20, 26, 26, 24}));
  Case sum = c;
  sum.plan.dp = 0;
  sum.plan.layers_per_stage = {20, 26, 26, 20};
  auto errors = ValidateAndResolve(sum.model, sum.cluster, sum.training, sum.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.layers_per_stage");
  EXPECT_NE(errors[0].message.find("sums to 92"), std::string::npos) << errors[0].message;
  Case length = c;
  length.plan.dp = 0;
  length.plan.layers_per_stage = {48, 48};
  errors = ValidateAndResolve(length.model, length.cluster, length.training, length.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.layers_per_stage");
  EXPECT_NE(errors[0].message.find("pp=4"), std::string::npos) << errors[0].message;
  // 95 layers do not divide by pp = 4 evenly, but first_stage_layers = 23 leaves 72 = 3 x 24.
  Case first;
  first.model.layers = 95;
  first.plan.pp = 4;
  first.plan.first_stage_layers = 23;
  EXPECT_TRUE(ValidateAndResolve(first.model, first.cluster, first.training, first.plan).empty());
  EXPECT_EQ(StageLayers(first.model, first.plan), (std::vector<std::int64_t>{23, 24, 24, 24}));
  // Both ends: 96 - 18 - 14 = 64 over 2 middle stages.
  Case both;
  both.plan.pp = 4;
  both.plan.first_stage_layers = 18;
  both.plan.last_stage_layers = 14;
  EXPECT_TRUE(ValidateAndResolve(both.model, both.cluster, both.training, both.plan).empty());
  EXPECT_EQ(StageLayers(both.model, both.plan), (std::vector<std::int64_t>{18, 32, 32, 14}));
  both.plan.dp = 0;
  both.plan.last_stage_layers = 13;  // 65 left for 2 stages
  errors = ValidateAndResolve(both.model, both.cluster, both.training, both.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.first_stage_layers");
}

TEST(ValidateTest, ScheduleAndOverlapCombinations) {
  Case zb;
  zb.plan.schedule = Schedule::kZbH1;
  zb.plan.zero = 2;
  auto errors = ValidateAndResolve(zb.model, zb.cluster, zb.training, zb.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.schedule");
  Case gather;
  gather.plan.overlap.param_gather = true;  // zero 0: nothing to gather
  errors = ValidateAndResolve(gather.model, gather.cluster, gather.training, gather.plan);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.overlap.param_gather");
  gather.plan.dp = 0;
  gather.plan.zero = 1;
  EXPECT_TRUE(
      ValidateAndResolve(gather.model, gather.cluster, gather.training, gather.plan).empty());
}

}  // namespace
}  // namespace foresight::plan
