// Access policies through the public API (docs/reference/policies.md):
// rules in the schema, principals by Database::As, reads filtered and
// masked, writes checked, change streams filtered.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"
#include "storage/store.h"
#include "storage/test_util.h"

namespace ormdb {
namespace {

constexpr const char* kSchema = R"(
entity User {
  id: id
  name: string
  tenant: string @index
  projects: [Project] @inverse(owner)
  @@allow(read, tenant == auth.tenant)
}

entity Project {
  id: id
  name: string
  tenant: string @index
  owner: User
  budget: int64? @allow(read, owner == auth.id or auth.has_role("finance"))
  status: string @default("open") @allow(update, auth.has_role("editor"))
  tasks: [Task] @inverse(project)
  @@deny(all, auth == null)
  @@deny(all, tenant != auth.tenant)
  @@allow(read, true)
  @@allow([create, delete], owner == auth.id)
  @@allow(update, owner == auth.id and before.status != "closed")
}

entity Task {
  id: id
  title: string
  project: Project @on_delete(cascade)
  done: bool @default(false)
  @@allow(all, project.tenant == auth.tenant)
}
)";

Principal Who(const std::string& json) {
  auto p = Principal::FromJson(json);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

Json Data(Database& db, const std::string& query) {
  auto r = db.Fetch(query);
  EXPECT_TRUE(r.ok()) << query << ": " << r.status().ToString();
  if (!r.ok()) return Json();
  auto j = ParseJson((*r)->ToJson());
  EXPECT_TRUE(j.ok());
  return *j->Find("data");
}

std::vector<int64_t> Ids(const Json& rows) {
  std::vector<int64_t> out;
  for (const Json& r : rows.as_array()) out.push_back(r.Find("id")->as_int());
  return out;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto applied = db_->ApplySchema(kSchema);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    // Users 1 (ann, acme), 2 (bob, acme), 3 (cy, globex); projects 1, 2
    // (acme, owned by ann and bob), 3 (globex, cy); tasks on each.
    auto m = db_->Mutate(R"({"ops": [
      {"op": "insert", "entity": "User", "values": {"name": "ann", "tenant": "acme"}},
      {"op": "insert", "entity": "User", "values": {"name": "bob", "tenant": "acme"}},
      {"op": "insert", "entity": "User", "values": {"name": "cy", "tenant": "globex"}},
      {"op": "insert", "entity": "Project", "values": {"name": "a1", "tenant": "acme", "owner": 1, "budget": 100}},
      {"op": "insert", "entity": "Project", "values": {"name": "b1", "tenant": "acme", "owner": 2, "budget": 200}},
      {"op": "insert", "entity": "Project", "values": {"name": "c1", "tenant": "globex", "owner": 3, "budget": 300}},
      {"op": "insert", "entity": "Task", "values": {"title": "t1", "project": 1}},
      {"op": "insert", "entity": "Task", "values": {"title": "t2", "project": 1}},
      {"op": "insert", "entity": "Task", "values": {"title": "t3", "project": 2}},
      {"op": "insert", "entity": "Task", "values": {"title": "t4", "project": 3}}
    ]})");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }

  std::unique_ptr<Database> As(const std::string& principal) {
    auto v = db_->As(Who(principal));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return std::move(*v);
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(PolicyTest, SchemaShowPrintsTheRulesAndTheyParseBack) {
  auto text = db_->SchemaText();
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("@@deny(all, tenant != auth.tenant)"), std::string::npos) << *text;
  EXPECT_NE(text->find("@@allow([create, delete], owner == auth.id)"), std::string::npos) << *text;
  EXPECT_NE(text->find("@allow(read, owner == auth.id or auth.has_role(\"finance\"))"),
            std::string::npos)
      << *text;
  // Applying the printed schema again changes nothing.
  auto again = db_->ApplySchema(*text);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->changes.empty()) << again->ToText();
}

TEST_F(PolicyTest, BadRulesAreRefusedWithTheirPosition) {
  auto bad = [&](const std::string& rule) {
    std::string schema = std::string(kSchema);
    schema.insert(schema.rfind('}'), "  " + rule + "\n");
    auto r = db_->ApplySchema(schema, {.dry_run = true, .file_name = "app.ormdb", .progress = {}});
    EXPECT_FALSE(r.ok()) << rule;
    return r.ok() ? std::string() : r.status().ToString();
  };
  std::string m = bad("@@allow(read, titel == \"x\")");
  EXPECT_NE(m.find("app.ormdb:"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown field 'titel'"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'title'"), std::string::npos) << m;
  m = bad("@@allow(raed, true)");
  EXPECT_NE(m.find("did you mean"), std::string::npos) << m;
  m = bad("@@allow(read, before.title == \"x\")");
  EXPECT_NE(m.find("only for update rules"), std::string::npos) << m;
  m = bad("@@allow(read, done == \"yes\")");
  EXPECT_NE(m.find("done"), std::string::npos) << m;
  m = bad("@@allow(read, title == $x)");
  EXPECT_NE(m.find("no $parameters"), std::string::npos) << m;
  // exists(...) reads a to-many relation of the entity; its condition is
  // over the related entity's fields.
  m = bad("@@allow(read, exists(project where tenant == auth.tenant))");
  EXPECT_NE(m.find("project is a to-one relation of Task"), std::string::npos) << m;
  EXPECT_NE(m.find("app.ormdb:"), std::string::npos) << m;
  m = bad("@@allow(read, exists(taks))");
  EXPECT_NE(m.find("unknown relation 'taks' of Task"), std::string::npos) << m;
  m = bad("@@allow(read, project.tenant == \"x\" or exists(project.taks))");
  EXPECT_NE(m.find("unknown relation 'taks' of Project"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'tasks'"), std::string::npos) << m;
  m = bad("@@allow(read, exists(project.tasks where titel == \"x\"))");
  EXPECT_NE(m.find("unknown field 'titel' of Task"), std::string::npos) << m;
  m = bad("@@allow(update, exists(project.tasks where title == before.title))");
  EXPECT_NE(m.find("inside exists"), std::string::npos) << m;
  m = bad("@@allow(read, exists(project.tasks where done == 3))");
  EXPECT_NE(m.find("cannot compare Task.done"), std::string::npos) << m;
  m = bad("@@allow(read, exists(project.tasks where title == \"x\")");
  EXPECT_NE(m.find("')'"), std::string::npos) << m;
  m = bad("@@allow(read)");
  EXPECT_NE(m.find("condition"), std::string::npos) << m;
}

TEST_F(PolicyTest, RowsAreFilteredAtEveryLevel) {
  auto ann = As(R"({"id": 1, "roles": ["user"], "tenant": "acme"})");
  EXPECT_EQ(Ids(Data(*ann, "Project { name }")), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Ids(Data(*ann, "Task { title }")), (std::vector<int64_t>{1, 2, 3}));
  // Includes and to-one targets: cy's globex project is not readable.
  Json users = Data(*ann, "User { name, projects { name } }");
  EXPECT_EQ(Ids(users), (std::vector<int64_t>{1, 2}));
  Json tasks = Data(*db_, "Task { project { name } }");
  EXPECT_EQ(tasks.as_array().size(), 4u);
  // Anonymous: the deny on auth == null.
  auto anon = As("null");
  EXPECT_TRUE(Data(*anon, "Project { name }").as_array().empty());
  // Another tenant sees its own only.
  auto cy = As(R"({"id": 3, "tenant": "globex"})");
  EXPECT_EQ(Ids(Data(*cy, "Project { name }")), (std::vector<int64_t>{3}));
  // Admins and the owner's handle bypass the rules.
  auto admin = As(R"({"id": 99, "roles": ["admin"]})");
  EXPECT_EQ(Data(*admin, "Project { name }").as_array().size(), 3u);
  EXPECT_EQ(Data(*db_, "Project { name }").as_array().size(), 3u);
}

TEST_F(PolicyTest, ToOneTargetsTheyMayNotReadAreNull) {
  // A principal of tenant globex reading tasks: only t4's project is
  // readable; make a cross-tenant task to see a to-one rendered null.
  ASSERT_TRUE(
      db_->Mutate(
             R"({"ops": [{"op": "update", "entity": "User", "id": 3, "set": {"tenant": "acme"}}]})")
          .ok());
  auto ann = As(R"({"id": 1, "tenant": "globex"})");
  Json projects = Data(*ann, "Project { name, owner { name } }");
  // c1 (globex, owner cy now in acme): the owner renders null.
  ASSERT_EQ(Ids(projects), (std::vector<int64_t>{3}));
  EXPECT_TRUE(projects.as_array()[0].Find("owner")->is_null()) << ToJson(projects);
  // Paths through it see null: no value of the unreadable owner matches,
  // negated or not, and it cannot be ordered by or tested for null.
  EXPECT_TRUE(Data(*ann, R"(Project(where: owner.name == "cy") { name })").as_array().empty());
  EXPECT_TRUE(
      Data(*ann, R"(Project(where: not (owner.name == "zz")) { name })").as_array().empty());
  EXPECT_TRUE(Data(*ann, R"(Project(where: owner.name != "zz") { name })").as_array().empty());
  EXPECT_TRUE(Data(*ann, "Project(where: owner.name is not null) { name }").as_array().empty());
  EXPECT_EQ(Ids(Data(*db_, R"(Project(where: owner.name == "cy") { name })")),
            (std::vector<int64_t>{3}));
  for (const char* q :
       {"Project(where: owner.name is null) { name }", "Project(order: owner.name) { name }"}) {
    auto r = ann->Fetch(q);
    EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << q;
  }
}

TEST_F(PolicyTest, AggregatesCountReadableRowsOnly) {
  auto ann = As(R"({"id": 1, "tenant": "acme"})");
  Json users = Data(*ann, "User { name, n: count(projects) }");
  ASSERT_EQ(users.as_array().size(), 2u);
  EXPECT_EQ(users.as_array()[0].Find("n")->as_int(), 1);
  // A cross-tenant project of ann is not counted for an acme reader.
  ASSERT_TRUE(db_->Mutate(R"({"ops": [{"op": "insert", "entity": "Project",
      "values": {"name": "x", "tenant": "globex", "owner": 1}}]})")
                  .ok());
  users = Data(*ann, "User { name, n: count(projects) }");
  EXPECT_EQ(users.as_array()[0].Find("n")->as_int(), 1);
  users = Data(*db_, "User(where: id == 1) { name, n: count(projects) }");
  EXPECT_EQ(users.as_array()[0].Find("n")->as_int(), 2);
  // Relational mode counts the same rows.
  auto sel = ann->Select("select count() as n from Project");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ((*sel)->Get(0, 0).int_value, 2);
}

TEST_F(PolicyTest, FieldsTheyMayNotReadAreNullAndUnusable) {
  auto bob = As(R"({"id": 2, "tenant": "acme"})");
  Json projects = Data(*bob, "Project { name, budget }");
  ASSERT_EQ(Ids(projects), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(projects.as_array()[0].Find("budget")->is_null());
  EXPECT_EQ(projects.as_array()[1].Find("budget")->as_int(), 200);
  auto finance = As(R"({"id": 7, "roles": ["finance"], "tenant": "acme"})");
  projects = Data(*finance, "Project { budget }");
  EXPECT_EQ(projects.as_array()[0].Find("budget")->as_int(), 100);
  // Using the field in where, order or an aggregate is refused up front.
  for (const char* q :
       {"Project(where: budget > 10) { name }", "Project(order: budget desc) { name }",
        "User { s: sum(projects.budget) }"}) {
    auto r = bob->Fetch(q);
    ASSERT_FALSE(r.ok()) << q;
    EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << r.status().ToString();
    EXPECT_NE(r.status().message().find("Project.budget"), std::string::npos);
    EXPECT_EQ(r.status().message().find("200"), std::string::npos);
  }
  // Get: an unreadable row is absent, a masked field null.
  auto got = bob->Get("Project", "1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_NE((*got)->find("\"budget\":null"), std::string::npos) << **got;
  got = bob->Get("Project", "3");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(PolicyTest, PlansAreSharedAcrossPrincipalsButValuesAreNot) {
  auto ann = As(R"({"id": 1, "tenant": "acme"})");
  auto cy = As(R"({"id": 3, "tenant": "globex"})");
  EXPECT_EQ(Ids(Data(*ann, "Project(where: name != \"zz\") { name }")),
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Ids(Data(*cy, "Project(where: name != \"zz\") { name }")), (std::vector<int64_t>{3}));
  auto plan = cy->Explain("Project(where: name != \"zz\") { name }");
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->find("plan cache: hit"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("policy filter"), std::string::npos) << *plan;
  EXPECT_EQ(plan->find("globex"), std::string::npos) << *plan;
}

TEST_F(PolicyTest, WritesAreCheckedBeforeAndAfter) {
  auto ann = As(R"({"id": 1, "tenant": "acme"})");
  // create: owner must be the principal, tenant its own.
  auto r = ann->Mutate(R"({"ops": [{"op": "insert", "entity": "Project",
      "values": {"name": "n", "tenant": "acme", "owner": 2}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("create Project"), std::string::npos)
      << r.status().ToString();
  r = ann->Mutate(R"({"ops": [{"op": "insert", "entity": "Project",
      "values": {"name": "n", "tenant": "globex", "owner": 1}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tenant != auth.tenant"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(r.status().message().find("globex"), std::string::npos) << "no row data";
  {
    // The line named is the rule's in `schema show`.
    const std::string& m = r.status().message();
    size_t at = m.find("(schema line ");
    ASSERT_NE(at, std::string::npos) << m;
    int line = std::atoi(m.c_str() + at + 13);
    std::string text = *db_->SchemaText();
    size_t start = 0;
    for (int i = 1; i < line; ++i) start = text.find('\n', start) + 1;
    EXPECT_EQ(text.substr(start, text.find('\n', start) - start),
              "  @@deny(all, tenant != auth.tenant)");
  }
  ASSERT_TRUE(ann->Mutate(R"({"ops": [{"op": "insert", "entity": "Project",
      "values": {"name": "n", "tenant": "acme", "owner": 1}}]})")
                  .ok());
  // update: bob's project is not ann's; her own is, until it is closed.
  r = ann->Mutate(
      R"({"ops": [{"op": "update", "entity": "Project", "id": 2, "set": {"name": "x"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  // moving her project to another tenant: the after image fails.
  r = ann->Mutate(
      R"({"ops": [{"op": "update", "entity": "Project", "id": 1, "set": {"tenant": "globex"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  // status needs the editor role (a field rule on update).
  r = ann->Mutate(
      R"({"ops": [{"op": "update", "entity": "Project", "id": 1, "set": {"status": "closed"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("Project.status"), std::string::npos);
  auto editor = As(R"({"id": 1, "roles": ["editor"], "tenant": "acme"})");
  ASSERT_TRUE(editor
                  ->Mutate(R"({"ops": [{"op": "update", "entity": "Project", "id": 1,
                      "set": {"status": "closed"}}]})")
                  .ok());
  // before.status: a closed project can no longer be updated.
  r = editor->Mutate(
      R"({"ops": [{"op": "update", "entity": "Project", "id": 1, "set": {"name": "y"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  // The whole batch fails: the first op's insert is not kept.
  const uint64_t before = db_->CurrentVersion();
  r = ann->Mutate(R"({"ops": [
      {"op": "insert", "entity": "Task", "values": {"title": "ok", "project": 1}},
      {"op": "delete", "entity": "Project", "id": 2}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(db_->CurrentVersion(), before);
  // delete of her own project (cascading to its tasks) is allowed.
  EXPECT_TRUE(ann->Mutate(R"({"ops": [{"op": "delete", "entity": "Project", "id": 4}]})").ok());
  // Schema changes, export, vacuum need the admin role.
  EXPECT_EQ(ann->ApplySchema(kSchema).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ann->Vacuum().status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ann->As(Who("{\"id\": 2}")).status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(PolicyTest, WritesRecordTheirPrincipalInTheChangeLog) {
  auto ann = As(R"({"id": 1, "tenant": "acme"})");
  const uint64_t from = db_->CurrentVersion();
  ASSERT_TRUE(ann->Mutate(R"({"ops": [{"op": "insert", "entity": "Task",
      "values": {"title": "mine", "project": 1}}]})")
                  .ok());
  ann.reset();
  db_.reset();
  auto store = storage::Store::Open(dir_.path(), {}, false);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::string> notes;
  ASSERT_TRUE((*store)
                  ->ReadChanges(from,
                                [&](const storage::ChangeSet& cs) {
                                  for (const auto& rec : cs.records) {
                                    if (const auto* a = std::get_if<storage::Annotation>(&rec)) {
                                      notes.push_back(a->data);
                                    }
                                  }
                                  return true;
                                })
                  .ok());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], R"(principal {"id":1,"roles":[],"tenant":"acme"})");
}

TEST_F(PolicyTest, ChangeStreamsShowWhatThePrincipalMayRead) {
  auto ann = As(R"({"id": 2, "tenant": "acme"})");
  const uint64_t from = db_->CurrentVersion();
  ASSERT_TRUE(db_->Mutate(R"({"ops": [
      {"op": "update", "entity": "Project", "id": 3, "set": {"name": "c2"}},
      {"op": "update", "entity": "Project", "id": 1, "set": {"name": "a2", "budget": 5}},
      {"op": "update", "entity": "Project", "id": 2, "set": {"tenant": "globex"}}]})")
                  .ok());
  WatchOptions w;
  w.from = from;
  auto batch = ann->Watch(w);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->token, db_->CurrentVersion());
  ASSERT_EQ(batch->events.size(), 2u);
  // Project 1: readable, budget masked in both images and not in changed.
  auto e1 = ParseJson(batch->events[0]);
  ASSERT_TRUE(e1.ok());
  EXPECT_EQ(e1->Find("id")->as_int(), 1);
  EXPECT_TRUE(e1->Find("after")->Find("budget")->is_null()) << batch->events[0];
  EXPECT_EQ(ToJson(*e1->Find("changed")), R"(["name"])");
  // Project 2 moved out of her tenant: the after image is null.
  auto e2 = ParseJson(batch->events[1]);
  EXPECT_EQ(e2->Find("id")->as_int(), 2);
  EXPECT_FALSE(e2->Find("before")->is_null());
  EXPECT_TRUE(e2->Find("after")->is_null()) << batch->events[1];
}

// exists(...) in rule conditions: a semi-join through an inverse
// one-to-many and a many-to-many relation, negated, in a deny, in a field
// rule, seen through a to-one hop, in writes and in change streams.
constexpr const char* kTeamSchema = R"(
entity User {
  id: id
  name: string
  owned: [Project] @inverse(owner)
  memberships: [Project] @many(project_members)
  @@allow(read, id == auth.id or not exists(owned where name == "hidden"))
  @@allow(update, true)
}

entity Project {
  id: id
  name: string
  owner: User?
  budget: int64? @allow(read, exists(members where id == auth.id and name == "ann"))
  members: [User] @many(project_members)
  tasks: [Task] @inverse(project)
  @@allow(read, exists(members where id == auth.id) or owner == auth.id)
  @@deny(read, exists(tasks where title == "secret"))
  @@allow(create, true)
  @@allow(update, exists(members where id == auth.id))
  @@allow(delete, owner == auth.id and not exists(tasks))
}

entity Task {
  id: id
  title: string
  project: Project
  @@allow(read, exists(project.members where id == auth.id))
  @@allow(create, true)
}
)";

class PolicyExistsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto applied = db_->ApplySchema(kTeamSchema);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    // Users 1 ann, 2 bob, 3 cy (owns "hidden" project 5). Projects: 1
    // (members ann, bob), 2 (owned by ann, no member), 3 (member cy), 4
    // (member ann, a secret task), 5 "hidden" (owned by cy, member cy).
    auto m = db_->Mutate(R"({"ops": [
      {"op": "insert", "entity": "User", "values": {"name": "ann"}},
      {"op": "insert", "entity": "User", "values": {"name": "bob"}},
      {"op": "insert", "entity": "User", "values": {"name": "cy"}},
      {"op": "insert", "entity": "Project", "values": {"name": "p1", "budget": 10}},
      {"op": "insert", "entity": "Project", "values": {"name": "p2", "owner": 1, "budget": 20}},
      {"op": "insert", "entity": "Project", "values": {"name": "p3", "budget": 30}},
      {"op": "insert", "entity": "Project", "values": {"name": "p4", "budget": 40}},
      {"op": "insert", "entity": "Project", "values": {"name": "hidden", "owner": 3}},
      {"op": "link", "relation": "Project.members", "from": 1, "to": 1},
      {"op": "link", "relation": "Project.members", "from": 1, "to": 2},
      {"op": "link", "relation": "Project.members", "from": 3, "to": 3},
      {"op": "link", "relation": "Project.members", "from": 4, "to": 1},
      {"op": "link", "relation": "Project.members", "from": 5, "to": 3},
      {"op": "insert", "entity": "Task", "values": {"title": "t1", "project": 1}},
      {"op": "insert", "entity": "Task", "values": {"title": "t3", "project": 3}},
      {"op": "insert", "entity": "Task", "values": {"title": "secret", "project": 4}},
      {"op": "insert", "entity": "Task", "values": {"title": "t4", "project": 4}}
    ]})");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }

  std::unique_ptr<Database> As(const std::string& principal) {
    auto v = db_->As(Who(principal));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return std::move(*v);
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(PolicyExistsTest, SchemaShowPrintsExistsAndItParsesBack) {
  auto text = db_->SchemaText();
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("@@allow(read, exists(members where id == auth.id) or owner == auth.id)"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("@@allow(read, exists(project.members where id == auth.id))"),
            std::string::npos)
      << *text;
  auto again = db_->ApplySchema(*text);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->changes.empty()) << again->ToText();
}

TEST_F(PolicyExistsTest, RootsIncludesAndToOnesAreFilteredBySemiJoins) {
  auto ann = As(R"({"id": 1})");
  // p1 (member), p2 (owner); p3 not hers; p4 denied by its secret task.
  EXPECT_EQ(Ids(Data(*ann, "Project { name }")), (std::vector<int64_t>{1, 2}));
  auto bob = As(R"({"id": 2})");
  EXPECT_EQ(Ids(Data(*bob, "Project { name }")), (std::vector<int64_t>{1}));
  auto anon = As("null");
  EXPECT_TRUE(Data(*anon, "Project { name }").as_array().empty());
  // not exists: cy owns a project named "hidden", so others do not see cy.
  EXPECT_EQ(Ids(Data(*ann, "User { name }")), (std::vector<int64_t>{1, 2}));
  auto cy = As(R"({"id": 3})");
  EXPECT_EQ(Ids(Data(*cy, "User { name }")), (std::vector<int64_t>{1, 2, 3}));
  // Includes through both kinds of to-many relation.
  Json users = Data(*ann, "User { memberships { name }, owned { name } }");
  ASSERT_EQ(users.as_array().size(), 2u);
  EXPECT_EQ(Ids(*users.as_array()[0].Find("memberships")), (std::vector<int64_t>{1}));
  EXPECT_EQ(Ids(*users.as_array()[0].Find("owned")), (std::vector<int64_t>{2}));
  // Tasks through a hop: ann is a member of p1 and p4, so t1, secret and
  // t4; p4 itself is not readable, so their to-one renders null.
  Json tasks = Data(*ann, "Task { title, project { name } }");
  EXPECT_EQ(Ids(tasks), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(tasks.as_array()[0].Find("project")->Find("name")->as_string(), "p1");
  EXPECT_TRUE(tasks.as_array()[1].Find("project")->is_null()) << ToJson(tasks);
  // A path through the hop sees the unreadable project as null, negated or not.
  EXPECT_EQ(Ids(Data(*ann, R"(Task(where: project.name != "zz") { title })")),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(Ids(Data(*ann, R"(Task(where: not (project.name == "p4")) { title })")),
            (std::vector<int64_t>{1}));
  EXPECT_TRUE(Data(*ann, R"(Task(where: project.name == "p4") { title })").as_array().empty());
  // Cursors page over readable rows only.
  auto page = ann->Fetch("Project(limit: 1) { name }");
  ASSERT_TRUE(page.ok());
  auto pj = ParseJson((*page)->ToJson());
  ASSERT_TRUE(pj.ok());
  ASSERT_TRUE(pj->Find("next")->is_string());
  const std::string next = pj->Find("next")->as_string();
  EXPECT_EQ(Ids(Data(*ann, "Project(limit: 5, after: \"" + next + "\") { name }")),
            (std::vector<int64_t>{2}));
}

TEST_F(PolicyExistsTest, AggregatesSelectAndGetCountReadableRowsOnly) {
  auto ann = As(R"({"id": 1})");
  Json users = Data(*ann, "User(where: id == 1) { n: count(memberships), o: count(owned) }");
  ASSERT_EQ(users.as_array().size(), 1u);
  EXPECT_EQ(users.as_array()[0].Find("n")->as_int(), 1);  // p4 is denied
  EXPECT_EQ(users.as_array()[0].Find("o")->as_int(), 1);
  users = Data(*db_, "User(where: id == 1) { n: count(memberships) }");
  EXPECT_EQ(users.as_array()[0].Find("n")->as_int(), 2);
  auto sel = ann->Select("select count() as n from Project");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ((*sel)->Get(0, 0).int_value, 2);
  sel = ann->Select("select count() as n from Task");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ((*sel)->Get(0, 0).int_value, 3);
  auto got = ann->Get("Project", "1");
  ASSERT_TRUE(got.ok() && got->has_value());
  got = ann->Get("Project", "3");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  got = ann->Get("Project", "4");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  // A field rule with exists: p1's budget is shown to its member ann only.
  Json projects = Data(*ann, "Project { budget }");
  EXPECT_EQ(projects.as_array()[0].Find("budget")->as_int(), 10);
  EXPECT_TRUE(projects.as_array()[1].Find("budget")->is_null());  // p2: she owns it, no member
  auto bob = As(R"({"id": 2})");
  EXPECT_TRUE(Data(*bob, "Project { budget }").as_array()[0].Find("budget")->is_null());
}

TEST_F(PolicyExistsTest, PlansShareTheSemiJoinAndExplainShowsIt) {
  auto ann = As(R"({"id": 1})");
  auto bob = As(R"({"id": 2})");
  EXPECT_EQ(Ids(Data(*ann, "Project(where: name != \"zz\") { name }")),
            (std::vector<int64_t>{1, 2}));
  auto plan = bob->Explain("Project(where: name != \"zz\") { name }");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_NE(plan->find("plan cache: hit"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("policy filter with a semi-join"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("exists(members where id == $auth.id)"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("semi-join: edge range"), std::string::npos) << *plan;
  EXPECT_NE(plan->find("semi-join: per-parent index range"), std::string::npos) << *plan;
}

TEST_F(PolicyExistsTest, SemiJoinReadsCountTowardTheScannedRowsBudget) {
  auto ann = As(R"({"id": 1})");
  FetchOptions small;
  small.max_scanned_rows = 2;
  auto r = ann->Fetch("Project { name }", "{}", small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBudgetExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("semi-join"), std::string::npos) << r.status().ToString();
  FetchOptions enough;
  enough.max_scanned_rows = 100;
  r = ann->Fetch("Project { name }", "{}", enough);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(PolicyExistsTest, WritesEvaluateExistsInTheTransaction) {
  auto bob = As(R"({"id": 2})");
  auto ann = As(R"({"id": 1})");
  // update needs membership: bob is a member of p1, not of p2.
  EXPECT_TRUE(bob->Mutate(R"({"ops": [{"op": "update", "entity": "Project", "id": 1,
      "set": {"name": "p1b"}}]})")
                  .ok());
  auto r = bob->Mutate(R"({"ops": [{"op": "update", "entity": "Project", "id": 2,
      "set": {"name": "x"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << r.status().ToString();
  // After he is linked to p3 (which cy can read) he may update it.
  r = bob->Mutate(R"({"ops": [{"op": "update", "entity": "Project", "id": 3,
      "set": {"name": "x"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  ASSERT_TRUE(
      db_->Mutate(R"({"ops": [{"op": "link", "relation": "Project.members", "from": 3, "to": 2}]})")
          .ok());
  EXPECT_TRUE(bob->Mutate(R"({"ops": [{"op": "update", "entity": "Project", "id": 3,
      "set": {"name": "x"}}]})")
                  .ok());
  // delete: owner and no task. p2 has none; a task created in the same
  // batch is seen by the check.
  r = ann->Mutate(R"({"ops": [
      {"op": "insert", "entity": "Task", "values": {"title": "new", "project": 2}},
      {"op": "delete", "entity": "Project", "id": 2}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("delete Project: no @@allow rule for delete holds"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(ann->Mutate(R"({"ops": [{"op": "delete", "entity": "Project", "id": 2}]})").ok());
  // An update must be readable before: p4 is denied to ann by its secret task.
  r = ann->Mutate(R"({"ops": [{"op": "update", "entity": "Project", "id": 4,
      "set": {"name": "y"}}]})");
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
}

TEST_F(PolicyExistsTest, ChangeStreamsEvaluateExistsAtEachImage) {
  auto bob = As(R"({"id": 2})");
  const uint64_t from = db_->CurrentVersion();
  ASSERT_TRUE(db_->Mutate(R"({"ops": [
      {"op": "update", "entity": "Project", "id": 1, "set": {"name": "a"}},
      {"op": "update", "entity": "Project", "id": 3, "set": {"name": "b"}}]})")
                  .ok());
  ASSERT_TRUE(
      db_->Mutate(R"({"ops": [{"op": "link", "relation": "Project.members", "from": 3, "to": 2}]})")
          .ok());
  ASSERT_TRUE(db_->Mutate(R"({"ops": [
      {"op": "update", "entity": "Project", "id": 3, "set": {"name": "c"}}]})")
                  .ok());
  WatchOptions w;
  w.from = from;
  auto batch = bob->Watch(w);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  std::vector<std::string> seen;
  for (const std::string& ev : batch->events) {
    auto j = ParseJson(ev);
    ASSERT_TRUE(j.ok());
    const Json* after = j->Find("after");
    if (after != nullptr && after->is_object() && after->Find("name") != nullptr) {
      seen.push_back(after->Find("name")->as_string());
    }
  }
  // p3's first update happened before bob was a member: not his to see.
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c"})) << batch->events.size();
}

// `x in auth.<claim>` takes the list from the principal (a single value is
// a list of one; a missing claim is unknown and matches nothing), and a
// rule's own in-list is bound from the policy, never from the query's
// literals at the same position.
TEST(PolicyListClaims, InListsFromClaimsAndFromRules) {
  storage::testing::TempDir dir;
  auto opened = Database::Open(dir.path());
  ASSERT_TRUE(opened.ok());
  Database& db = **opened;
  ASSERT_TRUE(db.ApplySchema(R"(
entity Doc {
  id: id
  title: string
  team: string
  level: int32
  @@allow(read, team in auth.teams or level in [7, 9])
  @@allow(update, level in auth.levels and not (team in auth.frozen))
}
)")
                  .ok());
  auto schema = db.SchemaText();
  ASSERT_TRUE(schema.ok());
  EXPECT_NE(schema->find("@@allow(read, team in auth.teams or level in [7, 9])"), std::string::npos)
      << *schema;
  ASSERT_TRUE(db.Mutate(R"({"ops": [
      {"op": "insert", "entity": "Doc", "values": {"title": "a", "team": "red", "level": 1}},
      {"op": "insert", "entity": "Doc", "values": {"title": "b", "team": "blue", "level": 2}},
      {"op": "insert", "entity": "Doc", "values": {"title": "c", "team": "green", "level": 3}},
      {"op": "insert", "entity": "Doc", "values": {"title": "d", "team": "gray", "level": 7}}]})")
                  .ok());
  auto read = [&](const std::string& who, const std::string& query = "Doc { title }") {
    auto as = db.As(Who(who));
    EXPECT_TRUE(as.ok());
    return Ids(Data(**as, query));
  };
  EXPECT_EQ(read(R"({"id": 1, "teams": ["red", "green"]})"), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(read(R"({"id": 2, "teams": "blue"})"), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(read(R"({"id": 3})"), (std::vector<int64_t>{4}));
  EXPECT_EQ(read(R"({"id": 4, "teams": []})"), (std::vector<int64_t>{4}));
  // The query's own in-list sits where the rule's would be bound from.
  EXPECT_EQ(
      read(R"({"id": 1, "teams": ["red"]})", R"(Doc(where: team in ["blue", "gray"]) { title })"),
      (std::vector<int64_t>{4}));
  auto as = db.As(Who(R"({"id": 1, "teams": ["red", "green"]})"));
  ASSERT_TRUE(as.ok());
  auto plan = (*as)->Explain("Doc { title }");
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->find("team in [$policy."), std::string::npos) << *plan;
  EXPECT_EQ(plan->find("green"), std::string::npos) << *plan;
  // Writes: the update rule reads two list claims.
  const std::string update =
      R"({"ops": [{"op": "update", "entity": "Doc", "id": 1, "set": {"title": "x"}}]})";
  auto editor = db.As(Who(R"({"id": 1, "teams": ["red"], "levels": [1, 2], "frozen": ["blue"]})"));
  ASSERT_TRUE(editor.ok());
  EXPECT_TRUE((*editor)->Mutate(update).ok());
  auto frozen = db.As(Who(R"({"id": 1, "teams": ["red"], "levels": [1, 2], "frozen": "red"})"));
  ASSERT_TRUE(frozen.ok());
  EXPECT_EQ((*frozen)->Mutate(update).status().code(), ErrorCode::kPermissionDenied);
  auto no_levels = db.As(Who(R"({"id": 1, "teams": ["red"]})"));
  ASSERT_TRUE(no_levels.ok());
  EXPECT_EQ((*no_levels)->Mutate(update).status().code(), ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace ormdb
