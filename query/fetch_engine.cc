#include "query/fetch_engine.h"

#include <chrono>
#include <cmath>

#include "query/explain.h"
#include "query/limit_math.h"
#include "query/parser.h"

namespace ormdb::query {
namespace {

// The compiler refuses a plan whose estimate passes a limit this many times.
constexpr double kEstimateMargin = 10;

Result<FetchQuery> ParseAny(std::string_view text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && text[i] == '{') {
    JsonLimits limits;
    limits.max_depth = kMaxJsonIrDepth;
    limits.max_text_size = kMaxQueryTextBytes;
    auto doc = ParseJson(text, limits);
    if (!doc.ok()) return InvalidArgument("query: " + doc.status().message());
    return ParseFetchJson(*doc);
  }
  return ParseFetchText(text);
}

}  // namespace

FetchEngine::FetchEngine(storage::Store* store, catalog::Catalog* catalog, FetchBudget budget,
                         size_t cache_entries)
    : store_(store),
      catalog_(catalog),
      budget_(budget),
      cache_capacity_(cache_entries),
      stats_(store, catalog) {}

Result<FetchBudget> FetchEngine::EffectiveBudget(const FetchOptions& o) const {
  FetchBudget b = budget_;
  auto lower = [](std::string_view name, const std::optional<uint64_t>& asked,
                  uint64_t* limit) -> Status {
    if (!asked) return Status::Ok();
    if (*asked > *limit) {
      return InvalidArgument("budget " + std::string(name) + " " + std::to_string(*asked) +
                             " is above the database's limit of " + std::to_string(*limit) +
                             ": a fetch may only lower its budget");
    }
    *limit = *asked;
    return Status::Ok();
  };
  ORMDB_RETURN_IF_ERROR(lower("entities", o.max_entities, &b.max_entities));
  ORMDB_RETURN_IF_ERROR(lower("edges", o.max_edges, &b.max_edges));
  ORMDB_RETURN_IF_ERROR(lower("depth", o.max_depth, &b.max_depth));
  ORMDB_RETURN_IF_ERROR(lower("bytes", o.max_bytes, &b.max_bytes));
  ORMDB_RETURN_IF_ERROR(lower("scanned rows", o.max_scanned_rows, &b.max_scanned_rows));
  if (o.on_exceed) b.on_exceed = *o.on_exceed;
  return b;
}

Result<std::shared_ptr<const PolicySet>> FetchEngine::Policies(
    const std::shared_ptr<const catalog::CompiledSchema>& schema) {
  {
    std::lock_guard<std::mutex> lock(policy_mu_);
    auto it = policies_.find(schema->number());
    if (it != policies_.end()) return it->second;
  }
  ORMDB_ASSIGN_OR_RETURN(std::shared_ptr<const PolicySet> set, PolicySet::Build(schema, "schema"));
  std::lock_guard<std::mutex> lock(policy_mu_);
  policies_.emplace(schema->number(), set);
  return set;
}

Result<std::shared_ptr<const ReadPolicy>> FetchEngine::ReadPolicyFor(
    const std::shared_ptr<const catalog::CompiledSchema>& schema, const Principal* principal) {
  if (principal == nullptr || principal->HasRole("admin")) {
    return std::shared_ptr<const ReadPolicy>();
  }
  ORMDB_ASSIGN_OR_RETURN(std::shared_ptr<const PolicySet> set, Policies(schema));
  if (set->empty()) return std::shared_ptr<const ReadPolicy>();
  // The principal's parts as they are (no JSON round trip on every fetch),
  // each with its length so that no two principals share a key.
  std::string key = std::to_string(schema->number());
  auto part = [&key](std::string_view s) { (key += ' ' + std::to_string(s.size()) + ':') += s; };
  part(principal->authenticated ? principal->id_json : "");
  part(principal->authenticated ? "a" : "n");
  for (const std::string& role : principal->roles) part(role);
  part(principal->claims_json);
  {
    std::lock_guard<std::mutex> lock(policy_mu_);
    auto it = folded_.find(key);
    if (it != folded_.end()) return it->second;
  }
  ORMDB_ASSIGN_OR_RETURN(std::shared_ptr<const ReadPolicy> folded,
                         FoldReadPolicy(*set, *principal));
  if (folded->empty()) folded = nullptr;
  std::lock_guard<std::mutex> lock(policy_mu_);
  if (folded_.size() >= kFoldedPolicies) folded_.clear();
  folded_.emplace(std::move(key), folded);
  return folded;
}

Result<std::vector<BoundSlot>> FetchEngine::Bind(const Plan& plan, const FetchQuery& q,
                                                 const Json& params, const ReadPolicy* policy) {
  if (policy == nullptr) return BindSlots(plan, q, params);
  Json merged = params;
  for (const auto& [name, value] : merged.as_object()) {
    if (name.find('.') != std::string::npos) {
      return InvalidArgument("parameter names have no '.': " + name);
    }
  }
  for (const auto& [name, value] : policy->params().as_object()) merged.Set(name, value);
  return BindSlots(plan, q, merged);
}

Result<std::shared_ptr<const Plan>> FetchEngine::PlanFor(
    const FetchQuery& q, const std::string& shape,
    std::shared_ptr<const catalog::CompiledSchema> schema, Version snapshot,
    const ReadPolicy* policy, bool* hit) {
  *hit = false;
  // The key: the schema version, the indexes not usable at the snapshot
  // (built after it), and the shape.
  std::string key = std::to_string(schema->number());
  for (auto [index, ready_at] : schema->ready_versions()) {
    if (ready_at > snapshot) key += " -" + std::to_string(index);
  }
  key += '\n';
  key += shape;
  if (policy != nullptr) key += "\npolicy\n" + policy->key();
  if (cache_capacity_ > 0) {
    std::shared_ptr<const Plan> plan;
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        plan = it->second->second;
      }
    }
    if (plan) {
      ORMDB_ASSIGN_OR_RETURN(bool fresh, stats_.CountsStillFit(plan->assumed_rows));
      if (fresh) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        *hit = true;
        return plan;
      }
    }
  }
  ORMDB_ASSIGN_OR_RETURN(std::shared_ptr<Plan> compiled,
                         CompileFetch(q, schema, &stats_, snapshot, policy));
  compiled->shape_key = key.substr(key.find('\n') + 1);
  std::shared_ptr<const Plan> plan = std::move(compiled);
  if (cache_capacity_ > 0) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    ++misses_;
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      it->second->second = plan;
      lru_.splice(lru_.begin(), lru_, it->second);
    } else {
      lru_.emplace_front(key, plan);
      cache_[key] = lru_.begin();
      while (lru_.size() > cache_capacity_) {
        cache_.erase(lru_.back().first);
        lru_.pop_back();
      }
    }
  }
  return plan;
}

Status FetchEngine::CheckPlanAgainstBudget(const Plan& plan, const FetchBudget& b) const {
  // Scanned rows are refused in either mode: an aggregate cannot be cut.
  if (plan.est_scanned > kEstimateMargin * static_cast<double>(b.max_scanned_rows) &&
      plan.est_scanned >= 1) {
    return BudgetExceeded(
        "budget exceeded before running: the aggregates are estimated to read " +
        EstimateText(plan.est_scanned) + " rows, more than ten times the scanned rows limit of " +
        std::to_string(b.max_scanned_rows) + " (a narrower where, or a larger budget)");
  }
  if (b.on_exceed != OnExceed::kError) return Status::Ok();
  for (const Node& n : plan.nodes) {
    if (static_cast<uint64_t>(n.depth) > b.max_depth) {
      return BudgetExceeded("budget exceeded: depth " + std::to_string(n.depth) +
                            " is over the limit of " + std::to_string(b.max_depth) + " at " +
                            n.path);
    }
  }
  auto over = [&](double est, uint64_t limit, std::string_view what) -> Status {
    if (est > kEstimateMargin * static_cast<double>(limit) && est >= 1) {
      return BudgetExceeded("budget exceeded before running: the plan is estimated at " +
                            EstimateText(est) + " " + std::string(what) +
                            ", more than ten times the limit of " + std::to_string(limit) +
                            " (add a limit, a narrower where, or " + "on_exceed truncate)");
    }
    return Status::Ok();
  };
  ORMDB_RETURN_IF_ERROR(over(plan.est_entities, b.max_entities, "entities"));
  ORMDB_RETURN_IF_ERROR(over(plan.est_edges, b.max_edges, "edges"));
  return Status::Ok();
}

Result<FetchEngine::Prepared> FetchEngine::Prepare(std::string_view text,
                                                   std::string_view params_json,
                                                   const FetchOptions& options,
                                                   const Principal* principal) {
  ORMDB_ASSIGN_OR_RETURN(ParsedQuery query, Parsed(text));
  Json params = Json::Object();
  if (!params_json.empty()) {
    auto parsed = ParseJson(params_json);
    if (!parsed.ok()) return InvalidArgument("parameters: " + parsed.status().message());
    params = std::move(*parsed);
    if (!params.is_object()) return InvalidArgument("parameters must be a JSON object");
  }
  ORMDB_ASSIGN_OR_RETURN(FetchBudget budget, EffectiveBudget(options));
  return PrepareShared(std::move(query), params, options.as_of, budget, principal);
}

FetchEngine::ParsedQuery FetchEngine::WithShape(std::shared_ptr<const FetchQuery> query) {
  auto shape = std::make_shared<const std::string>(ShapeKey(*query));
  return ParsedQuery{std::move(query), std::move(shape)};
}

Result<FetchEngine::ParsedQuery> FetchEngine::Parsed(std::string_view text) {
  bool keep = text.size() <= kParsedTextBytes;
  if (keep) {
    std::lock_guard lock(parse_mu_);
    auto it = parsed_.find(text);
    if (it != parsed_.end()) return it->second;
  }
  ORMDB_ASSIGN_OR_RETURN(FetchQuery query, ParseAny(text));
  ParsedQuery shared = WithShape(std::make_shared<const FetchQuery>(std::move(query)));
  if (!keep) return shared;
  std::lock_guard lock(parse_mu_);
  if (parsed_.size() >= kParsedQueries) parsed_.clear();
  parsed_.emplace(std::string(text), shared);
  return shared;
}

Result<FetchEngine::Prepared> FetchEngine::PrepareParsed(FetchQuery query, const Json& params,
                                                         std::optional<uint64_t> as_of,
                                                         const FetchBudget& budget,
                                                         const Principal* principal) {
  // Not a const object: relational mode takes it back (select_compile.cc).
  return PrepareShared(WithShape(std::make_shared<FetchQuery>(std::move(query))), params, as_of,
                       budget, principal);
}

Result<FetchEngine::Prepared> FetchEngine::PrepareShared(ParsedQuery parsed, const Json& params,
                                                         std::optional<uint64_t> as_of,
                                                         const FetchBudget& budget,
                                                         const Principal* principal) {
  Prepared p;
  p.query = std::move(parsed.query);
  p.budget = budget;
  auto schema = catalog_->current();
  if (!schema) return SchemaError("no schema has been applied");
  Version current = store_->current_version();
  ORMDB_ASSIGN_OR_RETURN(std::shared_ptr<const ReadPolicy> policy,
                         ReadPolicyFor(schema, principal));
  ORMDB_ASSIGN_OR_RETURN(
      p.plan, PlanFor(*p.query, *parsed.shape, schema, current, policy.get(), &p.cache_hit));
  ORMDB_ASSIGN_OR_RETURN(p.slots, Bind(*p.plan, *p.query, params, policy.get()));
  ORMDB_ASSIGN_OR_RETURN(Version cursor_version,
                         CursorVersion(*p.plan, p.slots, store_->database_id()));
  if (cursor_version != 0 && as_of && *as_of != cursor_version) {
    return InvalidArgument("invalid cursor: it reads version " + std::to_string(cursor_version) +
                           " but as_of asks for " + std::to_string(*as_of));
  }
  p.snapshot = cursor_version != 0 ? cursor_version : as_of.value_or(current);
  if (p.snapshot != current) {
    // A past snapshot is read with the schema current at that version, and
    // without indexes whose build finished after it. The version must be
    // readable (HISTORY_LOST / INVALID_ARGUMENT otherwise).
    { ORMDB_RETURN_IF_ERROR(store_->BeginRead(p.snapshot).status()); }
    ORMDB_ASSIGN_OR_RETURN(auto then, catalog_->SchemaAt(p.snapshot));
    ORMDB_ASSIGN_OR_RETURN(policy, ReadPolicyFor(then, principal));
    ORMDB_ASSIGN_OR_RETURN(
        p.plan, PlanFor(*p.query, *parsed.shape, then, p.snapshot, policy.get(), &p.cache_hit));
    ORMDB_ASSIGN_OR_RETURN(p.slots, Bind(*p.plan, *p.query, params, policy.get()));
  }
  ORMDB_RETURN_IF_ERROR(CheckPlanAgainstBudget(*p.plan, p.budget));
  return p;
}

Result<std::shared_ptr<ResultBlocks>> FetchEngine::Execute(const Prepared& p,
                                                           std::vector<NodeStats>* stats) {
  ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(p.snapshot));
  ExecOptions eo;
  eo.budget = p.budget;
  eo.secret = store_->database_id();
  catalog::LayoutLookup layouts = catalog_->layouts();
  return ExecutePlan(p.plan, p.slots, *txn, layouts, eo, stats);
}

Status FetchEngine::VisitRoots(const Prepared& p, std::vector<NodeStats>* stats,
                               const RootVisitor& visit) {
  ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(p.snapshot));
  ExecOptions eo;
  eo.budget = p.budget;
  eo.secret = store_->database_id();
  catalog::LayoutLookup layouts = catalog_->layouts();
  return VisitPlanRoots(p.plan, p.slots, *txn, layouts, eo, stats, visit);
}

Result<bool> FetchEngine::VisitMaintained(const Prepared& p, const catalog::MaintainedInfo& m,
                                          const MaintainedVisitor& visit, uint64_t* read) {
  ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(p.snapshot));
  ORMDB_ASSIGN_OR_RETURN(auto marker, txn->Get(m.record_type, catalog::kMaintainedMarkerId));
  if (!marker || marker->bytes_in_txn != m.definition) return false;
  Status st;
  ORMDB_RETURN_IF_ERROR(txn->ScanRows(m.record_type, 1, storage::ScanDirection::kForward,
                                      [&](RowId parent, const storage::RowRecord& rec) {
                                        ++*read;
                                        auto r = catalog::DecodeMaintained(rec.bytes_in_txn,
                                                                           m.fields.size());
                                        st = r.ok() ? visit(parent, *r) : r.status();
                                        return st.ok();
                                      }));
  ORMDB_RETURN_IF_ERROR(st);
  return true;
}

Result<std::shared_ptr<ResultBlocks>> FetchEngine::Fetch(std::string_view query,
                                                         std::string_view params_json,
                                                         const FetchOptions& options,
                                                         const Principal* principal) {
  ORMDB_ASSIGN_OR_RETURN(Prepared p, Prepare(query, params_json, options, principal));
  return Execute(p, nullptr);
}

Result<std::string> FetchEngine::Explain(std::string_view query, std::string_view params_json,
                                         const FetchOptions& options, bool analyze, bool json,
                                         const Principal* principal) {
  ORMDB_ASSIGN_OR_RETURN(Prepared p, Prepare(query, params_json, options, principal));
  ExplainInput in;
  in.plan = p.plan.get();
  in.cache_hit = p.cache_hit;
  in.snapshot = p.snapshot;
  in.budget = p.budget;
  std::vector<NodeStats> stats;
  std::shared_ptr<ResultBlocks> result;
  if (analyze) {
    auto start = std::chrono::steady_clock::now();
    ORMDB_ASSIGN_OR_RETURN(result, Execute(p, &stats));
    in.total_micros =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    in.stats = &stats;
    in.result = result.get();
  }
  return json ? ExplainJson(in) : ExplainText(in);
}

PlanCacheStats FetchEngine::cache_stats() {
  std::lock_guard<std::mutex> lock(cache_mu_);
  return PlanCacheStats{hits_.load(std::memory_order_relaxed), misses_,
                        static_cast<uint64_t>(lru_.size())};
}

}  // namespace ormdb::query
