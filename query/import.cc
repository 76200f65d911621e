#include "query/import.h"

#include "query/json_values.h"

namespace ormdb::query {
namespace {

constexpr uint64_t kProgressEvery = 10000;

std::string LineLabel(size_t line) { return "line " + std::to_string(line); }

}  // namespace

Result<std::vector<std::string>> ReadCsvRecord(std::string line, std::istream& in,
                                               size_t* lines_used) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false, after_quote = false;
  *lines_used = 1;
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      std::string next;
      if (!std::getline(in, next)) return InvalidArgument("unterminated quoted field");
      ++*lines_used;
      cur.push_back('\n');
      line = std::move(next);
      i = 0;
      continue;
    }
    char c = line[i++];
    if (quoted) {
      if (c != '"') {
        cur.push_back(c);
      } else if (i < line.size() && line[i] == '"') {
        cur.push_back('"');
        ++i;
      } else {
        quoted = false;
        after_quote = true;
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
      after_quote = false;
    } else if (c == '"' && cur.empty() && !after_quote) {
      quoted = true;
    } else if (c == '\r' && i == line.size()) {
      // CRLF line ends.
    } else if (after_quote) {
      return InvalidArgument("text after a closing quote");
    } else {
      cur.push_back(c);
    }
  }
  fields.push_back(std::move(cur));
  return fields;
}

Result<MutationBatch> ReadImport(const catalog::CompiledSchema& schema, std::string_view what,
                                 ImportFormat format, std::istream& in,
                                 const std::function<void(uint64_t lines)>& progress) {
  MutationBatch batch;
  batch.ops = Json::Array();
  const catalog::EntityInfo* entity = nullptr;
  std::string relation;
  if (what.find('.') != std::string_view::npos) {
    ORMDB_RETURN_IF_ERROR(schema.FindRelation(what).status());
    relation = std::string(what);
  } else {
    ORMDB_ASSIGN_OR_RETURN(entity, schema.RequireEntity(what));
  }
  std::vector<std::string> header;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    size_t first = ++line_no;
    if (progress && line_no % kProgressEvery == 0) progress(line_no);
    if (line.empty() || line == "\r") continue;
    auto fail = [&](const Status& st) { return st.WithContext(LineLabel(first)); };
    Json values = Json::Object();
    if (format == ImportFormat::kJsonLines) {
      auto j = ParseJson(line);
      if (!j.ok()) return fail(j.status());
      if (!j->is_object()) return fail(InvalidArgument("expected a JSON object"));
      values = std::move(*j);
    } else {
      size_t used = 0;
      auto cells = ReadCsvRecord(line, in, &used);
      if (!cells.ok()) return fail(cells.status());
      line_no += used - 1;
      if (header.empty()) {
        header = std::move(*cells);
        continue;
      }
      if (cells->size() != header.size()) {
        return fail(InvalidArgument("expected " + std::to_string(header.size()) + " cells, found " +
                                    std::to_string(cells->size())));
      }
      for (size_t c = 0; c < header.size(); ++c) {
        const std::string& name = header[c];
        const std::string& text = (*cells)[c];
        Json v;
        if (!relation.empty() || name == "id" ||
            (entity && entity->FieldIndex(name) >= 0 &&
             entity->fields[entity->FieldIndex(name)].type == catalog::FieldType::kRef)) {
          // Ids: an integer, or a uuid string.
          if (text.empty()) {
            v = Json();
          } else {
            auto j = ParseJson(text);
            v = j.ok() && j->is_int() ? std::move(*j) : Json(text);
          }
        } else if (entity && entity->FieldIndex(name) >= 0) {
          auto val =
              FieldValueFromText(entity->name, entity->fields[entity->FieldIndex(name)], text);
          if (!val.ok()) return fail(val.status());
          v = ValueToJson(*val);
        } else {
          v = Json(text);  // an unknown column: reported by the insert
        }
        values.Set(name, std::move(v));
      }
    }
    Json op = Json::Object();
    if (relation.empty()) {
      op.Set("op", "insert");
      op.Set("entity", entity->name);
      op.Set("values", std::move(values));
    } else {
      const Json* from = values.Find("from");
      const Json* to = values.Find("to");
      if (!from || !to || values.size() != 2) {
        return fail(InvalidArgument("a relation line is {\"from\": id, \"to\": id}"));
      }
      op.Set("op", "link");
      op.Set("relation", relation);
      op.Set("from", *from);
      op.Set("to", *to);
    }
    batch.ops.Push(std::move(op));
    batch.labels.push_back(LineLabel(first));
  }
  if (in.bad()) return InvalidArgument("read error");
  if (progress) progress(line_no);
  return batch;
}

}  // namespace ormdb::query
