// Relational mode against SQLite: the same randomly generated data in both,
// random select statements (paths through a to-one and a many-to-many
// relation, where with three-valued logic, group by, every aggregate,
// having, order by, limit) run by ormdb and, translated to SQL, by SQLite;
// the results must agree. Each statement is also read page by page through
// its cursors, which must give its rows in the same order.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"

namespace ormdb {
namespace {

constexpr std::string_view kSchema = R"(
entity B {
  id: id
  name: string?
  w: int32?
  as: [A] @inverse(b)
}
entity C {
  id: id
  tag: string?
  as: [A] @many(a_c)
}
entity A {
  id: id
  g: int32?
  s: string?
  x: int64?
  f: float64?
  b: B? @on_delete(set_null)
  cs: [C] @many(a_c)
  @@index(g, s, x)  // selects over g, s, x and b read index entries, not rows
}
)";

// A path of the statement and its SQL expression.
struct Path {
  std::string text, sql;
  bool number = false, many = false;
};
const std::vector<Path> kPaths = {
    {"id", "t0.id"},
    {"g", "t0.g", true},
    {"s", "t0.s"},
    {"x", "t0.x", true},
    {"f", "t0.f", true},
    {"b", "t0.b"},
    {"b.name", "tb.name"},
    {"b.w", "tb.w", true},
    {"cs.tag", "tc.tag", false, true},
    {"cs.id", "tc.id", false, true},
};

struct Cell {
  int kind = 0;  // 0 null, 1 integer, 2 float, 3 string
  int64_t i = 0;
  double f = 0;
  std::string s;
  bool operator==(const Cell& o) const {
    if (kind != o.kind) return false;
    if (kind == 2) return std::fabs(f - o.f) <= 1e-9 * std::max(1.0, std::fabs(f));
    return i == o.i && s == o.s;
  }
  std::string Show() const {
    switch (kind) {
      case 1:
        return std::to_string(i);
      case 2:
        return std::to_string(f) + "f";
      case 3:
        return "\"" + s + "\"";
      default:
        return "null";
    }
  }
};
using Row = std::vector<Cell>;
void PrintTo(const Cell& c, std::ostream* os) { *os << c.Show(); }

std::string ShowRows(const std::vector<Row>& rows) {
  std::string out;
  for (const Row& r : rows) {
    out += "  [";
    for (size_t i = 0; i < r.size(); ++i) out += (i ? ", " : "") + r[i].Show();
    out += "]\n";
  }
  return out;
}

bool RowLess(const Row& a, const Row& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind) return a[i].kind < b[i].kind;
    if (a[i].i != b[i].i) return a[i].i < b[i].i;
    if (a[i].f != b[i].f) return a[i].f < b[i].f;
    if (a[i].s != b[i].s) return a[i].s < b[i].s;
  }
  return false;
}

std::vector<Row> Rows(const SelectResult& r) {
  std::vector<Row> out;
  for (size_t i = 0; i < r.row_count(); ++i) {
    Row row;
    for (size_t c = 0; c < r.column_count(); ++c) {
      ResultValue v = r.Get(i, c);
      Cell cell;
      if (v.kind == ResultValue::Kind::kInt) {
        cell.kind = 1;
        cell.i = v.int_value;
      } else if (v.kind == ResultValue::Kind::kFloat) {
        cell.kind = 2;
        cell.f = v.float_value;
      } else if (v.kind == ResultValue::Kind::kString) {
        cell.kind = 3;
        cell.s = std::string(v.string_value);
      }
      row.push_back(cell);
    }
    out.push_back(std::move(row));
  }
  return out;
}

class SelectRandomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ormdb_select_random_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = Database::Open(dir_ + "/db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->ApplySchema(kSchema).ok());
    ASSERT_EQ(sqlite3_open(":memory:", &sql_), SQLITE_OK);
    Exec("PRAGMA case_sensitive_like = ON");
    Exec("CREATE TABLE B(id INTEGER PRIMARY KEY, name TEXT, w INTEGER)");
    Exec("CREATE TABLE C(id INTEGER PRIMARY KEY, tag TEXT)");
    Exec("CREATE TABLE A(id INTEGER PRIMARY KEY, g INTEGER, s TEXT, x INTEGER, f REAL, b INTEGER)");
    Exec("CREATE TABLE AC(a INTEGER, c INTEGER)");
  }
  void TearDown() override {
    db_.reset();
    if (sql_) sqlite3_close(sql_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Exec(const std::string& q) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(sql_, q.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << q << ": " << (err ? err : "");
  }

  std::vector<Row> Sql(const std::string& q, std::string* error) {
    std::vector<Row> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(sql_, q.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      *error = sqlite3_errmsg(sql_);
      return out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        Cell cell;
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_INTEGER:
            cell.kind = 1;
            cell.i = sqlite3_column_int64(st, c);
            break;
          case SQLITE_FLOAT:
            cell.kind = 2;
            cell.f = sqlite3_column_double(st, c);
            break;
          case SQLITE_TEXT:
            cell.kind = 3;
            cell.s = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
            break;
          default:
            break;
        }
        row.push_back(cell);
      }
      out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) *error = sqlite3_errmsg(sql_);
    sqlite3_finalize(st);
    return out;
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
  sqlite3* sql_ = nullptr;
};

// A JSON value and its SQL literal.
struct Lit {
  std::string json, sql;
};

TEST_F(SelectRandomTest, AgreesWithSqlite) {
  std::mt19937 rng(20240601);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto maybe_null = [&](const std::string& v) { return pick(5) == 0 ? std::string("null") : v; };
  const std::vector<std::string> names = {"\"na\"", "\"nb\"", "\"Nc\"", "\"nd\""};
  const std::vector<std::string> strs = {"\"a\"", "\"b\"", "\"ab\"", "\"B\""};
  const std::vector<std::string> floats = {"0.5", "1.25", "-2.0", "3.75"};

  // The data, in both.
  std::string ops;
  auto op = [&](const std::string& entity, const std::string& values) {
    ops += std::string(ops.empty() ? "" : ",") + "{\"op\":\"insert\",\"entity\":\"" + entity +
           "\",\"values\":" + values + "}";
  };
  auto sql_value = [](const std::string& json) {
    if (json == "null") return std::string("NULL");
    if (json.front() == '"') return "'" + json.substr(1, json.size() - 2) + "'";
    return json;
  };
  constexpr int kB = 6, kC = 4, kA = 60;
  for (int i = 1; i <= kB; ++i) {
    std::string name = maybe_null(names[pick(4)]), w = maybe_null(std::to_string(pick(4)));
    op("B", "{\"id\":" + std::to_string(i) + ",\"name\":" + name + ",\"w\":" + w + "}");
    Exec("INSERT INTO B VALUES(" + std::to_string(i) + "," + sql_value(name) + "," + sql_value(w) +
         ")");
  }
  for (int i = 1; i <= kC; ++i) {
    std::string tag = maybe_null("\"t" + std::to_string(pick(3)) + "\"");
    op("C", "{\"id\":" + std::to_string(i) + ",\"tag\":" + tag + "}");
    Exec("INSERT INTO C VALUES(" + std::to_string(i) + "," + sql_value(tag) + ")");
  }
  for (int i = 1; i <= kA; ++i) {
    std::string g = maybe_null(std::to_string(pick(4))), s = maybe_null(strs[pick(4)]),
                x = maybe_null(std::to_string(pick(11) - 5)), f = maybe_null(floats[pick(4)]),
                b = maybe_null(std::to_string(1 + pick(kB)));
    op("A", "{\"id\":" + std::to_string(i) + ",\"g\":" + g + ",\"s\":" + s + ",\"x\":" + x +
                ",\"f\":" + f + ",\"b\":" + b + "}");
    Exec("INSERT INTO A VALUES(" + std::to_string(i) + "," + sql_value(g) + "," + sql_value(s) +
         "," + sql_value(x) + "," + sql_value(f) + "," + sql_value(b) + ")");
    for (int c = 1; c <= kC; ++c) {
      if (pick(3) != 0) continue;
      ops += ",{\"op\":\"link\",\"relation\":\"A.cs\",\"from\":" + std::to_string(i) +
             ",\"to\":" + std::to_string(c) + "}";
      Exec("INSERT INTO AC VALUES(" + std::to_string(i) + "," + std::to_string(c) + ")");
    }
  }
  auto m = db_->Mutate("{\"ops\":[" + ops + "]}");
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  // A random where over the root and its to-one.
  std::function<std::pair<std::string, std::string>(int)> pred = [&](int depth) {
    std::pair<std::string, std::string> out;
    int k = pick(depth > 1 ? 7 : 10);
    if (k == 7 || k == 8) {
      auto a = pred(depth + 1), b = pred(depth + 1);
      const char* word = k == 7 ? "and" : "or";
      return std::make_pair("(" + a.first + " " + word + " " + b.first + ")",
                            "(" + a.second + " " + (k == 7 ? "AND" : "OR") + " " + b.second + ")");
    }
    if (k == 9) {
      auto a = pred(depth + 1);
      return std::make_pair("not (" + a.first + ")", "NOT (" + a.second + ")");
    }
    const std::vector<std::string> ops = {"==", "!=", "<", "<=", ">", ">="};
    const std::vector<std::string> sql_ops = {"=", "!=", "<", "<=", ">", ">="};
    int o = pick(6);
    switch (k) {
      case 0: {
        int v = pick(7) - 3;
        return std::make_pair("x " + ops[o] + " " + std::to_string(v),
                              "t0.x " + sql_ops[o] + " " + std::to_string(v));
      }
      case 1: {
        std::string v = strs[pick(4)];
        return std::make_pair("s " + ops[o] + " " + v, "t0.s " + sql_ops[o] + " " + sql_value(v));
      }
      case 2: {
        const char* field = pick(2) ? "g" : "b.w";
        bool neg = pick(2);
        return std::make_pair(
            std::string(field) + (neg ? " is not null" : " is null"),
            std::string(field[0] == 'g' ? "t0.g" : "tb.w") + (neg ? " IS NOT NULL" : " IS NULL"));
      }
      case 3:
        return std::make_pair(std::string("b.name like \"n%\""), std::string("tb.name LIKE 'n%'"));
      case 4: {
        bool neg = pick(2);
        return std::make_pair(std::string("g ") + (neg ? "not in" : "in") + " [0, 2]",
                              std::string("t0.g ") + (neg ? "NOT IN" : "IN") + " (0, 2)");
      }
      case 5:
        return std::make_pair("f " + ops[o] + " 1", "t0.f " + sql_ops[o] + " 1");
      default:
        return std::make_pair(std::string("b.w >= 1"), std::string("tb.w >= 1"));
    }
  };

  int compared = 0;
  for (int iter = 0; iter < 400; ++iter) {
    const bool use_many = pick(3) == 0;
    std::vector<const Path*> pool;
    for (const Path& p : kPaths) {
      if (!p.many || use_many) pool.push_back(&p);
    }
    const bool grouped = pick(2) == 0;
    std::vector<std::string> items, sql_items, group, sql_group, order, sql_order;
    bool deterministic = false;
    if (!grouped) {
      int n = 1 + pick(3);
      for (int i = 0; i < n; ++i) {
        const Path* p = pool[pick(static_cast<int>(pool.size()))];
        items.push_back(p->text);
        sql_items.push_back(p->sql);
      }
      if (pick(2)) {
        const Path* p = pool[pick(static_cast<int>(pool.size()))];
        bool desc = pick(2);
        order.push_back(p->text + (desc ? " desc" : ""));
        sql_order.push_back(p->sql + (desc ? " DESC NULLS FIRST" : " ASC NULLS LAST"));
      }
    } else {
      int n = pick(3);
      for (int i = 0; i < n; ++i) {
        const Path* p = pool[pick(static_cast<int>(pool.size()))];
        if (std::find(group.begin(), group.end(), p->text) != group.end()) continue;
        group.push_back(p->text);
        sql_group.push_back(p->sql);
        items.push_back(p->text);
        sql_items.push_back(p->sql);
      }
      int aggs = 1 + pick(3);
      for (int i = 0; i < aggs; ++i) {
        const Path* p = pool[pick(static_cast<int>(pool.size()))];
        switch (pick(p->number ? 7 : 5)) {
          case 0:
            items.push_back("count()");
            sql_items.push_back("COUNT(*)");
            break;
          case 1:
            items.push_back("count(" + p->text + ")");
            sql_items.push_back("COUNT(" + p->sql + ")");
            break;
          case 2:
            items.push_back("count_distinct(" + p->text + ")");
            sql_items.push_back("COUNT(DISTINCT " + p->sql + ")");
            break;
          case 3:
            items.push_back("min(" + p->text + ")");
            sql_items.push_back("MIN(" + p->sql + ")");
            break;
          case 4:
            items.push_back("max(" + p->text + ")");
            sql_items.push_back("MAX(" + p->sql + ")");
            break;
          case 5:
            items.push_back("sum(" + p->text + ")");
            sql_items.push_back("SUM(" + p->sql + ")");
            break;
          default:
            items.push_back("avg(" + p->text + ")");
            sql_items.push_back("AVG(" + p->sql + ")");
            break;
        }
      }
      // Order by every group key (some descending): a total order.
      if (pick(2)) {
        for (size_t g = 0; g < group.size(); ++g) {
          bool desc = pick(2);
          order.push_back(group[g] + (desc ? " desc" : ""));
          sql_order.push_back(sql_group[g] + (desc ? " DESC NULLS FIRST" : " ASC NULLS LAST"));
        }
        deterministic = true;
      }
      if (group.empty()) deterministic = true;
    }
    std::string text = "select ";
    std::string sql = "SELECT ";
    for (size_t i = 0; i < items.size(); ++i) {
      text += (i ? ", " : "") + items[i] + " as c" + std::to_string(i);
      sql += (i ? ", " : "") + sql_items[i];
    }
    text += " from A";
    sql += " FROM A t0 LEFT JOIN B tb ON tb.id = t0.b";
    bool many_used = false;
    for (const Path& p : kPaths) {
      if (!p.many) continue;
      for (const std::string& t : items) many_used |= t.find(p.text) != std::string::npos;
      for (const std::string& t : order) many_used |= t.find(p.text) != std::string::npos;
    }
    if (many_used) sql += " LEFT JOIN AC ac ON ac.a = t0.id LEFT JOIN C tc ON tc.id = ac.c";
    if (pick(3)) {
      auto [w, sw] = pred(0);
      text += " where " + w;
      sql += " WHERE " + sw;
    }
    if (!group.empty()) {
      text += " group by ";
      sql += " GROUP BY ";
      for (size_t g = 0; g < group.size(); ++g) {
        text += (g ? ", " : "") + group[g];
        sql += (g ? ", " : "") + sql_group[g];
      }
    }
    if (grouped && pick(3) == 0) {
      int k = pick(4);
      text += " having count() > " + std::to_string(k) + " or c0 is null";
      sql += " HAVING (COUNT(*) > " + std::to_string(k) + " OR " + sql_items[0] + " IS NULL)";
    }
    if (!order.empty()) {
      text += " order by ";
      sql += " ORDER BY ";
      for (size_t i = 0; i < order.size(); ++i) {
        text += (i ? ", " : "") + order[i];
        sql += (i ? ", " : "") + sql_order[i];
      }
    }

    std::string sql_error;
    std::vector<Row> want = Sql(sql, &sql_error);
    ASSERT_TRUE(sql_error.empty()) << sql << ": " << sql_error;
    auto got = db_->Select(text);
    ASSERT_TRUE(got.ok()) << text << "\n" << got.status().ToString();
    std::vector<Row> have = Rows(**got);
    EXPECT_FALSE((*got)->next().has_value()) << text;
    std::vector<Row> want_cmp = want, have_cmp = have;
    if (!deterministic) {
      std::sort(want_cmp.begin(), want_cmp.end(), RowLess);
      std::sort(have_cmp.begin(), have_cmp.end(), RowLess);
    }
    EXPECT_EQ(want_cmp, have_cmp) << text << "\nsql: " << sql << "\nsqlite:\n"
                                  << ShowRows(want) << "ormdb:\n"
                                  << ShowRows(have);
    ++compared;

    // Page by page through the cursors: the same rows in the same order.
    const int page = 1 + pick(4);
    std::vector<Row> pages;
    std::string after;
    for (int n = 0; n < 200; ++n) {
      std::string paged = text + " limit " + std::to_string(page);
      if (!after.empty()) paged += " after \"" + after + "\"";
      auto r = db_->Select(paged);
      ASSERT_TRUE(r.ok()) << paged << "\n" << r.status().ToString();
      for (Row& row : Rows(**r)) pages.push_back(std::move(row));
      if (!(*r)->next()) break;
      after = *(*r)->next();
    }
    EXPECT_EQ(pages, have) << text << " in pages of " << page << "\nwhole:\n"
                           << ShowRows(have) << "pages:\n"
                           << ShowRows(pages);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_EQ(compared, 400);
}

}  // namespace
}  // namespace ormdb
