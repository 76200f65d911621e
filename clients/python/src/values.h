// Result values as Python objects, for the native module ormdb._ormdb.
//
// REQUIRES: the GIL is held (every function here builds Python objects).
#pragma once

#include <pybind11/pybind11.h>

#include "ormdb/fetch.h"

namespace ormdb::python {

// A value as the Python client gives it: None, bool, int, float, str,
// bytes, datetime.datetime (UTC, aware) for timestamps, uuid.UUID, and the
// parsed value (json.loads) of a json field.
pybind11::object ToPython(const ResultValue& value);

}  // namespace ormdb::python
