#include "query/import.h"

#include <gtest/gtest.h>

#include <sstream>

#include "catalog/sdl_parser.h"
#include "storage/test_util.h"

namespace ormdb::query {
namespace {

Result<std::vector<std::string>> Record(const std::string& text, size_t* used) {
  std::istringstream in(text);
  std::string first;
  std::getline(in, first);
  return ReadCsvRecord(first, in, used);
}

TEST(CsvTest, QuotesEscapesAndMultiLineFields) {
  size_t used = 0;
  auto r = Record("1,\"a, b\",\"say \"\"hi\"\"\",,x\r\n", &used);
  ASSERT_OK(r);
  EXPECT_EQ(*r, (std::vector<std::string>{"1", "a, b", "say \"hi\"", "", "x"}));
  EXPECT_EQ(used, 1u);
  r = Record("1,\"two\nlines\",3\nnext,line\n", &used);
  ASSERT_OK(r);
  EXPECT_EQ(*r, (std::vector<std::string>{"1", "two\nlines", "3"}));
  EXPECT_EQ(used, 2u);
}

TEST(CsvTest, MalformedRecords) {
  size_t used = 0;
  auto r = Record("1,\"open\n", &used);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unterminated quoted field");
  r = Record("1,\"q\"x,2\n", &used);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "text after a closing quote");
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = catalog::ParseSchema(R"(
entity User { id: id
  name: string
  tags: [Tag] @many(user_tags) }
entity Tag { id: id
  users: [User] @many(user_tags) }
)",
                                       "t.ormdb");
    ASSERT_OK(schema);
    auto built = catalog::CompiledSchema::Build(std::move(*schema), nullptr, 1, 0, "t.ormdb");
    ASSERT_OK(built);
    schema_ = *built;
  }

  Result<MutationBatch> Read(std::string_view what, ImportFormat format, const std::string& text) {
    std::istringstream in(text);
    return ReadImport(*schema_, what, format, in, nullptr);
  }

  std::shared_ptr<catalog::CompiledSchema> schema_;
};

TEST_F(ImportTest, LinesBecomeLabelledOps) {
  auto b =
      Read("User", ImportFormat::kJsonLines, "{\"id\":1,\"name\":\"a\"}\n\n{\"name\":\"b\"}\n");
  ASSERT_OK(b);
  EXPECT_EQ(ToJson(b->ops), R"([{"op":"insert","entity":"User","values":{"id":1,"name":"a"}},)"
                            R"({"op":"insert","entity":"User","values":{"name":"b"}}])");
  EXPECT_EQ(b->labels, (std::vector<std::string>{"line 1", "line 3"}));
  b = Read("Tag.users", ImportFormat::kCsv, "from,to\n1,2\n");
  ASSERT_OK(b);
  EXPECT_EQ(ToJson(b->ops), R"([{"op":"link","relation":"Tag.users","from":1,"to":2}])");
}

TEST_F(ImportTest, BadLinesNameTheirNumber) {
  auto b = Read("User", ImportFormat::kCsv, "id,name\n1,a\n2\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(), "INVALID_ARGUMENT: line 3: expected 2 cells, found 1");
  b = Read("User", ImportFormat::kJsonLines, "{\"id\":1}\n[1]\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(), "INVALID_ARGUMENT: line 2: expected a JSON object");
  b = Read("User.tags", ImportFormat::kJsonLines, "{\"from\":1}\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(),
            "INVALID_ARGUMENT: line 1: a relation line is {\"from\": id, \"to\": id}");
  b = Read("Usr", ImportFormat::kJsonLines, "");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kSchemaError);
}

}  // namespace
}  // namespace ormdb::query
