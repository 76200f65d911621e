// HTTP for the observability endpoints (GET /metrics, /health, the web
// console): a small router over nng's HTTP server, and a one-shot client
// for `ormdb top` and the tests. Requests are answered on nng's threads;
// a handler must not wait on another HTTP request of the same process.
//
// Thread-safety: Start/Stop from one thread; handlers run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ormdb/status.h"

namespace ormdb::protocol {

struct HttpRequest {
  std::string method;                        // "GET", "POST"
  std::string path;                          // "/api/query" (without the query string)
  std::map<std::string, std::string> query;  // ?a=1&b=x, percent-decoded
  std::string authorization;                 // the Authorization header, "" when absent
  std::string body;                          // POST only
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpRoute {
  std::string method;  // "GET" or "POST"
  std::string path;    // exact path, or with prefix a subtree ("/console/")
  bool prefix = false;
  std::function<HttpResponse(const HttpRequest&)> handler;
};

class HttpServer {
 public:
  // Serves `routes` on `url` (http://HOST:PORT; port 0 picks a free one).
  // INVALID_ARGUMENT for a URL that is not http://; UNAVAILABLE when the
  // address is in use. POST bodies over max_body_bytes get 413.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& url,
                                                   std::vector<HttpRoute> routes,
                                                   size_t max_body_bytes = size_t{1} << 20);
  // Stops serving; in-flight handlers finish first. Idempotent.
  virtual void Stop() = 0;
  virtual ~HttpServer() = default;
  // The URL served (with the bound port).
  virtual const std::string& url() const = 0;
};

// One request to `url` (http://HOST:PORT/path?query): its status and body.
// UNAVAILABLE when nothing answers within `timeout_ms`.
struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};
Result<HttpReply> HttpCall(const std::string& method, const std::string& url,
                           std::string_view body = {}, std::string_view authorization = {},
                           int timeout_ms = 10000);

// %XX and '+' decoded.
std::string PercentDecode(std::string_view s);

}  // namespace ormdb::protocol
