// Change streams through the public API (DESIGN.md §6, §9 "Change events").
#include "db/change_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"
#include "storage/test_util.h"

namespace ormdb {
namespace {

using std::chrono::milliseconds;

constexpr const char* kSchema = R"(
entity User {
  id: id
  name: string
  age: int32?
  posts: [Post] @inverse(author)
}

entity Post {
  id: id
  title: string
  author: User @on_delete(cascade)
  tags: [Tag] @many(post_tags)
  comments: [Comment] @inverse(post)
}

entity Comment {
  id: id
  body: string
  post: Post @on_delete(cascade)
  author: User? @on_delete(set_null)
}

entity Tag {
  id: id
  name: string
  posts: [Post] @many(post_tags)
  accounts: [Account] @many(account_tags)
}

entity Account {
  id: uuid
  name: string
  devices: [Device] @inverse(owner)
  tags: [Tag] @many(account_tags)
}

entity Device {
  id: uuid
  label: string
  owner: Account? @on_delete(set_null)
}
)";

constexpr const char* kAccount = "11111111-2222-4333-8444-555555555555";
constexpr const char* kDevice = "66666666-7777-4888-8999-aaaaaaaaaaaa";

class ChangeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }

  void Open(const OpenOptions& options) {
    db_.reset();
    auto db = Database::Open(dir_.path(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    if (db_->CurrentVersion() == 0) {
      auto r = db_->ApplySchema(kSchema);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      schema_version_ = r->commit_version;
    }
  }

  // Commits a batch of ops (the JSON array's elements) and returns its version.
  uint64_t Mutate(const std::string& ops) {
    auto r = db_->Mutate(R"({"ops": [)" + ops + "]}");
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << ops;
    return r.ok() ? r->version : 0;
  }

  WatchBatch Watch(WatchOptions options) {
    auto r = db_->Watch(options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : WatchBatch{};
  }

  // The events after `from`, unfiltered.
  std::vector<std::string> EventsAfter(uint64_t from) {
    WatchOptions o;
    o.from = from;
    return Watch(o).events;
  }

  // The "op" (and entity or relation) of each event: "insert User", "unlink Post.tags", "schema".
  static std::vector<std::string> Shapes(const std::vector<std::string>& events) {
    std::vector<std::string> out;
    for (const std::string& e : events) {
      auto j = ParseJson(e);
      EXPECT_TRUE(j.ok()) << e;
      if (!j.ok()) continue;
      std::string s = j->Find("op")->as_string();
      if (const Json* n = j->Find("entity")) s += " " + n->as_string();
      if (const Json* n = j->Find("relation")) s += " " + n->as_string();
      out.push_back(s);
    }
    return out;
  }

  static uint64_t VersionOf(const std::string& event) {
    auto j = ParseJson(event);
    EXPECT_TRUE(j.ok()) << event;
    return j.ok() ? static_cast<uint64_t>(j->Find("version")->as_int()) : 0;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  uint64_t schema_version_ = 0;
};

TEST_F(ChangeStreamTest, RowEventsCarryBothImagesAndTheChangedFields) {
  uint64_t start = db_->CurrentVersion();
  uint64_t v1 = Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}})");
  uint64_t v2 = Mutate(R"({"op": "update", "entity": "User", "id": 1, "set": {"age": 30}})");
  uint64_t v3 = Mutate(R"({"op": "update", "entity": "User", "id": 1, "set": {"age": 30}})");
  uint64_t v4 = Mutate(R"({"op": "delete", "entity": "User", "id": 1})");
  std::string V1 = std::to_string(v1), V2 = std::to_string(v2), V3 = std::to_string(v3),
              V4 = std::to_string(v4);
  std::vector<std::string> want = {
      R"({"version":)" + V1 +
          R"(,"op":"insert","entity":"User","id":1,"before":null,)"
          R"("after":{"id":1,"name":"ann","age":null},"changed":["name"]})",
      R"({"version":)" + V2 +
          R"(,"op":"update","entity":"User","id":1,"before":{"id":1,"name":"ann","age":null},)"
          R"("after":{"id":1,"name":"ann","age":30},"changed":["age"]})",
      // An update that sets what was there is still an event, with nothing changed.
      R"({"version":)" + V3 +
          R"(,"op":"update","entity":"User","id":1,"before":{"id":1,"name":"ann","age":30},)"
          R"("after":{"id":1,"name":"ann","age":30},"changed":[]})",
      R"({"version":)" + V4 +
          R"(,"op":"delete","entity":"User","id":1,"before":{"id":1,"name":"ann","age":30},)"
          R"("after":null,"changed":["name","age"]})",
  };
  WatchOptions o;
  o.from = start;
  WatchBatch b = Watch(o);
  EXPECT_EQ(b.events, want);
  EXPECT_EQ(b.token, v4);
}

TEST_F(ChangeStreamTest, LinkAndUnlinkAreNamedFromTheDeclaringSide) {
  uint64_t start = Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}},
      {"op": "insert", "entity": "Post", "values": {"title": "t", "author": 1}},
      {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}})");
  // Named from the other side, stored (and reported) forward.
  uint64_t v1 = Mutate(R"({"op": "link", "relation": "Tag.posts", "from": 1, "to": 1})");
  uint64_t v2 = Mutate(R"({"op": "unlink", "relation": "Post.tags", "from": 1, "to": 1})");
  std::vector<std::string> want = {
      R"({"version":)" + std::to_string(v1) +
          R"(,"op":"link","relation":"Post.tags","from":1,"to":1})",
      R"({"version":)" + std::to_string(v2) +
          R"(,"op":"unlink","relation":"Post.tags","from":1,"to":1})",
  };
  EXPECT_EQ(EventsAfter(start), want);
}

TEST_F(ChangeStreamTest, OneTransactionsEventsComeTogetherInTheOrderTheyHappened) {
  uint64_t v = Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}, "as": "u"},
      {"op": "insert", "entity": "Post", "values": {"title": "t", "author": {"ref": "u"}}, "as": "p"},
      {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}, "as": "t"},
      {"op": "link", "relation": "Post.tags", "from": {"ref": "p"}, "to": {"ref": "t"}},
      {"op": "update", "entity": "User", "id": {"ref": "u"}, "set": {"age": 3}})");
  std::vector<std::string> events = EventsAfter(v - 1);
  EXPECT_EQ(Shapes(events), (std::vector<std::string>{"insert User", "insert Post", "insert Tag",
                                                      "link Post.tags", "update User"}));
  for (const std::string& e : events) EXPECT_EQ(VersionOf(e), v) << e;
}

TEST_F(ChangeStreamTest, CascadedDeletesSetNullUpdatesAndUnlinksAreEventsOfTheirOwn) {
  uint64_t start = Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}},
      {"op": "insert", "entity": "User", "values": {"name": "bob"}},
      {"op": "insert", "entity": "Post", "values": {"title": "ann's", "author": 1}},
      {"op": "insert", "entity": "Post", "values": {"title": "bob's", "author": 2}},
      {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}},
      {"op": "link", "relation": "Post.tags", "from": 1, "to": 1},
      {"op": "insert", "entity": "Comment", "values": {"body": "on ann's", "post": 1, "author": 2}},
      {"op": "insert", "entity": "Comment", "values": {"body": "by ann", "post": 2, "author": 1}})");
  uint64_t v = Mutate(R"({"op": "delete", "entity": "User", "id": 1})");
  std::vector<std::string> events = EventsAfter(start);
  // Ann's post goes (its comment first, then its edge, then the post), her
  // comment on Bob's post loses its author, then she goes.
  EXPECT_EQ(Shapes(events),
            (std::vector<std::string>{"delete Comment", "unlink Post.tags", "delete Post",
                                      "update Comment", "delete User"}));
  ASSERT_EQ(events.size(), 5u);
  std::string V = std::to_string(v);
  EXPECT_EQ(events[0], R"({"version":)" + V +
                           R"(,"op":"delete","entity":"Comment","id":1,)"
                           R"("before":{"id":1,"body":"on ann's","post":1,"author":2},)"
                           R"("after":null,"changed":["body","post","author"]})");
  EXPECT_EQ(events[1],
            R"({"version":)" + V + R"(,"op":"unlink","relation":"Post.tags","from":1,"to":1})");
  EXPECT_EQ(events[3], R"({"version":)" + V +
                           R"(,"op":"update","entity":"Comment","id":2,)"
                           R"("before":{"id":2,"body":"by ann","post":2,"author":1},)"
                           R"("after":{"id":2,"body":"by ann","post":2,"author":null},)"
                           R"("changed":["author"]})");
  EXPECT_EQ(VersionOf(events[4]), v);
}

TEST_F(ChangeStreamTest, UuidIdsAreRenderedAsUuidsEvenForRowsTheTransactionDeleted) {
  std::string A = std::string("\"") + kAccount + "\"", D = std::string("\"") + kDevice + "\"";
  uint64_t start = Mutate(R"({"op": "insert", "entity": "Account", "values": {"id": )" + A +
                          R"(, "name": "acme"}},
      {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}})");
  uint64_t v1 = Mutate(R"({"op": "insert", "entity": "Device", "values": {"id": )" + D +
                       R"(, "label": "phone", "owner": )" + A + R"(}},
      {"op": "link", "relation": "Account.tags", "from": )" +
                       A + R"(, "to": 1})");
  uint64_t v2 = Mutate(R"({"op": "delete", "entity": "Account", "id": )" + A + "}");
  std::string V1 = std::to_string(v1), V2 = std::to_string(v2);
  // account_tags is declared first in Tag: "Tag.accounts" is its forward name.
  std::vector<std::string> want = {
      R"({"version":)" + V1 + R"(,"op":"insert","entity":"Device","id":)" + D +
          R"(,"before":null,"after":{"id":)" + D + R"(,"label":"phone","owner":)" + A +
          R"(},"changed":["label","owner"]})",
      R"({"version":)" + V1 + R"(,"op":"link","relation":"Tag.accounts","from":1,"to":)" + A + "}",
      // The account is gone at v2, yet the device's before image and the
      // unlink still name it by its uuid.
      R"({"version":)" + V2 + R"(,"op":"update","entity":"Device","id":)" + D +
          R"(,"before":{"id":)" + D + R"(,"label":"phone","owner":)" + A + R"(},"after":{"id":)" +
          D + R"(,"label":"phone","owner":null},"changed":["owner"]})",
      R"({"version":)" + V2 + R"(,"op":"unlink","relation":"Tag.accounts","from":1,"to":)" + A +
          "}",
      R"({"version":)" + V2 + R"(,"op":"delete","entity":"Account","id":)" + A +
          R"(,"before":{"id":)" + A + R"(,"name":"acme"},"after":null,"changed":["name"]})",
  };
  EXPECT_EQ(EventsAfter(start), want);
}

TEST_F(ChangeStreamTest, SchemaChangesAreEventsSoVersionsHaveNoHoles) {
  Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}})");
  auto applied = db_->ApplySchema(std::string(kSchema) + "\nentity Extra {\n  id: id\n}\n");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  Mutate(R"({"op": "insert", "entity": "Extra", "values": {}})");
  std::vector<std::string> events = EventsAfter(0);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), R"({"version":1,"op":"schema"})");
  uint64_t expected = 1;
  for (const std::string& e : events) {
    uint64_t v = VersionOf(e);
    EXPECT_TRUE(v == expected || v == expected + 1) << e;
    expected = v;
  }
  EXPECT_EQ(expected, db_->CurrentVersion());
  EXPECT_EQ(Shapes(events),
            (std::vector<std::string>{"schema", "insert User", "schema", "insert Extra"}));
  // A filter keeps schema events.
  WatchOptions o;
  o.from = 0;
  o.entities = {"Tag"};
  EXPECT_EQ(Shapes(Watch(o).events), (std::vector<std::string>{"schema", "schema"}));
}

// An index built over existing rows commits in batches: each of those
// commits is a schema event too, so every version has an event.
TEST_F(ChangeStreamTest, IndexBuildCommitsAreSchemaEventsSoVersionsHaveNoHoles) {
  for (int i = 0; i < 5; ++i) {
    Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "u)" + std::to_string(i) +
           R"("}})");
  }
  std::string next = kSchema;
  next.replace(next.find("  name: string\n"), std::string("  name: string\n").size(),
               "  name: string @index\n");
  auto applied = db_->ApplySchema(next);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_EQ(applied->indexes_built, 1u);
  std::vector<std::string> events = EventsAfter(0);
  std::set<uint64_t> versions;
  for (const std::string& e : events) versions.insert(VersionOf(e));
  for (uint64_t v = 1; v <= db_->CurrentVersion(); ++v) {
    EXPECT_TRUE(versions.count(v)) << "no event at version " << v;
  }
}

TEST_F(ChangeStreamTest, RowsWrittenUnderAnOlderSchemaRenderWithTheNewerOne) {
  Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "cpp"}})");
  std::string next = kSchema;
  next.replace(next.find("  name: string\n  posts: [Post] @many(post_tags)"), 0,
               "  color: string?\n");
  auto applied = db_->ApplySchema(next);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  uint64_t v = Mutate(R"({"op": "update", "entity": "Tag", "id": 1, "set": {"color": "red"}})");
  EXPECT_EQ(
      EventsAfter(v - 1),
      (std::vector<std::string>{
          R"({"version":)" + std::to_string(v) +
          R"(,"op":"update","entity":"Tag","id":1,"before":{"id":1,"color":null,"name":"cpp"},)"
          R"("after":{"id":1,"color":"red","name":"cpp"},"changed":["color"]})"}));
}

TEST_F(ChangeStreamTest, TheEntityFilterSelectsRowsAndRelationsOnEitherSide) {
  uint64_t start = db_->CurrentVersion();
  Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}},
      {"op": "insert", "entity": "Post", "values": {"title": "t", "author": 1}},
      {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}},
      {"op": "insert", "entity": "Comment", "values": {"body": "b", "post": 1}},
      {"op": "link", "relation": "Post.tags", "from": 1, "to": 1})");
  WatchOptions o;
  o.from = start;
  o.entities = {"Tag"};
  EXPECT_EQ(Shapes(Watch(o).events), (std::vector<std::string>{"insert Tag", "link Post.tags"}));
  o.entities = {"Post"};
  EXPECT_EQ(Shapes(Watch(o).events), (std::vector<std::string>{"insert Post", "link Post.tags"}));
  o.entities = {"User", "Comment"};
  EXPECT_EQ(Shapes(Watch(o).events), (std::vector<std::string>{"insert User", "insert Comment"}));
}

TEST_F(ChangeStreamTest, MaxEventsNeverSplitsATransaction) {
  uint64_t start = db_->CurrentVersion();
  uint64_t v1 = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "a"}},
      {"op": "insert", "entity": "Tag", "values": {"name": "b"}},
      {"op": "insert", "entity": "Tag", "values": {"name": "c"}})");
  uint64_t v2 = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "d"}})");
  uint64_t v3 = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "e"}})");
  WatchOptions o;
  o.from = start;
  o.max_events = 2;
  WatchBatch b = Watch(o);
  EXPECT_EQ(b.events.size(), 3u);
  EXPECT_EQ(b.token, v1);
  o.from = b.token;
  b = Watch(o);
  EXPECT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.token, v3);
  EXPECT_EQ(VersionOf(b.events[0]), v2);
  o.from = b.token;
  b = Watch(o);
  EXPECT_TRUE(b.events.empty());
  EXPECT_EQ(b.token, v3);
}

TEST_F(ChangeStreamTest, TheTokenAdvancesPastFilteredOutVersions) {
  uint64_t start = db_->CurrentVersion();
  Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "ann"}})");
  uint64_t last = Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "bob"}})");
  WatchOptions o;
  o.from = start;
  o.entities = {"Tag"};
  WatchBatch b = Watch(o);
  EXPECT_TRUE(b.events.empty());
  EXPECT_EQ(b.token, last);
  // Without a from: the current version, nothing to read.
  b = Watch(WatchOptions{});
  EXPECT_TRUE(b.events.empty());
  EXPECT_EQ(b.token, last);
}

TEST_F(ChangeStreamTest, AWaitEndsWhenAMatchingCommitArrives) {
  uint64_t start = db_->CurrentVersion();
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(100));
    Mutate(R"({"op": "insert", "entity": "User", "values": {"name": "filtered out"}})");
    std::this_thread::sleep_for(milliseconds(200));
    Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "cpp"}})");
  });
  WatchOptions o;
  o.from = start;
  o.entities = {"Tag"};
  o.wait = milliseconds(20000);
  auto t0 = std::chrono::steady_clock::now();
  WatchBatch b = Watch(o);
  auto took = std::chrono::steady_clock::now() - t0;
  writer.join();
  EXPECT_EQ(Shapes(b.events), (std::vector<std::string>{"insert Tag"}));
  EXPECT_EQ(b.token, start + 2);
  EXPECT_GE(took, milliseconds(250));  // the filtered-out commit did not end the wait
  EXPECT_LT(took, milliseconds(10000));
}

TEST_F(ChangeStreamTest, AWaitWithNothingToReadReturnsEmptyAfterTheTimeout) {
  WatchOptions o;
  o.wait = milliseconds(200);
  auto t0 = std::chrono::steady_clock::now();
  WatchBatch b = Watch(o);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(b.events.empty());
  EXPECT_EQ(b.token, db_->CurrentVersion());
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(5000));
}

TEST_F(ChangeStreamTest, AFollowerSeesEveryCommitOnceInOrder) {
  constexpr int kCommits = 60;
  uint64_t start = db_->CurrentVersion();
  std::thread writer([&] {
    for (int i = 0; i < kCommits; ++i) {
      Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "t)" + std::to_string(i) +
             R"("}})");
    }
  });
  std::vector<uint64_t> seen;
  WatchOptions o;
  o.from = start;
  o.wait = milliseconds(5000);
  o.max_events = 7;
  while (seen.size() < kCommits) {
    auto b = db_->Watch(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    if (b->events.empty()) break;  // the wait ran out: a commit went missing
    for (const std::string& e : b->events) seen.push_back(VersionOf(e));
    EXPECT_EQ(b->token, seen.back());
    o.from = b->token;
  }
  writer.join();
  std::vector<uint64_t> want;
  for (int i = 1; i <= kCommits; ++i) want.push_back(start + i);
  EXPECT_EQ(seen, want);
}

TEST_F(ChangeStreamTest, BadRequestsFailWithTheirCodes) {
  WatchOptions o;
  o.from = db_->CurrentVersion() + 1;
  auto r = db_->Watch(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().ToString();

  o = WatchOptions{};
  o.entities = {"Tag", "Pots"};
  r = db_->Watch(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kSchemaError);
  EXPECT_NE(r.status().message().find("'Pots'"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("did you mean 'Post'"), std::string::npos)
      << r.status().ToString();
}

TEST_F(ChangeStreamTest, AFetchVersionIsATokenThatMissesNothing) {
  Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "a"}})");
  auto fetched = db_->Fetch("Tag { name }");
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  uint64_t snapshot = (*fetched)->version();
  uint64_t v1 = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "b"}})");
  uint64_t v2 = Mutate(R"({"op": "update", "entity": "Tag", "id": 1, "set": {"name": "c"}})");
  std::vector<std::string> events = EventsAfter(snapshot);
  EXPECT_EQ(Shapes(events), (std::vector<std::string>{"insert Tag", "update Tag"}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(VersionOf(events[0]), v1);
  EXPECT_EQ(VersionOf(events[1]), v2);
}

class ChangeStreamRetentionTest : public ChangeStreamTest {
 protected:
  void SetUp() override {}
  static OpenOptions NoRetention() {
    OpenOptions o;
    o.retention_seconds = 0;
    o.retention_versions = 0;
    return o;
  }
};

TEST_F(ChangeStreamRetentionTest, ATokenBelowRetentionIsHistoryLost) {
  Open(NoRetention());
  uint64_t token = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "a"}})");
  Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "b"}})");
  ASSERT_TRUE(db_->Vacuum().ok());
  WatchOptions o;
  o.from = token;
  auto r = db_->Watch(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kHistoryLost) << r.status().ToString();
  std::string current = std::to_string(db_->CurrentVersion());
  EXPECT_NE(r.status().message().find("token " + std::to_string(token)), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("oldest readable version is " + current), std::string::npos)
      << r.status().ToString();
  // The current version is still a token.
  o.from = db_->CurrentVersion();
  EXPECT_TRUE(db_->Watch(o).ok());
}

TEST_F(ChangeStreamRetentionTest, ASubscribersPinKeepsItsHistoryUntilItLagsTooFar) {
  OpenOptions options = NoRetention();
  options.subscriber_max_lag_versions = 3;
  Open(options);
  WatchOptions named;
  named.subscriber = "mailer";
  uint64_t token = Watch(named).token;

  uint64_t v1 = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "a"}})");
  uint64_t v2 = Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "b"}})");
  ASSERT_TRUE(db_->Vacuum().ok());
  // History before the subscriber's token is gone; after it, kept.
  WatchOptions anonymous;
  anonymous.from = token - 1;
  auto lost = db_->Watch(anonymous);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kHistoryLost);
  named.from = token;
  WatchBatch b = Watch(named);
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(VersionOf(b.events[0]), v1);
  EXPECT_EQ(b.token, v2);

  // It now falls four versions behind: the pin goes at the next vacuum.
  for (const char* name : {"c", "d", "e", "f"}) {
    Mutate(std::string(R"({"op": "insert", "entity": "Tag", "values": {"name": ")") + name +
           "\"}}");
  }
  ASSERT_TRUE(db_->Vacuum().ok());
  named.from = b.token;
  auto r = db_->Watch(named);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kHistoryLost) << r.status().ToString();
}

TEST_F(ChangeStreamRetentionTest, AnIdleSubscribersPinIsReleased) {
  OpenOptions options = NoRetention();
  options.subscriber_idle_seconds = 1;
  Open(options);
  WatchOptions named;
  named.subscriber = "idle";
  uint64_t token = Watch(named).token;
  Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "a"}})");
  ASSERT_TRUE(db_->Vacuum().ok());  // still pinned
  named.from = token;
  WatchBatch b = Watch(named);
  EXPECT_EQ(b.events.size(), 1u);
  Mutate(R"({"op": "insert", "entity": "Tag", "values": {"name": "b"}})");
  std::this_thread::sleep_for(milliseconds(1100));
  ASSERT_TRUE(db_->Vacuum().ok());
  named.from = b.token;
  auto r = db_->Watch(named);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kHistoryLost) << r.status().ToString();
}

// The server records each write's request key in the write's own
// transaction (exactly-once writes); that record is bookkeeping, not an event.
TEST(ChangeStreamRender, RequestRecordsAreNotEvents) {
  storage::testing::TempDir dir;
  auto store = storage::Store::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto catalog = catalog::Catalog::Open(store->get());
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  storage::ChangeSet cs;
  cs.version = 1;
  cs.records.emplace_back(storage::RequestRecord{"client-1/req-7"});
  cs.records.emplace_back(storage::Annotation{"schema 1"});
  cs.records.emplace_back(storage::RequestRecord{"client-1/req-8"});
  auto events = RenderChangeSet(cs, **catalog, **store, {});
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_EQ(*events, (std::vector<std::string>{R"({"version":1,"op":"schema"})"}));
}

}  // namespace
}  // namespace ormdb
