#include "server/console.h"

#include "common/json.h"
#include "observability/console_assets.h"

namespace ormdb::server {
namespace {

using protocol::HttpRequest;
using protocol::HttpResponse;

constexpr const char* kJson = "application/json";

HttpResponse JsonError(const Status& s) {
  int status = 400;
  switch (s.code()) {
    case ErrorCode::kNotFound:
      status = 404;
      break;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated:
      status = 401;
      break;
    case ErrorCode::kUnavailable:
    case ErrorCode::kResourceExhausted:
      status = 503;
      break;
    case ErrorCode::kInternal:
      status = 500;
      break;
    default:
      break;
  }
  Json e = Json::Object();
  e.Set("code", std::string(ErrorCodeName(s.code())));
  e.Set("message", s.message());
  Json out = Json::Object();
  out.Set("error", std::move(e));
  return HttpResponse{status, kJson, ToJson(out)};
}

HttpResponse Unauthorized() {
  return JsonError(
      Status(ErrorCode::kUnauthenticated,
             "this server requires an API key with a role: Authorization: Bearer KEY"));
}

Result<Json> Query(db::Engine& db, const HttpRequest& r) {
  ORMDB_ASSIGN_OR_RETURN(Json body, ParseJson(r.body));
  const Json* query = body.is_object() ? body.Find("query") : nullptr;
  if (query == nullptr || !query->is_string()) {
    return InvalidArgument("the body is {\"query\": TEXT, \"params\": {...}}");
  }
  std::string params = "{}";
  if (const Json* p = body.Find("params"); p != nullptr && !p->is_null()) {
    if (!p->is_object()) return InvalidArgument("params is a JSON object");
    params = ToJson(*p);
  }
  ORMDB_ASSIGN_OR_RETURN(auto result, db.Fetch(query->as_string(), params, FetchOptions()));
  ExplainOptions eo;
  eo.analyze = true;
  eo.json = true;
  eo.fetch.as_of = result->version();  // the plan of the snapshot shown
  Json out = Json::Object();
  ORMDB_ASSIGN_OR_RETURN(Json data, ParseJson(result->ToJson()));
  out.Set("result", std::move(data));
  auto plan = db.Explain(query->as_string(), params, eo);
  if (plan.ok()) {
    ORMDB_ASSIGN_OR_RETURN(Json p, ParseJson(*plan));
    out.Set("plan", std::move(p));
  } else {
    out.Set("plan_error", plan.status().ToString());
  }
  return out;
}

Result<Json> Changes(db::Engine& db, const HttpRequest& r) {
  Json out = Json::Object();
  auto from = r.query.find("from");
  if (from == r.query.end() || from->second.empty()) {
    out.Set("token", db.CurrentVersion());
    out.Set("events", Json::Array());
    return out;
  }
  WatchOptions o;
  char* end = nullptr;
  o.from = std::strtoull(from->second.c_str(), &end, 10);
  if (*end != '\0') return InvalidArgument("from is a version number");
  o.max_events = 200;
  ORMDB_ASSIGN_OR_RETURN(WatchBatch batch, db.Watch(o));
  Json events = Json::Array();
  for (const std::string& e : batch.events) {
    ORMDB_ASSIGN_OR_RETURN(Json j, ParseJson(e));
    events.Push(std::move(j));
  }
  out.Set("token", batch.token);
  out.Set("events", std::move(events));
  return out;
}

HttpResponse Answer(const Result<Json>& r) {
  if (!r.ok()) return JsonError(r.status());
  return HttpResponse{200, kJson, ToJson(*r)};
}

}  // namespace

std::vector<protocol::HttpRoute> ConsoleRoutes(db::Engine& db,
                                               std::function<bool(const HttpRequest&)> allowed) {
  std::vector<protocol::HttpRoute> routes;
  // The page: public (it holds no data; the API below checks the key).
  for (const observability::ConsoleAsset& a : observability::ConsoleAssets()) {
    HttpResponse file{200, std::string(a.content_type), std::string(a.body)};
    routes.push_back(
        {"GET", std::string(a.path), false, [file](const HttpRequest&) { return file; }});
    if (a.path == "/index.html") {
      routes.push_back({"GET", "/", false, [file](const HttpRequest&) { return file; }});
    }
  }
  routes.push_back({"GET", "/api/schema", false, [&db, allowed](const HttpRequest& r) {
                      if (!allowed(r)) return Unauthorized();
                      auto schema = db.SchemaJson();
                      if (!schema.ok()) return JsonError(schema.status());
                      return HttpResponse{200, kJson, *schema};
                    }});
  routes.push_back({"POST", "/api/query", false, [&db, allowed](const HttpRequest& r) {
                      if (!allowed(r)) return Unauthorized();
                      return Answer(Query(db, r));
                    }});
  routes.push_back({"GET", "/api/changes", false, [&db, allowed](const HttpRequest& r) {
                      if (!allowed(r)) return Unauthorized();
                      return Answer(Changes(db, r));
                    }});
  return routes;
}

}  // namespace ormdb::server
