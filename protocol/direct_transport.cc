#include "protocol/direct_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nng/nng.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <string>
#include <thread>
#include <vector>

#include "common/keep_alive.h"
#include "common/mutex.h"
#include "protocol/exchange.h"
#include "protocol/frame.h"

namespace ormdb::protocol {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kScheme = "ormdb://";
// What each side sends first: the name and the framing's version.
constexpr uint8_t kGreeting[8] = {'O', 'R', 'M', 'D', 'B', 0, 0, 1};
constexpr size_t kLengthBytes = 8;
// How long a new connection may take to greet.
constexpr int kGreetingTimeoutMs = 10000;
// Direct pipe ids have the top bit set, so they never equal an nng pipe id
// (nng's are positive 31-bit numbers) when both transports serve at once.
constexpr uint32_t kPipeIdBase = 0x80000000u;

struct HostPort {
  std::string host;
  std::string port;
};

Result<HostPort> ParseUrl(std::string_view url) {
  if (!IsDirectUrl(url)) return InvalidArgument("not an ormdb:// URL: '" + std::string(url) + "'");
  std::string_view rest = url.substr(kScheme.size());
  HostPort hp;
  size_t colon;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return InvalidArgument("URL '" + std::string(url) + "' needs the form ormdb://[ADDR]:PORT");
    }
    hp.host = std::string(rest.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("URL '" + std::string(url) + "' needs a port: ormdb://HOST:PORT");
    }
    hp.host = std::string(rest.substr(0, colon));
  }
  hp.port = std::string(rest.substr(colon + 1));
  bool digits = !hp.port.empty() && hp.port.size() <= 5;
  for (char c : hp.port) digits = digits && c >= '0' && c <= '9';
  if (!digits || std::stoul(hp.port) > 65535) {
    return InvalidArgument("URL '" + std::string(url) + "' has no valid port");
  }
  if (hp.host.empty() || hp.host == "*") {
    return InvalidArgument("URL '" + std::string(url) + "' needs a host (0.0.0.0 for all)");
  }
  return hp;
}

Status Errno(std::string_view what) {
  int e = errno;
  std::string msg = std::string(what) + ": " + std::strerror(e);
  if (e == EADDRINUSE || e == ECONNREFUSED || e == ETIMEDOUT || e == EHOSTUNREACH ||
      e == ENETUNREACH || e == ECONNRESET || e == EPIPE) {
    return Unavailable(msg);
  }
  return Internal(msg);
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Waits until `fd` is readable or `deadline` passes: false on timeout.
bool WaitReadable(int fd, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    int ms = left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30));
    pollfd p{fd, POLLIN, 0};
    int rv = poll(&p, 1, ms);
    if (rv > 0) return true;
    if (rv == 0) return false;
    if (errno != EINTR) return true;  // let the read report it
  }
}

enum class ReadResult { kOk, kClosed, kTimedOut, kTooLarge };

// Reads exactly `n` bytes, waiting at most until `deadline` (the greetings;
// frames are read by ReadFrame).
ReadResult ReadFull(int fd, uint8_t* out, size_t n, Clock::time_point deadline) {
  size_t got = 0;
  while (got < n) {
    if (!WaitReadable(fd, deadline)) return ReadResult::kTimedOut;
    ssize_t r = recv(fd, out + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if (r == 0) {
      return ReadResult::kClosed;
    } else if (errno != EINTR && errno != EAGAIN) {
      return ReadResult::kClosed;
    }
  }
  return ReadResult::kOk;
}

bool WriteFull(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Sends a length and a frame in one system call where the kernel allows.
bool WriteFrame(int fd, std::span<const uint8_t> frame) {
  uint8_t len[kLengthBytes];
  uint64_t n = frame.size();
  for (int i = 7; i >= 0; --i, n >>= 8) len[i] = static_cast<uint8_t>(n);
  iovec iov[2] = {{len, kLengthBytes}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;
  ssize_t w;
  do {
    w = sendmsg(fd, &mh, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  if (w < 0) return false;
  size_t sent = static_cast<size_t>(w);
  if (sent >= kLengthBytes + frame.size()) return true;
  if (sent < kLengthBytes) {
    if (!WriteFull(fd, len + sent, kLengthBytes - sent)) return false;
    sent = kLengthBytes;
  }
  return WriteFull(fd, frame.data() + (sent - kLengthBytes), frame.size() - (sent - kLengthBytes));
}

// An nng message of `size` bytes whose body starts at an address that is 4
// modulo 8, so that the Cap'n Proto message after a frame's 4-byte header
// is 8-aligned (no copy when decoding); null when out of memory.
nng_msg* AlignedMessage(size_t size) {
  nng_msg* m = nullptr;
  if (nng_msg_alloc(&m, size + 8) != 0) return nullptr;
  auto addr = reinterpret_cast<uintptr_t>(nng_msg_body(m));
  size_t skip = (4 + 8 - addr % 8) % 8;
  nng_msg_trim(m, skip);
  nng_msg_chop(m, 8 - skip);
  return m;
}

// Whole milliseconds left until `deadline`, rounded up, at least 1.
int64_t MillisLeft(Clock::time_point deadline) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
  return std::max<int64_t>(1, (us + 999) / 1000);
}

// Sets the socket's receive timeout (SO_RCVTIMEO) to `ms`; *armed holds the
// value last set.
void ArmReceiveTimeout(int fd, int64_t ms, int64_t* armed) {
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  *armed = ms;
}

// How a frame read waits. With a deadline, the socket's receive timeout
// bounds each receive (*armed: its value, set by the caller) and is lowered
// to the time left when a later receive would outlast the deadline;
// without one a receive waits for as long as it takes.
struct ReadLimit {
  const Clock::time_point* deadline = nullptr;
  int64_t* armed = nullptr;
};

// One recv into `out`, up to `n` bytes: the bytes read, or 0 with *result
// set (closed, or timed out under SO_RCVTIMEO).
size_t RecvSome(int fd, uint8_t* out, size_t n, int flags, ReadLimit limit, ReadResult* result) {
  while (true) {
    if (limit.deadline != nullptr) {
      if (Clock::now() > *limit.deadline) {
        *result = ReadResult::kTimedOut;
        return 0;
      }
      const int64_t left = MillisLeft(*limit.deadline);
      if (limit.armed != nullptr && left < *limit.armed) ArmReceiveTimeout(fd, left, limit.armed);
    }
    ssize_t r = recv(fd, out, n, flags);
    if (r > 0) return static_cast<size_t>(r);
    if (r == 0) {
      *result = ReadResult::kClosed;
      return 0;
    }
    if (errno == EINTR) continue;
    *result = (errno == EAGAIN || errno == EWOULDBLOCK) && limit.deadline != nullptr
                  ? ReadResult::kTimedOut
                  : ReadResult::kClosed;
    return 0;
  }
}

// Reads one frame into an aligned nng message (AlignedMessage) of its size.
// The first receive asks for up to kHeadBytes into a buffer on the stack,
// so a frame that fits (requests, small replies) costs one system call,
// length and all, and one copy of a few kilobytes; a longer one reads the
// rest straight into its message. Bytes read past the frame's end are kept
// in *carry for the next read (a client that sends its next request early);
// without `carry` (a client reading a reply, which nothing follows) they
// are a broken peer: kClosed.
constexpr size_t kHeadBytes = size_t{8} << 10;
struct FrameRead {
  ReadResult result;
  Message msg;
  uint64_t length = 0;
};
FrameRead ReadFrame(int fd, size_t max_bytes, ReadLimit limit, std::string* carry) {
  FrameRead out{ReadResult::kOk, Message()};
  uint8_t head[kHeadBytes];
  size_t got = 0;
  if (carry != nullptr && !carry->empty()) {
    got = std::min(carry->size(), sizeof head);
    std::memcpy(head, carry->data(), got);
    carry->erase(0, got);
  }
  while (got < kLengthBytes) {
    size_t r = RecvSome(fd, head + got, sizeof head - got, 0, limit, &out.result);
    if (r == 0) return out;
    got += r;
  }
  uint64_t n = 0;
  for (size_t i = 0; i < kLengthBytes; ++i) n = (n << 8) | head[i];
  out.length = n;
  if (n > max_bytes) {
    out.result = ReadResult::kTooLarge;
    return out;
  }
  size_t have = got - kLengthBytes;
  if (have > n) {
    if (carry == nullptr) {
      out.result = ReadResult::kClosed;
      return out;
    }
    carry->insert(0, reinterpret_cast<const char*>(head + kLengthBytes + n), have - n);
    have = n;
  }
  nng_msg* m = AlignedMessage(n);
  if (m == nullptr) {
    out.result = ReadResult::kClosed;
    return out;
  }
  Message msg(m);
  auto* body = static_cast<uint8_t*>(nng_msg_body(m));
  std::memcpy(body, head + kLengthBytes, have);
  while (have < n) {
    size_t r = RecvSome(fd, body + have, n - have, MSG_WAITALL, limit, &out.result);
    if (r == 0) return out;
    have += r;
  }
  out.msg = std::move(msg);
  return out;
}

// ---- Server side ----

class DirectListener;

// One connection: its thread reads a request, hands it to the server and
// reads the next only once the reply went out, so at most one exchange is
// open per connection.
struct DirectConnection;

class DirectExchange final : public Listener::Exchange {
 public:
  DirectExchange(Listener* owner, DirectConnection* conn) : Exchange(owner), conn(conn) {}
  DirectConnection* const conn;
};

struct DirectConnection {
  DirectConnection(Listener* owner, int fd, uint32_t pipe)
      : fd(fd), pipe(pipe), wake(eventfd(0, EFD_CLOEXEC)), exchange(owner, this) {}
  ~DirectConnection() {
    if (fd >= 0) close(fd);
    if (wake >= 0) close(wake);
  }
  // The reply went out (or was given up): the connection thread reads on.
  void Finish() {
    done.store(true);
    if (waiting.load()) {
      uint64_t one = 1;
      (void)!write(wake, &one, sizeof one);
    }
  }

  const int fd;
  const uint32_t pipe;
  const int wake;  // eventfd: the open exchange finished, or the listener closes
  DirectExchange exchange;
  std::atomic<bool> done{false};
  std::atomic<bool> waiting{false};
  std::atomic<bool> broken{false};    // a send failed: the peer is gone
  std::atomic<bool> finished{false};  // the thread has returned
  std::string carry;                  // bytes read past the last frame (its thread's)
  std::thread thread;
};

class DirectListener final : public Listener {
 public:
  DirectListener(const ListenerOptions& o, Callbacks cb) : o_(o), cb_(std::move(cb)) {}
  ~DirectListener() override {
    Quiesce();
    Close(std::chrono::seconds(5));
  }

  Status Listen();
  void Begin() override {
    acceptor_ = std::thread([this] { Accept(); });
  }
  const std::string& url() const override { return url_; }
  const std::string& direct_url() const override { return url_; }
  void Reply(Exchange* ex, Message reply) override;
  Status Detach(Exchange*) override { return Status::Ok(); }  // its connection waits on its own
  void Drop(Exchange* ex) override { static_cast<DirectExchange*>(ex)->conn->Finish(); }
  void Reap() override;
  void Quiesce() override;
  bool Close(std::chrono::milliseconds timeout) override;
  ListenerStats stats() const override {
    ListenerStats s;
    s.connections = open_.load();
    s.connections_refused = refused_.load();
    s.receiving = receiving_.load();
    return s;
  }

 private:
  void Accept();
  void Serve(DirectConnection* c);

  ListenerOptions o_;
  Callbacks cb_;
  std::string url_;
  int listen_fd_ = -1;
  std::thread acceptor_;
  std::atomic<bool> quiesced_{false};
  std::atomic<bool> closing_{false};  // Close: waiting connections give up
  bool closed_ = false;

  Mutex conns_mu_;
  std::list<std::unique_ptr<DirectConnection>> conns_ GUARDED_BY(conns_mu_);
  uint32_t next_pipe_ GUARDED_BY(conns_mu_) = 1;
  std::atomic<uint64_t> open_{0}, refused_{0}, receiving_{0};
};

Status DirectListener::Listen() {
  ORMDB_ASSIGN_OR_RETURN(HostPort hp, ParseUrl(o_.url));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rv = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &res); rv != 0) {
    return InvalidArgument("listen on " + o_.url + ": " + gai_strerror(rv));
  }
  Status st = Unavailable("listen on " + o_.url + ": no address");
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      st = Errno("listen on " + o_.url);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      st = Errno("listen on " + o_.url);
      if (errno == EADDRINUSE) {
        st = Unavailable("cannot listen on " + o_.url + ": the address is in use");
      }
      close(fd);
      continue;
    }
    listen_fd_ = fd;
    st = Status::Ok();
    break;
  }
  freeaddrinfo(res);
  ORMDB_RETURN_IF_ERROR(st);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t port = bound.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  url_ = o_.url.substr(0, o_.url.rfind(':') + 1) + std::to_string(port);
  return Status::Ok();
}

void DirectListener::Accept() {
  while (!quiesced_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (quiesced_ || errno == EINVAL || errno == EBADF) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // EMFILE and the like
      continue;
    }
    if (open_.load() >= o_.max_connections) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      close(fd);
      continue;
    }
    NoDelay(fd);
    MutexLock lock(&conns_mu_);
    if (quiesced_) {
      close(fd);
      return;
    }
    uint32_t pipe = kPipeIdBase | (next_pipe_++ & ~kPipeIdBase);
    auto c = std::make_unique<DirectConnection>(this, fd, pipe);
    DirectConnection* raw = c.get();
    open_.fetch_add(1);
    conns_.push_back(std::move(c));
    raw->thread = std::thread([this, raw] { Serve(raw); });
  }
}

void DirectListener::Serve(DirectConnection* c) {
  auto deadline = Clock::now() + std::chrono::milliseconds(kGreetingTimeoutMs);
  uint8_t greeting[sizeof kGreeting];
  bool greeted = ReadFull(c->fd, greeting, sizeof greeting, deadline) == ReadResult::kOk &&
                 std::memcmp(greeting, kGreeting, sizeof kGreeting) == 0 &&
                 WriteFull(c->fd, kGreeting, sizeof kGreeting);
  bool closed_told = false;
  while (greeted && !quiesced_) {
    receiving_.fetch_add(1, std::memory_order_relaxed);
    FrameRead in = ReadFrame(c->fd, o_.max_frame_bytes, ReadLimit{}, &c->carry);
    receiving_.fetch_sub(1, std::memory_order_relaxed);
    if (in.result != ReadResult::kOk) break;  // closed, or a frame over the limit
    c->done.store(false);
    cb_.on_request(&c->exchange, std::move(in.msg), c->pipe);
    if (c->done.load()) continue;  // answered on this thread
    // The reply comes from another thread (a write, a parked watch). Until
    // it does, watch for the peer leaving so what it waits on can end.
    c->waiting.store(true);
    while (!c->done.load()) {
      pollfd p[2] = {{c->fd, static_cast<short>(closed_told ? 0 : POLLRDHUP), 0},
                     {c->wake, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) break;
      if (p[1].revents & POLLIN) {
        uint64_t n;
        (void)!read(c->wake, &n, sizeof n);
      }
      if (!closed_told && (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        closed_told = true;
        if (cb_.on_closed) cb_.on_closed(c->pipe);
      }
      if (closing_) break;
    }
    c->waiting.store(false);
    if (closed_told || c->broken) break;
  }
  shutdown(c->fd, SHUT_RDWR);
  if (!closed_told && greeted && cb_.on_closed) cb_.on_closed(c->pipe);
  open_.fetch_sub(1);
  c->finished.store(true);
}

void DirectListener::Reply(Exchange* ex, Message reply) {
  DirectConnection* c = static_cast<DirectExchange*>(ex)->conn;
  // An empty reply drops the request (the client times out), as over nng.
  if (!reply.empty() && !c->broken && !WriteFrame(c->fd, reply.bytes())) c->broken = true;
  reply = Message();
  if (cb_.on_sent) cb_.on_sent();
  c->Finish();
}

void DirectListener::Reap() {
  std::vector<std::unique_ptr<DirectConnection>> gone;
  {
    MutexLock lock(&conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->finished.load()) {
        gone.push_back(std::move(*it));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : gone) c->thread.join();
}

void DirectListener::Quiesce() {
  if (quiesced_.exchange(true)) return;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);  // ends accept()
  if (acceptor_.joinable()) acceptor_.join();
  MutexLock lock(&conns_mu_);
  for (auto& c : conns_) shutdown(c->fd, SHUT_RD);  // ends a waiting read
}

bool DirectListener::Close(std::chrono::milliseconds timeout) {
  if (closed_) return true;
  Quiesce();
  closed_ = true;
  closing_ = true;
  {
    MutexLock lock(&conns_mu_);
    for (auto& c : conns_) {
      shutdown(c->fd, SHUT_RDWR);
      uint64_t one = 1;
      (void)!write(c->wake, &one, sizeof one);
    }
  }
  auto deadline = Clock::now() + timeout;
  bool all = true;
  while (true) {
    Reap();
    {
      MutexLock lock(&conns_mu_);
      if (conns_.empty()) break;
    }
    if (Clock::now() > deadline) {
      all = false;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!all) {
    // A connection still waits for a reply that will not come: leave it.
    MutexLock lock(&conns_mu_);
    for (auto& c : conns_) c->thread.detach();
    KeepUntilExit(
        std::make_shared<std::list<std::unique_ptr<DirectConnection>>>(std::move(conns_)));
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  return all;
}

// ---- Client side ----

class DirectClient final : public Connection {
 public:
  explicit DirectClient(ConnectionOptions o) : o_(std::move(o)) {}
  ~DirectClient() override {
    MutexLock lock(&idle_mu_);
    for (const Socket& s : idle_) close(s.fd);
  }

  Status Start() {
    ORMDB_ASSIGN_OR_RETURN(target_, ParseUrl(o_.url));
    ORMDB_ASSIGN_OR_RETURN(int fd, Open(Clock::now() + std::chrono::seconds(10)));
    Return(Socket{fd});
    return Status::Ok();
  }

  Result<Message> RoundTrip(Message request, std::chrono::milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    Status lost = Status::Ok();
    for (int attempt = 0;; ++attempt) {
      if (attempt > 0 && Clock::now() >= deadline) return lost;
      Socket sock;
      {
        MutexLock lock(&idle_mu_);
        if (!idle_.empty()) {
          sock = idle_.back();
          idle_.pop_back();
        }
      }
      int& fd = sock.fd;
      if (fd < 0) {
        auto opened = Open(deadline);
        if (!opened.ok()) {
          // The server is away (restarting, say): try again until the deadline.
          lost = opened.status();
          if (attempt == 0 && Clock::now() + std::chrono::milliseconds(20) >= deadline) return lost;
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10 * (attempt + 1), 100)));
          continue;
        }
        fd = *opened;
      }
      if (!WriteFrame(fd, request.bytes())) {
        close(fd);
        lost = Unavailable("the connection to " + o_.url + " was lost");
        continue;
      }
      // The reply is waited for in the receive itself, bounded by the
      // socket's receive timeout (the time left, in whole milliseconds, set
      // when it differs from the last call's: a call with the usual timeout
      // sets nothing), rather than a poll before each receive.
      const int64_t left_ms = MillisLeft(deadline);
      if (sock.timeout_ms != left_ms) ArmReceiveTimeout(fd, left_ms, &sock.timeout_ms);
      FrameRead in =
          ReadFrame(fd, o_.max_reply_bytes, ReadLimit{&deadline, &sock.timeout_ms}, nullptr);
      switch (in.result) {
        case ReadResult::kOk:
          Return(sock);
          return std::move(in.msg);
        case ReadResult::kTimedOut:
          // A late reply would answer the wrong call: the socket goes.
          close(fd);
          return Unavailable("no reply from " + o_.url + " within " +
                             std::to_string(timeout.count()) + " ms");
        case ReadResult::kTooLarge:
          close(fd);
          return ResourceExhausted("a reply of " + std::to_string(in.length) + " bytes from " +
                                   o_.url + " is over this client's limit of " +
                                   std::to_string(o_.max_reply_bytes) + " bytes");
        case ReadResult::kClosed:
          // The server went away mid-call: resend on a new connection (a
          // resent write is answered from the server's request record).
          close(fd);
          lost = Unavailable("the connection to " + o_.url + " was lost");
          break;
      }
    }
  }

 private:
  Result<int> Open(Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (int rv = getaddrinfo(target_.host.c_str(), target_.port.c_str(), &hints, &res); rv != 0) {
      return Unavailable("connect to " + o_.url + ": " + gai_strerror(rv));
    }
    Status st = Unavailable("connect to " + o_.url + ": no address");
    int fd = -1;
    for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
      int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (s < 0) {
        st = Errno("connect to " + o_.url);
        continue;
      }
      if (connect(s, a->ai_addr, a->ai_addrlen) != 0) {
        st = Errno("connect to " + o_.url);
        close(s);
        continue;
      }
      fd = s;
    }
    freeaddrinfo(res);
    if (fd < 0) return st;
    NoDelay(fd);
    uint8_t greeting[sizeof kGreeting];
    if (!WriteFull(fd, kGreeting, sizeof kGreeting) ||
        ReadFull(fd, greeting, sizeof greeting, deadline) != ReadResult::kOk ||
        std::memcmp(greeting, kGreeting, sizeof kGreeting) != 0) {
      close(fd);
      return Unavailable("connect to " + o_.url + ": the peer did not answer as an ormdb server");
    }
    return fd;
  }

  // A connected socket and the receive timeout set on it (SO_RCVTIMEO, in
  // milliseconds; -1: none set yet).
  struct Socket {
    int fd = -1;
    int64_t timeout_ms = -1;
  };

  void Return(Socket s) {
    MutexLock lock(&idle_mu_);
    if (idle_.size() < 64) {
      idle_.push_back(s);
      return;
    }
    close(s.fd);
  }

  ConnectionOptions o_;
  HostPort target_;
  Mutex idle_mu_;
  std::vector<Socket> idle_ GUARDED_BY(idle_mu_);
};

}  // namespace

bool IsDirectUrl(std::string_view url) { return url.rfind(kScheme, 0) == 0; }

Result<std::unique_ptr<Listener>> StartDirectListener(const ListenerOptions& options,
                                                      Listener::Callbacks callbacks) {
  auto l = std::make_unique<DirectListener>(options, std::move(callbacks));
  ORMDB_RETURN_IF_ERROR(l->Listen());
  return std::unique_ptr<Listener>(std::move(l));
}

Result<std::unique_ptr<Connection>> DialDirect(const ConnectionOptions& options) {
  auto c = std::make_unique<DirectClient>(options);
  ORMDB_RETURN_IF_ERROR(c->Start());
  return std::unique_ptr<Connection>(std::move(c));
}

}  // namespace ormdb::protocol
