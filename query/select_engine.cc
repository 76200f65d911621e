#include "query/select_engine.h"

#include <cstdio>

#include "query/explain.h"
#include "query/select_plan.h"

namespace ormdb::query {
namespace {

std::string Millis(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", micros / 1000);
  return buf;
}

std::string Indent(std::string_view text, std::string_view by) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) nl = text.size();
    out += by;
    out.append(text.substr(i, nl - i));
    out += '\n';
    i = nl + 1;
  }
  return out;
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& s : parts) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Result<std::shared_ptr<SelectBlock>> SelectEngine::Select(std::string_view text,
                                                          std::string_view params_json,
                                                          const SelectOptions& options,
                                                          const Principal* principal) {
  ORMDB_ASSIGN_OR_RETURN(
      auto plan, select_plan::Compile(*fetch_, secret_, text, params_json, options, principal));
  return select_plan::Run(*fetch_, *plan, nullptr);
}

Result<std::string> SelectEngine::Explain(std::string_view text, std::string_view params_json,
                                          const SelectOptions& options, bool analyze, bool json,
                                          const Principal* principal) {
  ORMDB_ASSIGN_OR_RETURN(
      auto plan, select_plan::Compile(*fetch_, secret_, text, params_json, options, principal));
  const select_plan::Plan& p = *plan;
  select_plan::RunStats st;
  if (analyze) ORMDB_RETURN_IF_ERROR(select_plan::Run(*fetch_, p, &st).status());

  ExplainInput in;
  in.plan = p.fetch.plan.get();
  in.cache_hit = p.fetch.cache_hit;
  in.snapshot = p.fetch.snapshot;
  in.budget = p.fetch.budget;
  if (analyze) {
    in.stats = &st.fetch;
    in.result = st.blocks.get();
    in.total_micros = st.fetch_micros;
  }
  std::vector<std::string> group, order;
  for (int g : p.group_columns) group.push_back(p.columns[g].text);
  for (const select_plan::OrderKey& k : p.order) order.push_back(k.text);
  const std::string join =
      p.many_node < 0 ? ""
                      : p.entity + "." + p.many_path + ": a row per child, one with nulls for none";

  if (json) {
    Json j = Json::Object();
    j.Set("entity", p.entity);
    j.Set("version", static_cast<int64_t>(p.fetch.snapshot));
    j.Set("where", p.where_text.empty() ? Json() : Json(p.where_text));
    j.Set("join", join.empty() ? Json() : Json(join));
    Json g = Json::Array();
    for (const std::string& s : group) g.Push(s);
    j.Set("group_by", std::move(g));
    j.Set("having", p.has_having ? Json(p.having_text) : Json());
    Json o = Json::Array();
    for (const std::string& s : order) o.Push(s);
    j.Set("order_by", std::move(o));
    j.Set("limit", p.limit ? Json(*p.limit) : Json());
    j.Set("pushed_down", p.pushdown);
    j.Set("streamed", p.streamed);
    j.Set("maintained", p.maintained ? Json(p.maintained->collection) : Json());
    j.Set("budget", Json::Object()
                        .Set("scanned_rows", static_cast<int64_t>(p.max_scanned_rows))
                        .Set("rows", static_cast<int64_t>(p.max_rows)));
    if (analyze) {
      j.Set("actual", Json::Object()
                          .Set("fetched_rows", static_cast<int64_t>(st.root_rows))
                          .Set("joined_rows", static_cast<int64_t>(st.joined_rows))
                          .Set("groups", static_cast<int64_t>(st.groups))
                          .Set("kept", static_cast<int64_t>(st.kept))
                          .Set("rows", static_cast<int64_t>(st.returned))
                          .Set("scanned", static_cast<int64_t>(st.scanned))
                          .Set("micros", st.total_micros));
    }
    auto fetch_json = ParseJson(ExplainJson(in));
    j.Set("fetch", fetch_json.ok() ? std::move(*fetch_json) : Json());
    return ToJson(j);
  }

  std::string out =
      "select from " + p.entity + " at version " + std::to_string(p.fetch.snapshot) + "\n";
  out += "budget: scanned rows " + std::to_string(p.max_scanned_rows) + ", rows " +
         std::to_string(p.max_rows) + "\n";
  out += std::string("rows: read by a fetch") +
         (p.pushdown   ? " (where, order, limit and cursor pushed down to it)"
          : p.streamed ? " (its root rows streamed into the groups, no result blocks)"
                       : "") +
         "\n";
  if (p.maintained != nullptr) {
    out += "groups: the @maintain records of " + p.maintained->collection +
           ", one per parent, no row read (the fetch below runs only at a snapshot before they "
           "were built)\n";
  }
  out += Indent(ExplainText(in), "  ");
  if (!p.where_text.empty()) out += "where: " + p.where_text + " (in the fetch)\n";
  if (!join.empty()) {
    out += "join: " + join + "\n";
    if (analyze) out += "  actual: " + std::to_string(st.joined_rows) + " rows\n";
  }
  if (p.grouped) {
    out += "group by: " + (group.empty() ? std::string("(all rows: one group)") : Joined(group)) +
           " (hash)\n";
    if (analyze) {
      out += "  actual: " + std::to_string(st.groups) + " groups from " +
             std::to_string(st.joined_rows) + " rows\n";
    }
  }
  if (p.has_having) {
    out += "having: " + p.having_text + "\n";
    if (analyze) out += "  actual: " + std::to_string(st.kept) + " groups\n";
  }
  if (!order.empty()) {
    out += "order by: " + Joined(order) + (p.pushdown ? " (in the fetch)" : " (sorted in memory)") +
           "\n";
  }
  if (p.limit) {
    out += "limit: " + std::to_string(*p.limit) + (p.pushdown ? " (in the fetch)" : "") + "\n";
  }
  if (p.after) out += "after: a cursor at version " + std::to_string(p.fetch.snapshot) + "\n";
  if (analyze) {
    out += "actual: " + std::to_string(st.returned) + " rows, " + std::to_string(st.scanned) +
           " scanned, " + Millis(st.total_micros) + "\n";
  }
  return out;
}

}  // namespace ormdb::query
