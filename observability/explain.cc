#include "observability/explain.h"

#include "common/json.h"
#include "observability/number_format.h"

namespace ormdb::observability {
namespace {

std::string OnExceedText(const ExplainBudget& b) {
  return b.on_exceed_error ? "error" : "truncate";
}

std::string OperationText(const ExplainStep& s) {
  std::string op = s.operation;
  if (!s.index.empty()) {
    op += " on " + s.index;
    if (s.backward) op += " backward";
  }
  if (!s.note.empty()) op += " " + s.note;
  return op;
}

}  // namespace

std::string RenderExplainText(const ExplainReport& r) {
  std::string out;
  out += "fetch " + r.entity + " at version " + std::to_string(r.version) + ", schema " +
         std::to_string(r.schema) + "\n";
  out += std::string("plan cache: ") + (r.cache_hit ? "hit" : "miss (compiled)") + "\n";
  out += "budget: entities " + std::to_string(r.budget.entities) + ", edges " +
         std::to_string(r.budget.edges) + ", depth " + std::to_string(r.budget.depth) + ", bytes " +
         std::to_string(r.budget.bytes) +
         (r.has_aggregates ? ", scanned rows " + std::to_string(r.budget.scanned_rows) : "") +
         ", on exceed " + OnExceedText(r.budget) + "\n";
  out += "estimate: " + FormatEstimate(r.estimated_entities) + " entities, " +
         FormatEstimate(r.estimated_edges) + " edges, depth " + std::to_string(r.max_depth) +
         (r.has_aggregates ? ", " + FormatEstimate(r.estimated_scanned) + " scanned rows" : "") +
         "\n";
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const ExplainStep& s = r.steps[i];
    out += std::to_string(i + 1) + ". " + std::string(2 * s.depth, ' ') + s.path +
           (s.arguments.empty() ? "" : " " + s.arguments) + "\n";
    std::string pad(3 + 2 * s.depth + (i + 1 >= 10 ? 1 : 0), ' ');
    out += pad + "operation: " + OperationText(s) + (s.sort ? ", then sort" : "") + "\n";
    out += pad + "why: " + s.reason + "\n";
    out += pad + "estimated: " + FormatEstimate(s.estimated_rows) + " rows, " +
           FormatEstimate(s.estimated_reads) + " reads, cost " + FormatEstimate(s.estimated_cost) +
           "\n";
    if (!s.actual) continue;
    const ExplainActual& a = *s.actual;
    if (!a.run) {
      out += pad + "actual: not run (the fetch stopped before it)\n";
    } else {
      out += pad + "actual: " + std::to_string(a.rows) + " rows, " + std::to_string(a.reads) +
             " reads, " + std::to_string(a.parents) + " parents, " + std::to_string(a.batches) +
             " batch" + (a.batches == 1 ? "" : "es") + ", " + FormatMillis(a.micros) + "\n";
    }
  }
  if (r.used) {
    const ExplainUsage& u = *r.used;
    out += "budget used: entities " + std::to_string(u.entities) + "/" +
           std::to_string(r.budget.entities) + ", edges " + std::to_string(u.edges) + "/" +
           std::to_string(r.budget.edges) + ", bytes " + std::to_string(u.bytes) + "/" +
           std::to_string(r.budget.bytes) +
           (r.has_aggregates ? ", scanned rows " + std::to_string(u.scanned_rows) + "/" +
                                   std::to_string(r.budget.scanned_rows)
                             : "") +
           (u.truncated ? ", truncated at " + u.truncated_at : "") + "\n";
    out += "total: " + FormatMillis(u.total_micros) + "\n";
  }
  return out;
}

std::string RenderExplainJson(const ExplainReport& r) {
  Json root = Json::Object();
  root.Set("version", static_cast<int64_t>(r.version));
  root.Set("schema", static_cast<int64_t>(r.schema));
  root.Set("plan_cache", r.cache_hit ? "hit" : "miss");
  Json budget = Json::Object();
  budget.Set("entities", static_cast<int64_t>(r.budget.entities));
  budget.Set("edges", static_cast<int64_t>(r.budget.edges));
  budget.Set("depth", static_cast<int64_t>(r.budget.depth));
  budget.Set("bytes", static_cast<int64_t>(r.budget.bytes));
  if (r.has_aggregates) {
    budget.Set("scanned_rows", static_cast<int64_t>(r.budget.scanned_rows));
  }
  budget.Set("on_exceed", OnExceedText(r.budget));
  root.Set("budget", std::move(budget));
  Json est = Json::Object();
  est.Set("entities", r.estimated_entities);
  est.Set("edges", r.estimated_edges);
  root.Set("estimate", std::move(est));
  Json steps = Json::Array();
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const ExplainStep& s = r.steps[i];
    Json j = Json::Object();
    j.Set("step", static_cast<int64_t>(i + 1));
    j.Set("path", s.path);
    j.Set("depth", static_cast<int64_t>(s.depth));
    j.Set("operation", s.operation);
    if (!s.index.empty()) {
      j.Set("index", s.index);
      j.Set("direction", s.backward ? "backward" : "forward");
    }
    j.Set("sort", s.sort);
    j.Set("reason", s.reason);
    j.Set("estimated_rows", s.estimated_rows);
    j.Set("estimated_reads", s.estimated_reads);
    j.Set("estimated_cost", s.estimated_cost);
    if (s.actual) {
      const ExplainActual& a = *s.actual;
      Json aj = Json::Object();
      aj.Set("run", a.run);
      aj.Set("rows", static_cast<int64_t>(a.rows));
      aj.Set("reads", static_cast<int64_t>(a.reads));
      aj.Set("parents", static_cast<int64_t>(a.parents));
      aj.Set("batches", static_cast<int64_t>(a.batches));
      aj.Set("time_ms", a.micros / 1000);
      j.Set("actual", std::move(aj));
    }
    steps.Push(std::move(j));
  }
  root.Set("steps", std::move(steps));
  if (r.used) {
    const ExplainUsage& u = *r.used;
    Json used = Json::Object();
    used.Set("entities", static_cast<int64_t>(u.entities));
    used.Set("edges", static_cast<int64_t>(u.edges));
    used.Set("bytes", static_cast<int64_t>(u.bytes));
    if (r.has_aggregates) used.Set("scanned_rows", static_cast<int64_t>(u.scanned_rows));
    used.Set("truncated", u.truncated);
    if (u.truncated) used.Set("truncated_at", u.truncated_at);
    root.Set("budget_used", std::move(used));
    root.Set("time_ms", u.total_micros / 1000);
  }
  return ToJson(root);
}

}  // namespace ormdb::observability
