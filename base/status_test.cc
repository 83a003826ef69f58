#include "base/status.h"

#include <gtest/gtest.h>

namespace foresight {
namespace {

TEST(ErrorTest, RendersFileLineColumn) {
  EXPECT_EQ(Error::At("a.yaml", 3, 7, "bad").ToString(), "a.yaml:3:7: bad");
  EXPECT_EQ(Error::At("a.yaml", 3, 0, "bad").ToString(), "a.yaml:3: bad");
  EXPECT_EQ((Error{"plain", "", 0, 0}.ToString()), "plain");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = 4;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  Result<int> bad = Error{"nope", "", 0, 0};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "nope");
  Status s;
  EXPECT_TRUE(s.ok());
  Status e = Error{"x", "", 0, 0};
  EXPECT_FALSE(e.ok());
}

}  // namespace
}  // namespace foresight
