// The server's observability: GET /metrics counts known requests exactly
// (checked with the text format's parser, and promtool when installed),
// GET /health, keys on the HTTP port, the structured warning of a malformed
// request, and the slow-query log.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "audit/audit_log.h"
#include "common/timestamp.h"
#include "observability/log.h"
#include "observability/prometheus.h"
#include "protocol/http.h"
#include "server/server_test_util.h"

namespace ormdb::server::test {
namespace {

using observability::PrometheusText;
using protocol::HttpCall;

// Captures the log lines written while it lives.
class CapturedLog {
 public:
  CapturedLog() {
    old_ = observability::SetLogSink([this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~CapturedLog() { observability::SetLogSink(std::move(old_)); }
  // The lines whose "msg" is `msg`, parsed.
  std::vector<Json> With(std::string_view msg) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Json> out;
    for (const std::string& l : lines_) {
      auto j = ParseJson(l);
      EXPECT_TRUE(j.ok()) << "not a JSON line: " << l;
      if (j.ok() && j->Find("msg") && j->Find("msg")->as_string() == msg) out.push_back(*j);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
  observability::LogSink old_;
};

ServerOptions WithHttp() {
  ServerOptions o;
  o.http_listen = "http://127.0.0.1:0";
  o.slow_query_ms = -1;
  return o;
}

PrometheusText Scrape(Server& server, std::string_view key = {}) {
  auto reply = HttpCall("GET", server.http_url() + "/metrics", {},
                        key.empty() ? "" : "Bearer " + std::string(key));
  EXPECT_TRUE(reply.ok()) << reply.status().ToString();
  if (!reply.ok()) return {};
  EXPECT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(reply->content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto parsed = observability::ParsePrometheusText(reply->body);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << reply->body;
  return parsed.ok() ? *parsed : PrometheusText();
}

TEST(MetricsEndpointTest, SubscribersAndTheirLag) {
  TempDir dir;
  LoadProbeData(dir.path());
  auto server = Serve(dir.path(), WithHttp());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto db = Database::Connect((*server)->url(), Quick());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(Scrape(**server).Sum("ormdb_change_stream_subscribers"), 0);

  // A named subscriber reads up to the current version, then three commits
  // leave it three versions behind.
  WatchOptions w;
  w.subscriber = "mailer";
  auto first = (*db)->Watch(w);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*db)->Mutate(Batch({InsertOp("m", i, "x")})).ok());
  }
  PrometheusText behind = Scrape(**server);
  EXPECT_EQ(behind.Sum("ormdb_change_stream_subscribers"), 1);
  EXPECT_EQ(behind.Sum("ormdb_change_stream_max_lag_versions"), 3);

  // Caught up: no lag.
  w.from = first->token;
  auto caught_up = (*db)->Watch(w);
  ASSERT_TRUE(caught_up.ok()) << caught_up.status().ToString();
  EXPECT_EQ(caught_up->events.size(), 3u);
  w.from = caught_up->token;
  ASSERT_TRUE((*db)->Watch(w).ok());  // the position moves when the subscriber asks again
  PrometheusText now = Scrape(**server);
  EXPECT_EQ(now.Sum("ormdb_change_stream_subscribers"), 1);
  EXPECT_EQ(now.Sum("ormdb_change_stream_max_lag_versions"), 0);
  (*server)->Stop();
}

TEST(MetricsEndpointTest, CountsKnownRequestsExactly) {
  TempDir dir;
  LoadProbeData(dir.path());
  auto server = Serve(dir.path(), WithHttp());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_FALSE((*server)->http_url().empty());

  PrometheusText before = Scrape(**server);
  EXPECT_FALSE(before.Has("ormdb_requests_total", {{"kind", "fetch"}}));
  EXPECT_EQ(before.types.at("ormdb_request_duration_seconds"), "histogram");

  auto db = Database::Connect((*server)->url(), Quick());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  uint64_t entities = 0, bytes = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = (*db)->Fetch(kProbeQuery);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    entities += (*r)->stats().entities;
    bytes += (*r)->stats().bytes;
  }
  EXPECT_EQ(entities, 3u * kProbeRows);
  EXPECT_FALSE((*db)->Fetch("Item(where: ) {").ok());  // a syntax error
  ASSERT_TRUE((*db)->Mutate(Batch({InsertOp("m", 1, "a")})).ok());
  ASSERT_TRUE((*db)->Mutate(Batch({InsertOp("m", 2, "b"), InsertOp("m", 3, "c")})).ok());

  PrometheusText after = Scrape(**server);
  auto delta = [&](std::string_view name, std::map<std::string, std::string> labels = {}) {
    return after.Sum(name, labels) - before.Sum(name, labels);
  };
  EXPECT_EQ(after.Sum("ormdb_requests_total", {{"kind", "hello"}, {"outcome", "ok"}}), 1);
  EXPECT_EQ(after.Sum("ormdb_requests_total", {{"kind", "fetch"}, {"outcome", "ok"}}), 3);
  EXPECT_EQ(after.Sum("ormdb_requests_total", {{"kind", "fetch"}, {"outcome", "invalid_argument"}}),
            1);
  EXPECT_EQ(after.Sum("ormdb_requests_total", {{"kind", "mutate"}, {"outcome", "ok"}}), 2);
  EXPECT_EQ(after.Sum("ormdb_requests_total"), 7);  // hello, 4 fetches, 2 mutates
  EXPECT_EQ(after.Sum("ormdb_request_duration_seconds_count", {{"kind", "fetch"}}), 4);
  EXPECT_EQ(after.Sum("ormdb_request_duration_seconds_bucket", {{"kind", "fetch"}, {"le", "+Inf"}}),
            4);
  EXPECT_EQ(after.Sum("ormdb_request_duration_seconds_count", {{"kind", "mutate"}}), 2);
  EXPECT_GT(after.Sum("ormdb_request_duration_seconds_sum", {{"kind", "fetch"}}), 0);
  // What the fetches returned, as their results reported it.
  EXPECT_EQ(delta("ormdb_fetches_total"), 3);
  EXPECT_EQ(delta("ormdb_fetch_entities_total"), static_cast<double>(entities));
  EXPECT_EQ(delta("ormdb_fetch_bytes_total"), static_cast<double>(bytes));
  EXPECT_EQ(delta("ormdb_fetch_edges_total"), 0);
  // What they read: three times what EXPLAIN ANALYZE counts for one run on
  // their snapshot (before the mutations).
  ExplainOptions analyze;
  analyze.analyze = true;
  analyze.json = true;
  analyze.fetch.as_of = static_cast<uint64_t>(before.Sum("ormdb_current_version"));
  auto plan = (*db)->Explain(kProbeQuery, "{}", analyze);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto plan_json = ParseJson(*plan);
  ASSERT_TRUE(plan_json.ok()) << *plan;
  int64_t reads = 0;
  for (const Json& step : plan_json->Find("steps")->as_array()) {
    reads += step.Find("actual")->Find("reads")->as_int();
  }
  EXPECT_EQ(reads, kProbeRows) << *plan;  // a scan of the probe rows
  EXPECT_EQ(delta("ormdb_fetch_reads_total"), 3.0 * static_cast<double>(reads));
  // One shape: compiled once, then found in the cache.
  EXPECT_EQ(delta("ormdb_plan_cache_misses_total"), 1);
  EXPECT_EQ(delta("ormdb_plan_cache_hits_total"), 2);
  // Two write transactions, one after the other: two groups of one.
  EXPECT_EQ(delta("ormdb_commits_total"), 2);
  EXPECT_EQ(delta("ormdb_commit_group_size_count"), 2);
  EXPECT_EQ(delta("ormdb_commit_group_size_sum"), 2);
  EXPECT_EQ(delta("ormdb_commit_group_size_bucket", {{"le", "1"}}), 2);
  EXPECT_EQ(delta("ormdb_commit_duration_seconds_count"), 2);
  EXPECT_EQ(after.Sum("ormdb_current_version"), before.Sum("ormdb_current_version") + 2);
  EXPECT_EQ(after.Sum("ormdb_connections"), 1);
  EXPECT_GT(after.Sum("ormdb_map_used_bytes"), 0);
  EXPECT_LE(after.Sum("ormdb_map_used_bytes"), after.Sum("ormdb_map_size_bytes"));
  EXPECT_EQ(after.types.at("ormdb_fetches_total"), "counter");
  EXPECT_EQ(after.types.at("ormdb_connections"), "gauge");
  (*server)->Stop();
}

// The audit log's metrics: one line per audited request (hello has none),
// one histogram observation per line written, and the appends that failed.
// A file size limit stands in for a full disk (as in audit_test): the
// fetches under it are answered, their lines are not written.
TEST(MetricsEndpointTest, CountsAuditLinesAndFailuresExactly) {
  TempDir dir;
  LoadProbeData(dir.path());
  ServerOptions o = WithHttp();
  o.audit = true;
  o.audit_dir = dir.path() + "/audit";
  auto server = Serve(dir.path(), o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  PrometheusText before = Scrape(**server);
  EXPECT_EQ(before.Sum("ormdb_audit_lines_total"), 0);
  EXPECT_EQ(before.Sum("ormdb_audit_failures_total"), 0);
  EXPECT_EQ(before.types.at("ormdb_audit_sync_duration_seconds"), "histogram");

  auto db = Database::Connect((*server)->url(), Quick());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*db)->Fetch(kProbeQuery).ok());
  EXPECT_FALSE((*db)->Fetch("Item(where: ) {").ok());  // a syntax error is audited too
  ASSERT_TRUE((*db)->Mutate(Batch({InsertOp("m", 1, "a")})).ok());
  ASSERT_TRUE((*db)->Mutate(Batch({InsertOp("m", 2, "b")})).ok());
  PrometheusText after = Scrape(**server);
  EXPECT_EQ(after.Sum("ormdb_audit_lines_total"), 6);  // 4 fetches, 2 mutates; not the hello
  EXPECT_EQ(after.Sum("ormdb_audit_failures_total"), 0);
  EXPECT_EQ(after.Sum("ormdb_audit_sync_duration_seconds_count"), 6);
  EXPECT_EQ(after.Sum("ormdb_audit_sync_duration_seconds_bucket", {{"le", "+Inf"}}), 6);
  EXPECT_TRUE(after.Has("ormdb_audit_sync_duration_seconds_sum", {}));
  auto verified = audit::VerifyAuditLog(o.audit_dir);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->lines, 6u);

  {
    CapturedLog log;
    struct sigaction ignore {
    }, old_action{};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &old_action), 0);
    struct rlimit old_limit {};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    struct rlimit small = old_limit;
    small.rlim_cur = std::filesystem::file_size(o.audit_dir + "/" + audit::AuditFileName(1)) + 16;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    const bool fetched = (*db)->Fetch(kProbeQuery).ok() && (*db)->Fetch(kProbeQuery).ok();
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    ASSERT_EQ(sigaction(SIGXFSZ, &old_action, nullptr), 0);
    EXPECT_TRUE(fetched) << "a read is answered when its line cannot be written";
    EXPECT_EQ(log.With("audit log append failed (a read was answered unaudited)").size(), 2u);
  }
  ASSERT_TRUE((*db)->Fetch(kProbeQuery).ok());
  PrometheusText last = Scrape(**server);
  EXPECT_EQ(last.Sum("ormdb_audit_lines_total"), 7);
  EXPECT_EQ(last.Sum("ormdb_audit_failures_total"), 2);
  EXPECT_EQ(last.Sum("ormdb_audit_sync_duration_seconds_count"), 7);
  (*server)->Stop();
  verified = audit::VerifyAuditLog(o.audit_dir);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->lines, 7u);
}

// Without the audit log, its metrics are left out.
TEST(MetricsEndpointTest, NoAuditMetricsWithoutTheAuditLog) {
  TempDir dir;
  LoadProbeData(dir.path());
  auto server = Serve(dir.path(), WithHttp());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  PrometheusText text = Scrape(**server);
  EXPECT_EQ(text.types.count("ormdb_audit_lines_total"), 0u);
  EXPECT_EQ(text.types.count("ormdb_audit_sync_duration_seconds"), 0u);
  (*server)->Stop();
}

// A vacuum run is counted with what it removed, as its own report says.
TEST(MetricsEndpointTest, CountsWhatVacuumRemoved) {
  TempDir dir;
  LoadProbeData(dir.path());
  OpenOptions open;
  open.retention_versions = 1;  // only the newest version stays readable
  open.retention_seconds = 0;
  auto engine = db::Engine::Open(dir.path(), open);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ServerOptions o = WithHttp();
  o.listen = "tcp://127.0.0.1:0";
  auto server = Server::Start(std::move(*engine), o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto db = Database::Connect((*server)->url(), Quick());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        (*db)
            ->Mutate(R"({"ops": [{"op": "update", "entity": "Item", "id": 1, "set": {"body": "v)" +
                     std::to_string(i) + R"("}}]})")
            .ok());
  }
  PrometheusText before = Scrape(**server);
  EXPECT_EQ(before.Sum("ormdb_vacuums_total"), 0);
  EXPECT_EQ(before.types.at("ormdb_vacuum_duration_seconds"), "histogram");
  auto report = (*db)->Vacuum();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto removed = ParseJson(*report);
  ASSERT_TRUE(removed.ok());
  const int64_t rows = removed->Find("row_versions_removed")->as_int();
  EXPECT_GE(rows, 3);  // the row's three older versions at least
  PrometheusText after = Scrape(**server);
  EXPECT_EQ(after.Sum("ormdb_vacuums_total"), 1);
  EXPECT_EQ(after.Sum("ormdb_vacuum_removed_total", {{"table", "row_versions"}}), rows);
  EXPECT_EQ(after.Sum("ormdb_vacuum_removed_total", {{"table", "index_entries"}}),
            removed->Find("index_entries_removed")->as_int());
  EXPECT_EQ(after.Sum("ormdb_vacuum_removed_total", {{"table", "log_entries"}}),
            removed->Find("log_entries_removed")->as_int());
  EXPECT_EQ(after.Sum("ormdb_vacuum_duration_seconds_count"), 1);
  (*server)->Stop();
}

// Reads of one row: a miss, then hits; a commit that changes it drops it.
TEST(MetricsEndpointTest, CountsRowCacheHitsMissesAndInvalidations) {
  TempDir dir;
  LoadProbeData(dir.path());
  auto server = Serve(dir.path(), WithHttp());  // the default row cache
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto db = Database::Connect((*server)->url(), Quick());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  PrometheusText before = Scrape(**server);
  auto delta = [&](const PrometheusText& after, const char* name) {
    return after.Sum(name) - before.Sum(name);
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*db)->Get("Item", "1").ok());
  PrometheusText read = Scrape(**server);
  EXPECT_EQ(delta(read, "ormdb_row_cache_misses_total"), 1);
  EXPECT_EQ(delta(read, "ormdb_row_cache_hits_total"), 2);
  EXPECT_EQ(delta(read, "ormdb_row_cache_entries"), 1);
  EXPECT_GT(delta(read, "ormdb_row_cache_bytes"), 0);
  ASSERT_TRUE(
      (*db)
          ->Mutate(
              R"({"ops": [{"op": "update", "entity": "Item", "id": 1, "set": {"body": "x"}}]})")
          .ok());
  auto row = (*db)->Get("Item", "1");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_NE((*row)->find("\"x\""), std::string::npos) << **row;  // not the cached row
  PrometheusText after = Scrape(**server);
  EXPECT_EQ(delta(after, "ormdb_row_cache_invalidations_total"), 1);
  EXPECT_EQ(after.types.at("ormdb_row_cache_hits_total"), "counter");
  EXPECT_EQ(after.types.at("ormdb_row_cache_bytes"), "gauge");
  (*server)->Stop();
}

TEST(MetricsEndpointTest, PromtoolAcceptsTheText) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  TempDir dir;
  LoadProbeData(dir.path());
  auto server = Serve(dir.path(), WithHttp());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    auto db = Database::Connect((*server)->url(), Quick());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Fetch(kProbeQuery).ok());
    EXPECT_FALSE((*db)->Fetch("Nope { x }").ok());
  }
  std::string file = dir.path() + "/metrics.txt";
  {
    std::ofstream out(file);
    out << (*server)->MetricsText();
  }
  std::string cmd = "/usr/bin/promtool check metrics < " + file + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) output.append(buf, n);
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "") << output;
  (*server)->Stop();
}

TEST(MetricsEndpointTest, HealthIsOpenAndMetricsNeedAKeyWhenTheServerHasKeys) {
  TempDir dir;
  LoadProbeData(dir.path());
  ServerOptions o = WithHttp();
  o.keys = {ApiKey{"reader-key-0123456789", "reader", {"read"}}};
  auto server = Serve(dir.path(), o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string base = (*server)->http_url();
  auto health = HttpCall("GET", base + "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  auto anonymous = HttpCall("GET", base + "/metrics");
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401);
  auto wrong = HttpCall("GET", base + "/metrics", {}, "Bearer not-the-key-0123456");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401);
  auto schema = HttpCall("GET", base + "/api/schema");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->status, 401);
  Scrape(**server, "reader-key-0123456789");
  (*server)->Stop();
}

TEST(MetricsEndpointTest, HttpOffLoopbackNeedsKeys) {
  TempDir dir;
  LoadProbeData(dir.path());
  ServerOptions o = WithHttp();
  o.http_listen = "http://0.0.0.0:0";
  auto server = Serve(dir.path(), o);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("without API keys"), std::string::npos);
}

TEST(MetricsEndpointTest, HttpAddressInUseFailsUnlessOptional) {
  TempDir dir, dir2;
  LoadProbeData(dir.path());
  LoadProbeData(dir2.path());
  auto first = Serve(dir.path(), WithHttp());
  ASSERT_TRUE(first.ok());
  ServerOptions o = WithHttp();
  o.http_listen = (*first)->http_url();
  auto second = Serve(dir2.path(), o);
  ASSERT_FALSE(second.ok());
  CapturedLog log;
  o.http_optional = true;
  auto third = Serve(dir2.path(), o);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ((*third)->http_url(), "");
  EXPECT_EQ(log.With("serving without HTTP (metrics, console)").size(), 1u);
  (*third)->Stop();
  (*first)->Stop();
}

TEST(StructuredLogTest, MalformedRequestIsOneWarningWithItsRequestId) {
  TempDir dir;
  LoadProbeData(dir.path());
  auto server = Serve(dir.path(), WithHttp());
  ASSERT_TRUE(server.ok());
  CapturedLog log;
  {
    RawClient c((*server)->url());
    // A well-formed fetch first (request 1), then garbage (request 2).
    ASSERT_TRUE(c.Call(FetchFrame(kProbeQuery)).has_value());
    auto reply = c.Call("ORxx garbage that is no frame");
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(Decode(*reply).is_error);
  }
  std::vector<Json> warnings = log.With("malformed request");
  ASSERT_EQ(warnings.size(), 1u);
  const Json& w = warnings[0];
  EXPECT_EQ(w.Find("level")->as_string(), "warn");
  EXPECT_EQ(w.Find("request")->as_int(), 2);
  EXPECT_NE(w.Find("error")->as_string().find("INVALID_ARGUMENT"), std::string::npos);
  ASSERT_NE(w.Find("time"), nullptr);
  EXPECT_TRUE(ParseTimestamp(w.Find("time")->as_string()).ok());
  // Nothing else was logged for it, and it is counted.
  EXPECT_EQ(log.With("request failed").size(), 0u);
  PrometheusText m = Scrape(**server);
  EXPECT_EQ(m.Sum("ormdb_requests_total", {{"kind", "invalid"}, {"outcome", "invalid_argument"}}),
            1);
  (*server)->Stop();
}

TEST(SlowQueryLogTest, FetchOverTheThresholdIsLoggedWithExplainAnalyze) {
  TempDir dir;
  LoadProbeData(dir.path());
  ServerOptions o = WithHttp();
  o.slow_query_ms = 0;  // every fetch is "slow"
  auto server = Serve(dir.path(), o);
  ASSERT_TRUE(server.ok());
  CapturedLog log;
  {
    auto db = Database::Connect((*server)->url(), Quick());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Fetch(kProbeQuery).ok());
    ASSERT_TRUE((*db)->Get("Item", "1").ok());  // not a fetch: never logged as slow
  }
  (*server)->Stop();  // waits for the log line of the fetch it answered
  std::vector<Json> slow = log.With("slow query");
  ASSERT_EQ(slow.size(), 1u);
  const Json& s = slow[0];
  EXPECT_EQ(s.Find("level")->as_string(), "warn");
  EXPECT_EQ(s.Find("query")->as_string(), kProbeQuery);
  EXPECT_EQ(s.Find("threshold_ms")->as_int(), 0);
  const Json* explain = s.Find("explain");
  ASSERT_NE(explain, nullptr) << ToJson(s);
  const Json* steps = explain->Find("steps");
  ASSERT_TRUE(steps && steps->is_array() && !steps->as_array().empty()) << ToJson(*explain);
  const Json* actual = steps->as_array()[0].Find("actual");
  ASSERT_NE(actual, nullptr) << ToJson(*explain);
  EXPECT_EQ(actual->Find("rows")->as_int(), kProbeRows) << ToJson(*actual);
  EXPECT_EQ(explain->Find("version")->as_int(), s.Find("version")->as_int());
}

TEST(SlowQueryLogTest, FastFetchesAreNotLogged) {
  TempDir dir;
  LoadProbeData(dir.path());
  ServerOptions o = WithHttp();
  o.slow_query_ms = 3600 * 1000;
  auto server = Serve(dir.path(), o);
  ASSERT_TRUE(server.ok());
  CapturedLog log;
  {
    auto db = Database::Connect((*server)->url(), Quick());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Fetch(kProbeQuery).ok());
  }
  (*server)->Stop();
  EXPECT_EQ(log.With("slow query").size(), 0u);
}

}  // namespace
}  // namespace ormdb::server::test
