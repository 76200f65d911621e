// Helpers shared by the storage tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace ormdb::storage::testing {

// A fresh directory under /tmp, removed with its contents at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ormdb-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ormdb::storage::testing

#define ASSERT_OK(expr)                                         \
  do {                                                          \
    auto&& ormdb_s_ = (expr);                                   \
    ASSERT_TRUE(ormdb_s_.ok()) << ormdb_s_.status().ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                         \
  do {                                                          \
    auto&& ormdb_s_ = (expr);                                   \
    EXPECT_TRUE(ormdb_s_.ok()) << ormdb_s_.status().ToString(); \
  } while (0)
