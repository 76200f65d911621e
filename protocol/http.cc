#include "protocol/http.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <cstring>
#include <mutex>

namespace ormdb::protocol {
namespace {

Status NngError(int rv, std::string_view what) {
  std::string msg = std::string(what) + ": " + nng_strerror(rv);
  if (rv == NNG_EADDRINUSE || rv == NNG_ECONNREFUSED || rv == NNG_ETIMEDOUT) {
    return Unavailable(msg);
  }
  if (rv == NNG_EINVAL || rv == NNG_EADDRINVAL) return InvalidArgument(msg);
  return Internal(msg);
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    size_t eq = part.find('=');
    if (!part.empty()) {
      out[PercentDecode(part.substr(0, eq))] =
          eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

class NngHttpServer final : public HttpServer {
 public:
  ~NngHttpServer() override { Stop(); }

  Status Init(const std::string& url, std::vector<HttpRoute> routes, size_t max_body) {
    if (url.rfind("http://", 0) != 0) {
      return InvalidArgument("http_listen '" + url + "' needs http://HOST:PORT");
    }
    routes_ = std::move(routes);
    int rv = nng_url_parse(&url_, url.c_str());
    if (rv != 0) return NngError(rv, "http_listen " + url);
    rv = nng_http_server_hold(&server_, url_);
    if (rv != 0) return NngError(rv, "http_listen " + url);
    for (HttpRoute& r : routes_) {
      nng_http_handler* h = nullptr;
      rv = nng_http_handler_alloc(&h, r.path.c_str(), &NngHttpServer::OnRequest);
      if (rv != 0) return NngError(rv, "http handler " + r.path);
      nng_http_handler_set_method(h, r.method.c_str());
      nng_http_handler_set_data(h, &r, nullptr);
      if (r.prefix) nng_http_handler_set_tree(h);
      if (r.method == "POST") nng_http_handler_collect_body(h, true, max_body);
      rv = nng_http_server_add_handler(server_, h);
      if (rv != 0) {
        nng_http_handler_free(h);
        return NngError(rv, "http_listen " + url + " (already served in this process?)");
      }
    }
    rv = nng_http_server_start(server_);
    if (rv != 0) return NngError(rv, "http_listen " + url);
    started_ = true;
    nng_sockaddr sa;
    if (nng_http_server_get_addr(server_, &sa) == 0 && sa.s_family == NNG_AF_INET) {
      uint16_t port = ntohs_(sa.s_in.sa_port);
      std::string host = url_->u_hostname;
      url_text_ = "http://" + host + ":" + std::to_string(port);
    } else {
      url_text_ = url;
    }
    return Status::Ok();
  }

  void Stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (server_ != nullptr) {
      if (started_) nng_http_server_stop(server_);
      nng_http_server_release(server_);
      server_ = nullptr;
    }
    if (url_ != nullptr) {
      nng_url_free(url_);
      url_ = nullptr;
    }
  }

  const std::string& url() const override { return url_text_; }

 private:
  static uint16_t ntohs_(uint16_t v) { return static_cast<uint16_t>((v >> 8) | (v << 8)); }

  static void OnRequest(nng_aio* aio) {
    auto* req = static_cast<nng_http_req*>(nng_aio_get_input(aio, 0));
    auto* h = static_cast<nng_http_handler*>(nng_aio_get_input(aio, 1));
    const HttpRoute* route = static_cast<const HttpRoute*>(nng_http_handler_get_data(h));
    HttpRequest in;
    in.method = nng_http_req_get_method(req);
    std::string_view uri = nng_http_req_get_uri(req);
    size_t q = uri.find('?');
    in.path = PercentDecode(uri.substr(0, q));
    if (q != std::string_view::npos) in.query = ParseQuery(uri.substr(q + 1));
    if (const char* auth = nng_http_req_get_header(req, "Authorization")) in.authorization = auth;
    void* data = nullptr;
    size_t size = 0;
    nng_http_req_get_data(req, &data, &size);
    if (data != nullptr) in.body.assign(static_cast<const char*>(data), size);
    HttpResponse out;
    try {
      out = route->handler(in);
    } catch (const std::exception& e) {
      out = HttpResponse{500, "text/plain; charset=utf-8",
                         std::string("internal error: ") + e.what()};
    }
    nng_http_res* res = nullptr;
    int rv = nng_http_res_alloc(&res);
    if (rv != 0) return nng_aio_finish(aio, rv);
    nng_http_res_set_status(res, static_cast<uint16_t>(out.status));
    nng_http_res_set_header(res, "Content-Type", out.content_type.c_str());
    nng_http_res_set_header(res, "Cache-Control", "no-store");
    rv = nng_http_res_copy_data(res, out.body.data(), out.body.size());
    if (rv != 0) {
      nng_http_res_free(res);
      return nng_aio_finish(aio, rv);
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
  }

  std::mutex mu_;
  std::vector<HttpRoute> routes_;  // stable: handlers point at them
  nng_url* url_ = nullptr;
  nng_http_server* server_ = nullptr;
  bool started_ = false;
  std::string url_text_;
};

}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& url,
                                                      std::vector<HttpRoute> routes,
                                                      size_t max_body_bytes) {
  auto server = std::make_unique<NngHttpServer>();
  Status st = server->Init(url, std::move(routes), max_body_bytes);
  if (!st.ok()) return st;
  return std::unique_ptr<HttpServer>(std::move(server));
}

Result<HttpReply> HttpCall(const std::string& method, const std::string& url, std::string_view body,
                           std::string_view authorization, int timeout_ms) {
  nng_url* u = nullptr;
  int rv = nng_url_parse(&u, url.c_str());
  if (rv != 0) return InvalidArgument("URL '" + url + "': " + nng_strerror(rv));
  nng_http_client* client = nullptr;
  nng_http_req* req = nullptr;
  nng_http_res* res = nullptr;
  nng_aio* aio = nullptr;
  Result<HttpReply> out = Internal("http: not run");
  do {
    if ((rv = nng_http_client_alloc(&client, u)) != 0 || (rv = nng_http_req_alloc(&req, u)) != 0 ||
        (rv = nng_http_res_alloc(&res)) != 0 || (rv = nng_aio_alloc(&aio, nullptr, nullptr)) != 0) {
      out = NngError(rv, "http " + url);
      break;
    }
    nng_http_req_set_method(req, method.c_str());
    if (!authorization.empty()) {
      nng_http_req_set_header(req, "Authorization", std::string(authorization).c_str());
    }
    if (!body.empty() || method == "POST") {
      nng_http_req_set_header(req, "Content-Type", "application/json");
      nng_http_req_copy_data(req, body.data(), body.size());
    }
    nng_aio_set_timeout(aio, timeout_ms);
    nng_http_client_transact(client, req, res, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0) {
      out = NngError(rv, "http " + method + " " + url);
      break;
    }
    HttpReply reply;
    reply.status = nng_http_res_get_status(res);
    if (const char* ct = nng_http_res_get_header(res, "Content-Type")) reply.content_type = ct;
    void* data = nullptr;
    size_t size = 0;
    nng_http_res_get_data(res, &data, &size);
    if (data != nullptr) reply.body.assign(static_cast<const char*>(data), size);
    out = std::move(reply);
  } while (false);
  if (aio) nng_aio_free(aio);
  if (res) nng_http_res_free(res);
  if (req) nng_http_req_free(req);
  if (client) nng_http_client_free(client);
  nng_url_free(u);
  return out;
}

}  // namespace ormdb::protocol
