// ormdb._ormdb: the native half of the Python client (clients/python/ormdb
// is the other). A thin layer over the public C++ API (include/ormdb/):
// requests and replies cross as the JSON text of docs/reference, fetch and
// select results stay C++ objects that Python reads lazily.
//
// Every call into the engine or the network releases the GIL, so other
// Python threads run while the database works; a Database handle may be
// used from several threads at once (ormdb::Database is thread-safe).
// Errors are raised as the ormdb.Error subclass of their code (see
// ormdb/_errors.py).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "clients/python/src/values.h"
#include "ormdb/database.h"

namespace ormdb::python {
namespace py = pybind11;
namespace {

// A failed Status on its way to Python (translated in the module init).
class StatusError : public std::exception {
 public:
  explicit StatusError(Status status) : status_(std::move(status)) {}
  const Status& status() const { return status_; }
  const char* what() const noexcept override { return status_.message().c_str(); }

 private:
  Status status_;
};

void Check(const Status& status) {
  if (!status.ok()) throw StatusError(status);
}

template <typename T>
T Take(Result<T> result) {
  Check(result.status());
  return std::move(result).value();
}

// A fetch result shared by the Python objects that read it: a ResultObject
// borrows from its FetchResult, so each Object holds the result alive.
struct Fetched {
  std::shared_ptr<const FetchResult> result;
  std::vector<ResultObject> roots;
};

struct Object {
  std::shared_ptr<const Fetched> owner;
  ResultObject object;
};

std::vector<Object> Wrap(const std::shared_ptr<const Fetched>& owner,
                         const std::vector<ResultObject>& objects) {
  std::vector<Object> out;
  out.reserve(objects.size());
  for (const ResultObject& o : objects) out.push_back(Object{owner, o});
  return out;
}

py::dict StatsDict(const FetchStats& s) {
  py::dict d;
  d["entities"] = s.entities;
  d["edges"] = s.edges;
  d["bytes"] = s.bytes;
  d["truncated"] = s.truncated;
  if (s.truncated) d["truncated_at"] = s.truncated_at;
  return d;
}

std::optional<OnExceed> ParseOnExceed(const std::optional<std::string>& on_exceed) {
  if (!on_exceed) return std::nullopt;
  if (*on_exceed == "error") return OnExceed::kError;
  if (*on_exceed == "truncate") return OnExceed::kTruncate;
  throw StatusError(InvalidArgument("on_exceed must be \"error\" or \"truncate\", not " +
                                    QuoteForMessage(*on_exceed)));
}

// The options every fetch-like call takes, in the order of the Python
// keyword arguments (ormdb/_database.py).
FetchOptions MakeFetchOptions(std::optional<uint64_t> as_of, std::optional<uint64_t> max_entities,
                              std::optional<uint64_t> max_edges, std::optional<uint64_t> max_depth,
                              std::optional<uint64_t> max_bytes,
                              std::optional<uint64_t> max_scanned_rows,
                              const std::optional<std::string>& on_exceed) {
  FetchOptions o;
  o.as_of = as_of;
  o.max_entities = max_entities;
  o.max_edges = max_edges;
  o.max_depth = max_depth;
  o.max_bytes = max_bytes;
  o.max_scanned_rows = max_scanned_rows;
  o.on_exceed = ParseOnExceed(on_exceed);
  return o;
}

// The handle Python holds. close() drops the database; a call running in
// another thread keeps its own reference until it returns.
class PyDatabase {
 public:
  explicit PyDatabase(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  std::shared_ptr<Database> db() const {
    std::shared_ptr<Database> db = db_;
    if (!db) throw StatusError(InvalidArgument("the database is closed"));
    return db;
  }
  void Close() {
    std::shared_ptr<Database> db = std::move(db_);
    py::gil_scoped_release release;
    db.reset();
  }
  bool closed() const { return db_ == nullptr; }

 private:
  std::shared_ptr<Database> db_;
};

// Runs `fn(database)` with the GIL released.
template <typename Fn>
auto Released(const PyDatabase& handle, Fn&& fn) {
  std::shared_ptr<Database> db = handle.db();
  py::gil_scoped_release release;
  return fn(*db);
}

PyDatabase Open(const std::string& path, bool create_if_missing,
                std::optional<size_t> initial_map_size, std::optional<size_t> max_map_size,
                std::optional<uint64_t> retention_versions,
                std::optional<int64_t> retention_seconds, std::optional<uint64_t> max_entities,
                std::optional<uint64_t> max_edges, std::optional<uint64_t> max_depth,
                std::optional<uint64_t> max_bytes, std::optional<uint64_t> max_scanned_rows,
                const std::optional<std::string>& on_exceed) {
  OpenOptions o;
  o.create_if_missing = create_if_missing;
  if (initial_map_size) o.initial_map_size = *initial_map_size;
  if (max_map_size) o.max_map_size = *max_map_size;
  if (retention_versions) o.retention_versions = *retention_versions;
  if (retention_seconds) o.retention_seconds = *retention_seconds;
  if (max_entities) o.budget.max_entities = *max_entities;
  if (max_edges) o.budget.max_edges = *max_edges;
  if (max_depth) o.budget.max_depth = *max_depth;
  if (max_bytes) o.budget.max_bytes = *max_bytes;
  if (max_scanned_rows) o.budget.max_scanned_rows = *max_scanned_rows;
  if (std::optional<OnExceed> e = ParseOnExceed(on_exceed)) o.budget.on_exceed = *e;
  py::gil_scoped_release release;
  return PyDatabase(Take(Database::Open(path, o)));
}

PyDatabase Connect(const std::string& url, const std::string& key, const std::string& tls_ca_file,
                   const std::string& tls_server_name, int64_t timeout_ms,
                   const std::string& token) {
  ConnectOptions o;
  o.key = key;
  o.token = token;
  o.tls_ca_file = tls_ca_file;
  o.tls_server_name = tls_server_name;
  o.request_timeout = std::chrono::milliseconds(timeout_ms);
  py::gil_scoped_release release;
  return PyDatabase(Take(Database::Connect(url, o)));
}

void RaiseStatus(const Status& status) {
  py::object error =
      py::module_::import("ormdb._errors")
          .attr("from_status")(std::string(ErrorCodeName(status.code())), status.message());
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
}

void DefineResults(py::module_& m) {
  py::class_<Object>(m, "Object")
      .def_property_readonly("entity",
                             [](const Object& o) { return std::string(o.object.entity()); })
      .def_property_readonly("id", [](const Object& o) { return ToPython(o.object.id()); })
      .def(
          "value",
          [](const Object& o, std::string_view field, py::object missing) -> py::object {
            std::optional<ResultValue> v = o.object.Get(field);
            return v ? ToPython(*v) : missing;
          },
          py::arg("field"), py::arg("missing"))
      .def("related",
           [](const Object& o, std::string_view relation) {
             return Wrap(o.owner, o.object.Related(relation));
           })
      .def("related_next", [](const Object& o, std::string_view relation) {
        return o.object.RelatedNext(relation);
      });

  py::class_<Fetched, std::shared_ptr<Fetched>>(m, "FetchResult")
      .def_property_readonly("version", [](const Fetched& f) { return f.result->version(); })
      .def_property_readonly("next", [](const Fetched& f) { return f.result->next(); })
      .def_property_readonly("stats", [](const Fetched& f) { return StatsDict(f.result->stats()); })
      .def("__len__", [](const Fetched& f) { return f.roots.size(); })
      .def("root",
           [](const std::shared_ptr<Fetched>& f, size_t i) {
             if (i >= f->roots.size()) throw py::index_error("root index out of range");
             return Object{f, f->roots[i]};
           })
      .def("roots", [](const std::shared_ptr<Fetched>& f) { return Wrap(f, f->roots); })
      .def("to_json",
           [](const Fetched& f) {
             py::gil_scoped_release release;
             return f.result->ToJson();
           })
      .def("to_blocks_json", [](const Fetched& f) {
        py::gil_scoped_release release;
        return f.result->ToBlocksJson();
      });

  py::class_<SelectResult, std::shared_ptr<SelectResult>>(m, "SelectResult")
      .def_property_readonly("version", &SelectResult::version)
      .def_property_readonly("next", &SelectResult::next)
      .def_property_readonly("columns",
                             [](const SelectResult& r) {
                               std::vector<std::string> names;
                               for (size_t c = 0; c < r.column_count(); ++c) {
                                 names.emplace_back(r.column_name(c));
                               }
                               return names;
                             })
      .def("__len__", &SelectResult::row_count)
      .def("row",
           [](const SelectResult& r, size_t row) {
             if (row >= r.row_count()) throw py::index_error("row index out of range");
             py::tuple t(r.column_count());
             for (size_t c = 0; c < r.column_count(); ++c) t[c] = ToPython(r.Get(row, c));
             return t;
           })
      .def("to_json", &SelectResult::ToJson, py::call_guard<py::gil_scoped_release>())
      .def("to_csv", &SelectResult::ToCsv, py::call_guard<py::gil_scoped_release>());
}

void DefineDatabase(py::module_& m) {
  using OptU64 = std::optional<uint64_t>;
  using OptStr = std::optional<std::string>;
  py::class_<PyDatabase>(m, "Database")
      .def_static("open", &Open, py::arg("path"), py::arg("create_if_missing") = true,
                  py::arg("initial_map_size") = py::none(), py::arg("max_map_size") = py::none(),
                  py::arg("retention_versions") = py::none(),
                  py::arg("retention_seconds") = py::none(), py::arg("max_entities") = py::none(),
                  py::arg("max_edges") = py::none(), py::arg("max_depth") = py::none(),
                  py::arg("max_bytes") = py::none(), py::arg("max_scanned_rows") = py::none(),
                  py::arg("on_exceed") = py::none())
      .def_static("connect", &Connect, py::arg("url"), py::arg("key") = "",
                  py::arg("tls_ca_file") = "", py::arg("tls_server_name") = "",
                  py::arg("timeout_ms") = 60000, py::arg("token") = "")
      .def(
          "as_principal",
          [](const PyDatabase& h, const std::string& principal_json) {
            Principal p = Take(Principal::FromJson(principal_json));
            return PyDatabase(Released(h, [&](Database& db) { return Take(db.As(p)); }));
          },
          py::arg("principal_json"))
      .def("close", &PyDatabase::Close)
      .def_property_readonly("closed", &PyDatabase::closed)
      .def(
          "apply_schema",
          [](const PyDatabase& h, const std::string& text, bool dry_run, bool allow_destructive,
             const std::string& file_name) {
            ApplySchemaOptions o;
            o.dry_run = dry_run;
            o.allow_destructive = allow_destructive;
            o.file_name = file_name;
            return Released(h,
                            [&](Database& db) { return Take(db.ApplySchema(text, o)).ToJson(); });
          },
          py::arg("text"), py::arg("dry_run") = false, py::arg("allow_destructive") = false,
          py::arg("file_name") = "schema")
      .def("schema_text",
           [](const PyDatabase& h) {
             return Released(h, [](Database& db) { return Take(db.SchemaText()); });
           })
      .def("schema_json",
           [](const PyDatabase& h) {
             return Released(h, [](Database& db) { return Take(db.SchemaJson()); });
           })
      .def(
          "mutate",
          [](const PyDatabase& h, const std::string& batch_json, const std::string& request_key) {
            WriteOptions o;
            o.request_key = request_key;
            return Released(h, [&](Database& db) { return Take(db.Mutate(batch_json, o)).json; });
          },
          py::arg("batch_json"), py::arg("request_key") = "")
      .def(
          "get",
          [](const PyDatabase& h, const std::string& entity, const std::string& id) {
            return Released(h, [&](Database& db) { return Take(db.Get(entity, id)); });
          },
          py::arg("entity"), py::arg("id"))
      .def(
          "fetch",
          [](const PyDatabase& h, const std::string& query, const std::string& params_json,
             OptU64 as_of, OptU64 max_entities, OptU64 max_edges, OptU64 max_depth,
             OptU64 max_bytes, OptU64 max_scanned_rows, const OptStr& on_exceed) {
            FetchOptions o = MakeFetchOptions(as_of, max_entities, max_edges, max_depth, max_bytes,
                                              max_scanned_rows, on_exceed);
            return Released(h, [&](Database& db) {
              auto fetched = std::make_shared<Fetched>();
              fetched->result = Take(db.Fetch(query, params_json, o));
              fetched->roots = fetched->result->roots();
              return fetched;
            });
          },
          py::arg("query"), py::arg("params_json") = "{}", py::arg("as_of") = py::none(),
          py::arg("max_entities") = py::none(), py::arg("max_edges") = py::none(),
          py::arg("max_depth") = py::none(), py::arg("max_bytes") = py::none(),
          py::arg("max_scanned_rows") = py::none(), py::arg("on_exceed") = py::none())
      .def(
          "explain",
          [](const PyDatabase& h, const std::string& query, const std::string& params_json,
             bool analyze, bool json, OptU64 as_of) {
            ExplainOptions o;
            o.analyze = analyze;
            o.json = json;
            o.fetch.as_of = as_of;
            return Released(h,
                            [&](Database& db) { return Take(db.Explain(query, params_json, o)); });
          },
          py::arg("query"), py::arg("params_json") = "{}", py::arg("analyze") = false,
          py::arg("json") = false, py::arg("as_of") = py::none())
      .def(
          "select",
          [](const PyDatabase& h, const std::string& text, const std::string& params_json,
             OptU64 as_of, OptU64 max_scanned_rows, OptU64 max_rows) {
            SelectOptions o;
            o.as_of = as_of;
            o.max_scanned_rows = max_scanned_rows;
            o.max_rows = max_rows;
            return Released(h, [&](Database& db) {
              return std::shared_ptr<SelectResult>(Take(db.Select(text, params_json, o)));
            });
          },
          py::arg("text"), py::arg("params_json") = "{}", py::arg("as_of") = py::none(),
          py::arg("max_scanned_rows") = py::none(), py::arg("max_rows") = py::none())
      .def(
          "explain_select",
          [](const PyDatabase& h, const std::string& text, const std::string& params_json,
             bool analyze, bool json, OptU64 as_of) {
            ExplainOptions o;
            o.analyze = analyze;
            o.json = json;
            o.select.as_of = as_of;
            return Released(
                h, [&](Database& db) { return Take(db.ExplainSelect(text, params_json, o)); });
          },
          py::arg("text"), py::arg("params_json") = "{}", py::arg("analyze") = false,
          py::arg("json") = false, py::arg("as_of") = py::none())
      .def(
          "watch",
          [](const PyDatabase& h, const std::vector<std::string>& entities, OptU64 after,
             int64_t wait_ms, size_t max_events, const std::string& subscriber) {
            WatchOptions o;
            o.entities = entities;
            o.from = after;
            o.wait = std::chrono::milliseconds(wait_ms);
            o.max_events = max_events;
            o.subscriber = subscriber;
            WatchBatch batch = Released(h, [&](Database& db) { return Take(db.Watch(o)); });
            return std::make_pair(std::move(batch.events), batch.token);
          },
          py::arg("entities"), py::arg("after") = py::none(), py::arg("wait_ms") = 0,
          py::arg("max_events") = 1000, py::arg("subscriber") = "")
      .def("stats",
           [](const PyDatabase& h) {
             return Released(h, [](Database& db) { return Take(db.Stats()); });
           })
      .def("current_version", [](const PyDatabase& h) {
        return Released(h, [](Database& db) { return db.CurrentVersion(); });
      });
}

}  // namespace
}  // namespace ormdb::python

PYBIND11_MODULE(_ormdb, m) {
  using namespace ormdb::python;
  m.doc() = "The native half of the ormdb Python client; use the ormdb package.";
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      RaiseStatus(e.status());
    }
  });
  DefineResults(m);
  DefineDatabase(m);
}
