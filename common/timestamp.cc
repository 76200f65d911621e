#include "common/timestamp.h"

#include <cstdio>

namespace ormdb {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

// The inverse of DaysFromCivil (Howard Hinnant, "chrono-Compatible Low-Level
// Date Algorithms"): eras of 400 years make the calendar periodic, and a year
// starting on March 1 puts the leap day last.
CivilDate CivilFromDays(int64_t days) {
  days += 719468;  // shift the epoch to 0000-03-01
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;  // March = 0
  const int day = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeapYear(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Reads the input left to right, producing messages that quote it.
class TimestampParser {
 public:
  explicit TimestampParser(std::string_view text) : text_(text) {}

  Result<int64_t> Parse() {
    int year = 0, month = 0, day = 0;
    ORMDB_RETURN_IF_ERROR(Digits(4, "a 4-digit year", &year));
    ORMDB_RETURN_IF_ERROR(Literal('-', "'-' after the year"));
    ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit month", &month));
    ORMDB_RETURN_IF_ERROR(Literal('-', "'-' after the month"));
    ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit day", &day));
    if (year < 1) return Error("year 0000 is out of range 0001..9999");
    if (month < 1 || month > 12) {
      return Error("month " + Two(month) + " is out of range 01..12");
    }
    if (day < 1 || day > DaysInMonth(year, month)) {
      return Error("day " + Two(day) + " is out of range 01.." + Two(DaysInMonth(year, month)) +
                   " for " + std::to_string(year) + "-" + Two(month));
    }
    int64_t micros = DaysFromCivil(year, month, day) * kMicrosPerDay;
    if (pos_ == text_.size()) return micros;  // a date: midnight UTC

    if (text_[pos_] != 'T' && text_[pos_] != 't') {
      return Expected("'T' between the date and the time, or the end");
    }
    ++pos_;
    int hour = 0, minute = 0, second = 0;
    ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit hour", &hour));
    ORMDB_RETURN_IF_ERROR(Literal(':', "':' after the hour"));
    ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit minute", &minute));
    ORMDB_RETURN_IF_ERROR(Literal(':', "':' after the minute"));
    ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit second", &second));
    if (hour > 23) return Error("hour " + Two(hour) + " is out of range 00..23");
    if (minute > 59) return Error("minute " + Two(minute) + " is out of range 00..59");
    if (second > 59) return Error("second " + Two(second) + " is out of range 00..59");
    micros += ((hour * int64_t{60} + minute) * 60 + second) * kMicrosPerSecond;

    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      size_t start = pos_;
      int64_t fraction = 0;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) {
        if (pos_ - start == 6) {
          return Error("more than 6 fractional digits (the precision is microseconds)");
        }
        fraction = fraction * 10 + (text_[pos_] - '0');
        ++pos_;
      }
      if (pos_ == start) return Expected("a digit after '.'");
      for (size_t i = pos_ - start; i < 6; ++i) fraction *= 10;
      micros += fraction;
    }

    if (pos_ >= text_.size()) return Expected("'Z' or a UTC offset (+hh:mm or -hh:mm)");
    char zone = text_[pos_];
    if (zone == 'Z' || zone == 'z') {
      ++pos_;
    } else if (zone == '+' || zone == '-') {
      ++pos_;
      int offset_hours = 0, offset_minutes = 0;
      ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit offset hour", &offset_hours));
      ORMDB_RETURN_IF_ERROR(Literal(':', "':' in the UTC offset"));
      ORMDB_RETURN_IF_ERROR(Digits(2, "a 2-digit offset minute", &offset_minutes));
      if (offset_hours > 23 || offset_minutes > 59) {
        return Error("UTC offset " + Two(offset_hours) + ":" + Two(offset_minutes) +
                     " is out of range (at most 23:59)");
      }
      int64_t offset = (offset_hours * int64_t{60} + offset_minutes) * 60 * kMicrosPerSecond;
      // Local time = UTC + offset, so UTC = local - offset.
      micros += zone == '+' ? -offset : offset;
    } else {
      return Expected("'Z' or a UTC offset (+hh:mm or -hh:mm)");
    }
    if (pos_ != text_.size()) return Expected("the end after the UTC offset");

    static const int64_t kMin = DaysFromCivil(1, 1, 1) * kMicrosPerDay;
    static const int64_t kMax = DaysFromCivil(10000, 1, 1) * kMicrosPerDay - 1;
    if (micros < kMin || micros > kMax) {
      return Error("the time in UTC is outside years 0001..9999");
    }
    return micros;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  static std::string Two(int v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d", v);
    return buf;
  }

  // `invalid timestamp "<text>": <reason>`, the text quoted safely and cut
  // short: it comes from the user and may be anything.
  Status Error(std::string_view reason) const {
    std::string m = "invalid timestamp " + QuoteForMessage(text_) + ": ";
    m += reason;
    return InvalidArgument(std::move(m));
  }

  // "expected <what> at column C, found ..."
  Status Expected(std::string_view what) const {
    std::string found;
    if (pos_ >= text_.size()) {
      found = "the end";
    } else if (text_[pos_] > 0x20 && text_[pos_] < 0x7F) {
      found = std::string("'") + text_[pos_] + "'";
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned char>(text_[pos_]));
      found = buf;
    }
    return Error("expected " + std::string(what) + " at column " + std::to_string(pos_ + 1) +
                 ", found " + found);
  }

  Status Digits(int count, std::string_view what, int* out) {
    int v = 0;
    for (int i = 0; i < count; ++i) {
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Expected(what);
      v = v * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    *out = v;
    return Status::Ok();
  }

  Status Literal(char c, std::string_view what) {
    if (pos_ >= text_.size() || text_[pos_] != c) return Expected(what);
    ++pos_;
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

// Howard Hinnant's days_from_civil; see CivilFromDays for the idea.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;  // [0, 399]
  const int64_t day_of_year =
      (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

Result<int64_t> ParseTimestamp(std::string_view text) { return TimestampParser(text).Parse(); }

std::string FormatTimestamp(int64_t micros) {
  // Floor division: a time before 1970 belongs to the earlier day.
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const int64_t seconds_of_day = rest / kMicrosPerSecond;
  const int64_t fraction = rest % kMicrosPerSecond;
  char buf[64];
  int n = std::snprintf(
      buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(date.year),
      date.month, date.day, static_cast<int>(seconds_of_day / 3600),
      static_cast<int>(seconds_of_day / 60 % 60), static_cast<int>(seconds_of_day % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (fraction != 0) {
    if (fraction % 1000 == 0) {
      std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(fraction / 1000));
    } else {
      std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(fraction));
    }
    out += buf;
  }
  out += 'Z';
  return out;
}

}  // namespace ormdb
