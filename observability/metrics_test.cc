#include "observability/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "observability/prometheus.h"

namespace ormdb::observability {
namespace {

TEST(MetricsTest, CounterAndGauge) {
  Counter c;
  c.Add();
  c.Add(41);
  EXPECT_EQ(c.value(), 42u);
  Gauge g;
  g.Set(10);
  g.Add(-3);
  EXPECT_EQ(g.value(), 7);
}

TEST(MetricsTest, HistogramBucketsAreUpperInclusive) {
  Histogram h({10, 100, 1000});
  for (uint64_t v : {0, 10, 11, 100, 101, 1000, 1001, 5000}) h.Observe(v);
  HistogramSnapshot s = h.Snapshot();
  ASSERT_EQ(s.counts.size(), 4u);
  EXPECT_EQ(s.counts[0], 2u);  // 0, 10
  EXPECT_EQ(s.counts[1], 2u);  // 11, 100
  EXPECT_EQ(s.counts[2], 2u);  // 101, 1000
  EXPECT_EQ(s.counts[3], 2u);  // 1001, 5000 (+Inf)
  EXPECT_EQ(s.count(), 8u);
  EXPECT_EQ(s.sum, 0u + 10 + 11 + 100 + 101 + 1000 + 1001 + 5000);
  EXPECT_EQ(s.Quantile(0.25), 10u);
  EXPECT_EQ(s.Quantile(0.5), 100u);
  EXPECT_EQ(s.Quantile(1.0), 1000u);  // in +Inf: the largest bound
}

TEST(MetricsTest, HistogramRejectsBadBounds) {
  EXPECT_THROW(Histogram({5, 5}), std::logic_error);
  std::vector<uint64_t> many(Histogram::kMaxBounds + 1);
  for (size_t i = 0; i < many.size(); ++i) many[i] = i + 1;
  EXPECT_THROW(Histogram{many}, std::logic_error);
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  Counter c;
  Histogram h(Histogram::Sizes());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Add();
        h.Observe(static_cast<uint64_t>(i % 8));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.Snapshot().count(), 40000u);
}

TEST(MetricsTest, CounterSetSumsEveryThreadsShard) {
  // More threads than shards, so some share one.
  CounterSet<3> set;
  std::vector<std::thread> threads;
  for (int t = 0; t < static_cast<int>(kCounterShards) + 4; ++t) {
    threads.emplace_back([&set, t] {
      for (int i = 0; i < 1000; ++i) {
        set.Add(0);
        set.Add(2, static_cast<uint64_t>(t));
      }
    });
  }
  for (auto& t : threads) t.join();
  const uint64_t n = kCounterShards + 4;
  EXPECT_EQ(set.value(0), 1000 * n);
  EXPECT_EQ(set.value(1), 0u);
  EXPECT_EQ(set.value(2), 1000 * (n * (n - 1) / 2));
}

TEST(PrometheusTest, WritesWhatTheParserReadsBack) {
  Histogram h({100, 1000});
  h.Observe(50);
  h.Observe(500);
  h.Observe(5000);
  PrometheusWriter w;
  w.Family("ormdb_requests_total", "counter", "Requests answered.");
  w.Sample("ormdb_requests_total", {{"kind", "fetch"}, {"outcome", "ok"}}, 3);
  w.Sample("ormdb_requests_total", {{"kind", "fetch"}, {"outcome", "a \"b\"\\\n"}}, 1);
  w.Family("ormdb_request_duration_seconds", "histogram", "Latency.");
  w.HistogramSamples("ormdb_request_duration_seconds", {{"kind", "fetch"}}, h.Snapshot(), 1e-6);
  w.Family("ormdb_map_bytes", "gauge", "Map size.");
  w.Sample("ormdb_map_bytes", {}, 1048576);
  auto parsed = ParsePrometheusText(w.text());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << w.text();
  EXPECT_EQ(parsed->types.at("ormdb_request_duration_seconds"), "histogram");
  EXPECT_EQ(parsed->Sum("ormdb_requests_total", {{"kind", "fetch"}}), 4);
  EXPECT_TRUE(parsed->Has("ormdb_requests_total", {{"outcome", "a \"b\"\\\n"}}));
  EXPECT_EQ(parsed->Sum("ormdb_request_duration_seconds_count"), 3);
  EXPECT_EQ(parsed->Sum("ormdb_request_duration_seconds_bucket", {{"le", "0.0001"}}), 1);
  EXPECT_EQ(parsed->Sum("ormdb_request_duration_seconds_bucket", {{"le", "0.001"}}), 2);
  EXPECT_EQ(parsed->Sum("ormdb_request_duration_seconds_bucket", {{"le", "+Inf"}}), 3);
  EXPECT_DOUBLE_EQ(parsed->Sum("ormdb_request_duration_seconds_sum"), 0.00555);
  EXPECT_EQ(parsed->Sum("ormdb_map_bytes"), 1048576);
}

TEST(PrometheusTest, ParserRejectsMalformedText) {
  auto bad = [](std::string_view text) { return !ParsePrometheusText(text).ok(); };
  EXPECT_TRUE(bad("x 1\n"));                                         // no TYPE
  EXPECT_TRUE(bad("# TYPE x counter\nx{a=\"1\"} 1"));                // no final newline
  EXPECT_TRUE(bad("# TYPE x counter\nx 1\nx 2\n"));                  // duplicate series
  EXPECT_TRUE(bad("# TYPE x counter\nx one\n"));                     // bad value
  EXPECT_TRUE(bad("# TYPE x counter\nx{a=1} 1\n"));                  // unquoted label
  EXPECT_TRUE(bad("# TYPE x counter\n# TYPE y gauge\ny 1\nx 1\n"));  // split family
  EXPECT_TRUE(
      bad("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
          "h_count 1\nh_sum 0\n"));  // not cumulative
  EXPECT_TRUE(bad("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 0\n"));  // no +Inf
  EXPECT_TRUE(bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\nh_sum 0\n"));
  EXPECT_FALSE(bad("# HELP x What.\n# TYPE x counter\nx{a=\"1\",b=\"2\"} 1\nx 3 1700000000\n"));
}

}  // namespace
}  // namespace ormdb::observability
