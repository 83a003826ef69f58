// Closed forms of the memory model (plan/memory.h) and plan validation of the new keys.
#include "plan/memory.h"

#include <gtest/gtest.h>

#include "models/hw/hardware.h"

namespace foresight::plan {
namespace {

// GPT shapes (Korthikanti et al. 2022 assume f = 4h, MHA, LayerNorm, 16-bit activations).
ops::ModelConfig Gpt(std::int64_t h, std::int64_t a, std::int64_t s) {
  ops::ModelConfig m = *ops::FindPreset("gpt3-13b");
  m.preset = "";
  m.layers = 8;
  m.hidden = h;
  m.heads = a;
  m.kv_heads = a;
  m.ffn_hidden = 4 * h;
  m.seq_len = s;
  m.vocab = 51200;
  return m;
}

ops::LayerOps Layer(const ops::ModelConfig& m, std::int64_t b, std::int64_t tp, bool flash) {
  ops::BuildOptions o;
  o.micro_batch = b;
  o.tp = tp;
  o.flash_attention = flash;
  o.dropout = true;
  return ops::BuildTransformerLayer(m, o);
}

TEST(MemoryTest, KorthikantiActivationBytesPerLayer) {
  // Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
  // Sec. 4.2: unfused attention, dropout on, 16-bit activations, per layer
  //   no parallelism:                 s*b*h*(34 + 5*a*s/h)
  //   selective recompute:            34*s*b*h
  //   tensor parallel t, no sequence parallelism (what foresight models; Sec. 4.2.2 eq. before
  //   SP):                            s*b*h*(10 + 24/t + 5*a*s/(h*t)), selective s*b*h*(10+24/t)
  //   full recompute:                 2*s*b*h (the layer's input)
  const double h = 1024, a = 16, s = 2048, b = 2;
  const ops::ModelConfig m = Gpt(1024, 16, 2048);
  const double input = 2 * s * b * h;
  const ops::LayerOps one = Layer(m, 2, 1, /*flash=*/false);
  EXPECT_DOUBLE_EQ(LayerKeptBytes(one, Recompute::kNone, input), s * b * h * (34 + 5 * a * s / h));
  EXPECT_DOUBLE_EQ(LayerKeptBytes(one, Recompute::kSelective, input), 34 * s * b * h);
  EXPECT_DOUBLE_EQ(LayerKeptBytes(one, Recompute::kFull, input), 2 * s * b * h);
  for (const double t : {2.0, 4.0, 8.0}) {
    const ops::LayerOps tp = Layer(m, 2, static_cast<std::int64_t>(t), false);
    EXPECT_DOUBLE_EQ(LayerKeptBytes(tp, Recompute::kNone, input),
                     s * b * h * (10 + 24 / t + 5 * a * s / (h * t)))
        << "t=" << t;
    EXPECT_DOUBLE_EQ(LayerKeptBytes(tp, Recompute::kSelective, input), s * b * h * (10 + 24 / t))
        << "t=" << t;
  }
  // Flash attention: selective recompute drops only the fp32 log-sum-exp, 4*b*a*s bytes.
  const ops::LayerOps flash = Layer(m, 2, 1, true);
  EXPECT_DOUBLE_EQ(flash.attention_core_saved_bytes, 4 * b * a * s);
}

TEST(MemoryTest, ModelStatesPerZeroStage) {
  // Rajbhandari et al. 2020 (ZeRO), Sec. 3.1 / Fig. 1, mixed-precision Adam K = 12, bf16:
  //   zero 0: (2 + 2 + 12) P, zero 1: (2 + 2 + 12/d) P, zero 2: (2 + 14/d) P, zero 3: 16 P / d.
  const double p = 1e9, d = 8;
  Plan plan;
  plan.dp = 8;
  const double expected[4][3] = {{2 * p, 2 * p, 12 * p},
                                 {2 * p, 2 * p, 12 * p / d},
                                 {2 * p, 2 * p / d, 12 * p / d},
                                 {2 * p / d, 2 * p / d, 12 * p / d}};
  for (int z = 0; z <= 3; ++z) {
    plan.zero = z;
    const ModelStates st = ComputeModelStates(p, Dtype::kBf16, plan);
    EXPECT_DOUBLE_EQ(st.weights, expected[z][0]) << "zero " << z;
    EXPECT_DOUBLE_EQ(st.gradients, expected[z][1]) << "zero " << z;
    EXPECT_DOUBLE_EQ(st.optimizer, expected[z][2]) << "zero " << z;
    EXPECT_DOUBLE_EQ(st.host_weights + st.host_gradients + st.host_optimizer, 0.0);
  }
  // ZeRO paper, Fig. 1: 7.5B parameters, d = 64: 2+2+12/64 -> 31.4 GB.
  plan.dp = 64;
  plan.zero = 1;
  const ModelStates z1 = ComputeModelStates(7.5e9, Dtype::kBf16, plan);
  EXPECT_NEAR((z1.weights + z1.gradients + z1.optimizer) / 1e9, 31.4, 0.05);
  // Same figure: P_os+g 16.6 GB, P_os+g+p 1.9 GB.
  plan.zero = 2;
  const ModelStates z2 = ComputeModelStates(7.5e9, Dtype::kBf16, plan);
  EXPECT_NEAR((z2.weights + z2.gradients + z2.optimizer) / 1e9, 16.6, 0.05);
  plan.zero = 3;
  const ModelStates z3 = ComputeModelStates(7.5e9, Dtype::kBf16, plan);
  EXPECT_NEAR((z3.weights + z3.gradients + z3.optimizer) / 1e9, 1.9, 0.05);
  // Optimizer offload moves 12 B/param of the shard to the host, plus a 4 B fp32 gradient copy;
  // parameter offload (zero 3) moves the 2 B/param weight shard.
  plan.dp = 8;
  plan.zero = 3;
  plan.offload.optimizer = true;
  plan.offload.params = true;
  const ModelStates off = ComputeModelStates(p, Dtype::kBf16, plan);
  EXPECT_DOUBLE_EQ(off.optimizer, 0.0);
  EXPECT_DOUBLE_EQ(off.weights, 0.0);
  EXPECT_DOUBLE_EQ(off.gradients, 2 * p / d);
  EXPECT_DOUBLE_EQ(off.host_optimizer, 12 * p / d);
  EXPECT_DOUBLE_EQ(off.host_gradients, 4 * p / d);
  EXPECT_DOUBLE_EQ(off.host_weights, 2 * p / d);
}

TEST(MemoryTest, HostCostsFollowTheProfile) {
  hw::HardwareProfile hw = *hw::LoadHardware("dgx-a100-80gb");
  // PCIe Gen4 x16: 10 us + 1 GB / (32 GB/s * 0.87).
  EXPECT_NEAR(PcieCopySeconds(hw, 1e9), 10e-6 + 1e9 / (32e9 * 0.87), 1e-12);
  // Uncalibrated host Adam: 30 B/param at 409.6 GB/s shared by 8 GPUs: 1e9 params -> 0.586 s.
  EXPECT_NEAR(HostAdamSeconds(hw, 1e9, 8), 1e9 * 8 * 30 / 409.6e9, 1e-12);
  hw.host.adam_params_per_s = 2e9;
  EXPECT_NEAR(HostAdamSeconds(hw, 1e9, 8), 4.0, 1e-12);
}

bool HasKey(const std::vector<PlanError>& errors, const std::string& key) {
  for (const PlanError& e : errors) {
    if (e.key == key) return true;
  }
  return false;
}

TEST(MemoryTest, BadPlansNameTheirKey) {
  const ops::ModelConfig m = Gpt(1024, 16, 1024);
  const ClusterConfig cluster{"dgx-a100-80gb", 1, 8};
  const TrainingConfig training{16, 1, Dtype::kBf16};
  auto validate = [&](Plan plan) { return ValidateAndResolve(m, cluster, training, plan); };
  Plan plan;
  plan.zero = 4;
  EXPECT_TRUE(HasKey(validate(plan), "plan.zero"));
  plan = Plan{};
  plan.recompute = Recompute::kSelective;
  plan.recompute_layers = 2;
  EXPECT_TRUE(HasKey(validate(plan), "plan.recompute_layers"));
  plan.recompute = Recompute::kFull;
  plan.recompute_layers = 9;  // 8 layers per stage
  EXPECT_TRUE(HasKey(validate(plan), "plan.recompute_layers"));
  plan.recompute_layers = 8;
  EXPECT_TRUE(validate(plan).empty());
  plan = Plan{};
  plan.offload.params = true;  // needs zero 3 and optimizer offload
  plan.zero = 1;
  EXPECT_TRUE(HasKey(validate(plan), "plan.offload.params"));
  plan.zero = 3;
  plan.offload.optimizer = true;
  EXPECT_TRUE(validate(plan).empty());

  // A profile without host memory cannot take an offload plan.
  hw::HardwareProfile hw = *hw::LoadHardware("dgx-a100-80gb");
  hw.host.memory_bytes = 0;
  hw.host.memory_bandwidth_bytes_per_s = 0;
  const std::vector<PlanError> errors = ValidateForHardware(plan, hw);
  ASSERT_TRUE(HasKey(errors, "plan.offload.optimizer"));
  EXPECT_TRUE(HasKey(errors, "plan.offload.params"));
  EXPECT_NE(errors[0].message.find("host.memory_bytes"), std::string::npos) << errors[0].message;
  EXPECT_TRUE(ValidateForHardware(Plan{}, hw).empty());
}

TEST(PlanValidationTest, AttentionKernelIsLookedUpInTheProfile) {
  const hw::HardwareProfile hw = *hw::LoadHardware("dgx-a100-80gb");
  Plan plan;
  plan.attention_kernel = "triton_flash";
  EXPECT_TRUE(ValidateForHardware(plan, hw).empty());
  plan.attention_kernel = "flash3";  // Hopper only: not in the A100 entry
  std::vector<PlanError> errors = ValidateForHardware(plan, hw);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "plan.attention_kernel");
  EXPECT_NE(errors[0].message.find("valid: flash1, flash2, triton_flash"), std::string::npos)
      << errors[0].message;
  plan.attention_kernel = "flash2";
  plan.flash_attention = false;
  errors = ValidateForHardware(plan, hw);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("flash_attention is false"), std::string::npos);
  // A profile without a kernel table says so.
  const hw::HardwareProfile b200 = *hw::LoadHardware("dgx-b200");
  plan.flash_attention = true;
  errors = ValidateForHardware(plan, b200);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("(it lists none)"), std::string::npos) << errors[0].message;
}

}  // namespace
}  // namespace foresight::plan
