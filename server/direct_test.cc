// The direct transport (ormdb://): the same requests and answers as over
// nng, served beside it or alone; a peer that does not greet, a frame over
// the limit, or a client that leaves mid-watch never costs the server
// more than that connection; a client redials and resends across a restart
// and the write is applied once. A frame is read whole however it arrives:
// two requests in one segment, a request or reply longer than the first
// read; a reply that does not come times out when the call's time is up.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "protocol/direct_transport.h"
#include "server/server_test_util.h"

namespace ormdb::server {
namespace {

using namespace ::ormdb::server::test;

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = milliseconds(10000)) {
  auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

uint16_t PortOf(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

const std::string kGreeting("ORMDB\0\0\1", 8);

// A TCP socket speaking the direct transport's framing by hand.
class RawDirect {
 public:
  explicit RawDirect(const std::string& url, bool greet = true) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(PortOf(url));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (greet) {
      Send(kGreeting);
      EXPECT_EQ(Read(8, 5000), kGreeting);
    }
  }
  ~RawDirect() {
    if (fd_ >= 0) close(fd_);
  }
  void Send(std::string_view bytes) {
    EXPECT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void SendLength(uint64_t n) {
    std::string len(8, '\0');
    for (int i = 7; i >= 0; --i, n >>= 8) len[i] = static_cast<char>(n & 0xff);
    Send(len);
  }
  void SendFrame(std::string_view frame) {
    SendLength(frame.size());
    Send(frame);
  }
  // Up to `n` bytes within `ms`; fewer when the peer closed.
  std::string Read(size_t n, int ms) {
    std::string out;
    auto deadline = Clock::now() + milliseconds(ms);
    while (out.size() < n) {
      int left = static_cast<int>(
          std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count());
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, left) <= 0) break;
      char buf[65536];
      ssize_t r = recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }
  std::optional<std::string> Reply(int ms = 5000) {
    std::string len = Read(8, ms);
    if (len.size() != 8) return std::nullopt;
    uint64_t n = 0;
    for (char c : len) n = (n << 8) | static_cast<uint8_t>(c);
    std::string body = Read(n, ms);
    if (body.size() != n) return std::nullopt;
    return body;
  }
  // Whether the server closed the connection within `ms`.
  bool Closed(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char c;
    return recv(fd_, &c, 1, MSG_DONTWAIT) == 0 || (p.revents & (POLLHUP | POLLERR));
  }

 private:
  int fd_ = -1;
};

class DirectTest : public ServedTest {
 protected:
  void StartDirect(ServerOptions o = {}, int extra_rows = 0, size_t body_len = 0) {
    o.listen = "ormdb://127.0.0.1:0";
    Start(o, extra_rows, body_len);
  }
};

TEST_F(DirectTest, ServesAloneWithTheSameAnswers) {
  ASSERT_NO_FATAL_FAILURE(StartDirect());
  EXPECT_EQ(server_->url().rfind("ormdb://127.0.0.1:", 0), 0u) << server_->url();
  EXPECT_EQ(server_->direct_url(), server_->url());
  ExpectServing(server_->url(), expected_);
  auto db = Connect();
  ASSERT_TRUE(db);
  auto w = db->Mutate(Batch({InsertOp("direct", 1, "x")}));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(CountTag(*db, "direct"), 1u);
  // Replies are read in place: the frames arrive 8-aligned.
  EXPECT_GT(server_->stats().frames, 0u);
  EXPECT_EQ(server_->stats().unaligned_copies, 0u);
}

TEST_F(DirectTest, ServesBesideNngOnTheSameDatabase) {
  ServerOptions o;
  o.listen_direct = "ormdb://127.0.0.1:0";
  ASSERT_NO_FATAL_FAILURE(Start(o));
  ASSERT_EQ(server_->url().rfind("tcp://", 0), 0u);
  ASSERT_EQ(server_->direct_url().rfind("ormdb://", 0), 0u);
  auto over_nng = Database::Connect(server_->url(), Quick());
  auto over_direct = Database::Connect(server_->direct_url(), Quick());
  ASSERT_TRUE(over_nng.ok() && over_direct.ok());
  ASSERT_TRUE((*over_nng)->Mutate(Batch({InsertOp("both", 1, "a")})).ok());
  ASSERT_TRUE((*over_direct)->Mutate(Batch({InsertOp("both", 2, "b")})).ok());
  EXPECT_EQ(CountTag(**over_direct, "both"), 2u);
  EXPECT_EQ(CountTag(**over_nng, "both"), 2u);
  EXPECT_EQ((*over_nng)->CurrentVersion(), (*over_direct)->CurrentVersion());
  EXPECT_EQ(server_->stats().connections, 2u);
}

TEST_F(DirectTest, ListenRulesApply) {
  LoadProbeData(dir_.path());
  for (const char* bad : {"ormdb://0.0.0.0:0", "ormdb://127.0.0.1", "tcp://127.0.0.1:0"}) {
    ServerOptions o;
    o.listen_direct = bad;
    auto s = Serve(dir_.path(), o);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument)
        << bad << ": " << s.status().ToString();
  }
  // The port is taken: UNAVAILABLE, as for nng.
  ServerOptions first;
  first.listen = "ormdb://127.0.0.1:0";
  auto a = Serve(dir_.path(), first);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::string taken = (*a)->url();
  (*a)->Stop();
  a->reset();
  TempDir other;
  LoadProbeData(other.path());
  ServerOptions holder;
  holder.listen = taken;
  auto b = Serve(other.path(), holder);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  TempDir third;
  LoadProbeData(third.path());
  auto c = Serve(third.path(), holder);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnavailable) << c.status().ToString();
}

TEST_F(DirectTest, APeerThatDoesNotGreetIsClosed) {
  ASSERT_NO_FATAL_FAILURE(StartDirect());
  RawDirect http(server_->url(), /*greet=*/false);
  http.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(http.Closed(5000));
  ExpectServing(server_->url(), expected_);
}

TEST_F(DirectTest, AFrameOverTheLimitClosesItsConnectionOnly) {
  ServerOptions o;
  o.max_request_frame_bytes = 64 * 1024;
  ASSERT_NO_FATAL_FAILURE(StartDirect(o));
  RawDirect raw(server_->url());
  raw.SendLength(uint64_t{1} << 40);  // nothing follows, and nothing is allocated
  EXPECT_TRUE(raw.Closed(5000));
  ExpectServing(server_->url(), expected_);
}

TEST_F(DirectTest, MalformedFramesGetErrorsAndTheConnectionServesOn) {
  ASSERT_NO_FATAL_FAILURE(StartDirect());
  RawDirect raw(server_->url());
  raw.SendFrame("not a frame at all");
  auto reply = raw.Reply();
  ASSERT_TRUE(reply.has_value());
  Decoded d = Decode(*reply);
  EXPECT_TRUE(d.valid && d.is_error && d.code == static_cast<uint16_t>(ErrorCode::kInvalidArgument))
      << Describe(d);
  raw.SendFrame(FetchFrame(kProbeQuery));
  reply = raw.Reply();
  ASSERT_TRUE(reply.has_value());
  d = Decode(*reply);
  EXPECT_TRUE(d.valid && !d.is_error) << Describe(d);
}

TEST_F(DirectTest, TwoRequestsSentTogetherAreAnsweredInTurn) {
  ASSERT_NO_FATAL_FAILURE(StartDirect());
  RawDirect raw(server_->url());
  // One send: the server's first read takes both frames, and the second
  // waits for its turn after the first reply.
  const std::string frame = FetchFrame(kProbeQuery);
  std::string both;
  for (int i = 0; i < 2; ++i) {
    std::string len(8, '\0');
    uint64_t n = frame.size();
    for (int b = 7; b >= 0; --b, n >>= 8) len[b] = static_cast<char>(n & 0xff);
    both += len + frame;
  }
  raw.Send(both);
  for (int i = 0; i < 2; ++i) {
    auto reply = raw.Reply();
    ASSERT_TRUE(reply.has_value()) << "reply " << i;
    Decoded d = Decode(*reply);
    EXPECT_TRUE(d.valid && !d.is_error) << Describe(d);
  }
}

TEST_F(DirectTest, RequestsAndRepliesLongerThanTheFirstReadArriveWhole) {
  // 40 rows of 1,000-byte bodies: a reply of about 40 KB, read in more than
  // one receive; a 20,000-byte parameter makes the request as long.
  ASSERT_NO_FATAL_FAILURE(StartDirect({}, 40, 1000));
  auto db = Connect();
  ASSERT_TRUE(db);
  auto big = db->Fetch(R"(Item(where: tag == "big", order: [n asc]) { n, body })");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  ASSERT_EQ((*big)->roots().size(), 40u);
  for (int i = 0; i < 40; ++i) {
    std::string body = "big-" + std::to_string(i) + "-";
    while (body.size() < 1000) body += static_cast<char>('a' + (body.size() * 7 + i) % 26);
    auto got = (*big)->roots()[i].Get("body");
    ASSERT_TRUE(got.has_value()) << i;
    EXPECT_EQ(got->string_value, body) << i;
  }
  const std::string long_tag(20000, 'q');
  auto none = db->Fetch("Item(where: tag == $t) { n }", "{\"t\": \"" + long_tag + "\"}");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE((*none)->roots().empty());
  auto probe = db->Fetch(kProbeQuery);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ((*probe)->ToJson(), expected_);
}

TEST(DirectClientTest, AReplyThatDoesNotComeTimesOutWhenTheCallsTimeIsUp) {
  // A peer that greets and then never answers, or answers in part.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  std::atomic<bool> done{false};
  std::thread peer([&] {
    std::vector<int> conns;
    while (!done) {
      pollfd p{listener, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept(listener, nullptr, nullptr);
      if (c < 0) continue;
      char greeting[8];
      if (recv(c, greeting, 8, MSG_WAITALL) == 8) send(c, greeting, 8, MSG_NOSIGNAL);
      conns.push_back(c);
      if (conns.size() < 3) continue;  // the first two: answer nothing
      // The third: 250 ms after the request, the start of a long reply
      // (more than the client's first read), then nothing.
      char request[64];
      if (recv(c, request, sizeof request, 0) <= 0) continue;
      std::this_thread::sleep_for(milliseconds(250));
      std::string part(8, '\0');
      part[5] = 0x01;  // a length of 65,536 + 34,464 = 100,000 bytes
      part[6] = static_cast<char>(0x86);
      part[7] = static_cast<char>(0xa0);
      part += std::string(9000, 'x');
      send(c, part.data(), part.size(), MSG_NOSIGNAL);
    }
    for (int c : conns) close(c);
  });
  protocol::ConnectionOptions o;
  o.url = "ormdb://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto conn = protocol::DialDirect(o);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  for (int ms : {300, 150}) {
    auto request = protocol::Message::Copy(std::vector<uint8_t>(64, 7));
    ASSERT_TRUE(request.ok());
    auto start = Clock::now();
    auto reply = (*conn)->RoundTrip(std::move(*request), milliseconds(ms));
    auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.status().code(), ErrorCode::kUnavailable) << reply.status().ToString();
    EXPECT_NE(reply.status().message().find("no reply"), std::string::npos)
        << reply.status().ToString();
    EXPECT_GE(took, ms - 5) << "returned before the call's time was up";
    EXPECT_LT(took, ms + 3000);
  }
  {
    // A reply that stops coming after its first piece: the wait for the
    // rest ends with the call's time, not a whole timeout after the piece.
    auto request = protocol::Message::Copy(std::vector<uint8_t>(64, 7));
    ASSERT_TRUE(request.ok());
    auto start = Clock::now();
    auto reply = (*conn)->RoundTrip(std::move(*request), milliseconds(400));
    auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.status().message().find("no reply"), std::string::npos)
        << reply.status().ToString();
    EXPECT_GE(took, 395);
    EXPECT_LT(took, 560) << "waited a whole timeout again after the reply's first piece";
  }
  done = true;
  peer.join();
  close(listener);
}

TEST_F(DirectTest, AClientThatLeavesMidWatchEndsItsWatch) {
  ServerOptions o;
  o.max_watch_wait_ms = 60000;
  ASSERT_NO_FATAL_FAILURE(StartDirect(o));
  auto db = Connect();
  ASSERT_TRUE(db);
  {
    capnp::MallocMessageBuilder b;
    auto w = InitRequest(b, 7, 1).initWatch();
    w.setFrom(db->CurrentVersion());
    w.setHasFrom(true);
    w.setWaitMillis(60000);
    RawDirect raw(server_->url());
    raw.SendFrame(FrameOf(b));
    ASSERT_TRUE(Eventually([&] { return server_->stats().waiting_watches == 1; }));
  }  // hangs up
  EXPECT_TRUE(Eventually([&] { return server_->stats().waiting_watches == 0; }))
      << "waiting: " << server_->stats().waiting_watches;
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 1; }))
      << "connections: " << server_->stats().connections;
  ExpectServing(server_->url(), expected_);
}

TEST_F(DirectTest, AWatchWakesOnACommit) {
  ASSERT_NO_FATAL_FAILURE(StartDirect());
  auto watcher = Connect();
  auto writer = Connect();
  ASSERT_TRUE(watcher && writer);
  WatchOptions wo;
  wo.from = watcher->CurrentVersion();
  wo.wait = milliseconds(20000);
  std::thread write([&] {
    std::this_thread::sleep_for(milliseconds(200));
    EXPECT_TRUE(writer->Mutate(Batch({InsertOp("woke", 1, "w")})).ok());
  });
  auto start = Clock::now();
  auto batch = watcher->Watch(wo);
  write.join();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_FALSE(batch->events.empty());
  EXPECT_LT(Clock::now() - start, milliseconds(15000));
}

TEST_F(DirectTest, ConnectionsAreCapped) {
  ServerOptions o;
  o.max_connections = 3;
  ASSERT_NO_FATAL_FAILURE(StartDirect(o));
  std::vector<std::unique_ptr<RawDirect>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawDirect>(server_->url()));
  RawDirect extra(server_->url(), /*greet=*/false);
  EXPECT_TRUE(extra.Closed(5000));
  EXPECT_GE(server_->stats().connections_refused, 1u);
  held.clear();
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 0; }));
  ExpectServing(server_->url(), expected_);
}

// The client redials a restarted server and resends the call in flight;
// the write is applied once (its request key is recorded with it).
TEST_F(DirectTest, AResendAfterARestartIsAppliedOnce) {
  ASSERT_NO_FATAL_FAILURE(StartDirect());
  std::string url = server_->url();
  auto db = Database::Connect(url, Quick());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Mutate(Batch({InsertOp("restart", 1, "a")})).ok());
  server_->Stop();
  server_.reset();
  std::thread restart([&] {
    std::this_thread::sleep_for(milliseconds(300));
    ServerOptions o;
    o.listen = url;
    auto s = Serve(dir_.path(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  });
  WriteOptions once;
  once.request_key = "restart-2";
  auto w = (*db)->Mutate(Batch({InsertOp("restart", 2, "b")}), once);
  restart.join();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // Sent again with the same key: the recorded outcome, not a second row.
  auto again = (*db)->Mutate(Batch({InsertOp("restart", 2, "b")}), once);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->version, w->version);
  EXPECT_EQ(CountTag(**db, "restart"), 2u);
}

}  // namespace
}  // namespace ormdb::server
