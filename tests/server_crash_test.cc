// Exactly-once writes across server crashes (DESIGN.md §7 "Exactly once").
//
// `ormdb serve` runs as a child process and is killed with SIGKILL again
// and again while clients write; it is restarted on the same address each
// time. A client's request that was in flight when the server died is
// resent by nng's REQ socket to the restarted server. The write may have
// committed before the kill: then the restarted server must answer it from
// the request outcome recorded in the write's own transaction, not apply it
// a second time, and not fail it (a unique constraint would, with the
// first apply's rows in the way).
//
// Checked at the end, on the data directory: every acknowledged batch is
// present exactly once with the version it was acknowledged with, no
// client saw an error, and the log's versions are gap-free.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"
#include "storage/test_util.h"

namespace ormdb {
namespace {

using std::chrono::milliseconds;

constexpr const char* kSchema = R"(
entity Entry {
  id: id
  client: int64
  seq: int64
  part: int64
  key: string @unique
  @@index(client, seq)
}
)";

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

pid_t StartServer(const std::string& dir, const std::string& url) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(ORMDB_BINARY, "ormdb", "serve", "--data", dir.c_str(), "--listen", url.c_str(),
          "--http-listen", "off", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

bool WaitServing(const std::string& url) {
  for (int i = 0; i < 200; ++i) {
    ConnectOptions o;
    o.request_timeout = milliseconds(1000);
    if (Database::Connect(url, o).ok()) return true;
    std::this_thread::sleep_for(milliseconds(25));
  }
  return false;
}

std::string BatchOf(int client, int seq) {
  std::string ops;
  for (int part = 0; part < 3; ++part) {
    std::string key =
        std::to_string(client) + "-" + std::to_string(seq) + "-" + std::to_string(part);
    ops += std::string(part ? ", " : "") +
           R"({"op": "insert", "entity": "Entry", "values": {"client": )" + std::to_string(client) +
           R"(, "seq": )" + std::to_string(seq) + R"(, "part": )" + std::to_string(part) +
           R"(, "key": ")" + key + R"("}})";
  }
  return R"({"ops": [)" + ops + "]}";
}

TEST(ServerCrashTest, ResentWritesAreAppliedOnceAcrossKills) {
  storage::testing::TempDir dir;
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->ApplySchema(kSchema).ok());
  }
  const std::string url = "tcp://127.0.0.1:" + std::to_string(FreePort());
  pid_t server = StartServer(dir.path(), url);
  ASSERT_TRUE(WaitServing(url)) << "the server did not start";

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::pair<int, int>, uint64_t> acked;  // (client, seq) -> version
  std::vector<std::string> errors;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      ConnectOptions o;
      o.request_timeout = milliseconds(60000);  // outlives every restart
      auto db = Database::Connect(url, o);
      if (!db.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back("connect: " + db.status().ToString());
        return;
      }
      for (int seq = 0; !stop; ++seq) {
        auto r = (*db)->Mutate(BatchOf(c, seq));
        std::lock_guard<std::mutex> lock(mu);
        if (r.ok()) {
          acked[{c, seq}] = r->version;
        } else {
          errors.push_back("client " + std::to_string(c) + " batch " + std::to_string(seq) + ": " +
                           r.status().ToString());
        }
      }
    });
  }

  std::mt19937 rng(20261204);
  constexpr int kKills = 8;
  for (int round = 0; round < kKills; ++round) {
    std::this_thread::sleep_for(milliseconds(150 + rng() % 400));
    ASSERT_EQ(kill(server, SIGKILL), 0);
    waitpid(server, nullptr, 0);
    server = StartServer(dir.path(), url);
    ASSERT_TRUE(WaitServing(url)) << "the server did not restart in round " << round;
  }
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  for (auto& t : clients) t.join();
  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  for (const std::string& e : errors) ADD_FAILURE() << "a client saw an error: " << e;
  ASSERT_GT(acked.size(), 20u) << "too little load to mean anything";

  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  std::map<std::pair<int, int>, int> rows;
  std::map<std::pair<int, int>, uint64_t> versions;
  ASSERT_TRUE((*db)
                  ->Export("Entry",
                           [&](std::string_view line) {
                             auto j = ParseJson(line);
                             if (!j.ok()) return j.status();
                             std::pair<int, int> k{static_cast<int>(j->Find("client")->as_int()),
                                                   static_cast<int>(j->Find("seq")->as_int())};
                             ++rows[k];
                             return Status::Ok();
                           })
                  .ok());
  auto r = (*db)->Fetch("Entry(where: part == 0) { client, seq, _version }");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto data = ParseJson((*r)->ToJson());
  ASSERT_TRUE(data.ok());
  for (const Json& e : data->Find("data")->as_array()) {
    versions[{static_cast<int>(e.Find("client")->as_int()),
              static_cast<int>(e.Find("seq")->as_int())}] =
        static_cast<uint64_t>(e.Find("_version")->as_int());
  }
  size_t applied_twice = 0, missing = 0;
  for (const auto& [k, v] : acked) {
    auto it = rows.find(k);
    if (it == rows.end()) {
      ++missing;
      ADD_FAILURE() << "acknowledged batch " << k.first << "/" << k.second << " is missing";
      continue;
    }
    if (it->second != 3) {
      ++applied_twice;
      ADD_FAILURE() << "batch " << k.first << "/" << k.second << " has " << it->second << " rows";
    }
    EXPECT_EQ(versions[k], v) << "batch " << k.first << "/" << k.second
                              << " was acknowledged with another version than it has";
  }
  std::printf("%zu acknowledged batches over %d kills: %zu missing, %zu applied twice\n",
              acked.size(), kKills, missing, applied_twice);
  auto check = (*db)->Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

}  // namespace
}  // namespace ormdb
