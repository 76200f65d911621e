// The schema language (catalog/sdl_parser.h) on any bytes: parse and
// resolve, then compile (defaults converted, checks parsed, ids assigned)
// both as a first version and as the next version of the blog schema, plan
// the migration from the blog schema, and dry-run it on a catalog with rows.
// What parses must print (catalog/sdl_printer.h) and parse back to the same
// definition.
#include "catalog/compiled_schema.h"
#include "catalog/migration.h"
#include "catalog/schema_json.h"
#include "catalog/sdl_parser.h"
#include "catalog/sdl_printer.h"
#include "tests/fuzz/fuzz_util.h"

namespace catalog = ormdb::catalog;
using ormdb::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = ormdb::fuzz::AsText(data, size);
  auto parsed = catalog::ParseSchema(text, "fuzz.ormdb");
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == ErrorCode::kSchemaError, parsed.status().ToString());
    return 0;
  }

  std::string printed = catalog::PrintSchema(*parsed);
  auto reparsed = catalog::ParseSchema(printed, "printed.ormdb");
  FUZZ_CHECK(reparsed.ok(), "printed schema does not parse: " + reparsed.status().ToString() +
                                "\n" + printed);
  FUZZ_CHECK(catalog::SameDefinition(*reparsed, *parsed),
             "printed schema parses to another definition:\n" + printed);

  auto first = catalog::CompiledSchema::Build(*parsed, nullptr, 1, 0, "fuzz.ormdb");
  if (!first.ok()) {
    FUZZ_CHECK(first.status().code() == ErrorCode::kSchemaError, first.status().ToString());
    return 0;
  }
  ormdb::ToJson(catalog::SchemaToJson(**first));
  catalog::DiffSchemas(nullptr, **first).ToText();

  ormdb::fuzz::BlogStore& blog = ormdb::fuzz::BlogStore::Get();
  auto current = blog.schema();
  auto next = catalog::CompiledSchema::Build(*parsed, current.get(), current->number() + 1,
                                             1700000000000000, "fuzz.ormdb");
  if (next.ok()) {
    catalog::MigrationPlan plan = catalog::DiffSchemas(current.get(), **next);
    plan.ToText();
    plan.ToJsonText();
    plan.Summary();
  } else {
    FUZZ_CHECK(next.status().code() == ErrorCode::kSchemaError, next.status().ToString());
  }
  auto dry = blog.DryRunSchema(text);
  ormdb::fuzz::CheckNotInternal(dry.status(), "schema dry run");
  return 0;
}
