#include "observability/number_format.h"

#include <gtest/gtest.h>

namespace ormdb::observability {
namespace {

TEST(FormatEstimateTest, WholeNumbersAndLargeValuesHaveNoFraction) {
  EXPECT_EQ(FormatEstimate(0), "0");
  EXPECT_EQ(FormatEstimate(3), "3");
  EXPECT_EQ(FormatEstimate(100.4), "100");
  EXPECT_EQ(FormatEstimate(123456.7), "123457");
  EXPECT_EQ(FormatEstimate(-2), "-2");
}

TEST(FormatEstimateTest, SmallFractionsHaveTwoSignificantDigits) {
  EXPECT_EQ(FormatEstimate(0.5), "0.5");
  EXPECT_EQ(FormatEstimate(2.55), "2.5");
  EXPECT_EQ(FormatEstimate(0.0333), "0.033");
  EXPECT_EQ(FormatEstimate(99.5), "1e+02");
}

TEST(FormatEstimateTest, HugeValuesFitTheBuffer) {
  EXPECT_EQ(FormatEstimate(1.234e15), "1.23e+15");
  EXPECT_EQ(FormatEstimate(1e300), "1e+300");
}

TEST(FormatMillisTest, ThreeDecimals) {
  EXPECT_EQ(FormatMillis(0), "0.000 ms");
  EXPECT_EQ(FormatMillis(1234.5), "1.234 ms");
}

}  // namespace
}  // namespace ormdb::observability
