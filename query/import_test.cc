#include "query/import.h"

#include <gtest/gtest.h>

#include <sstream>

#include "catalog/sdl_parser.h"
#include "storage/test_util.h"

namespace ormdb::query {
namespace {

Result<std::vector<CsvField>> Record(const std::string& text, size_t* used,
                                     size_t max_bytes = kMaxImportLineBytes) {
  std::istringstream in(text);
  std::string first;
  std::getline(in, first);
  return ReadCsvRecord(first, in, used, max_bytes);
}

CsvField Plain(std::string text) { return CsvField{std::move(text), false}; }
CsvField Quoted(std::string text) { return CsvField{std::move(text), true}; }

TEST(CsvTest, QuotesEscapesAndMultiLineFields) {
  size_t used = 0;
  auto r = Record("1,\"a, b\",\"say \"\"hi\"\"\",,x\r\n", &used);
  ASSERT_OK(r);
  EXPECT_EQ(*r, (std::vector<CsvField>{Plain("1"), Quoted("a, b"), Quoted("say \"hi\""), Plain(""),
                                       Plain("x")}));
  EXPECT_EQ(used, 1u);
  r = Record("1,\"two\nlines\",3\nnext,line\n", &used);
  ASSERT_OK(r);
  EXPECT_EQ(*r, (std::vector<CsvField>{Plain("1"), Quoted("two\nlines"), Plain("3")}));
  EXPECT_EQ(used, 2u);
}

TEST(CsvTest, QuotedEmptyIsNotUnquotedEmpty) {
  size_t used = 0;
  auto r = Record("\"\",,\"\"\"\",\"\"\n", &used);
  ASSERT_OK(r);
  EXPECT_EQ(*r, (std::vector<CsvField>{Quoted(""), Plain(""), Quoted("\""), Quoted("")}));
}

TEST(CsvTest, RecordsAreBounded) {
  size_t used = 0;
  auto r = Record(std::string(10, 'a') + "\n", &used, 10);
  ASSERT_OK(r);
  r = Record(std::string(11, 'a') + "\n", &used, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  // A quoted field spanning lines counts every line and its '\n'.
  r = Record("\"abc\nde\"\n", &used, 9);
  ASSERT_OK(r);
  EXPECT_EQ(used, 2u);
  r = Record("\"abc\ndefg\"\n", &used, 9);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "longer than 9 bytes, the longest line an import reads; split the line or the value");
  EXPECT_EQ(used, 2u);
}

// An input that never ends and counts what was taken from it.
class EndlessBuf : public std::streambuf {
 public:
  explicit EndlessBuf(char fill) : block_(4096, fill) {}
  size_t taken() const { return taken_; }

 protected:
  int_type underflow() override {
    taken_ += block_.size();
    setg(block_.data(), block_.data(), block_.data() + block_.size());
    return traits_type::to_int_type(block_[0]);
  }

 private:
  std::string block_;
  size_t taken_ = 0;
};

TEST(ImportLineTest, StopsReadingOnceALinePassesTheLimit) {
  EndlessBuf buf('x');
  std::istream in(&buf);
  std::string line;
  auto r = ReadImportLine(in, size_t{1} << 20, &line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString(),
            "INVALID_ARGUMENT: longer than 1048576 bytes, the longest line an import reads; split "
            "the line or the value");
  // Read past the limit by less than one read step (64 KiB) and its block.
  EXPECT_GE(buf.taken(), size_t{1} << 20);
  EXPECT_LE(buf.taken(), (size_t{1} << 20) + (size_t{64} << 10) + 4096);
  EXPECT_LE(line.size(), size_t{1} << 20);
}

TEST(ImportLineTest, LinesUpToTheLimitAndTheirEnds) {
  const size_t big = (size_t{64} << 10) * 3 + 5;  // spans several read steps
  std::istringstream in("a\n\n" + std::string(big, 'b') + "\nlast");
  std::string line;
  auto r = ReadImportLine(in, big, &line);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(line, "a");
  r = ReadImportLine(in, big, &line);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(line, "");
  r = ReadImportLine(in, big, &line);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(line, std::string(big, 'b'));
  r = ReadImportLine(in, big, &line);  // no '\n' at the end
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(line, "last");
  r = ReadImportLine(in, big, &line);
  ASSERT_OK(r);
  EXPECT_FALSE(*r);

  // Exactly a read step long, then a '\n'; then one byte over the limit.
  const size_t step = (size_t{64} << 10) - 1;
  std::istringstream exact(std::string(step, 'c') + "\n" + std::string(step + 1, 'd') + "\n");
  r = ReadImportLine(exact, step, &line);
  ASSERT_OK(r);
  EXPECT_EQ(line.size(), step);
  r = ReadImportLine(exact, step, &line);
  ASSERT_FALSE(r.ok());
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
  nick: string?
  age: int32?
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

  Result<MutationBatch> Read(std::string_view what, ImportFormat format, const std::string& text,
                             size_t max_line_bytes = kMaxImportLineBytes) {
    std::istringstream in(text);
    return ReadImport(*schema_, what, format, in, nullptr, max_line_bytes);
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

TEST_F(ImportTest, ALineLongerThanTheLimitIsRefusedWithItsNumber) {
  const std::string ok = "{\"id\":1,\"name\":\"a\"}\n";
  auto b = Read("User", ImportFormat::kJsonLines, ok + ok + std::string(101, ' ') + "\n" + ok, 100);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(),
            "INVALID_ARGUMENT: line 3: longer than 100 bytes, the longest line an import reads; "
            "split the line or the value");
  // Up to the limit is read.
  b = Read("User", ImportFormat::kJsonLines, "{\"name\":\"" + std::string(88, 'x') + "\"}\n", 100);
  ASSERT_OK(b);
  // A CSV record that spans lines fails at the line where it passes the limit.
  b = Read("User", ImportFormat::kCsv,
           "id,name\n1,\"" + std::string(40, 'a') + "\n" + std::string(40, 'b') + "\n" +
               std::string(40, 'c') + "\"\n",
           100);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.status().message().rfind("line 4: longer than 100 bytes", 0), 0u)
      << b.status().message();
}

TEST_F(ImportTest, CsvFieldsMustBeUtf8) {
  auto b = Read("User", ImportFormat::kCsv,
                "id,name\n1,ok\n2,\"b\xff"
                "d\"\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(),
            "INVALID_ARGUMENT: line 3, field 2 (name): expected valid UTF-8, found byte 0xff at "
            "byte 2 of the field");
  b = Read("User", ImportFormat::kCsv, "id,n\xc3\n1,a\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(),
            "INVALID_ARGUMENT: line 1, field 2 of the header: expected valid UTF-8, found byte "
            "0xc3 at byte 2 of the field");
  // An overlong encoding and a surrogate are not UTF-8 either; ids are checked too.
  b = Read("User", ImportFormat::kCsv, "id,name\n1,\xc0\xaf\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
  b = Read("User", ImportFormat::kCsv, "id,name\n1,\xed\xa0\x80\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
  b = Read("User.tags", ImportFormat::kCsv, "from,to\n1,\xff\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "line 2, field 2 (to): expected valid UTF-8, found byte 0xff at byte 1 of the field");
  // Valid multi-byte text passes as it is.
  b = Read("User", ImportFormat::kCsv, "id,name\n1,\"Z\xc3\xbcrich \xe2\x82\xac\"\n");
  ASSERT_OK(b);
  EXPECT_EQ(ToJson(*b->ops.as_array()[0].Find("values")),
            "{\"id\":1,\"name\":\"Z\xc3\xbcrich \xe2\x82\xac\"}");
}

TEST_F(ImportTest, CsvQuotedEmptyIsTheEmptyStringUnquotedEmptyIsNull) {
  auto b =
      Read("User", ImportFormat::kCsv, "id,name,nick,age\n1,\"\",,\n2,x,\"\",\n3,,\"\"\"\",7\n");
  ASSERT_OK(b);
  EXPECT_EQ(ToJson(*b->ops.as_array()[0].Find("values")),
            R"({"id":1,"name":"","nick":null,"age":null})");
  EXPECT_EQ(ToJson(*b->ops.as_array()[1].Find("values")),
            R"({"id":2,"name":"x","nick":"","age":null})");
  EXPECT_EQ(ToJson(*b->ops.as_array()[2].Find("values")),
            R"({"id":3,"name":null,"nick":"\"","age":7})");
  // The empty string is not a number: a quoted empty cell there is refused.
  b = Read("User", ImportFormat::kCsv, "id,name,age\n1,a,\"\"\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().ToString(),
            "CONSTRAINT_VIOLATION: line 2: field User.age: \"\" (a quoted empty cell, the empty "
            "string) is not a int32; an empty cell without quotes is null");
  // Numbers may be quoted.
  b = Read("User", ImportFormat::kCsv, "id,name,age\n\"4\",a,\"5\"\n");
  ASSERT_OK(b);
  EXPECT_EQ(ToJson(*b->ops.as_array()[0].Find("values")), R"({"id":4,"name":"a","age":5})");
}

}  // namespace
}  // namespace ormdb::query
