#include "calibrate/cpu_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace foresight::calibrate {
namespace {

// Sanity bounds (not expectations of this machine's speed):
// - Memory bandwidth in [1 GB/s, 1 TB/s]: one DDR4-2133 channel already sustains 17 GB/s, so
//   even a slow VM stays far above 1 GB/s; the upper bound is more than one core can move from
//   L2 (64 B/cycle x ~5 GHz = 320 GB/s), and the test runs one thread.
// - GEMM FLOP/s in (1e8, cores x 320 GFLOP/s]: 320 GFLOP/s is one core's fp32 peak at its
//   widest (2 AVX-512 FMA units x 16 lanes x 2 flop x 5 GHz); 1e8 is a scalar loop at 100 MHz.
// The bounds are checked on the rate of the FASTEST repetition (amount / time_min_s): it is an
// upper bound of the median rate too, and unlike the median it stays meaningful when other
// processes share the cores (a loaded 2-core CI runner can stretch the median arbitrarily).
// Sanitizer builds instrument every load and store of the scalar loops (triad, Adam) and stop
// their vectorisation: up to ~10x slower, so the lower bound drops to 100 MB/s there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
constexpr double kMinBandwidth = 1e8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr double kMinBandwidth = 1e8;
#else
constexpr double kMinBandwidth = 1e9;
#endif
#else
constexpr double kMinBandwidth = 1e9;
#endif
constexpr double kMaxBandwidth = 1e12;
constexpr double kMaxFlopPerCore = 2 * 16 * 2 * 5e9;

// One thread: a repetition with two threads must wait for two free cores, which a shared CI
// runner may not give (TimeParallel's splitting is tested separately).
int TestThreads() { return 1; }

TEST(CpuKernelsTest, TimeCallsMeasuresASleep) {
  // sleep_for blocks at least its argument, so every per-call time is >= 1 ms; 100 ms leaves
  // room for a loaded CI machine.
  const Timing t = TimeCalls([] { std::this_thread::sleep_for(std::chrono::milliseconds(1)); },
                             RepeatPolicy{1, 3, 0.0});
  EXPECT_EQ(t.repeats, 3);
  EXPECT_GE(t.min_s, 1e-3);
  EXPECT_GE(t.median_s, t.min_s);
  EXPECT_LT(t.median_s, 0.1);
}

TEST(CpuKernelsTest, TimeParallelSplitsIntoContiguousSlices) {
  // n = 10 over 3 threads: slice t = [10t/3, 10(t+1)/3) = [0,3), [3,6), [6,10).
  std::mutex mu;
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  (void)TimeParallel(
      3, 10,
      [&](std::int64_t begin, std::int64_t end) {
        std::lock_guard<std::mutex> lock(mu);
        seen.insert({begin, end});
      },
      RepeatPolicy{0, 1, 0.0});
  EXPECT_EQ(seen, (std::set<std::pair<std::int64_t, std::int64_t>>{{0, 3}, {3, 6}, {6, 10}}));
}

TEST(CpuKernelsTest, QuickSuiteGivesPlausibleNumbersAndAHostSection) {
  const int threads = TestThreads();
  const MeasurementFile file = RunCpuSuite(CpuSuiteOptions::Quick(threads));
  ASSERT_EQ(file.tables.size(), 4u);
  for (const MeasurementTable& t : file.tables) {
    ASSERT_FALSE(t.rows.empty()) << KindName(t.kind);
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      EXPECT_GT(t.Number(r, "time_min_s"), 0);
      EXPECT_LE(t.Number(r, "time_min_s"), t.Number(r, "time_median_s"));
    }
  }
  const double max_flop = kMaxFlopPerCore * std::thread::hardware_concurrency();
  double best_flop = 0;
  const MeasurementTable& gemm = *file.TablesOf(MeasurementKind::kCpuGemm).at(0);
  for (std::size_t r = 0; r < gemm.rows.size(); ++r) {
    const double flop = 2 * gemm.Number(r, "m") * gemm.Number(r, "n") * gemm.Number(r, "k");
    EXPECT_DOUBLE_EQ(gemm.Number(r, "flop_per_s"), flop / gemm.Number(r, "time_median_s"));
    EXPECT_GT(flop / gemm.Number(r, "time_min_s"), 1e8);
    EXPECT_LT(flop / gemm.Number(r, "time_min_s"), max_flop);
    best_flop = std::max(best_flop, gemm.Number(r, "flop_per_s"));
  }
  double dram_triad = 0;
  const MeasurementTable& membw = *file.TablesOf(MeasurementKind::kCpuMemBw).at(0);
  EXPECT_EQ(membw.rows.size(), 8u);  // 2 sizes x {read, write, copy, triad}
  for (std::size_t r = 0; r < membw.rows.size(); ++r) {
    const double bw = membw.Number(r, "bandwidth_bytes_per_s");
    EXPECT_DOUBLE_EQ(bw, membw.Number(r, "bytes") / membw.Number(r, "time_median_s"));
    const double peak = membw.Number(r, "bytes") / membw.Number(r, "time_min_s");
    EXPECT_GT(peak, kMinBandwidth) << membw.Text(r, "op");
    EXPECT_LT(peak, kMaxBandwidth) << membw.Text(r, "op");
    if (membw.Text(r, "op") == "triad" && membw.Number(r, "working_set_bytes") > 1e7) {
      // 32 MiB arrays: triad moves 3 x 32 MiB = 100663296 bytes.
      EXPECT_EQ(membw.Number(r, "bytes"), 100663296);
      dram_triad = bw;
    }
  }
  const MeasurementTable& adam = *file.TablesOf(MeasurementKind::kCpuAdam).at(0);
  // 2^20 params x 28 bytes = 29360128 bytes.
  EXPECT_EQ(adam.Number(0, "bytes"), 29360128);
  const double adam_bytes_per_s = adam.Number(0, "bytes") / adam.Number(0, "time_min_s");
  EXPECT_GT(adam_bytes_per_s, kMinBandwidth);
  EXPECT_LT(adam_bytes_per_s, kMaxBandwidth);
  const MeasurementTable& copy = *file.TablesOf(MeasurementKind::kHostMemcpy).at(0);
  for (std::size_t r = 0; r < copy.rows.size(); ++r) {
    const double peak = copy.Number(r, "bytes") / copy.Number(r, "time_min_s");
    EXPECT_GT(peak, kMinBandwidth);
    EXPECT_LT(peak, kMaxBandwidth);
  }

  // The host section restates the tables: best GEMM; triad, Adam and memcpy at the largest
  // size (the tables list sizes in increasing order, so that is the last row of its kind).
  auto meta = [&](const char* key) { return std::stod(file.Meta(key).value()); };
  EXPECT_EQ(meta("host_gemm_flop_per_s"), best_flop);
  EXPECT_GT(dram_triad, 0);
  EXPECT_EQ(meta("host_memory_bandwidth_bytes_per_s"), dram_triad);
  EXPECT_EQ(meta("host_adam_params_per_s"), adam.Number(adam.rows.size() - 1, "params_per_s"));
  EXPECT_EQ(meta("host_memcpy_bandwidth_bytes_per_s"),
            copy.Number(copy.rows.size() - 1, "bandwidth_bytes_per_s"));
  EXPECT_EQ(meta("host_cores"), std::thread::hardware_concurrency());
  EXPECT_TRUE(file.Meta("host").has_value());
  EXPECT_TRUE(file.Meta("date").has_value());
  EXPECT_TRUE(file.Meta("device").has_value());
}

}  // namespace
}  // namespace foresight::calibrate
