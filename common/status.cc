#include "ormdb/status.h"

#include <array>
#include <cstdio>

namespace ormdb {
namespace {
constexpr std::array<std::string_view, 14> kNames = {"OK",
                                                     "INVALID_ARGUMENT",
                                                     "SCHEMA_ERROR",
                                                     "NOT_FOUND",
                                                     "CONSTRAINT_VIOLATION",
                                                     "CONFLICT",
                                                     "BUDGET_EXCEEDED",
                                                     "MIGRATION_REFUSED",
                                                     "PERMISSION_DENIED",
                                                     "UNAUTHENTICATED",
                                                     "HISTORY_LOST",
                                                     "RESOURCE_EXHAUSTED",
                                                     "UNAVAILABLE",
                                                     "INTERNAL"};
}  // namespace

std::string_view ErrorCodeName(ErrorCode code) {
  auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "INTERNAL";
}

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

std::string Status::ToString() const {
  std::string s(ErrorCodeName(code_));
  if (!ok()) {
    s += ": ";
    s += message_;
  }
  return s;
}

std::string QuoteForMessage(std::string_view text, size_t max) {
  std::string m = "\"";
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      m.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      m += buf;
    }
  }
  if (text.size() > max) m += "...";
  m += "\"";
  return m;
}

}  // namespace ormdb
