// Runs the declarative graph-fetch suite (tests/fetch/*.test, format in
// tests/fetch/README.md) against the embedded database and again through a
// real server over tcp loopback: one test per file and mode, each on a fresh
// temporary data directory. Both modes compare with the same expectations,
// so their results are identical.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>

#include "ormdb/database.h"
#include "tests/fetch_suite_runner.h"

#ifndef ORMDB_FETCH_SUITE_DIR
#error "define ORMDB_FETCH_SUITE_DIR as the path of tests/fetch"
#endif

namespace ormdb::fetch_suite {
namespace {

class FetchSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(FetchSuite, File) { RunSuiteFile(GetParam(), OpenEmbedded); }

// The same files through `ormdb serve`'s server and the remote client.
TEST_P(FetchSuite, FileOverTcp) { RunSuiteFile(GetParam(), OpenServed); }

// And through the direct transport (ormdb://).
TEST_P(FetchSuite, FileOverDirect) { RunSuiteFile(GetParam(), OpenServedDirect); }

INSTANTIATE_TEST_SUITE_P(Files, FetchSuite,
                         ::testing::ValuesIn(ListSuiteFiles(ORMDB_FETCH_SUITE_DIR)), FileTestName);

TEST(FetchSuiteFiles, EveryFileParsesAndThereAreEnoughCases) {
  auto files = ListSuiteFiles(ORMDB_FETCH_SUITE_DIR);
  ASSERT_FALSE(files.empty()) << "no .test files in " << ORMDB_FETCH_SUITE_DIR;
  int total = 0;
  for (const std::string& f : files) {
    auto cases = ParseSuiteFile(f);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
    int n = CountSuiteCases(f);
    EXPECT_GT(n, 0) << f << " has no cases";
    total += n;
  }
  EXPECT_GE(total, 150) << "the fetch suite should hold at least 150 cases";
}

TEST(FetchSuiteRunner, DiffJson) {
  EXPECT_EQ(DiffJson(R"({"a": 1, "b": [true, null]})", R"({"a":1,"b":[true,null]})"), "");
  EXPECT_NE(DiffJson(R"({"a": 1, "b": 2})", R"({"b":2,"a":1})"), "");  // member order counts
  EXPECT_NE(DiffJson(R"({"a": 1})", R"({"a":1.0})"), "");              // kinds count
  EXPECT_NE(DiffJson(R"([1, 2])", R"([1,2,3])"), "");
  EXPECT_EQ(DiffJson(R"({"next": "<cursor>"})", R"({"next":"abc"})"), "");
  EXPECT_NE(DiffJson(R"({"next": "<cursor>"})", R"({"next":null})"), "");
}

// The `as` step and `mutate error CODE TEXT` parse as tests/fetch/README.md
// says; a principal Principal::FromJson refuses is a parse error at its line.
TEST(FetchSuiteRunner, ParsesPrincipalsAndMutationErrorText) {
  const std::string dir = ::testing::TempDir();
  auto parse = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "w");
    EXPECT_NE(f, nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
    auto r = ParseSuiteFile(path);
    std::remove(path.c_str());
    return r;
  };
  auto ok = parse("as_ok.test",
                  "as {\"id\": 7, \"roles\": [\"user\"], \"tenant\": \"acme\"}  # a comment\n"
                  "as null\n"
                  "as owner\n"
                  "mutate error PERMISSION_DENIED create Project refused by @@deny(all, x)\n"
                  "{\"ops\": []}\nend\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 4u);
  EXPECT_EQ((*ok)[0].kind, SuiteCase::Kind::kAs);
  ASSERT_TRUE((*ok)[0].principal.has_value());
  EXPECT_EQ((*ok)[0].principal->id_json, "7");
  EXPECT_TRUE((*ok)[0].principal->HasRole("user"));
  ASSERT_TRUE((*ok)[1].principal.has_value());
  EXPECT_FALSE((*ok)[1].principal->authenticated);
  EXPECT_FALSE((*ok)[2].principal.has_value());
  EXPECT_FALSE((*ok)[0].is_case());
  EXPECT_EQ((*ok)[3].error_code, "PERMISSION_DENIED");
  EXPECT_EQ((*ok)[3].error_substring, "create Project refused by @@deny(all, x)");

  for (const char* bad : {"as\n", "as [1]\n", "as {\"id\": 1.5}\n", "as owner extra\n"}) {
    auto r = parse("as_bad.test", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("as_bad.test:1:"), std::string::npos)
        << r.status().ToString();
  }
}

}  // namespace
}  // namespace ormdb::fetch_suite
