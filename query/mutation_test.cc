#include "query/mutation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "catalog/catalog.h"
#include "query/json_values.h"
#include "storage/store.h"
#include "storage/test_util.h"

namespace ormdb::query {
namespace {

using storage::testing::TempDir;

// The entities the blog schema lacks: a composite unique key, a restricting
// reference, a cascade cycle and a uuid entity.
constexpr std::string_view kMoreEntities = R"(
entity Team {
  id: id
  name: string
  code: string
  region: string?
  lead: Member? @on_delete(set_null)
  members: [Member] @inverse(team)
  @@unique(code, region)
}

entity Member {
  id: id
  name: string
  team: Team @on_delete(restrict)
  led: [Team] @inverse(lead)
}

// Two entities that cascade into each other.
entity A {
  id: id
  b: B? @on_delete(cascade)
  bs: [B] @inverse(a)
}
entity B {
  id: id
  a: A? @on_delete(cascade)
  as_: [A] @inverse(b)
}

entity Device {
  id: uuid
  label: string
  owner: User? @on_delete(set_null)
}
)";

// The blog schema (tests/data/blog.ormdb) with a check on User.age, then
// kMoreEntities.
std::string Schema() {
  std::ifstream in(ORMDB_BLOG_SCHEMA);
  std::stringstream text;
  text << in.rdbuf();
  std::string schema = text.str();
  const std::string_view age = "age: int32?";
  const size_t at = schema.find(age);
  EXPECT_NE(at, std::string::npos) << "the blog schema has no User.age";
  if (at != std::string::npos) schema.insert(at + age.size(), " @check(age >= 0)");
  return schema + std::string(kMoreEntities);
}

class MutationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open(dir_.path());
    ASSERT_OK(store);
    store_ = std::move(*store);
    auto catalog = catalog::Catalog::Open(store_.get());
    ASSERT_OK(catalog);
    catalog_ = std::move(*catalog);
    catalog::ApplyOptions o;
    o.file_name = "blog.ormdb";
    ASSERT_OK(catalog_->Apply(Schema(), o));
  }

  // Applies a batch; returns the result JSON or the error.
  Result<Json> Mutate(std::string_view text) {
    ORMDB_ASSIGN_OR_RETURN(MutationBatch batch, ParseMutationBatch(text));
    MutationResult result;
    auto layouts = catalog_->layouts();
    auto v = store_->Commit([&](storage::WriteTxn& txn) -> Status {
      ORMDB_ASSIGN_OR_RETURN(auto schema, catalog_->SchemaIn(txn));
      return ApplyMutations(txn, *schema, layouts, batch, &result);
    });
    if (!v.ok()) return v.status();
    result.version = *v;
    return ParseJson(result.ToJsonText());
  }

  // The row as JSON, or null when absent.
  Json Get(std::string_view entity, RowId id) {
    auto schema = catalog_->current();
    const catalog::EntityInfo* e = schema->FindEntity(entity);
    auto txn = store_->BeginRead();
    EXPECT_TRUE(txn.ok());
    auto rec = (*txn)->Get(e->id, id);
    EXPECT_TRUE(rec.ok());
    if (!*rec) return Json();
    auto row =
        catalog::DecodeEntityRow((*rec)->bytes_in_txn, *e, schema->number(), catalog_->layouts());
    EXPECT_TRUE(row.ok());
    auto obj = RowToJson(**txn, *schema, catalog_->layouts(), *e, id, *row);
    EXPECT_TRUE(obj.ok());
    return *obj;
  }

  int64_t Insert(std::string_view entity, std::string_view values) {
    auto r = Mutate(R"({"ops":[{"op":"insert","entity":")" + std::string(entity) +
                    R"(","values":)" + std::string(values) + "}]}");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    return r->Find("results")->as_array()[0].Find("id")->as_int();
  }

  void ExpectError(std::string_view batch, ErrorCode code, std::string_view fragment) {
    auto r = Mutate(batch);
    ASSERT_FALSE(r.ok()) << "expected " << ErrorCodeName(code) << " for " << batch;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(fragment), std::string::npos)
        << r.status().ToString() << "\nexpected to contain: " << fragment;
  }

  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(MutationTest, InsertWithRefsDefaultsAndResult) {
  auto r = Mutate(R"({"ops": [
    {"op": "insert", "entity": "User", "values": {"email": "ann@example.com", "name": "Ann"}, "as": "ann"},
    {"op": "insert", "entity": "Post", "values": {"title": "Hello", "author": {"ref": "ann"}}, "as": "p"},
    {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}, "as": "t"},
    {"op": "link", "relation": "Post.tags", "from": {"ref": "p"}, "to": {"ref": "t"}}
  ]})");
  ASSERT_OK(r);
  EXPECT_EQ(ToJson(*r->Find("refs")), R"({"ann":1,"p":1,"t":1})");
  EXPECT_EQ(ToJson(*r->Find("results")), R"([{"id":1},{"id":1},{"id":1},{"changed":true}])");
  EXPECT_GT(r->Find("version")->as_int(), 0);
  Json post = Get("Post", 1);
  EXPECT_EQ(post.Find("status")->as_string(), "draft");
  EXPECT_EQ(post.Find("author")->as_int(), 1);
  EXPECT_TRUE(post.Find("created_at")->is_string());
  // The same pair again is a no-op; Tag.posts names the relation from the other side.
  auto again = Mutate(R"({"ops":[{"op":"link","relation":"Tag.posts","from":1,"to":1},
                                   {"op":"unlink","relation":"Post.tags","from":1,"to":1},
                                   {"op":"unlink","relation":"Post.tags","from":1,"to":1}]})");
  ASSERT_OK(again);
  EXPECT_EQ(ToJson(*again->Find("results")),
            R"([{"changed":false},{"changed":true},{"changed":false}])");
}

TEST_F(MutationTest, TypesAreCoercedWithoutTruncation) {
  Insert("User", R"({"email":"first","name":"First"})");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a","name":"A","age":3000000000}}]})",
      ErrorCode::kConstraintViolation, "out of range for int32");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a","name":"A","age":1.5}}]})",
      ErrorCode::kConstraintViolation, "is not an integer");
  ExpectError(R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a","name":7}}]})",
              ErrorCode::kConstraintViolation, "User.name: 7 is not a string");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"Post","values":{"title":"x","author":1,"status":"publishd"}}]})",
      ErrorCode::kConstraintViolation, "did you mean \"published\"");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a","name":"A","created_at":"yesterday"}}]})",
      ErrorCode::kConstraintViolation, "is not a timestamp");
  // An integral float and integer microseconds are exact, so they pass.
  int64_t id = Insert("User", R"({"email":"a","name":"A","age":30.0,"created_at":1000000})");
  EXPECT_EQ(id, 2);
  Json u = Get("User", id);
  EXPECT_EQ(u.Find("age")->as_int(), 30);
  EXPECT_EQ(u.Find("created_at")->as_string(), "1970-01-01T00:00:01Z");
}

TEST_F(MutationTest, RequiredFieldsAndChecks) {
  ExpectError(R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a"}}]})",
              ErrorCode::kConstraintViolation, "User.name is required");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a","name":"A","age":-1}}]})",
      ErrorCode::kConstraintViolation, "check failed: age >= 0");
  Insert("User", R"({"email":"a","name":"A"})");
  ExpectError(R"({"ops":[{"op":"insert","entity":"Post","values":{"title":"","author":1}}]})",
              ErrorCode::kConstraintViolation, "check failed: length(title) > 0");
  // A null passes a check (SQL rules).
  Insert("User", R"({"email":"b","name":"B","age":null})");
}

TEST_F(MutationTest, UniqueSingleAndComposite) {
  Insert("User", R"({"email":"ann@x","name":"Ann"})");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"User","values":{"email":"ann@x","name":"Other"}}]})",
      ErrorCode::kConstraintViolation,
      "unique User(email): User.email = \"ann@x\" is already held by User 1");
  // Updating a row to its own value is fine.
  ASSERT_OK(Mutate(
      R"({"ops":[{"op":"update","entity":"User","id":1,"set":{"email":"ann@x","name":"Ann B"}}]})"));
  Insert("Team", R"({"name":"t1","code":"x","region":"eu"})");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"Team","values":{"name":"t2","code":"x","region":"eu"}}]})",
      ErrorCode::kConstraintViolation, "unique Team(code, region)");
  // Nulls are distinct from every value in a unique constraint.
  Insert("Team", R"({"name":"t3","code":"x"})");
  Insert("Team", R"({"name":"t4","code":"x"})");
  // Freed values can be taken again.
  ASSERT_OK(Mutate(R"({"ops":[{"op":"update","entity":"User","id":1,"set":{"email":"new@x"}}]})"));
  Insert("User", R"({"email":"ann@x","name":"Ann 2"})");
}

TEST_F(MutationTest, ForeignKeysMustExist) {
  ExpectError(R"({"ops":[{"op":"insert","entity":"Post","values":{"title":"x","author":42}}]})",
              ErrorCode::kNotFound, "User 42 does not exist");
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"Post","values":{"title":"x","author":{"ref":"nobody"}}}]})",
      ErrorCode::kInvalidArgument, "unknown ref \"nobody\"");
  Insert("Tag", R"({"name":"t"})");
  ExpectError(R"({"ops":[{"op":"insert","entity":"Tag","values":{"name":"u"},"as":"t"},
                         {"op":"insert","entity":"Post","values":{"title":"x","author":{"ref":"t"}}}]})",
              ErrorCode::kInvalidArgument, "ref \"t\" is a Tag, expected a User");
  ExpectError(R"({"ops":[{"op":"link","relation":"Post.tags","from":5,"to":1}]})",
              ErrorCode::kNotFound, "Post 5 does not exist");
}

TEST_F(MutationTest, ARowDeletedEarlierInTheBatchCannotBeReferenced) {
  // The batch remembers rows it found, so a bulk insert checks each
  // referenced row once; a delete in the batch must make it look again.
  Insert("User", R"({"email":"a","name":"A"})");
  ExpectError(R"({"ops":[{"op":"insert","entity":"Post","values":{"title":"x","author":1}},
                         {"op":"delete","entity":"User","id":1},
                         {"op":"insert","entity":"Post","values":{"title":"y","author":1}}]})",
              ErrorCode::kNotFound, "User 1 does not exist");
  ASSERT_OK(Mutate(R"({"ops":[{"op":"insert","entity":"Post","values":{"title":"x","author":1}},
                              {"op":"insert","entity":"Post","values":{"title":"y","author":1}}]})"));
}

TEST_F(MutationTest, CascadeThroughTwoLevelsAndSetNull) {
  ASSERT_OK(Mutate(R"({"ops": [
    {"op":"insert","entity":"User","values":{"email":"a","name":"A"},"as":"a"},
    {"op":"insert","entity":"User","values":{"email":"b","name":"B"},"as":"b"},
    {"op":"insert","entity":"Post","values":{"title":"p1","author":{"ref":"a"}},"as":"p1"},
    {"op":"insert","entity":"Post","values":{"title":"p2","author":{"ref":"b"}},"as":"p2"},
    {"op":"insert","entity":"Comment","values":{"body":"c1","post":{"ref":"p1"},"author":{"ref":"b"}}},
    {"op":"insert","entity":"Comment","values":{"body":"c2","post":{"ref":"p2"},"author":{"ref":"a"}}},
    {"op":"insert","entity":"Tag","values":{"name":"t"},"as":"t"},
    {"op":"link","relation":"Post.tags","from":{"ref":"p1"},"to":{"ref":"t"}}
  ]})"));
  auto r = Mutate(R"({"ops":[{"op":"delete","entity":"User","id":1}]})");
  ASSERT_OK(r);
  EXPECT_EQ(ToJson(*r->Find("results")), R"([{"id":1,"cascaded":2}])");
  // User 1 -> Post 1 (cascade) -> Comment 1 (cascade); Comment 2 by user 1 is kept with a null
  // author.
  EXPECT_TRUE(Get("User", 1).is_null());
  EXPECT_TRUE(Get("Post", 1).is_null());
  EXPECT_TRUE(Get("Comment", 1).is_null());
  EXPECT_TRUE(Get("Comment", 2).Find("author")->is_null());
  EXPECT_FALSE(Get("Post", 2).is_null());
  // The deleted post's edges went with it.
  auto txn = store_->BeginRead();
  ASSERT_OK(txn);
  auto rel = catalog_->current()->FindRelation("Post.tags");
  ASSERT_OK(rel);
  auto linked = (*txn)->EdgeExists(rel->first->id, 1, 1);
  ASSERT_OK(linked);
  EXPECT_FALSE(*linked);
}

TEST_F(MutationTest, CascadeCycleEnds) {
  ASSERT_OK(Mutate(R"({"ops": [
    {"op":"insert","entity":"A","values":{},"as":"a"},
    {"op":"insert","entity":"B","values":{"a":{"ref":"a"}},"as":"b"},
    {"op":"update","entity":"A","id":{"ref":"a"},"set":{"b":{"ref":"b"}}}
  ]})"));
  ASSERT_OK(Mutate(R"({"ops":[{"op":"delete","entity":"A","id":1}]})"));
  EXPECT_TRUE(Get("A", 1).is_null());
  EXPECT_TRUE(Get("B", 1).is_null());
}

TEST_F(MutationTest, RestrictNamesTheReferencingEntity) {
  Insert("Team", R"({"name":"t","code":"c"})");
  Insert("Member", R"({"name":"m","team":1})");
  ExpectError(
      R"({"ops":[{"op":"delete","entity":"Team","id":1}]})", ErrorCode::kConstraintViolation,
      "cannot delete Team 1: Member 1 references it through Member.team (on_delete restrict)");
  // Once the member is gone, the team can go.
  ASSERT_OK(Mutate(
      R"({"ops":[{"op":"delete","entity":"Member","id":1},{"op":"delete","entity":"Team","id":1}]})"));
}

TEST_F(MutationTest, BatchIsAllOrNothing) {
  auto before = store_->current_version();
  ExpectError(R"({"ops": [
    {"op":"insert","entity":"User","values":{"email":"a","name":"A"}},
    {"op":"insert","entity":"User","values":{"email":"b","name":"B"}},
    {"op":"insert","entity":"Tag","values":{"name":"t"}},
    {"op":"update","entity":"User","id":1,"set":{"name":"A2"}},
    {"op":"insert","entity":"User","values":{"email":"a","name":"dup"}}
  ]})",
              ErrorCode::kConstraintViolation, "ops[4] (insert User)");
  EXPECT_EQ(store_->current_version(), before);
  EXPECT_TRUE(Get("User", 1).is_null());
  EXPECT_TRUE(Get("User", 2).is_null());
  EXPECT_TRUE(Get("Tag", 1).is_null());
  // Ids were not consumed either.
  EXPECT_EQ(Insert("User", R"({"email":"a","name":"A"})"), 1);
}

TEST_F(MutationTest, IfVersionConflicts) {
  auto r = Mutate(R"({"ops":[{"op":"insert","entity":"User","values":{"email":"a","name":"A"}}]})");
  ASSERT_OK(r);
  int64_t v1 = r->Find("version")->as_int();
  ASSERT_OK(
      Mutate(R"({"ops":[{"op":"update","entity":"User","id":1,"set":{"name":"B"},"if_version":)" +
             std::to_string(v1) + "}]}"));
  ExpectError(R"({"ops":[{"op":"update","entity":"User","id":1,"set":{"name":"C"},"if_version":)" +
                  std::to_string(v1) + "}]}",
              ErrorCode::kConflict, "");
  EXPECT_EQ(Get("User", 1).Find("name")->as_string(), "B");
}

TEST_F(MutationTest, UpsertByUniqueKey) {
  auto r =
      Mutate(R"({"ops":[{"op":"upsert","entity":"Tag","key":{"name":"cpp"},"values":{"name":"cpp"}},
                             {"op":"upsert","entity":"Tag","key":{"name":"cpp"},"values":{}}]})");
  ASSERT_OK(r);
  EXPECT_EQ(ToJson(*r->Find("results")), R"([{"id":1,"inserted":true},{"id":1,"inserted":false}])");
  Insert("User", R"({"email":"a@x","name":"A"})");
  ASSERT_OK(Mutate(
      R"({"ops":[{"op":"upsert","entity":"User","key":{"email":"a@x"},"values":{"name":"Renamed"}}]})"));
  EXPECT_EQ(Get("User", 1).Find("name")->as_string(), "Renamed");
  ExpectError(R"({"ops":[{"op":"upsert","entity":"User","key":{"name":"A"},"values":{}}]})",
              ErrorCode::kInvalidArgument, "exactly the fields of a unique index of User");
}

TEST_F(MutationTest, ErrorsNameTheOpEntityAndField) {
  ExpectError(R"({"ops":[{"op":"insert","entity":"Usr","values":{}}]})", ErrorCode::kSchemaError,
              "unknown entity 'Usr' (did you mean 'User'?)");
  ExpectError(R"({"ops":[{"op":"insert","entity":"Post","values":{"titel":"x"}}]})",
              ErrorCode::kSchemaError,
              "ops[0] (insert Post): entity Post has no field 'titel' (did you mean 'title'?)");
  ExpectError(R"({"ops":[{"op":"insret","entity":"User"}]})", ErrorCode::kInvalidArgument,
              "did you mean \"insert\"");
  ExpectError(R"({"ops":[{"op":"insert","entity":"User","valeus":{}}]})",
              ErrorCode::kInvalidArgument, "missing \"values\"");
  ExpectError(R"({"ops":[{"op":"update","entity":"User","id":9,"set":{}}]})", ErrorCode::kNotFound,
              "User 9 does not exist");
  ExpectError(R"({"ops":[{"op":"delete","entity":"User","id":9}]})", ErrorCode::kNotFound,
              "User 9 does not exist");
  ExpectError(R"({"ops":[{"op":"link","relation":"Post.tag","from":1,"to":1}]})",
              ErrorCode::kSchemaError, "did you mean 'Post.tags'?");
  ExpectError(R"({"ops":[]})", ErrorCode::kInvalidArgument, "\"ops\" is empty");
  ExpectError(R"({"ops":[{"op":"insert","entity":"Post","values":{"tags":[1]}}]})",
              ErrorCode::kSchemaError, "Post.tags is a to-many relation");
}

TEST_F(MutationTest, UuidIdsResolveEverywhere) {
  Insert("User", R"({"email":"a","name":"A"})");
  auto r = Mutate(
      R"({"ops":[{"op":"insert","entity":"Device","values":{"label":"phone","owner":1},"as":"d"}]})");
  ASSERT_OK(r);
  std::string uuid = r->Find("refs")->Find("d")->as_string();
  EXPECT_EQ(uuid.size(), 36u);
  ASSERT_OK(Mutate(R"({"ops":[{"op":"update","entity":"Device","id":")" + uuid +
                   R"(","set":{"label":"tablet"}}]})"));
  Json d = Get("Device", 1);
  EXPECT_EQ(d.Find("id")->as_string(), uuid);
  EXPECT_EQ(d.Find("label")->as_string(), "tablet");
  // A given uuid is kept and must be unique.
  ASSERT_OK(Mutate(
      R"({"ops":[{"op":"insert","entity":"Device","values":{"id":"00000000-0000-4000-8000-000000000001","label":"x"}}]})"));
  ExpectError(
      R"({"ops":[{"op":"insert","entity":"Device","values":{"id":"00000000-0000-4000-8000-000000000001","label":"y"}}]})",
      ErrorCode::kConstraintViolation, "unique Device(id)");
  ExpectError(
      R"({"ops":[{"op":"delete","entity":"Device","id":"00000000-0000-4000-8000-00000000000f"}]})",
      ErrorCode::kNotFound, "does not exist");
  // Deleting the owner sets the device's owner to null.
  ASSERT_OK(Mutate(R"({"ops":[{"op":"delete","entity":"User","id":1}]})"));
  EXPECT_TRUE(Get("Device", 1).Find("owner")->is_null());
}

TEST_F(MutationTest, ExplicitIdsAreKeptAndNeverReallocated) {
  auto r = Mutate(R"({"ops":[{"op":"insert","entity":"Tag","values":{"id":10,"name":"ten"}}]})");
  ASSERT_OK(r);
  ExpectError(R"({"ops":[{"op":"insert","entity":"Tag","values":{"id":10,"name":"again"}}]})",
              ErrorCode::kConstraintViolation, "Tag 10 already exists");
  EXPECT_EQ(Insert("Tag", R"({"name":"next"})"), 11);
}

// Random byte edits of a valid batch: every outcome is a success or one of
// the documented error codes, and the store's invariants hold afterwards.
TEST_F(MutationTest, MutatedBatchesNeverCorruptTheStore) {
  const std::string valid = R"({"ops": [
    {"op":"upsert","entity":"User","key":{"email":"a@x"},"values":{"name":"A","age":3},"as":"a"},
    {"op":"insert","entity":"Post","values":{"title":"T","author":{"ref":"a"},"status":"published"},"as":"p"},
    {"op":"upsert","entity":"Tag","key":{"name":"t"},"values":{"name":"t"},"as":"t"},
    {"op":"link","relation":"Post.tags","from":{"ref":"p"},"to":{"ref":"t"}},
    {"op":"update","entity":"User","id":1,"set":{"name":"B"}},
    {"op":"delete","entity":"Post","id":{"ref":"p"}}
  ]})";
  ASSERT_OK(Mutate(valid));
  std::mt19937 rng(20261121);
  const std::string alphabet =
      "{}[]\":,0123456789-.eEtrufalsn \\abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
  int ok = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(pos, 1 + rng() % 3);
          break;
        default:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
      if (text.empty()) text = "{";
    }
    auto r = Mutate(text);
    if (r.ok()) {
      ++ok;
      continue;
    }
    ErrorCode c = r.status().code();
    EXPECT_TRUE(c == ErrorCode::kInvalidArgument || c == ErrorCode::kSchemaError ||
                c == ErrorCode::kNotFound || c == ErrorCode::kConstraintViolation ||
                c == ErrorCode::kConflict)
        << r.status().ToString() << "\n"
        << text;
  }
  EXPECT_GT(ok, 0);
  auto report = store_->Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems[0];
}

TEST(JsonValuesTest, Base64RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\0\xff", 2)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_OK(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zm9v!!==").ok());
}

}  // namespace
}  // namespace ormdb::query
