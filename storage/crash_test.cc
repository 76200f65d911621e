// Crash test: a child process commits numbered transactions as fast as it
// can, reporting each acknowledged one; we SIGKILL it at a random moment,
// reopen, and check that every acknowledged transaction is present in full
// and that no transaction is partially visible, and that request outcomes
// agree with the data: an acknowledged transaction's request key is found
// with its version, a key is found exactly when its rows are there. Seeded: ORMDB_CRASH_SEED
// reproduces a run, ORMDB_CRASH_ROUNDS changes the number of rounds.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "storage/crash_workload.h"
#include "storage/store.h"
#include "storage/test_util.h"

namespace ormdb::storage {
namespace {

struct ChildRun {
  std::map<uint64_t, Version> acknowledged;  // txn -> version
  std::string stderr_text;
};

// Runs the child for `run_for`, kills it with SIGKILL and collects its acks.
ChildRun RunAndKill(const std::string& dir, uint64_t first_txn, std::chrono::milliseconds run_for) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    std::string first = std::to_string(first_txn);
    execl(ORMDB_CRASH_CHILD, ORMDB_CRASH_CHILD, dir.c_str(), first.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  // The clock starts at the child's first acknowledgement, so a slow start
  // (a sanitized build, a loaded machine) never turns a round into a kill
  // before any work.
  std::string text;
  char buf[65536];
  ssize_t n;
  pollfd first{out[0], POLLIN, 0};
  if (poll(&first, 1, 120000) == 1 && (n = read(out[0], buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  std::this_thread::sleep_for(run_for);
  kill(pid, SIGKILL);
  // Everything the child wrote before dying is in the pipe.
  while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited on its own with status " << status;
  ChildRun run;
  std::istringstream lines(text);
  uint64_t txn;
  Version version;
  while (lines >> txn >> version) run.acknowledged[txn] = version;
  return run;
}

TEST(CrashTest, AcknowledgedCommitsSurviveSigkillAndNothingIsPartial) {
  const char* seed_env = std::getenv("ORMDB_CRASH_SEED");
  const char* rounds_env = std::getenv("ORMDB_CRASH_ROUNDS");
  uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261121;
  int rounds = rounds_env ? std::atoi(rounds_env) : 50;
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  std::map<uint64_t, Version> all_acknowledged;
  uint64_t next_txn = 1;
  uint64_t total_acks = 0;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    auto run_for = std::chrono::milliseconds(5 + rng() % 80);
    ChildRun run = RunAndKill(dir.path(), next_txn, run_for);
    total_acks += run.acknowledged.size();
    all_acknowledged.insert(run.acknowledged.begin(), run.acknowledged.end());
    // Transactions numbers are handed out in order; the next child starts
    // past anything this one may have begun (4 threads in flight at most).
    uint64_t highest = run.acknowledged.empty() ? next_txn : run.acknowledged.rbegin()->first;
    next_txn = std::max(next_txn, highest) + 16;

    auto store = Store::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto txn = (*store)->BeginRead();
    ASSERT_TRUE(txn.ok());
    Version current = (*store)->current_version();
    // Every acknowledged transaction is there, in full, with its version.
    for (const auto& [n, version] : all_acknowledged) {
      ASSERT_LE(version, current);
      for (int j = 0; j < crash::RowsOf(n); ++j) {
        auto row = (*txn)->Get(crash::kType, crash::RowIdOf(n, j));
        ASSERT_TRUE(row.ok() && row->has_value())
            << "acknowledged txn " << n << " row " << j << " missing";
        ASSERT_EQ((*row)->bytes_in_txn, crash::RowOf(n, j));
        ASSERT_EQ((*row)->version, version);
      }
      auto outcome = (*txn)->FindRequest(crash::RequestKeyOf(n));
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
      ASSERT_TRUE(outcome->has_value()) << "acknowledged txn " << n << " has no request outcome";
      ASSERT_EQ(**outcome, (RequestOutcome{version, crash::OutcomeOf(n)}));
    }
    // No transaction is partial: rows group into complete transactions, each
    // with its index entries, and the change log has every version.
    std::map<uint64_t, int> rows_per_txn;
    ASSERT_TRUE((*txn)
                    ->ScanRows(crash::kType, 0, ScanDirection::kForward,
                               [&](RowId id, const RowRecord&) {
                                 rows_per_txn[id / 8]++;
                                 return true;
                               })
                    .ok());
    for (const auto& [n, count] : rows_per_txn) {
      ASSERT_EQ(count, crash::RowsOf(n)) << "transaction " << n << " is partially visible";
    }
    size_t index_entries = 0;
    ASSERT_TRUE((*txn)
                    ->ScanIndex(crash::kIndex, "", "", ScanDirection::kForward,
                                [&](const IndexEntry&) {
                                  ++index_entries;
                                  return true;
                                })
                    .ok());
    size_t rows = 0;
    for (const auto& [n, count] : rows_per_txn) rows += static_cast<size_t>(count);
    ASSERT_EQ(index_entries, rows);
    ASSERT_EQ(rows_per_txn.size(), current);  // one transaction per version
    // Rows there => request found, with the rows' version; no rows => no
    // request, whether the child was acknowledged or not.
    uint64_t probe_end =
        std::max(next_txn, rows_per_txn.empty() ? 0 : rows_per_txn.rbegin()->first + 1);
    for (uint64_t n = 1; n < probe_end; ++n) {
      auto outcome = (*txn)->FindRequest(crash::RequestKeyOf(n));
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
      auto present = rows_per_txn.find(n);
      if (present == rows_per_txn.end()) {
        ASSERT_FALSE(outcome->has_value()) << "txn " << n << " has an outcome but no rows";
        continue;
      }
      ASSERT_TRUE(outcome->has_value()) << "txn " << n << " has rows but no outcome";
      auto row = (*txn)->Get(crash::kType, crash::RowIdOf(n, 0));
      ASSERT_TRUE(row.ok() && row->has_value());
      ASSERT_EQ((*outcome)->version, (*row)->version) << "txn " << n;
      ASSERT_EQ((*outcome)->outcome, crash::OutcomeOf(n));
    }
    auto sizes = (*store)->table_sizes();
    ASSERT_TRUE(sizes.ok());
    ASSERT_EQ(sizes->request_entries, current);
    // Each version's log entry names the request of the rows it wrote.
    Version expect = 1;
    ASSERT_TRUE((*store)
                    ->ReadChanges(0,
                                  [&](const ChangeSet& cs) {
                                    EXPECT_EQ(cs.version, expect);
                                    ++expect;
                                    std::vector<std::string> keys;
                                    uint64_t txn_of_rows = 0;
                                    for (const ChangeRecord& r : cs.records) {
                                      if (const auto* q = std::get_if<RequestRecord>(&r)) {
                                        keys.push_back(q->key);
                                      } else if (const auto* d = std::get_if<RowDelta>(&r)) {
                                        txn_of_rows = d->id / 8;
                                      }
                                    }
                                    EXPECT_EQ(keys, std::vector<std::string>{
                                                        crash::RequestKeyOf(txn_of_rows)});
                                    return true;
                                  })
                    .ok());
    ASSERT_EQ(expect, current + 1);
    auto report = (*store)->Check();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(report->problems.empty()) << report->problems.front();
  }
  RecordProperty("acknowledged_transactions", std::to_string(total_acks));
  EXPECT_GT(total_acks, static_cast<uint64_t>(rounds));  // the child did real work
}

}  // namespace
}  // namespace ormdb::storage
