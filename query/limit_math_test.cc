#include "query/limit_math.h"

#include <gtest/gtest.h>

#include <limits>

namespace ormdb::query {
namespace {

TEST(LimitMath, WantIsOneMoreThanTheLimitAndNeverWraps) {
  EXPECT_EQ(WantFor(-1), -1);
  EXPECT_EQ(WantFor(0), 1);
  EXPECT_EQ(WantFor(20), 21);
  EXPECT_EQ(WantFor(int64_t{1} << 31), (int64_t{1} << 31) + 1);
  EXPECT_EQ(WantFor(int64_t{1} << 32), (int64_t{1} << 32) + 1);
  EXPECT_EQ(WantFor(INT64_MAX - 1), INT64_MAX);
  EXPECT_EQ(WantFor(INT64_MAX), INT64_MAX);
}

TEST(LimitMath, CountsSaturate) {
  EXPECT_EQ(SaturatingAdd(1, 2), 3u);
  EXPECT_EQ(SaturatingAdd(UINT64_MAX - 1, 1), UINT64_MAX);
  EXPECT_EQ(SaturatingAdd(UINT64_MAX - 1, 2), UINT64_MAX);
  EXPECT_EQ(SaturatingAdd(UINT64_MAX, UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(SaturatingAdd(0, UINT64_MAX), UINT64_MAX);
}

TEST(LimitMath, ScanBuffersStayBoundedForLargeLimits) {
  EXPECT_EQ(ScanChunk(-1), 4096u);
  EXPECT_EQ(ScanChunk(0), 64u);
  EXPECT_EQ(ScanChunk(1), 64u);
  EXPECT_EQ(ScanChunk(100), 200u);
  EXPECT_EQ(ScanChunk(2047), 4094u);
  EXPECT_EQ(ScanChunk(2048), 4096u);
  EXPECT_EQ(ScanChunk(INT64_MAX), 4096u);

  EXPECT_EQ(RangeBatch(-1), SIZE_MAX);
  EXPECT_EQ(RangeBatch(0), 8u);
  EXPECT_EQ(RangeBatch(21), 29u);
  EXPECT_EQ(RangeBatch(int64_t{1} << 32), (size_t{1} << 32) + 8);
  EXPECT_EQ(RangeBatch(INT64_MAX), SIZE_MAX);
  EXPECT_EQ(DoubleBatch(8), 16u);
  EXPECT_EQ(DoubleBatch(SIZE_MAX / 2), SIZE_MAX - 1);
  EXPECT_EQ(DoubleBatch(SIZE_MAX / 2 + 1), SIZE_MAX);
  EXPECT_EQ(DoubleBatch(SIZE_MAX), SIZE_MAX);
}

TEST(LimitMath, EstimatesPrintWithoutOverflow) {
  EXPECT_EQ(EstimateText(0), "0");
  EXPECT_EQ(EstimateText(12.4), "12");
  EXPECT_EQ(EstimateText(999999999999999.0), "999999999999999");
  EXPECT_EQ(EstimateText(1e15), "1e+15");
  // Past 2^63 an integer conversion would overflow.
  EXPECT_EQ(EstimateText(1.2e21), "1.2e+21");
  EXPECT_EQ(EstimateText(1e300), "1e+300");
  EXPECT_EQ(EstimateText(std::numeric_limits<double>::infinity()), "inf");
}

}  // namespace
}  // namespace ormdb::query
