#include "catalog/rows.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "storage/key_encoding.h"
#include "storage/row_codec.h"

namespace ormdb::catalog {

bool ConvertStored(const Value& v, ValueType to, Value* out) {
  if (v.is_null() || v.type() == to) {
    *out = v;
    return true;
  }
  switch (v.type()) {
    case ValueType::kInt32:
      if (to == ValueType::kInt64)
        *out = Value::Int64(v.as_int32());
      else if (to == ValueType::kFloat64)
        *out = Value::Float64(v.as_int32());
      else
        return false;
      return true;
    case ValueType::kInt64:
      if (to == ValueType::kInt32) {
        int64_t x = v.as_int64();
        if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
          return false;
        }
        *out = Value::Int32(static_cast<int32_t>(x));
        return true;
      }
      if (to == ValueType::kFloat64) {
        int64_t x = v.as_int64();
        double d = static_cast<double>(x);
        if (d >= 9223372036854775808.0 || static_cast<int64_t>(d) != x) return false;
        *out = Value::Float64(d);
        return true;
      }
      if (to == ValueType::kTimestamp) {
        *out = Value::Timestamp(v.as_int64());
        return true;
      }
      return false;
    case ValueType::kTimestamp:
      if (to != ValueType::kInt64) return false;
      *out = Value::Int64(v.as_int64());
      return true;
    case ValueType::kFloat64: {
      double d = v.as_float64();
      if (to != ValueType::kInt32 && to != ValueType::kInt64) return false;
      if (!std::isfinite(d) || std::trunc(d) != d) return false;
      if (to == ValueType::kInt32) {
        if (d < std::numeric_limits<int32_t>::min() || d > std::numeric_limits<int32_t>::max()) {
          return false;
        }
        *out = Value::Int32(static_cast<int32_t>(d));
      } else {
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
        *out = Value::Int64(static_cast<int64_t>(d));
      }
      return true;
    }
    case ValueType::kString:
      if (to == ValueType::kBytes) {
        *out = Value::Bytes(v.as_string());
        return true;
      }
      return false;
    default:
      return false;
  }
}

namespace {

// The entity as it was when `row` was written (its layout decodes the row).
Result<const EntityInfo*> WrittenUnder(std::string_view row, const EntityInfo& entity,
                                       uint32_t current_number, const LayoutLookup& layouts) {
  ORMDB_ASSIGN_OR_RETURN(uint32_t number, storage::PeekRowSchemaVersion(row));
  if (number == current_number) return &entity;
  const EntityInfo* written = layouts ? layouts(number, entity.id) : nullptr;
  if (!written) {
    return Internal("row of " + entity.name + " written under unknown schema version " +
                    std::to_string(number));
  }
  return written;
}

}  // namespace

Result<DecodedRow> DecodeEntityRow(std::string_view row, const EntityInfo& entity,
                                   uint32_t current_number, const LayoutLookup& layouts) {
  ORMDB_ASSIGN_OR_RETURN(const EntityInfo* written,
                         WrittenUnder(row, entity, current_number, layouts));
  ORMDB_ASSIGN_OR_RETURN(std::vector<Value> columns, storage::DecodeRow(row, written->layout));
  DecodedRow out;
  out.fields.resize(entity.fields.size());
  for (size_t i = 0; i < entity.fields.size(); ++i) {
    const FieldInfo& f = entity.fields[i];
    if (f.column >= written->columns.size() || written->columns[f.column].field != f.id) {
      out.fields[i] = f.backfill_value;  // added after the row was written
      continue;
    }
    Value& stored = columns[f.column];
    if (stored.is_null() || stored.type() == f.physical) {
      out.fields[i] = std::move(stored);  // the common case: no conversion
      continue;
    }
    if (!ConvertStored(stored, f.physical, &out.fields[i])) {
      out.fields[i] = Value();
      out.unconvertible.push_back(i);
    }
  }
  if (entity.uuid_id && entity.id_column < columns.size()) {
    out.uuid = std::move(columns[entity.id_column]);
  }
  return out;
}

Status DecodeEntityFields(std::string_view row, const EntityInfo& entity, uint32_t current_number,
                          const LayoutLookup& layouts, const std::vector<size_t>& wanted,
                          storage::RowView* view, DecodedRow* out) {
  ORMDB_ASSIGN_OR_RETURN(const EntityInfo* written,
                         WrittenUnder(row, entity, current_number, layouts));
  ORMDB_RETURN_IF_ERROR(storage::RowView::ParseInto(row, written->layout, view));
  out->fields.resize(entity.fields.size());
  for (size_t i : wanted) {
    const FieldInfo& f = entity.fields[i];
    if (f.column >= written->columns.size() || written->columns[f.column].field != f.id) {
      out->fields[i] = f.backfill_value;
      continue;
    }
    Value stored = view->Get(f.column);
    if (stored.is_null() || stored.type() == f.physical) {
      out->fields[i] = std::move(stored);
    } else if (!ConvertStored(stored, f.physical, &out->fields[i])) {
      out->fields[i] = Value();
    }
  }
  return Status::Ok();
}

Result<std::string> EncodeEntityRow(const EntityInfo& entity, uint32_t number,
                                    const std::vector<Value>& fields, const Value& uuid) {
  std::vector<Value> columns(entity.columns.size());
  for (size_t i = 0; i < entity.fields.size() && i < fields.size(); ++i) {
    columns[entity.fields[i].column] = fields[i];
  }
  if (entity.uuid_id) columns[entity.id_column] = uuid;
  return storage::EncodeRow(number, entity.layout, columns);
}

std::string IndexKeyValues(const IndexInfo& index, const DecodedRow& row, bool* any_null) {
  std::string out;
  *any_null = false;
  if (index.id_index) {
    storage::AppendKey(&out, row.uuid);
    *any_null = row.uuid.is_null();
    return out;
  }
  for (size_t pos : index.fields) {
    const Value& v = row.fields[pos];
    if (v.is_null()) *any_null = true;
    storage::AppendKey(&out, v);
  }
  return out;
}

std::string DescribeField(const EntityInfo& entity, size_t field, const Value& v) {
  return entity.name + "." + entity.fields[field].name + " = " + v.DebugString();
}

Status CheckRowConstraints(const EntityInfo& entity, const DecodedRow& row, const Value& id) {
  for (size_t i : row.unconvertible) {
    return ConstraintViolation("field " + entity.name + "." + entity.fields[i].name +
                               ": the stored value does not fit " +
                               std::string(ValueTypeName(entity.fields[i].physical)));
  }
  for (size_t i = 0; i < entity.fields.size(); ++i) {
    const FieldInfo& f = entity.fields[i];
    const Value& v = row.fields[i];
    if (v.is_null()) {
      if (!f.optional) {
        return ConstraintViolation("field " + entity.name + "." + f.name + " is required");
      }
      continue;
    }
    if (f.enum_def && std::find(f.enum_def->values.begin(), f.enum_def->values.end(),
                                v.as_string()) == f.enum_def->values.end()) {
      return ConstraintViolation(DescribeField(entity, i, v) + ": not a value of enum " +
                                 f.enum_def->name);
    }
  }
  auto lookup = [&](std::string_view name) -> Value {
    if (name == "id") return id;
    int pos = entity.FieldIndex(name);
    return pos < 0 ? Value() : row.fields[static_cast<size_t>(pos)];
  };
  for (size_t i = 0; i < entity.fields.size(); ++i) {
    const FieldInfo& f = entity.fields[i];
    if (f.check && !CheckPasses(f.check->Evaluate(lookup))) {
      return ConstraintViolation(DescribeField(entity, i, row.fields[i]) +
                                 ": check failed: " + f.check_text);
    }
  }
  for (size_t i = 0; i < entity.checks.size(); ++i) {
    if (!CheckPasses(entity.checks[i]->Evaluate(lookup))) {
      return ConstraintViolation(entity.name + ": check failed: " + entity.check_texts[i]);
    }
  }
  return Status::Ok();
}

}  // namespace ormdb::catalog
