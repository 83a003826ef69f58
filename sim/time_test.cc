#include "sim/time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace foresight::sim {
namespace {

TEST(SimTimeTest, UnitConstructorsScaleToPicoseconds) {
  EXPECT_EQ(SimTime::Picoseconds(7).ps(), 7);
  EXPECT_EQ(SimTime::Nanoseconds(3).ps(), 3'000);       // 1 ns = 10^3 ps
  EXPECT_EQ(SimTime::Microseconds(2).ps(), 2'000'000);  // 1 us = 10^6 ps
  EXPECT_EQ(SimTime::Zero().ps(), 0);
  EXPECT_EQ(SimTime().ps(), 0);
  EXPECT_EQ(SimTime::Max().ps(), std::numeric_limits<std::int64_t>::max());
}

TEST(SimTimeTest, ArithmeticIsExactIntegerPicoseconds) {
  const SimTime a = SimTime::Nanoseconds(5);  // 5000 ps
  const SimTime b = SimTime::Picoseconds(1);
  EXPECT_EQ((a + b).ps(), 5'001);
  EXPECT_EQ((a - b).ps(), 4'999);
  EXPECT_EQ((b - a).ps(), -4'999);
  EXPECT_EQ((a * 3).ps(), 15'000);
  SimTime c = a;
  c += SimTime::Microseconds(1);  // 5000 + 1'000'000
  EXPECT_EQ(c.ps(), 1'005'000);
  c -= SimTime::Nanoseconds(5);
  EXPECT_EQ(c, SimTime::Microseconds(1));
}

TEST(SimTimeTest, FromSecondsRoundsToNearestPicosecondHalfAwayFromZero) {
  // llround: the double nearest 1.5e-12 times 1e12 is exactly 1.5 -> 2 (half away from zero);
  // 2.5e-12 -> 2.5 -> 3 (not banker's rounding, which would give 2); 2.4e-12 -> 2.4 -> 2.
  EXPECT_EQ(SimTime::FromSeconds(1.5e-12).ps(), 2);
  EXPECT_EQ(SimTime::FromSeconds(2.5e-12).ps(), 3);
  EXPECT_EQ(SimTime::FromSeconds(2.4e-12).ps(), 2);
  EXPECT_EQ(SimTime::FromSeconds(0.4e-12).ps(), 0);
  EXPECT_EQ(SimTime::FromSeconds(1e-6).ps(), 1'000'000);
  EXPECT_EQ(SimTime::FromSeconds(3.3e-9).ps(), 3'300);
  EXPECT_EQ(SimTime::FromSeconds(1.0).ps(), 1'000'000'000'000);
  EXPECT_EQ(SimTime::FromSeconds(0.0), SimTime::Zero());
}

TEST(SimTimeTest, ConvertsBackToSecondsAndMicroseconds) {
  EXPECT_DOUBLE_EQ(SimTime::Microseconds(250).ToSeconds(), 250e-6);
  EXPECT_DOUBLE_EQ(SimTime::Nanoseconds(1500).ToMicroseconds(), 1.5);
  EXPECT_DOUBLE_EQ(SimTime::FromSeconds(0.125).ToSeconds(), 0.125);
}

TEST(SimTimeTest, OrderingIsExact) {
  const SimTime a = SimTime::Picoseconds(999);
  const SimTime b = SimTime::Nanoseconds(1);  // 1000 ps
  EXPECT_LT(a, b);
  EXPECT_LE(a, b);
  EXPECT_GT(b, a);
  EXPECT_NE(a, b);
  EXPECT_EQ(b, SimTime::Picoseconds(1000));
  EXPECT_LT(SimTime::Picoseconds(-1), SimTime::Zero());
  EXPECT_LT(b, SimTime::Max());
  EXPECT_EQ(Max(a, b), b);
  EXPECT_EQ(Min(a, b), a);
  EXPECT_EQ(Max(b, b), b);
  static_assert(SimTime::Nanoseconds(2) + SimTime::Picoseconds(5) == SimTime::Picoseconds(2005));
}

}  // namespace
}  // namespace foresight::sim
