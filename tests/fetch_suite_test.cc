// Runs the declarative graph-fetch suite (tests/fetch/*.test, format in
// tests/fetch/README.md) against the embedded database and again through a
// real server over tcp loopback: one test per file and mode, each on a fresh
// temporary data directory. Both modes compare with the same expectations,
// so their results are identical.
#include <gtest/gtest.h>

#include <cctype>
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

}  // namespace
}  // namespace ormdb::fetch_suite
