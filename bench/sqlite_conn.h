// sqlite_conn: the SQLite side of the benchmarks that compare against it
// (fetch_bench, imdb_bench): one connection with its prepared statements and
// the helpers that read rows.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench/blog_data.h"  // FormatRfc3339

namespace ormdb::bench {

// rfc3339(micros): the timestamp as ormdb renders it (FormatRfc3339).
inline void Rfc3339Function(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string s = FormatRfc3339(sqlite3_value_int64(argv[0]));
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// One connection with its prepared statements. A statement is keyed by the
// address of its SQL constant; "@IN" in the text stands for an IN list of n
// placeholders, n rounded up to a power of two (the last id repeated), so a
// handful of statements serve every batch size. Any SQLite error is fatal:
// `die` reports it and ends the bench.
class Sqlite {
 public:
  using DieFn = std::function<void(const std::string&)>;

  Sqlite(const std::string& path, DieFn die) : die_(std::move(die)) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      Fail("cannot open " + path + ": " + sqlite3_errmsg(db_));
    }
    if (sqlite3_create_function_v2(db_, "rfc3339", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                   Rfc3339Function, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Fail("cannot register rfc3339()");
    }
  }
  ~Sqlite() {
    for (auto& [key, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  sqlite3* db() const { return db_; }

  [[noreturn]] void Fail(const std::string& message) const {
    die_(message);
    std::abort();  // `die` does not return
  }

  void Exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "?";
      sqlite3_free(msg);
      Fail(std::string("sqlite: ") + m + " in: " + sql);
    }
  }

  sqlite3_stmt* Prepare(const char* sql) { return Get(sql, 0, sql); }

  sqlite3_stmt* PrepareIn(const char* sql, size_t n, size_t* padded) {
    size_t p = 1;
    while (p < n) p <<= 1;
    *padded = p;
    auto it = stmts_.find({sql, p});
    if (it != stmts_.end()) return it->second;
    std::string list;
    for (size_t i = 0; i < p; ++i) list += i ? ",?" : "?";
    std::string text = sql;
    text.replace(text.find("@IN"), 3, list);
    return Get(sql, p, text);
  }

 private:
  sqlite3_stmt* Get(const char* key, size_t n, const std::string& text) {
    auto it = stmts_.find({key, n});
    if (it != stmts_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, text.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      Fail(std::string("sqlite: ") + sqlite3_errmsg(db_) + " in: " + text);
    }
    stmts_.emplace(std::make_pair(key, n), stmt);
    return stmt;
  }

  DieFn die_;
  sqlite3* db_ = nullptr;
  std::map<std::pair<const char*, size_t>, sqlite3_stmt*> stmts_;
};

// Steps `stmt` to the end, calling f(stmt) per row, then resets it.
template <class F>
void Rows(Sqlite& db, sqlite3_stmt* stmt, F&& f) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) f(stmt);
  if (rc != SQLITE_DONE) db.Fail(std::string("sqlite: ") + sqlite3_errmsg(db.db()));
  sqlite3_reset(stmt);
}

// Binds the ids to an IN list of `padded` placeholders (PrepareIn).
inline void BindIn(sqlite3_stmt* stmt, const std::vector<int64_t>& ids, size_t padded) {
  for (size_t i = 0; i < padded; ++i) {
    sqlite3_bind_int64(stmt, static_cast<int>(i + 1), ids[std::min(i, ids.size() - 1)]);
  }
}

inline std::string Text(sqlite3_stmt* stmt, int col) {
  const unsigned char* p = sqlite3_column_text(stmt, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, col)))
           : std::string();
}

inline int64_t Int(sqlite3_stmt* stmt, int col) { return sqlite3_column_int64(stmt, col); }

}  // namespace ormdb::bench
