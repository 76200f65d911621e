// The workload shared by the crash test and its child process.
#pragma once

#include <string>

#include "storage/key_encoding.h"
#include "storage/row_codec.h"
#include "storage/txn.h"

namespace ormdb::storage::crash {

inline constexpr EntityTypeId kType{1};
inline constexpr IndexId kIndex{1};
inline constexpr ValueType kLayout[] = {ValueType::kInt64, ValueType::kInt32, ValueType::kString};

inline int RowsOf(uint64_t txn) { return 1 + static_cast<int>(txn % 5); }
inline RowId RowIdOf(uint64_t txn, int j) { return txn * 8 + static_cast<RowId>(j); }

inline std::string RowOf(uint64_t txn, int j) {
  Value values[] = {Value::Int64(static_cast<int64_t>(txn)), Value::Int32(j),
                    Value::String(std::string(50 + (txn * 7 + j) % 200, 'a' + j))};
  return EncodeRow(1, kLayout, values).value();
}

inline std::string IndexValueOf(uint64_t txn, int j) {
  std::string k;
  AppendKey(&k, Value::Int64(static_cast<int64_t>(RowIdOf(txn, j))));
  return k;
}

// Each transaction is a client request too (exactly-once writes): its key
// and the outcome recorded with it.
inline std::string RequestKeyOf(uint64_t txn) { return "req-" + std::to_string(txn); }
inline std::string OutcomeOf(uint64_t txn) { return "ok " + std::to_string(txn); }

inline Status WriteTxnRows(WriteTxn& txn, uint64_t n) {
  for (int j = 0; j < RowsOf(n); ++j) {
    ORMDB_RETURN_IF_ERROR(txn.PutRow(kType, RowIdOf(n, j), RowOf(n, j)));
    ORMDB_RETURN_IF_ERROR(txn.IndexInsert(kIndex, IndexValueOf(n, j), RowIdOf(n, j), true));
  }
  return txn.RecordRequest(RequestKeyOf(n), OutcomeOf(n));
}

}  // namespace ormdb::storage::crash
