#include "tests/fuzz/fuzz_util.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace ormdb::fuzz {
namespace {

constexpr std::string_view kBlogRows = R"({"ops": [
 {"op": "insert", "entity": "User", "values": {"id": 1, "email": "ann@x.io", "name": "Ann", "age": 31, "created_at": "2024-01-01T00:00:00Z"}},
 {"op": "insert", "entity": "User", "values": {"id": 2, "email": "bob@x.io", "name": "Bob", "age": 25, "created_at": "2024-01-02T00:00:00Z"}},
 {"op": "insert", "entity": "User", "values": {"id": 3, "email": "cy@x.io", "name": "Cy", "created_at": "2024-01-03T00:00:00Z"}},
 {"op": "insert", "entity": "User", "values": {"id": 4, "email": "dee@x.io", "name": "Dee", "age": 40, "created_at": "2024-01-04T00:00:00Z"}},
 {"op": "insert", "entity": "User", "values": {"id": 5, "email": "eve@x.io", "name": "Eve", "age": 25, "created_at": "2024-01-05T00:00:00Z"}},
 {"op": "insert", "entity": "Post", "values": {"id": 1, "title": "Hello", "status": "published", "created_at": "2024-02-01T10:00:00Z", "author": 1}},
 {"op": "insert", "entity": "Post", "values": {"id": 2, "title": "Second", "status": "draft", "created_at": "2024-02-03T10:00:00Z", "author": 1}},
 {"op": "insert", "entity": "Post", "values": {"id": 3, "title": "Third", "status": "published", "created_at": "2024-02-02T10:00:00Z", "author": 1}},
 {"op": "insert", "entity": "Post", "values": {"id": 4, "title": "Bob one", "status": "published", "created_at": "2024-02-04T10:00:00Z", "author": 2}},
 {"op": "insert", "entity": "Post", "values": {"id": 5, "title": "Bob two", "status": "draft", "created_at": "2024-02-05T10:00:00Z", "author": 2}},
 {"op": "insert", "entity": "Post", "values": {"id": 6, "title": "Dee post", "status": "published", "created_at": "2024-02-06T10:00:00Z", "author": 4}},
 {"op": "insert", "entity": "Tag", "values": {"id": 1, "name": "cpp"}},
 {"op": "insert", "entity": "Tag", "values": {"id": 2, "name": "db"}},
 {"op": "insert", "entity": "Tag", "values": {"id": 3, "name": "misc"}},
 {"op": "link", "relation": "Post.tags", "from": 1, "to": 1},
 {"op": "link", "relation": "Post.tags", "from": 1, "to": 2},
 {"op": "link", "relation": "Post.tags", "from": 3, "to": 2},
 {"op": "link", "relation": "Post.tags", "from": 4, "to": 1},
 {"op": "link", "relation": "Post.tags", "from": 6, "to": 1},
 {"op": "link", "relation": "Post.tags", "from": 6, "to": 2},
 {"op": "insert", "entity": "Comment", "values": {"id": 1, "body": "Nice", "created_at": "2024-03-01T00:00:00Z", "post": 1, "author": 2}},
 {"op": "insert", "entity": "Comment", "values": {"id": 2, "body": "Thanks", "created_at": "2024-03-02T00:00:00Z", "post": 1, "author": 1}},
 {"op": "insert", "entity": "Comment", "values": {"id": 3, "body": "Meh", "created_at": "2024-03-03T00:00:00Z", "post": 1}},
 {"op": "insert", "entity": "Comment", "values": {"id": 4, "body": "Wow", "created_at": "2024-03-04T00:00:00Z", "post": 4, "author": 4}},
 {"op": "insert", "entity": "Comment", "values": {"id": 5, "body": "Ok", "created_at": "2024-03-05T00:00:00Z", "post": 6, "author": 5}}
]})";

// The prefix of every directory TempDir makes; the pid follows it.
constexpr std::string_view kDirPrefix = "ormdb-fuzz-";

std::mutex dirs_mu;
std::vector<std::string>* dirs = nullptr;  // made by this process, removed at exit

void RemoveDirs() {
  std::lock_guard lock(dirs_mu);
  if (dirs == nullptr) return;
  std::error_code ec;
  for (const std::string& d : *dirs) std::filesystem::remove_all(d, ec);
}

// Directories left by fuzzer processes that died (a crash aborts, so their
// exit handler never ran): "ormdb-fuzz-PID-..." whose PID is gone.
void RemoveStale(const std::filesystem::path& parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + kDirPrefix.size(), nullptr, 10);
    if (pid <= 0 || pid == getpid()) continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

std::filesystem::path TempParent() {
  if (access("/dev/shm", W_OK) == 0) return "/dev/shm";
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

[[noreturn]] void Die(std::string_view what, const Status& s) {
  std::fprintf(stderr, "fuzz setup: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               s.ToString().c_str());
  std::abort();
}

}  // namespace

void Trace(std::string_view what, const Status& s) {
  static const bool verbose = std::getenv("ORMDB_FUZZ_VERBOSE") != nullptr;
  if (!verbose) return;
  std::fprintf(stderr, "  %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               s.ok() ? "OK" : s.ToString().substr(0, 200).c_str());
}

const std::string& BlogSchema() {
  static const std::string text = [] {
    std::ifstream in(ORMDB_FUZZ_BLOG_SCHEMA);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in || ss.str().empty()) {
      std::fprintf(stderr, "fuzz setup: cannot read %s\n", ORMDB_FUZZ_BLOG_SCHEMA);
      std::abort();
    }
    return ss.str();
  }();
  return text;
}

std::string_view BlogRows() { return kBlogRows; }

std::string TempDir(std::string_view name) {
  std::filesystem::path parent = TempParent();
  static std::once_flag cleaned;
  std::call_once(cleaned, [&] {
    RemoveStale(parent);
    std::atexit(RemoveDirs);
  });
  std::string pattern = (parent / (std::string(kDirPrefix) + std::to_string(getpid()) + "-" +
                                   std::string(name) + "-XXXXXX"))
                            .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("fuzz setup: mkdtemp");
    std::abort();
  }
  std::lock_guard lock(dirs_mu);
  if (dirs == nullptr) dirs = new std::vector<std::string>();
  dirs->push_back(pattern);
  return pattern;
}

BlogStore& BlogStore::Get() {
  static BlogStore* s = [] {
    auto* b = new BlogStore();
    storage::StoreOptions o;
    o.sync_mode = storage::SyncMode::kNoSync;
    auto store = storage::Store::Open(TempDir("store"), o);
    if (!store.ok()) Die("open store", store.status());
    b->store_ = std::move(*store);
    auto cat = catalog::Catalog::Open(b->store_.get());
    if (!cat.ok()) Die("open catalog", cat.status());
    b->catalog_ = std::move(*cat);
    catalog::ApplyOptions ao;
    ao.file_name = "blog.ormdb";
    auto applied = b->catalog_->Apply(BlogSchema(), ao);
    if (!applied.ok()) Die("apply blog.ormdb", applied.status());
    auto rows = query::ParseMutationBatch(kBlogRows);
    if (!rows.ok()) Die("parse the blog rows", rows.status());
    catalog::LayoutLookup layouts = b->catalog_->layouts();
    auto v = b->store_->Commit([&](storage::WriteTxn& txn) -> Status {
      ORMDB_ASSIGN_OR_RETURN(auto schema, b->catalog_->SchemaIn(txn));
      query::MutationResult r;
      return query::ApplyMutations(txn, *schema, layouts, *rows, &r);
    });
    if (!v.ok()) Die("write the blog rows", v.status());
    return b;
  }();
  return *s;
}

Status BlogStore::ApplyAndRollBack(const query::MutationBatch& batch) {
  static const std::string kRollBack = "fuzz: roll back";
  Status own;
  catalog::LayoutLookup layouts = catalog_->layouts();
  auto v = store_->Commit([&](storage::WriteTxn& txn) -> Status {
    auto schema = catalog_->SchemaIn(txn);
    if (!schema.ok()) return own = schema.status();
    query::MutationResult r;
    own = query::ApplyMutations(txn, **schema, layouts, batch, &r);
    if (!own.ok()) return own;
    std::string text = r.ToJsonText();
    FUZZ_CHECK(ParseJson(text).ok(), "the mutation result is not JSON: " + text);
    return Unavailable(kRollBack);
  });
  FUZZ_CHECK(!v.ok(), "a rolled-back batch committed");
  if (own.ok()) {
    FUZZ_CHECK(v.status().message() == kRollBack, "commit: " + v.status().ToString());
  }
  return own;
}

Result<catalog::ApplyResult> BlogStore::DryRunSchema(std::string_view text) {
  catalog::ApplyOptions o;
  o.dry_run = true;
  o.file_name = "fuzz.ormdb";
  return catalog_->Apply(text, o);
}

db::Engine& BlogDatabase(bool fresh) {
  static std::unique_ptr<db::Engine> db;
  static std::string dir;
  if (db && !fresh) return *db;
  if (db) {
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  dir = TempDir("db");
  OpenOptions o;
  o.initial_map_size = size_t{8} << 20;
  auto opened = db::Engine::Open(dir, o);
  if (!opened.ok()) Die("open database", opened.status());
  db = std::move(*opened);
  ApplySchemaOptions ao;
  ao.file_name = "blog.ormdb";
  auto applied = db->ApplySchema(BlogSchema(), ao);
  if (!applied.ok()) Die("apply blog.ormdb", applied.status());
  auto rows = db->Mutate(kBlogRows);
  if (!rows.ok()) Die("write the blog rows", rows.status());
  return *db;
}

}  // namespace ormdb::fuzz
