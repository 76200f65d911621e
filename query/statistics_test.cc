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

}  // namespace
}  // namespace ormdb::query
