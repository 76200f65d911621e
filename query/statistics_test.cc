// Statistics kept up to date from the change log agree with a recount.
#include "query/statistics.h"

#include <gtest/gtest.h>

#include "query/test_util.h"

namespace ormdb::query {
namespace {

class StatisticsTest : public testing::BlogDatabaseTest {
 protected:
  struct Numbers {
    uint64_t users, posts;
    Fanout posts_per_user, tags_per_post, posts_per_tag;
  };

  Numbers Read(Statistics& s) {
    auto schema = catalog_->current();
    const catalog::EntityInfo* user = schema->FindEntity("User");
    const catalog::EntityInfo* post = schema->FindEntity("Post");
    const catalog::EntityInfo* tag = schema->FindEntity("Tag");
    auto [edge, forward] = *schema->FindRelation("Post.tags");
    Numbers n;
    n.users = *s.Rows(user->id);
    n.posts = *s.Rows(post->id);
    n.posts_per_user =
        *s.ReferenceFanout(post->id, post->fields[post->FieldIndex("author")].id, user->id);
    n.tags_per_post = *s.EdgeFanout(edge->id, true, post->id);
    n.posts_per_tag = *s.EdgeFanout(edge->id, false, tag->id);
    return n;
  }
};

TEST_F(StatisticsTest, IncrementalEqualsRecount) {
  Mutate(R"({"ops": [
    {"op": "insert", "entity": "User", "values": {"email": "a", "name": "A"}},
    {"op": "insert", "entity": "User", "values": {"email": "b", "name": "B"}},
    {"op": "insert", "entity": "Post", "values": {"title": "p1", "author": 1}},
    {"op": "insert", "entity": "Tag", "values": {"name": "t1"}},
    {"op": "link", "relation": "Post.tags", "from": 1, "to": 1}]})");
  Statistics live(store_.get(), catalog_.get());
  Numbers before = Read(live);
  EXPECT_EQ(before.users, 2u);
  EXPECT_EQ(before.posts, 1u);
  EXPECT_EQ(before.posts_per_user.max, 1u);
  EXPECT_DOUBLE_EQ(before.posts_per_user.average, 0.5);

  // Inserts, a reference change, a delete that cascades, links and unlinks.
  Mutate(R"({"ops": [
    {"op": "insert", "entity": "Post", "values": {"title": "p2", "author": 1}},
    {"op": "insert", "entity": "Post", "values": {"title": "p3", "author": 1}},
    {"op": "insert", "entity": "Post", "values": {"title": "p4", "author": 2}},
    {"op": "insert", "entity": "Tag", "values": {"name": "t2"}},
    {"op": "link", "relation": "Post.tags", "from": 2, "to": 1},
    {"op": "link", "relation": "Post.tags", "from": 2, "to": 2},
    {"op": "link", "relation": "Post.tags", "from": 4, "to": 2}]})");
  Mutate(R"({"ops": [
    {"op": "update", "entity": "Post", "id": 3, "set": {"author": 2}},
    {"op": "unlink", "relation": "Post.tags", "from": 1, "to": 1},
    {"op": "insert", "entity": "User", "values": {"email": "c", "name": "C"}},
    {"op": "delete", "entity": "User", "id": 2}]})");

  Numbers after = Read(live);
  Statistics fresh(store_.get(), catalog_.get());
  Numbers recount = Read(fresh);
  EXPECT_EQ(after.users, 2u);  // A and C
  EXPECT_EQ(after.posts, 2u);  // p1, p2 (p3 and p4 cascaded with B)
  EXPECT_EQ(after.users, recount.users);
  EXPECT_EQ(after.posts, recount.posts);
  EXPECT_EQ(after.posts_per_user.children, recount.posts_per_user.children);
  EXPECT_EQ(after.posts_per_user.parents, recount.posts_per_user.parents);
  EXPECT_DOUBLE_EQ(after.posts_per_user.average, recount.posts_per_user.average);
  EXPECT_EQ(after.tags_per_post.children, recount.tags_per_post.children);
  EXPECT_EQ(after.tags_per_post.parents, recount.tags_per_post.parents);
  EXPECT_EQ(after.posts_per_tag.children, recount.posts_per_tag.children);
  EXPECT_EQ(after.posts_per_tag.children, 2u);  // (2,1), (2,2); (4,2) went with p4
  // The maximum only grows between recounts: an upper bound.
  EXPECT_GE(after.posts_per_user.max, recount.posts_per_user.max);
}

// Posts for user 1 (and a tag linked to each), as one batch.
std::string PostsBatch(int first, int n) {
  std::string ops;
  for (int i = 0; i < n; ++i) {
    if (!ops.empty()) ops += ",";
    ops += R"({"op": "insert", "entity": "Post", "values": {"title": "p)" +
           std::to_string(first + i) + R"(", "author": 1}})";
  }
  return R"({"ops": [)" + ops + "]}";
}

TEST_F(StatisticsTest, SavedCopyIsLoadedInsteadOfCounting) {
  Mutate(R"({"ops": [
    {"op": "insert", "entity": "User", "values": {"email": "a", "name": "A"}},
    {"op": "insert", "entity": "User", "values": {"email": "b", "name": "B"}},
    {"op": "insert", "entity": "Tag", "values": {"name": "t1"}}]})");
  Mutate(PostsBatch(1, 8));
  Mutate(R"({"ops": [{"op": "link", "relation": "Post.tags", "from": 1, "to": 1},
    {"op": "link", "relation": "Post.tags", "from": 2, "to": 1}]})");
  Statistics first(store_.get(), catalog_.get());
  Numbers counted = Read(first);
  EXPECT_EQ(first.recounts(), 3u);  // posts per user, both edge directions
  ASSERT_TRUE(first.WaitSaved().ok());

  // A second instance (a new process) reads the saved copy: no recount.
  Statistics second(store_.get(), catalog_.get());
  Numbers loaded = Read(second);
  EXPECT_EQ(second.recounts(), 0u);
  EXPECT_EQ(loaded.users, 2u);
  EXPECT_EQ(loaded.posts, 8u);
  EXPECT_EQ(loaded.posts_per_user.children, counted.posts_per_user.children);
  EXPECT_EQ(loaded.posts_per_user.parents, 1u);
  EXPECT_EQ(loaded.posts_per_user.max, 8u);
  EXPECT_DOUBLE_EQ(loaded.posts_per_user.average, 4.0);
  EXPECT_EQ(loaded.tags_per_post.children, 2u);
  EXPECT_EQ(loaded.posts_per_tag.parents, counted.posts_per_tag.parents);

  // Changes after the saved version are caught up from the change log:
  // the children stay exact; under a quarter of change, no recount.
  Mutate(PostsBatch(9, 1));
  Statistics third(store_.get(), catalog_.get());
  Numbers caught_up = Read(third);
  EXPECT_EQ(third.recounts(), 0u);
  EXPECT_EQ(caught_up.posts, 9u);
  EXPECT_EQ(caught_up.posts_per_user.children, 9u);
  EXPECT_DOUBLE_EQ(caught_up.posts_per_user.average, 4.5);
  EXPECT_EQ(caught_up.tags_per_post.children, 2u);
  EXPECT_DOUBLE_EQ(caught_up.tags_per_post.average, 2.0 / 9);

  // Past a quarter, the relation is read whole again (and its maximum is
  // exact again).
  Mutate(PostsBatch(10, 8));
  Statistics fourth(store_.get(), catalog_.get());
  Numbers recounted = Read(fourth);
  EXPECT_EQ(fourth.recounts(), 1u);  // posts per user; the tags did not change
  EXPECT_EQ(recounted.posts_per_user.children, 17u);
  EXPECT_EQ(recounted.posts_per_user.max, 17u);
}

TEST_F(StatisticsTest, UnreadableSavedCopyIsIgnored) {
  Mutate(R"({"ops": [{"op": "insert", "entity": "User", "values": {"email": "a", "name": "A"}}]})");
  Mutate(PostsBatch(1, 3));
  for (std::string bad : {std::string("ormdb-statistics 2\nversion 1\n"),
                          std::string("ormdb-statistics 1\nversion 999\n"),
                          std::string("ormdb-statistics 1\nversion 1\nref 1 x\n"), std::string()}) {
    ASSERT_TRUE(store_
                    ->SubmitMaintenance([&](storage::WriteTxn& txn) {
                      return txn.PutMeta(Statistics::kSavedKey, bad);
                    })
                    .get()
                    .ok());
    Statistics s(store_.get(), catalog_.get());
    Numbers n = Read(s);
    EXPECT_EQ(s.recounts(), 3u) << bad;
    EXPECT_EQ(n.posts_per_user.children, 3u) << bad;
    EXPECT_EQ(n.posts_per_user.max, 3u) << bad;
  }
}

}  // namespace
}  // namespace ormdb::query
