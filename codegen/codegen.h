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
#include <vector>

#include "catalog/compiled_schema.h"
#include "ormdb/status.h"
#include "query/ir.h"

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

// A named fetch of a queries file (`--queries FILE`, docs/reference/
// codegen.md "Named queries"):
//
//   // comments run to the end of the line
//   query user_page User(where: email == $email) { name, posts(limit: 3) { title } }
//
// `query NAME` then a fetch in the text form (query/parser.h), as many as
// the file holds. Each $param takes the type of the field it is compared
// with.
struct NamedQuery {
  std::string name;
  query::FetchQuery fetch;
  int line = 0;  // of `query` in the file
};

// Reads a queries file and checks every fetch against `schema` (names and
// types, as a fetch is compiled). INVALID_ARGUMENT or SCHEMA_ERROR as
// "FILE:LINE:COL: ..." at the first problem: the file's own syntax, a
// fetch's (query/parser.h), an unknown name, a duplicate query name.
Result<std::vector<NamedQuery>> ParseQueries(std::string_view text, std::string_view file_name,
                                             std::shared_ptr<const catalog::CompiledSchema> schema);

// The Python of named queries (appended to GeneratePython's module): per
// query a result TypedDict of exactly its selection and a function with
// its parameters as typed keyword arguments. INVALID_ARGUMENT when a
// parameter's type cannot be told (compared with no field, or with fields
// of two types) or its name cannot be a Python argument.
Result<std::string> GeneratePythonQueries(const catalog::CompiledSchema& schema,
                                          const std::vector<NamedQuery>& queries,
                                          std::string_view file_name);

// Parses and compiles schema text (as `schema apply` would, without a
// database) and generates the client; with `queries_text`, Python only,
// the named queries of that file (`queries_file` names it in messages).
// SCHEMA_ERROR as ParseSchema and CompiledSchema::Build report it
// ("blog.ormdb:14:11: ..."), errors of the queries as ParseQueries.
Result<std::string> GenerateFromText(Language language, std::string_view schema_text,
                                     std::string_view file_name, std::string_view queries_text = {},
                                     std::string_view queries_file = {});

// The runtime part of the output (the files under codegen/runtime/).
std::string_view TypeScriptRuntime();
std::string_view PythonRuntime();

}  // namespace ormdb::codegen
