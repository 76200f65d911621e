#include "common/timestamp.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

namespace ormdb {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

int64_t MustParse(std::string_view text) {
  Result<int64_t> r = ParseTimestamp(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

std::string ParseError(std::string_view text) {
  Result<int64_t> r = ParseTimestamp(text);
  EXPECT_FALSE(r.ok()) << "parsed: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  return r.status().message();
}

TEST(TimestampTest, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2024, 5, 1), 19844);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
}

TEST(TimestampTest, ParsesUtc) {
  EXPECT_EQ(MustParse("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(MustParse("1970-01-01"), 0);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00Z"), 1714566600 * kSecond);
  EXPECT_EQ(MustParse("2024-05-01t12:30:00z"), 1714566600 * kSecond);
  EXPECT_EQ(MustParse("2024-05-01"), 1714521600 * kSecond);
  EXPECT_EQ(MustParse("1969-12-31T23:59:59Z"), -kSecond);
  EXPECT_EQ(MustParse("0001-01-01T00:00:00Z"), -62135596800 * kSecond);
  EXPECT_EQ(MustParse("9999-12-31T23:59:59.999999Z"), 253402300800 * kSecond - 1);
}

TEST(TimestampTest, FractionalSeconds) {
  int64_t base = MustParse("2024-05-01T12:30:00Z");
  EXPECT_EQ(MustParse("2024-05-01T12:30:00.5Z"), base + 500000);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00.25Z"), base + 250000);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00.250Z"), base + 250000);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00.000001Z"), base + 1);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00.123456Z"), base + 123456);
  EXPECT_EQ(MustParse("1969-12-31T23:59:59.5Z"), -500000);
  EXPECT_NE(ParseError("2024-05-01T12:30:00.1234567Z").find("more than 6 fractional digits"),
            std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00.Z").find("a digit after '.'"), std::string::npos);
}

TEST(TimestampTest, Offsets) {
  int64_t utc = MustParse("2024-05-01T12:30:00Z");
  EXPECT_EQ(MustParse("2024-05-01T14:30:00+02:00"), utc);
  EXPECT_EQ(MustParse("2024-05-01T07:00:00-05:30"), utc);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00+00:00"), utc);
  EXPECT_EQ(MustParse("2024-05-01T12:30:00-00:00"), utc);
  EXPECT_EQ(MustParse("2024-05-02T00:29:00+11:59"), utc);
  EXPECT_EQ(MustParse("2024-05-01T00:31:00-11:59"), utc);
  // Crossing a day, month and year boundary.
  EXPECT_EQ(MustParse("2024-01-01T01:00:00+02:00"), MustParse("2023-12-31T23:00:00Z"));
  EXPECT_NE(ParseError("2024-05-01T12:30:00+24:00").find("offset 24:00 is out of range"),
            std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00+02:60").find("out of range"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00+0200").find("':' in the UTC offset"),
            std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00+02").find("':' in the UTC offset"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00+02:3").find("2-digit offset minute"),
            std::string::npos);
  // Offsets that leave years 0001..9999.
  EXPECT_NE(ParseError("0001-01-01T00:30:00+01:00").find("outside years 0001..9999"),
            std::string::npos);
  EXPECT_NE(ParseError("9999-12-31T23:30:00-01:00").find("outside years 0001..9999"),
            std::string::npos);
  EXPECT_TRUE(ParseTimestamp("0001-01-01T00:30:00-01:00").ok());
}

TEST(TimestampTest, RangeChecks) {
  EXPECT_EQ(ParseError("2024-13-01"),
            "invalid timestamp \"2024-13-01\": month 13 is out of range 01..12");
  EXPECT_NE(ParseError("2024-00-01").find("month 00"), std::string::npos);
  EXPECT_NE(ParseError("2024-01-00").find("day 00"), std::string::npos);
  EXPECT_NE(ParseError("2024-04-31").find("day 31 is out of range 01..30 for 2024-04"),
            std::string::npos);
  EXPECT_TRUE(ParseTimestamp("2024-02-29").ok());  // leap year
  EXPECT_NE(ParseError("2023-02-29").find("out of range 01..28"), std::string::npos);
  EXPECT_TRUE(ParseTimestamp("2000-02-29").ok());  // divisible by 400
  EXPECT_NE(ParseError("1900-02-29").find("out of range 01..28"), std::string::npos);
  EXPECT_NE(ParseError("0000-01-01").find("year 0000"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T24:00:00Z").find("hour 24"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:60:00Z").find("minute 60"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:60Z").find("second 60"), std::string::npos);  // no leap
}

TEST(TimestampTest, SyntaxErrors) {
  EXPECT_EQ(ParseError(""),
            "invalid timestamp \"\": expected a 4-digit year at column 1, found the end");
  EXPECT_NE(ParseError("24-05-01").find("4-digit year at column 3, found '-'"), std::string::npos);
  EXPECT_NE(ParseError("2024-5-01").find("2-digit month"), std::string::npos);
  EXPECT_NE(ParseError("2024/05/01").find("found '/'"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01 12:30:00Z").find("'T' between the date and the time"),
            std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30Z").find("':' after the minute"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00").find("'Z' or a UTC offset"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T12:30:00ZZ").find("the end after the UTC offset"),
            std::string::npos);
  EXPECT_NE(ParseError("2024-05-01T").find("2-digit hour"), std::string::npos);
  EXPECT_NE(ParseError("2024-05-01x").find("found 'x'"), std::string::npos);
  EXPECT_NE(ParseError("+2024-05-01").find("4-digit year"), std::string::npos);
  EXPECT_NE(ParseError("12345-05-01").find("'-' after the year"), std::string::npos);
  // Odd bytes are quoted safely.
  EXPECT_EQ(ParseError(std::string_view("2024\n\"\0", 7)),
            "invalid timestamp \"2024\\x0a\\x22\\x00\": expected '-' after the year at column 5, "
            "found byte 0x0A");
  EXPECT_NE(ParseError(std::string(200, '9')).find("...\""), std::string::npos);
}

TEST(TimestampTest, Format) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(1714566600 * kSecond), "2024-05-01T12:30:00Z");
  EXPECT_EQ(FormatTimestamp(1714566600 * kSecond + 250000), "2024-05-01T12:30:00.250Z");
  EXPECT_EQ(FormatTimestamp(1714566600 * kSecond + 1), "2024-05-01T12:30:00.000001Z");
  EXPECT_EQ(FormatTimestamp(1714566600 * kSecond + 123456), "2024-05-01T12:30:00.123456Z");
  EXPECT_EQ(FormatTimestamp(1714566600 * kSecond + 1000), "2024-05-01T12:30:00.001Z");
  EXPECT_EQ(FormatTimestamp(1714566600 * kSecond + 100), "2024-05-01T12:30:00.000100Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(-kSecond), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTimestamp(-kDay), "1969-12-31T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(-500000), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(FormatTimestamp(MustParse("0001-01-01")), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(MustParse("9999-12-31T23:59:59.999999Z")),
            "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(MustParse("2000-02-29T01:02:03Z")), "2000-02-29T01:02:03Z");
  // Outside 0001..9999: still well-defined, never a crash.
  EXPECT_EQ(FormatTimestamp(MustParse("0001-01-01") - kDay), "0000-12-31T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(std::numeric_limits<int64_t>::max()), "294247-01-10T04:00:54.775807Z");
  EXPECT_EQ(FormatTimestamp(std::numeric_limits<int64_t>::min()), "-290308-12-21T19:59:05.224192Z");
}

TEST(TimestampTest, RandomRoundTrips) {
  const int64_t lo = MustParse("0001-01-01T00:00:00Z");
  const int64_t hi = MustParse("9999-12-31T23:59:59.999999Z");
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int i = 0; i < 20000; ++i) {
    int64_t t = dist(rng);
    if (i % 3 == 1) t -= t % 1000;                             // whole milliseconds
    if (i % 3 == 2) t -= ((t % kSecond) + kSecond) % kSecond;  // whole seconds
    std::string text = FormatTimestamp(t);
    Result<int64_t> back = ParseTimestamp(text);
    ASSERT_TRUE(back.ok()) << t << " " << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, t) << text;
  }
  // Every day of a few centuries, including the 1900/2000 leap rules.
  int64_t expected_days = DaysFromCivil(1899, 1, 1);
  for (int year = 1899; year <= 2101; ++year) {
    for (int month = 1; month <= 12; ++month) {
      for (int day = 1; day <= 31; ++day) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
        Result<int64_t> r = ParseTimestamp(buf);
        if (!r.ok()) continue;  // not a date
        ASSERT_EQ(*r, expected_days * kDay) << buf;
        ASSERT_EQ(FormatTimestamp(*r), std::string(buf) + "T00:00:00Z");
        ++expected_days;
      }
    }
  }
  EXPECT_EQ(expected_days, DaysFromCivil(2102, 1, 1));
}

}  // namespace
}  // namespace ormdb
