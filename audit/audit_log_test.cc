#include "audit/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/json.h"

namespace ormdb::audit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ormdb-audit-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string File(int n) const { return (fs::path(dir_) / AuditFileName(n)).string(); }

  static AuditRecord Record(int i) {
    AuditRecord r;
    r.principal_json = R"({"id":7,"roles":["user"],"tenant":"acme"})";
    r.operation = i % 2 == 0 ? "fetch" : "mutate";
    r.entities = {"Post", "User"};
    r.fields = {"Post.title", "User.name"};
    r.rows = static_cast<uint64_t>(i);
    r.shape = "9c1f00aa";
    r.params = {"author"};
    r.outcome = "ok";
    r.version = static_cast<uint64_t>(100 + i);
    r.time_micros = 1800000000000000 + i;
    return r;
  }

  void AppendRecords(AuditLog& log, int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(log.Append(Record(i)).ok()) << i;
  }

  void WriteSome(int count, const AuditOptions& o = {}) {
    auto log = AuditLog::Open(dir_, o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    AppendRecords(**log, 0, count);
  }

  static std::vector<std::string> ReadLines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
  }
  static void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (const std::string& l : lines) out << l << '\n';
  }

  VerifyReport Verify() {
    auto r = VerifyAuditLog(dir_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  std::string dir_;
};

TEST_F(AuditLogTest, AppendAndVerify) {
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->last_hash(), std::string(64, '0'));
  AppendRecords(**log, 0, 5);
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.lines, 5u);
  EXPECT_EQ(report.files, 1u);
  EXPECT_EQ(report.last_hash, (*log)->last_hash());

  std::vector<std::string> lines = ReadLines(File(1));
  ASSERT_EQ(lines.size(), 5u);
  auto first = ParseJson(lines[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(lines[0],
            R"({"time":"2027-01-15T08:00:00Z","principal":{"id":7,"roles":["user"],)"
            R"("tenant":"acme"},"operation":"fetch","entities":["Post","User"],"fields":)"
            R"(["Post.title","User.name"],"rows":0,"shape":"9c1f00aa","params":["author"],)"
            R"("outcome":"ok","version":100,"prev":"0000000000000000000000000000000000000000)"
            R"(000000000000000000000000"})");
}

TEST_F(AuditLogTest, PrevIsTheSha256OfThePreviousLine) {
  WriteSome(3);
  std::vector<std::string> lines = ReadLines(File(1));
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 1; i < lines.size(); ++i) {
    unsigned char digest[32];
    SHA256(reinterpret_cast<const unsigned char*>(lines[i - 1].data()), lines[i - 1].size(),
           digest);
    char hex[65];
    for (int b = 0; b < 32; ++b) std::snprintf(hex + 2 * b, 3, "%02x", digest[b]);
    auto v = ParseJson(lines[i]);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->Find("prev")->as_string(), std::string(hex, 64)) << "line " << i + 1;
  }
}

TEST_F(AuditLogTest, RemovedLineIsNamed) {
  WriteSome(5);
  std::vector<std::string> lines = ReadLines(File(1));
  lines.erase(lines.begin() + 2);  // line 3
  WriteLines(File(1), lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem,
            "line 3 of audit-000001.jsonl: chain broken (a line was removed, altered or reordered "
            "before it)");
  EXPECT_EQ(r.lines, 2u);
}

TEST_F(AuditLogTest, AlteredLineIsNamed) {
  WriteSome(5);
  std::vector<std::string> lines = ReadLines(File(1));
  size_t at = lines[1].find("\"rows\":1");
  ASSERT_NE(at, std::string::npos);
  lines[1].replace(at, 8, "\"rows\":0");
  WriteLines(File(1), lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.problem, HasSubstr("line 3 of audit-000001.jsonl: chain broken"));
}

TEST_F(AuditLogTest, ReorderedLinesAreNamed) {
  WriteSome(5);
  std::vector<std::string> lines = ReadLines(File(1));
  std::swap(lines[1], lines[2]);
  WriteLines(File(1), lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.problem, HasSubstr("line 2 of audit-000001.jsonl: chain broken"));
}

TEST_F(AuditLogTest, LineThatIsNotJsonIsNamed) {
  WriteSome(3);
  std::vector<std::string> lines = ReadLines(File(1));
  lines[2] = lines[2].substr(0, 20);
  WriteLines(File(1), lines);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.problem, HasSubstr("line 3 of audit-000001.jsonl: not JSON (invalid JSON at "));
  lines[2] = R"({"hello":"world"})";
  WriteLines(File(1), lines);
  EXPECT_THAT(Verify().problem, HasSubstr("line 3 of audit-000001.jsonl: not an audit line"));
}

TEST_F(AuditLogTest, RotationKeepsTheChain) {
  AuditOptions o;
  o.max_file_bytes = 1000;  // a line is about 300 bytes: 3 lines a file
  WriteSome(10, o);
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 10u);
  EXPECT_EQ(r.files, 4u);
  for (int f = 1; f <= 3; ++f) {
    EXPECT_LE(fs::file_size(File(f)), o.max_file_bytes);
    EXPECT_EQ(ReadLines(File(f)).size(), 3u) << AuditFileName(f);
  }
  // The first line of file 2 chains to the last of file 1: altering that
  // one is caught there.
  std::vector<std::string> lines = ReadLines(File(1));
  lines.back().replace(lines.back().find("\"fetch\""), 7, "\"Fetch\"");
  WriteLines(File(1), lines);
  r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.problem, HasSubstr("line 1 of audit-000002.jsonl: chain broken"));
}

TEST_F(AuditLogTest, MissingFileIsNamed) {
  AuditOptions o;
  o.max_file_bytes = 1000;
  WriteSome(10, o);
  fs::remove(File(2));
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem,
            "audit-000002.jsonl is missing (audit-000001.jsonl is followed by audit-000003.jsonl)");
  EXPECT_EQ(r.lines, 3u);
  fs::remove(File(1));
  EXPECT_EQ(Verify().problem,
            "audit-000001.jsonl is missing (the log starts at audit-000003.jsonl)");
}

TEST_F(AuditLogTest, MissingLastFileBreaksNothingButIsReportedByTheHash) {
  // Cutting the end off leaves a valid shorter chain: last_hash changes,
  // which is what an operator compares with a hash recorded elsewhere.
  AuditOptions o;
  o.max_file_bytes = 1000;
  WriteSome(10, o);
  std::string full_hash = Verify().last_hash;
  fs::remove(File(4));
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.lines, 9u);
  EXPECT_NE(r.last_hash, full_hash);
}

TEST_F(AuditLogTest, ReopenContinuesTheChain) {
  WriteSome(3);
  WriteSome(2);
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 5u);
  // After a rotation too, and when the newest file is still empty.
  AuditOptions o;
  o.max_file_bytes = 1000;
  WriteSome(3, o);
  int newest = 1;
  while (fs::exists(File(newest + 1))) ++newest;
  ASSERT_GT(newest, 1);
  std::ofstream(File(newest + 1)).close();  // a rotation that wrote nothing
  WriteSome(1, o);
  EXPECT_EQ(ReadLines(File(newest + 1)).size(), 1u);
  r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 9u);
}

TEST_F(AuditLogTest, ReopenCutsATornLastLine) {
  WriteSome(3);
  {
    std::ofstream out(File(1), std::ios::binary | std::ios::app);
    out << R"({"time":"2026-01-15T08:00:00Z","principal":nu)";
  }
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem,
            "line 4 of audit-000001.jsonl: incomplete (no newline at its end: a write was "
            "interrupted)");
  WriteSome(1);
  r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 4u);
}

TEST_F(AuditLogTest, OpenRefusesAForeignLastLine) {
  WriteLines(File(1), {"not an audit line"});
  auto log = AuditLog::Open(dir_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), ErrorCode::kInternal);
  EXPECT_THAT(log.status().message(), HasSubstr("ormdb audit verify"));
}

TEST_F(AuditLogTest, OtherFilesAreIgnored) {
  WriteSome(2);
  std::ofstream(fs::path(dir_) / "README").put('x');
  std::ofstream(fs::path(dir_) / "audit-1.jsonl").put('x');
  std::ofstream(fs::path(dir_) / "audit-000002.jsonl.bak").put('x');
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.files, 1u);
}

TEST_F(AuditLogTest, VerifyOfNothing) {
  EXPECT_EQ(VerifyAuditLog(dir_ + "/nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(VerifyAuditLog(dir_).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Tail(dir_, 3, [](std::string_view) {}).code(), ErrorCode::kNotFound);
}

TEST_F(AuditLogTest, TailAcrossFiles) {
  AuditOptions o;
  o.max_file_bytes = 1000;
  WriteSome(10, o);
  auto rows_of = [&](size_t n) {
    std::vector<int64_t> rows;
    Status st = Tail(dir_, n, [&](std::string_view line) {
      auto v = ParseJson(line);
      ASSERT_TRUE(v.ok()) << line;
      rows.push_back(v->Find("rows")->as_int());
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  };
  EXPECT_EQ(rows_of(5), (std::vector<int64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(rows_of(1), (std::vector<int64_t>{9}));
  EXPECT_EQ(rows_of(0), (std::vector<int64_t>{}));
  EXPECT_EQ(rows_of(100).size(), 10u);
}

TEST_F(AuditLogTest, TailOfLongFilesReadsBackwards) {
  // More than one read chunk (64 KiB) of lines in one file.
  WriteSome(400);
  std::vector<std::string> got;
  ASSERT_TRUE(Tail(dir_, 300, [&](std::string_view l) { got.emplace_back(l); }).ok());
  std::vector<std::string> lines = ReadLines(File(1));
  ASSERT_EQ(got.size(), 300u);
  EXPECT_EQ(got, std::vector<std::string>(lines.end() - 300, lines.end()));
}

TEST_F(AuditLogTest, ConcurrentAppendsKeepOneChain) {
  auto log = AuditLog::Open(dir_, AuditOptions{4096});
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        AuditRecord r = Record(t * 1000 + i);
        r.sync = i % 2 == 0;
        EXPECT_TRUE((*log)->Append(r).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*log)->Sync().ok());
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 200u);
  EXPECT_GT(r.files, 1u);
}

TEST_F(AuditLogTest, BadPrincipalJsonIsRefused) {
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  AuditRecord r = Record(0);
  r.principal_json = "{nope";
  EXPECT_EQ((*log)->Append(r).code(), ErrorCode::kInvalidArgument);
  r.principal_json = "null";
  r.shape = "";
  EXPECT_TRUE((*log)->Append(r).ok());
  auto v = ParseJson(ReadLines(File(1)).at(0));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->Find("principal")->is_null());
  EXPECT_TRUE(v->Find("shape")->is_null());
}

// An impersonated request's line names who named the principal, right
// after the principal; the chain covers it like any other member.
TEST_F(AuditLogTest, ImpersonatorFollowsThePrincipal) {
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  AuditRecord r = Record(0);
  r.impersonator_json = "{nope";
  EXPECT_EQ((*log)->Append(r).code(), ErrorCode::kInvalidArgument);
  r.impersonator_json = R"({"key":"backend"})";
  ASSERT_TRUE((*log)->Append(r).ok());
  ASSERT_TRUE((*log)->Append(Record(1)).ok());
  std::vector<std::string> lines = ReadLines(File(1));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"("principal":{"id":7,"roles":["user"],"tenant":"acme"},)"
                                  R"("impersonator":{"key":"backend"},"operation":"fetch",)"));
  EXPECT_THAT(lines[1], Not(HasSubstr("impersonator")));
  EXPECT_EQ((*log)->metrics().lines.value(), 2u);
  EXPECT_EQ((*log)->metrics().failures.value(), 1u);  // the line that was not JSON
  EXPECT_EQ((*log)->metrics().append_micros.Snapshot().count(), 2u);
  VerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.lines, 2u);
}

// A file size limit stands in for a full disk: write() stops short, then
// fails with EFBIG, exactly where ENOSPC would strike.
TEST_F(AuditLogTest, FullDiskFailsAndLeavesTheChainVerifiable) {
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  AppendRecords(**log, 0, 3);
  const uint64_t size = fs::file_size(File(1));

  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = size + 100;  // room for a third of a line
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status st = (*log)->Append(Record(3));
  Status again = (*log)->Append(Record(4));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_EQ(sigaction(SIGXFSZ, &old_action, nullptr), 0);

  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("audit log: write"));
  EXPECT_EQ(again.code(), ErrorCode::kUnavailable);
  EXPECT_EQ((*log)->metrics().failures.value(), 2u);
  EXPECT_EQ((*log)->metrics().lines.value(), 3u);
  EXPECT_EQ(fs::file_size(File(1)), size) << "the partial line is cut";
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 3u);
  // With room again, the log goes on.
  AppendRecords(**log, 5, 7);
  r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.lines, 5u);
}

// A real ENOSPC on a tiny tmpfs, when this process may mount one (root in
// a container that allows it); skipped elsewhere.
TEST_F(AuditLogTest, FullTmpfsFailsAndLeavesTheChainVerifiable) {
  std::string mnt = dir_ + "/tiny";
  fs::create_directories(mnt);
  if (geteuid() != 0 || ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  std::string logdir = mnt + "/audit";
  Status failed;
  uint64_t written = 0;
  {
    AuditOptions o;
    o.max_file_bytes = 16 << 10;
    auto log = AuditLog::Open(logdir, o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 2000 && failed.ok(); ++i) {
      failed = (*log)->Append(Record(i));
      if (failed.ok()) ++written;
    }
  }
  EXPECT_EQ(failed.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(failed.message(), HasSubstr("No space left on device"));
  EXPECT_GT(written, 10u);
  auto r = VerifyAuditLog(logdir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->lines, written);
}

}  // namespace
}  // namespace ormdb::audit
