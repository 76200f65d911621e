#include "common/status.h"

#include <array>

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

}  // namespace ormdb
