// ormdb::Database: the application's handle on a database.
//
// One interface, two implementations: Database::Open runs the database in
// this process on a data directory (embedded); a remote implementation over
// the network serves the same calls with the same results. Requests and
// results are the JSON forms of docs/reference (mutations.md, json.md), so a
// program can move between embedded and remote use without changes.
//
// Errors are Status codes (common/status.h): INVALID_ARGUMENT and
// SCHEMA_ERROR mean fix the request, CONFLICT and UNAVAILABLE mean retry,
// CONSTRAINT_VIOLATION means the data would break a rule, NOT_FOUND that a
// row or directory does not exist, INTERNAL a bug or a damaged file.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ormdb/fetch.h"
#include "ormdb/principal.h"
#include "ormdb/select.h"
#include "ormdb/status.h"

namespace ormdb {

// Progress of long work (index builds, imports): phase, units done, total
// (0 when unknown).
using ProgressFn = std::function<void(std::string_view phase, uint64_t done, uint64_t total)>;

struct OpenOptions {
  // Create the data directory when missing (read-only tools pass false and
  // get NOT_FOUND instead).
  bool create_if_missing = true;
  // LMDB map: the initial size and the ceiling it may grow to (bytes).
  size_t initial_map_size = size_t{64} << 20;
  size_t max_map_size = size_t{1} << 40;
  // The database's fetch budget: the default of every fetch, and the most a
  // fetch may ask for (FetchOptions can only lower it).
  FetchBudget budget;
  // Compiled plans kept for reuse, keyed by query shape (0 disables the cache).
  size_t plan_cache_entries = 1024;
  // History retention (as-of reads, change-stream resume): a version stays
  // readable while it is among the newest retention_versions versions or
  // was committed in the last retention_seconds (0 disables a rule).
  // Defaults: one hour, no count rule.
  uint64_t retention_versions = 0;
  int64_t retention_seconds = 3600;
  // Process memory for the row cache: the newest version of recently read
  // rows, so that a hot row is read without descending the B-tree. Every
  // commit drops the rows it changed; it never changes what a read returns.
  // 0 turns it off. Default 64 MiB.
  size_t row_cache_bytes = size_t{64} << 20;
  // A named change-stream subscriber pins the history after its last token,
  // so vacuum keeps what it has not read yet, until it falls more than
  // subscriber_max_lag_versions behind the current version or has not
  // polled for subscriber_idle_seconds: then the pin is released and, once
  // vacuum passes its token, it gets HISTORY_LOST rather than holding the
  // disk forever. Defaults: one million versions, ten minutes.
  uint64_t subscriber_max_lag_versions = 1000000;
  int64_t subscriber_idle_seconds = 600;
};

// How to reach a server (Database::Connect).
struct ConnectOptions {
  // The API key, when the server has keys configured (UNAUTHENTICATED
  // otherwise).
  std::string key;
  // A JSON Web Token sent with every request: the server verifies it (its
  // config's "jwt") and serves the requests for the principal it names
  // (docs/reference/policies.md). With a key, the key must not name a
  // principal of its own. Empty (the default): none. Connect fails with
  // INVALID_ARGUMENT when the server predates tokens.
  std::string token;
  // tls+tcp:// URLs: the PEM file of the certificate authorities to trust
  // (empty: the system's, /etc/ssl/certs/ca-certificates.crt; Connect fails
  // with INVALID_ARGUMENT when there is none) and the name the certificate
  // must carry (default: the URL's host). The server is always verified; a
  // self-signed server is trusted by giving its certificate as the CA file.
  std::string tls_ca_file;
  std::string tls_server_name;
  // How long a request may wait for its reply before UNAVAILABLE. A watch's
  // long-poll wait is added to it.
  std::chrono::milliseconds request_timeout{60000};
};

// A change-stream pull (docs/reference/json.md).
struct WatchOptions {
  // Entities whose events are wanted, with the relations that have one of
  // them on either side; empty = every event.
  std::vector<std::string> entities;
  // Events after this version (a resume token, or a fetch result's
  // version); nullopt = from the current version.
  std::optional<uint64_t> from;
  // Return once at least one event is available, or after this long with
  // none (long-poll). Zero: return at once.
  std::chrono::milliseconds wait{0};
  // Stop after the transaction that reaches this many events (a transaction
  // is never split, so a batch may hold more).
  size_t max_events = 1000;
  // A stable name for this subscriber (empty: anonymous). A named
  // subscriber's position pins the change log (OpenOptions::
  // subscriber_max_lag_versions).
  std::string subscriber;
};

struct WatchBatch {
  // One JSON object per event, in commit order (docs/reference/json.md).
  std::vector<std::string> events;
  // The resume token: every event at or below it has been delivered (or
  // filtered out). Pass it as WatchOptions::from to continue.
  uint64_t token = 0;
};

struct CheckResult {
  std::vector<std::string> problems;  // empty when every invariant holds
  std::string summary;                // "ok: version 12, 40 row versions, ..."
};

struct SchemaChange {
  char grade = 'A';  // 'A'..'D', see docs/reference/schema.md
  std::string description;
};

struct MigrationReport {
  char grade = 'A';
  std::vector<SchemaChange> changes;
  bool applied = false;         // false for a dry run or an unchanged schema
  uint32_t schema_version = 0;  // current after the call
  uint64_t commit_version = 0;  // the schema change's commit (0 when not applied)
  uint64_t indexes_built = 0;
  uint64_t rows_indexed = 0;
  // "grade: B\n[A] ...\n[B] ...\n" (docs/reference/schema.md).
  std::string ToText() const;
  std::string ToJson() const;
};

struct ApplySchemaOptions {
  bool dry_run = false;
  bool allow_destructive = false;
  std::string file_name = "schema";  // used in error positions
  ProgressFn progress;
};

struct SchemaVersionInfo {
  uint32_t schema_version = 0;
  uint64_t commit_version = 0;
  int64_t time_micros = 0;
  char grade = 'A';
  std::string summary;
};

struct WriteOptions {
  // An idempotency key (empty: none): at most 400 bytes embedded, 256
  // through a server, which scopes it to the principal. It is recorded in
  // the write's own transaction: a later write with the same key, while
  // that transaction is within the history retention (OpenOptions::
  // retention_*), is not applied again and returns the first write's
  // outcome — also after a crash or restart. Retry a write whose outcome
  // you did not learn (a timeout, a lost connection) with the same key.
  std::string request_key;
};

struct MutationResult {
  uint64_t version = 0;
  std::string json;  // {"version":..,"refs":{..},"results":[..]}
};

struct ImportOptions {
  enum class Format { kJsonLines, kCsv };
  Format format = Format::kJsonLines;
  ProgressFn progress;
  // As WriteOptions::request_key: an import retried with the same key is
  // written once.
  std::string request_key;
};

struct ExplainOptions {
  bool analyze = false;  // run the query and report actual rows and times
  bool json = false;     // JSON instead of text
  FetchOptions fetch;    // Explain
  SelectOptions select;  // ExplainSelect
};

struct ImportReport {
  uint64_t rows = 0;  // rows (or links) written
  uint64_t version = 0;
};

class Database {
 public:
  // Opens (creating if allowed) the data directory `dir` in this process.
  // UNAVAILABLE when another process holds it; NOT_FOUND when missing and
  // !create_if_missing.
  static Result<std::unique_ptr<Database>> Open(const std::string& dir,
                                                const OpenOptions& options = {});
  // Connects to a server (`ormdb serve`) at `url`: tcp://HOST:PORT,
  // ipc:///path or tls+tcp://HOST:PORT. The handshake runs at once:
  // UNAVAILABLE when nothing answers, UNAUTHENTICATED for a missing or wrong
  // key, INVALID_ARGUMENT for a malformed URL or a protocol version the
  // server does not speak.
  static Result<std::unique_ptr<Database>> Connect(const std::string& url,
                                                   const ConnectOptions& options = {});
  virtual ~Database() = default;

  // Plans and applies a schema (see docs/reference/schema.md). MIGRATION_REFUSED for a
  // destructive plan without consent; CONSTRAINT_VIOLATION (listing rows)
  // when existing data fails a B or C step: then nothing changes.
  virtual Result<MigrationReport> ApplySchema(std::string_view text,
                                              const ApplySchemaOptions& options = {}) = 0;
  // The current schema as schema text (re-parses to the same schema) or JSON.
  virtual Result<std::string> SchemaText() = 0;
  virtual Result<std::string> SchemaJson() = 0;
  virtual Result<std::vector<SchemaVersionInfo>> SchemaHistory() = 0;

  // Applies a mutation batch (docs/reference/mutations.md) as one transaction. With a
  // request key already recorded, returns the recorded outcome instead.
  virtual Result<MutationResult> Mutate(std::string_view batch_json,
                                        const WriteOptions& options = {}) = 0;

  // The row as a JSON object ("id" and every field), or nullopt when absent.
  // `id` is the row's id: 12, or for a uuid entity its uuid, quoted as JSON
  // or not.
  virtual Result<std::optional<std::string>> Get(std::string_view entity, std::string_view id) = 0;

  // Writes every row of an entity (one JSON object per line, id order), or
  // every pair of a many-to-many relation named "Entity.relation"
  // ({"from":..,"to":..}), on one snapshot. `sink` returning an error stops.
  virtual Status Export(std::string_view what,
                        const std::function<Status(std::string_view line)>& sink) = 0;

  // Reads what Export writes (or CSV with a header line of field names) and
  // writes it in one transaction: all or nothing. Ids given are kept. A bad
  // line fails with its line number and nothing is written.
  virtual Result<ImportReport> Import(std::string_view what, std::istream& in,
                                      const ImportOptions& options = {}) = 0;

  // Runs a graph fetch (docs/reference/queries.md): `query` is the text form, or the JSON
  // IR when it starts with '{'. `params_json` is a JSON object binding the
  // query's $params. Errors: INVALID_ARGUMENT (syntax with its position, a
  // bad parameter, value or cursor), SCHEMA_ERROR (an unknown name, with a
  // suggestion), BUDGET_EXCEEDED (OnExceed::kError), HISTORY_LOST (as_of or
  // a cursor below retention).
  virtual Result<std::unique_ptr<FetchResult>> Fetch(std::string_view query,
                                                     std::string_view params_json = "{}",
                                                     const FetchOptions& options = {}) = 0;
  // The plan of a fetch, step by step, with the reason for each access path;
  // with analyze, also what running it did (rows, batches, time, budget use).
  virtual Result<std::string> Explain(std::string_view query, std::string_view params_json = "{}",
                                      const ExplainOptions& options = {}) = 0;

  // Runs a select statement (relational mode, docs/reference/select.md):
  // `params_json` binds its $params. Errors as Fetch: INVALID_ARGUMENT (syntax
  // with its position, a type mismatch, an item neither grouped nor
  // aggregated, a bad cursor, a sum past int64), SCHEMA_ERROR (an unknown
  // name, with a suggestion), BUDGET_EXCEEDED (scanned or returned rows),
  // HISTORY_LOST (as_of or a cursor below retention).
  virtual Result<std::unique_ptr<SelectResult>> Select(std::string_view text,
                                                       std::string_view params_json = "{}",
                                                       const SelectOptions& options = {}) = 0;
  // The plan of a select (options.select; options.fetch is ignored): the
  // fetch that reads its rows (access path, index, estimated rows), then the
  // where, join, group, having, sort and limit steps; with analyze, the rows
  // each produced.
  virtual Result<std::string> ExplainSelect(std::string_view text,
                                            std::string_view params_json = "{}",
                                            const ExplainOptions& options = {}) = 0;

  // Pulls change events (docs/reference/json.md): every event after `options.from`
  // in commit order, no gaps, no duplicates, whole transactions.
  // HISTORY_LOST when `from` is below retention; INVALID_ARGUMENT when it
  // is beyond the current version; SCHEMA_ERROR for an unknown entity.
  virtual Result<WatchBatch> Watch(const WatchOptions& options) = 0;

  // {"current_version", "oldest_readable_version", "row_versions",
  // "index_entries", "edge_entries", "log_entries", "map_size", ...} as JSON.
  virtual Result<std::string> Stats() = 0;
  // Removes history older than the retention horizon (and not pinned);
  // returns what it removed as JSON.
  virtual Result<std::string> Vacuum() = 0;
  // Verifies the storage invariants on one snapshot.
  virtual Result<CheckResult> Check() = 0;

  // The newest committed version.
  virtual uint64_t CurrentVersion() = 0;

  // A handle on the same database that acts for `principal`: the schema's
  // access rules (docs/reference/policies.md) apply to everything it reads
  // and writes, and what only an administrator may do (schema apply,
  // export, import, vacuum, check) is PERMISSION_DENIED unless the
  // principal has the admin role (which bypasses the rules). The handle
  // Open returns is the owner's: no rule applies to it. PERMISSION_DENIED
  // when this handle itself acts for a principal without the admin or
  // impersonate role. A remote database's As returns a handle on the same
  // connection whose every request names `principal` (Request.actAs,
  // docs/PROTOCOL.md "Principals"); the server decides per request: a key
  // without the server role impersonate (or admin) gets PERMISSION_DENIED
  // for each. As itself fails only on a server that predates principals.
  // The view keeps the database open while it lives.
  virtual Result<std::unique_ptr<Database>> As(const Principal& principal) = 0;

  // Blocks until a version after `version` is committed or `timeout`
  // passes; returns the newest committed version then (0 on a transport
  // error of a remote database).
  virtual uint64_t WaitForVersionAfter(uint64_t version, std::chrono::milliseconds timeout) = 0;
};

}  // namespace ormdb
