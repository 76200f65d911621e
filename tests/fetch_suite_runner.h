// The declarative graph-fetch test suite: parser and runner of the .test
// files under tests/fetch (format: tests/fetch/README.md).
//
// The runner talks to the database only through the public ormdb::Database
// interface (ApplySchema, Mutate, Fetch, Explain, CurrentVersion, As), so
// the same files run against the embedded engine and against a remote
// Database over the network: the caller supplies `open_db`.
//
// Failures are reported as gtest failures located at the failing case's
// file:line, with the query, the expected and the actual result.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ormdb/database.h"
#include "ormdb/fetch.h"
#include "ormdb/principal.h"
#include "ormdb/status.h"

namespace ormdb::fetch_suite {

// One step of a suite file. Steps run in file order on one database.
struct SuiteCase {
  enum class Kind {
    kSchema,   // apply `body` (schema text); must succeed
    kMutate,   // apply `body` (a mutation batch); must succeed, or fail with error_code
    kQuery,    // fetch `body`; compare with expected_json or the expected error
    kExplain,  // explain `body`; the text must contain each of `contains`
    kAs,       // later steps act for `principal` (nullopt: the owner's handle)
  };
  Kind kind = Kind::kQuery;
  std::string file;  // the suite file
  int line = 0;      // the line of the step's directive
  std::string body;  // schema text, mutation JSON, or query text (JSON IR when it starts with '{')
  std::string schema_name;  // `schema NAME`: the file NAME.ormdb it was read from

  // kAs: the principal the following steps act for (`as JSON`, the JSON
  // form of Principal::FromJson, as `ormdb --as` takes it; `as null` is the
  // anonymous principal), or nullopt for `as owner`.
  std::optional<Principal> principal;

  // kQuery / kExplain options.
  std::string params_json = "{}";
  FetchOptions options;
  std::optional<uint64_t> max_rows;  // budget-rows (a select's)
  bool analyze = false;              // explain analyze

  // Expectations. An error: the code name ("SCHEMA_ERROR") and a substring
  // of the message (may be empty). Otherwise, for kQuery, the expected
  // result JSON text; for kExplain, substrings of the explain text.
  std::optional<std::string> error_code;
  std::string error_substring;
  std::string expected_json;
  std::vector<std::string> contains;
  std::vector<std::string> lacks;  // explain: text that must not appear
  int expect_line = 0;             // the line where the expectation starts

  // A test case proper (a query, an explain, or a mutation expected to fail),
  // as opposed to a setup step.
  bool is_case() const {
    return kind == Kind::kQuery || kind == Kind::kExplain ||
           (kind == Kind::kMutate && error_code.has_value());
  }
};

// Parses a suite file. INVALID_ARGUMENT "FILE:LINE: ..." on a malformed
// file. `schema NAME` reads NAME.ormdb from `data_dir` (empty: the
// compile-time ORMDB_TEST_DATA_DIR, else ../data beside the suite file).
Result<std::vector<SuiteCase>> ParseSuiteFile(const std::string& path,
                                              const std::string& data_dir = "");

// The number of test cases (SuiteCase::is_case) in a file; -1 when it does
// not parse.
int CountSuiteCases(const std::string& path);

// The *.test files of a directory, sorted by name.
std::vector<std::string> ListSuiteFiles(const std::string& dir);

using OpenDbFn = std::function<std::unique_ptr<Database>(const std::string& dir)>;

// Runs every step of a suite file on a database that `open_db` opens on a
// fresh, empty temporary directory (removed afterwards). Reports each
// failing case with ADD_FAILURE_AT(file, line); a failing setup step (schema,
// mutation, or an `as` that As refuses) ends the file, since later
// expectations depend on it. The opened handle must be the owner's (or act
// for a principal that may impersonate): `as` steps call its As.
void RunSuiteFile(const std::string& path, const OpenDbFn& open_db);

// The three ways a suite runs, each on a fresh directory: embedded, through
// a served database over tcp, and over the direct transport (ormdb://). The
// server has one API key, with the server roles admin and impersonate, and
// the client connects with it: its requests act for the owner unless an
// `as` step names a principal (Request.actAs).
std::unique_ptr<Database> OpenEmbedded(const std::string& dir);
std::unique_ptr<Database> OpenServed(const std::string& dir);
std::unique_ptr<Database> OpenServedDirect(const std::string& dir);

// A test name for a suite file: its stem with non-alphanumerics as '_'.
std::string FileTestName(const ::testing::TestParamInfo<std::string>& info);

// Matching used by the runner, exposed for its own tests: compares the
// expected and actual JSON structurally (exact kinds, object members in
// order); the expected string "<cursor>" matches any string. Returns an
// empty string on a match, else where and how they first differ.
std::string DiffJson(const std::string& expected, const std::string& actual);

}  // namespace ormdb::fetch_suite
