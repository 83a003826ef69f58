#include "base/dtype.h"

#include <gtest/gtest.h>

namespace foresight {
namespace {

TEST(DtypeTest, BytesAndNamesRoundTrip) {
  EXPECT_EQ(BytesOf(Dtype::kBf16), 2);
  EXPECT_EQ(BytesOf(Dtype::kFp32), 4);
  EXPECT_EQ(BytesOf(Dtype::kFp8), 1);
  for (Dtype d : {Dtype::kFp32, Dtype::kTf32, Dtype::kBf16, Dtype::kFp16, Dtype::kFp8}) {
    EXPECT_EQ(ParseDtype(DtypeName(d)), d);
  }
  EXPECT_FALSE(ParseDtype("int8").has_value());
}

}  // namespace
}  // namespace foresight
