// Status and Result<T>: how every ormdb layer reports failure.
//
// An error carries a code that tells the caller what to do (retry, fix the
// request, or stop) and a message that says what failed and why. Context is
// prepended as the error travels up ("apply schema blog.ormdb: field ...").
// Our own bugs are assertions, not Status values.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ormdb {

// The error codes of docs/reference/errors.md. The numeric values are part of the wire
// protocol: append only.
enum class ErrorCode : int {
  kOk = 0,
  kInvalidArgument = 1,      // fix the request
  kSchemaError = 2,          // fix the request: unknown or mismatched names
  kNotFound = 3,             // the row / directory / thing does not exist
  kConstraintViolation = 4,  // the data would break a constraint
  kConflict = 5,             // retry: a concurrent change won
  kBudgetExceeded = 6,       // lower the fanout or raise the budget
  kMigrationRefused = 7,     // destructive change without consent
  kPermissionDenied = 8,
  kUnauthenticated = 9,
  kHistoryLost = 10,        // the version asked for is below retention
  kResourceExhausted = 11,  // map size, memory or queue limits reached
  kUnavailable = 12,        // retry later: shutting down, busy, locked
  kInternal = 13,           // our bug or a corrupted file: stop
};

// "INVALID_ARGUMENT", "SCHEMA_ERROR", ... as printed by the CLI.
std::string_view ErrorCodeName(ErrorCode code);
// Parses a name printed by ErrorCodeName; nullopt for an unknown name.
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);

// `text` as a double-quoted, printable excerpt for an error message: bytes
// outside printable ASCII (and '"', '\\') as \xNN, cut after `max` bytes
// with "...". User input may be anything; messages stay one safe line.
std::string QuoteForMessage(std::string_view text, size_t max = 64);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != ErrorCode::kOk);
  }
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Itself: lets macros treat Status and Result<T> alike.
  const Status& status() const { return *this; }

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;
  // "CODE: message", the CLI's form without the "error: " prefix.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Status SchemaError(std::string m) { return {ErrorCode::kSchemaError, std::move(m)}; }
inline Status NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status ConstraintViolation(std::string m) {
  return {ErrorCode::kConstraintViolation, std::move(m)};
}
inline Status Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
inline Status BudgetExceeded(std::string m) { return {ErrorCode::kBudgetExceeded, std::move(m)}; }
inline Status HistoryLost(std::string m) { return {ErrorCode::kHistoryLost, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {ErrorCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

// A value or an error. Access to value() on an error is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ormdb

// Returns early with the error of a Status-returning expression.
#define ORMDB_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::ormdb::Status ormdb_status_ = (expr);        \
    if (!ormdb_status_.ok()) return ormdb_status_; \
  } while (0)

#define ORMDB_CONCAT_INNER(a, b) a##b
#define ORMDB_CONCAT(a, b) ORMDB_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-returning expression, or returns its error.
#define ORMDB_ASSIGN_OR_RETURN(lhs, expr) \
  ORMDB_ASSIGN_OR_RETURN_IMPL(ORMDB_CONCAT(ormdb_result_, __LINE__), lhs, expr)
#define ORMDB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
