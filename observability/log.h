// Structured logs: one JSON object per line on stderr, so a log collector
// reads fields rather than prose (docs/reference/observability.md "Logs"):
//
//   {"time":"2026-12-05T17:20:01.123456Z","level":"warn","msg":"malformed request",
//    "request":42,"error":"INVALID_ARGUMENT: ..."}
//
// "time" (UTC, microseconds), "level" (debug, info, warn, error) and "msg"
// come first, then the fields in the order given. A line is written with
// one write(2), so lines of concurrent threads never interleave.
//
// Thread-safety: every function may be called from any thread; SetLogSink
// and SetLogLevel are meant for startup and tests.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/json.h"

namespace ormdb::observability {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error"; INVALID_ARGUMENT for another name.
Result<LogLevel> ParseLogLevel(std::string_view name);
std::string_view LogLevelName(LogLevel level);

// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Where lines go (each without its newline); nullptr restores stderr.
// Returns the previous sink (nullptr for stderr).
using LogSink = std::function<void(std::string_view line)>;
LogSink SetLogSink(LogSink sink);

// Writes one line: `fields` is a JSON object (or null for none) whose
// members follow time, level and msg.
void Log(LogLevel level, std::string_view msg, const Json& fields = Json());

// The line Log writes (without the newline), at time `micros`.
std::string FormatLogLine(int64_t micros, LogLevel level, std::string_view msg, const Json& fields);

}  // namespace ormdb::observability
