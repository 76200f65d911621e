// A test fixture for query/ tests: a fresh store with the blog schema of
// DESIGN.md applied (tests/data/blog.ormdb, via ORMDB_BLOG_SCHEMA), and
// mutation batches committed the way the embedded database commits them.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "catalog/catalog.h"
#include "query/mutation.h"
#include "storage/test_util.h"

namespace ormdb::query::testing {

class BlogDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open(dir_.path());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto catalog = catalog::Catalog::Open(store_.get());
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    std::ifstream in(ORMDB_BLOG_SCHEMA);
    std::stringstream text;
    text << in.rdbuf();
    ASSERT_TRUE(catalog_->Apply(text.str(), {}).ok());
  }

  // Commits a mutation batch (DESIGN.md §4); the test fails if it does not.
  void Mutate(const std::string& json) {
    auto batch = ParseMutationBatch(json);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    catalog::LayoutLookup layouts = catalog_->layouts();
    MutationResult result;
    auto v = store_->Commit([&](storage::WriteTxn& txn) -> Status {
      ORMDB_ASSIGN_OR_RETURN(auto schema, catalog_->SchemaIn(txn));
      return ApplyMutations(txn, *schema, layouts, *batch, &result);
    });
    ASSERT_TRUE(v.ok()) << v.status().ToString();
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

}  // namespace ormdb::query::testing
