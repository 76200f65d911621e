#include "observability/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ormdb::observability {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithTimeLevelMessageThenFields) {
  Json fields = Json::Object();
  fields.Set("request", 42);
  fields.Set("error", "bad \"frame\"\n");
  std::string line = FormatLogLine(1764955201123456, LogLevel::kWarn, "malformed request", fields);
  EXPECT_EQ(line,
            R"({"time":"2025-12-05T17:20:01.123456Z","level":"warn","msg":"malformed request",)"
            R"("request":42,"error":"bad \"frame\"\n"})");
  auto parsed = ParseJson(line);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Find("request")->as_int(), 42);
}

TEST(LogTest, SinkReceivesLinesAtOrAboveTheLevel) {
  std::vector<std::string> lines;
  LogSink old = SetLogSink([&](std::string_view l) { lines.emplace_back(l); });
  SetLogLevel(LogLevel::kWarn);
  Log(LogLevel::kInfo, "dropped");
  Log(LogLevel::kError, "kept");
  SetLogLevel(LogLevel::kInfo);
  SetLogSink(std::move(old));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("level":"error","msg":"kept")"), std::string::npos) << lines[0];
}

TEST(LogTest, ParsesLevels) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("loud").ok());
}

}  // namespace
}  // namespace ormdb::observability
