// Relational mode (DESIGN.md §11, docs/reference/select.md): the path of a
// select statement from text to its columnar block.
//
//   parse (query/select_parser) -> build the fetch that reads its rows and
//   resolve every name against the fetch's plan (query/select_compile.cc)
//   -> run the fetch (query/fetch_engine: plan cache, access paths,
//   snapshot, budget) -> join, group, having, sort, page
//   (query/select_exec.cc) -> one SelectBlock
//
// Thread-safety: all methods are thread-safe (the FetchEngine is).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ormdb/select.h"
#include "query/fetch_engine.h"
#include "query/select_result.h"

namespace ormdb::query {

class SelectEngine {
 public:
  // `secret` keys the cursors' checksums (the database id).
  SelectEngine(FetchEngine* fetch, std::string secret)
      : fetch_(fetch), secret_(std::move(secret)) {}

  // Runs a select; errors as ormdb::Database::Select.
  // `principal` as FetchEngine::Fetch.
  Result<std::shared_ptr<SelectBlock>> Select(std::string_view text, std::string_view params_json,
                                              const SelectOptions& options,
                                              const Principal* principal = nullptr);

  // The plan as text or JSON: the fetch's steps, then the select's; with
  // analyze, the statement is run and each step reports its rows.
  Result<std::string> Explain(std::string_view text, std::string_view params_json,
                              const SelectOptions& options, bool analyze, bool json,
                              const Principal* principal = nullptr);

 private:
  FetchEngine* fetch_;
  std::string secret_;
};

}  // namespace ormdb::query
