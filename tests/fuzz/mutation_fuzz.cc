// Mutation batches (query/mutation.h) on any bytes: parse the batch, then
// apply it to a store with the blog schema and rows (every constraint,
// cascade, reference and edge check runs) and roll it back, so each input
// starts from the same rows.
#include "query/mutation.h"
#include "tests/fuzz/fuzz_util.h"

using ormdb::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto batch = ormdb::query::ParseMutationBatch(ormdb::fuzz::AsText(data, size));
  if (!batch.ok()) {
    FUZZ_CHECK(batch.status().code() == ErrorCode::kInvalidArgument, batch.status().ToString());
    return 0;
  }
  ormdb::Status st = ormdb::fuzz::BlogStore::Get().ApplyAndRollBack(*batch);
  ormdb::fuzz::CheckNotInternal(st, "apply");
  return 0;
}
