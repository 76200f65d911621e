// The JSON form of a schema (`ormdb schema show --json`): enums, entities
// with their fields, relations, indexes and checks, and edge relations.
#pragma once

#include "catalog/compiled_schema.h"
#include "common/json.h"

namespace ormdb::catalog {

// {"version": N, "enums": [...], "entities": [{"name", "id": "id"|"uuid",
//  "fields": [{"name", "type", "optional", ...}], "relations": [...],
//  "indexes": [{"fields": [...], "unique", "automatic"}], "checks": [...]}],
//  "relations": [{"name", "from", "to"}]}
Json SchemaToJson(const CompiledSchema& s);

}  // namespace ormdb::catalog
