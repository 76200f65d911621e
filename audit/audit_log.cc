#include "audit/audit_log.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/json.h"
#include "common/timestamp.h"

namespace ormdb::audit {
namespace {

namespace fs = std::filesystem;

const std::string kZeroHash(64, '0');
constexpr size_t kTailChunk = 64 << 10;

Status IoError(std::string_view what, const std::string& path, int err) {
  return Unavailable("audit log: " + std::string(what) + " " + path + ": " + std::strerror(err));
}

// 7 for "audit-000007.jsonl"; nullopt for any other name.
std::optional<uint64_t> FileNumber(std::string_view name) {
  constexpr std::string_view kPrefix = "audit-", kSuffix = ".jsonl";
  if (name.size() < kPrefix.size() + 6 + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  std::string_view digits =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (digits.size() > 18) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n == 0 || AuditFileName(n) != name) return std::nullopt;
  return n;
}

// The numbers of the audit files in `dir`, ascending. NOT_FOUND when the
// directory does not exist.
Result<std::vector<uint64_t>> ListFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("audit log: no directory " + dir);
  std::vector<uint64_t> numbers;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (auto n = FileNumber(entry.path().filename().string())) numbers.push_back(*n);
  }
  if (ec) return Unavailable("audit log: list " + dir + ": " + ec.message());
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

std::string PathOf(const std::string& dir, uint64_t number) {
  return (fs::path(dir) / AuditFileName(number)).string();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync", dir, err);
  return Status::Ok();
}

// The end of a file: its last `n` complete lines (without '\n'), and how
// many bytes its complete lines take (less than the file's size when a
// torn last line follows them).
struct FileTail {
  std::vector<std::string> lines;
  uint64_t complete_bytes = 0;
  uint64_t size = 0;
};

Result<FileTail> ReadLastLines(const std::string& path, size_t n) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("stat", path, err);
  }
  FileTail tail;
  tail.size = static_cast<uint64_t>(st.st_size);
  // Read backwards until the buffer holds n + 1 newlines (the last one
  // ends the last complete line; n more end the lines before it) or the
  // whole file.
  std::string buf;
  uint64_t pos = tail.size;
  while (pos > 0 && static_cast<size_t>(std::count(buf.begin(), buf.end(), '\n')) < n + 1) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kTailChunk, pos));
    std::string chunk(want, '\0');
    ssize_t got = ::pread(fd, chunk.data(), want, static_cast<off_t>(pos - want));
    if (got != static_cast<ssize_t>(want)) {
      int err = got < 0 ? errno : EIO;
      ::close(fd);
      return IoError("read", path, err);
    }
    pos -= want;
    buf.insert(0, chunk);
  }
  ::close(fd);
  size_t last_nl = buf.rfind('\n');
  if (last_nl == std::string::npos) {
    tail.complete_bytes = 0;  // no complete line at all (pos is 0 here)
    return tail;
  }
  tail.complete_bytes = pos + last_nl + 1;
  // Split [0, last_nl) into lines; when the file was not read from its
  // start, the first piece is a partial line: drop it.
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= last_nl) {
    size_t nl = buf.find('\n', start);
    lines.push_back(buf.substr(start, nl - start));
    start = nl + 1;
  }
  if (pos > 0) lines.erase(lines.begin());
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<ptrdiff_t>(n));
  tail.lines = std::move(lines);
  return tail;
}

// The "prev" of a line, or nullopt when it is not an audit line.
std::optional<std::string> PrevOf(std::string_view line, std::string* why) {
  Result<Json> v = ParseJson(line);
  if (!v.ok()) {
    std::string m = v.status().message();
    // ParseJson's position is within the line; the caller names the line.
    const std::string at_line_1 = "at line 1, ";
    if (size_t p = m.find(at_line_1); p != std::string::npos) m.replace(p, at_line_1.size(), "at ");
    *why = "not JSON (" + m + ")";
    return std::nullopt;
  }
  const Json* prev = v->is_object() ? v->Find("prev") : nullptr;
  if (prev == nullptr || !prev->is_string() || prev->as_string().size() != 64) {
    *why = "not an audit line (no \"prev\" hash)";
    return std::nullopt;
  }
  return prev->as_string();
}

Json StringArray(const std::vector<std::string>& items) {
  Json a = Json::Array();
  for (const std::string& s : items) a.Push(Json(s));
  return a;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string AuditFileName(uint64_t number) {
  char name[48];
  std::snprintf(name, sizeof name, "audit-%06llu.jsonl", static_cast<unsigned long long>(number));
  return name;
}

AuditLog::AuditLog(std::string dir, AuditOptions options)
    : dir_(std::move(dir)), options_(options) {}

AuditLog::~AuditLog() {
  MutexLock lock(&mu_);
  if (fd_ >= 0) {
    if (unsynced_) (void)::fdatasync(fd_);
    ::close(fd_);
  }
}

Status AuditLog::OpenFileLocked(uint64_t number, bool create) {
  std::string path = PathOf(dir_, number);
  int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  int fd = ::open(path.c_str(), flags, 0640);
  if (fd < 0) return IoError(create ? "create" : "open", path, errno);
  // A new file that cannot be made durable is removed again, so a later
  // rotation can create it.
  auto abandon = [&](Status st) {
    ::close(fd);
    if (create) ::unlink(path.c_str());
    return st;
  };
  if (create) {
    Status st = SyncDirectory(dir_);
    if (!st.ok()) return abandon(st);
  }
  if (fd_ >= 0) {
    // The old file's unsynced read lines go to disk before it is left.
    if (unsynced_ && ::fdatasync(fd_) != 0) {
      return abandon(IoError("fdatasync", PathOf(dir_, file_number_), errno));
    }
    ::close(fd_);
  }
  fd_ = fd;
  file_number_ = number;
  file_bytes_ = 0;
  unsynced_ = false;
  if (!create) {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IoError("stat", path, errno);
    file_bytes_ = static_cast<uint64_t>(st.st_size);
  }
  return Status::Ok();
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& dir,
                                                 const AuditOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("audit log: create directory " + dir + ": " + ec.message());
  ORMDB_ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListFiles(dir));
  std::unique_ptr<AuditLog> log(new AuditLog(dir, options));
  MutexLock lock(&log->mu_);
  log->prev_hash_ = kZeroHash;
  if (numbers.empty()) {
    ORMDB_RETURN_IF_ERROR(log->OpenFileLocked(1, /*create=*/true));
    return log;
  }
  const uint64_t newest = numbers.back();
  std::string newest_path = PathOf(dir, newest);
  ORMDB_ASSIGN_OR_RETURN(FileTail tail, ReadLastLines(newest_path, 1));
  if (tail.complete_bytes < tail.size) {
    // A torn last line: never acknowledged (Append returns after the
    // whole line is written), so it is not part of the log.
    if (::truncate(newest_path.c_str(), static_cast<off_t>(tail.complete_bytes)) != 0) {
      return IoError("cut the torn last line of", newest_path, errno);
    }
  }
  // The chain continues from the newest complete line, which may sit in
  // an older file when the newest is empty (a rotation that wrote nothing).
  std::optional<std::string> last_line;
  std::string last_line_file = newest_path;
  if (!tail.lines.empty()) last_line = tail.lines.back();
  for (auto it = numbers.rbegin() + 1; !last_line && it != numbers.rend(); ++it) {
    last_line_file = PathOf(dir, *it);
    ORMDB_ASSIGN_OR_RETURN(FileTail older, ReadLastLines(last_line_file, 1));
    if (!older.lines.empty()) last_line = older.lines.back();
  }
  if (last_line) {
    std::string why;
    if (!PrevOf(*last_line, &why)) {
      return Internal("audit log: the last line of " + last_line_file + " is " + why +
                      " (run `ormdb audit verify " + dir + "`)");
    }
    log->prev_hash_ = Sha256Hex(*last_line);
  }
  ORMDB_RETURN_IF_ERROR(log->OpenFileLocked(newest, /*create=*/false));
  if (tail.complete_bytes < tail.size && ::fsync(log->fd_) != 0) {
    return IoError("fsync", newest_path, errno);
  }
  return log;
}

Status AuditLog::Append(const AuditRecord& record) {
  Status st = AppendUncounted(record);
  if (!st.ok()) metrics_.failures.Add();
  return st;
}

Status AuditLog::AppendUncounted(const AuditRecord& record) {
  Result<Json> principal = ParseJson(record.principal_json);
  if (!principal.ok()) {
    return InvalidArgument("audit log: principal_json is not JSON: " +
                           principal.status().message());
  }
  std::optional<Json> impersonator;
  if (!record.impersonator_json.empty()) {
    Result<Json> j = ParseJson(record.impersonator_json);
    if (!j.ok()) {
      return InvalidArgument("audit log: impersonator_json is not JSON: " + j.status().message());
    }
    impersonator = std::move(j).value();
  }
  Json line = Json::Object();
  line.Set("time", FormatTimestamp(record.time_micros != 0 ? record.time_micros : NowMicros()));
  line.Set("principal", std::move(principal).value());
  if (impersonator) line.Set("impersonator", std::move(*impersonator));
  line.Set("operation", record.operation);
  line.Set("entities", StringArray(record.entities));
  line.Set("fields", StringArray(record.fields));
  line.Set("rows", record.rows);
  line.Set("shape", record.shape.empty() ? Json() : Json(record.shape));
  line.Set("params", StringArray(record.params));
  line.Set("outcome", record.outcome);
  line.Set("version", record.version);

  MutexLock lock(&mu_);
  if (!broken_.empty()) return Unavailable("audit log: " + broken_);
  line.Set("prev", prev_hash_);
  std::string text = ToJson(line);
  std::string bytes = text + "\n";
  const auto start = std::chrono::steady_clock::now();
  if (file_bytes_ > 0 && file_bytes_ + bytes.size() > options_.max_file_bytes) {
    // When the next file cannot be created the line goes to this one: a
    // file over its size is better than a request failed for it.
    Status rotated = OpenFileLocked(file_number_ + 1, /*create=*/true);
    if (!rotated.ok() && fd_ < 0) return rotated;
  }
  const std::string path = PathOf(dir_, file_number_);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Cut the partial line so the file ends on a complete line again.
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0) {
        broken_ = "a failed write left a partial line in " + path + " (" + std::strerror(err) +
                  "); reopen the log to repair it";
      }
      return IoError("write", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (record.sync && ::fdatasync(fd_) != 0) {
    int err = errno;
    // After a failed fdatasync the kernel may have dropped the dirty pages:
    // nothing written since the last good sync can be trusted, so refuse
    // until reopened. The unacknowledged line is cut where possible.
    (void)::ftruncate(fd_, static_cast<off_t>(file_bytes_));
    broken_ = "fdatasync of " + path + " failed (" + std::string(std::strerror(err)) +
              "); reopen the log";
    return IoError("fdatasync", path, err);
  }
  const auto written = std::chrono::steady_clock::now();
  file_bytes_ += bytes.size();
  unsynced_ = !record.sync;
  prev_hash_ = Sha256Hex(text);
  metrics_.lines.Add();
  metrics_.append_micros.Observe(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(written - start).count()));
  return Status::Ok();
}

Status AuditLog::SyncLocked() {
  if (!unsynced_ || fd_ < 0) return Status::Ok();
  if (::fdatasync(fd_) != 0) {
    int err = errno;
    broken_ = "fdatasync of " + PathOf(dir_, file_number_) + " failed; reopen the log";
    return IoError("fdatasync", PathOf(dir_, file_number_), err);
  }
  unsynced_ = false;
  return Status::Ok();
}

Status AuditLog::Sync() {
  MutexLock lock(&mu_);
  return SyncLocked();
}

std::string AuditLog::last_hash() const {
  MutexLock lock(&mu_);
  return prev_hash_;
}

std::string AuditLog::current_file() const {
  MutexLock lock(&mu_);
  return AuditFileName(file_number_);
}

Result<VerifyReport> VerifyAuditLog(const std::string& dir) {
  ORMDB_ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListFiles(dir));
  if (numbers.empty()) return NotFound("audit log: no audit files in " + dir);
  VerifyReport report;
  report.last_hash = kZeroHash;
  auto problem = [&](std::string text) {
    report.ok = false;
    report.problem = std::move(text);
    return report;
  };
  if (numbers.front() != 1) {
    return problem(AuditFileName(1) + " is missing (the log starts at " +
                   AuditFileName(numbers.front()) + ")");
  }
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0 && numbers[i] != numbers[i - 1] + 1) {
      return problem(AuditFileName(numbers[i - 1] + 1) + " is missing (" +
                     AuditFileName(numbers[i - 1]) + " is followed by " +
                     AuditFileName(numbers[i]) + ")");
    }
    const std::string name = AuditFileName(numbers[i]);
    const std::string path = PathOf(dir, numbers[i]);
    std::ifstream in(path, std::ios::binary);
    if (!in) return Unavailable("audit log: cannot open " + path);
    ++report.files;
    std::string line;
    uint64_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      std::string where = "line " + std::to_string(line_no) + " of " + name + ": ";
      if (in.eof()) {
        return problem(where + "incomplete (no newline at its end: a write was interrupted)");
      }
      std::string why;
      std::optional<std::string> prev = PrevOf(line, &why);
      if (!prev) return problem(where + why);
      if (*prev != report.last_hash) {
        return problem(where + "chain broken (a line was removed, altered or reordered before it)");
      }
      report.last_hash = Sha256Hex(line);
      ++report.lines;
    }
    if (in.bad()) return Unavailable("audit log: read error in " + path);
  }
  return report;
}

Status Tail(const std::string& dir, size_t n, const std::function<void(std::string_view)>& fn) {
  ORMDB_ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListFiles(dir));
  if (numbers.empty()) return NotFound("audit log: no audit files in " + dir);
  std::vector<std::string> lines;  // newest first, in chunks of one file
  for (auto it = numbers.rbegin(); it != numbers.rend() && lines.size() < n; ++it) {
    ORMDB_ASSIGN_OR_RETURN(FileTail tail, ReadLastLines(PathOf(dir, *it), n - lines.size()));
    for (auto l = tail.lines.rbegin(); l != tail.lines.rend(); ++l) lines.push_back(std::move(*l));
  }
  for (auto l = lines.rbegin(); l != lines.rend(); ++l) fn(*l);
  return Status::Ok();
}

}  // namespace ormdb::audit
