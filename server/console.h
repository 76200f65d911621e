// The web console's HTTP routes (docs/reference/observability.md
// "Console"): the page itself (plain HTML, CSS and JavaScript compiled into
// the binary, see observability/console/) and the read-only JSON API it
// calls:
//
//   GET  /api/schema             the schema as JSON (ormdb schema show --json)
//   POST /api/query              {"query", "params"} -> {"result", "plan"}: the
//                                fetch's JSON result and its EXPLAIN ANALYZE (JSON)
//                                on the same snapshot
//   GET  /api/changes?from=V     the change stream after V: {"token", "events"};
//                                without from, {"token": current, "events": []}
//
// Nothing here writes: the console is read-only. The API needs what
// /metrics needs (`allowed`: a key with a role when the server has keys);
// the static files are public.
//
// Thread-safety: the handlers run concurrently on nng's threads.
#pragma once

#include <functional>
#include <vector>

#include "db/engine.h"
#include "protocol/http.h"

namespace ormdb::server {

std::vector<protocol::HttpRoute> ConsoleRoutes(
    db::Engine& db, std::function<bool(const protocol::HttpRequest&)> allowed);

}  // namespace ormdb::server
