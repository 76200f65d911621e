// tcp_echo: a plain TCP loopback echo of 64-byte messages, the round trip
// floor every transport pays (server_bench, imdb_server_bench measure it in
// the same run as what they compare with it).
//
// Thread-safety: RoundTrip from one thread at a time; the echo thread is
// the object's own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "bench/pg_cluster.h"  // Die

namespace ormdb::bench {

class LoopbackEcho {
 public:
  // Listens on 127.0.0.1 (a free port), starts the echo thread and connects
  // to it, TCP_NODELAY on both ends. Die when a socket call fails.
  LoopbackEcho() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listen_fd_, 1) != 0) {
      Die("echo: cannot listen");
    }
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    thread_ = std::thread([this] {
      int c = accept(listen_fd_, nullptr, nullptr);
      int one = 1;
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      char buf[64];
      while (recv(c, buf, sizeof buf, MSG_WAITALL) == sizeof buf) {
        if (send(c, buf, sizeof buf, MSG_NOSIGNAL) != sizeof buf) break;
      }
      close(c);
    });
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("echo: cannot connect");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~LoopbackEcho() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    close(listen_fd_);
  }
  LoopbackEcho(const LoopbackEcho&) = delete;
  LoopbackEcho& operator=(const LoopbackEcho&) = delete;

  // One 64-byte message there and back.
  void RoundTrip() {
    char buf[64] = {1};
    if (send(fd_, buf, sizeof buf, MSG_NOSIGNAL) != sizeof buf ||
        recv(fd_, buf, sizeof buf, MSG_WAITALL) != sizeof buf) {
      Die("echo: round trip failed");
    }
  }

 private:
  int listen_fd_ = -1, fd_ = -1;
  std::thread thread_;
};

}  // namespace ormdb::bench
