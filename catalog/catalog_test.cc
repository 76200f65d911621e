// The catalog: stored schema versions, history, and migrations of every grade.
#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/key_encoding.h"
#include "storage/store.h"
#include "storage/test_util.h"

namespace ormdb::catalog {
namespace {

using storage::testing::TempDir;

constexpr std::string_view kV1 = R"(
entity User {
  id: id
  email: string
  name: string
  age: int32?
}
)";

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    catalog_.reset();
    store_.reset();
    auto store = storage::Store::Open(dir_.path());
    ASSERT_OK(store);
    store_ = std::move(*store);
    auto catalog = Catalog::Open(store_.get());
    ASSERT_OK(catalog);
    catalog_ = std::move(*catalog);
  }

  Result<ApplyResult> Apply(std::string_view text, bool allow_destructive = false,
                            bool dry_run = false) {
    ApplyOptions o;
    o.file_name = "t.ormdb";
    o.allow_destructive = allow_destructive;
    o.dry_run = dry_run;
    o.build_batch = 7;  // many small batches
    return catalog_->Apply(text, o);
  }

  // Writes a User row directly (the catalog test does not depend on query/).
  void PutUser(RowId id, std::string email, std::string name, Value age) {
    auto s = catalog_->current();
    const EntityInfo* e = s->FindEntity("User");
    DecodedRow row;
    row.fields.resize(e->fields.size());
    row.fields[e->FieldIndex("email")] = Value::String(email);
    row.fields[e->FieldIndex("name")] = Value::String(name);
    if (e->FieldIndex("age") >= 0) row.fields[e->FieldIndex("age")] = age;
    auto bytes = EncodeEntityRow(*e, s->number(), row.fields, Value());
    ASSERT_OK(bytes);
    ASSERT_OK(store_->Commit([&](storage::WriteTxn& txn) -> Status {
      ORMDB_RETURN_IF_ERROR(txn.NoteId(e->id, id));
      ORMDB_RETURN_IF_ERROR(txn.PutRow(e->id, id, *bytes));
      for (const IndexInfo& ix : e->indexes) {
        bool any_null = false;
        ORMDB_RETURN_IF_ERROR(
            txn.IndexInsert(ix.id, IndexKeyValues(ix, row, &any_null), id, ix.unique));
      }
      return Status::Ok();
    }));
  }

  DecodedRow GetUser(RowId id) {
    auto s = catalog_->current();
    const EntityInfo* e = s->FindEntity("User");
    auto txn = store_->BeginRead();
    EXPECT_TRUE(txn.ok());
    auto rec = (*txn)->Get(e->id, id);
    EXPECT_TRUE(rec.ok() && rec->has_value());
    auto row = DecodeEntityRow((**rec).bytes_in_txn, *e, s->number(), catalog_->layouts());
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return *row;
  }

  // Ids found through the index `name` for an exact single-field string value.
  std::vector<RowId> IndexLookup(std::string_view index_name, const Value& v) {
    auto s = catalog_->current();
    const EntityInfo* e = s->FindEntity("User");
    const IndexInfo* ix = nullptr;
    for (const IndexInfo& i : e->indexes) {
      if (i.name == index_name) ix = &i;
    }
    EXPECT_NE(ix, nullptr) << index_name;
    std::string key;
    storage::AppendKey(&key, v);
    std::vector<RowId> ids;
    auto txn = store_->BeginRead();
    EXPECT_TRUE(txn.ok());
    EXPECT_TRUE((*txn)
                    ->ScanIndex(ix->id, key, storage::PrefixSuccessor(key),
                                storage::ScanDirection::kForward,
                                [&](const storage::IndexEntry& entry) {
                                  ids.push_back(entry.id);
                                  return true;
                                })
                    .ok());
    return ids;
  }

  std::string Changes(const ApplyResult& r) {
    std::string s;
    for (const MigrationChange& c : r.plan.changes) {
      s += std::string(1, static_cast<char>(c.grade)) + " " + c.description + "\n";
    }
    return s;
  }

  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, FirstSchemaIsVersionOneAndPersists) {
  auto r = Apply(kV1);
  ASSERT_OK(r);
  EXPECT_TRUE(r->applied);
  EXPECT_EQ(r->number, 1u);
  EXPECT_EQ(r->plan.grade, Grade::kA);
  EXPECT_EQ(Changes(*r), "A add entity User\n");
  Reopen();
  ASSERT_NE(catalog_->current(), nullptr);
  EXPECT_EQ(catalog_->current()->number(), 1u);
  auto h = catalog_->History();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].commit_version, r->commit_version);
  EXPECT_EQ(h[0].summary, "1 change: add entity User");
  // The schema change is a version of its own in the change log.
  bool annotated = false;
  ASSERT_OK(store_->ReadChanges(0, [&](const storage::ChangeSet& cs) {
    for (const auto& rec : cs.records) {
      if (auto* a = std::get_if<storage::Annotation>(&rec)) annotated |= a->data == "schema 1";
    }
    return true;
  }));
  EXPECT_TRUE(annotated);
}

TEST_F(CatalogTest, SameSchemaTwiceChangesNothing) {
  ASSERT_OK(Apply(kV1));
  auto v = store_->current_version();
  auto r = Apply(kV1);
  ASSERT_OK(r);
  EXPECT_FALSE(r->applied);
  EXPECT_TRUE(r->plan.empty());
  EXPECT_EQ(store_->current_version(), v);
}

TEST_F(CatalogTest, IdsAreStableAcrossVersions) {
  ASSERT_OK(Apply(kV1));
  auto v1 = catalog_->current();
  ASSERT_OK(Apply(R"(
entity Tag { id: id
  name: string }
entity User {
  id: id
  email: string
  name: string
  age: int32?
  nick: string?
}
)"));
  auto v2 = catalog_->current();
  EXPECT_EQ(v1->FindEntity("User")->id, v2->FindEntity("User")->id);
  EXPECT_EQ(v1->FindEntity("User")->fields[1].id, v2->FindEntity("User")->fields[1].id);
  EXPECT_NE(v2->FindEntity("Tag")->id, v2->FindEntity("User")->id);
}

TEST_F(CatalogTest, GradeARulesApplyWithoutTouchingRows) {
  ASSERT_OK(Apply(R"(
enum Kind { a, b }
entity User {
  id: id
  email: string @index
  name: string
  age: int32?
  kind: Kind?
}
)"));
  PutUser(1, "x@y", "X", Value::Int32(3));
  auto r = Apply(R"(
enum Kind { a, b, c }
entity User {
  id: id
  email: string
  name: string?
  age: int32? @default(7)
  kind: Kind?
  nickname: string?
}
entity Tag {
  id: id
  name: string
}
)");
  ASSERT_OK(r);
  EXPECT_EQ(r->plan.grade, Grade::kA) << Changes(*r);
  EXPECT_EQ(Changes(*r),
            "A add value c to enum Kind\n"
            "A make User.name optional\n"
            "A change default of User.age\n"
            "A add field User.nickname (optional)\n"
            "A drop index User(email)\n"
            "A add entity Tag\n");
  // The old row reads under the new schema: the added field is null.
  DecodedRow row = GetUser(1);
  EXPECT_EQ(row.fields[catalog_->current()->FindEntity("User")->FieldIndex("nickname")], Value());
  EXPECT_EQ(row.fields[catalog_->current()->FindEntity("User")->FieldIndex("age")],
            Value::Int32(3));
}

TEST_F(CatalogTest, AccessRulesAreGradedByWhetherTheyWiden) {
  ASSERT_OK(Apply(R"(
entity Doc {
  id: id
  tenant: string
  body: string?
  @@allow(read, tenant == auth.tenant)
}
)"));
  // A deny narrows (A); an allow for an operation without rules narrows
  // too (it was open); a second read allow widens (B); a field rule on an
  // unruled field narrows (A).
  auto r = Apply(R"(
entity Doc {
  id: id
  tenant: string
  body: string? @allow(read, auth.has_role("editor"))
  @@allow(read, tenant == auth.tenant)
  @@allow(read, auth.has_role("admin"))
  @@deny(all, auth == null)
  @@allow(update, tenant == auth.tenant)
}
)");
  ASSERT_OK(r);
  EXPECT_EQ(r->plan.grade, Grade::kB) << Changes(*r);
  EXPECT_EQ(Changes(*r),
            "B add rule Doc @@allow(read, auth.has_role(\"admin\")) (widens access)\n"
            "A add rule Doc @@deny(all, auth == null) (narrows access)\n"
            "A add rule Doc @@allow(update, tenant == auth.tenant) (narrows access)\n"
            "A add rule Doc.body @allow(read, auth.has_role(\"editor\")) (narrows access)\n");
  // Dropping the deny widens; dropping one of two read allows narrows;
  // dropping the last update rule opens updates again (B).
  r = Apply(R"(
entity Doc {
  id: id
  tenant: string
  body: string? @allow(read, auth.has_role("editor"))
  @@allow(read, tenant == auth.tenant)
}
)");
  ASSERT_OK(r);
  EXPECT_EQ(Changes(*r),
            "A drop rule Doc @@allow(read, auth.has_role(\"admin\")) (narrows access)\n"
            "B drop rule Doc @@deny(all, auth == null) (widens access)\n"
            "B drop rule Doc @@allow(update, tenant == auth.tenant) (widens access)\n");
  // The rules are part of the stored schema: printed and parsed back.
  EXPECT_NE(
      catalog_->CurrentText().find("  body: string? @allow(read, auth.has_role(\"editor\"))\n"),
      std::string::npos)
      << catalog_->CurrentText();
}

TEST_F(CatalogTest, ExistsRulesAreGradedAndPrintedLikeOthers) {
  ASSERT_OK(Apply(R"(
entity User {
  id: id
  name: string
  readable: [Doc] @many(doc_readers)
}
entity Doc {
  id: id
  tenant: string
  readers: [User] @many(doc_readers)
  @@allow(read, tenant == auth.tenant)
}
)"));
  auto r = Apply(R"(
entity User {
  id: id
  name: string
  readable: [Doc] @many(doc_readers)
}
entity Doc {
  id: id
  tenant: string
  readers: [User] @many(doc_readers)
  @@allow(read, tenant == auth.tenant)
  @@allow(read, exists(readers where id == auth.id))
  @@deny(update, not exists(readers))
}
)");
  ASSERT_OK(r);
  EXPECT_EQ(Changes(*r),
            "B add rule Doc @@allow(read, exists(readers where id == auth.id)) (widens access)\n"
            "A add rule Doc @@deny(update, not exists(readers)) (narrows access)\n");
  EXPECT_NE(catalog_->CurrentText().find("  @@allow(read, exists(readers where id == auth.id))\n"
                                         "  @@deny(update, not exists(readers))\n"),
            std::string::npos)
      << catalog_->CurrentText();
}

TEST_F(CatalogTest, GradeAAddsRelations) {
  ASSERT_OK(Apply(R"(
entity User { id: id
  name: string }
entity Post { id: id
  author: User? }
entity Tag { id: id }
)"));
  auto r = Apply(R"(
entity User { id: id
  name: string
  posts: [Post] @inverse(author) }
entity Post { id: id
  author: User?
  tags: [Tag] @many(post_tags) }
entity Tag { id: id
  posts: [Post] @many(post_tags) }
)");
  ASSERT_OK(r);
  EXPECT_EQ(r->plan.grade, Grade::kA);
  EXPECT_EQ(Changes(*r),
            "A add relation User.posts (inverse of Post.author)\n"
            "A add relation Post.tags <-> Tag.posts (post_tags)\n");
}

TEST_F(CatalogTest, GradeBDefaultFilledFieldAndWideningReadOldRows) {
  ASSERT_OK(Apply(kV1));
  PutUser(1, "a", "A", Value::Int32(41));
  auto r = Apply(R"(
entity User {
  id: id
  email: string
  name: string
  age: int64?
  score: float64 @default(1.5)
}
)");
  ASSERT_OK(r);
  EXPECT_EQ(r->plan.grade, Grade::kB);
  EXPECT_EQ(Changes(*r),
            "B change type of User.age from int32 to int64 (widening)\n"
            "B add field User.score (required, existing rows read its default)\n");
  DecodedRow row = GetUser(1);
  const EntityInfo* e = catalog_->current()->FindEntity("User");
  EXPECT_EQ(row.fields[e->FieldIndex("age")], Value::Int64(41));
  EXPECT_EQ(row.fields[e->FieldIndex("score")], Value::Float64(1.5));
  // And after a restart, through the stored layouts.
  Reopen();
  e = catalog_->current()->FindEntity("User");
  row = GetUser(1);
  EXPECT_EQ(row.fields[e->FieldIndex("age")], Value::Int64(41));
}

TEST_F(CatalogTest, GradeBUniqueIndexValidatesExistingRows) {
  ASSERT_OK(Apply(kV1));
  PutUser(1, "same@x", "A", Value());
  PutUser(2, "other@x", "B", Value());
  PutUser(3, "same@x", "C", Value());
  auto before = store_->current_version();
  auto r = Apply(R"(
entity User {
  id: id
  email: string @unique
  name: string
  age: int32?
}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kConstraintViolation);
  EXPECT_NE(r.status().message().find("User ids 1 and 3 hold the same value"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("nothing was changed"), std::string::npos);
  EXPECT_EQ(store_->current_version(), before);
  EXPECT_EQ(catalog_->current()->number(), 1u);
}

TEST_F(CatalogTest, GradeBIndexBuildConcurrentWithWritesYieldsACorrectIndex) {
  ASSERT_OK(Apply(kV1));
  constexpr int kRows = 300;
  for (int i = 1; i <= kRows; ++i) {
    PutUser(i, "u" + std::to_string(i), "name" + std::to_string(i % 10), Value());
  }
  // A writer renames rows while the index is built in batches of 7.
  std::atomic<bool> stop{false};
  std::atomic<int> renamed{0};
  std::thread writer([&] {
    int i = 1;
    while (!stop.load()) {
      auto s = catalog_->current();
      const EntityInfo* e = s->FindEntity("User");
      Status st =
          store_
              ->Commit([&](storage::WriteTxn& txn) -> Status {
                ORMDB_ASSIGN_OR_RETURN(auto schema, catalog_->SchemaIn(txn));
                const EntityInfo* cur = schema->FindEntity("User");
                ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(cur->id, i));
                ORMDB_ASSIGN_OR_RETURN(DecodedRow before,
                                       DecodeEntityRow(rec->bytes_in_txn, *cur, schema->number(),
                                                       catalog_->layouts()));
                DecodedRow after = before;
                after.fields[cur->FieldIndex("name")] = Value::String("renamed");
                ORMDB_ASSIGN_OR_RETURN(std::string bytes, EncodeEntityRow(*cur, schema->number(),
                                                                          after.fields, Value()));
                ORMDB_RETURN_IF_ERROR(txn.PutRow(cur->id, i, bytes));
                for (const IndexInfo& ix : cur->indexes) {
                  bool n = false;
                  std::string kb = IndexKeyValues(ix, before, &n);
                  std::string ka = IndexKeyValues(ix, after, &n);
                  if (kb == ka) continue;
                  Status rm = txn.IndexRemove(ix.id, kb, i);
                  if (!rm.ok() && !(rm.code() == ErrorCode::kNotFound && !ix.ready)) return rm;
                  ORMDB_RETURN_IF_ERROR(txn.IndexInsert(ix.id, ka, i, false));
                }
                return Status::Ok();
              })
              .status();
      (void)e;
      ASSERT_TRUE(st.ok()) << st.ToString();
      renamed++;
      i = i % kRows + 1;
    }
  });
  auto r = Apply(R"(
entity User {
  id: id
  email: string
  name: string @index
  age: int32?
}
)");
  stop = true;
  writer.join();
  ASSERT_OK(r);
  EXPECT_EQ(r->plan.grade, Grade::kB);
  EXPECT_EQ(r->indexes_built, 1u);
  EXPECT_GT(renamed.load(), 0);
  // Every row is in the index exactly once, under its current name.
  std::map<std::string, std::vector<RowId>> expected;
  for (int i = 1; i <= kRows; ++i) {
    DecodedRow row = GetUser(i);
    expected[row.fields[1].as_string()].push_back(i);
  }
  size_t total = 0;
  for (auto& [name, ids] : expected) {
    std::vector<RowId> found = IndexLookup("User(name)", Value::String(name));
    EXPECT_EQ(found, ids) << name;
    total += found.size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kRows));
  for (const IndexInfo& ix : catalog_->current()->FindEntity("User")->indexes) {
    EXPECT_TRUE(ix.ready) << ix.name;
  }
  Reopen();
  for (const IndexInfo& ix : catalog_->current()->FindEntity("User")->indexes) {
    EXPECT_TRUE(ix.ready) << ix.name;
  }
}

TEST_F(CatalogTest, AnInterruptedIndexBuildResumesAtOpen) {
  ASSERT_OK(Apply(kV1));
  constexpr int kRows = 100;
  for (int i = 1; i <= kRows; ++i)
    PutUser(i, "u" + std::to_string(i), "n" + std::to_string(i), Value());
  ApplyOptions o;
  o.build_batch = 10;
  o.interrupt_build_after_rows = 30;
  auto r = catalog_->Apply(R"(
entity User {
  id: id
  email: string @unique
  name: string
  age: int32?
}
)",
                           o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable) << r.status().ToString();
  // The schema change is committed; the index is still building.
  EXPECT_EQ(catalog_->current()->number(), 2u);
  EXPECT_FALSE(catalog_->current()->FindEntity("User")->indexes[0].ready);
  // A write while it is building is indexed and checked against what is built.
  PutUser(kRows + 1, "late", "late", Value());
  Reopen();  // resumes and finishes the build
  const IndexInfo& ix = catalog_->current()->FindEntity("User")->indexes[0];
  EXPECT_TRUE(ix.ready);
  EXPECT_EQ(ix.name, "User(email)");
  for (int i = 1; i <= kRows; ++i) {
    EXPECT_EQ(IndexLookup("User(email)", Value::String("u" + std::to_string(i))),
              std::vector<RowId>{static_cast<RowId>(i)});
  }
  EXPECT_EQ(IndexLookup("User(email)", Value::String("late")), std::vector<RowId>{kRows + 1});
  auto check = store_->Check();
  ASSERT_OK(check);
  EXPECT_TRUE(check->problems.empty());
}

// A duplicate written while a unique index is being built (so not caught by
// the validation before the commit) fails the build, which then returns to
// the previous schema; the database still opens.
TEST_F(CatalogTest, ADuplicateWrittenDuringAUniqueBuildRevertsTheSchema) {
  ASSERT_OK(Apply(kV1));
  for (int i = 1; i <= 100; ++i) PutUser(i, "u" + std::to_string(i), "n", Value());
  ApplyOptions o;
  o.build_batch = 10;
  o.interrupt_build_after_rows = 30;
  const std::string unique_email = R"(
entity User {
  id: id
  email: string @unique
  name: string
  age: int32?
}
)";
  ASSERT_EQ(catalog_->Apply(unique_email, o).status().code(), ErrorCode::kUnavailable);
  // Row 90 is not indexed yet, so this duplicate of its email gets in.
  PutUser(101, "u90", "dup", Value());
  Reopen();  // the resumed build finds the duplicate
  auto s = catalog_->current();
  EXPECT_EQ(s->number(), 3u);
  ASSERT_EQ(s->FindEntity("User")->indexes.size(), 0u);
  auto h = catalog_->History();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].summary, "1 change: drop unique index User(email)");
  // Fixing the data lets the same schema apply.
  auto fixed = store_->Commit([&](storage::WriteTxn& txn) -> Status {
    return txn.DeleteRow(s->FindEntity("User")->id, 101);
  });
  ASSERT_OK(fixed);
  auto again = Apply(unique_email);
  ASSERT_OK(again);
  EXPECT_EQ(again->indexes_built, 1u);
}

TEST_F(CatalogTest, GradeCFailureChangesNothing) {
  ASSERT_OK(Apply(kV1));
  PutUser(1, "a", "A", Value::Int32(5));
  PutUser(2, "b", "B", Value());
  PutUser(3, "c", "C", Value::Int32(-4));
  auto before = store_->current_version();
  // Making age required fails on user 2; the new check fails on user 3.
  auto r = Apply(R"(
entity User {
  id: id
  email: string
  name: string
  age: int32 @check(age >= 0)
}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kConstraintViolation);
  EXPECT_NE(r.status().message().find("2 rows violate the new schema of User"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("User 2: field User.age is required"), std::string::npos);
  EXPECT_NE(r.status().message().find("User 3: User.age = -4: check failed: age >= 0"),
            std::string::npos);
  EXPECT_EQ(store_->current_version(), before);
  EXPECT_EQ(catalog_->current()->number(), 1u);
  EXPECT_EQ(catalog_->History().size(), 1u);
}

TEST_F(CatalogTest, GradeCRulesPassOnGoodData) {
  ASSERT_OK(Apply(R"(
enum Kind { a, b, c }
entity User {
  id: id
  email: string
  name: string
  age: int64?
  kind: Kind?
}
)"));
  auto r = Apply(R"(
enum Kind { a, b }
entity User {
  id: id
  email: string
  name: string
  age: int32
  kind: Kind?
  @@check(length(name) < 100)
}
)");
  ASSERT_OK(r);
  EXPECT_EQ(r->plan.grade, Grade::kC);
  EXPECT_EQ(Changes(*r),
            "C change type of User.age from int64 to int32 (values are checked)\n"
            "C make User.age required (existing nulls are refused)\n"
            "C remove value c of Kind from User.kind\n"
            "C check User: length(name) < 100\n");
}

TEST_F(CatalogTest, NarrowingRefusesValuesThatDoNotFit) {
  ASSERT_OK(Apply(R"(
entity User {
  id: id
  email: string
  name: string
  age: int64?
}
)"));
  PutUser(1, "a", "A", Value::Int64(int64_t{1} << 40));
  auto r = Apply(kV1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not fit int32"), std::string::npos)
      << r.status().message();
}

TEST_F(CatalogTest, GradeDIsRefusedWithoutConsent) {
  ASSERT_OK(Apply(kV1));
  PutUser(1, "a", "A", Value::Int32(1));
  std::string dropped = R"(
entity User {
  id: id
  email: string
  name: string
}
)";
  auto r = Apply(dropped);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kMigrationRefused);
  EXPECT_NE(r.status().message().find("[D] drop field User.age"), std::string::npos);
  // A dry run only plans, whatever the grade.
  auto dry = Apply(dropped, false, /*dry_run=*/true);
  ASSERT_OK(dry);
  EXPECT_EQ(dry->plan.grade, Grade::kD);
  EXPECT_FALSE(dry->applied);
  EXPECT_EQ(catalog_->current()->number(), 1u);
  // With consent the field goes; the row stays readable.
  auto ok = Apply(dropped, /*allow_destructive=*/true);
  ASSERT_OK(ok);
  EXPECT_EQ(ok->plan.grade, Grade::kD);
  DecodedRow row = GetUser(1);
  EXPECT_EQ(row.fields.size(), 2u);
  EXPECT_EQ(row.fields[0], Value::String("a"));
  // Re-adding a field of the same name starts empty: the old data is gone.
  ASSERT_OK(Apply(kV1));
  EXPECT_EQ(GetUser(1).fields[2], Value());
}

TEST_F(CatalogTest, GradeDOtherRules) {
  ASSERT_OK(Apply(R"(
entity User { id: id
  name: string
  tags: [Tag] @many(user_tags) }
entity Tag { id: id
  users: [User] @many(user_tags) }
entity Gone { id: id }
)"));
  auto r = Apply(R"(
entity User { id: id
  name: int64 }
entity Tag { id: id }
)",
                 /*allow_destructive=*/true);
  ASSERT_OK(r);
  EXPECT_EQ(Changes(*r),
            "D change type of User.name from string to int64 (lossy)\n"
            "D drop entity Gone (all its rows are lost)\n"
            "D drop relation User.tags <-> Tag.users (its links are lost)\n");
}

TEST_F(CatalogTest, SchemaErrorsNameTheFile) {
  auto r = Apply("entity User { id: id\n  age: int32 @check(agee > 0) }");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kSchemaError);
  EXPECT_NE(r.status().message().find("t.ormdb:2:"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("did you mean 'age'?"), std::string::npos)
      << r.status().message();
  auto d = Apply("entity User { id: id\n  age: int32 @default(\"x\") }");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kSchemaError);
}

}  // namespace
}  // namespace ormdb::catalog
