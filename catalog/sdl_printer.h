// The canonical text of a Schema in the schema language (the inverse of
// catalog/sdl_parser.h), as `ormdb schema show` prints it.
//
// Layout: enums first, then entities, in the schema's order, a blank line
// between declarations, two-space indentation, one member per line. In an
// entity: `id` first, then the fields, then the collections, then @@index /
// @@unique and @@check. Indexes written as @unique / @index print as those
// field attributes; automatic indexes (on references) are not printed, since
// parsing creates them again. Strings print as JSON strings; numbers and
// @check expressions print as written.
//
// Round trip: for a schema returned by ParseSchema,
//   SameDefinition(ParseSchema(PrintSchema(s), ...).value(), s)
// holds. Edge relations print as the @many collections that declare them.
//
// Thread-safety: a pure function.
#pragma once

#include <string>

#include "catalog/schema.h"

namespace ormdb::catalog {

// REQUIRES: `schema` is valid, i.e. as ParseSchema (or the catalog) produces
// it; ids are not printed.
std::string PrintSchema(const Schema& schema);

}  // namespace ormdb::catalog
