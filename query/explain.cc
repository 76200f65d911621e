#include "query/explain.h"

#include "observability/explain.h"
#include "observability/number_format.h"

namespace ormdb::query {
namespace {

namespace obs = observability;

bool ReadsIndex(const Node& n) {
  return n.range.index != nullptr &&
         (n.access == Access::kIndexRange || n.access == Access::kUniqueLookup ||
          n.access == Access::kChildIndex);
}

// What the text form adds to the operation of a step without an index.
std::string Note(const Node& n) {
  if (n.access == Access::kScan && n.range.backward && n.order_is_id_only) return "backward";
  if (n.access == Access::kEdgeRange) return n.edge_forward ? "(forward)" : "(backward)";
  return "";
}

// "where order [name asc] limit after": the arguments the step has.
std::string Arguments(const Node& n) {
  std::string s;
  auto add = [&s](const std::string& part) { s += (s.empty() ? "" : " ") + part; };
  if (n.has_where) add("where");
  if (!n.order.empty()) {
    std::string order = "order [";
    for (size_t i = 0; i < n.order.size(); ++i) {
      order += (i ? ", " : "") + n.paths[n.order[i].path].text +
               (n.order[i].descending ? " desc" : " asc");
    }
    add(order + "]");
  }
  if (n.limit_slot >= 0) add("limit");
  if (n.after_slot >= 0) add("after");
  return s;
}

bool Sorted(const Node& n) {
  bool covered = (n.access == Access::kIndexRange || n.access == Access::kChildIndex) &&
                 n.range.order_covered == n.order.size();
  covered = covered || n.order.empty() ||
            (n.order_is_id_only && (n.access == Access::kScan || n.access == Access::kEdgeRange));
  return !covered;
}

obs::ExplainReport Report(const ExplainInput& in) {
  const Plan& p = *in.plan;
  obs::ExplainReport r;
  r.entity = p.nodes[0].entity->name;
  r.version = in.snapshot;
  r.schema = p.schema->number();
  r.cache_hit = in.cache_hit;
  r.budget = {in.budget.max_entities,
              in.budget.max_edges,
              in.budget.max_depth,
              in.budget.max_bytes,
              in.budget.on_exceed == OnExceed::kError,
              in.budget.max_scanned_rows};
  r.has_aggregates = !p.aggregates.empty();
  r.estimated_scanned = p.est_scanned;
  r.estimated_entities = p.est_entities;
  r.estimated_edges = p.est_edges;
  r.max_depth = p.max_depth;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    obs::ExplainStep s;
    s.path = n.path;
    s.depth = n.depth;
    s.arguments = Arguments(n);
    s.operation = std::string(AccessName(n.access));
    if (ReadsIndex(n)) {
      s.index = n.range.index->name;
      s.backward = n.range.backward;
    }
    s.note = Note(n);
    s.sort = Sorted(n);
    s.reason = n.reason;
    s.estimated_rows = n.est_rows;
    s.estimated_reads = n.est_examined;
    s.estimated_cost = n.est_cost;
    if (in.stats != nullptr) {
      const NodeStats& st = (*in.stats)[i];
      s.actual =
          obs::ExplainActual{st.run, st.rows, st.examined, st.parents, st.batches, st.micros};
    }
    r.steps.push_back(std::move(s));
    if (!n.policy.empty()) {
      // The access policy's row filter: evaluated on each row the step
      // reads, with the query's own where (so its cost is that step's).
      obs::ExplainStep ps;
      ps.path = n.path + " (policy)";
      ps.depth = n.depth + 1;
      ps.arguments = n.policy;
      ps.operation = "policy filter";
      ps.reason = "the rows of " + n.entity->name +
                  " this principal may read, tested on every row the step reads";
      if (!n.semijoins.empty()) {
        ps.operation += " with a semi-join";
        ps.reason += "; each exists(...) reads that row's related rows until one passes";
      }
      ps.estimated_rows = n.est_rows;
      ps.estimated_reads = n.est_examined;
      for (int sj : n.semijoins) {
        ps.estimated_cost += n.est_examined * p.semijoins[sj].est_cost_per_row;
      }
      r.steps.push_back(std::move(ps));
    }
    // The semi-joins of the node's predicate: its policy's, or a filter
    // that guards a path through a to-one relation.
    for (int sj : n.semijoins) {
      const SemiJoinPlan& sp = p.semijoins[sj];
      // Under the policy filter step, or under the node's own.
      const int depth = n.depth + (n.policy.empty() ? 1 : 2);
      obs::ExplainStep js;
      js.path = sp.source.path;
      js.depth = depth;
      js.arguments = sp.text;
      js.operation = "semi-join: " + std::string(sp.source.access == Access::kChildScanHash
                                                     ? "scan"
                                                     : AccessName(sp.source.access));
      if (ReadsIndex(sp.source)) js.index = sp.source.range.index->name;
      js.reason = sp.source.reason + " (" + observability::FormatEstimate(sp.est_fanout) +
                  " related rows per row on average)";
      js.estimated_rows = n.est_examined * sp.est_fanout;
      js.estimated_reads = js.estimated_rows;
      js.estimated_cost = n.est_examined * sp.est_cost_per_row;
      r.steps.push_back(std::move(js));
    }
  }
  for (const EntityMasks& m : p.masks) {
    obs::ExplainStep ps;
    ps.path = m.node.path;
    ps.depth = 1;
    for (const auto& [field, cond] : m.fields) {
      ps.arguments += (ps.arguments.empty() ? "" : ", ") + m.node.entity->fields[field].name;
    }
    ps.operation = "policy field mask";
    ps.reason = "fields rendered null on rows where this principal may not read them";
    r.steps.push_back(std::move(ps));
  }
  // Each aggregate is a step under its holder: what it reads per holder row.
  for (size_t a = 0; a < p.aggregates.size(); ++a) {
    const AggregatePlan& ap = p.aggregates[a];
    const Node& holder = p.nodes[ap.holder];
    obs::ExplainStep s;
    s.path = holder.path + "." + ap.name;
    s.depth = holder.depth + 1;
    s.arguments = ap.text;
    s.operation = "aggregate: " +
                  std::string(ap.count_only && ap.source.access == Access::kEdgeRange
                                  ? "edge range"
                                  : AccessName(ap.source.access)) +
                  (ap.count_only ? ", entries counted" : "");
    if (ap.maintained != nullptr) s.operation = "aggregate: maintained record per parent";
    if (ReadsIndex(ap.source) && ap.maintained == nullptr) {
      s.index = ap.source.range.index->name;
      s.backward = false;
    }
    s.reason = ap.source.reason;
    s.estimated_rows = holder.est_rows;
    s.estimated_reads = ap.source.est_examined;
    s.estimated_cost = ap.source.est_cost;
    if (in.stats != nullptr && p.nodes.size() + a < in.stats->size()) {
      const NodeStats& st = (*in.stats)[p.nodes.size() + a];
      s.actual =
          obs::ExplainActual{st.run, st.rows, st.examined, st.parents, st.batches, st.micros};
    }
    r.steps.push_back(std::move(s));
  }
  if (in.result != nullptr) {
    const FetchCounters& c = in.result->counters;
    r.used = obs::ExplainUsage{c.entities,     c.edges,         c.bytes,  c.truncated,
                               c.truncated_at, in.total_micros, c.scanned};
  }
  return r;
}

}  // namespace

std::string ExplainText(const ExplainInput& in) { return obs::RenderExplainText(Report(in)); }

std::string ExplainJson(const ExplainInput& in) { return obs::RenderExplainJson(Report(in)); }

}  // namespace ormdb::query
