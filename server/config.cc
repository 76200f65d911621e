// `ormdb serve --config FILE`: the server's and the database's options as
// JSON (docs/PROTOCOL.md "Server configuration").
#include <fstream>
#include <sstream>
#include <string>

#include "auth/jwt.h"
#include "common/json.h"
#include "observability/log.h"
#include "server/server.h"

namespace ormdb::server {
namespace {

Status Bad(std::string_view key, std::string_view what) {
  return InvalidArgument("config: \"" + std::string(key) + "\" " + std::string(what));
}

Result<uint64_t> Count(std::string_view key, const Json& v) {
  if (!v.is_int() || v.as_int() < 0) return Bad(key, "needs a whole number >= 0");
  return static_cast<uint64_t>(v.as_int());
}

Result<std::string> Text(std::string_view key, const Json& v) {
  if (!v.is_string()) return Bad(key, "needs a string");
  return v.as_string();
}

// The principal of a key: a name (today's form) or a principal object.
Status ParseKeyPrincipal(const Json& value, ApiKey* key) {
  if (value.is_string()) {
    key->principal = value.as_string();
    return Status::Ok();
  }
  if (!value.is_object()) {
    return Bad("keys[].principal",
               "needs a name or a principal object ({\"id\": 7, \"roles\": [\"user\"], ...})");
  }
  Result<Principal> p = Principal::FromJson(ToJson(value));
  if (!p.ok()) return Bad("keys[].principal", "is not a principal: " + p.status().message());
  // The name of logs and limits: the id as written ("7", "9b2f..."), else
  // keyN (set by the caller).
  Result<Json> id = ParseJson(p->id_json);
  if (id.ok() && id->is_int()) key->principal = std::to_string(id->as_int());
  if (id.ok() && id->is_string()) key->principal = id->as_string();
  key->acts_as = std::move(p).value();
  return Status::Ok();
}

Status ParseKeys(const Json& v, ServerOptions* server) {
  if (!v.is_array()) return Bad("keys", "needs an array of {\"key\", \"principal\", \"roles\"}");
  for (const Json& k : v.as_array()) {
    if (!k.is_object()) return Bad("keys", "entries are objects");
    ApiKey key;
    for (const auto& [name, value] : k.as_object()) {
      if (name == "key") {
        ORMDB_ASSIGN_OR_RETURN(key.key, Text("keys[].key", value));
      } else if (name == "principal") {
        ORMDB_RETURN_IF_ERROR(ParseKeyPrincipal(value, &key));
      } else if (name == "roles") {
        if (!value.is_array()) return Bad("keys[].roles", "needs an array of role names");
        for (const Json& r : value.as_array()) {
          ORMDB_ASSIGN_OR_RETURN(std::string role, Text("keys[].roles", r));
          if (role != "read" && role != "write" && role != "admin" && role != "impersonate") {
            return Bad("keys[].roles",
                       "has unknown role '" + role + "' (read, write, admin or impersonate)");
          }
          key.roles.push_back(role);
        }
      } else {
        return Bad("keys[]." + name, "is not a key option (key, principal, roles)");
      }
    }
    if (key.key.size() < 16) return Bad("keys[].key", "must be at least 16 characters");
    if (key.principal.empty()) key.principal = "key" + std::to_string(server->keys.size() + 1);
    if (key.principal.size() > 128) return Bad("keys[].principal", "is at most 128 characters");
    if (key.roles.empty()) key.roles = {"read"};
    server->keys.push_back(std::move(key));
  }
  return Status::Ok();
}

// A whole file (a key or a secret); the config key names it in the error.
Result<std::string> ReadConfigFile(std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Bad(key, "names a file that cannot be read: " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Bad(key, "names a file that cannot be read: " + path);
  return text.str();
}

Status ParseJwt(const Json& v, auth::JwtConfig* jwt) {
  if (!v.is_object()) {
    return Bad("jwt",
               "needs an object ({\"hs256_secret_file\": FILE} or "
               "{\"rs256_public_key_file\": FILE}, ...)");
  }
  bool secret_given = false;
  for (const auto& [name, value] : v.as_object()) {
    std::string key = "jwt." + name;
    if (name == "hs256_secret" || name == "hs256_secret_file") {
      if (secret_given) return Bad(key, "and the other hs256 secret option exclude each other");
      secret_given = true;
      ORMDB_ASSIGN_OR_RETURN(std::string text, Text(key, value));
      if (name == "hs256_secret") {
        jwt->hs256_secret = text;
      } else {
        ORMDB_ASSIGN_OR_RETURN(jwt->hs256_secret, ReadConfigFile(key, text));
        // `echo secret > file` leaves a newline that is not part of it.
        if (!jwt->hs256_secret.empty() && jwt->hs256_secret.back() == '\n') {
          jwt->hs256_secret.pop_back();
          if (!jwt->hs256_secret.empty() && jwt->hs256_secret.back() == '\r') {
            jwt->hs256_secret.pop_back();
          }
        }
      }
      if (jwt->hs256_secret.size() < 32) {
        return Bad(key, "must be at least 32 bytes (RFC 7518: as long as the SHA-256 hash)");
      }
    } else if (name == "rs256_public_key_file") {
      ORMDB_ASSIGN_OR_RETURN(std::string path, Text(key, value));
      ORMDB_ASSIGN_OR_RETURN(jwt->rs256_public_key_pem, ReadConfigFile(key, path));
      auth::JwtConfig only_key;
      only_key.rs256_public_key_pem = jwt->rs256_public_key_pem;
      Status st = auth::ValidateJwtConfig(only_key);
      if (!st.ok()) return Bad(key, "(" + path + "): " + st.message());
    } else if (name == "issuer") {
      ORMDB_ASSIGN_OR_RETURN(jwt->issuer, Text(key, value));
    } else if (name == "audience") {
      ORMDB_ASSIGN_OR_RETURN(jwt->audience, Text(key, value));
    } else if (name == "roles_claim") {
      ORMDB_ASSIGN_OR_RETURN(jwt->roles_claim, Text(key, value));
      if (jwt->roles_claim.empty()) return Bad(key, "needs a claim name");
    } else if (name == "leeway_seconds") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t s, Count(key, value));
      if (s > 3600) return Bad(key, "is at most 3600");
      jwt->leeway_seconds = static_cast<int64_t>(s);
    } else {
      return Bad(key,
                 "is not a jwt option (hs256_secret, hs256_secret_file, rs256_public_key_file, "
                 "issuer, audience, roles_claim, leeway_seconds)");
    }
  }
  if (!jwt->enabled()) {
    return Bad("jwt", "needs a key: hs256_secret, hs256_secret_file or rs256_public_key_file");
  }
  Status st = auth::ValidateJwtConfig(*jwt);
  if (!st.ok()) return Bad("jwt", st.message());
  return Status::Ok();
}

}  // namespace

Status ParseServerConfig(std::string_view json, ServerOptions* server, OpenOptions* database) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return parsed.status().WithContext("config");
  if (!parsed->is_object()) return InvalidArgument("config: needs a JSON object");
  for (const auto& [key, v] : parsed->as_object()) {
    if (key == "listen") {
      ORMDB_ASSIGN_OR_RETURN(server->listen, Text(key, v));
    } else if (key == "listen_direct") {
      ORMDB_ASSIGN_OR_RETURN(server->listen_direct, Text(key, v));
    } else if (key == "http_listen") {
      ORMDB_ASSIGN_OR_RETURN(server->http_listen, Text(key, v));
      server->http_optional = false;
    } else if (key == "slow_query_ms") {
      if (!v.is_int()) return Bad(key, "needs a whole number (0: every fetch, negative: off)");
      server->slow_query_ms = v.as_int();
    } else if (key == "log_level") {
      ORMDB_ASSIGN_OR_RETURN(std::string level, Text(key, v));
      auto parsed = observability::ParseLogLevel(level);
      if (!parsed.ok()) return Bad(key, "is debug, info, warn or error");
      server->log_level = *parsed;
    } else if (key == "keys") {
      ORMDB_RETURN_IF_ERROR(ParseKeys(v, server));
    } else if (key == "jwt") {
      ORMDB_RETURN_IF_ERROR(ParseJwt(v, &server->jwt));
    } else if (key == "audit_dir") {
      ORMDB_ASSIGN_OR_RETURN(server->audit_dir, Text(key, v));
      if (server->audit_dir.empty()) return Bad(key, "needs a directory");
      server->audit = true;
    } else if (key == "audit") {
      if (!v.is_bool()) return Bad(key, "needs true or false");
      server->audit = v.as_bool();
    } else if (key == "tls") {
      if (!v.is_object()) return Bad(key, "needs {\"cert\": FILE, \"key\": FILE}");
      for (const auto& [name, f] : v.as_object()) {
        if (name == "cert") {
          ORMDB_ASSIGN_OR_RETURN(server->tls_cert_file, Text("tls.cert", f));
        } else if (name == "key") {
          ORMDB_ASSIGN_OR_RETURN(server->tls_key_file, Text("tls.key", f));
        } else {
          return Bad("tls." + name, "is not a tls option (cert, key)");
        }
      }
    } else if (key == "contexts") {
      ORMDB_ASSIGN_OR_RETURN(server->contexts, Count(key, v));
      if (server->contexts == 0) return Bad(key, "must be at least 1");
    } else if (key == "inline_reads") {
      if (!v.is_bool()) return Bad(key, "needs true or false");
      server->inline_reads = v.as_bool();
    } else if (key == "read_threads") {
      ORMDB_ASSIGN_OR_RETURN(server->read_threads, Count(key, v));
    } else if (key == "max_request_bytes") {
      ORMDB_ASSIGN_OR_RETURN(server->max_request_bytes, Count(key, v));
    } else if (key == "max_frame_bytes") {
      ORMDB_ASSIGN_OR_RETURN(server->max_frame_bytes, Count(key, v));
      if (server->max_frame_bytes < 4096) return Bad(key, "must be at least 4096");
    } else if (key == "max_request_frame_bytes") {
      ORMDB_ASSIGN_OR_RETURN(server->max_request_frame_bytes, Count(key, v));
      if (server->max_request_frame_bytes < 4096) return Bad(key, "must be at least 4096");
    } else if (key == "max_connections") {
      ORMDB_ASSIGN_OR_RETURN(server->max_connections, Count(key, v));
      if (server->max_connections == 0) return Bad(key, "must be at least 1");
    } else if (key == "max_continuations") {
      ORMDB_ASSIGN_OR_RETURN(server->max_continuations, Count(key, v));
      if (server->max_continuations == 0) return Bad(key, "must be at least 1");
    } else if (key == "max_continuations_per_principal") {
      ORMDB_ASSIGN_OR_RETURN(server->max_continuations_per_principal, Count(key, v));
      if (server->max_continuations_per_principal == 0) return Bad(key, "must be at least 1");
    } else if (key == "max_continuation_bytes") {
      ORMDB_ASSIGN_OR_RETURN(server->max_continuation_bytes, Count(key, v));
    } else if (key == "max_upload_bytes") {
      ORMDB_ASSIGN_OR_RETURN(server->max_upload_bytes, Count(key, v));
    } else if (key == "max_watches") {
      ORMDB_ASSIGN_OR_RETURN(server->max_watches, Count(key, v));
    } else if (key == "max_watches_per_principal") {
      ORMDB_ASSIGN_OR_RETURN(server->max_watches_per_principal, Count(key, v));
    } else if (key == "request_id_cache") {
      ORMDB_ASSIGN_OR_RETURN(server->request_id_cache, Count(key, v));
    } else if (key == "continuation_idle_ms") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t ms, Count(key, v));
      server->continuation_idle_ms = static_cast<int64_t>(ms);
    } else if (key == "max_watch_wait_ms") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t ms, Count(key, v));
      server->max_watch_wait_ms = static_cast<int64_t>(ms);
    } else if (key == "shutdown_grace_ms") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t ms, Count(key, v));
      server->shutdown_grace_ms = static_cast<int64_t>(ms);
    } else if (key == "retention_seconds") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t s, Count(key, v));
      database->retention_seconds = static_cast<int64_t>(s);
    } else if (key == "row_cache_mb") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t mb, Count(key, v));
      if (mb > (uint64_t{1} << 20)) return Bad(key, "must be at most 1048576 (1 TiB)");
      database->row_cache_bytes = static_cast<size_t>(mb) << 20;
    } else if (key == "retention_versions") {
      ORMDB_ASSIGN_OR_RETURN(database->retention_versions, Count(key, v));
    } else if (key == "subscriber_max_lag_versions") {
      ORMDB_ASSIGN_OR_RETURN(database->subscriber_max_lag_versions, Count(key, v));
    } else if (key == "subscriber_idle_seconds") {
      ORMDB_ASSIGN_OR_RETURN(uint64_t s, Count(key, v));
      database->subscriber_idle_seconds = static_cast<int64_t>(s);
    } else if (key == "budget") {
      if (!v.is_object()) return Bad(key, "needs an object");
      for (const auto& [name, n] : v.as_object()) {
        if (name == "on_exceed") {
          ORMDB_ASSIGN_OR_RETURN(std::string mode, Text("budget.on_exceed", n));
          if (mode != "error" && mode != "truncate") {
            return Bad("budget.on_exceed", "is error or truncate");
          }
          database->budget.on_exceed = mode == "truncate" ? OnExceed::kTruncate : OnExceed::kError;
          continue;
        }
        ORMDB_ASSIGN_OR_RETURN(uint64_t c, Count("budget." + name, n));
        if (name == "max_entities") {
          database->budget.max_entities = c;
        } else if (name == "max_edges") {
          database->budget.max_edges = c;
        } else if (name == "max_depth") {
          database->budget.max_depth = c;
        } else if (name == "max_bytes") {
          database->budget.max_bytes = c;
        } else if (name == "max_scanned_rows") {
          database->budget.max_scanned_rows = c;
        } else {
          return Bad("budget." + name,
                     "is not a budget (max_entities, max_edges, max_depth, max_bytes, "
                     "max_scanned_rows, on_exceed)");
        }
      }
    } else {
      return Bad(key, "is not a server option (see docs/PROTOCOL.md)");
    }
  }
  return Status::Ok();
}

bool IsLocalUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme == "ipc" || scheme == "inproc") return true;
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view host;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
  } else {
    host = rest.substr(0, rest.rfind(':'));
  }
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8 written as a dotted quad; "127.example.com" is a name.
  int parts = 0;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view part =
        host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (part.empty() || part.size() > 3) return false;
    for (char ch : part) {
      if (ch < '0' || ch > '9') return false;
    }
    if (std::stoi(std::string(part)) > 255) return false;
    if (parts == 0 && part != "127") return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

}  // namespace ormdb::server
