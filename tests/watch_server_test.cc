// Change streams through a real server (DESIGN.md §6): concurrent writers
// and subscribers, one of which keeps disconnecting and resuming; every
// subscriber must see exactly the committed transactions, in order, each
// whole, nothing twice. Also HISTORY_LOST after vacuum and the
// snapshot-then-stream handoff.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/json.h"
#include "ormdb/database.h"
#include "tests/served_database.h"

#ifndef ORMDB_TEST_DATA_DIR
#error "define ORMDB_TEST_DATA_DIR as the path of tests/data"
#endif

namespace ormdb {
namespace {

std::string BlogSchema() {
  std::ifstream in(std::string(ORMDB_TEST_DATA_DIR) + "/blog.ormdb");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class WatchServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ormdb_watch_server_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    served_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Serve(const OpenOptions& open = {}) {
    auto s = testing::ServedDatabase::Start(dir_ + "/db", open);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    served_ = std::move(s).value();
    auto applied = served_->ApplySchema(BlogSchema());
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }
  std::unique_ptr<Database> Client() {
    auto c = Database::Connect(served_->url());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::string dir_;
  std::unique_ptr<testing::ServedDatabase> served_;
};

TEST_F(WatchServerTest, FourWritersThreeSubscribersOneResumingSeeEveryTransactionOnce) {
  ASSERT_NO_FATAL_FAILURE(Serve());
  const uint64_t start = served_->CurrentVersion();
  constexpr int kWriters = 4, kTxnsPerWriter = 60;

  // What the writers committed: version -> the event count it must produce.
  std::mutex committed_mu;
  std::map<uint64_t, std::string> committed;  // version -> user email
  std::atomic<int> writers_done{0};

  auto writer = [&](int w) {
    auto db = Client();
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < kTxnsPerWriter; ++i) {
      std::string email = "w" + std::to_string(w) + "_" + std::to_string(i) + "@x";
      // One transaction, two events: an insert of a user and one of a post.
      auto r = db->Mutate(R"({"ops":[{"op":"insert","entity":"User","values":{"email":")" + email +
                          R"(","name":"n"},"as":"u"},{"op":"insert","entity":"Post",)" +
                          R"("values":{"title":"t","author":{"ref":"u"}}}]})");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::lock_guard<std::mutex> lock(committed_mu);
      committed[r->version] = email;
    }
    writers_done.fetch_add(1);
  };

  // A subscriber pulls until it has seen every writer's commits. The
  // resuming one drops its connection every few batches and reconnects from
  // its last token.
  auto subscriber = [&](bool resuming, std::vector<std::string>* events) {
    auto db = Client();
    ASSERT_NE(db, nullptr);
    WatchOptions o;
    o.from = start;
    o.max_events = 7;
    o.wait = std::chrono::milliseconds(200);
    o.subscriber = resuming ? "resumer" : "";
    int batches = 0;
    for (;;) {
      auto b = db->Watch(o);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      for (std::string& e : b->events) events->push_back(std::move(e));
      o.from = b->token;
      if (resuming && ++batches % 3 == 0) {
        db.reset();  // disconnect; resume from the token on a new connection
        db = Client();
        ASSERT_NE(db, nullptr);
      }
      if (writers_done.load() == kWriters && b->events.empty() &&
          *o.from >= served_->CurrentVersion()) {
        break;
      }
    }
  };

  std::vector<std::string> seen[3];
  std::vector<std::thread> threads;
  for (int s = 0; s < 3; ++s) threads.emplace_back(subscriber, s == 2, &seen[s]);
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(committed.size(), static_cast<size_t>(kWriters * kTxnsPerWriter));

  // The change log, read in one pull after everything settled.
  WatchOptions all;
  all.from = start;
  all.max_events = 100000;
  auto log = served_->Watch(all);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->events.size(), committed.size() * 2);

  // The log itself matches what the writers were told: every acknowledged
  // version, in order, each transaction's two events together.
  auto it = committed.begin();
  for (size_t i = 0; i < log->events.size(); i += 2, ++it) {
    auto user = ParseJson(log->events[i]);
    auto post = ParseJson(log->events[i + 1]);
    ASSERT_TRUE(user.ok() && post.ok());
    EXPECT_EQ(static_cast<uint64_t>(user->Find("version")->as_int()), it->first);
    EXPECT_EQ(static_cast<uint64_t>(post->Find("version")->as_int()), it->first);
    EXPECT_EQ(user->Find("entity")->as_string(), "User");
    EXPECT_EQ(user->Find("after")->Find("email")->as_string(), it->second);
    EXPECT_EQ(post->Find("entity")->as_string(), "Post");
  }
  // Each subscriber saw exactly the log: no gap, no duplicate, same order.
  for (int s = 0; s < 3; ++s) {
    ASSERT_EQ(seen[s].size(), log->events.size()) << "subscriber " << s;
    for (size_t i = 0; i < seen[s].size(); ++i) {
      ASSERT_EQ(seen[s][i], log->events[i]) << "subscriber " << s << " event " << i;
    }
  }
}

TEST_F(WatchServerTest, ATokenBelowRetentionIsHistoryLostAfterVacuum) {
  OpenOptions open;
  open.retention_seconds = 0;
  open.retention_versions = 1;
  ASSERT_NO_FATAL_FAILURE(Serve(open));
  const uint64_t old_token = served_->CurrentVersion();
  for (int i = 0; i < 5; ++i) {
    auto r = served_->Mutate(R"({"ops":[{"op":"insert","entity":"Tag","values":{"name":"t)" +
                             std::to_string(i) + R"("}}]})");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  WatchOptions o;
  o.from = old_token;
  ASSERT_TRUE(served_->Watch(o).ok()) << "readable before vacuum";
  auto v = served_->Vacuum();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto lost = served_->Watch(o);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kHistoryLost) << lost.status().ToString();
  // The current version is still a valid token.
  o.from = served_->CurrentVersion();
  EXPECT_TRUE(served_->Watch(o).ok());
}

TEST_F(WatchServerTest, SnapshotThenStreamMissesNothing) {
  ASSERT_NO_FATAL_FAILURE(Serve());
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0};
  std::thread writer([&] {
    auto db = Client();
    ASSERT_NE(db, nullptr);
    for (int i = 0; !stop.load() || i < 20; ++i) {
      auto r = db->Mutate(R"({"ops":[{"op":"insert","entity":"Tag","values":{"name":"tag)" +
                          std::to_string(i) + R"("}}]})");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      inserted.fetch_add(1);
    }
  });
  while (inserted.load() < 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The snapshot: every tag at the fetch's version.
  auto snap = served_->Fetch("Tag(limit: 100000) { name }");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  std::set<std::string> names;
  for (const ResultObject& t : (*snap)->roots()) {
    names.insert(std::string(t.Get("name")->string_value));
  }
  stop.store(true);
  writer.join();
  // Then the stream from the snapshot's version.
  WatchOptions o;
  o.from = (*snap)->version();
  o.entities = {"Tag"};
  o.max_events = 100000;
  auto events = served_->Watch(o);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  for (const std::string& e : events->events) {
    auto j = ParseJson(e);
    ASSERT_TRUE(j.ok());
    ASSERT_EQ(j->Find("op")->as_string(), "insert");
    std::string name = j->Find("after")->Find("name")->as_string();
    EXPECT_TRUE(names.insert(name).second) << name << " is in the snapshot and the stream";
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(inserted.load()))
      << "the snapshot plus the stream must hold every insert exactly once";
}

}  // namespace
}  // namespace ormdb
