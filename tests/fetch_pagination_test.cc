// Root pagination under concurrent writes (DESIGN.md §4, docs/QUERIES.md
// "Pagination"): a cursor carries the sort key, the id and the snapshot
// version, so every page of a sequence reads the first page's snapshot and
// the pages together are exactly the rows of that snapshot, with no gaps and
// no duplicates, whatever other threads insert, update and delete meanwhile.
// Also: a cursor is integrity-checked and bound to its database, entity and
// order; anything else is INVALID_ARGUMENT, never a crash.
//
// Only the public API (ormdb/database.h, ormdb/fetch.h) and common/json.h.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"

namespace ormdb {
namespace {

constexpr const char* kSchema = R"(
entity Item {
  id: id
  k: int32 @index
  name: string
  owner: Other? @on_delete(set_null)
}

entity Other {
  id: id
  k: int32
  items: [Item] @inverse(owner)
}
)";

constexpr int kRows = 10000;
constexpr int kPage = 97;

std::string Quote(const std::string& s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

class FetchPaginationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ormdb_fetch_pagination_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = OpenWithSchema(dir_ + "/db");
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::unique_ptr<Database> OpenWithSchema(const std::string& dir) {
    auto db = Database::Open(dir);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return nullptr;
    auto applied = db.value()->ApplySchema(kSchema);
    EXPECT_TRUE(applied.ok()) << applied.status().ToString();
    if (!applied.ok()) return nullptr;
    return std::move(db).value();
  }

  // Inserts `n` Items with k in 0..49 (many ties) in batches; returns their ids.
  static std::vector<int64_t> InsertItems(Database& db, int n, std::mt19937_64& rng) {
    std::vector<int64_t> ids;
    for (int done = 0; done < n;) {
      int batch = std::min(2500, n - done);
      Json ops = Json::Array();
      for (int i = 0; i < batch; ++i) {
        Json values = Json::Object();
        values.Set("k", static_cast<int64_t>(rng() % 50))
            .Set("name", "item" + std::to_string(done + i));
        Json op = Json::Object();
        op.Set("op", "insert").Set("entity", "Item").Set("values", std::move(values));
        ops.Push(std::move(op));
      }
      Json doc = Json::Object();
      doc.Set("ops", std::move(ops));
      auto r = db.Mutate(ToJson(doc));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return ids;
      auto j = ParseJson(r->json);
      EXPECT_TRUE(j.ok());
      if (!j.ok()) return ids;
      for (const Json& res : j->Find("results")->as_array())
        ids.push_back(res.Find("id")->as_int());
      done += batch;
    }
    return ids;
  }

  struct Page {
    uint64_t version = 0;
    std::vector<int64_t> ids;
    std::vector<int64_t> keys;
    std::optional<std::string> next;
  };

  // Runs `query` (which has "%AFTER%" where the after argument goes) and
  // reads ids, k values and next.
  static Result<Page> FetchPage(Database& db, const std::string& text,
                                const FetchOptions& opts = {}) {
    auto r = db.Fetch(text, "{}", opts);
    if (!r.ok()) return r.status();
    Page p;
    p.version = r.value()->version();
    p.next = r.value()->next();
    for (const ResultObject& o : r.value()->roots()) {
      p.ids.push_back(o.id().int_value);
      std::optional<ResultValue> k = o.Get("k");
      p.keys.push_back(k && !k->is_null() ? k->int_value : INT64_MIN);
    }
    // ToJson agrees with the object walk.
    auto j = ParseJson(r.value()->ToJson());
    if (!j.ok())
      return Status(ErrorCode::kInternal, "ToJson is not JSON: " + j.status().ToString());
    const Json* data = j->Find("data");
    const Json* next = j->Find("next");
    if (!data || !data->is_array() || data->size() != p.ids.size() || !next ||
        next->is_null() != !p.next.has_value())
      return Status(ErrorCode::kInternal,
                    "ToJson disagrees with roots()/next(): " + r.value()->ToJson());
    for (size_t i = 0; i < p.ids.size(); ++i) {
      const Json* id = data->as_array()[i].Find("id");
      if (!id || !id->is_int() || id->as_int() != p.ids[i])
        return Status(ErrorCode::kInternal, "ToJson ids disagree with roots()");
    }
    return p;
  }

  static std::string WithAfter(const std::string& head, const std::string& tail,
                               const std::optional<std::string>& after) {
    return head + (after ? ", after: " + Quote(*after) : std::string()) + tail;
  }

  // Pages through `order` while `writer` runs, then checks the pages against
  // one fetch of the first page's snapshot.
  void PageUnderWrites(const std::string& order, bool desc) {
    const std::string head = "Item(order: " + order + ", limit: " + std::to_string(kPage);
    const std::string tail = ") { k, name }";

    std::vector<Page> pages;
    std::optional<std::string> after;
    uint64_t writes_before = writes_.load();
    do {
      auto p = FetchPage(*db_, WithAfter(head, tail, after));
      ASSERT_TRUE(p.ok()) << "page " << pages.size() << ": " << p.status().ToString();
      after = p->next;
      pages.push_back(std::move(p).value());
      ASSERT_LT(pages.size(), 1000u) << "paging does not end";
      // Give the writer time to commit between pages.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } while (after);
    uint64_t writes_during = writes_.load() - writes_before;

    const uint64_t v = pages[0].version;
    std::vector<int64_t> ids, keys;
    for (size_t i = 0; i < pages.size(); ++i) {
      EXPECT_EQ(pages[i].version, v) << "page " << i << " read another snapshot";
      if (i + 1 < pages.size()) {
        EXPECT_EQ(pages[i].ids.size(), static_cast<size_t>(kPage)) << "page " << i;
      }
      ids.insert(ids.end(), pages[i].ids.begin(), pages[i].ids.end());
      keys.insert(keys.end(), pages[i].keys.begin(), pages[i].keys.end());
    }

    FetchOptions opts;
    opts.as_of = v;
    opts.max_entities = 100'000;
    auto all = FetchPage(*db_, "Item(order: " + order + ") { k, name }", opts);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_EQ(all->version, v);
    EXPECT_FALSE(all->next.has_value());

    std::set<int64_t> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size()) << "duplicates across pages";
    EXPECT_EQ(ids.size(), all->ids.size())
        << "pages hold " << ids.size() << " rows, the snapshot " << all->ids.size();
    size_t first_diff = 0;
    while (first_diff < ids.size() && first_diff < all->ids.size() &&
           ids[first_diff] == all->ids[first_diff])
      ++first_diff;
    EXPECT_EQ(ids, all->ids) << "first difference at position " << first_diff << " (page "
                             << first_diff / kPage << ")";
    EXPECT_EQ(keys, all->keys);

    // The snapshot itself is in the order asked for: k (asc or desc), id asc.
    for (size_t i = 1; i < all->ids.size(); ++i) {
      int64_t k0 = all->keys[i - 1], k1 = all->keys[i];
      bool ok = desc ? (k0 > k1 || (k0 == k1 && all->ids[i - 1] < all->ids[i]))
                     : (k0 < k1 || (k0 == k1 && all->ids[i - 1] < all->ids[i]));
      if (!ok) {
        ADD_FAILURE() << "snapshot out of order at " << i << ": (k " << k0 << ", id "
                      << all->ids[i - 1] << ") then (k " << k1 << ", id " << all->ids[i] << ")";
        break;
      }
    }
    EXPECT_GT(writes_during, 0u)
        << "the writer committed nothing while paging: the test proved little";
    EXPECT_GT(db_->CurrentVersion(), v);
    std::printf("order %s: %zu pages, %zu rows at version %llu, %llu write batches during paging\n",
                order.c_str(), pages.size(), ids.size(), static_cast<unsigned long long>(v),
                static_cast<unsigned long long>(writes_during));
  }

  // Inserts, updates (k moves rows within the order) and deletes, in small
  // batches, until stopped.
  void Writer(std::vector<int64_t> live, uint64_t seed) {
    std::mt19937_64 rng(seed);
    int serial = 0;
    while (!stop_.load()) {
      Json ops = Json::Array();
      std::vector<size_t> inserts;
      for (int i = 0; i < 12; ++i) {
        int what = static_cast<int>(rng() % 3);
        if (what == 0 || live.size() < 100) {
          Json values = Json::Object();
          values.Set("k", static_cast<int64_t>(rng() % 50))
              .Set("name", "new" + std::to_string(serial++));
          Json op = Json::Object();
          op.Set("op", "insert").Set("entity", "Item").Set("values", std::move(values));
          inserts.push_back(ops.size());
          ops.Push(std::move(op));
        } else {
          size_t at = rng() % live.size();
          int64_t id = live[at];
          Json op = Json::Object();
          if (what == 1) {
            live[at] = live.back();
            live.pop_back();
            op.Set("op", "delete").Set("entity", "Item").Set("id", id);
          } else {
            Json set = Json::Object();
            set.Set("k", static_cast<int64_t>(rng() % 50));
            op.Set("op", "update").Set("entity", "Item").Set("id", id).Set("set", std::move(set));
          }
          ops.Push(std::move(op));
        }
      }
      Json doc = Json::Object();
      doc.Set("ops", std::move(ops));
      auto r = db_->Mutate(ToJson(doc));
      if (!r.ok()) {
        writer_error_ = r.status().ToString();
        return;
      }
      auto j = ParseJson(r->json);
      if (!j.ok()) {
        writer_error_ = "mutation result is not JSON";
        return;
      }
      const auto& results = j->Find("results")->as_array();
      for (size_t at : inserts) live.push_back(results[at].Find("id")->as_int());
      writes_.fetch_add(1);
    }
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> writes_{0};
  std::string writer_error_;
};

TEST_F(FetchPaginationTest, PagesAreOneSnapshotUnderConcurrentWrites) {
  std::mt19937_64 rng(20240501);
  std::vector<int64_t> ids = InsertItems(*db_, kRows, rng);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRows));

  std::thread writer([&, ids] { Writer(ids, 7); });
  PageUnderWrites("k", false);
  PageUnderWrites("k desc", true);
  stop_.store(true);
  writer.join();
  EXPECT_EQ(writer_error_, "");
}

TEST_F(FetchPaginationTest, TamperedAndMisusedCursorsAreInvalidArgument) {
  std::mt19937_64 rng(99);
  const std::vector<int64_t> item_ids = InsertItems(*db_, 500, rng);
  ASSERT_EQ(item_ids.size(), 500u);
  ASSERT_TRUE(db_->Mutate(R"({"ops":[{"op":"insert","entity":"Other","values":{"k":1}}]})").ok());

  const std::string head = "Item(order: k, limit: 10";
  const std::string tail = ") { k }";
  auto first = FetchPage(*db_, head + tail);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->next.has_value());
  const std::string cursor = *first->next;
  ASSERT_FALSE(cursor.empty());

  // The genuine cursor works.
  auto second = FetchPage(*db_, WithAfter(head, tail, cursor));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->version, first->version);

  auto expect_invalid = [&](const std::string& query, const std::string& what,
                            const FetchOptions& opts = {}) {
    auto r = db_->Fetch(query, "{}", opts);
    if (r.ok()) {
      ADD_FAILURE() << what << ": accepted\nquery: " << query
                    << "\nresult: " << r.value()->ToJson();
    } else {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument)
          << what << ": " << r.status().ToString() << "\nquery: " << query;
    }
  };

  // Every single-character change.
  int accepted = 0;
  for (size_t i = 0; i < cursor.size(); ++i) {
    std::string bad = cursor;
    char c = bad[i];
    bad[i] = c == 'A'                 ? 'B'
             : (c >= 'a' && c <= 'z') ? static_cast<char>('a' + (c - 'a' + 1) % 26)
                                      : 'A';
    auto r = db_->Fetch(WithAfter(head, tail, bad), "{}");
    if (r.ok()) {
      ++accepted;
      ADD_FAILURE() << "cursor with character " << i << " of " << cursor.size() << " changed ('"
                    << c << "' -> '" << bad[i] << "') was accepted\ncursor: " << cursor
                    << "\naltered: " << bad;
    } else {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument)
          << "position " << i << ": " << r.status().ToString();
    }
  }
  EXPECT_EQ(accepted, 0);

  // Truncated, extended, empty and foreign text.
  expect_invalid(WithAfter(head, tail, cursor.substr(0, cursor.size() - 1)), "truncated cursor");
  expect_invalid(WithAfter(head, tail, cursor.substr(0, cursor.size() / 2)), "half a cursor");
  expect_invalid(WithAfter(head, tail, cursor + "A"), "extended cursor");
  expect_invalid(WithAfter(head, tail, std::string("")), "empty cursor");
  expect_invalid(WithAfter(head, tail, std::string("not a cursor")), "garbage cursor");
  expect_invalid(WithAfter(head, tail, std::string(4000, 'A')), "long garbage cursor");
  expect_invalid(WithAfter(head, tail, std::string("\xC3\xA9\\u0000")), "non-ASCII cursor");

  // The cursor in another order, entity or include path.
  expect_invalid("Item(order: k desc, limit: 10, after: " + Quote(cursor) + ") { k }",
                 "order k desc");
  expect_invalid("Item(order: [k, name], limit: 10, after: " + Quote(cursor) + ") { k }",
                 "order [k, name]");
  expect_invalid("Item(order: name, limit: 10, after: " + Quote(cursor) + ") { k }", "order name");
  expect_invalid("Item(limit: 10, after: " + Quote(cursor) + ") { k }", "no order (id asc)");
  expect_invalid("Other(order: k, limit: 10, after: " + Quote(cursor) + ") { k }",
                 "another entity");

  // A cursor of another database with the same schema and data.
  {
    const std::string other_dir = dir_ + "/other";
    std::unique_ptr<Database> other = OpenWithSchema(other_dir);
    ASSERT_NE(other, nullptr);
    std::mt19937_64 rng2(99);
    ASSERT_EQ(InsertItems(*other, 500, rng2).size(), 500u);
    ASSERT_TRUE(
        other->Mutate(R"({"ops":[{"op":"insert","entity":"Other","values":{"k":1}}]})").ok());
    auto r = other->Fetch(WithAfter(head, tail, cursor), "{}");
    if (r.ok()) {
      ADD_FAILURE() << "another database's cursor was accepted: " << r.value()->ToJson();
    } else {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().ToString();
    }
  }

  // as_of disagreeing with the cursor's version.
  ASSERT_TRUE(
      db_->Mutate(R"({"ops":[{"op":"insert","entity":"Item","values":{"k":3,"name":"late"}}]})")
          .ok());
  FetchOptions later;
  later.as_of = db_->CurrentVersion();
  ASSERT_NE(*later.as_of, first->version);
  expect_invalid(WithAfter(head, tail, cursor), "as_of other than the cursor's version", later);
  FetchOptions same;
  same.as_of = first->version;
  auto agreed = FetchPage(*db_, WithAfter(head, tail, cursor), same);
  ASSERT_TRUE(agreed.ok()) << agreed.status().ToString();
  EXPECT_EQ(agreed->ids, second->ids);

  // A root cursor as an include's `after`, and an include's cursor at the
  // root: a cursor is bound to its include path.
  auto other = db_->Fetch("Other(limit: 1) { k }");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_EQ(other.value()->roots().size(), 1u);
  const int64_t owner = other.value()->roots()[0].id().int_value;
  Json ops = Json::Array();
  for (size_t i = 0; i < 20; ++i) {
    Json set = Json::Object();
    set.Set("owner", owner);
    Json op = Json::Object();
    op.Set("op", "update").Set("entity", "Item").Set("id", item_ids[i * 7]);
    op.Set("set", std::move(set));
    ops.Push(std::move(op));
  }
  Json doc = Json::Object();
  doc.Set("ops", std::move(ops));
  ASSERT_TRUE(db_->Mutate(ToJson(doc)).ok());
  const std::string inc_query = "Other { k, items(order: k, limit: 3) { k } }";
  auto inc = db_->Fetch(inc_query);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  ASSERT_EQ(inc.value()->roots().size(), 1u);
  std::optional<std::string> inc_cursor = inc.value()->roots()[0].RelatedNext("items");
  ASSERT_TRUE(inc_cursor.has_value()) << inc.value()->ToJson();
  // The include cursor continues its parent's children...
  auto cont =
      db_->Fetch("Other { k, items(order: k, limit: 3, after: " + Quote(*inc_cursor) + ") { k } }");
  EXPECT_TRUE(cont.ok()) << cont.status().ToString();
  // ...but is refused at the root, in another order, and a root cursor is
  // refused as an include's.
  expect_invalid("Item(order: k, limit: 10, after: " + Quote(*inc_cursor) + ") { k }",
                 "include cursor at the root");
  expect_invalid(
      "Other { k, items(order: k desc, limit: 3, after: " + Quote(*inc_cursor) + ") { k } }",
      "include cursor in another order");
  auto fresh = FetchPage(*db_, head + tail);
  ASSERT_TRUE(fresh.ok() && fresh->next.has_value());
  const std::string fresh_root = *fresh->next;
  expect_invalid("Other { k, items(order: k, limit: 3, after: " + Quote(fresh_root) + ") { k } }",
                 "root cursor as an include cursor");
}

}  // namespace
}  // namespace ormdb
