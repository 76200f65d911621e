#include "catalog/sdl_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/sdl_printer.h"

#ifndef ORMDB_SDL_TESTDATA
#define ORMDB_SDL_TESTDATA "/work/main/catalog/testdata/sdl_errors"
#endif

namespace ormdb::catalog {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// DESIGN.md §3, exactly as written there (tests/data/blog.ormdb).
const std::string& BlogSchema() {
  static const std::string text = ReadFile(ORMDB_BLOG_SCHEMA);
  return text;
}

// Every construct of the language at least once.
constexpr std::string_view kKitchenSink = R"(// Everything the language has.
enum Role { admin, member, guest }
enum Color {
  red
  green,
  blue,
}

entity Account {
  id: uuid
  handle: string @unique @index
  role: Role @default(member)
  flags: int64 @default(-7)
  score: float64? @default(1.5e3)
  ratio: float64 @default(2)
  active: bool @default(true)
  blob: bytes? @default(null)
  data: json @default("{\"a\": [1, 2]}")
  seen: timestamp @default("2024-01-02T03:04:05Z")
  key: uuid @default(uuid)
  motto: string @default("tab\there \"quoted\" \\ \u00e9 \ud83d\ude00 \/") @check(length(motto) < 100)
  color: Color? @default("green")
  parent: Account? @on_delete(set_null)
  manager: Account? @on_delete(restrict) @index
  children: [Account] @inverse(parent)
  reports: [Account] @inverse(manager)
  follows: [Account] @many(follow)
  followers: [Account] @many(follow)
  groups: [Group] @many(membership)
  @@unique(role, handle)
  @@index(flags)
  @@check(score is null or score >= 0)
  @@check(flags != 0 and (ratio > 0.5 or handle like "a)(%"))
}

entity Group { id: id, name: string @unique, members: [Account] @many(membership), owner: Account @on_delete(cascade) }

/* Keywords are contextual:
   these are ordinary names. */
entity Naming {
  id: id
  entity: string
  enum: int32
  string: string
  status: Role
  uuid: uuid
}
)";

Schema MustParse(std::string_view text) {
  Result<Schema> r = ParseSchema(text, "test.ormdb");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Schema{};
}

// The error message, or "OK".
std::string ErrorOf(std::string_view text, std::string_view file_name = "t.ormdb") {
  Result<Schema> r = ParseSchema(text, file_name);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), ErrorCode::kSchemaError);
  return r.status().message();
}

std::vector<std::string> IndexFields(const Index& index) { return index.fields; }

// --- The blog schema of DESIGN.md -------------------------------------------

TEST(SdlParserTest, BlogSchemaEnumsAndEntities) {
  Schema s = MustParse(BlogSchema());
  ASSERT_EQ(s.enums.size(), 1u);
  EXPECT_EQ(s.enums[0].name, "Status");
  EXPECT_EQ(s.enums[0].values, (std::vector<std::string>{"draft", "published"}));
  ASSERT_EQ(s.entities.size(), 4u);
  EXPECT_EQ(s.entities[0].name, "User");
  EXPECT_EQ(s.entities[1].name, "Post");
  EXPECT_EQ(s.entities[2].name, "Comment");
  EXPECT_EQ(s.entities[3].name, "Tag");
  for (const Entity& e : s.entities) {
    EXPECT_FALSE(e.uuid_id) << e.name;
    EXPECT_EQ(e.id.value, 0u) << e.name;
    EXPECT_EQ(e.FindField("id"), nullptr) << "the id member is not a Field";
  }
}

TEST(SdlParserTest, BlogSchemaUser) {
  Schema s = MustParse(BlogSchema());
  const Entity& user = *s.FindEntity("User");
  EXPECT_EQ(user.pos.line, 3);
  EXPECT_EQ(user.pos.column, 8);
  ASSERT_EQ(user.fields.size(), 4u);
  const Field& email = user.fields[0];
  EXPECT_EQ(email.name, "email");
  EXPECT_EQ(email.type, FieldType::kString);
  EXPECT_TRUE(email.unique);
  EXPECT_FALSE(email.optional);
  EXPECT_EQ(email.pos.line, 5);
  EXPECT_EQ(email.pos.column, 3);
  EXPECT_TRUE(user.FindField("name")->indexed);
  EXPECT_FALSE(user.FindField("name")->unique);
  const Field& age = *user.FindField("age");
  EXPECT_EQ(age.type, FieldType::kInt32);
  EXPECT_TRUE(age.optional);
  const Field& created = *user.FindField("created_at");
  EXPECT_EQ(created.type, FieldType::kTimestamp);
  EXPECT_EQ(created.default_value.kind, DefaultSpec::Kind::kNow);
  EXPECT_EQ(created.default_value.pos.line, 8);
  EXPECT_EQ(created.default_value.pos.column, 34);

  ASSERT_EQ(user.collections.size(), 1u);
  const Collection& posts = user.collections[0];
  EXPECT_EQ(posts.name, "posts");
  EXPECT_EQ(posts.target, "Post");
  EXPECT_EQ(posts.kind, Collection::Kind::kInverse);
  EXPECT_EQ(posts.inverse_field, "author");

  ASSERT_EQ(user.indexes.size(), 2u);
  EXPECT_EQ(IndexFields(user.indexes[0]), std::vector<std::string>{"email"});
  EXPECT_TRUE(user.indexes[0].unique);
  EXPECT_FALSE(user.indexes[0].automatic);
  EXPECT_EQ(user.indexes[0].pos.line, 5);
  EXPECT_EQ(user.indexes[0].pos.column, 17);
  EXPECT_EQ(IndexFields(user.indexes[1]), std::vector<std::string>{"name"});
  EXPECT_FALSE(user.indexes[1].unique);
}

TEST(SdlParserTest, BlogSchemaPost) {
  Schema s = MustParse(BlogSchema());
  const Entity& post = *s.FindEntity("Post");
  const Field& title = *post.FindField("title");
  EXPECT_EQ(title.check, "length(title) > 0");
  EXPECT_EQ(title.check_pos.line, 14);
  EXPECT_EQ(title.check_pos.column, 24);
  const Field& status = *post.FindField("status");
  EXPECT_EQ(status.type, FieldType::kEnum);
  EXPECT_EQ(status.enum_name, "Status");
  EXPECT_EQ(status.default_value.kind, DefaultSpec::Kind::kIdent);
  EXPECT_EQ(status.default_value.text, "draft");
  const Field& author = *post.FindField("author");
  EXPECT_EQ(author.type, FieldType::kRef);
  EXPECT_EQ(author.target, "User");
  EXPECT_EQ(author.on_delete, OnDelete::kCascade);
  EXPECT_TRUE(author.on_delete_declared);
  EXPECT_FALSE(author.optional);

  ASSERT_EQ(post.collections.size(), 2u);
  EXPECT_EQ(post.collections[0].name, "tags");
  EXPECT_EQ(post.collections[0].kind, Collection::Kind::kMany);
  EXPECT_EQ(post.collections[0].edge, "post_tags");
  EXPECT_EQ(post.collections[1].name, "comments");
  EXPECT_EQ(post.collections[1].inverse_field, "post");

  // The composite index starts with `author`, so no automatic index for it.
  ASSERT_EQ(post.indexes.size(), 1u);
  EXPECT_EQ(IndexFields(post.indexes[0]), (std::vector<std::string>{"author", "created_at"}));
  EXPECT_FALSE(post.indexes[0].unique);
  EXPECT_FALSE(post.indexes[0].automatic);
  EXPECT_EQ(post.indexes[0].pos.line, 20);
  EXPECT_EQ(post.indexes[0].pos.column, 3);
}

TEST(SdlParserTest, BlogSchemaCommentAndTag) {
  Schema s = MustParse(BlogSchema());
  const Entity& comment = *s.FindEntity("Comment");
  const Field& post = *comment.FindField("post");
  EXPECT_EQ(post.target, "Post");
  EXPECT_EQ(post.on_delete, OnDelete::kCascade);
  const Field& author = *comment.FindField("author");
  EXPECT_TRUE(author.optional);
  EXPECT_EQ(author.on_delete, OnDelete::kSetNull);
  ASSERT_EQ(comment.indexes.size(), 2u);
  EXPECT_EQ(IndexFields(comment.indexes[0]), std::vector<std::string>{"post"});
  EXPECT_TRUE(comment.indexes[0].automatic);
  EXPECT_FALSE(comment.indexes[0].unique);
  EXPECT_EQ(IndexFields(comment.indexes[1]), std::vector<std::string>{"author"});
  EXPECT_TRUE(comment.indexes[1].automatic);

  const Entity& tag = *s.FindEntity("Tag");
  ASSERT_EQ(tag.indexes.size(), 1u);
  EXPECT_TRUE(tag.indexes[0].unique);

  ASSERT_EQ(s.edges.size(), 1u);
  const EdgeRelation& edge = *s.FindEdge("post_tags");
  EXPECT_EQ(edge.from_entity, "Post");
  EXPECT_EQ(edge.from_collection, "tags");
  EXPECT_EQ(edge.to_entity, "Tag");
  EXPECT_EQ(edge.to_collection, "posts");
  EXPECT_EQ(edge.id.value, 0u);
}

TEST(SdlParserTest, BlogSchemaPrintsCanonically) {
  constexpr std::string_view kCanonical = R"(enum Status {
  draft
  published
}

entity User {
  id: id
  email: string @unique
  name: string @index
  age: int32?
  created_at: timestamp @default(now)
  posts: [Post] @inverse(author)
}

entity Post {
  id: id
  title: string @check(length(title) > 0)
  status: Status @default(draft)
  created_at: timestamp @default(now)
  author: User @on_delete(cascade)
  tags: [Tag] @many(post_tags)
  comments: [Comment] @inverse(post)
  @@index(author, created_at)
}

entity Comment {
  id: id
  body: string
  created_at: timestamp @default(now)
  post: Post @on_delete(cascade)
  author: User? @on_delete(set_null)
}

entity Tag {
  id: id
  name: string @unique
  posts: [Post] @many(post_tags)
}
)";
  EXPECT_EQ(PrintSchema(MustParse(BlogSchema())), kCanonical);
}

// --- Constructs -----------------------------------------------------------------

TEST(SdlParserTest, KitchenSinkModel) {
  Schema s = MustParse(kKitchenSink);
  ASSERT_EQ(s.enums.size(), 2u);
  EXPECT_EQ(s.enums[1].values, (std::vector<std::string>{"red", "green", "blue"}));
  const Entity& account = *s.FindEntity("Account");
  EXPECT_TRUE(account.uuid_id);

  auto default_of = [&](std::string_view field) { return account.FindField(field)->default_value; };
  EXPECT_EQ(default_of("role").kind, DefaultSpec::Kind::kIdent);
  EXPECT_EQ(default_of("flags").kind, DefaultSpec::Kind::kInt);
  EXPECT_EQ(default_of("flags").text, "-7");
  EXPECT_EQ(default_of("score").kind, DefaultSpec::Kind::kFloat);
  EXPECT_EQ(default_of("score").text, "1.5e3");
  EXPECT_EQ(default_of("ratio").kind, DefaultSpec::Kind::kInt);
  EXPECT_EQ(default_of("active").kind, DefaultSpec::Kind::kBool);
  EXPECT_EQ(default_of("active").text, "true");
  EXPECT_EQ(default_of("blob").kind, DefaultSpec::Kind::kNull);
  EXPECT_EQ(default_of("data").kind, DefaultSpec::Kind::kString);
  EXPECT_EQ(default_of("data").text, "{\"a\": [1, 2]}");
  EXPECT_EQ(default_of("key").kind, DefaultSpec::Kind::kUuid);
  EXPECT_EQ(default_of("motto").text, "tab\there \"quoted\" \\ \xC3\xA9 \xF0\x9F\x98\x80 /");
  EXPECT_EQ(default_of("color").kind, DefaultSpec::Kind::kString);
  EXPECT_EQ(account.FindField("motto")->check, "length(motto) < 100");

  EXPECT_EQ(account.FindField("parent")->on_delete, OnDelete::kSetNull);
  const Field& manager = *account.FindField("manager");
  EXPECT_EQ(manager.on_delete, OnDelete::kRestrict);
  EXPECT_TRUE(manager.on_delete_declared);

  ASSERT_EQ(account.checks.size(), 2u);
  EXPECT_EQ(account.checks[0], "score is null or score >= 0");
  EXPECT_EQ(account.checks[1], "flags != 0 and (ratio > 0.5 or handle like \"a)(%\")");
  ASSERT_EQ(account.check_positions.size(), 2u);
  EXPECT_EQ(account.check_positions[0].line, 32);
  EXPECT_EQ(account.check_positions[0].column, 11);

  // handle (@unique @index: one unique index), manager (@index), then
  // @@unique, @@index, then the automatic index of `parent` only.
  ASSERT_EQ(account.indexes.size(), 5u);
  EXPECT_EQ(IndexFields(account.indexes[0]), std::vector<std::string>{"handle"});
  EXPECT_TRUE(account.indexes[0].unique);
  EXPECT_EQ(IndexFields(account.indexes[1]), std::vector<std::string>{"manager"});
  EXPECT_FALSE(account.indexes[1].unique);
  EXPECT_EQ(IndexFields(account.indexes[2]), (std::vector<std::string>{"role", "handle"}));
  EXPECT_TRUE(account.indexes[2].unique);
  EXPECT_EQ(IndexFields(account.indexes[3]), std::vector<std::string>{"flags"});
  EXPECT_EQ(IndexFields(account.indexes[4]), std::vector<std::string>{"parent"});
  EXPECT_TRUE(account.indexes[4].automatic);

  const Entity& group = *s.FindEntity("Group");
  ASSERT_EQ(group.indexes.size(), 2u);
  EXPECT_TRUE(group.indexes[1].automatic);
  EXPECT_EQ(group.FindField("owner")->on_delete, OnDelete::kCascade);

  const Entity& naming = *s.FindEntity("Naming");
  EXPECT_EQ(naming.FindField("entity")->type, FieldType::kString);
  EXPECT_EQ(naming.FindField("enum")->type, FieldType::kInt32);
  EXPECT_EQ(naming.FindField("string")->type, FieldType::kString);
  EXPECT_EQ(naming.FindField("status")->type, FieldType::kEnum);
  EXPECT_EQ(naming.FindField("uuid")->type, FieldType::kUuid);
}

TEST(SdlParserTest, EdgeRelationsForwardSideIsDeclaredFirst) {
  Schema s = MustParse(kKitchenSink);
  ASSERT_EQ(s.edges.size(), 2u);
  // Self relation: both collections on Account; `follows` comes first.
  EXPECT_EQ(s.edges[0].name, "follow");
  EXPECT_EQ(s.edges[0].from_entity, "Account");
  EXPECT_EQ(s.edges[0].from_collection, "follows");
  EXPECT_EQ(s.edges[0].to_entity, "Account");
  EXPECT_EQ(s.edges[0].to_collection, "followers");
  EXPECT_EQ(s.edges[1].name, "membership");
  EXPECT_EQ(s.edges[1].from_entity, "Account");
  EXPECT_EQ(s.edges[1].to_entity, "Group");

  // The entity that comes first in the file is the forward side.
  Schema tags_first = MustParse(R"(
entity Tag { id: id, posts: [Post] @many(post_tags) }
entity Post { id: id, tags: [Tag] @many(post_tags) }
)");
  ASSERT_EQ(tags_first.edges.size(), 1u);
  EXPECT_EQ(tags_first.edges[0].from_entity, "Tag");
  EXPECT_EQ(tags_first.edges[0].from_collection, "posts");
  EXPECT_EQ(tags_first.edges[0].to_entity, "Post");
}

TEST(SdlParserTest, SelfReferenceWithInverse) {
  Schema s = MustParse(R"(
entity Category {
  id: id
  parent: Category? @on_delete(cascade)
  children: [Category] @inverse(parent)
}
)");
  const Entity& c = s.entities[0];
  EXPECT_EQ(c.FindField("parent")->target, "Category");
  EXPECT_EQ(c.FindCollection("children")->inverse_field, "parent");
  ASSERT_EQ(c.indexes.size(), 1u);
  EXPECT_TRUE(c.indexes[0].automatic);
}

TEST(SdlParserTest, OnDeleteDefaultsToRestrict) {
  Schema s = MustParse(R"(
entity User { id: id }
entity Post {
  id: id
  author: User
  editor: User @on_delete(restrict)
}
)");
  const Entity& post = s.entities[1];
  EXPECT_EQ(post.FindField("author")->on_delete, OnDelete::kRestrict);
  EXPECT_FALSE(post.FindField("author")->on_delete_declared);
  EXPECT_EQ(post.FindField("editor")->on_delete, OnDelete::kRestrict);
  EXPECT_TRUE(post.FindField("editor")->on_delete_declared);
}

TEST(SdlParserTest, AutomaticIndexesOnlyWhereNoIndexLeadsWithTheReference) {
  Schema s = MustParse(R"(
entity User { id: id }
entity Post {
  id: id
  author: User
  editor: User @index
  reviewer: User @unique
  owner: User
  slug: string
  @@unique(slug, owner)
  @@index(author, slug)
}
)");
  const Entity& post = s.entities[1];
  ASSERT_EQ(post.indexes.size(), 5u);
  EXPECT_EQ(IndexFields(post.indexes[0]), std::vector<std::string>{"editor"});
  EXPECT_EQ(IndexFields(post.indexes[1]), std::vector<std::string>{"reviewer"});
  EXPECT_EQ(IndexFields(post.indexes[2]), (std::vector<std::string>{"slug", "owner"}));
  EXPECT_EQ(IndexFields(post.indexes[3]), (std::vector<std::string>{"author", "slug"}));
  // `owner` is only the second field of @@unique(slug, owner).
  EXPECT_EQ(IndexFields(post.indexes[4]), std::vector<std::string>{"owner"});
  EXPECT_TRUE(post.indexes[4].automatic);
}

TEST(SdlParserTest, SameFieldsWithDifferentUniquenessAreTwoIndexes) {
  Schema s = MustParse(R"(
entity User {
  id: id
  email: string @unique
  @@index(email)
}
)");
  ASSERT_EQ(s.entities[0].indexes.size(), 2u);
  EXPECT_TRUE(s.entities[0].indexes[0].unique);
  EXPECT_FALSE(s.entities[0].indexes[1].unique);
  EXPECT_TRUE(SameDefinition(MustParse(PrintSchema(s)), s));
}

TEST(SdlParserTest, SeparatorsCommentsAndLineBreaks) {
  Schema s = MustParse(
      "\xEF\xBB\xBF/* a byte-order mark, then a comment\r\n over lines */\r\n"
      "enum E { a,\r\n b\r\n c, }\r\n"
      "entity\r\nOne { id: id, x: int32, y: string? // trailing\r\n"
      "  z: E\r\n"
      "    @default(b)   // an attribute on the next line\r\n"
      "    @index\r\n"
      "  /* between members */ w: bool, }\r\n");
  ASSERT_EQ(s.enums.size(), 1u);
  EXPECT_EQ(s.enums[0].values, (std::vector<std::string>{"a", "b", "c"}));
  const Entity& one = s.entities[0];
  ASSERT_EQ(one.fields.size(), 4u);
  EXPECT_EQ(one.fields[2].default_value.text, "b");
  EXPECT_TRUE(one.fields[2].indexed);
  EXPECT_EQ(one.fields[3].name, "w");
  EXPECT_EQ(one.pos.line, 7);
  EXPECT_EQ(one.pos.column, 1);
}

TEST(SdlParserTest, CheckExpressionIsKeptVerbatim) {
  Schema s = MustParse(
      "entity T {\n"
      "  id: id\n"
      "  a: string @check(  a != \")\" and (length(a) > (1 + (2)))  ) @index\n"
      "  b: string @check(b like \"\\\"(%\")\n"
      "  @@check(a != b)\n"
      "}\n");
  const Entity& t = s.entities[0];
  EXPECT_EQ(t.fields[0].check, "a != \")\" and (length(a) > (1 + (2)))");
  EXPECT_EQ(t.fields[0].check_pos.line, 3);
  EXPECT_EQ(t.fields[0].check_pos.column, 22);
  EXPECT_TRUE(t.fields[0].indexed);
  EXPECT_EQ(t.fields[1].check, "b like \"\\\"(%\"");
  EXPECT_EQ(t.checks, std::vector<std::string>{"a != b"});
}

TEST(SdlParserTest, StringDefaultsUseJsonEscapes) {
  Schema s = MustParse(
      R"(entity T { id: id, s: string @default("\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud834\udd1e\u0000") })");
  EXPECT_EQ(s.entities[0].fields[0].default_value.text,
            std::string("\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\0", 19));
  EXPECT_TRUE(SameDefinition(MustParse(PrintSchema(s)), s));
}

TEST(SdlParserTest, ColumnsCountCharacters) {
  // "é" is two bytes but one column.
  EXPECT_EQ(ErrorOf("// é\nentity é {}"), "t.ormdb:2:8: unexpected character 'é'");
  EXPECT_EQ(ErrorOf("entity T { id: id, s: string @default(\"é\") x }"),
            "t.ormdb:1:44: expected an attribute, ',' or a new line after field 's', found 'x'");
}

TEST(SdlParserTest, FindMethods) {
  Schema s = MustParse(BlogSchema());
  EXPECT_NE(s.FindEnum("Status"), nullptr);
  EXPECT_EQ(s.FindEnum("User"), nullptr);
  EXPECT_EQ(s.FindEntity("Status"), nullptr);
  EXPECT_EQ(s.FindEdge("nope"), nullptr);
  const Entity& post = *s.FindEntity("Post");
  EXPECT_EQ(post.FindField("tags"), nullptr);
  EXPECT_NE(post.FindCollection("tags"), nullptr);
  EXPECT_EQ(post.FindCollection("author"), nullptr);
}

// --- Round trips --------------------------------------------------------------

TEST(SdlPrinterTest, RoundTrips) {
  const std::string_view schemas[] = {
      "",
      "// nothing but a comment\n",
      BlogSchema(),
      kKitchenSink,
      "entity A { id: id }",
      "enum E { x }\nentity A { id: uuid, e: E? @default(null), f: float64 @default(-0.5e-3) }",
      "entity A { id: id, n: int32 @check(n > 0) @unique @default(1), @@check(n < 10) }",
  };
  for (std::string_view text : schemas) {
    SCOPED_TRACE(text);
    Schema first = MustParse(text);
    const std::string printed = PrintSchema(first);
    Schema second = MustParse(printed);
    EXPECT_TRUE(SameDefinition(first, second)) << printed;
    EXPECT_EQ(PrintSchema(second), printed) << "printing is not idempotent";
  }
}

TEST(SdlPrinterTest, SameDefinitionIgnoresPositionsOnly) {
  Schema a = MustParse("entity A { id: id, n: int32 @check(n > 0) }");
  Schema b = MustParse("\n\n  entity A {\n id: id\n\n   n: int32 @check( n > 0 )\n}");
  EXPECT_TRUE(SameDefinition(a, b));
  Schema c = MustParse("entity A { id: id, n: int32? @check(n > 0) }");
  EXPECT_FALSE(SameDefinition(a, c));
  Schema d = MustParse("entity A { id: id, n: int32 @check(n > 0) @index }");
  EXPECT_FALSE(SameDefinition(a, d));
  b.entities[0].id = EntityTypeId(7);
  EXPECT_FALSE(SameDefinition(a, b));
}

// --- Errors ---------------------------------------------------------------------

TEST(SdlParserTest, ErrorExamplesOfTheContract) {
  std::string blog(BlogSchema());
  blog.replace(blog.find("author: User @on_delete"), 12, "author: Usr");
  EXPECT_EQ(ErrorOf(blog, "blog.ormdb"),
            "blog.ormdb:17:11: unknown type 'Usr' (did you mean 'User'?)");
  blog = BlogSchema();
  blog.replace(blog.find("@inverse(author)"), 16, "@inverse(autor)");
  EXPECT_EQ(ErrorOf(blog, "blog.ormdb"),
            "blog.ormdb:9:26: entity Post has no field 'autor' (did you mean 'author'?)");
}

TEST(SdlParserTest, Limits) {
  // Text size.
  std::string huge = "entity A { id: id }\n" + std::string(kMaxSchemaTextBytes, ' ');
  EXPECT_EQ(ErrorOf(huge), "t.ormdb:1:1: schema text is 4194324 bytes; the limit is 4194304");

  // Entity count: the limit itself is fine, one more is not.
  std::string many;
  for (size_t i = 0; i < kMaxEntities; ++i)
    many += "entity E" + std::to_string(i) + " { id: id }\n";
  EXPECT_EQ(ErrorOf(many), "OK");
  many += "entity Extra { id: id }\n";
  EXPECT_EQ(ErrorOf(many), "t.ormdb:10001:1: too many entities: the limit is 10000");

  // Identifier length.
  const std::string longest(kMaxIdentifierBytes, 'x');
  EXPECT_EQ(ErrorOf("entity T { id: id, " + longest + ": int32 }"), "OK");
  EXPECT_EQ(ErrorOf("entity T { id: id, " + longest + "y: int32 }").substr(0, 27),
            "t.ormdb:1:20: identifier 'x");

  // Nesting inside @check.
  auto nested = [](int depth) {
    return "entity T { id: id, n: int32 @check(" + std::string(depth, '(') + "n" +
           std::string(depth, ')') + ") }";
  };
  EXPECT_EQ(ErrorOf(nested(kMaxCheckNesting)), "OK");
  EXPECT_EQ(ErrorOf(nested(kMaxCheckNesting + 1)),
            "t.ormdb:1:100: parentheses in @check(...) nest deeper than 64 levels");
}

// Each NAME.ormdb in the directory must fail with exactly the message in
// NAME.err. ORMDB_UPDATE_GOLDEN=1 rewrites the .err files instead (review
// the diff before committing it).
TEST(SdlParserTest, GoldenErrors) {
  const std::filesystem::path dir(ORMDB_SDL_TESTDATA);
  const char* update_env = std::getenv("ORMDB_UPDATE_GOLDEN");
  const bool update = update_env != nullptr && std::string_view(update_env) == "1";
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".ormdb") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  EXPECT_GE(inputs.size(), 30u) << "golden directory " << dir;
  for (const std::filesystem::path& input : inputs) {
    SCOPED_TRACE(input.filename().string());
    Result<Schema> r = ParseSchema(ReadFile(input), input.filename().string());
    ASSERT_FALSE(r.ok()) << "expected an error";
    EXPECT_EQ(r.status().code(), ErrorCode::kSchemaError);
    std::filesystem::path expected_path = input;
    expected_path.replace_extension(".err");
    if (update) {
      std::ofstream(expected_path, std::ios::binary) << r.status().message() << "\n";
      continue;
    }
    ASSERT_TRUE(std::filesystem::exists(expected_path)) << "missing " << expected_path;
    std::string expected = ReadFile(expected_path);
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) {
      expected.pop_back();
    }
    EXPECT_EQ(r.status().message(), expected);
  }
}

// --- Fuzzing ----------------------------------------------------------------------

// Random edits of valid schemas: insert, delete or replace bytes or tokens,
// duplicate a line. Every outcome must be a schema that round-trips, or a
// SCHEMA_ERROR of the documented "file:line:col: message" form, in range.
class SchemaMutator {
 public:
  explicit SchemaMutator(uint32_t seed) : rng_(seed) {}

  std::string Mutate(std::string text) {
    const int edits = 1 + Pick(3);
    for (int i = 0; i < edits; ++i) MutateOnce(&text);
    return text;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  void MutateOnce(std::string* text) {
    using std::string_view_literals::operator""sv;
    static constexpr std::string_view kTokens[] = {
        "{",          "}",       "[",        "]",         "(",       ")",
        ":",          ",",       "?",        "@",         "@@",      "\"",
        "\\",         "/*",      "*/",       "//",        "\n",      " ",
        "\t",         "\0"sv,    "\xff",     "\xc3\xa9",  "-",       "1e999",
        "007",        "\\u",     "entity",   "enum",      "id",      "uuid",
        "User",       "Post",    "null",     "now",       "true",    "[Post]",
        "x: int32\n", "@unique", "@index",   "@default(", "@check(", "@on_delete(set_null)",
        "@inverse(",  "@many(",  "@@index(", "@@unique(", "@@check("};
    const size_t pos = text->empty() ? 0 : Pick(text->size() + 1);
    switch (Pick(6)) {
      case 0:  // insert a byte
        text->insert(pos, 1, static_cast<char>(Pick(256)));
        break;
      case 1:  // insert a token
        text->insert(pos, kTokens[Pick(std::size(kTokens))]);
        break;
      case 2:  // delete a run
        if (!text->empty()) text->erase(std::min(pos, text->size() - 1), 1 + Pick(8));
        break;
      case 3:  // replace a byte
        if (!text->empty()) (*text)[std::min(pos, text->size() - 1)] = static_cast<char>(Pick(256));
        break;
      case 4: {  // replace a byte with a token
        if (!text->empty()) {
          text->replace(std::min(pos, text->size() - 1), 1, kTokens[Pick(std::size(kTokens))]);
        }
        break;
      }
      default: {  // duplicate a line
        const size_t start = text->rfind('\n', pos == 0 ? 0 : pos - 1);
        const size_t line_start = start == std::string::npos ? 0 : start + 1;
        size_t line_end = text->find('\n', line_start);
        if (line_end == std::string::npos) line_end = text->size();
        const std::string line = text->substr(line_start, line_end - line_start) + "\n";
        text->insert(line_start, line);
        break;
      }
    }
  }

  std::mt19937 rng_;
};

// Checks the "fuzz.ormdb:LINE:COL: message" form; LINE and COL in range.
void ExpectWellFormedError(const Status& status, const std::string& text) {
  ASSERT_EQ(status.code(), ErrorCode::kSchemaError) << status.ToString();
  const std::string& m = status.message();
  constexpr std::string_view kPrefix = "fuzz.ormdb:";
  ASSERT_EQ(m.compare(0, kPrefix.size(), kPrefix), 0) << m;
  size_t i = kPrefix.size();
  auto number = [&]() {
    long value = 0;
    size_t digits = 0;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') {
      value = value * 10 + (m[i++] - '0');
      ++digits;
    }
    return digits == 0 ? -1 : value;
  };
  const long line = number();
  ASSERT_TRUE(i < m.size() && m[i++] == ':') << m;
  const long column = number();
  ASSERT_EQ(m.compare(i, 2, ": "), 0) << m;
  EXPECT_GT(m.size(), i + 2) << "empty message: " << m;
  const long lines = 1 + std::count(text.begin(), text.end(), '\n');
  EXPECT_GE(line, 1) << m;
  EXPECT_LE(line, lines) << m;
  EXPECT_GE(column, 1) << m;
  EXPECT_LE(static_cast<size_t>(column), text.size() + 1) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "a message is one line: " << m;
}

TEST(SdlParserFuzzTest, MutatedSchemasNeverCrash) {
  const std::string seeds[] = {std::string(BlogSchema()), std::string(kKitchenSink)};
  SchemaMutator mutator(20240611);
  int accepted = 0;
  constexpr int kIterations = 20000;
  for (int i = 0; i < kIterations; ++i) {
    const std::string text = mutator.Mutate(seeds[i % std::size(seeds)]);
    Result<Schema> r = ParseSchema(text, "fuzz.ormdb");
    if (r.ok()) {
      ++accepted;
      const std::string printed = PrintSchema(*r);
      Result<Schema> again = ParseSchema(printed, "printed.ormdb");
      ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << printed;
      ASSERT_TRUE(SameDefinition(*r, *again)) << printed;
    } else {
      ExpectWellFormedError(r.status(), text);
      if (HasFatalFailure() || HasNonfatalFailure()) {
        FAIL() << "iteration " << i << ", input:\n" << text;
      }
    }
  }
  // Some mutations (in comments, in names) keep the schema valid; most do not.
  EXPECT_GT(accepted, 100);
  EXPECT_LT(accepted, kIterations);
}

}  // namespace
}  // namespace ormdb::catalog
