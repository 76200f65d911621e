#include "tools/top.h"

#include <gtest/gtest.h>

namespace ormdb::tools {
namespace {

using observability::ParsePrometheusText;
using observability::PrometheusText;

PrometheusText Parse(const std::string& text) {
  auto p = ParsePrometheusText(text);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : PrometheusText();
}

std::string Scrape(int fetches, int errors, int fast, int slow) {
  return "# TYPE ormdb_requests_total counter\n"
         "ormdb_requests_total{kind=\"fetch\",outcome=\"ok\"} " +
         std::to_string(fetches) +
         "\n"
         "ormdb_requests_total{kind=\"fetch\",outcome=\"invalid_argument\"} " +
         std::to_string(errors) +
         "\n"
         "# TYPE ormdb_request_duration_seconds histogram\n"
         "ormdb_request_duration_seconds_bucket{kind=\"fetch\",le=\"0.001\"} " +
         std::to_string(fast) +
         "\n"
         "ormdb_request_duration_seconds_bucket{kind=\"fetch\",le=\"0.01\"} " +
         std::to_string(fast + slow) +
         "\n"
         "ormdb_request_duration_seconds_bucket{kind=\"fetch\",le=\"+Inf\"} " +
         std::to_string(fast + slow) +
         "\n"
         "ormdb_request_duration_seconds_sum{kind=\"fetch\"} 1\n"
         "ormdb_request_duration_seconds_count{kind=\"fetch\"} " +
         std::to_string(fast + slow) +
         "\n"
         "# TYPE ormdb_map_used_bytes gauge\normdb_map_used_bytes 1048576\n"
         "# TYPE ormdb_map_size_bytes gauge\normdb_map_size_bytes 2097152\n";
}

TEST(TopTest, QuantilesAreOverTheIntervalToTheBucket) {
  PrometheusText a = Parse(Scrape(10, 0, 10, 0));
  PrometheusText b = Parse(Scrape(110, 10, 20, 100));
  // Over the whole life of b: 20 fast, 100 slow.
  EXPECT_DOUBLE_EQ(
      HistogramQuantile(nullptr, b, "ormdb_request_duration_seconds", {{"kind", "fetch"}}, 0.1),
      0.001);
  EXPECT_DOUBLE_EQ(
      HistogramQuantile(nullptr, b, "ormdb_request_duration_seconds", {{"kind", "fetch"}}, 0.5),
      0.01);
  // Between a and b: 10 fast, 100 slow.
  EXPECT_DOUBLE_EQ(
      HistogramQuantile(&a, b, "ormdb_request_duration_seconds", {{"kind", "fetch"}}, 0.09), 0.001);
  EXPECT_DOUBLE_EQ(
      HistogramQuantile(&a, b, "ormdb_request_duration_seconds", {{"kind", "fetch"}}, 0.1), 0.01);
  EXPECT_DOUBLE_EQ(
      HistogramQuantile(&b, b, "ormdb_request_duration_seconds", {{"kind", "fetch"}}, 0.5), 0);
}

TEST(TopTest, ScreenShowsRatesPerKind) {
  PrometheusText a = Parse(Scrape(10, 0, 10, 0));
  PrometheusText b = Parse(Scrape(110, 10, 20, 100));
  std::string screen = RenderTop(&a, b, 2.0, "http://127.0.0.1:7412");
  EXPECT_NE(screen.find("(per second over 2.0 s)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("map 1.0 MiB used of 2.0 MiB"), std::string::npos) << screen;
  // 110 requests in 2 s, 10 of them errors; p50 in the 10 ms bucket.
  EXPECT_NE(screen.find("fetch                   55.0       5.0     10.00     10.00         120"),
            std::string::npos)
      << screen;
  std::string first = RenderTop(nullptr, a, 0, "x");
  EXPECT_NE(first.find("totals since start"), std::string::npos) << first;
}

}  // namespace
}  // namespace ormdb::tools
