#include "clients/python/src/values.h"

#include <string>

namespace ormdb::python {
namespace py = pybind11;

namespace {

// The Python objects values are built with, looked up once. Leaked on
// purpose: destroying Python objects after the interpreter has finalized
// would crash at exit.
struct PythonTypes {
  py::object epoch;      // datetime(1970, 1, 1, tzinfo=timezone.utc)
  py::object timedelta;  // datetime.timedelta
  py::object uuid;       // uuid.UUID
  py::object json_loads;
};

const PythonTypes& Types() {
  static const PythonTypes* types = [] {
    py::module_ datetime = py::module_::import("datetime");
    py::object utc = datetime.attr("timezone").attr("utc");
    auto* t = new PythonTypes;  // NOLINT: leaked on purpose, see PythonTypes
    t->epoch = datetime.attr("datetime")(1970, 1, 1, py::arg("tzinfo") = utc);
    t->timedelta = datetime.attr("timedelta");
    t->uuid = py::module_::import("uuid").attr("UUID");
    t->json_loads = py::module_::import("json").attr("loads");
    return t;
  }();
  return *types;
}

}  // namespace

py::object ToPython(const ResultValue& v) {
  using Kind = ResultValue::Kind;
  switch (v.kind) {
    case Kind::kNull:
      return py::none();
    case Kind::kBool:
      return py::bool_(v.bool_value);
    case Kind::kInt:
      return py::int_(v.int_value);
    case Kind::kFloat:
      return py::float_(v.float_value);
    case Kind::kString:
      return py::str(v.string_value.data(), v.string_value.size());
    case Kind::kBytes:
      return py::bytes(v.string_value.data(), v.string_value.size());
    case Kind::kTimestamp:
      return Types().epoch + Types().timedelta(py::arg("microseconds") = v.int_value);
    case Kind::kUuid:
      return Types().uuid(
          py::arg("bytes") =
              py::bytes(reinterpret_cast<const char*>(v.uuid_value.data()), v.uuid_value.size()));
    case Kind::kJson:
      return Types().json_loads(py::str(v.string_value.data(), v.string_value.size()));
  }
  return py::none();
}

}  // namespace ormdb::python
