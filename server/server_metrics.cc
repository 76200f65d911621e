#include "server/server_metrics.h"

#include <cctype>

#include "server/server.h"

namespace ormdb::server {

using observability::Histogram;
using observability::Labels;
using observability::PrometheusWriter;
using protocol::RequestKind;

namespace {

constexpr double kMicros = 1e-6;

void CounterFamily(PrometheusWriter& w, std::string_view name, std::string_view help,
                   uint64_t value) {
  w.Family(name, "counter", help);
  w.Sample(name, {}, static_cast<double>(value));
}

void GaugeFamily(PrometheusWriter& w, std::string_view name, std::string_view help,
                 uint64_t value) {
  w.Family(name, "gauge", help);
  w.Sample(name, {}, static_cast<double>(value));
}

}  // namespace

std::string_view RequestKindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kHello:
      return "hello";
    case RequestKind::kFetch:
      return "fetch";
    case RequestKind::kMore:
      return "more";
    case RequestKind::kMutate:
      return "mutate";
    case RequestKind::kSchemaApply:
      return "schema_apply";
    case RequestKind::kSchemaShow:
      return "schema_show";
    case RequestKind::kSchemaHistory:
      return "schema_history";
    case RequestKind::kExplain:
      return "explain";
    case RequestKind::kWatch:
      return "watch";
    case RequestKind::kStats:
      return "stats";
    case RequestKind::kGet:
      return "get";
    case RequestKind::kExportRows:
      return "export";
    case RequestKind::kImportRows:
      return "import";
    case RequestKind::kVacuum:
      return "vacuum";
    case RequestKind::kCheck:
      return "check";
    case RequestKind::kCurrentVersion:
      return "current_version";
    case RequestKind::kUpload:
      return "upload";
    case RequestKind::kSelect:
      return "select";
    case RequestKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string OutcomeName(ErrorCode code) {
  if (code == ErrorCode::kOk) return "ok";
  std::string name(ErrorCodeName(code));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

RequestMetrics::RequestMetrics() {
  for (auto& h : latency_) h = std::make_unique<Histogram>(Histogram::LatencyMicros());
}

void RequestMetrics::Record(std::optional<RequestKind> kind, ErrorCode outcome, uint64_t micros) {
  size_t k = kind ? static_cast<size_t>(*kind) : kKinds - 1;
  size_t o = static_cast<size_t>(outcome);
  if (o >= kOutcomes) o = static_cast<size_t>(ErrorCode::kInternal);
  counts_[k][o].Add();
  latency_[k]->Observe(micros);
}

void RequestMetrics::Write(PrometheusWriter& w) const {
  auto kind_name = [](size_t k) -> std::string {
    if (k == kKinds - 1) return "invalid";
    return std::string(RequestKindName(static_cast<RequestKind>(k)));
  };
  w.Family("ormdb_requests_total", "counter",
           "Requests answered, by kind and outcome (ok or the error code).");
  for (size_t k = 0; k < kKinds; ++k) {
    for (size_t o = 0; o < kOutcomes; ++o) {
      uint64_t n = counts_[k][o].value();
      if (n == 0) continue;
      w.Sample("ormdb_requests_total",
               {{"kind", kind_name(k)}, {"outcome", OutcomeName(static_cast<ErrorCode>(o))}},
               static_cast<double>(n));
    }
  }
  w.Family("ormdb_request_duration_seconds", "histogram",
           "Time from a request's arrival to its reply being handed to the transport, by kind.");
  for (size_t k = 0; k < kKinds; ++k) {
    observability::HistogramSnapshot h = latency_[k]->Snapshot();
    if (h.count() == 0) continue;
    w.HistogramSamples("ormdb_request_duration_seconds", {{"kind", kind_name(k)}}, h, kMicros);
  }
  CounterFamily(w, "ormdb_slow_queries_total",
                "Fetches slower than slow_query_ms, logged with their EXPLAIN ANALYZE.",
                slow_queries_.value());
}

std::string RenderMetrics(const RequestMetrics& requests, const ServerStats& s,
                          const db::EngineMetrics& e, const audit::AuditMetrics* audit) {
  PrometheusWriter w;
  requests.Write(w);
  // Connections and the server's own state.
  GaugeFamily(w, "ormdb_connections", "Open client connections.", s.connections);
  CounterFamily(w, "ormdb_connections_refused_total", "Connections refused over max_connections.",
                s.connections_refused);
  CounterFamily(w, "ormdb_request_frames_total", "Well-formed request frames received.", s.frames);
  CounterFamily(w, "ormdb_resends_answered_total",
                "Write requests answered from the request id cache (a resend).",
                s.resends_answered);
  CounterFamily(w, "ormdb_chunked_replies_total", "Replies sent in chunks (over max_frame_bytes).",
                s.chunked_replies);
  GaugeFamily(w, "ormdb_continuations", "Parked large replies waiting to be pulled.",
              s.open_continuations);
  GaugeFamily(w, "ormdb_continuation_bytes", "Bytes of the parked large replies.",
              s.continuation_bytes);
  GaugeFamily(w, "ormdb_uploads", "Uploads of large requests in progress.", s.open_uploads);
  GaugeFamily(w, "ormdb_waiting_watches", "Long-poll watches parked, waiting for a commit.",
              s.waiting_watches);
  // Fetches.
  CounterFamily(w, "ormdb_fetches_total", "Graph fetches run.", e.fetches);
  CounterFamily(w, "ormdb_fetch_entities_total", "Entities in the results of graph fetches.",
                e.fetch_entities);
  CounterFamily(w, "ormdb_fetch_edges_total", "Edges in the results of graph fetches.",
                e.fetch_edges);
  CounterFamily(w, "ormdb_fetch_bytes_total",
                "Bytes of ids and field values in the results of graph fetches.", e.fetch_bytes);
  CounterFamily(w, "ormdb_fetch_scanned_rows_total",
                "Rows, index entries and edges read by the aggregates of graph fetches.",
                e.fetch_scanned_rows);
  CounterFamily(w, "ormdb_fetch_reads_total",
                "Rows, index entries and edges read by graph fetches, all steps and aggregates.",
                e.fetch_reads);
  CounterFamily(w, "ormdb_fetches_truncated_total",
                "Graph fetches cut short by their budget (on_exceed truncate).",
                e.fetches_truncated);
  CounterFamily(w, "ormdb_plan_cache_hits_total", "Fetch plans found in the plan cache.",
                e.plan_cache_hits);
  CounterFamily(w, "ormdb_plan_cache_misses_total", "Fetch plans compiled (not in the cache).",
                e.plan_cache_misses);
  GaugeFamily(w, "ormdb_plan_cache_entries", "Plans in the plan cache.", e.plan_cache_entries);
  // Commits.
  const storage::StoreStats& st = e.store;
  CounterFamily(w, "ormdb_commits_total", "Write transactions committed and acknowledged.",
                st.transactions_committed);
  CounterFamily(w, "ormdb_commits_failed_total", "Write transactions rolled back by their error.",
                st.transactions_failed);
  CounterFamily(w, "ormdb_group_commits_total",
                "LMDB commits of the group-commit writer (one fsync each when durable).",
                st.group_commits);
  w.Family("ormdb_commit_group_size", "histogram", "Write transactions per group commit.");
  w.HistogramSamples("ormdb_commit_group_size", {}, st.group_sizes);
  w.Family("ormdb_commit_duration_seconds", "histogram",
           "Time of each group commit's LMDB commit: its page writes and fsync.");
  w.HistogramSamples("ormdb_commit_duration_seconds", {}, st.commit_micros, kMicros);
  GaugeFamily(w, "ormdb_current_version", "The latest committed version.", st.current_version);
  GaugeFamily(w, "ormdb_oldest_readable_version", "The oldest version still readable (retention).",
              st.oldest_readable_version);
  GaugeFamily(w, "ormdb_pinned_versions", "Versions pinned by readers and subscribers.",
              st.pinned_versions);
  // Vacuum.
  CounterFamily(w, "ormdb_vacuums_total", "Vacuum runs finished.", st.vacuums);
  w.Family("ormdb_vacuum_removed_total", "counter",
           "What vacuum runs removed, by table: row versions, index entries, edges (both "
           "directions), change-log entries, recorded request outcomes.");
  const std::pair<const char*, uint64_t> removed[] = {
      {"row_versions", st.vacuum_row_versions_removed},
      {"index_entries", st.vacuum_index_entries_removed},
      {"edges", st.vacuum_edges_removed},
      {"log_entries", st.vacuum_log_entries_removed},
      {"requests", st.vacuum_request_entries_removed}};
  for (const auto& [table, n] : removed) {
    w.Sample("ormdb_vacuum_removed_total", {{"table", table}}, static_cast<double>(n));
  }
  w.Family("ormdb_vacuum_duration_seconds", "histogram", "Time of each vacuum run.");
  w.HistogramSamples("ormdb_vacuum_duration_seconds", {}, st.vacuum_micros, kMicros);
  // The row cache.
  CounterFamily(w, "ormdb_row_cache_hits_total", "Point reads of a row answered by the row cache.",
                st.row_cache.hits);
  CounterFamily(w, "ormdb_row_cache_misses_total",
                "Point reads of a row that went to the B-tree (row cache on).",
                st.row_cache.misses);
  CounterFamily(w, "ormdb_row_cache_evictions_total",
                "Rows evicted from the row cache to stay within row_cache_mb.",
                st.row_cache.evictions);
  CounterFamily(w, "ormdb_row_cache_invalidations_total",
                "Cached rows dropped because a commit changed them.", st.row_cache.invalidations);
  GaugeFamily(w, "ormdb_row_cache_bytes", "Memory held by the row cache's rows.",
              st.row_cache.bytes);
  GaugeFamily(w, "ormdb_row_cache_entries", "Rows in the row cache.", st.row_cache.entries);
  // The map.
  GaugeFamily(w, "ormdb_map_size_bytes", "The LMDB map size.", st.map_size);
  GaugeFamily(w, "ormdb_map_used_bytes", "Bytes of the map in use (up to the last page written).",
              st.map_used);
  CounterFamily(w, "ormdb_map_grows_total", "Times the map was grown.", st.map_grows);
  // Change streams.
  GaugeFamily(w, "ormdb_change_stream_subscribers", "Named change-stream subscribers with a pin.",
              e.subscribers);
  GaugeFamily(w, "ormdb_change_stream_max_lag_versions",
              "Versions the slowest named subscriber is behind the current version.",
              e.subscriber_max_lag);
  // The audit log, when it is on.
  if (audit != nullptr) {
    CounterFamily(w, "ormdb_audit_lines_total", "Lines written to the audit log.",
                  audit->lines.value());
    CounterFamily(w, "ormdb_audit_failures_total",
                  "Audit log appends that failed (the request's line is not in the log; a write "
                  "was not acknowledged).",
                  audit->failures.value());
    w.Family("ormdb_audit_sync_duration_seconds", "histogram",
             "Time of each audit line's write, and of its fdatasync for a write request.");
    w.HistogramSamples("ormdb_audit_sync_duration_seconds", {}, audit->append_micros.Snapshot(),
                       kMicros);
  }
  return w.text();
}

}  // namespace ormdb::server
