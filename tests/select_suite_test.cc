// Runs the declarative select suite (relational mode) (tests/select/*.test, format in
// tests/select/README.md) against the embedded database and again through a
// real server over tcp loopback: one test per file and mode, each on a fresh
// temporary data directory. Both modes compare with the same expectations,
// so their results are identical.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <string>

#include "ormdb/database.h"
#include "tests/fetch_suite_runner.h"

#ifndef ORMDB_SELECT_SUITE_DIR
#error "define ORMDB_SELECT_SUITE_DIR as the path of tests/fetch"
#endif

namespace ormdb::fetch_suite {
namespace {

class SelectSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(SelectSuite, File) { RunSuiteFile(GetParam(), OpenEmbedded); }

// The same files through `ormdb serve`'s server and the remote client.
TEST_P(SelectSuite, FileOverTcp) { RunSuiteFile(GetParam(), OpenServed); }

// And through the direct transport (ormdb://).
TEST_P(SelectSuite, FileOverDirect) { RunSuiteFile(GetParam(), OpenServedDirect); }

INSTANTIATE_TEST_SUITE_P(Files, SelectSuite,
                         ::testing::ValuesIn(ListSuiteFiles(ORMDB_SELECT_SUITE_DIR)), FileTestName);

TEST(SelectSuiteFiles, EveryFileParsesAndThereAreEnoughCases) {
  auto files = ListSuiteFiles(ORMDB_SELECT_SUITE_DIR);
  ASSERT_FALSE(files.empty()) << "no .test files in " << ORMDB_SELECT_SUITE_DIR;
  int total = 0;
  for (const std::string& f : files) {
    auto cases = ParseSuiteFile(f);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
    int n = CountSuiteCases(f);
    EXPECT_GT(n, 0) << f << " has no cases";
    total += n;
  }
  EXPECT_GE(total, 60) << "the select suite should hold at least 60 cases";
}

}  // namespace
}  // namespace ormdb::fetch_suite
