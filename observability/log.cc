#include "observability/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "common/timestamp.h"

namespace ormdb::observability {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_sink_mu;
LogSink g_sink;  // guarded by g_sink_mu; empty: stderr

void WriteStderr(const std::string& line) {
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;  // nowhere to report a failing stderr
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return InvalidArgument("log level '" + std::string(name) + "' (debug, info, warn or error)");
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

LogSink SetLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  LogSink old = std::move(g_sink);
  g_sink = std::move(sink);
  return old;
}

std::string FormatLogLine(int64_t micros, LogLevel level, std::string_view msg,
                          const Json& fields) {
  Json line = Json::Object();
  line.Set("time", FormatTimestamp(micros));
  line.Set("level", std::string(LogLevelName(level)));
  line.Set("msg", std::string(msg));
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.as_object()) line.Set(k, v);
  }
  return ToJson(line);
}

void Log(LogLevel level, std::string_view msg, const Json& fields) {
  if (!LogEnabled(level)) return;
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string line = FormatLogLine(now, level, msg, fields);
  {
    std::lock_guard<std::mutex> lock(g_sink_mu);
    if (g_sink) return g_sink(line);
  }
  line += '\n';
  WriteStderr(line);
}

}  // namespace ormdb::observability
