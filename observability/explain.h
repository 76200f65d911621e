// EXPLAIN as a report: what a plan will do (and, with ANALYZE, what running
// it did) in a structure that knows nothing of plans, and its two renderings,
// text for people and JSON for programs. query/explain.cc fills the report
// from a compiled plan; this module sits below query/ and never includes it.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ormdb::observability {

// What running one step did (EXPLAIN ANALYZE).
struct ExplainActual {
  bool run = false;      // false: the fetch stopped before the step
  uint64_t rows = 0;     // rows the step returned
  uint64_t reads = 0;    // index entries, edges or rows read
  uint64_t parents = 0;  // distinct parent rows expanded
  uint64_t batches = 0;  // batches of lookups
  double micros = 0;
};

// One step of a plan: the root or an include.
struct ExplainStep {
  std::string path;       // "User.posts"
  int depth = 0;          // includes below the root
  std::string arguments;  // "where order [created_at desc] limit" ("": none)
  std::string operation;  // the access path: "index range"
  std::string index;      // the index it reads ("": none)
  bool backward = false;  // with an index: read in descending order
  // Appended to the operation in the text form only ("backward" for a scan
  // in descending id order, "(forward)" for an edge range); "": nothing.
  std::string note;
  bool sort = false;   // the rows are sorted after they are read
  std::string reason;  // why this access path
  double estimated_rows = 0;
  double estimated_reads = 0;
  double estimated_cost = 0;
  std::optional<ExplainActual> actual;
};

// The limits of one fetch.
struct ExplainBudget {
  uint64_t entities = 0;
  uint64_t edges = 0;
  uint64_t depth = 0;
  uint64_t bytes = 0;
  bool on_exceed_error = true;  // false: truncate
  uint64_t scanned_rows = 0;    // shown when the plan has aggregates
};

// What a fetch used of its budget (EXPLAIN ANALYZE).
struct ExplainUsage {
  uint64_t entities = 0;
  uint64_t edges = 0;
  uint64_t bytes = 0;
  bool truncated = false;
  std::string truncated_at;  // the include path where a truncation stopped
  double total_micros = 0;
  uint64_t scanned_rows = 0;  // read by aggregates
};

struct ExplainReport {
  std::string entity;  // the root entity
  uint64_t version = 0;
  uint64_t schema = 0;
  bool cache_hit = false;
  ExplainBudget budget;
  double estimated_entities = 0;
  double estimated_edges = 0;
  int max_depth = 0;
  // Aggregates are steps too (after the includes); the scanned rows budget
  // is shown only when there are some.
  bool has_aggregates = false;
  double estimated_scanned = 0;
  std::vector<ExplainStep> steps;
  std::optional<ExplainUsage> used;  // ANALYZE only
};

// Lines for people:
//   fetch User at version 12, schema 1
//   plan cache: miss (compiled)
//   budget: entities 100000, edges 1000000, depth 16, bytes 67108864, on exceed error
//   estimate: 3 entities, 2 edges, depth 1
//   1. User where
//      operation: index range on User(email), then sort
//      why: ...
//      estimated: 1 rows, 1 reads, cost 3
//      actual: 1 rows, 1 reads, 1 parents, 1 batch, 0.012 ms      (ANALYZE)
//   budget used: entities 3/100000, ...                            (ANALYZE)
//   total: 0.100 ms                                                (ANALYZE)
std::string RenderExplainText(const ExplainReport& report);

// One JSON object: {"version", "schema", "plan_cache", "budget", "estimate",
// "steps": [{"step", "path", "depth", "operation", ["index", "direction"],
// "sort", "reason", "estimated_rows", "estimated_reads", "estimated_cost",
// ["actual"]}], ["budget_used", "time_ms"]}.
std::string RenderExplainJson(const ExplainReport& report);

}  // namespace ormdb::observability
