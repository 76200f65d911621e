// The audit log (DESIGN.md §10, docs/reference/audit.md): one JSON line per
// request, who did what to which entity types, chained by SHA-256 so that a
// removed, altered or reordered line is detected by VerifyAuditLog
// (`ormdb audit verify`).
//
// On disk: a directory of files audit-000001.jsonl, audit-000002.jsonl, ...
// Each line is a compact JSON object
//   {"time":"2026-12-05T21:15:58.123456Z","principal":{"id":7,"roles":["user"]},
//    ["impersonator":{"key":"backend"},]  (only when the request named its principal)
//    "operation":"fetch","entities":["Post"],"fields":["Post.title"],"rows":12,
//    "shape":"9c1f...","params":["author"],"outcome":"ok","version":41,
//    "prev":"<64 hex digits>"}
// ending in '\n'. "prev" is the hex SHA-256 of the previous line's bytes
// (without its '\n'); the first line of the log has 64 zeros, and the first
// line of each later file continues the chain from the last line of the
// file before it. A file is rotated when the next line would take it past
// AuditOptions::max_file_bytes.
//
// The chain proves order and integrity of what it holds, not that its end
// is still there: cutting lines off the end leaves a valid shorter chain.
// VerifyReport::last_hash is the value to record elsewhere (a ticket, a
// second machine) to catch that.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "observability/metrics.h"
#include "ormdb/status.h"

namespace ormdb::audit {

// One request, as the audit log records it. Parameter values and row data
// never appear: names, counts and hashes only.
struct AuditRecord {
  // UTC microseconds since the Unix epoch; 0: the time of Append.
  int64_t time_micros = 0;
  // Principal::ToJson() of who the request acted for ("null": anonymous).
  // Must be valid JSON (Append refuses anything else).
  std::string principal_json = "null";
  // Who named that principal when the request acted for one it named
  // (impersonation: the server's actAs), as JSON: {"key":"backend"}, ...
  // Empty: the request acted for its own principal, and the line has no
  // "impersonator" member. Must be valid JSON when set.
  std::string impersonator_json;
  // "fetch", "select", "mutate", "schema apply", "export", ...
  std::string operation;
  // The entity types and the fields ("Post.title") read or written.
  std::vector<std::string> entities;
  std::vector<std::string> fields;
  // Rows returned (reads) or written (writes).
  uint64_t rows = 0;
  // The query's shape hash; empty: none (written as null).
  std::string shape;
  // The names of the query's parameters (never their values).
  std::vector<std::string> params;
  // "ok", "denied" or "error".
  std::string outcome = "ok";
  // The database version the request read or committed.
  uint64_t version = 0;
  // Whether Append returns only once the line is on stable storage
  // (fdatasync). True for writes: no write is acknowledged unaudited. A
  // read may pass false: its line is written at once but synced with the
  // next synced line (or Sync, or rotation), so a crash can lose the lines
  // of the last reads, never of a write.
  bool sync = true;
};

struct AuditOptions {
  // A file is closed and the next one started when a line would take it
  // past this size (a single larger line still gets a file of its own).
  // Default 64 MiB: large enough that rotation is rare, small enough to
  // copy and grep.
  uint64_t max_file_bytes = uint64_t{64} << 20;
};

// What a log has written since it was opened, for GET /metrics
// (docs/reference/observability.md): updated by Append, read from any
// thread.
struct AuditMetrics {
  // Lines written (Append returned OK).
  observability::Counter lines;
  // Appends that returned an error: their line is not in the log.
  observability::Counter failures;
  // For each line written: the time of its write, and of its fdatasync when
  // the record asked for one (plus a rotation when it started a file), in
  // microseconds. Waiting for the log's mutex is not included.
  observability::Histogram append_micros{observability::Histogram::LatencyMicros()};
};

// The writer of one audit directory. One AuditLog per directory per
// process; two processes appending to one directory would fork the chain
// (not checked).
//
// Thread-safety: Append and Sync may be called from any thread; one mutex
// serializes them, so the chain order is the order of Append calls and a
// synced append waits for its fdatasync (and for the one before it).
class AuditLog {
 public:
  // Opens `dir` (created when missing) and continues its chain: the hash of
  // the last complete line of the newest file (or of the file before it
  // when that one is empty). A torn last line (no '\n': the process died
  // while writing it, so it was never acknowledged) is cut off. The older
  // lines are not re-read: VerifyAuditLog does that.
  // Errors: UNAVAILABLE "audit log: ..." when the directory or a file
  // cannot be created, read or written; INTERNAL when the newest line is
  // not an audit line (run `ormdb audit verify`).
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& dir,
                                                const AuditOptions& options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line (and fdatasyncs when record.sync). On failure (ENOSPC,
  // EIO, EFBIG, ...) returns UNAVAILABLE "audit log: ..." and cuts the file
  // back to its last complete line, so the chain stays verifiable and the
  // next Append may succeed; a caller fails the request closed (a write is
  // not committed, or not acknowledged). When even the cut fails, the log
  // refuses every later Append until it is reopened (Open repairs a torn
  // end). INVALID_ARGUMENT for a principal_json that is not JSON.
  Status Append(const AuditRecord& record) EXCLUDES(mu_);

  // fdatasyncs the lines appended with sync = false.
  Status Sync() EXCLUDES(mu_);

  // The hex SHA-256 of the last line written (64 zeros for an empty log).
  std::string last_hash() const EXCLUDES(mu_);
  // The file being appended to ("audit-000003.jsonl").
  std::string current_file() const EXCLUDES(mu_);
  // Counted by Append; lives as long as the log.
  const AuditMetrics& metrics() const { return metrics_; }

 private:
  AuditLog(std::string dir, AuditOptions options);
  Status OpenFileLocked(uint64_t number, bool create) REQUIRES(mu_);
  Status SyncLocked() REQUIRES(mu_);
  Status AppendUncounted(const AuditRecord& record) EXCLUDES(mu_);

  const std::string dir_;
  const AuditOptions options_;
  mutable Mutex mu_;
  int fd_ GUARDED_BY(mu_) = -1;
  uint64_t file_number_ GUARDED_BY(mu_) = 0;
  uint64_t file_bytes_ GUARDED_BY(mu_) = 0;
  bool unsynced_ GUARDED_BY(mu_) = false;  // lines written since the last fdatasync
  std::string broken_ GUARDED_BY(mu_);     // why Append refuses, or empty
  std::string prev_hash_ GUARDED_BY(mu_);  // hex SHA-256 of the last line
  AuditMetrics metrics_;
};

// The hex SHA-256 of `bytes` (64 digits): the chain's hash, also what the
// server hashes a principal's identity with (OpenSSL stays in audit/ and
// auth/).
std::string Sha256Hex(std::string_view bytes);

// "audit-000001.jsonl" for 1.
std::string AuditFileName(uint64_t number);

struct VerifyReport {
  bool ok = true;
  // The first problem found, naming file and line:
  //   "line 7 of audit-000001.jsonl: chain broken (a line was removed,
  //    altered or reordered before it)"
  //   "line 3 of audit-000002.jsonl: not JSON (...)"
  //   "audit-000002.jsonl is missing (audit-000001.jsonl is followed by
  //    audit-000003.jsonl)"
  std::string problem;
  uint64_t lines = 0;  // lines verified before the problem (all when ok)
  uint64_t files = 0;  // files looked at
  // The hash of the last verified line: record it elsewhere to detect a
  // later truncation of the log's end.
  std::string last_hash;
};

// Reads every file of `dir` in order and checks each line's "prev" against
// the hash of the line before. A problem in the log is a report with ok =
// false (the function succeeded: the log is bad); an error is when the log
// cannot be read at all: NOT_FOUND for a missing directory or one without
// audit files, UNAVAILABLE for an I/O error.
Result<VerifyReport> VerifyAuditLog(const std::string& dir);

// Calls `fn` with each of the last `n` lines of the log, oldest first,
// without their '\n' (and without a torn last line). Reads only the newest
// files, backwards from their end. NOT_FOUND for a missing directory or one
// without audit files; UNAVAILABLE for an I/O error.
Status Tail(const std::string& dir, size_t n, const std::function<void(std::string_view)>& fn);

}  // namespace ormdb::audit
