#include "storage/env.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#include "common/uuid.h"
#include "storage/kept_reads.h"
#include "storage/key_encoding.h"

namespace ormdb::storage {
namespace {

constexpr const char* kLockFile = "ormdb.lock";

std::string ReadHolderPid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "unknown";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown" : s;
}

}  // namespace

Status LmdbError(int rc, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += mdb_strerror(rc);
  if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == MDB_READERS_FULL || rc == ENOSPC ||
      rc == EDQUOT) {
    return ResourceExhausted(std::move(m));
  }
  return Internal(std::move(m));
}

Status Env::Error(int rc, std::string_view what) const {
  // LMDB's own codes are negative; positive ones are errno values from the
  // file system (writes, fdatasync, ftruncate, mmap).
  if (rc == MDB_PANIC) {
    // Set when writing a meta page failed: LMDB refuses every later write
    // transaction of this environment, so only reopening helps.
    return Internal(std::string(what) + ": data directory " + dir_ +
                    ": a write of the data file's meta page failed earlier (" + mdb_strerror(rc) +
                    "); reopen the data directory (restart the server) once the cause is fixed");
  }
  if (rc <= 0) return LmdbError(rc, what);
  std::string reason = std::strerror(rc);
  std::string full;
  if (rc == ENOSPC) {
    full = "the file system holding data directory " + dir_ + " is full (" + reason + ")";
  } else if (rc == EDQUOT) {
    full = "the disk quota of data directory " + dir_ + " is exhausted (" + reason + ")";
  } else if (rc == EIO && FreeBytes() < kDiskFullFreeBytes) {
    // mdb_page_flush reports a short write (the file system ran out of
    // space part way through) as EIO; a write that stored nothing at all
    // gives ENOSPC. With the disk this full, a short write is what it was.
    full = "the file system holding data directory " + dir_ + " is full (a short write: " + reason +
           ")";
  }
  if (!full.empty()) {
    return ResourceExhausted(std::string(what) + ": " + full +
                             "; free space on the file system holding " + dir_ + ", then retry");
  }
  return Internal(std::string(what) + ": data directory " + dir_ + ": " + reason);
}

uint64_t Env::FreeBytes() const {
  if (options_.faults.free_bytes) return options_.faults.free_bytes();
  struct statvfs st;
  if (statvfs(dir_.c_str(), &st) != 0) return UINT64_MAX;  // unknown: not "full"
  // Root may write into the blocks ext4 reserves for it; others may not.
  uint64_t blocks = geteuid() == 0 ? st.f_bfree : st.f_bavail;
  return blocks * st.f_frsize;
}

Result<std::unique_ptr<Env>> Env::Open(const std::string& dir, const StoreOptions& options,
                                       bool create_if_missing) {
  std::unique_ptr<Env> env(new Env());
  env->dir_ = dir;
  env->options_ = options;
  std::error_code ec;
  bool exists = std::filesystem::is_directory(dir, ec);
  if (!exists) {
    if (std::filesystem::exists(dir, ec)) {
      return InvalidArgument("data directory " + dir + " exists but is not a directory");
    }
    if (!create_if_missing) return NotFound("data directory " + dir + " does not exist");
    std::filesystem::create_directories(dir, ec);
    if (ec) return Internal("create data directory " + dir + ": " + ec.message());
  }
  // A data file of size 0 was created but never initialized (a crash
  // during creation): initialize it now.
  auto data_file = std::filesystem::path(dir) / "data.mdb";
  bool creating =
      !std::filesystem::exists(data_file, ec) || std::filesystem::file_size(data_file, ec) == 0;
  if (creating && !create_if_missing) {
    return NotFound("data directory " + dir + " holds no ormdb database");
  }

  std::string lock_path = (std::filesystem::path(dir) / kLockFile).string();
  env->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (env->lock_fd_ < 0) {
    return Internal("open lock file " + lock_path + ": " + std::strerror(errno));
  }
  if (flock(env->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    std::string holder = ReadHolderPid(env->lock_fd_);
    return Unavailable("data directory " + dir + " is in use by pid " + holder +
                       "; connect to it instead");
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(env->lock_fd_, 0) != 0 ||
      pwrite(env->lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return Internal("write lock file " + lock_path + ": " + std::strerror(errno));
  }

  ORMDB_RETURN_IF_ERROR(env->OpenLmdb(creating));
  return env;
}

Status Env::OpenLmdb(bool creating) {
  int rc = mdb_env_create(&env_);
  if (rc != 0) return LmdbError(rc, "mdb_env_create");
  // Every partition of every table (see Tables, AddedTables) and room for more.
  mdb_env_set_maxdbs(env_, kMaxTables);
  mdb_env_set_maxreaders(env_, options_.max_readers);
  size_t initial = std::min(options_.initial_map_size, options_.max_map_size);
  rc = mdb_env_set_mapsize(env_, initial);
  if (rc != 0) return LmdbError(rc, "set map size");
  // MDB_NOTLS: read transactions belong to their object, not their thread.
  // No MDB_WRITEMAP: it forbids the nested transactions group commit uses.
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (options_.sync_mode == SyncMode::kNoSync) flags |= MDB_NOSYNC;
  rc = mdb_env_open(env_, dir_.c_str(), flags, 0644);
  if (rc == 0) kept_reads_ = std::make_shared<KeptReads>(env_);
  if (rc != 0) {
    std::string what = "open data directory " + dir_;
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
      return Internal(what + ": data.mdb is not an ormdb data file (" + mdb_strerror(rc) + ")");
    }
    if (rc == MDB_CORRUPTED || rc == MDB_PANIC) {
      return Internal(what + ": data.mdb is corrupted (" + mdb_strerror(rc) + ")");
    }
    return LmdbError(rc, what);
  }
  int dead = 0;
  mdb_reader_check(env_, &dead);

  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_.store(info.me_mapsize);

  return creating ? CreateTables() : OpenTables();
}

Status Env::CreateTables() {
  format_ = options_.create_format == 0 ? kFormatVersion : options_.create_format;
  if (format_ < kOldestFormatVersion || format_ > kFormatVersion) {
    return InvalidArgument("cannot create a data file of format " + std::to_string(format_));
  }
  keys_ = KeyLayout(format_);
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return Error(rc, "create data directory " + dir_);
  auto tables = Tables(format_);
  tables.emplace_back("meta", &dbis_.meta);
  for (auto& added : AddedTables()) tables.push_back(std::move(added));
  for (const auto& [name, dbi] : tables) {
    rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, dbi);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError(rc, "create table " + name);
    }
  }
  // The format record is written with the tables: a data file either has
  // both or was never initialized.
  std::string rec(kFormatMagic);
  PutU32BE(&rec, format_);
  MDB_val k{6, const_cast<char*>("format")}, v{rec.size(), rec.data()};
  rc = mdb_put(txn, dbis_.meta, &k, &v, 0);
  if (rc == 0)
    rc = mdb_txn_commit(txn);
  else
    mdb_txn_abort(txn);
  if (rc != 0) return Error(rc, "write format record");
  return LoadDatabaseId();
}

Status Env::CreateAddedTables() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return Error(rc, "open data directory " + dir_);
  for (const auto& [name, dbi] : AddedTables()) {
    rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, dbi);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return Error(rc, "open data directory " + dir_ + ": create table " + name);
    }
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return Error(rc, "open data directory " + dir_ + ": create added tables");
  return Status::Ok();
}

Status Env::OpenTables() {
  // Read-only: a foreign file is refused without being modified.
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return LmdbError(rc, "open data directory " + dir_);
  std::string what = "open data directory " + dir_ + ": ";
  auto open = [&](const std::string& name, MDB_dbi* dbi) -> Status {
    int rc = mdb_dbi_open(txn, name.c_str(), 0, dbi);
    if (rc == 0) return Status::Ok();
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
      return Internal(what + "data.mdb is not an ormdb data file (no table '" + name + "')");
    }
    return LmdbError(rc, what + "open table " + name);
  };
  // The format record says which tables the file has.
  Status meta = open("meta", &dbis_.meta);
  if (!meta.ok()) {
    mdb_txn_abort(txn);
    return meta;
  }
  MDB_val key{6, const_cast<char*>("format")};
  MDB_val val;
  rc = mdb_get(txn, dbis_.meta, &key, &val);
  std::string rec;
  if (rc == 0) rec.assign(static_cast<const char*>(val.mv_data), val.mv_size);
  if (rc != 0) {
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND)
      return Internal(what + "data.mdb is not an ormdb data file (no format record)");
    return LmdbError(rc, what + "read format record");
  }
  if (rec.size() != kFormatMagic.size() + 4 || rec.substr(0, kFormatMagic.size()) != kFormatMagic) {
    mdb_txn_abort(txn);
    return Internal(what + "unrecognized format record (not an ormdb data file)");
  }
  uint32_t version = GetU32BE(rec.data() + kFormatMagic.size());
  if (version > kFormatVersion) {
    mdb_txn_abort(txn);
    return Internal(what + "on-disk format " + std::to_string(version) +
                    " is newer than this build supports (" + std::to_string(kFormatVersion) +
                    "); use a newer ormdb");
  }
  if (version < kOldestFormatVersion) {
    mdb_txn_abort(txn);
    return Internal(what + "unknown on-disk format " + std::to_string(version));
  }
  format_ = version;
  keys_ = KeyLayout(format_);
  for (const auto& [name, dbi] : Tables(format_)) {
    Status s = open(name, dbi);
    if (!s.ok()) {
      mdb_txn_abort(txn);
      return s;
    }
  }
  // Tables added after format 1 was released: a data file written by an
  // earlier build lacks them; they are created below once the file is known
  // to be ours.
  bool missing_added = false;
  for (const auto& [name, dbi] : AddedTables()) {
    rc = mdb_dbi_open(txn, name.c_str(), 0, dbi);
    if (rc == MDB_NOTFOUND) {
      missing_added = true;
    } else if (rc != 0) {
      mdb_txn_abort(txn);
      if (rc == MDB_INCOMPATIBLE) {
        return Internal(what + "data.mdb is not an ormdb data file (table '" + name +
                        "' is not one of ours)");
      }
      return LmdbError(rc, what + "open table " + name);
    }
  }
  // Commit (not abort) so the table handles stay valid for later transactions.
  rc = mdb_txn_commit(txn);
  if (rc != 0) return LmdbError(rc, what + "open tables");
  if (missing_added) ORMDB_RETURN_IF_ERROR(CreateAddedTables());
  return LoadDatabaseId();
}

Status Env::LoadDatabaseId() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return LmdbError(rc, "read database id");
  MDB_val key{4, const_cast<char*>("dbid")};
  MDB_val val;
  rc = mdb_get(txn, dbis_.meta, &key, &val);
  if (rc == 0 && val.mv_size == 16) {
    database_id_.assign(static_cast<const char*>(val.mv_data), 16);
    mdb_txn_abort(txn);
    return Status::Ok();
  }
  if (rc != 0 && rc != MDB_NOTFOUND) {
    mdb_txn_abort(txn);
    return LmdbError(rc, "read database id");
  }
  Uuid id = RandomUuidV4();
  database_id_.assign(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  MDB_val v{database_id_.size(), database_id_.data()};
  rc = mdb_put(txn, dbis_.meta, &key, &v, 0);
  if (rc == 0) {
    rc = mdb_txn_commit(txn);
  } else {
    mdb_txn_abort(txn);
  }
  return rc == 0 ? Status::Ok() : Error(rc, "write database id");
}

std::vector<std::pair<std::string, MDB_dbi*>> Env::Tables(uint32_t format) {
  std::vector<std::pair<std::string, MDB_dbi*>> tables;
  auto partitioned = [&](const char* name, std::vector<MDB_dbi>* dbis, uint32_t count) {
    if (format == 1) {
      dbis->assign(1, 0);
      tables.emplace_back(name, &(*dbis)[0]);
      return;
    }
    dbis->assign(count, 0);
    for (uint32_t i = 0; i < count; ++i) {
      tables.emplace_back(std::string(name) + "." + std::to_string(i), &(*dbis)[i]);
    }
  };
  partitioned("rows", &dbis_.rows, kRowPartitions);
  partitioned("indexes", &dbis_.indexes, kIndexPartitions);
  partitioned("edges", &dbis_.edges, kEdgePartitions);
  tables.emplace_back("changelog", &dbis_.changelog);
  return tables;
}

std::vector<std::pair<std::string, MDB_dbi*>> Env::AddedTables() {
  return {{"requests", &dbis_.requests}, {"derived", &dbis_.derived}};
}

Status Env::Grow() {
  size_t current = map_size();
  if (current >= options_.max_map_size) {
    return ResourceExhausted("data directory " + dir_ + " reached its maximum map size of " +
                             std::to_string(options_.max_map_size) + " bytes");
  }
  size_t next = std::min(current * 2, options_.max_map_size);
  std::unique_lock lock(resize_mutex_, std::defer_lock);
  if (!lock.try_lock_for(std::chrono::milliseconds(options_.map_growth_wait_millis))) {
    return Unavailable("cannot grow the map of " + dir_ + ": read transactions stayed open for " +
                       std::to_string(options_.map_growth_wait_millis) + " ms; retry");
  }
  // No transaction may be open across the remap: end the kept ones (no
  // reader can take one while the lock is held).
  if (kept_reads_) kept_reads_->EndIdle();
  const auto& injected = options_.faults.grow_errno;
  int rc = injected ? injected() : 0;
  if (rc == 0) rc = mdb_env_set_mapsize(env_, next);
  if (rc != 0) return Error(rc, "grow map");
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_.store(info.me_mapsize);
  return Status::Ok();
}

Env::~Env() {
  if (kept_reads_) kept_reads_->Close();
  if (env_ != nullptr) mdb_env_close(env_);
  if (lock_fd_ >= 0) {
    flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
  }
}

size_t Env::map_used() const {
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(env_, &info) != 0 || mdb_env_stat(env_, &st) != 0) return 0;
  return (info.me_last_pgno + 1) * static_cast<size_t>(st.ms_psize);
}

}  // namespace ormdb::storage
