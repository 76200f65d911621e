// Relational mode (DESIGN.md §11, docs/reference/select.md): flat, columnar
// results over the same catalog and snapshots as a graph fetch, for
// reporting.
//
//   auto r = db->Select(R"(select author.name, count() as posts from Post
//                          where status == "published" group by author.name
//                          order by posts desc limit 10)").value();
//   for (size_t row = 0; row < r->row_count(); ++row)
//     std::printf("%s %lld\n", std::string(r->Get(row, 0).string_value).c_str(),
//                 static_cast<long long>(r->Get(row, 1).int_value));
//
// A SelectResult is one columnar block: column names and, per column, one
// value per row. Embedded it holds the engine's block; remote, the block is
// read in place from the reply. Both render byte for byte the same.
//
// Thread-safety: a SelectResult is immutable; any number of threads may
// read it. Values borrow from the result and must not outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ormdb/fetch.h"

namespace ormdb {

struct SelectOptions {
  // Read the database as of this version (nullopt: the current one, or the
  // version of an `after` cursor). HISTORY_LOST below retention;
  // INVALID_ARGUMENT beyond the current version or when it differs from the
  // cursor's.
  std::optional<uint64_t> as_of;
  // Rows, index entries and edges the select may read (default: the
  // database's FetchBudget::max_scanned_rows, 10,000,000), and rows it may
  // return (default: the database's FetchBudget::max_entities, 100,000).
  // Both may only lower the database's; passing one is BUDGET_EXCEEDED and
  // returns nothing (a partial report would be a wrong one).
  std::optional<uint64_t> max_scanned_rows;
  std::optional<uint64_t> max_rows;
};

// The result of one select: {"version", "columns", "rows", "next"}.
class SelectResult {
 public:
  virtual ~SelectResult() = default;

  // The snapshot version the select read.
  virtual uint64_t version() const = 0;
  // The cursor of the next page (pass it as `after "..."`), or nullopt when
  // no rows remain.
  virtual std::optional<std::string> next() const = 0;

  virtual size_t column_count() const = 0;
  // The `as` name of the item, or its text ("author.name", "count()").
  virtual std::string_view column_name(size_t column) const = 0;
  virtual size_t row_count() const = 0;
  // REQUIRES: row < row_count(), column < column_count().
  virtual ResultValue Get(size_t row, size_t column) const = 0;

  // docs/reference/select.md: {"version", "columns": [...], "rows": [[...], ...], "next"}.
  std::string ToJson() const;
  // An aligned text table with a "(N rows)" line (`--format table`).
  std::string ToTable() const;
  // CSV with a header line (`--format csv`): RFC 4180 quoting, one record
  // per line ended by '\n'; nulls are empty fields, strings as they are,
  // other values as in JSON.
  std::string ToCsv() const;
};

}  // namespace ormdb
