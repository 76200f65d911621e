// Import (query/import.h) on any bytes: CSV or JSON lines into one entity
// or relation of the blog schema, read into a batch and applied (then rolled
// back) like a mutation.
//
// Input: a first line "csv TARGET" or "jsonl TARGET" (TARGET an entity or
// "Entity.relation"; unknown ones are errors to handle too), then the data.
#include <sstream>

#include "query/import.h"
#include "tests/fuzz/fuzz_util.h"

namespace query = ormdb::query;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = ormdb::fuzz::AsText(data, size);
  size_t eol = input.find('\n');
  if (eol == std::string_view::npos) return 0;
  std::string_view head = input.substr(0, eol);
  query::ImportFormat format;
  if (head.rfind("csv ", 0) == 0) {
    format = query::ImportFormat::kCsv;
    head.remove_prefix(4);
  } else if (head.rfind("jsonl ", 0) == 0) {
    format = query::ImportFormat::kJsonLines;
    head.remove_prefix(6);
  } else {
    return 0;
  }
  std::istringstream in(std::string(input.substr(eol + 1)));
  ormdb::fuzz::BlogStore& blog = ormdb::fuzz::BlogStore::Get();
  auto schema = blog.schema();
  uint64_t last_progress = 0;
  auto batch = query::ReadImport(*schema, head, format, in,
                                 [&](uint64_t lines) { last_progress = lines; });
  ormdb::fuzz::CheckNotInternal(batch.status(), "read import");
  if (!batch.ok()) return 0;
  FUZZ_CHECK(batch->labels.size() == batch->ops.size(), "one label per op");
  ormdb::fuzz::CheckNotInternal(blog.ApplyAndRollBack(*batch), "apply import");
  return 0;
}
