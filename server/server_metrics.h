// The server's request metrics: requests by kind and outcome, and latency
// by kind, counted lock-free where each reply is sent; and the rendering of
// every metric of a serving process (the server's, the engine's, the
// connections') as GET /metrics answers them
// (docs/reference/observability.md "Metrics").
//
// Thread-safety: Record from any thread; Render from any thread.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "db/engine.h"
#include "observability/metrics.h"
#include "observability/prometheus.h"
#include "ormdb/status.h"
#include "protocol/codec.h"

namespace ormdb::server {

struct ServerStats;

// The `kind` label of a request ("fetch", "mutate", ...); "invalid" for a
// frame that did not decode.
std::string_view RequestKindName(protocol::RequestKind kind);
// The `outcome` label: "ok" or the error code in lower case
// ("invalid_argument").
std::string OutcomeName(ErrorCode code);

class RequestMetrics {
 public:
  RequestMetrics();
  // One request answered: `kind` nullopt for a frame that did not decode.
  void Record(std::optional<protocol::RequestKind> kind, ErrorCode outcome, uint64_t micros);
  // Slow fetches logged (ServerOptions::slow_query_ms).
  void RecordSlowQuery() { slow_queries_.Add(); }
  void Write(observability::PrometheusWriter& w) const;

 private:
  // Kinds of protocol::RequestKind, plus one for frames that did not decode.
  static constexpr size_t kKinds = static_cast<size_t>(protocol::RequestKind::kUnknown) + 2;
  static constexpr size_t kOutcomes = static_cast<size_t>(ErrorCode::kInternal) + 1;
  std::array<std::array<observability::Counter, kOutcomes>, kKinds> counts_;
  std::array<std::unique_ptr<observability::Histogram>, kKinds> latency_;
  observability::Counter slow_queries_;
};

// The whole text of GET /metrics: `requests`, the server's `stats`, the
// engine's `engine` metrics, and the audit log's (`audit`: null when the
// audit log is off, and its families are left out).
std::string RenderMetrics(const RequestMetrics& requests, const ServerStats& stats,
                          const db::EngineMetrics& engine,
                          const audit::AuditMetrics* audit = nullptr);

}  // namespace ormdb::server
