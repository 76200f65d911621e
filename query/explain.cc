#include "query/explain.h"

#include <cmath>
#include <cstdio>

#include "common/json.h"

namespace ormdb::query {
namespace {

std::string Num(double v) {
  char buf[32];
  if (v >= 1e15) {
    std::snprintf(buf, sizeof buf, "%.3g", v);  // "%.0f" would not fit the buffer
  } else if (v >= 100 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  }
  return buf;
}

std::string Ms(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", micros / 1000);
  return buf;
}

std::string Operation(const Node& n) {
  std::string op(AccessName(n.access));
  if (n.range.index != nullptr &&
      (n.access == Access::kIndexRange || n.access == Access::kUniqueLookup ||
       n.access == Access::kChildIndex)) {
    op += " on " + n.range.index->name;
    if (n.range.backward) op += " backward";
  }
  if (n.access == Access::kScan && n.range.backward && n.order_is_id_only) op += " backward";
  if (n.access == Access::kEdgeRange) {
    op += n.edge_forward ? " (forward)" : " (backward)";
  }
  return op;
}

std::string Shape(const Node& n) {
  std::string s;
  if (n.has_where) s += " where";
  if (!n.order.empty()) {
    s += " order [";
    for (size_t i = 0; i < n.order.size(); ++i) {
      s += (i ? ", " : "") + n.paths[n.order[i].path].text +
           (n.order[i].descending ? " desc" : " asc");
    }
    s += "]";
  }
  if (n.limit_slot >= 0) s += " limit";
  if (n.after_slot >= 0) s += " after";
  return s;
}

bool Sorted(const Node& n) {
  bool covered = (n.access == Access::kIndexRange || n.access == Access::kChildIndex) &&
                 n.range.order_covered == n.order.size();
  covered = covered || n.order.empty() ||
            (n.order_is_id_only && (n.access == Access::kScan || n.access == Access::kEdgeRange));
  return !covered;
}

}  // namespace

std::string ExplainText(const ExplainInput& in) {
  const Plan& p = *in.plan;
  std::string out;
  out += "fetch " + p.nodes[0].entity->name + " at version " + std::to_string(in.snapshot) +
         ", schema " + std::to_string(p.schema->number()) + "\n";
  out += std::string("plan cache: ") + (in.cache_hit ? "hit" : "miss (compiled)") + "\n";
  out += "budget: entities " + std::to_string(in.budget.max_entities) + ", edges " +
         std::to_string(in.budget.max_edges) + ", depth " + std::to_string(in.budget.max_depth) +
         ", bytes " + std::to_string(in.budget.max_bytes) + ", on exceed " +
         (in.budget.on_exceed == OnExceed::kError ? "error" : "truncate") + "\n";
  out += "estimate: " + Num(p.est_entities) + " entities, " + Num(p.est_edges) + " edges, depth " +
         std::to_string(p.max_depth) + "\n";
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    out += std::to_string(i + 1) + ". " + std::string(2 * n.depth, ' ') + n.path + Shape(n) + "\n";
    std::string pad(3 + 2 * n.depth + (i + 1 >= 10 ? 1 : 0), ' ');
    out += pad + "operation: " + Operation(n) + (Sorted(n) ? ", then sort" : "") + "\n";
    out += pad + "why: " + n.reason + "\n";
    out += pad + "estimated: " + Num(n.est_rows) + " rows, " + Num(n.est_examined) +
           " reads, cost " + Num(n.est_cost) + "\n";
    if (in.stats != nullptr) {
      const NodeStats& s = (*in.stats)[i];
      if (!s.run) {
        out += pad + "actual: not run (the fetch stopped before it)\n";
      } else {
        out += pad + "actual: " + std::to_string(s.rows) + " rows, " + std::to_string(s.examined) +
               " reads, " + std::to_string(s.parents) + " parents, " + std::to_string(s.batches) +
               " batch" + (s.batches == 1 ? "" : "es") + ", " + Ms(s.micros) + "\n";
      }
    }
  }
  if (in.result != nullptr) {
    const FetchCounters& c = in.result->counters;
    out += "budget used: entities " + std::to_string(c.entities) + "/" +
           std::to_string(in.budget.max_entities) + ", edges " + std::to_string(c.edges) + "/" +
           std::to_string(in.budget.max_edges) + ", bytes " + std::to_string(c.bytes) + "/" +
           std::to_string(in.budget.max_bytes) +
           (c.truncated ? ", truncated at " + c.truncated_at : "") + "\n";
    out += "total: " + Ms(in.total_micros) + "\n";
  }
  return out;
}

std::string ExplainJson(const ExplainInput& in) {
  const Plan& p = *in.plan;
  Json root = Json::Object();
  root.Set("version", static_cast<int64_t>(in.snapshot));
  root.Set("schema", static_cast<int64_t>(p.schema->number()));
  root.Set("plan_cache", in.cache_hit ? "hit" : "miss");
  Json budget = Json::Object();
  budget.Set("entities", static_cast<int64_t>(in.budget.max_entities));
  budget.Set("edges", static_cast<int64_t>(in.budget.max_edges));
  budget.Set("depth", static_cast<int64_t>(in.budget.max_depth));
  budget.Set("bytes", static_cast<int64_t>(in.budget.max_bytes));
  budget.Set("on_exceed", in.budget.on_exceed == OnExceed::kError ? "error" : "truncate");
  root.Set("budget", std::move(budget));
  Json est = Json::Object();
  est.Set("entities", p.est_entities);
  est.Set("edges", p.est_edges);
  root.Set("estimate", std::move(est));
  Json steps = Json::Array();
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    Json s = Json::Object();
    s.Set("step", static_cast<int64_t>(i + 1));
    s.Set("path", n.path);
    s.Set("depth", static_cast<int64_t>(n.depth));
    s.Set("operation", std::string(AccessName(n.access)));
    if (n.range.index != nullptr &&
        (n.access == Access::kIndexRange || n.access == Access::kUniqueLookup ||
         n.access == Access::kChildIndex)) {
      s.Set("index", n.range.index->name);
      s.Set("direction", n.range.backward ? "backward" : "forward");
    }
    s.Set("sort", Sorted(n));
    s.Set("reason", n.reason);
    s.Set("estimated_rows", n.est_rows);
    s.Set("estimated_reads", n.est_examined);
    s.Set("estimated_cost", n.est_cost);
    if (in.stats != nullptr) {
      const NodeStats& st = (*in.stats)[i];
      Json a = Json::Object();
      a.Set("run", st.run);
      a.Set("rows", static_cast<int64_t>(st.rows));
      a.Set("reads", static_cast<int64_t>(st.examined));
      a.Set("parents", static_cast<int64_t>(st.parents));
      a.Set("batches", static_cast<int64_t>(st.batches));
      a.Set("time_ms", st.micros / 1000);
      s.Set("actual", std::move(a));
    }
    steps.Push(std::move(s));
  }
  root.Set("steps", std::move(steps));
  if (in.result != nullptr) {
    const FetchCounters& c = in.result->counters;
    Json used = Json::Object();
    used.Set("entities", static_cast<int64_t>(c.entities));
    used.Set("edges", static_cast<int64_t>(c.edges));
    used.Set("bytes", static_cast<int64_t>(c.bytes));
    used.Set("truncated", c.truncated);
    if (c.truncated) used.Set("truncated_at", c.truncated_at);
    root.Set("budget_used", std::move(used));
    root.Set("time_ms", in.total_micros / 1000);
  }
  return ToJson(root);
}

}  // namespace ormdb::query
