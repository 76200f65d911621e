#include "catalog/maintained.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "storage/keys.h"

namespace ormdb::catalog {
namespace {

void PutI64(std::string* out, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

int64_t GetI64(const char* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A summed field's value as an integer; false for null.
bool IntValue(const Value& v, int64_t* out) {
  if (v.is_null()) return false;
  *out = v.type() == ValueType::kInt32 ? v.as_int32() : v.as_int64();
  return true;
}

}  // namespace

EntityTypeId MaintainedRecordType(FieldId ref) {
  return EntityTypeId{storage::kDerivedTypeBase + ref.value};
}

std::string MaintainedDefinition(const EntityInfo& child, const std::vector<size_t>& fields) {
  std::string out = "maintained:";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(child.fields[fields[i]].id.value);
  }
  return out;
}

std::string EncodeMaintained(const MaintainedRecord& r) {
  std::string out;
  out.reserve(8 + r.sums.size() * 24);
  PutI64(&out, r.count);
  for (size_t i = 0; i < r.sums.size(); ++i) {
    PutI64(&out, r.nonnull[i]);
    unsigned __int128 u = static_cast<unsigned __int128>(r.sums[i]);
    PutI64(&out, static_cast<int64_t>(static_cast<uint64_t>(u)));
    PutI64(&out, static_cast<int64_t>(static_cast<uint64_t>(u >> 64)));
  }
  return out;
}

Result<MaintainedRecord> DecodeMaintained(std::string_view bytes, size_t fields) {
  if (bytes.size() != 8 + fields * 24) {
    return Internal("maintained record of " + std::to_string(bytes.size()) + " bytes, expected " +
                    std::to_string(8 + fields * 24));
  }
  MaintainedRecord r;
  r.count = GetI64(bytes.data());
  r.nonnull.resize(fields);
  r.sums.resize(fields);
  for (size_t i = 0; i < fields; ++i) {
    const char* p = bytes.data() + 8 + i * 24;
    r.nonnull[i] = GetI64(p);
    unsigned __int128 lo = static_cast<uint64_t>(GetI64(p + 8));
    unsigned __int128 hi = static_cast<uint64_t>(GetI64(p + 16));
    r.sums[i] = static_cast<__int128>((hi << 64) | lo);
  }
  return r;
}

void MaintainedChanges::Add(const MaintainedInfo& m, const DecodedRow& row, int sign) {
  const Value& ref = row.fields[m.ref_field];
  if (ref.is_null()) return;
  Pending& p = pending_[{m.record_type.value, static_cast<RowId>(ref.as_int64())}];
  if (p.delta.sums.size() != m.fields.size()) {
    p.fields = m.fields.size();
    p.delta.nonnull.assign(m.fields.size(), 0);
    p.delta.sums.assign(m.fields.size(), 0);
  }
  p.delta.count += sign;
  for (size_t i = 0; i < m.fields.size(); ++i) {
    int64_t v = 0;
    if (!IntValue(row.fields[m.fields[i]], &v)) continue;
    p.delta.nonnull[i] += sign;
    p.delta.sums[i] += sign * static_cast<__int128>(v);
  }
}

void MaintainedChanges::Note(const EntityInfo& child, const DecodedRow* before,
                             const DecodedRow* after) {
  for (const MaintainedInfo& m : child.maintained) {
    if (before && after) {
      bool same = before->fields[m.ref_field] == after->fields[m.ref_field];
      for (size_t f : m.fields) same = same && before->fields[f] == after->fields[f];
      if (same) continue;
    }
    if (before) Add(m, *before, -1);
    if (after) Add(m, *after, +1);
  }
}

Status MaintainedChanges::Flush(storage::WriteTxn& txn) {
  // In key order: the records' B-tree pages are written one after another.
  std::vector<std::pair<std::pair<uint32_t, RowId>, const Pending*>> order;
  order.reserve(pending_.size());
  for (const auto& [key, p] : pending_) order.emplace_back(key, &p);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, pending] : order) {
    const Pending& p = *pending;
    const EntityTypeId type{key.first};
    const RowId parent = key.second;
    MaintainedRecord r;
    r.nonnull.assign(p.fields, 0);
    r.sums.assign(p.fields, 0);
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(type, parent));
    if (rec) {
      ORMDB_ASSIGN_OR_RETURN(r, DecodeMaintained(rec->bytes_in_txn, p.fields));
    }
    r.count += p.delta.count;
    for (size_t i = 0; i < p.fields; ++i) {
      r.nonnull[i] += p.delta.nonnull[i];
      r.sums[i] += p.delta.sums[i];
    }
    if (r.count < 0) {
      return Internal("maintained record " + std::to_string(type.value) + "/" +
                      std::to_string(parent) + " would count " + std::to_string(r.count) + " rows");
    }
    if (r.count == 0) {
      ORMDB_RETURN_IF_ERROR(txn.DeleteDerived(type, parent));
    } else {
      ORMDB_RETURN_IF_ERROR(txn.PutDerived(type, parent, EncodeMaintained(r)));
    }
  }
  pending_.clear();
  return Status::Ok();
}

Status ClearMaintained(storage::WriteTxn& txn, EntityTypeId type) {
  std::vector<RowId> ids;
  ORMDB_RETURN_IF_ERROR(txn.ScanRows(type, 0, storage::ScanDirection::kForward,
                                     [&](RowId id, const storage::RowRecord&) {
                                       ids.push_back(id);
                                       return true;
                                     }));
  for (RowId id : ids) ORMDB_RETURN_IF_ERROR(txn.DeleteDerived(type, id));
  return Status::Ok();
}

namespace {

// The records of `m` counted from the live rows of `child`, by parent.
Result<std::unordered_map<RowId, MaintainedRecord>> CountRecords(storage::TxnReader& txn,
                                                                 const EntityInfo& child,
                                                                 const MaintainedInfo& m,
                                                                 uint32_t schema_number,
                                                                 const LayoutLookup& layouts) {
  std::vector<size_t> wanted = m.fields;
  wanted.push_back(m.ref_field);
  std::unordered_map<RowId, MaintainedRecord> records;
  Status st;
  storage::RowView view;
  DecodedRow row;
  ORMDB_RETURN_IF_ERROR(txn.ScanRows(
      child.id, 0, storage::ScanDirection::kForward, [&](RowId, const storage::RowRecord& rec) {
        if (child.uuid_id) {
          auto full = DecodeEntityRow(rec.bytes_in_txn, child, schema_number, layouts);
          if (!full.ok()) {
            st = full.status();
            return false;
          }
          row = std::move(*full);
        } else {
          st = DecodeEntityFields(rec.bytes_in_txn, child, schema_number, layouts, wanted, &view,
                                  &row);
          if (!st.ok()) return false;
        }
        const Value& ref = row.fields[m.ref_field];
        if (ref.is_null()) return true;
        MaintainedRecord& r = records[static_cast<RowId>(ref.as_int64())];
        if (r.sums.size() != m.fields.size()) {
          r.nonnull.assign(m.fields.size(), 0);
          r.sums.assign(m.fields.size(), 0);
        }
        ++r.count;
        for (size_t i = 0; i < m.fields.size(); ++i) {
          int64_t v = 0;
          if (!IntValue(row.fields[m.fields[i]], &v)) continue;
          ++r.nonnull[i];
          r.sums[i] += v;
        }
        return true;
      }));
  ORMDB_RETURN_IF_ERROR(st);
  return records;
}

}  // namespace

Status BuildMaintained(storage::WriteTxn& txn, const EntityInfo& child, const MaintainedInfo& m,
                       uint32_t schema_number, const LayoutLookup& layouts) {
  ORMDB_RETURN_IF_ERROR(ClearMaintained(txn, m.record_type));
  ORMDB_ASSIGN_OR_RETURN(auto records, CountRecords(txn, child, m, schema_number, layouts));
  for (const auto& [parent, r] : records) {
    ORMDB_RETURN_IF_ERROR(txn.PutDerived(m.record_type, parent, EncodeMaintained(r)));
  }
  return txn.PutDerived(m.record_type, kMaintainedMarkerId, m.definition);
}

Status CheckMaintained(storage::TxnReader& txn, const CompiledSchema& schema,
                       const LayoutLookup& layouts, std::vector<std::string>* problems) {
  for (const EntityInfo& child : schema.entities()) {
    for (const MaintainedInfo& m : child.maintained) {
      ORMDB_ASSIGN_OR_RETURN(auto marker, txn.Get(m.record_type, kMaintainedMarkerId));
      if (!marker || marker->bytes_in_txn != m.definition) {
        problems->push_back("@maintain " + m.collection + ": its records were not built");
        continue;
      }
      ORMDB_ASSIGN_OR_RETURN(auto counted, CountRecords(txn, child, m, schema.number(), layouts));
      std::vector<std::string> found;
      Status st;
      ORMDB_RETURN_IF_ERROR(txn.ScanRows(
          m.record_type, 1, storage::ScanDirection::kForward,
          [&](RowId parent, const storage::RowRecord& rec) {
            auto r = DecodeMaintained(rec.bytes_in_txn, m.fields.size());
            auto it = counted.find(parent);
            if (!r.ok()) {
              found.push_back("@maintain " + m.collection + ": the record of parent " +
                              std::to_string(parent) + " is malformed");
            } else if (it == counted.end() || it->second.count != r->count ||
                       it->second.nonnull != r->nonnull || it->second.sums != r->sums) {
              found.push_back(
                  "@maintain " + m.collection + ": the record of parent " + std::to_string(parent) +
                  " counts " + std::to_string(r->count) + " rows, the rows say " +
                  std::to_string(it == counted.end() ? 0 : it->second.count) +
                  (it == counted.end() || it->second.count == r->count ? " (its sums differ)"
                                                                       : ""));
            }
            if (it != counted.end()) counted.erase(it);
            return found.size() < 100;
          }));
      for (const auto& [parent, r] : counted) {
        if (found.size() >= 100) break;
        found.push_back("@maintain " + m.collection + ": parent " + std::to_string(parent) +
                        " has " + std::to_string(r.count) + " related rows and no record");
      }
      problems->insert(problems->end(), found.begin(), found.end());
    }
  }
  return Status::Ok();
}

Status UpdateMaintained(storage::WriteTxn& txn, const CompiledSchema* previous,
                        const CompiledSchema& next, const LayoutLookup& layouts) {
  std::map<uint32_t, std::string> before;  // record type -> definition
  if (previous) {
    for (const EntityInfo& e : previous->entities()) {
      for (const MaintainedInfo& m : e.maintained) before[m.record_type.value] = m.definition;
    }
  }
  for (const EntityInfo& e : next.entities()) {
    for (const MaintainedInfo& m : e.maintained) {
      auto it = before.find(m.record_type.value);
      bool unchanged = it != before.end() && it->second == m.definition;
      if (it != before.end()) before.erase(it);
      if (unchanged) continue;
      ORMDB_RETURN_IF_ERROR(BuildMaintained(txn, e, m, next.number(), layouts));
    }
  }
  for (const auto& [type, definition] : before) {
    ORMDB_RETURN_IF_ERROR(ClearMaintained(txn, EntityTypeId{type}));
  }
  return Status::Ok();
}

}  // namespace ormdb::catalog
