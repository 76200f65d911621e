// Typed client code generation (`ormdb codegen ts|python SCHEMA`): turns a
// compiled schema into the source of a TypeScript module or a Python module
// holding a type for every entity and enum and a typed query builder that
// compiles to the JSON IR (docs/reference/queries.md) and to mutation
// batches (docs/reference/mutations.md). docs/reference/codegen.md is the
// manual of the generated API and of the type mapping.
//
// The output is one self-contained file: the schema's types and names,
// followed by a runtime that is the same for every schema
// (codegen/runtime/runtime.ts and runtime.py, compiled into the library).
//
// Thread-safety: every function here is pure and may run concurrently.
#pragma once

#include <string>
#include <string_view>

#include "catalog/compiled_schema.h"
#include "ormdb/status.h"

namespace ormdb::codegen {

enum class Language { kTypeScript, kPython };

// "ts" or "typescript", "python" or "py"; INVALID_ARGUMENT naming the
// accepted words otherwise.
Result<Language> ParseLanguage(std::string_view word);

// The file extension of a language's output: ".ts", ".py".
std::string_view Extension(Language language);

// The source of the typed client of `schema`. `source_name` (the schema
// file's name) is quoted in the header comment that marks the file as
// generated.
std::string GenerateTypeScript(const catalog::CompiledSchema& schema, std::string_view source_name);
std::string GeneratePython(const catalog::CompiledSchema& schema, std::string_view source_name);
std::string Generate(Language language, const catalog::CompiledSchema& schema,
                     std::string_view source_name);

// Parses and compiles schema text (as `schema apply` would, without a
// database) and generates the client. SCHEMA_ERROR as ParseSchema and
// CompiledSchema::Build report it ("blog.ormdb:14:11: ...").
Result<std::string> GenerateFromText(Language language, std::string_view schema_text,
                                     std::string_view file_name);

// The runtime part of the output (the files under codegen/runtime/).
std::string_view TypeScriptRuntime();
std::string_view PythonRuntime();

}  // namespace ormdb::codegen
