#include "query/import.h"

#include <algorithm>

#include "common/utf8.h"
#include "query/json_values.h"

namespace ormdb::query {
namespace {

constexpr uint64_t kProgressEvery = 10000;
// Bytes taken from the stream per step while looking for the end of a line.
constexpr size_t kReadChunk = size_t{64} << 10;

std::string LineLabel(size_t line) { return "line " + std::to_string(line); }

Status TooLong(size_t max_bytes) {
  return InvalidArgument("longer than " + std::to_string(max_bytes) +
                         " bytes, the longest line an import reads; split the line or the value");
}

}  // namespace

namespace {

enum class LineRead { kLine, kEnd, kTooLong };

// ReadImportLine, with a line past `max_bytes` reported as kTooLong (so that
// a caller reading a part of a longer record can name its own limit).
Result<LineRead> ReadLineWithin(std::istream& in, size_t max_bytes, std::string* line) {
  line->clear();
  char buf[kReadChunk];
  bool any = false;
  while (true) {
    // Stores up to kReadChunk - 1 bytes; stops after a '\n' (taken, not
    // stored) or at the end of the input; failbit with a full buffer and no
    // '\n' yet, or with nothing read at the end.
    in.getline(buf, sizeof buf);
    if (in.bad()) return InvalidArgument("read error");
    const size_t n = static_cast<size_t>(in.gcount());
    if (!in.fail()) {
      const size_t stored = in.eof() ? n : n - 1;  // the '\n' counts in gcount
      if (stored > max_bytes - std::min(max_bytes, line->size())) return LineRead::kTooLong;
      line->append(buf, stored);
      return LineRead::kLine;
    }
    if (in.eof()) return any ? LineRead::kLine : LineRead::kEnd;
    // A full buffer without the '\n': go on reading this line.
    in.clear();
    any = true;
    if (n > max_bytes - std::min(max_bytes, line->size())) return LineRead::kTooLong;
    line->append(buf, n);
  }
}

}  // namespace

Result<bool> ReadImportLine(std::istream& in, size_t max_bytes, std::string* line) {
  ORMDB_ASSIGN_OR_RETURN(LineRead r, ReadLineWithin(in, max_bytes, line));
  if (r == LineRead::kTooLong) return TooLong(max_bytes);
  return r == LineRead::kLine;
}

Result<std::vector<CsvField>> ReadCsvRecord(std::string line, std::istream& in, size_t* lines_used,
                                            size_t max_bytes) {
  std::vector<CsvField> fields;
  CsvField cur;
  bool quoted = false, after_quote = false;
  *lines_used = 1;
  size_t record_bytes = line.size();
  if (record_bytes > max_bytes) return TooLong(max_bytes);
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      std::string next;
      ++*lines_used;
      if (record_bytes >= max_bytes) return TooLong(max_bytes);  // no room for the '\n'

      ORMDB_ASSIGN_OR_RETURN(
          LineRead r, ReadLineWithin(in, max_bytes - std::min(max_bytes, record_bytes + 1), &next));
      if (r == LineRead::kTooLong) return TooLong(max_bytes);
      if (r == LineRead::kEnd) {
        --*lines_used;
        return InvalidArgument("unterminated quoted field");
      }
      record_bytes += 1 + next.size();
      cur.text.push_back('\n');
      line = std::move(next);
      i = 0;
      continue;
    }
    char c = line[i++];
    if (quoted) {
      if (c != '"') {
        cur.text.push_back(c);
      } else if (i < line.size() && line[i] == '"') {
        cur.text.push_back('"');
        ++i;
      } else {
        quoted = false;
        after_quote = true;
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(cur));
      cur = CsvField();
      after_quote = false;
    } else if (c == '"' && cur.text.empty() && !cur.quoted) {
      quoted = true;
      cur.quoted = true;
    } else if (c == '\r' && i == line.size()) {
      // CRLF line ends.
    } else if (after_quote) {
      return InvalidArgument("text after a closing quote");
    } else {
      cur.text.push_back(c);
    }
  }
  fields.push_back(std::move(cur));
  return fields;
}

Result<MutationBatch> ReadImport(const catalog::CompiledSchema& schema, std::string_view what,
                                 ImportFormat format, std::istream& in,
                                 const std::function<void(uint64_t lines)>& progress,
                                 size_t max_line_bytes) {
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
  while (true) {
    size_t first = ++line_no;
    auto read = ReadImportLine(in, max_line_bytes, &line);
    if (!read.ok()) return read.status().WithContext(LineLabel(first));
    if (!*read) {
      --line_no;
      break;
    }
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
      auto cells = ReadCsvRecord(std::move(line), in, &used, max_line_bytes);
      line_no += used - 1;
      // A record spanning lines fails at the line where the problem is.
      if (!cells.ok()) return cells.status().WithContext(LineLabel(line_no));
      for (size_t c = 0; c < cells->size(); ++c) {
        const std::string& text = (*cells)[c].text;
        if (size_t bad = FindInvalidUtf8(text); bad != std::string::npos) {
          std::string where = LineLabel(first) + ", field " + std::to_string(c + 1);
          if (!header.empty() && c < header.size()) where += " (" + header[c] + ")";
          if (header.empty()) where += " of the header";
          return InvalidArgument(where + ": expected valid UTF-8, found byte " +
                                 HexByte(static_cast<unsigned char>(text[bad])) + " at byte " +
                                 std::to_string(bad + 1) + " of the field");
        }
      }
      if (header.empty()) {
        for (CsvField& f : *cells) header.push_back(std::move(f.text));
        continue;
      }
      if (cells->size() != header.size()) {
        return fail(InvalidArgument("expected " + std::to_string(header.size()) + " cells, found " +
                                    std::to_string(cells->size())));
      }
      for (size_t c = 0; c < header.size(); ++c) {
        const std::string& name = header[c];
        const CsvField& cell = (*cells)[c];
        Json v;
        if (cell.text.empty() && !cell.quoted) {
          v = Json();  // an unquoted empty field is null
        } else if (!relation.empty() || name == "id" ||
                   (entity && entity->FieldIndex(name) >= 0 &&
                    entity->fields[entity->FieldIndex(name)].type == catalog::FieldType::kRef)) {
          // Ids: an integer, or a uuid string ("" is a string: refused).
          auto j = ParseJson(cell.text);
          v = j.ok() && j->is_int() ? std::move(*j) : Json(cell.text);
        } else if (entity && entity->FieldIndex(name) >= 0) {
          auto val = FieldValueFromText(entity->name, entity->fields[entity->FieldIndex(name)],
                                        cell.text, cell.quoted);
          if (!val.ok()) return fail(val.status());
          v = ValueToJson(*val);
        } else {
          v = Json(cell.text);  // an unknown column: reported by the insert
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
  if (progress) progress(line_no);
  return batch;
}

}  // namespace ormdb::query
