// Maintained collections (`reviews: [Review] @inverse(movie) @maintain(rating)`,
// docs/reference/schema.md): for each parent row, a record of its related
// rows, kept by every write in the write's own transaction, so a count, sum
// or average over the collection reads one record instead of the related
// rows.
//
// A record holds the count of related rows and, per listed field, the count
// of its non-null values and their sum (int32 and int64 fields only: a sum
// of integers stays exact through updates and deletes, one of floats would
// drift). Records are rows of a derived type (storage/keys.h,
// IsDerivedType) keyed by the parent's id, so they are versioned like rows
// and every snapshot, as_of included, reads them as they were. A parent
// with no related rows has no record.
//
// Row id 0 of the type is the marker: the definition (the summed fields'
// ids) the records were built for. It is written when the records are built
// (the schema transaction that adds or changes @maintain) and ended when
// @maintain is dropped, so a reader at a snapshot uses the records only
// where the marker there equals the definition its plan expects, and
// computes the aggregate from the related rows otherwise.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/compiled_schema.h"
#include "catalog/rows.h"
#include "ormdb/status.h"
#include "storage/txn.h"

namespace ormdb::catalog {

// The derived row type of the records counted through reference field `ref`.
EntityTypeId MaintainedRecordType(FieldId ref);
// The marker's text for summed fields `fields` (positions in child.fields).
std::string MaintainedDefinition(const EntityInfo& child, const std::vector<size_t>& fields);

inline constexpr RowId kMaintainedMarkerId = 0;

struct MaintainedRecord {
  int64_t count = 0;             // related rows
  std::vector<int64_t> nonnull;  // per summed field: its non-null values
  std::vector<__int128> sums;    // per summed field: their sum
};

std::string EncodeMaintained(const MaintainedRecord& r);
// INTERNAL when the bytes do not hold a record of `fields` summed fields.
Result<MaintainedRecord> DecodeMaintained(std::string_view bytes, size_t fields);

// The changes one write transaction makes to the records: each written row
// is noted as it is written, and Flush folds the changes into the records
// (one read and one write per parent touched).
class MaintainedChanges {
 public:
  // Child row `before` (null: none) of `child` became `after` (null: deleted).
  void Note(const EntityInfo& child, const DecodedRow* before, const DecodedRow* after);
  Status Flush(storage::WriteTxn& txn);
  bool empty() const { return pending_.empty(); }

 private:
  void Add(const MaintainedInfo& m, const DecodedRow& row, int sign);

  struct Pending {
    size_t fields = 0;
    MaintainedRecord delta;
  };
  struct KeyHash {
    size_t operator()(const std::pair<uint32_t, RowId>& k) const {
      return std::hash<uint64_t>{}(k.second * 0x9E3779B97F4A7C15ull ^ k.first);
    }
  };
  // By (record type, parent); written in key order by Flush.
  std::unordered_map<std::pair<uint32_t, RowId>, Pending, KeyHash> pending_;
};

// Ends every record of `type` and its marker.
Status ClearMaintained(storage::WriteTxn& txn, EntityTypeId type);
// Clears the records of `m`, then counts the live rows of `child` (decoded
// under schema `schema_number`) into new records and writes the marker.
Status BuildMaintained(storage::WriteTxn& txn, const EntityInfo& child, const MaintainedInfo& m,
                       uint32_t schema_number, const LayoutLookup& layouts);

// Recounts the records of every @maintain relation of `schema` (the current
// one) from the rows and adds a line to *problems for each record that is
// missing, extra or different, and for records that were never built.
Status CheckMaintained(storage::TxnReader& txn, const CompiledSchema& schema,
                       const LayoutLookup& layouts, std::vector<std::string>* problems);

// Brings the records of `next` up to date in the schema transaction that
// installs it: builds those whose definition is new or changed since
// `previous` (null: none), clears those `next` no longer maintains.
Status UpdateMaintained(storage::WriteTxn& txn, const CompiledSchema* previous,
                        const CompiledSchema& next, const LayoutLookup& layouts);

}  // namespace ormdb::catalog
