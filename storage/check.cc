// Store::Check: verifies the storage invariants of docs/STORAGE.md on one
// consistent snapshot.
#include <lmdb.h>

#include <algorithm>
#include <map>

#include "storage/key_encoding.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace ormdb::storage {
namespace {

std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// Visits every key/value of `dbi`; returns the LMDB error, if any.
template <typename Fn>
Status ForEach(MDB_txn* txn, MDB_dbi dbi, Fn fn) {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &cur);
  if (rc != 0) return LmdbError(rc, "check");
  MDB_val k, v;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    fn(View(k), View(v));
  }
  mdb_cursor_close(cur);
  return rc == MDB_NOTFOUND ? Status::Ok() : LmdbError(rc, "check");
}

// Visits every key/value of every partition in `dbis`, in partition order;
// fn gets the partition's index too.
template <typename Fn>
Status ForEachPartition(MDB_txn* txn, const std::vector<MDB_dbi>& dbis, Fn fn) {
  for (size_t part = 0; part < dbis.size(); ++part) {
    ORMDB_RETURN_IF_ERROR(
        ForEach(txn, dbis[part], [&](std::string_view k, std::string_view v) { fn(k, v, part); }));
  }
  return Status::Ok();
}

// A request key as a problem report shows it: printable ASCII kept, other
// bytes as \xNN, at most 64 bytes.
std::string Printable(std::string_view key) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < key.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (key.size() > 64) out += "...";
  return out + "'";
}

}  // namespace

Result<CheckReport> Store::Check() {
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<ReadTxn> txn, BeginRead());
  MDB_txn* raw = txn->txn_;
  const Version current = txn->snapshot();
  CheckReport report;
  auto problem = [&](std::string p) {
    if (report.problems.size() < 100) report.problems.push_back(std::move(p));
  };

  // Live rows per type, recounted: the first key of each row is its newest
  // version.
  std::map<uint32_t, uint64_t> live;
  std::string last_row;
  const Dbis& dbis = env_->dbis();
  const KeyLayout& keys = env_->keys();
  // Each key in the partition its id chooses (Dbis::RowsOf, ...).
  auto check_partition = [&](const char* what, uint32_t owner, size_t part, size_t count) {
    if (owner % count != part) {
      problem(std::string(what) + " " + std::to_string(owner) + " in partition " +
              std::to_string(part));
    }
  };
  ORMDB_RETURN_IF_ERROR(
      ForEachPartition(raw, dbis.rows, [&](std::string_view k, std::string_view v, size_t part) {
        ++report.row_versions;
        RowKeyParts row;
        if (!keys.ParseRowKey(k, &row)) {
          return problem("malformed row key of " + std::to_string(k.size()) + " bytes");
        }
        check_partition("row of entity type", row.type, part, dbis.rows.size());
        if (k.substr(0, row.row_prefix) != last_row) {
          last_row.assign(k.substr(0, row.row_prefix));
          if (!v.empty() && v[0] == kRowTag) {
            ++live[row.type];
            ++report.live_rows;
          }
        }
        if (row.version > current)
          problem("row version " + std::to_string(row.version) + " beyond current " +
                  std::to_string(current));
        if (v.empty() || (v[0] != kRowTag && v[0] != kTombstoneTag) ||
            (v[0] == kTombstoneTag && v.size() != 1)) {
          problem("row " + std::to_string(row.id) + " has a malformed value");
        }
      }));

  auto check_interval = [&](const char* what, bool key_ok, Version begin, std::string_view v,
                            uint64_t* count) {
    ++*count;
    Version end = 0;
    if (!key_ok || !keys.ReadEnd(v, &end)) return problem(std::string(what) + " entry malformed");
    if (begin > current || begin >= end || (end != kOpenEnd && end > current)) {
      problem(std::string(what) + " entry with interval [" + std::to_string(begin) + ", " +
              std::to_string(end) + ") at version " + std::to_string(current));
    }
  };
  ORMDB_RETURN_IF_ERROR(
      ForEachPartition(raw, dbis.indexes, [&](std::string_view k, std::string_view v, size_t part) {
        IndexKeyParts entry;
        bool ok = keys.ParseIndexKey(k, &entry);
        check_interval("index", ok, entry.begin, v, &report.index_entries);
        if (ok) check_partition("entry of index", entry.index, part, dbis.indexes.size());
      }));
  // Each type's counter (Store::RowCounts) equals its live rows.
  {
    std::map<uint32_t, uint64_t> counted;
    MDB_val mk{kRowCountsMarker.size(), const_cast<char*>(kRowCountsMarker.data())}, mv;
    if (mdb_get(raw, env_->dbis().meta, &mk, &mv) != 0) problem("the row counters are missing");
    ORMDB_RETURN_IF_ERROR(
        ForEach(raw, env_->dbis().meta, [&](std::string_view k, std::string_view v) {
          if (k.substr(0, kRowCountPrefix.size()) != kRowCountPrefix) return;
          if (k.size() != kRowCountPrefix.size() + 4 || v.size() != 8) {
            return problem("row count record malformed");
          }
          counted[GetU32BE(k.data() + kRowCountPrefix.size())] = GetU64BE(v.data());
        }));
    for (const auto& [type, rows] : live) counted.try_emplace(type, 0);
    for (const auto& [type, count] : counted) {
      uint64_t rows = live.count(type) ? live[type] : 0;
      if (count != rows) {
        problem("row count of entity type " + std::to_string(type) + " is " +
                std::to_string(count) + " but " + std::to_string(rows) + " rows are live");
      }
    }
  }

  // Each edge has its mirror in the other direction with the same interval.
  std::map<std::string, std::string> forward, backward;
  ORMDB_RETURN_IF_ERROR(
      ForEachPartition(raw, dbis.edges, [&](std::string_view k, std::string_view v, size_t part) {
        EdgeKeyParts edge;
        bool ok = keys.ParseEdgeKey(k, &edge);
        check_interval("edge", ok, edge.begin, v, &report.edge_entries);
        if (!ok) return;
        check_partition("edge of relation", edge.relation, part, dbis.edges.size());
        // The pair as the forward direction names it, with its interval.
        bool fwd = edge.dir == EdgeDirection::kForward;
        std::string norm;
        PutU32BE(&norm, edge.relation);
        PutU64BE(&norm, fwd ? edge.from : edge.to);
        PutU64BE(&norm, fwd ? edge.to : edge.from);
        PutU64BE(&norm, edge.begin);
        Version end = 0;
        keys.ReadEnd(v, &end);
        PutU64BE(&norm, end);
        (fwd ? forward : backward)[norm] = "";
      }));
  if (forward != backward) problem("edge directions disagree");

  // The oldest readable version as of this snapshot (vacuum writes it with
  // each step): the log must hold every version after it.
  Version oldest = 0;
  {
    MDB_val k{12, const_cast<char*>("min_readable")}, v;
    int rc = mdb_get(raw, env_->dbis().meta, &k, &v);
    if (rc == 0 && v.mv_size == 8)
      oldest = GetU64BE(static_cast<const char*>(v.mv_data));
    else if (rc != MDB_NOTFOUND)
      problem("oldest readable version record malformed");
  }
  Version expect = 0;
  ReadTxn* reader = txn.get();
  const RowImageReader images = [reader](EntityTypeId type, RowId id, Version at) {
    return reader->RowImageAt(type, id, at);
  };
  ORMDB_RETURN_IF_ERROR(
      ForEach(raw, env_->dbis().changelog, [&](std::string_view k, std::string_view v) {
        ++report.log_entries;
        if (k.size() != 8) return problem("change log key malformed");
        Version ver = GetU64BE(k.data());
        if (expect == 0 && ver > oldest + 1) {
          problem("change log starts at version " + std::to_string(ver) +
                  ", after the oldest readable version " + std::to_string(oldest));
        }
        if (expect != 0 && ver != expect)
          problem("change log gap before version " + std::to_string(ver));
        expect = ver + 1;
        // An entry past the oldest readable version names only row images
        // the rows table holds; one at or before it may be half vacuumed
        // (rows go before log entries), so its images are not read.
        Result<std::vector<std::string>> requests = PeekRequestKeys(ver, v);
        if (requests.ok() && ver > oldest) {
          auto cs = DecodeChangeSet(ver, v, &images);
          if (!cs.ok()) requests = cs.status();
        }
        if (!requests.ok()) {
          return problem("change log entry " + std::to_string(ver) + " undecodable (" +
                         requests.status().message() + ")");
        }
        // Each request the entry records has its outcome, naming this version.
        for (const std::string& key : *requests) {
          MDB_val rk{key.size(), const_cast<char*>(key.data())}, rv;
          int rc = mdb_get(raw, env_->dbis().requests, &rk, &rv);
          if (rc == MDB_NOTFOUND) {
            problem("change log entry " + std::to_string(ver) + " records request " +
                    Printable(key) + ", which has no outcome");
          } else if (rc != 0) {
            problem("reading the outcome of request " + Printable(key) + ": " +
                    LmdbError(rc, "check").message());
          } else if (rv.mv_size >= 8 && GetU64BE(static_cast<const char*>(rv.mv_data)) != ver) {
            problem("request " + Printable(key) + " is recorded by change log entries " +
                    std::to_string(ver) + " and " +
                    std::to_string(GetU64BE(static_cast<const char*>(rv.mv_data))));
          }
        }
      }));
  // Each recorded outcome points at a version whose log entry holds its key.
  ORMDB_RETURN_IF_ERROR(
      ForEach(raw, env_->dbis().requests, [&](std::string_view k, std::string_view v) {
        ++report.request_entries;
        if (k.empty() || k.size() > kMaxRequestKeyBytes) {
          return problem("request key of " + std::to_string(k.size()) + " bytes");
        }
        if (v.size() < 8) return problem("request " + Printable(k) + " has a malformed value");
        Version ver = GetU64BE(v.data());
        std::string log_key = VersionKey(ver);
        MDB_val lk{log_key.size(), log_key.data()}, lv;
        int rc = mdb_get(raw, env_->dbis().changelog, &lk, &lv);
        if (rc == MDB_NOTFOUND) {
          return problem("request " + Printable(k) + " names version " + std::to_string(ver) +
                         ", which has no change log entry");
        }
        if (rc != 0) {
          return problem("reading change log entry " + std::to_string(ver) + ": " +
                         LmdbError(rc, "check").message());
        }
        auto keys = PeekRequestKeys(ver, View(lv));
        if (!keys.ok()) return;  // reported as undecodable above
        if (std::find(keys->begin(), keys->end(), k) == keys->end()) {
          problem("request " + Printable(k) + " names version " + std::to_string(ver) +
                  ", whose change log entry does not record it");
        }
      }));
  if (report.log_entries > 0 && expect != current + 1) {
    problem("change log ends at " + std::to_string(expect - 1) + ", current version is " +
            std::to_string(current));
  }
  if (report.log_entries == 0 && current > oldest)
    problem("change log is empty above the oldest readable version");
  report.current_version = current;
  report.oldest_readable_version = oldest;
  return report;
}

}  // namespace ormdb::storage
