#include "codegen/codegen.h"

#include "catalog/sdl_parser.h"

namespace ormdb::codegen {

Result<Language> ParseLanguage(std::string_view word) {
  if (word == "ts" || word == "typescript") return Language::kTypeScript;
  if (word == "python" || word == "py") return Language::kPython;
  return InvalidArgument("unknown language '" + std::string(word) + "' (ts or python)");
}

std::string_view Extension(Language language) {
  return language == Language::kTypeScript ? ".ts" : ".py";
}

std::string Generate(Language language, const catalog::CompiledSchema& schema,
                     std::string_view source_name) {
  return language == Language::kTypeScript ? GenerateTypeScript(schema, source_name)
                                           : GeneratePython(schema, source_name);
}

Result<std::string> GenerateFromText(Language language, std::string_view schema_text,
                                     std::string_view file_name, std::string_view queries_text,
                                     std::string_view queries_file) {
  ORMDB_ASSIGN_OR_RETURN(catalog::Schema parsed, catalog::ParseSchema(schema_text, file_name));
  ORMDB_ASSIGN_OR_RETURN(auto compiled,
                         catalog::CompiledSchema::Build(std::move(parsed), nullptr, /*number=*/1,
                                                        /*commit_time_micros=*/0, file_name));
  std::string out = Generate(language, *compiled, file_name);
  if (queries_file.empty()) return out;
  if (language != Language::kPython) {
    return InvalidArgument(
        "named queries are generated for Python only (the TypeScript builder infers each "
        "fetch's row type)");
  }
  ORMDB_ASSIGN_OR_RETURN(auto queries, ParseQueries(queries_text, queries_file, compiled));
  ORMDB_ASSIGN_OR_RETURN(std::string functions,
                         GeneratePythonQueries(*compiled, queries, queries_file));
  return out + functions;
}

}  // namespace ormdb::codegen
