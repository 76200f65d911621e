// The fetch engine: the path of a graph fetch from text to result blocks.
//
//   parse (query/parser) -> plan cache lookup by (schema version, ShapeKey)
//   -> compile on a miss (query/compiler, reading query/statistics)
//   -> bind literals and $params -> choose the snapshot (as_of, cursors)
//   -> budget checks on the plan -> execute (query/executor) -> blocks
//
// The plan cache holds plans by shape, so a query with new literal values
// reuses its shape's plan with the new values bound. A schema change makes
// old entries unreachable (the schema version is part of the key); a plan
// whose assumed row counts drifted by more than a factor of two is
// recompiled.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "catalog/catalog.h"
#include "catalog/maintained.h"
#include "ormdb/fetch_options.h"
#include "query/executor.h"
#include "query/plan.h"
#include "query/policy.h"
#include "query/result_blocks.h"
#include "query/statistics.h"
#include "storage/store.h"

namespace ormdb::query {

struct PlanCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t entries = 0;
};

class FetchEngine {
 public:
  // `budget` is the database's budget: the default and the ceiling of every
  // fetch. `cache_entries` = 0 disables the plan cache.
  FetchEngine(storage::Store* store, catalog::Catalog* catalog, FetchBudget budget,
              size_t cache_entries);

  // Runs a fetch (the text form, or the JSON IR when it starts with '{').
  // `principal` (may be null: the owner) is whom the access policies of
  // the schema are applied for (query/policy.h); a principal with role
  // admin bypasses them.
  Result<std::shared_ptr<ResultBlocks>> Fetch(std::string_view query, std::string_view params_json,
                                              const FetchOptions& options,
                                              const Principal* principal = nullptr);

  // The plan as text or JSON; with analyze, the fetch is run and each step
  // reports what it did.
  Result<std::string> Explain(std::string_view query, std::string_view params_json,
                              const FetchOptions& options, bool analyze, bool json,
                              const Principal* principal = nullptr);

  // The parsed rules of a schema version (cached per version).
  Result<std::shared_ptr<const PolicySet>> Policies(
      const std::shared_ptr<const catalog::CompiledSchema>& schema);
  // The read policy of `principal` under `schema`: nullptr when none
  // applies (no principal, an admin, or a schema without rules).
  Result<std::shared_ptr<const ReadPolicy>> ReadPolicyFor(
      const std::shared_ptr<const catalog::CompiledSchema>& schema, const Principal* principal);

  PlanCacheStats cache_stats();
  Statistics& statistics() { return stats_; }

  // A fetch compiled, bound and given its snapshot, ready to run.
  struct Prepared {
    std::shared_ptr<const FetchQuery> query;
    std::shared_ptr<const Plan> plan;
    std::vector<BoundSlot> slots;
    Version snapshot = 0;
    FetchBudget budget;
    bool cache_hit = false;
  };
  // For relational mode (query/select_engine), which builds the fetch that
  // reads its rows itself: prepares a parsed query with `budget` as given
  // (not lowered from the database's: the caller has checked it) on the
  // snapshot `as_of` (nullopt: the current version, or the cursors'). The
  // result's query is owned by it alone (the caller may take it back).
  Result<Prepared> PrepareParsed(FetchQuery query, const Json& params,
                                 std::optional<uint64_t> as_of, const FetchBudget& budget,
                                 const Principal* principal = nullptr);
  // Runs a prepared fetch; `stats` (optional) receives each node's counts.
  Result<std::shared_ptr<ResultBlocks>> Execute(const Prepared& p, std::vector<NodeStats>* stats);
  // Streams the root rows of a prepared fetch without includes or
  // aggregates (VisitPlanRoots, query/executor.h).
  Status VisitRoots(const Prepared& p, std::vector<NodeStats>* stats, const RootVisitor& visit);
  // Visits the records of @maintain relation `m` at the snapshot of `p`, in
  // parent id order; false (nothing visited) when they do not exist there.
  // *read counts the records read.
  using MaintainedVisitor = std::function<Status(RowId parent, const catalog::MaintainedRecord&)>;
  Result<bool> VisitMaintained(const Prepared& p, const catalog::MaintainedInfo& m,
                               const MaintainedVisitor& visit, uint64_t* read);
  // The database's budget.
  const FetchBudget& budget() const { return budget_; }

 private:
  Result<Prepared> Prepare(std::string_view query, std::string_view params_json,
                           const FetchOptions& options, const Principal* principal);
  // A parsed query and its ShapeKey (the plan cache's key), kept together
  // by the parse cache so a repeated text is not printed again.
  struct ParsedQuery {
    std::shared_ptr<const FetchQuery> query;
    std::shared_ptr<const std::string> shape;
  };
  static ParsedQuery WithShape(std::shared_ptr<const FetchQuery> query);
  Result<Prepared> PrepareShared(ParsedQuery parsed, const Json& params,
                                 std::optional<uint64_t> as_of, const FetchBudget& budget,
                                 const Principal* principal);
  // The parsed form of a query text (text or JSON IR), from the parse cache
  // when the same text was parsed before.
  Result<ParsedQuery> Parsed(std::string_view text);
  Result<std::shared_ptr<const Plan>> PlanFor(const FetchQuery& q, const std::string& shape,
                                              std::shared_ptr<const catalog::CompiledSchema> schema,
                                              Version snapshot, const ReadPolicy* policy,
                                              bool* hit);
  // Binds the slots with the policy's parameters merged into `params`.
  Result<std::vector<BoundSlot>> Bind(const Plan& plan, const FetchQuery& q, const Json& params,
                                      const ReadPolicy* policy);
  Result<FetchBudget> EffectiveBudget(const FetchOptions& options) const;
  Status CheckPlanAgainstBudget(const Plan& plan, const FetchBudget& budget) const;

  storage::Store* store_;
  catalog::Catalog* catalog_;
  FetchBudget budget_;
  size_t cache_capacity_;
  Statistics stats_;

  std::mutex cache_mu_;
  // LRU: most recent at the front.
  std::list<std::pair<std::string, std::shared_ptr<const Plan>>> lru_;  // GUARDED_BY(cache_mu_)
  std::unordered_map<std::string, decltype(lru_)::iterator> cache_;     // GUARDED_BY(cache_mu_)
  std::atomic<uint64_t> hits_{0};
  uint64_t misses_ = 0;  // GUARDED_BY(cache_mu_)

  // Parsed queries by their text (texts up to kParsedTextBytes); emptied when
  // it reaches kParsedQueries.
  static constexpr size_t kParsedQueries = 1024, kParsedTextBytes = 4096;
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex parse_mu_;
  std::unordered_map<std::string, ParsedQuery, TextHash, std::equal_to<>>
      parsed_;  // GUARDED_BY(parse_mu_)

  std::mutex policy_mu_;
  // By schema number.
  std::unordered_map<uint32_t, std::shared_ptr<const PolicySet>>
      policies_;  // GUARDED_BY(policy_mu_)
  // Folded read policies by schema number and principal (its JSON form);
  // emptied when it reaches kFoldedPolicies entries.
  static constexpr size_t kFoldedPolicies = 4096;
  std::unordered_map<std::string, std::shared_ptr<const ReadPolicy>>
      folded_;  // GUARDED_BY(policy_mu_)
};

}  // namespace ormdb::query
