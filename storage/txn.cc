#include "storage/txn.h"

#include <lmdb.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "storage/key_encoding.h"

namespace ormdb::storage {
namespace {

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// The end version an index entry's or edge's value says; 0 (never visible)
// when it is malformed, which Check reports.
Version ReadEnd(const KeyLayout& keys, std::string_view value) {
  Version end = 0;
  return keys.ReadEnd(value, &end) ? end : 0;
}

std::string UserMetaKey(std::string_view key) { return "x:" + std::string(key); }

std::string NextIdKey(EntityTypeId type) {
  std::string k = "next_id:";
  PutU32BE(&k, type.value);
  return k;
}

// Positions `cur` at the first key >= `key`; returns MDB_NOTFOUND past the end.
int SeekGe(MDB_cursor* cur, std::string_view key, MDB_val* k, MDB_val* v) {
  *k = Val(key);
  return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

// Positions `cur` at the last key < `key`.
int SeekLt(MDB_cursor* cur, std::string_view key, MDB_val* k, MDB_val* v) {
  int rc = key.empty() ? MDB_NOTFOUND : SeekGe(cur, key, k, v);
  if (rc == MDB_NOTFOUND) return mdb_cursor_get(cur, k, v, MDB_LAST);
  if (rc != 0) return rc;
  return mdb_cursor_get(cur, k, v, MDB_PREV);
}

Status CheckRequestKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("request key is empty");
  if (key.size() > kMaxRequestKeyBytes) {
    return InvalidArgument("request key of " + std::to_string(key.size()) +
                           " bytes is longer than the limit of " +
                           std::to_string(kMaxRequestKeyBytes));
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- TxnReader

TxnReader::~TxnReader() = default;

void TxnReader::CloseCursors() {
  for (unsigned i = 0; i < opened_count_; ++i) {
    MDB_cursor*& c = cursors_[opened_[i]];
    mdb_cursor_close(c);
    c = nullptr;
  }
  opened_count_ = 0;
}

void TxnReader::ReleaseCursors(HeldRead* held) {
  for (unsigned i = 0; i < opened_count_; ++i) {
    const uint8_t dbi = opened_[i];
    held->cursors[dbi] = cursors_[dbi];
    held->opened[i] = dbi;
    cursors_[dbi] = nullptr;
  }
  held->opened_count = opened_count_;
  opened_count_ = 0;
}

void TxnReader::AdoptCursors(const HeldRead& held) {
  for (unsigned i = 0; i < held.opened_count; ++i) {
    const uint8_t dbi = held.opened[i];
    cursors_[dbi] = held.cursors[dbi];
    opened_[i] = dbi;
  }
  opened_count_ = held.opened_count;
}

Result<MDB_cursor*> TxnReader::Cursor(MDB_dbi dbi) {
  if (dbi >= kMaxTables) return Internal("table handle " + std::to_string(dbi) + " out of range");
  ++cursor_uses_[dbi];
  if (cursors_[dbi] == nullptr) {
    int rc = mdb_cursor_open(txn_, dbi, &cursors_[dbi]);
    if (rc != 0) return LmdbError(rc, "open cursor");
    opened_[opened_count_++] = static_cast<uint8_t>(dbi);
  }
  return cursors_[dbi];
}

MDB_dbi TxnReader::RowTable(EntityTypeId type) const {
  return IsDerivedType(type.value) ? env_->dbis().derived : env_->dbis().RowsOf(type.value);
}

Result<std::optional<RowRecord>> TxnReader::Get(EntityTypeId type, RowId id) {
  if (row_cache_) {
    if (std::shared_ptr<const CachedRow> hit = row_cache_->Find(type.value, id, at_)) {
      RowRecord r{hit->bytes(), hit->version()};
      if (pinned_rows_.capacity() == 0) pinned_rows_.reserve(32);
      pinned_rows_.push_back(std::move(hit));
      return std::optional<RowRecord>(r);
    }
  }
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, RowCursor(type));
  // The hot path of every point read: the key is built on the stack.
  static_assert(std::endian::native == std::endian::little, "byte swaps assume little-endian");
  const KeyLayout& keys = env_->keys();
  char key[KeyLayout::kMaxRowKeySize];
  size_t prefix = 0;
  MDB_val k{keys.WriteRowKey(key, type, id, at_, &prefix), key}, v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) return std::optional<RowRecord>();
  if (rc != 0) return LmdbError(rc, "read row");
  std::string_view found = View(k);
  RowKeyParts parts;
  if (found.size() <= prefix || std::memcmp(found.data(), key, prefix) != 0 ||
      !keys.ParseRowKey(found, &parts)) {
    return std::optional<RowRecord>();
  }
  std::string_view value = View(v);
  if (value.empty() || value[0] == kTombstoneTag) return std::optional<RowRecord>();
  Version version = parts.version;
  if (row_cache_) row_cache_->Offer(type.value, id, at_, version, value.substr(1));
  return std::optional<RowRecord>(RowRecord{value.substr(1), version});
}

Result<std::optional<std::string>> TxnReader::RowImageAt(EntityTypeId type, RowId id, Version at) {
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, RowCursor(type));
  const KeyLayout& keys = env_->keys();
  std::string prefix = keys.RowPrefix(type, id);
  MDB_val k, v;
  int rc = SeekGe(cur, keys.RowKey(type, id, at), &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return LmdbError(rc, "read row image");
  std::string_view found = View(k), value = View(v);
  RowKeyParts parts;
  if (!HasPrefix(found, prefix) || !keys.ParseRowKey(found, &parts) ||
      parts.row_prefix != prefix.size() || value.empty() || value[0] == kTombstoneTag) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(value.substr(1));
}

Result<std::vector<RowVersionRecord>> TxnReader::History(EntityTypeId type, RowId id) {
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, RowCursor(type));
  const KeyLayout& keys = env_->keys();
  std::string prefix = keys.RowPrefix(type, id);
  std::vector<RowVersionRecord> out;
  MDB_val k, v;
  int rc = SeekGe(cur, keys.RowKey(type, id, at_), &k, &v);
  RowKeyParts parts;
  while (rc == 0 && HasPrefix(View(k), prefix) && keys.ParseRowKey(View(k), &parts) &&
         parts.row_prefix == prefix.size()) {
    std::string_view value = View(v);
    RowVersionRecord r;
    r.version = parts.version;
    r.deleted = value.empty() || value[0] == kTombstoneTag;
    if (!r.deleted) r.bytes.assign(value.substr(1));
    out.push_back(std::move(r));
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "read row history");
  return out;
}

Status TxnReader::ScanRows(EntityTypeId type, RowId start, ScanDirection dir,
                           const std::function<bool(RowId, const RowRecord&)>& visit) {
  const MDB_dbi table = RowTable(type);
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, Cursor(table));
  const KeyLayout& keys = env_->keys();
  RowKeyParts parts;
  const std::string owner = keys.Owner(type.value);
  // Whether `key` is a row key of `type`, taken apart into `parts`: a scan
  // asks it of every key it steps on.
  auto of_type = [&](std::string_view key) {
    return keys.ParseRowKeyOf(key, owner, type.value, &parts);
  };
  MDB_val k, v;
  RowId id = start;
  bool positioned = false;  // k, v hold `id`'s newest version <= the snapshot
  while (true) {
    if (dir == ScanDirection::kBackward) {
      // Find the greatest id <= `id` that has any version.
      int rc = SeekLt(cur, PrefixSuccessor(keys.RowPrefix(type, id)), &k, &v);
      if (rc == MDB_NOTFOUND) return Status::Ok();
      if (rc != 0) return LmdbError(rc, "scan rows");
      if (!of_type(View(k))) return Status::Ok();
      id = parts.id;
    }
    int rc = 0;
    if (!positioned) {
      rc = SeekGe(cur, keys.RowKey(type, id, at_), &k, &v);
      if (rc == MDB_NOTFOUND) {
        // Nothing at or after `id`'s snapshot key: going forward, the scan
        // is over; going backward, `id` (the last row of the table) has
        // only versions newer than the snapshot, so try the row before it.
        if (dir == ScanDirection::kForward || id == 0) return Status::Ok();
        --id;
        continue;
      }
      if (rc != 0) return LmdbError(rc, "scan rows");
    }
    std::string_view found = View(k);
    // After a step (positioned), `parts` already holds this key.
    if (!positioned && !of_type(found)) {
      if (dir == ScanDirection::kForward) return Status::Ok();
      if (id == 0) return Status::Ok();
      --id;
      continue;
    }
    positioned = false;
    if (parts.id != id) {
      // No version of `id` at or before the snapshot.
      if (dir == ScanDirection::kForward) {
        id = parts.id;
        continue;
      }
      if (id == 0) return Status::Ok();
      --id;
      continue;
    }
    std::string_view value = View(v);
    const Version visited = parts.version;
    const uint32_t uses = cursor_uses_[table];
    if (!value.empty() && value[0] != kTombstoneTag) {
      if (!visit(id, RowRecord{value.substr(1), parts.version})) return Status::Ok();
    }
    if (dir == ScanDirection::kForward) {
      // Fast path: step to the next row's newest version with MDB_NEXT
      // instead of a seek, when the visitor left the cursor where it was:
      // surely so when it neither took the cursor nor wrote, else when the
      // cursor is still on the row visited (the same id and version).
      const bool untouched = !writes_ && cursor_uses_[table] == uses;
      if (!untouched) rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
      if (untouched ||
          (rc == 0 && of_type(View(k)) && parts.id == id && parts.version == visited)) {
        while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
          if (!of_type(View(k))) return Status::Ok();
          if (parts.id != id) break;  // else an older version of `id`
        }
        if (rc == MDB_NOTFOUND) return Status::Ok();
        if (rc != 0) return LmdbError(rc, "scan rows");
        id = parts.id;
        // A row's first key is its newest version: visible when not newer
        // than the snapshot, else seek to the version the snapshot sees.
        positioned = parts.version <= at_;
        continue;
      }
      if (id == std::numeric_limits<RowId>::max()) return Status::Ok();
      ++id;
    } else {
      if (id == 0) return Status::Ok();
      --id;
    }
  }
}

Status TxnReader::ScanIndex(IndexId index, std::string_view lower, std::string_view upper,
                            ScanDirection dir,
                            const std::function<bool(const IndexEntry&)>& visit) {
  MDB_dbi dbi = env_->dbis().IndexesOf(index.value);
  if (writes_) ORMDB_RETURN_IF_ERROR(BeforeIndexRead(dbi));
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, Cursor(dbi));
  const KeyLayout& keys = env_->keys();
  const std::string index_prefix = keys.Owner(index.value);
  const size_t max_value_bytes = keys.max_index_value_bytes();
  std::string start = index_prefix + std::string(lower);
  std::string end =
      upper.empty() ? PrefixSuccessor(index_prefix) : index_prefix + std::string(upper);
  MDB_val k, v;
  int rc = dir == ScanDirection::kForward ? SeekGe(cur, start, &k, &v) : SeekLt(cur, end, &k, &v);
  while (rc == 0) {
    std::string_view key = View(k);
    if (dir == ScanDirection::kForward) {
      if (!end.empty() && key >= std::string_view(end)) break;
    } else if (key < std::string_view(start)) {
      break;
    }
    IndexKeyParts parts;
    if (!HasPrefix(key, index_prefix) || !keys.ParseIndexKey(key, &parts)) break;
    if (parts.begin <= at_ && at_ < ReadEnd(keys, View(v))) {
      IndexEntry e;
      e.value_part_in_txn = parts.value_part;
      e.id = parts.id;
      e.truncated = e.value_part_in_txn.size() > max_value_bytes;
      if (!visit(e)) return Status::Ok();
    }
    rc = mdb_cursor_get(cur, &k, &v, dir == ScanDirection::kForward ? MDB_NEXT : MDB_PREV);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "scan index");
  return Status::Ok();
}

Status TxnReader::ScanEdges(RelationId rel, EdgeDirection dir, RowId from,
                            const std::function<bool(RowId)>& visit, ScanDirection order) {
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, Cursor(env_->dbis().EdgesOf(rel.value)));
  const KeyLayout& keys = env_->keys();
  std::string prefix = keys.EdgePrefix(rel, dir, from);
  bool forward = order == ScanDirection::kForward;
  MDB_val k, v;
  int rc = forward ? SeekGe(cur, prefix, &k, &v) : SeekLt(cur, PrefixSuccessor(prefix), &k, &v);
  EdgeKeyParts parts;
  while (rc == 0 && HasPrefix(View(k), prefix) && keys.ParseEdgeKey(View(k), &parts) &&
         parts.from == from) {
    // At most one interval of a pair is visible at a snapshot.
    if (parts.begin <= at_ && at_ < ReadEnd(keys, View(v))) {
      if (!visit(parts.to)) return Status::Ok();
    }
    rc = mdb_cursor_get(cur, &k, &v, forward ? MDB_NEXT : MDB_PREV);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "scan edges");
  return Status::Ok();
}

Result<bool> TxnReader::EdgeExists(RelationId rel, RowId from, RowId to) {
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, Cursor(env_->dbis().EdgesOf(rel.value)));
  const KeyLayout& keys = env_->keys();
  std::string prefix = keys.EdgePairPrefix(rel, EdgeDirection::kForward, from, to);
  MDB_val k, v;
  // Entries of one pair are newest first; the first with begin <= snapshot
  // decides.
  int rc = SeekGe(cur, keys.EdgeKey(rel, EdgeDirection::kForward, from, to, at_), &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return LmdbError(rc, "read edge");
  EdgeKeyParts parts;
  if (!HasPrefix(View(k), prefix) || !keys.ParseEdgeKey(View(k), &parts) || parts.to != to) {
    return false;
  }
  return at_ < ReadEnd(keys, View(v));
}

Result<std::optional<std::string>> TxnReader::GetMeta(std::string_view key) {
  std::string k = UserMetaKey(key);
  MDB_val mk = Val(k), mv;
  int rc = mdb_get(txn_, env_->dbis().meta, &mk, &mv);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != 0) return LmdbError(rc, "read metadata");
  return std::optional<std::string>(std::string(View(mv)));
}

Result<std::optional<RequestOutcome>> TxnReader::FindRequest(std::string_view key) {
  ORMDB_RETURN_IF_ERROR(CheckRequestKey(key));
  MDB_val k = Val(key), v;
  int rc = mdb_get(txn_, env_->dbis().requests, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<RequestOutcome>();
  if (rc != 0) return LmdbError(rc, "read request outcome");
  std::string_view value = View(v);
  if (value.size() < 8) {
    return Internal("corrupted request entry: a value of " + std::to_string(value.size()) +
                    " bytes");
  }
  Version version = GetU64BE(value.data());
  // The LMDB snapshot may hold commits newer than the snapshot version.
  if (version > at_) return std::optional<RequestOutcome>();
  return std::optional<RequestOutcome>(RequestOutcome{version, std::string(value.substr(8))});
}

Status TxnReader::ChangesBetween(Version after,
                                 const std::function<bool(const ChangeSet&)>& visit) {
  std::string start = VersionKey(after + 1);
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn_, env_->dbis().changelog, &cur);
  if (rc != 0) return LmdbError(rc, "read change log");
  MDB_val k = Val(start), v;
  rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  const RowImageReader images = [this](EntityTypeId type, RowId id, Version at) {
    return RowImageAt(type, id, at);
  };
  Status st;
  while (rc == 0) {
    if (k.mv_size != 8) {
      st = Internal("corrupted change log key");
      break;
    }
    Version ver = GetU64BE(static_cast<const char*>(k.mv_data));
    if (ver > at_) break;
    auto cs = DecodeChangeSet(ver, View(v), &images);
    if (!cs.ok()) {
      st = cs.status();
      break;
    }
    if (!visit(*cs)) break;
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  if (st.ok() && rc != 0 && rc != MDB_NOTFOUND) st = LmdbError(rc, "read change log");
  mdb_cursor_close(cur);
  return st;
}

// ------------------------------------------------------------------ ReadTxn

ReadTxn::~ReadTxn() {
  HeldRead held;
  held.txn = txn_;
  ReleaseCursors(&held);
  if (KeptReads* kept = env_->kept_reads(); kept != nullptr && kept->Keep(held)) return;
  KeptReads::End(&held);
}

// ----------------------------------------------------------------- WriteTxn

WriteTxn::~WriteTxn() {
  // Cursors of a write transaction are freed by LMDB at commit or abort; the
  // Store ends the LMDB transaction after this object is gone, so close them
  // here explicitly.
  CloseCursors();
}

Status WriteTxn::Fail(int rc, std::string_view what) {
  if (rc == MDB_MAP_FULL) map_full_ = true;
  // A put can write to the data file (LMDB spills dirty pages of a large
  // transaction), so it can meet a full disk.
  return env_->Error(rc, what);
}

namespace {
// The errno FaultHooks::write_errno injects, or 0.
int InjectedWriteErrno(const Env& env) {
  const auto& hook = env.options().faults.write_errno;
  return hook ? hook() : 0;
}
}  // namespace

Status WriteTxn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  const auto& hook = env_->options().faults.fail_write;
  if (hook && hook()) return Internal("injected fault: write failed");
  if (int injected = InjectedWriteErrno(*env_)) return Fail(injected, "write");
  MDB_val k = Val(key), v = Val(value);
  int rc = 0;
  if (flags == kAppendIfLast) {
    rc = mdb_put(txn_, dbi, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) rc = mdb_put(txn_, dbi, &k, &v, 0);  // not after the last key
  } else {
    rc = mdb_put(txn_, dbi, &k, &v, flags);
  }
  return rc == 0 ? Status::Ok() : Fail(rc, "write");
}

Status WriteTxn::Del(MDB_dbi dbi, std::string_view key) {
  const auto& hook = env_->options().faults.fail_write;
  if (hook && hook()) return Internal("injected fault: delete failed");
  if (int injected = InjectedWriteErrno(*env_)) return Fail(injected, "delete");
  MDB_val k = Val(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  return rc == 0 || rc == MDB_NOTFOUND ? Status::Ok() : Fail(rc, "delete");
}

Status WriteTxn::PutRow(EntityTypeId type, RowId id, std::string_view row) {
  ORMDB_ASSIGN_OR_RETURN(std::optional<RowRecord> before, Get(type, id));
  return WriteRowVersion(type, id, row, before ? &before->bytes_in_txn : nullptr);
}

Status WriteTxn::InsertRow(EntityTypeId type, RowId id, std::string_view row) {
  return WriteRowVersion(type, id, row, nullptr);
}

Status WriteTxn::WriteRowVersion(EntityTypeId type, RowId id, std::string_view row,
                                 const std::string_view* before) {
  RowDelta delta{type, id, std::nullopt, std::string(row)};
  if (before) delta.before = std::string(*before);
  std::string value;
  value.reserve(row.size() + 1);
  value.push_back(kRowTag);
  value.append(row);
  // A new row usually has the greatest key of its table (ids ascend): it is
  // appended, which fills the last page before beginning the next (a plain
  // put moves the last entry to the new page with it, leaving pages a row
  // short of full).
  ORMDB_RETURN_IF_ERROR(Put(env_->dbis().RowsOf(type.value), env_->keys().RowKey(type, id, at_),
                            value, before ? 0 : kAppendIfLast));
  written_rows_.emplace_back(type.value, id);
  if (!before) ++row_count_deltas_[type.value];
  changes_.records.emplace_back(std::move(delta));
  return Status::Ok();
}

Status WriteTxn::DeleteRow(EntityTypeId type, RowId id) {
  ORMDB_ASSIGN_OR_RETURN(std::optional<RowRecord> before, Get(type, id));
  if (!before) {
    return NotFound("row " + std::to_string(id) + " of type " + std::to_string(type.value) +
                    " does not exist");
  }
  RowDelta delta{type, id, std::string(before->bytes_in_txn), std::nullopt};
  ORMDB_RETURN_IF_ERROR(Put(env_->dbis().RowsOf(type.value), env_->keys().RowKey(type, id, at_),
                            std::string(1, kTombstoneTag)));
  written_rows_.emplace_back(type.value, id);
  --row_count_deltas_[type.value];
  changes_.records.emplace_back(std::move(delta));
  return Status::Ok();
}

Status WriteTxn::PutDerived(EntityTypeId type, RowId id, std::string_view bytes) {
  if (!IsDerivedType(type.value))
    return Internal("PutDerived on entity type " + std::to_string(type.value));
  std::string value;
  value.reserve(bytes.size() + 1);
  value.push_back(kRowTag);
  value.append(bytes);
  written_rows_.emplace_back(type.value, id);
  return Put(env_->dbis().derived, env_->keys().RowKey(type, id, at_), value);
}

Status WriteTxn::DeleteDerived(EntityTypeId type, RowId id) {
  if (!IsDerivedType(type.value))
    return Internal("DeleteDerived on entity type " + std::to_string(type.value));
  ORMDB_ASSIGN_OR_RETURN(std::optional<RowRecord> before, Get(type, id));
  if (!before) return Status::Ok();
  written_rows_.emplace_back(type.value, id);
  return Put(env_->dbis().derived, env_->keys().RowKey(type, id, at_),
             std::string(1, kTombstoneTag));
}

Status WriteTxn::IndexInsert(IndexId index, std::string_view encoded_values, RowId id, bool unique,
                             RowId* conflicting_id) {
  const KeyLayout& keys = env_->keys();
  std::string part = IndexValuePart(encoded_values, nullptr, keys.max_index_value_bytes());
  if (unique) {
    std::optional<RowId> clash;
    ORMDB_RETURN_IF_ERROR(ScanIndex(index, part, PrefixSuccessor(part), ScanDirection::kForward,
                                    [&](const IndexEntry& e) {
                                      if (e.value_part_in_txn.size() != part.size()) return true;
                                      if (e.id != id) clash = e.id;
                                      return !clash;
                                    }));
    if (clash) {
      if (conflicting_id) *conflicting_id = *clash;
      return ConstraintViolation("unique index " + std::to_string(index.value) +
                                 ": value already held by id " + std::to_string(*clash));
    }
    return Put(env_->dbis().IndexesOf(index.value), keys.IndexKey(index, part, id, at_),
               keys.EncodeEnd(kOpenEnd));
  }
  MDB_dbi dbi = env_->dbis().IndexesOf(index.value);
  if (dbi >= kMaxTables) return Internal("table handle " + std::to_string(dbi) + " out of range");
  std::string key = keys.IndexKey(index, part, id, at_);
  // Offsets are 32-bit: a table's waiting keys are written before they pass 4 GiB.
  if (deferred_[dbi] &&
      deferred_[dbi]->bytes.size() + key.size() > std::numeric_limits<uint32_t>::max()) {
    ORMDB_RETURN_IF_ERROR(FlushDeferred(dbi, *deferred_[dbi]));
  }
  std::unique_ptr<DeferredIndexPuts>& puts = deferred_[dbi];
  if (!puts) {
    puts = std::make_unique<DeferredIndexPuts>();
    ++deferred_count_;
  }
  const size_t offset = puts->bytes.size();
  puts->bytes.append(key);
  puts->keys.emplace_back(static_cast<uint32_t>(offset), static_cast<uint32_t>(key.size()));
  return Status::Ok();
}

Status WriteTxn::BeforeIndexRead(MDB_dbi dbi) {
  if (deferred_count_ == 0 || dbi >= kMaxTables || !deferred_[dbi]) return Status::Ok();
  return FlushDeferred(dbi, *deferred_[dbi]);
}

Status WriteTxn::FlushDeferredIndexes() {
  for (MDB_dbi dbi = 0; deferred_count_ > 0 && dbi < kMaxTables; ++dbi) {
    if (deferred_[dbi]) ORMDB_RETURN_IF_ERROR(FlushDeferred(dbi, *deferred_[dbi]));
  }
  return Status::Ok();
}

Status WriteTxn::FlushDeferred(MDB_dbi dbi, DeferredIndexPuts& puts) {
  // Taken out first: whatever happens below, the entries are not written twice.
  std::string bytes = std::move(puts.bytes);
  std::vector<std::pair<uint32_t, uint32_t>> keys = std::move(puts.keys);
  deferred_[dbi].reset();
  --deferred_count_;
  auto key_of = [&](const std::pair<uint32_t, uint32_t>& k) {
    return std::string_view(bytes.data() + k.first, k.second);
  };
  std::sort(keys.begin(), keys.end(),
            [&](const auto& a, const auto& b) { return key_of(a) < key_of(b); });
  keys.erase(std::unique(keys.begin(), keys.end(),
                         [&](const auto& a, const auto& b) { return key_of(a) == key_of(b); }),
             keys.end());
  if (keys.empty()) return Status::Ok();
  // Keys all after the table's last one are appended (MDB_APPEND: no
  // search, and each page is filled before the next is begun).
  // A cursor of its own: the transaction's cached one may be in use.
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn_, dbi, &cur);
  if (rc != 0) return LmdbError(rc, "open cursor");
  MDB_val k, v;
  rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
  unsigned flags =
      rc == MDB_NOTFOUND || (rc == 0 && View(k) < key_of(keys.front())) ? MDB_APPEND : 0;
  mdb_cursor_close(cur);
  if (rc != 0 && rc != MDB_NOTFOUND) return Fail(rc, "read index");
  std::string end = env_->keys().EncodeEnd(kOpenEnd);
  for (const auto& key : keys) {
    ORMDB_RETURN_IF_ERROR(Put(dbi, key_of(key), end, flags));
  }
  return Status::Ok();
}

// Seeks the newest entry of (values, id); *current tells whether it is open.
Status WriteTxn::SeekIndexEntry(IndexId index, std::string_view encoded_values, RowId id,
                                std::string* key, bool* current) {
  const KeyLayout& keys = env_->keys();
  std::string part = IndexValuePart(encoded_values, nullptr, keys.max_index_value_bytes());
  MDB_dbi dbi = env_->dbis().IndexesOf(index.value);
  ORMDB_RETURN_IF_ERROR(BeforeIndexRead(dbi));
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, Cursor(dbi));
  std::string prefix = keys.IndexEntryPrefix(index, part, id);
  MDB_val k, v;
  int rc = SeekGe(cur, prefix, &k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND) return Fail(rc, "read index");
  // The newest entry comes first; it must be the current one.
  IndexKeyParts parts;
  *current = rc == 0 && HasPrefix(View(k), prefix) && keys.ParseIndexKey(View(k), &parts) &&
             parts.index == index.value && parts.value_part == part && parts.id == id &&
             ReadEnd(keys, View(v)) == kOpenEnd;
  if (*current) key->assign(View(k));
  return Status::Ok();
}

Result<bool> WriteTxn::IndexHasCurrent(IndexId index, std::string_view encoded_values, RowId id) {
  std::string key;
  bool current = false;
  ORMDB_RETURN_IF_ERROR(SeekIndexEntry(index, encoded_values, id, &key, &current));
  return current;
}

Status WriteTxn::IndexRemove(IndexId index, std::string_view encoded_values, RowId id) {
  std::string key;
  bool current = false;
  ORMDB_RETURN_IF_ERROR(SeekIndexEntry(index, encoded_values, id, &key, &current));
  if (!current) {
    return NotFound("index " + std::to_string(index.value) + " has no current entry for id " +
                    std::to_string(id));
  }
  const KeyLayout& keys = env_->keys();
  IndexKeyParts parts;
  if (!keys.ParseIndexKey(key, &parts)) return Internal("malformed index key");
  if (parts.begin == at_)
    return Del(env_->dbis().IndexesOf(index.value), key);  // born and ended here
  return Put(env_->dbis().IndexesOf(index.value), key, keys.EncodeEnd(at_));
}

Status WriteTxn::SetEdge(RelationId rel, EdgeDirection dir, RowId from, RowId to, bool link,
                         bool* changed) {
  ORMDB_ASSIGN_OR_RETURN(MDB_cursor * cur, Cursor(env_->dbis().EdgesOf(rel.value)));
  const KeyLayout& keys = env_->keys();
  std::string prefix = keys.EdgePairPrefix(rel, dir, from, to);
  MDB_val k, v;
  int rc = SeekGe(cur, prefix, &k, &v);
  if (rc != 0 && rc != MDB_NOTFOUND) return Fail(rc, "read edge");
  EdgeKeyParts parts;
  bool current = rc == 0 && HasPrefix(View(k), prefix) && keys.ParseEdgeKey(View(k), &parts) &&
                 parts.to == to && ReadEnd(keys, View(v)) == kOpenEnd;
  *changed = current != link;
  if (!*changed) return Status::Ok();
  if (link)
    return Put(env_->dbis().EdgesOf(rel.value), keys.EdgeKey(rel, dir, from, to, at_),
               keys.EncodeEnd(kOpenEnd));
  std::string key(View(k));
  if (parts.begin == at_) return Del(env_->dbis().EdgesOf(rel.value), key);
  return Put(env_->dbis().EdgesOf(rel.value), key, keys.EncodeEnd(at_));
}

Result<bool> WriteTxn::SetPair(RelationId rel, RowId from, RowId to, bool link) {
  bool changed = false;
  ORMDB_RETURN_IF_ERROR(SetEdge(rel, EdgeDirection::kForward, from, to, link, &changed));
  if (!changed) return false;
  ORMDB_RETURN_IF_ERROR(SetEdge(rel, EdgeDirection::kBackward, to, from, link, &changed));
  changes_.records.emplace_back(EdgeDelta{rel, from, to, link});
  return true;
}

Result<bool> WriteTxn::Link(RelationId rel, RowId from, RowId to) {
  return SetPair(rel, from, to, true);
}

Result<bool> WriteTxn::Unlink(RelationId rel, RowId from, RowId to) {
  return SetPair(rel, from, to, false);
}

Result<RowId> WriteTxn::NextId(EntityTypeId type) {
  if (auto it = next_ids_.find(type.value); it != next_ids_.end()) return it->second.next;
  std::string key = NextIdKey(type);
  MDB_val mk = Val(key), mv;
  int rc = mdb_get(txn_, env_->dbis().meta, &mk, &mv);
  RowId next = 1;
  if (rc == 0) {
    if (mv.mv_size != 8) return Internal("corrupted id counter");
    next = GetU64BE(static_cast<const char*>(mv.mv_data));
  } else if (rc != MDB_NOTFOUND) {
    return Fail(rc, "read id counter");
  }
  next_ids_.emplace(type.value, NextIdState{next, false});
  return next;
}

Status WriteTxn::SetNextId(EntityTypeId type, RowId next) {
  next_ids_[type.value] = NextIdState{next, true};
  return Status::Ok();
}

Result<RowId> WriteTxn::AllocateId(EntityTypeId type) {
  ORMDB_ASSIGN_OR_RETURN(RowId next, NextId(type));
  ORMDB_RETURN_IF_ERROR(SetNextId(type, next + 1));
  return next;
}

Status WriteTxn::NoteId(EntityTypeId type, RowId id) {
  ORMDB_ASSIGN_OR_RETURN(RowId next, NextId(type));
  return id < next ? Status::Ok() : SetNextId(type, id + 1);
}

Status WriteTxn::PutMeta(std::string_view key, std::string_view value) {
  return Put(env_->dbis().meta, UserMetaKey(key), value);
}

void WriteTxn::Annotate(std::string data) {
  changes_.records.emplace_back(Annotation{std::move(data)});
}

Status WriteTxn::RecordRequest(std::string_view key, std::string_view outcome) {
  ORMDB_RETURN_IF_ERROR(CheckRequestKey(key));
  MDB_val k = Val(key), v;
  int rc = mdb_get(txn_, env_->dbis().requests, &k, &v);
  if (rc == 0) {
    std::string_view value = View(v);
    std::string by = value.size() >= 8 ? "version " + std::to_string(GetU64BE(value.data()))
                                       : "a malformed entry";
    return Internal("request key of " + std::to_string(key.size()) +
                    " bytes is already recorded (by " + by +
                    "): look it up with FindRequest before writing");
  }
  if (rc != MDB_NOTFOUND) return Fail(rc, "read request outcome");
  ORMDB_RETURN_IF_ERROR(Put(env_->dbis().requests, key, RequestValue(at_, outcome)));
  changes_.records.emplace_back(RequestRecord{std::string(key)});
  return Status::Ok();
}

Status WriteTxn::CheckRowUnchangedSince(EntityTypeId type, RowId id, Version version) {
  ORMDB_ASSIGN_OR_RETURN(std::optional<RowRecord> row, Get(type, id));
  if (!row) return NotFound("row " + std::to_string(id) + " does not exist");
  if (row->version > version) {
    return Conflict("row " + std::to_string(id) + " changed at version " +
                    std::to_string(row->version) + ", after version " + std::to_string(version));
  }
  return Status::Ok();
}

Status WriteTxn::FlushCounters() {
  for (auto& [type, state] : next_ids_) {
    if (!state.dirty) continue;
    std::string value;
    PutU64BE(&value, state.next);
    ORMDB_RETURN_IF_ERROR(Put(env_->dbis().meta, NextIdKey(EntityTypeId{type}), value));
    state.dirty = false;
  }
  for (const auto& [type, delta] : row_count_deltas_) {
    if (delta == 0) continue;
    std::string key = RowCountKey(EntityTypeId{type});
    MDB_val k = Val(key), v;
    int rc = mdb_get(txn_, env_->dbis().meta, &k, &v);
    uint64_t count = 0;
    if (rc == 0 && v.mv_size == 8) {
      count = GetU64BE(static_cast<const char*>(v.mv_data));
    } else if (rc == 0) {
      return Internal("corrupted row count record of entity type " + std::to_string(type));
    } else if (rc != MDB_NOTFOUND) {
      return Fail(rc, "read row count");
    }
    // A count below zero is a bug (a delete of a row that was not live);
    // ormdb check reports a counter that disagrees with the rows.
    count = delta < 0 && count < static_cast<uint64_t>(-delta) ? 0 : count + delta;
    std::string value;
    PutU64BE(&value, count);
    ORMDB_RETURN_IF_ERROR(Put(env_->dbis().meta, key, value));
  }
  row_count_deltas_.clear();
  return Status::Ok();
}

Status WriteTxn::Finish() {
  ORMDB_RETURN_IF_ERROR(FlushCounters());
  ORMDB_RETURN_IF_ERROR(
      Put(env_->dbis().changelog, VersionKey(at_), EncodeChangeSet(changes_, env_->format() >= 2)));
  return Put(env_->dbis().meta, "current_version", VersionKey(at_));
}

}  // namespace ormdb::storage
