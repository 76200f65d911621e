// What one client can hold in the server, and that nobody else pays for it:
// long-poll watches that hold no request context and end when their client
// leaves; large results parked per principal, evicted oldest first, bound
// to who asked and to their connection; requests larger than a frame
// uploaded in authenticated pieces; connections capped; resends recognized
// only after authentication and only for the same principal. Each counter
// the server reports in stats is checked back to zero when the client is
// gone.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "server/server_test_util.h"

namespace ormdb::server {
namespace {

using namespace ::ormdb::server::test;

const std::string kReaderKey = "reader-key-0123456789";
const std::string kWriterKey = "writer-key-0123456789";
const std::string kOtherWriterKey = "other-writer-key-0123456789";
const std::string kAdminKey2 = "admin-key-0123456789ab";

std::vector<ApiKey> Keys() {
  return {ApiKey{kReaderKey, "reader", {"read"}}, ApiKey{kWriterKey, "writer", {"write"}},
          ApiKey{kOtherWriterKey, "other", {"write"}}, ApiKey{kAdminKey2, "admin", {"admin"}}};
}

// Polls `pred` until it holds or `limit` passes; returns whether it held.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = milliseconds(10000)) {
  auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

std::string WaitingWatchFrame(uint64_t from, uint32_t wait_ms, std::string_view key = "",
                              uint64_t client = 1, uint64_t id = 1) {
  capnp::MallocMessageBuilder b;
  auto w = InitRequest(b, client, id, key).initWatch();
  w.setFrom(from);
  w.setHasFrom(true);
  w.setWaitMillis(wait_ms);
  return FrameOf(b);
}

std::string UploadFrame(uint64_t handle, uint64_t offset, uint64_t total, std::string_view data,
                        std::string_view key = "", uint64_t client = 1, uint64_t id = 1) {
  capnp::MallocMessageBuilder b;
  auto u = InitRequest(b, client, id, key).initUpload();
  u.setHandle(handle);
  u.setOffset(offset);
  u.setTotal(total);
  u.setData(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
  return FrameOf(b);
}

// Sends `frame` on a fresh connection and closes it without reading the
// reply: a client that went away mid-request.
void SendAndHangUp(const std::string& url, const std::string& frame) {
  nng_socket sock;
  ASSERT_EQ(nng_req0_open(&sock), 0);
  ASSERT_EQ(nng_dial(sock, url.c_str(), nullptr, 0), 0);
  nng_msg* msg = nullptr;
  ASSERT_EQ(nng_msg_alloc(&msg, frame.size()), 0);
  std::memcpy(nng_msg_body(msg), frame.data(), frame.size());
  ASSERT_EQ(nng_sendmsg(sock, msg, 0), 0);
  std::this_thread::sleep_for(milliseconds(100));  // let it arrive
  protocol::CloseSocket(sock, std::chrono::seconds(5));
}

class LimitsTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o, int big_rows = 0) {
    expected_ = LoadProbeData(dir_.path(), big_rows, 300);
    auto s = Serve(dir_.path(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  std::unique_ptr<Database> Connect(const std::string& key = "", int timeout_ms = 10000) {
    ConnectOptions c = Quick(key);
    c.request_timeout = milliseconds(timeout_ms);
    auto r = Database::Connect(server_->url(), c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }
  TempDir dir_;
  std::string expected_;
  std::unique_ptr<Server> server_;
};

// ---------------------------------------------------------------------------
// Watches

TEST_F(LimitsTest, WaitingWatchesHoldNoRequestContexts) {
  ServerOptions o;
  o.contexts = 4;
  o.max_watch_wait_ms = 30000;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  const int kWatchers = 40;  // ten times the contexts
  auto first = Connect();
  ASSERT_TRUE(first);
  const uint64_t from = first->CurrentVersion();
  std::vector<std::unique_ptr<Database>> clients;
  for (int i = 0; i < kWatchers; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back());
  }
  std::vector<Result<WatchBatch>> got(kWatchers, Result<WatchBatch>(WatchBatch{}));
  std::vector<std::thread> threads;
  for (int i = 0; i < kWatchers; ++i) {
    threads.emplace_back([&, i] {
      WatchOptions w;
      w.from = from;
      w.wait = milliseconds(25000);
      w.entities = {"Item"};
      got[i] = clients[i]->Watch(w);
    });
  }
  ASSERT_TRUE(Eventually([&] { return server_->stats().waiting_watches == kWatchers; }))
      << "waiting: " << server_->stats().waiting_watches;
  EXPECT_EQ(server_->stats().receiving_contexts, 4u);
  // Everyone else is still served, at once: a new connection's hello and a
  // fetch, with a short timeout.
  auto other = Connect("", 3000);
  ASSERT_TRUE(other);
  auto r = other->Fetch(kProbeQuery);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(WithoutVersion((*r)->ToJson()), WithoutVersion(expected_));
  // One commit wakes every watch with its event.
  auto m = other->Mutate(Batch({InsertOp("wake", 1, "up")}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (auto& t : threads) t.join();
  for (int i = 0; i < kWatchers; ++i) {
    ASSERT_TRUE(got[i].ok()) << "watch " << i << ": " << got[i].status().ToString();
    ASSERT_EQ(got[i]->events.size(), 1u) << "watch " << i;
    EXPECT_EQ(got[i]->token, m->version);
  }
  EXPECT_EQ(server_->stats().waiting_watches, 0u);
  EXPECT_EQ(server_->stats().receiving_contexts, 4u);
}

TEST_F(LimitsTest, WatchesOfOtherEntitiesKeepWaitingAndEndAtTheirDeadline) {
  ServerOptions o;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  auto db = Connect();
  ASSERT_TRUE(db);
  const uint64_t from = db->CurrentVersion();
  auto watcher = Connect();
  Result<WatchBatch> got = WatchBatch{};
  std::thread t([&] {
    WatchOptions w;
    w.from = from;
    w.wait = milliseconds(1500);
    w.entities = {"NoSuchEntityYet"};  // SCHEMA_ERROR: answered at once
    got = watcher->Watch(w);
  });
  t.join();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kSchemaError);
  // A filtered watch: a commit it does not want re-parks it; its deadline
  // ends it with no events and the newest token.
  ASSERT_TRUE(db->ApplySchema(std::string(kSchema) + "\nentity Other { id: id }\n").ok());
  const uint64_t v0 = db->CurrentVersion();
  std::thread t2([&] {
    WatchOptions w;
    w.from = v0;
    w.wait = milliseconds(1500);
    w.entities = {"Other"};
    got = watcher->Watch(w);
  });
  ASSERT_TRUE(Eventually([&] { return server_->stats().waiting_watches == 1; }));
  auto m = db->Mutate(Batch({InsertOp("not-other", 1, "x")}));
  ASSERT_TRUE(m.ok());
  t2.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->events.empty());
  EXPECT_EQ(got->token, m->version) << "the token moves past events the watch filtered out";
  EXPECT_EQ(server_->stats().waiting_watches, 0u);
}

TEST_F(LimitsTest, ADisconnectedClientsWatchEndsAtOnce) {
  ServerOptions o;
  o.contexts = 4;
  o.max_watch_wait_ms = 60000;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  auto db = Connect();
  ASSERT_TRUE(db);
  for (int i = 0; i < 6; ++i) {
    SendAndHangUp(server_->url(), WaitingWatchFrame(db->CurrentVersion(), 60000));
  }
  // Well before the 60 s wait: gone, with their contexts.
  EXPECT_TRUE(Eventually([&] { return server_->stats().waiting_watches == 0; }))
      << "waiting: " << server_->stats().waiting_watches;
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 1; }))
      << "connections: " << server_->stats().connections;
  EXPECT_EQ(server_->stats().receiving_contexts, 4u);
  ExpectServing(server_->url(), expected_);
}

TEST_F(LimitsTest, WatchesAreCappedPerPrincipal) {
  ServerOptions o;
  o.keys = Keys();
  o.max_watches_per_principal = 2;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  auto admin = Connect(kAdminKey2);
  ASSERT_TRUE(admin);
  const uint64_t from = admin->CurrentVersion();
  std::vector<std::unique_ptr<RawClient>> raw;
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    raw.push_back(std::make_unique<RawClient>(server_->url(), 20000));
    threads.emplace_back([&, i] {
      auto reply = raw[i]->Call(WaitingWatchFrame(from, 3000, kReaderKey, 10 + i, 1));
      EXPECT_TRUE(reply);
    });
  }
  ASSERT_TRUE(Eventually([&] { return server_->stats().waiting_watches == 2; }));
  RawClient third(server_->url());
  ExpectError(third, WaitingWatchFrame(from, 3000, kReaderKey, 99, 1),
              ErrorCode::kResourceExhausted, "too many watches");
  // Another principal is not affected.
  WatchOptions w;
  w.from = from;
  w.wait = milliseconds(0);
  auto mine = admin->Watch(w);
  EXPECT_TRUE(mine.ok()) << mine.status().ToString();
  for (auto& t : threads) t.join();
  EXPECT_EQ(server_->stats().waiting_watches, 0u);
}

// ---------------------------------------------------------------------------
// Large results

constexpr const char* kBig = R"(Item(where: tag == "big", order: [n asc]) { tag, n, body })";

TEST_F(LimitsTest, UnreadResultsCrowdOutOnlyTheirOwnPrincipal) {
  ServerOptions o;
  o.keys = Keys();
  o.max_frame_bytes = 8192;
  o.max_continuations_per_principal = 3;
  ASSERT_NO_FATAL_FAILURE(Start(o, 100));
  RawClient reader(server_->url());
  std::vector<uint64_t> handles;
  for (int i = 0; i < 10; ++i) {
    auto reply = reader.Call(FetchFrame(kBig, "{}", 1, i + 1, kReaderKey));
    ASSERT_TRUE(reply);
    Decoded d = Decode(*reply);
    ASSERT_TRUE(d.valid && d.which == wire::Reply::CHUNK) << Describe(d);
    handles.push_back(d.handle);
  }
  EXPECT_EQ(server_->stats().open_continuations, 3u);
  EXPECT_EQ(server_->stats().continuations_evicted, 7u);
  // The admin is not locked out.
  auto admin = Connect(kAdminKey2);
  ASSERT_TRUE(admin);
  auto r = admin->Fetch(kBig);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value()->roots().size(), 100u);
  // The reader's oldest are gone, its newest three still readable.
  ExpectError(reader, MoreFrame(handles[0], 100, 1, 50, kReaderKey), ErrorCode::kNotFound);
  for (int i = 7; i < 10; ++i) {
    auto more = reader.Call(MoreFrame(handles[i], 8, 1, 60 + i, kReaderKey));
    ASSERT_TRUE(more);
    Decoded d = Decode(*more);
    EXPECT_TRUE(d.valid && d.which == wire::Reply::CHUNK) << i << ": " << Describe(d);
  }
}

TEST_F(LimitsTest, ContinuationsAreBoundToTheirPrincipal) {
  ServerOptions o;
  o.keys = Keys();
  o.max_frame_bytes = 8192;
  ASSERT_NO_FATAL_FAILURE(Start(o, 100));
  RawClient c(server_->url());
  auto reply = c.Call(FetchFrame(kBig, "{}", 1, 1, kAdminKey2));
  ASSERT_TRUE(reply);
  Decoded d = Decode(*reply);
  ASSERT_TRUE(d.valid && d.which == wire::Reply::CHUNK) << Describe(d);
  // Another principal's pull looks exactly like an unknown handle.
  ExpectError(c, MoreFrame(d.handle, d.data.size(), 1, 2, kReaderKey), ErrorCode::kNotFound,
              "unknown");
  ExpectError(c, MoreFrame(d.handle, d.data.size(), 1, 3), ErrorCode::kUnauthenticated);
  auto mine = c.Call(MoreFrame(d.handle, d.data.size(), 1, 4, kAdminKey2));
  ASSERT_TRUE(mine);
  Decoded n = Decode(*mine);
  EXPECT_TRUE(n.valid && n.which == wire::Reply::CHUNK) << Describe(n);
  // Handles are not small or sequential numbers.
  EXPECT_GT(d.handle, uint64_t{1} << 20);
}

TEST_F(LimitsTest, AClosedConnectionsContinuationsAreDropped) {
  ServerOptions o;
  o.max_frame_bytes = 8192;
  ASSERT_NO_FATAL_FAILURE(Start(o, 100));
  {
    RawClient c(server_->url());
    auto reply = c.Call(FetchFrame(kBig));
    ASSERT_TRUE(reply);
    ASSERT_EQ(Decode(*reply).which, wire::Reply::CHUNK);
    EXPECT_EQ(server_->stats().open_continuations, 1u);
    EXPECT_GT(server_->stats().continuation_bytes, 0u);
  }
  EXPECT_TRUE(Eventually([&] { return server_->stats().open_continuations == 0; },
                         milliseconds(5000)));
  EXPECT_EQ(server_->stats().continuation_bytes, 0u);
}

// ---------------------------------------------------------------------------
// Requests larger than a frame, and connections

TEST_F(LimitsTest, LargeRequestsAreUploadedInAuthenticatedPieces) {
  ServerOptions o;
  o.keys = Keys();
  o.max_request_frame_bytes = 4096;
  o.max_request_bytes = 256 << 10;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  auto writer = Connect(kWriterKey);
  ASSERT_TRUE(writer);
  std::vector<std::string> ops;
  for (int i = 0; i < 300; ++i) ops.push_back(InsertOp("uploaded", i, std::string(200, 'u')));
  std::string batch = Batch(ops);
  ASSERT_GT(batch.size(), 16 * o.max_request_frame_bytes);
  auto m = writer->Mutate(batch);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(CountTag(*writer, "uploaded"), 300u);
  EXPECT_EQ(server_->stats().open_uploads, 0u);
  EXPECT_EQ(server_->stats().upload_bytes, 0u);
  // An import larger than a frame, too.
  std::string lines;
  for (int i = 0; i < 100; ++i) {
    lines += R"({"tag": "imported", "n": )" + std::to_string(i) + R"(, "body": ")" +
             std::string(100, 'i') + "\"}\n";
  }
  std::istringstream in(lines);
  auto imp = writer->Import("Item", in);
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  EXPECT_EQ(imp->rows, 100u);
  // Over max_request_bytes: refused by the client before anything is sent.
  ops.clear();
  for (int i = 0; i < 2000; ++i) ops.push_back(InsertOp("too-big", i, std::string(200, 'x')));
  auto big = writer->Mutate(Batch(ops));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted) << big.status().ToString();
  EXPECT_NE(big.status().message().find("max_request_bytes"), std::string::npos);
  // A reader may upload (the pieces are allowed) but not write.
  auto reader = Connect(kReaderKey);
  ASSERT_TRUE(reader);
  auto denied = reader->Mutate(batch);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), ErrorCode::kPermissionDenied) << denied.status().ToString();
  EXPECT_EQ(CountTag(*writer, "uploaded"), 300u);
}

TEST_F(LimitsTest, UploadPiecesNeedAKeyAndStayWithTheirPrincipal) {
  ServerOptions o;
  o.keys = Keys();
  o.max_request_frame_bytes = 4096;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  RawClient c(server_->url());
  const std::string piece(1000, 'p');
  ExpectError(c, UploadFrame(77, 0, 64 << 10, piece), ErrorCode::kUnauthenticated);
  EXPECT_EQ(server_->stats().open_uploads, 0u) << "nothing is kept for a keyless piece";
  auto reply = c.Call(UploadFrame(77, 0, 64 << 10, piece, kWriterKey, 5, 1));
  ASSERT_TRUE(reply);
  Decoded d = Decode(*reply);
  ASSERT_TRUE(d.valid && d.which == wire::Reply::UPLOADED) << Describe(d);
  EXPECT_EQ(server_->stats().open_uploads, 1u);
  EXPECT_EQ(server_->stats().upload_bytes, 64u << 10);
  // Another principal cannot continue it.
  ExpectError(c, UploadFrame(77, 1000, 64 << 10, piece, kOtherWriterKey, 5, 2),
              ErrorCode::kNotFound);
  ExpectError(c, UploadFrame(77, 5000, 64 << 10, piece, kWriterKey, 5, 3),
              ErrorCode::kInvalidArgument, "out of order");
  ExpectError(c, UploadFrame(78, 0, size_t{1} << 40, piece, kWriterKey, 5, 4),
              ErrorCode::kResourceExhausted, "max_request_bytes");
}

TEST_F(LimitsTest, AClosedConnectionsUploadIsDropped) {
  ServerOptions o;
  o.max_request_frame_bytes = 4096;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  {
    RawClient c(server_->url());
    auto reply = c.Call(UploadFrame(5, 0, 1 << 20, std::string(2000, 'x')));
    ASSERT_TRUE(reply);
    ASSERT_EQ(Decode(*reply).which, wire::Reply::UPLOADED);
    EXPECT_EQ(server_->stats().open_uploads, 1u);
  }
  EXPECT_TRUE(Eventually([&] { return server_->stats().open_uploads == 0; }, milliseconds(5000)));
  EXPECT_EQ(server_->stats().upload_bytes, 0u);
}

TEST_F(LimitsTest, ConnectionsAreCapped) {
  ServerOptions o;
  o.max_connections = 2;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  RawClient a(server_->url()), b(server_->url());
  ASSERT_TRUE(a.Call(HelloFrame(1, 1)));
  ASSERT_TRUE(b.Call(HelloFrame(1, 1)));
  EXPECT_EQ(server_->stats().connections, 2u);
  {
    RawClient c(server_->url(), 500);
    EXPECT_FALSE(c.Call(HelloFrame(1, 1))) << "a third connection was served";
  }
  EXPECT_GE(server_->stats().connections_refused, 1u);
  EXPECT_EQ(server_->stats().connections, 2u);
  ASSERT_TRUE(a.Call(FetchFrame(kProbeQuery)));
}

// A raw TCP peer that speaks nng's SP handshake as a REQ socket, then
// writes what it likes: a frame header claiming `claimed` bytes and the
// first `sent` of them.
int PartialFrame(int port, uint64_t claimed, size_t sent) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  const unsigned char hello[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0};  // REQ v0
  (void)!write(fd, hello, sizeof hello);
  unsigned char theirs[8];
  (void)!read(fd, theirs, sizeof theirs);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(claimed >> (56 - 8 * i));
  (void)!write(fd, len, sizeof len);
  std::string body(sent, 'x');
  (void)!write(fd, body.data(), body.size());
  return fd;
}

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

TEST_F(LimitsTest, FramesAreCappedBeforeTheyAreBuffered) {
  ServerOptions o;
  o.max_connections = 32;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  const size_t rss_before = RssBytes();
  // 16 peers each announce a 60 MB frame: refused on its header, never
  // buffered (the default frame limit is 1 MiB).
  std::vector<int> fds;
  for (int i = 0; i < 16; ++i) {
    int fd = PartialFrame(PortOf(server_->url()), 60u << 20, 1 << 20);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 0; }))
      << "connections: " << server_->stats().connections;
  EXPECT_LT(RssBytes(), rss_before + (64u << 20)) << "oversized frames were buffered";
  for (int fd : fds) close(fd);
  // Peers that stop mid-frame and go: nothing stays held.
  fds.clear();
  for (int i = 0; i < 8; ++i) fds.push_back(PartialFrame(PortOf(server_->url()), 100000, 5000));
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 8; }));
  for (int fd : fds) close(fd);
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 0; }))
      << "connections: " << server_->stats().connections;
  ExpectServing(server_->url(), expected_);
}

// ---------------------------------------------------------------------------
// Resends

TEST_F(LimitsTest, ResendsAreRecognizedOnlyAfterAuthenticationPerPrincipal) {
  ServerOptions o;
  o.keys = Keys();
  ASSERT_NO_FATAL_FAILURE(Start(o));
  RawClient c(server_->url());
  std::string batch = Batch({InsertOp("resend", 1, "x")});
  auto first = c.Call(MutateFrame(batch, 77, 1, kWriterKey));
  ASSERT_TRUE(first);
  Decoded d = Decode(*first);
  ASSERT_TRUE(d.valid && !d.is_error) << Describe(d);
  // Without a key, the same (client, id) gets UNAUTHENTICATED, not the reply.
  ExpectError(c, MutateFrame(batch, 77, 1), ErrorCode::kUnauthenticated);
  ExpectError(c, MutateFrame(batch, 77, 1, "not-a-valid-key-at-all"),
              ErrorCode::kUnauthenticated);
  // A keyless request sent first does not spoil the valid write after it.
  ExpectError(c, MutateFrame(batch, 78, 1), ErrorCode::kUnauthenticated);
  auto valid = c.Call(MutateFrame(batch, 78, 1, kWriterKey));
  ASSERT_TRUE(valid);
  Decoded v = Decode(*valid);
  ASSERT_TRUE(v.valid && !v.is_error) << Describe(v);
  EXPECT_NE(v.version, d.version);
  // Another principal's (client, id) is its own request, applied.
  auto other = c.Call(MutateFrame(batch, 77, 1, kOtherWriterKey));
  ASSERT_TRUE(other);
  Decoded od = Decode(*other);
  ASSERT_TRUE(od.valid && !od.is_error) << Describe(od);
  EXPECT_NE(od.version, d.version);
  // The writer's own resend is still answered from its first execution.
  auto again = c.Call(MutateFrame(batch, 77, 1, kWriterKey));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
  auto db = Connect(kAdminKey2);
  ASSERT_TRUE(db);
  EXPECT_EQ(CountTag(*db, "resend"), 3u);
}

TEST_F(LimitsTest, RequestKeysMakeWritesIdempotentPerPrincipal) {
  ServerOptions o;
  o.keys = Keys();
  ASSERT_NO_FATAL_FAILURE(Start(o));
  auto writer = Connect(kWriterKey);
  auto other = Connect(kOtherWriterKey);
  ASSERT_TRUE(writer && other);
  WriteOptions w;
  w.request_key = "order-1234";
  std::string batch = Batch({InsertOp("keyed", 1, "x")});
  auto a = writer->Mutate(batch, w);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = writer->Mutate(batch, w);  // a new request id, the same key
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->version, a->version);
  EXPECT_EQ(b->json, a->json);
  auto c = other->Mutate(batch, w);  // the same key of another principal
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->version, a->version);
  EXPECT_EQ(CountTag(*writer, "keyed"), 2u);
}

}  // namespace
}  // namespace ormdb::server
