#include "protocol/result_wire.h"

#include <algorithm>

namespace ormdb::protocol {
namespace {

wire::ValueKind KindOf(ValueType t) {
  switch (t) {
    case ValueType::kNull:
      return wire::ValueKind::NONE;
    case ValueType::kBool:
      return wire::ValueKind::BOOLEAN;
    case ValueType::kInt32:
    case ValueType::kInt64:
      return wire::ValueKind::INTEGER;
    case ValueType::kFloat64:
      return wire::ValueKind::REAL;
    case ValueType::kString:
      return wire::ValueKind::STRING;
    case ValueType::kBytes:
      return wire::ValueKind::BYTES;
    case ValueType::kTimestamp:
      return wire::ValueKind::TIMESTAMP;
    case ValueType::kUuid:
      return wire::ValueKind::UUID;
    case ValueType::kJson:
      return wire::ValueKind::JSON;
  }
  return wire::ValueKind::NONE;
}

// A column's kind is the kind of its non-null values (a column holds one
// field, so they agree).
void BuildColumn(const std::string& name, const std::vector<Value>& values,
                 wire::Column::Builder col) {
  col.setName(name);
  wire::ValueKind kind = wire::ValueKind::NONE;
  bool any_null = false;
  for (const Value& v : values) {
    if (v.is_null()) {
      any_null = true;
    } else if (kind == wire::ValueKind::NONE) {
      kind = KindOf(v.type());
    }
  }
  col.setKind(kind);
  const auto n = static_cast<unsigned>(values.size());
  if (any_null) {
    auto nulls = col.initNulls(n);
    for (unsigned i = 0; i < n; ++i) nulls.set(i, values[i].is_null());
  }
  switch (kind) {
    case wire::ValueKind::NONE:
      return;
    case wire::ValueKind::BOOLEAN:
    case wire::ValueKind::INTEGER:
    case wire::ValueKind::TIMESTAMP: {
      auto ints = col.initInts(n);
      for (unsigned i = 0; i < n; ++i) {
        const Value& v = values[i];
        int64_t x = 0;
        if (v.type() == ValueType::kBool) x = v.as_bool();
        if (v.type() == ValueType::kInt32) x = v.as_int32();
        if (v.type() == ValueType::kInt64 || v.type() == ValueType::kTimestamp) x = v.as_int64();
        ints.set(i, x);
      }
      return;
    }
    case wire::ValueKind::REAL: {
      auto floats = col.initFloats(n);
      for (unsigned i = 0; i < n; ++i) {
        floats.set(i, values[i].is_null() ? 0.0 : values[i].as_float64());
      }
      return;
    }
    case wire::ValueKind::STRING:
    case wire::ValueKind::JSON: {
      auto texts = col.initTexts(n);
      for (unsigned i = 0; i < n; ++i) {
        if (values[i].is_null()) continue;
        const std::string& s = values[i].as_string();
        texts.set(i, capnp::Text::Reader(s.data(), s.size()));
      }
      return;
    }
    case wire::ValueKind::BYTES: {
      auto blobs = col.initBlobs(n);
      for (unsigned i = 0; i < n; ++i) {
        if (values[i].is_null()) continue;
        const std::string& s = values[i].as_string();
        blobs.set(i, capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size()));
      }
      return;
    }
    case wire::ValueKind::UUID: {
      auto uuids = col.initUuids(n * 16);
      for (unsigned i = 0; i < n; ++i) {
        if (values[i].is_null()) continue;
        std::copy_n(values[i].as_uuid().bytes.begin(), 16, uuids.begin() + i * 16);
      }
      return;
    }
  }
}

}  // namespace

void BuildResultBlocks(const query::ResultBlocks& r, wire::ResultBlocks::Builder out) {
  out.setVersion(r.version);
  if (r.next) {
    out.setNext(*r.next);
    out.setHasNext(true);
  }
  auto stats = out.initStats();
  stats.setEntities(r.counters.entities);
  stats.setEdges(r.counters.edges);
  stats.setBytes(r.counters.bytes);
  stats.setTruncated(r.counters.truncated);
  stats.setTruncatedAt(r.counters.truncated_at);

  auto entities = out.initEntities(static_cast<unsigned>(r.entities.size()));
  for (size_t b = 0; b < r.entities.size(); ++b) {
    const query::EntityBlock& eb = r.entities[b];
    auto e = entities[static_cast<unsigned>(b)];
    e.setEntity(eb.entity->name);
    BuildColumn("id", eb.ids, e.initIds());
    auto cols = e.initColumns(static_cast<unsigned>(eb.columns.size()));
    for (size_t c = 0; c < eb.columns.size(); ++c) {
      BuildColumn(eb.columns[c], eb.values[c], cols[static_cast<unsigned>(c)]);
    }
  }

  auto nodes = out.initNodes(static_cast<unsigned>(r.nodes.size()));
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    const query::Node& pn = r.plan->nodes[i];
    const query::NodeBlock& nb = r.nodes[i];
    auto n = nodes[static_cast<unsigned>(i)];
    n.setEntity(pn.entity->name);
    n.setBlock(static_cast<uint32_t>(std::max(nb.block, 0)));
    n.setParent(pn.parent);
    n.setPath(pn.path);
    n.setRelation(pn.relation);
    n.setToOne(pn.kind == query::Node::Kind::kToOne);
    n.setLimited(pn.limit_slot >= 0);
    n.setProcessed(nb.processed);
    auto items = n.initItems(static_cast<unsigned>(pn.items.size()));
    for (size_t k = 0; k < pn.items.size(); ++k) {
      const query::OutputItem& item = pn.items[k];
      auto w = items[static_cast<unsigned>(k)];
      w.setName(item.name);
      w.setIsInclude(item.kind == query::OutputItem::Kind::kInclude);
      if (item.kind == query::OutputItem::Kind::kInclude) {
        w.setChild(static_cast<uint32_t>(item.child));
        w.setColumn(-1);
      } else {
        w.setColumn(item.kind == query::OutputItem::Kind::kId ? -1 : nb.item_columns[k]);
      }
    }
    if (!nb.processed) continue;
    // Parent rows index the parent's entity block (the root: pseudo-row 0).
    size_t parent_rows = 1;
    if (pn.parent >= 0) {
      const query::NodeBlock& parent = r.nodes[pn.parent];
      parent_rows = parent.block >= 0 ? r.entities[parent.block].rows.size() : 0;
    }
    const auto slots = static_cast<unsigned>(nb.slot_begin.size());
    auto slot_of_row = n.initSlotOfRow(static_cast<unsigned>(parent_rows));
    auto slot_parent = n.initSlotParent(slots);
    for (uint32_t row = 0; row < nb.slot_of_row.size() && row < parent_rows; ++row) {
      if (nb.slot_of_row[row] != 0) slot_of_row.set(row, nb.slot_of_row[row]);
    }
    for (unsigned s = 0; s < slots; ++s) slot_parent.set(s, nb.slot_parent[s]);
    auto begin = n.initSlotBegin(slots);
    auto end = n.initSlotEnd(slots);
    auto partial = n.initSlotPartial(slots);
    for (unsigned s = 0; s < slots; ++s) {
      begin.set(s, nb.slot_begin[s]);
      end.set(s, nb.slot_end[s]);
      partial.set(s, s < nb.slot_partial.size() && nb.slot_partial[s]);
    }
    if (pn.limit_slot >= 0) {
      auto next = n.initSlotNext(slots);
      auto has = n.initSlotHasNext(slots);
      for (unsigned s = 0; s < slots && s < nb.slot_next.size(); ++s) {
        if (nb.slot_next[s]) {
          next.set(s, *nb.slot_next[s]);
          has.set(s, true);
        }
      }
    }
    auto children = n.initChildren(static_cast<unsigned>(nb.children.size()));
    for (size_t k = 0; k < nb.children.size(); ++k) {
      children.set(static_cast<unsigned>(k), nb.children[k]);
    }
  }
}

namespace {
uint64_t Plus1(const std::optional<uint64_t>& v) {
  if (!v) return 0;
  return *v == UINT64_MAX ? UINT64_MAX : *v + 1;
}
std::optional<uint64_t> Minus1(uint64_t v) {
  if (v == 0) return std::nullopt;
  return v - 1;
}
}  // namespace

void BuildSelectBlock(const query::SelectBlock& b, wire::SelectBlock::Builder out) {
  out.setVersion(b.version);
  if (b.next) {
    out.setNext(*b.next);
    out.setHasNext(true);
  }
  out.setRows(b.rows);
  auto cols = out.initColumns(static_cast<unsigned>(b.columns.size()));
  for (size_t c = 0; c < b.columns.size(); ++c) {
    BuildColumn(b.columns[c], b.values[c], cols[static_cast<unsigned>(c)]);
  }
}

void SelectOptionsToWire(const SelectOptions& o, wire::SelectOptions::Builder w) {
  w.setAsOf(Plus1(o.as_of));
  w.setMaxScannedRows(Plus1(o.max_scanned_rows));
  w.setMaxRows(Plus1(o.max_rows));
}

SelectOptions SelectOptionsFromWire(wire::SelectOptions::Reader w) {
  SelectOptions o;
  o.as_of = Minus1(w.getAsOf());
  o.max_scanned_rows = Minus1(w.getMaxScannedRows());
  o.max_rows = Minus1(w.getMaxRows());
  return o;
}

void FetchOptionsToWire(const FetchOptions& o, wire::FetchOptions::Builder w) {
  w.setAsOf(Plus1(o.as_of));
  w.setMaxEntities(Plus1(o.max_entities));
  w.setMaxEdges(Plus1(o.max_edges));
  w.setMaxDepth(Plus1(o.max_depth));
  w.setMaxBytes(Plus1(o.max_bytes));
  w.setMaxScannedRows(Plus1(o.max_scanned_rows));
  if (o.on_exceed) w.setOnExceed(*o.on_exceed == OnExceed::kTruncate ? 2 : 1);
}

FetchOptions FetchOptionsFromWire(wire::FetchOptions::Reader w) {
  FetchOptions o;
  o.as_of = Minus1(w.getAsOf());
  o.max_entities = Minus1(w.getMaxEntities());
  o.max_edges = Minus1(w.getMaxEdges());
  o.max_depth = Minus1(w.getMaxDepth());
  o.max_bytes = Minus1(w.getMaxBytes());
  o.max_scanned_rows = Minus1(w.getMaxScannedRows());
  if (w.getOnExceed() == 1) o.on_exceed = OnExceed::kError;
  if (w.getOnExceed() == 2) o.on_exceed = OnExceed::kTruncate;
  return o;
}

}  // namespace ormdb::protocol
