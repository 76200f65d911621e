// Helpers of the server tests: a raw REQ socket, frames built by hand,
// reply decoding, the probe data every "still serving" check reads, and a
// fixture that serves a fresh data directory.
#pragma once
#include "server/server.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"
#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "storage/test_util.h"

extern char** environ;

namespace ormdb::server::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using storage::testing::TempDir;

constexpr const char* kSchema = R"(
entity Item {
  id: id
  tag: string @index
  n: int64
  body: string
}
)";

// The query every "is the server still serving" check runs.
constexpr const char* kProbeQuery =
    R"(Item(where: tag == "probe", order: [n asc]) { tag, n, body })";
constexpr int kProbeRows = 20;

// ---------------------------------------------------------------------------
// Helpers

inline size_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  ADD_FAILURE() << "no VmRSS in /proc/self/status";
  return 0;
}

// Aborts the process (the test fails, with a message) when the scope is not
// left within `limit`: a deadlock fails rather than hangs.
class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::string what)
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr,
                         "WATCHDOG: %s did not finish within %lld s (a deadlock, e.g. a hang "
                         "in nng_close); failing the test binary\n",
                         what_.c_str(), static_cast<long long>(limit.count()));
            std::fflush(stderr);
            std::_Exit(1);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::string what_;
  std::thread thread_;
};



inline std::string InsertOp(std::string_view tag, int64_t n, std::string_view body) {
  return R"({"op": "insert", "entity": "Item", "values": {"tag": ")" + std::string(tag) +
         R"(", "n": )" + std::to_string(n) + R"(, "body": ")" + std::string(body) + R"("}})";
}

inline std::string Batch(const std::vector<std::string>& ops) {
  std::string out = R"({"ops": [)";
  for (size_t i = 0; i < ops.size(); ++i) out += (i ? ", " : "") + ops[i];
  return out + "]}";
}

inline std::string ProbeBody(int n) { return "probe-body-" + std::to_string(n); }

// Creates the schema and the probe rows in `dir` (embedded); returns the
// probe query's JSON.
inline std::string LoadProbeData(const std::string& dir, int extra_rows = 0, size_t body_len = 0) {
  auto db = Database::Open(dir);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return "";
  auto applied = (*db)->ApplySchema(kSchema);
  EXPECT_TRUE(applied.ok()) << applied.status().ToString();
  std::vector<std::string> ops;
  for (int i = 0; i < kProbeRows; ++i) ops.push_back(InsertOp("probe", i, ProbeBody(i)));
  auto m = (*db)->Mutate(Batch(ops));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (extra_rows > 0) {
    ops.clear();
    for (int i = 0; i < extra_rows; ++i) {
      std::string body = "big-" + std::to_string(i) + "-";
      while (body.size() < body_len) body += static_cast<char>('a' + (body.size() * 7 + i) % 26);
      ops.push_back(InsertOp("big", i, body));
    }
    auto big = (*db)->Mutate(Batch(ops));
    EXPECT_TRUE(big.ok()) << big.status().ToString();
  }
  auto r = (*db)->Fetch(kProbeQuery);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)->ToJson() : "";
}

inline Result<std::unique_ptr<Server>> Serve(const std::string& dir, ServerOptions o = {}) {
  if (o.listen == ServerOptions{}.listen) o.listen = "tcp://127.0.0.1:0";
  ORMDB_ASSIGN_OR_RETURN(auto db, db::Engine::Open(dir));
  return Server::Start(std::move(db), o);
}

inline ConnectOptions Quick(std::string key = "") {
  ConnectOptions o;
  o.key = std::move(key);
  o.request_timeout = milliseconds(10000);
  return o;
}

// A fetch result's JSON without its leading "version".
inline std::string WithoutVersion(const std::string& json) {
  const std::string prefix = "{\"version\":";
  if (json.rfind(prefix, 0) != 0) return json;
  size_t comma = json.find(',');
  return comma == std::string::npos ? json : "{" + json.substr(comma + 1);
}

// A fresh remote client runs the probe query: the server still serves, and
// correctly.
inline void ExpectServing(const std::string& url, const std::string& expected_json,
                   const std::string& key = "") {
  auto remote = Database::Connect(url, Quick(key));
  ASSERT_TRUE(remote.ok()) << "the server stopped serving: " << remote.status().ToString();
  auto r = (*remote)->Fetch(kProbeQuery);
  ASSERT_TRUE(r.ok()) << "the server stopped serving: " << r.status().ToString();
  // The probe rows never change; other rows (and so the version) may.
  EXPECT_EQ(WithoutVersion((*r)->ToJson()), WithoutVersion(expected_json));
}

inline size_t CountTag(Database& db, std::string_view tag) {
  auto r = db.Fetch("Item(where: tag == $tag) { n }", R"({"tag": ")" + std::string(tag) + "\"}");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)->roots().size() : 0;
}

// --- Frames by hand ---

inline std::string Header(uint8_t version = protocol::kProtocolVersion) {
  return std::string{'O', 'R', static_cast<char>(version), '\0'};
}

inline std::string FrameOf(capnp::MessageBuilder& b, uint8_t version = protocol::kProtocolVersion) {
  auto words = capnp::messageToFlatArray(b);
  auto bytes = words.asBytes();
  return Header(version) + std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// A frame of raw little-endian words behind a valid header.
inline std::string WordsFrame(const std::vector<uint64_t>& words) {
  std::string out = Header();
  for (uint64_t w : words) out.append(reinterpret_cast<const char*>(&w), 8);
  return out;
}

// Cap'n Proto pointers (encoding spec): offsets in words from the end of
// the pointer.
inline uint64_t StructPtr(int32_t offset, uint16_t data_words, uint16_t ptr_words) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(offset) << 2)) |
         (uint64_t{data_words} << 32) | (uint64_t{ptr_words} << 48);
}
inline uint64_t ListPtr(int32_t offset, unsigned elem_size, uint32_t count) {
  return 1 | (static_cast<uint64_t>(static_cast<uint32_t>(offset) << 2)) |
         (uint64_t{elem_size} << 32) | (uint64_t{count} << 35);
}
inline uint64_t FarPtr(uint32_t segment, uint32_t offset) {
  return 2 | (uint64_t{offset} << 3) | (uint64_t{segment} << 32);
}
// The segment table of a one-segment message of `words` words.
inline uint64_t OneSegment(uint32_t words) { return uint64_t{words} << 32; }

// A Request (3 data words, 2 pointers) as the first struct of a
// one-segment message: word 0 the root pointer, words 1..3 client, id and
// the union tag, word 4 the key, word 5 the union's pointer. `rest` follows
// at segment word 6.
inline std::vector<uint64_t> RequestWords(uint16_t tag, uint64_t union_ptr,
                                   const std::vector<uint64_t>& rest, uint64_t id = 1) {
  std::vector<uint64_t> seg = {StructPtr(0, 3, 2), 42, id, tag, 0, union_ptr};
  seg.insert(seg.end(), rest.begin(), rest.end());
  std::vector<uint64_t> out = {OneSegment(static_cast<uint32_t>(seg.size()))};
  out.insert(out.end(), seg.begin(), seg.end());
  return out;
}
// Union tags of Request (capnp compile -ocapnp protocol/ormdb.capnp).
inline constexpr uint16_t kTagFetch = 1, kTagMutate = 3, kTagWatch = 8;

inline wire::Request::Builder InitRequest(capnp::MessageBuilder& b, uint64_t client, uint64_t id,
                                   std::string_view key = "") {
  auto req = b.initRoot<wire::Request>();
  req.setClient(client);
  req.setId(id);
  if (!key.empty()) req.setKey(capnp::Text::Reader(key.data(), key.size()));
  return req;
}

inline std::string FetchFrame(std::string_view query, std::string_view params = "{}", uint64_t client = 1,
                       uint64_t id = 1, std::string_view key = "") {
  capnp::MallocMessageBuilder b;
  auto f = InitRequest(b, client, id, key).initFetch();
  f.setQuery(capnp::Text::Reader(query.data(), query.size()));
  f.setParams(capnp::Text::Reader(params.data(), params.size()));
  f.initOptions();
  return FrameOf(b);
}

inline std::string MutateFrame(std::string_view json, uint64_t client, uint64_t id,
                        std::string_view key = "") {
  capnp::MallocMessageBuilder b;
  InitRequest(b, client, id, key).setMutate(capnp::Text::Reader(json.data(), json.size()));
  return FrameOf(b);
}

inline std::string MoreFrame(uint64_t handle, uint64_t offset, uint64_t client = 1, uint64_t id = 1,
                      std::string_view key = "") {
  capnp::MallocMessageBuilder b;
  auto m = InitRequest(b, client, id, key).initMore();
  m.setHandle(handle);
  m.setOffset(offset);
  return FrameOf(b);
}

inline std::string HelloFrame(uint16_t min, uint16_t max) {
  capnp::MallocMessageBuilder b;
  auto h = InitRequest(b, 1, 1).initHello();
  h.setMinVersion(min);
  h.setMaxVersion(max);
  h.setClientName("server_test");
  return FrameOf(b);
}

inline std::string WatchFrame(uint64_t from) {
  capnp::MallocMessageBuilder b;
  auto w = InitRequest(b, 1, 1).initWatch();
  w.setFrom(from);
  w.setHasFrom(true);
  w.setWaitMillis(0);
  return FrameOf(b);
}

// --- A raw REQ socket ---

class RawClient {
 public:
  explicit RawClient(const std::string& url, int recv_timeout_ms = 5000) {
    EXPECT_EQ(nng_req0_open(&sock_), 0);
    nng_socket_set_ms(sock_, NNG_OPT_RECVTIMEO, recv_timeout_ms);
    nng_socket_set_ms(sock_, NNG_OPT_SENDTIMEO, 5000);
    nng_socket_set_size(sock_, NNG_OPT_RECVMAXSZ, size_t{1} << 30);
    int rv = nng_dial(sock_, url.c_str(), nullptr, 0);
    EXPECT_EQ(rv, 0) << "dial " << url << ": " << nng_strerror(rv);
  }
  // Bounded: see protocol::CloseSocket (nng 1.5.2 can wedge its reaper).
  ~RawClient() { protocol::CloseSocket(sock_, std::chrono::seconds(5)); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends `frame`; the reply's bytes, or nullopt when none came (timeout or
  // closed pipe; the nng error in *rv_out).
  std::optional<std::string> Call(std::string_view frame, int* rv_out = nullptr) {
    nng_msg* msg = nullptr;
    int rv = nng_msg_alloc(&msg, frame.size());
    EXPECT_EQ(rv, 0);
    if (rv != 0) return std::nullopt;
    if (!frame.empty()) std::memcpy(nng_msg_body(msg), frame.data(), frame.size());
    rv = nng_sendmsg(sock_, msg, 0);
    if (rv != 0) {
      nng_msg_free(msg);
      if (rv_out) *rv_out = rv;
      return std::nullopt;
    }
    nng_msg* reply = nullptr;
    rv = nng_recvmsg(sock_, &reply, 0);
    if (rv_out) *rv_out = rv;
    if (rv != 0) return std::nullopt;
    std::string out(static_cast<const char*>(nng_msg_body(reply)), nng_msg_len(reply));
    nng_msg_free(reply);
    return out;
  }

 private:
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
};

// A reply frame, decoded.
struct Decoded {
  bool valid = false;  // a well-formed reply frame of this protocol version
  std::string problem;
  uint64_t id = 0;
  wire::Reply::Which which = wire::Reply::ERROR;
  bool is_error = false;
  uint16_t code = 0;
  std::string message;
  // chunk
  uint64_t handle = 0, offset = 0, total = 0;
  std::string data;
  // mutate / hello
  uint64_t version = 0;
  uint16_t hello_version = 0;
};

inline Decoded Decode(const std::string& frame) {
  Decoded d;
  if (frame.size() < 4 || frame[0] != 'O' || frame[1] != 'R') {
    d.problem = "not an ormdb frame";
    return d;
  }
  if (static_cast<uint8_t>(frame[2]) != protocol::kProtocolVersion) {
    d.problem = "reply of protocol version " + std::to_string(static_cast<uint8_t>(frame[2]));
    return d;
  }
  size_t payload = frame.size() - 4;
  if (payload == 0 || payload % 8 != 0) {
    d.problem = "reply payload of " + std::to_string(payload) + " bytes";
    return d;
  }
  auto words = kj::heapArray<capnp::word>(payload / 8);
  std::memcpy(words.begin(), frame.data() + 4, payload);
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kj::maxValue;
  try {
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    auto reply = reader.getRoot<wire::Reply>();
    d.id = reply.getId();
    d.which = reply.which();
    switch (reply.which()) {
      case wire::Reply::ERROR:
        d.is_error = true;
        d.code = reply.getError().getCode();
        d.message = reply.getError().getMessage();
        break;
      case wire::Reply::CHUNK: {
        auto c = reply.getChunk();
        d.handle = c.getHandle();
        d.offset = c.getOffset();
        d.total = c.getTotal();
        d.data.assign(reinterpret_cast<const char*>(c.getData().begin()), c.getData().size());
        break;
      }
      case wire::Reply::MUTATE:
        d.version = reply.getMutate().getVersion();
        break;
      case wire::Reply::HELLO:
        d.hello_version = reply.getHello().getVersion();
        d.version = reply.getHello().getCurrentVersion();
        break;
      default:
        break;
    }
  } catch (const kj::Exception& e) {
    d.problem = std::string("malformed reply: ") + e.getDescription().cStr();
    return d;
  }
  d.valid = true;
  return d;
}

inline std::string Describe(const Decoded& d) {
  if (!d.valid) return "invalid reply (" + d.problem + ")";
  if (d.is_error) {
    return "error " + std::string(ErrorCodeName(static_cast<ErrorCode>(d.code))) + ": " + d.message;
  }
  return "reply kind " + std::to_string(static_cast<int>(d.which));
}

// `frame` is answered with an error frame of `code` (whose message contains
// `contains`). Returns the decoded reply.
inline Decoded ExpectError(RawClient& c, const std::string& frame, ErrorCode code,
                    std::string_view contains = "", std::string_view what = "") {
  int rv = 0;
  auto reply = c.Call(frame, &rv);
  if (!reply) {
    ADD_FAILURE() << what << ": no reply (" << nng_strerror(rv) << ")";
    return {};
  }
  Decoded d = Decode(*reply);
  // SERVER_TEST_VERBOSE=1 prints every case's answer.
  if (std::getenv("SERVER_TEST_VERBOSE")) {
    std::printf("  %s -> %s\n", std::string(what).c_str(), Describe(d).c_str());
  }
  EXPECT_TRUE(d.valid && d.is_error && d.code == static_cast<uint16_t>(code))
      << what << ": expected " << ErrorCodeName(code) << ", got " << Describe(d);
  if (!contains.empty()) {
    EXPECT_NE(d.message.find(contains), std::string::npos)
        << what << ": message '" << d.message << "' lacks '" << contains << "'";
  }
  return d;
}

class ServedTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}, int extra_rows = 0, size_t body_len = 0) {
    expected_ = LoadProbeData(dir_.path(), extra_rows, body_len);
    auto s = Serve(dir_.path(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  std::unique_ptr<Database> Connect() {
    auto r = Database::Connect(server_->url(), Quick());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }
  TempDir dir_;
  std::string expected_;
  std::unique_ptr<Server> server_;
};

}  // namespace ormdb::server::test
