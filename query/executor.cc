#include "query/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <numeric>
#include <unordered_set>

#include "query/cursor.h"
#include "query/limit_math.h"
#include "storage/key_encoding.h"
#include "storage/keys.h"

namespace ormdb::query {
namespace {

using catalog::EntityInfo;
using catalog::FieldType;
using storage::ScanDirection;

enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

Tri Not(Tri t) { return t == Tri::kUnknown ? t : (t == Tri::kTrue ? Tri::kFalse : Tri::kTrue); }

// A row decoded once per fetch.
struct RowData {
  catalog::DecodedRow row;
  Version version = 0;
};

Value Normalize(const Value& v) {
  if (v.type() == ValueType::kInt32) return Value::Int64(v.as_int32());
  return v;
}

// A value converted to a field's stored type for an index key; nullopt when
// it has no exact counterpart there (then no stored value equals it).
std::optional<Value> ToPhysical(const Value& v, ValueType t) {
  if (v.type() == t) return v;
  if (v.type() == ValueType::kInt64) {
    int64_t i = v.as_int64();
    if (t == ValueType::kInt32) {
      if (i < INT32_MIN || i > INT32_MAX) return std::nullopt;
      return Value::Int32(static_cast<int32_t>(i));
    }
    if (t == ValueType::kFloat64) {
      double d = static_cast<double>(i);
      if (static_cast<long double>(d) != static_cast<long double>(i)) return std::nullopt;
      return Value::Float64(d);
    }
    if (t == ValueType::kTimestamp) return Value::Timestamp(i);
  }
  if (v.type() == ValueType::kFloat64 && (t == ValueType::kInt64 || t == ValueType::kInt32)) {
    double d = v.as_float64();
    if (std::isnan(d) || std::floor(d) != d || d < -9.2e18 || d > 9.2e18) return std::nullopt;
    return ToPhysical(Value::Int64(static_cast<int64_t>(d)), t);
  }
  if (v.type() == ValueType::kString && t == ValueType::kString) return v;
  return std::nullopt;
}

uint64_t ValueBytes(const Value& v) {
  switch (v.type()) {
    case ValueType::kNull:
    case ValueType::kBool:
      return 1;
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson:
      return v.as_string().size();
    case ValueType::kUuid:
      return 16;
    default:
      return 8;
  }
}

std::string BoundForIndex(std::string s) {
  if (s.size() > storage::kMaxIndexValueBytes) s.resize(storage::kMaxIndexValueBytes);
  return s;
}

// The candidates of one list (the roots, or one parent's children).
struct Candidate {
  RowId id = 0;
  const RowData* row = nullptr;
  std::vector<Value> key;  // sort key
  Value ext_id;
};

class Executor {
 public:
  Executor(std::shared_ptr<const Plan> plan, const std::vector<BoundSlot>& slots,
           storage::TxnReader& txn, const catalog::LayoutLookup& layouts,
           const ExecOptions& options, std::vector<NodeStats>* stats)
      : plan_(std::move(plan)),
        slots_(slots),
        txn_(txn),
        layouts_(layouts),
        opt_(options),
        stats_(stats) {}

  Result<std::shared_ptr<ResultBlocks>> Run() {
    const Plan& p = *plan_;
    out_ = std::make_shared<ResultBlocks>();
    out_->plan = plan_;
    out_->version = txn_.snapshot();
    out_->nodes.resize(p.nodes.size());
    if (stats_) stats_->assign(p.nodes.size(), NodeStats{});
    ORMDB_RETURN_IF_ERROR(SetUpBlocks());
    for (const Node& n : p.nodes) {
      wanted_.push_back(FilterFields(n));
      quick_.push_back(MakeQuickPlan(n));
    }
    dist_rows_.resize(p.nodes.size());
    dist_occ_.resize(p.nodes.size());
    // Depth: includes below the limit are left out (truncate) or refused.
    for (const Node& n : p.nodes) {
      if (static_cast<uint64_t>(n.depth) > opt_.budget.max_depth) {
        if (opt_.budget.on_exceed == OnExceed::kError) {
          return BudgetExceeded("budget exceeded: depth " + std::to_string(n.depth) +
                                " is over the limit of " + std::to_string(opt_.budget.max_depth) +
                                " at " + n.path);
        }
        MarkTruncated(n.path);
        break;
      }
    }
    ORMDB_RETURN_IF_ERROR(RunRoot());
    // Breadth first: level by level, includes in pre-order within a level.
    for (int level = 1; level <= p.max_depth && !stopped_; ++level) {
      if (static_cast<uint64_t>(level) > opt_.budget.max_depth) break;
      for (size_t i = 1; i < p.nodes.size() && !stopped_; ++i) {
        if (p.nodes[i].depth != level) continue;
        if (!out_->nodes[p.nodes[i].parent].processed) continue;
        ORMDB_RETURN_IF_ERROR(RunInclude(static_cast<int>(i)));
      }
    }
    ORMDB_RETURN_IF_ERROR(FillColumns());
    return out_;
  }

 private:
  // ---- rows ----

  Result<const RowData*> GetRow(const EntityInfo& e, RowId id) {
    auto& cache = cache_[e.id.value];
    auto it = cache.find(id);
    if (it != cache.end()) return it->second;
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(e.id, id));
    const RowData* data = nullptr;
    if (rec) {
      ORMDB_ASSIGN_OR_RETURN(data, Decode(e, rec->bytes_in_txn, rec->version));
    }
    cache.emplace(id, data);
    return data;
  }

  Result<const RowData*> Decode(const EntityInfo& e, std::string_view bytes, Version version) {
    ORMDB_ASSIGN_OR_RETURN(catalog::DecodedRow row,
                           catalog::DecodeEntityRow(bytes, e, plan_->schema->number(), layouts_));
    rows_.push_back(RowData{std::move(row), version});
    return &rows_.back();
  }

  // Caches a row read by a scan.
  Result<const RowData*> Remember(const EntityInfo& e, RowId id, const storage::RowRecord& rec) {
    auto& cache = cache_[e.id.value];
    auto it = cache.find(id);
    if (it != cache.end()) return it->second;
    ORMDB_ASSIGN_OR_RETURN(const RowData* data, Decode(e, rec.bytes_in_txn, rec.version));
    cache.emplace(id, data);
    return data;
  }

  // Caches a row decoded by a scan (`data`, in rows_) for the rest of the
  // fetch; returns the cached row (an earlier copy if there is one).
  const RowData* Keep(const EntityInfo& e, RowId id, const RowData* data) {
    auto& cache = cache_[e.id.value];
    auto it = cache.find(id);
    if (it != cache.end() && it->second != nullptr) return it->second;
    cache[id] = data;
    return data;
  }

  // The fields a predicate or order of `n` reads from the node's own row
  // (the first hop of a path), plus the reference of an inverse include.
  static std::vector<size_t> FilterFields(const Node& n) {
    std::vector<size_t> out;
    auto add = [&](size_t f) {
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    };
    for (const BoundPath& p : n.paths) {
      if (!p.hops.empty()) {
        add(p.hops[0]);
      } else if (p.terminal == BoundPath::Terminal::kField) {
        add(p.field);
      }
    }
    if (n.kind == Node::Kind::kInverse) add(n.ref_field);
    return out;
  }

  Value ExternalId(const EntityInfo& e, RowId id, const RowData& row) {
    return e.uuid_id ? row.row.uuid : Value::Int64(static_cast<int64_t>(id));
  }

  // ---- predicates ----

  Result<Value> EvalPath(const Node& n, int path, RowId id, const RowData& row) {
    const BoundPath& p = n.paths[path];
    const RowData* cur = &row;
    RowId cur_id = id;
    for (size_t h = 0; h < p.hops.size(); ++h) {
      const Value& ref = cur->row.fields[p.hops[h]];
      if (ref.is_null()) return Value();
      cur_id = static_cast<RowId>(ref.as_int64());
      ORMDB_ASSIGN_OR_RETURN(cur, GetRow(*p.entities[h + 1], cur_id));
      if (cur == nullptr) return Value();
    }
    switch (p.terminal) {
      case BoundPath::Terminal::kId:
        return ExternalId(*p.entities.back(), cur_id, *cur);
      case BoundPath::Terminal::kVersion:
        return Value::Int64(static_cast<int64_t>(cur->version));
      case BoundPath::Terminal::kField:
        return Normalize(cur->row.fields[p.field]);
    }
    return Value();
  }

  Result<Value> Operand(const Node& n, const CExpr& e, RowId id, const RowData& row) {
    if (e.kind == CExpr::Kind::kPath) return EvalPath(n, e.path, id, row);
    return slots_[e.slot].value;
  }

  Result<Tri> Eval(const Node& n, const CExpr& e, RowId id, const RowData& row) {
    switch (e.kind) {
      case CExpr::Kind::kAnd: {
        Tri acc = Tri::kTrue;
        for (const CExpr& c : e.children) {
          ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, c, id, row));
          if (t == Tri::kFalse) return Tri::kFalse;
          if (t == Tri::kUnknown) acc = Tri::kUnknown;
        }
        return acc;
      }
      case CExpr::Kind::kOr: {
        Tri acc = Tri::kFalse;
        for (const CExpr& c : e.children) {
          ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, c, id, row));
          if (t == Tri::kTrue) return Tri::kTrue;
          if (t == Tri::kUnknown) acc = Tri::kUnknown;
        }
        return acc;
      }
      case CExpr::Kind::kNot: {
        ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, e.children[0], id, row));
        return Not(t);
      }
      case CExpr::Kind::kCompare: {
        ORMDB_ASSIGN_OR_RETURN(Value a, Operand(n, e.children[0], id, row));
        ORMDB_ASSIGN_OR_RETURN(Value b, Operand(n, e.children[1], id, row));
        if (a.is_null() || b.is_null()) return Tri::kUnknown;
        const bool r = Satisfies(CompareForPredicate(a, b), e.op);
        return r ? Tri::kTrue : Tri::kFalse;
      }
      case CExpr::Kind::kIn: {
        ORMDB_ASSIGN_OR_RETURN(Value a, EvalPath(n, e.children[0].path, id, row));
        if (a.is_null()) return Tri::kUnknown;
        bool found = false;
        for (const Value& v : slots_[e.slot].list) {
          if (CompareForPredicate(a, v) == ValueOrder::kEqual) {
            found = true;
            break;
          }
        }
        return found != e.negated ? Tri::kTrue : Tri::kFalse;
      }
      case CExpr::Kind::kLike: {
        ORMDB_ASSIGN_OR_RETURN(Value a, EvalPath(n, e.children[0].path, id, row));
        if (a.is_null()) return Tri::kUnknown;
        return slots_[e.slot].pattern->Matches(a.as_string()) ? Tri::kTrue : Tri::kFalse;
      }
      case CExpr::Kind::kIsNull: {
        ORMDB_ASSIGN_OR_RETURN(Value a, EvalPath(n, e.children[0].path, id, row));
        return a.is_null() != e.negated ? Tri::kTrue : Tri::kFalse;
      }
      case CExpr::Kind::kPath:
      case CExpr::Kind::kSlot:
        break;
    }
    return Internal("bad predicate node");
  }

  Result<bool> Matches(const Node& n, RowId id, const RowData& row) {
    if (!n.has_where) return true;
    ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, n.where, id, row));
    return t == Tri::kTrue;
  }

  // ---- order and cursors ----

  Status MakeCandidate(const Node& n, RowId id, const RowData* row, Candidate* c) {
    c->id = id;
    c->row = row;
    c->ext_id = ExternalId(*n.entity, id, *row);
    c->key.clear();
    for (const OrderPlan& o : n.order) {
      ORMDB_ASSIGN_OR_RETURN(Value v, EvalPath(n, o.path, id, *row));
      c->key.push_back(std::move(v));
    }
    return Status::Ok();
  }

  // <0 when (key, id) a comes before b in the node's order.
  static int CompareKeys(const Node& n, const std::vector<Value>& ka, const Value& ia,
                         const std::vector<Value>& kb, const Value& ib) {
    for (size_t k = 0; k < n.order.size(); ++k) {
      int c = storage::CompareValues(ka[k], kb[k]);
      if (c != 0) return n.order[k].descending ? -c : c;
    }
    return storage::CompareValues(ia, ib);
  }

  // Sorts the candidates; with want >= 0 only the first `want` need order
  // (the rest are dropped).
  static void SortCandidates(const Node& n, std::vector<Candidate>* list, int64_t want = -1) {
    auto less = [&](const Candidate& a, const Candidate& b) {
      return CompareKeys(n, a.key, a.ext_id, b.key, b.ext_id) < 0;
    };
    if (want >= 0 && static_cast<size_t>(want) < list->size()) {
      std::partial_sort(list->begin(), list->begin() + want, list->end(), less);
      list->resize(static_cast<size_t>(want));
      return;
    }
    std::sort(list->begin(), list->end(), less);
  }

  ValueType IdType(const Node& n) const {
    return n.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64;
  }

  Result<std::optional<CursorPosition>> NodeCursor(const Node& n) {
    if (n.after_slot < 0) return std::optional<CursorPosition>();
    ORMDB_ASSIGN_OR_RETURN(
        CursorPosition pos,
        DecodeCursor(opt_.secret, slots_[n.after_slot].after, n.kind == Node::Kind::kRoot,
                     n.cursor_shape, n.cursor_key_types, IdType(n)));
    return std::optional<CursorPosition>(std::move(pos));
  }

  static bool AfterCursor(const Node& n, const Candidate& c, const CursorPosition& pos) {
    if (pos.start) return true;
    return CompareKeys(n, c.key, c.ext_id, pos.key, pos.id) > 0;
  }

  std::string CursorAfter(const Node& n, RowId parent, const Candidate* last,
                          const std::optional<CursorPosition>& from) {
    CursorPosition pos;
    pos.root = n.kind == Node::Kind::kRoot;
    pos.version = txn_.snapshot();
    pos.shape = n.cursor_shape;
    pos.parent = parent;
    if (last != nullptr) {
      pos.key = last->key;
      pos.id = last->ext_id;
    } else if (from && !from->start) {
      pos.key = from->key;
      pos.id = from->id;
    } else {
      pos.start = true;
    }
    return EncodeCursor(opt_.secret, pos);
  }

  int64_t Limit(const Node& n) const { return n.limit_slot < 0 ? -1 : slots_[n.limit_slot].limit; }

  // ---- index ranges ----

  struct Range {
    std::string lower, upper;
    bool empty = false;
  };

  // The value-part range of `r` given the values of its equality fields.
  Range BuildRange(const Node& n, const IndexRangePlan& r, const std::vector<Value>& eq,
                   const std::optional<CursorPosition>& cursor) {
    Range out;
    const catalog::IndexInfo& ix = *r.index;
    std::string prefix;
    for (size_t k = 0; k < eq.size(); ++k) {
      ValueType t = n.entity->fields[ix.fields[k]].physical;
      std::optional<Value> v = ToPhysical(eq[k], t);
      if (!v) {
        out.empty = true;
        return out;
      }
      storage::AppendKey(&prefix, *v);
    }
    out.lower = prefix;
    out.upper = storage::PrefixSuccessor(prefix);
    size_t next = eq.size();
    if (next < ix.fields.size()) {
      ValueType t = n.entity->fields[ix.fields[next]].physical;
      if (r.like_slot >= 0) {
        const std::string& lp = slots_[r.like_slot].pattern->prefix();
        if (!lp.empty() && t == ValueType::kString) {
          std::string enc = prefix;
          storage::AppendKey(&enc, Value::String(lp));
          enc.resize(enc.size() - 2);  // drop the terminator: every extension matches
          out.lower = enc;
          out.upper = storage::PrefixSuccessor(enc);
        }
      }
      if (r.lower_slot >= 0) {
        if (std::optional<Value> v = ToPhysical(slots_[r.lower_slot].value, t)) {
          std::string enc = prefix;
          storage::AppendKey(&enc, *v);
          out.lower = std::max(out.lower, enc);
        }
      }
      if (r.upper_slot >= 0) {
        if (std::optional<Value> v = ToPhysical(slots_[r.upper_slot].value, t)) {
          std::string enc = prefix;
          storage::AppendKey(&enc, *v);
          std::string up = r.upper_inclusive ? storage::PrefixSuccessor(enc) : enc;
          if (!up.empty() && (out.upper.empty() || up < out.upper)) out.upper = up;
        }
      }
    }
    // Seek past a cursor on the keys the index orders by.
    if (cursor && !cursor->start && r.order_covered > 0) {
      std::string enc = prefix;
      bool ok = true;
      for (size_t k = 0; k < r.order_covered && ok; ++k) {
        ValueType t = n.entity->fields[ix.fields[next + k]].physical;
        const Value& cv = cursor->key[k];
        if (cv.is_null()) {
          storage::AppendKey(&enc, cv);
          continue;
        }
        std::optional<Value> v = ToPhysical(cv, t);
        if (!v) {
          ok = false;
          break;
        }
        storage::AppendKey(&enc, *v);
      }
      if (ok) {
        if (!r.backward) {
          out.lower = std::max(out.lower, BoundForIndex(enc));
        } else {
          std::string up = storage::PrefixSuccessor(BoundForIndex(enc));
          if (!up.empty() && (out.upper.empty() || up < out.upper)) out.upper = up;
        }
      }
    }
    out.lower = BoundForIndex(out.lower);
    if (out.upper.size() > storage::kMaxIndexValueBytes) {
      out.upper = storage::PrefixSuccessor(BoundForIndex(out.upper));
    }
    if (!out.upper.empty() && out.lower >= out.upper) out.empty = true;
    return out;
  }

  // Scans an index range, collecting the rows that match the filter (and
  // come after the cursor). With the scan giving the first `covered` order
  // keys and `want` >= 0, stops once `want` rows matched and the order
  // prefix moved past the last of them.
  Status ScanRange(const Node& n, int idx, const IndexRangePlan& r, const Range& range,
                   const std::optional<CursorPosition>& cursor, int64_t want,
                   std::vector<Candidate>* out, NodeStats* ns) {
    if (range.empty) return Status::Ok();
    Status st;
    size_t covered = r.order_covered;
    std::vector<Value> boundary;
    bool last_truncated = false;
    std::vector<std::pair<RowId, bool>> entries;
    // Collect ids first: the visitor must not read other rows while the
    // index cursor is open on the same table's cursor slot.
    auto visit_batch = [&](std::string_view lower, std::string_view upper, size_t max,
                           std::string* resume) -> Status {
      entries.clear();
      resume->clear();
      return txn_.ScanIndex(r.index->id, lower, upper,
                            r.backward ? ScanDirection::kBackward : ScanDirection::kForward,
                            [&](const storage::IndexEntry& e) {
                              if (entries.size() == max) {
                                *resume = std::string(e.value_part_in_txn);
                                return false;
                              }
                              entries.emplace_back(e.id, e.truncated);
                              return true;
                            });
    };
    std::string lower = range.lower, upper = range.upper;
    size_t batch = covered > 0 ? RangeBatch(want) : SIZE_MAX;
    std::unordered_set<RowId> seen;
    while (true) {
      std::string resume;
      ORMDB_RETURN_IF_ERROR(visit_batch(lower, upper, batch, &resume));
      bool stop = false;
      for (auto [id, truncated] : entries) {
        if (!seen.insert(id).second) continue;  // an entry seen before a resume
        if (ns) ++ns->examined;
        if (covered == 0) {
          // The index does not give the order: keep the best `want` rows.
          ORMDB_RETURN_IF_ERROR(
              Offer(n, idx, id, cursor ? &*cursor : nullptr, want, want >= 0, out));
          continue;
        }
        ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(*n.entity, id));
        if (row == nullptr) continue;
        Candidate c;
        ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
        if (want >= 0 && covered > 0 && static_cast<int64_t>(out->size()) >= want && !truncated &&
            !last_truncated) {
          bool same = true;
          for (size_t k = 0; k < covered; ++k) {
            if (storage::CompareValues(c.key[k], boundary[k]) != 0) same = false;
          }
          if (!same) {
            stop = true;
            break;
          }
        }
        ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
        if (!m || (cursor && !AfterCursor(n, c, *cursor))) continue;
        last_truncated = truncated;
        if (covered > 0) boundary.assign(c.key.begin(), c.key.begin() + covered);
        out->push_back(std::move(c));
      }
      if (stop || resume.empty()) break;
      // Continue from the entry that did not fit (its value part; entries
      // of the same value part are deduplicated by `seen`).
      if (r.backward) {
        upper = storage::PrefixSuccessor(resume);
      } else {
        lower = resume;
      }
      batch = DoubleBatch(batch);
    }
    return Status::Ok();
  }

  // Offers a row to a candidate list: decodes only what the predicate and
  // the order need, tests the predicate and the cursor, and keeps the row
  // (decoded in full) when it can be among the first `want` rows; with
  // `top_n` the list is a bounded max-heap (worst first) of at most `want`.
  // A row already decoded by this fetch is used as it is.
  Status Offer(const Node& n, int idx, RowId id, const CursorPosition* cursor, int64_t want,
               bool top_n, std::vector<Candidate>* list) {
    auto& cache = cache_[n.entity->id.value];
    auto cached = cache.find(id);
    const RowData* row = nullptr;
    std::string_view bytes;
    Version version = 0;
    if (cached != cache.end()) {
      row = cached->second;
      if (row == nullptr) return Status::Ok();
    } else {
      ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(n.entity->id, id));
      if (!rec) {
        cache.emplace(id, nullptr);
        return Status::Ok();
      }
      bytes = rec->bytes_in_txn;
      version = rec->version;
      if (!n.entity->uuid_id && cursor == nullptr &&
          QuickRejects(n, idx, bytes, top_n ? list : nullptr, want)) {
        return Status::Ok();
      }
      if (n.entity->uuid_id) {
        ORMDB_ASSIGN_OR_RETURN(row, Decode(*n.entity, bytes, version));
        cache.emplace(id, row);
      } else {
        ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(bytes, *n.entity, plan_->schema->number(),
                                                          layouts_, wanted_[idx], &view_,
                                                          &probe_.row));
        probe_.version = version;
        row = &probe_;
      }
    }
    ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
    if (!m) return Status::Ok();
    // The key goes into scratch space first: most rows of a top-N do not
    // enter it and cost no allocation.
    Candidate& c = scratch_;
    ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
    if (cursor && !AfterCursor(n, c, *cursor)) return Status::Ok();
    auto worse = [&](const Candidate& a, const Candidate& b) {
      return CompareKeys(n, a.key, a.ext_id, b.key, b.ext_id) < 0;
    };
    if (top_n && static_cast<int64_t>(list->size()) >= want &&
        (want == 0 || !worse(c, list->front()))) {
      return Status::Ok();
    }
    if (row == &probe_) {
      ORMDB_ASSIGN_OR_RETURN(row, Decode(*n.entity, bytes, version));
      cache.emplace(id, row);
    }
    c.row = row;
    list->push_back(c);
    if (top_n) {
      std::push_heap(list->begin(), list->end(), worse);
      if (static_cast<int64_t>(list->size()) > want) {
        std::pop_heap(list->begin(), list->end(), worse);
        list->pop_back();
      }
    }
    return Status::Ok();
  }

  // ---- a quick test on the encoded row ----
  //
  // Scans and many-row includes first test the predicate's simple conjuncts
  // (a field of the row compared with a value) and, for a full top-N, the
  // first sort key, directly on the encoded row: a row that fails is
  // skipped without decoding. A row that passes goes through the full
  // evaluation, so this only ever saves work.
  struct QuickTest {
    size_t column = 0;
    ValueType type = ValueType::kNull;
    Expr::CompareOp op = Expr::CompareOp::kEq;
    bool flipped = false;  // the value is on the left
    int slot = -1;
  };
  struct QuickPlan {
    std::vector<QuickTest> tests;
    int order_column = -1;  // the first order key's column, when a plain field
    bool order_desc = false;
  };

  static QuickPlan MakeQuickPlan(const Node& n) {
    QuickPlan q;
    auto plain = [&](const CExpr& e) {
      if (e.kind != CExpr::Kind::kPath) return false;
      const BoundPath& p = n.paths[e.path];
      return p.hops.empty() && p.terminal == BoundPath::Terminal::kField &&
             p.domain != Domain::kBytes && p.domain != Domain::kJson;
    };
    if (n.has_where) {
      std::vector<const CExpr*> conj;
      if (n.where.kind == CExpr::Kind::kAnd) {
        for (const CExpr& c : n.where.children) conj.push_back(&c);
      } else {
        conj.push_back(&n.where);
      }
      for (const CExpr* c : conj) {
        if (c->kind != CExpr::Kind::kCompare) continue;
        const CExpr& a = c->children[0];
        const CExpr& b = c->children[1];
        QuickTest t;
        t.op = c->op;
        const CExpr* path = nullptr;
        if (plain(a) && b.kind == CExpr::Kind::kSlot) {
          path = &a;
          t.slot = b.slot;
        } else if (plain(b) && a.kind == CExpr::Kind::kSlot) {
          path = &b;
          t.slot = a.slot;
          t.flipped = true;
        }
        if (path == nullptr) continue;
        const catalog::FieldInfo& f = n.entity->fields[n.paths[path->path].field];
        t.column = f.column;
        t.type = f.physical;
        q.tests.push_back(t);
      }
    }
    if (!n.order.empty()) {
      const BoundPath& p = n.paths[n.order[0].path];
      if (p.hops.empty() && p.terminal == BoundPath::Terminal::kField) {
        q.order_column = static_cast<int>(n.entity->fields[p.field].column);
        q.order_desc = n.order[0].descending;
      }
    }
    return q;
  }

  // True when the encoded row surely fails the predicate or cannot enter a
  // full top-N list `heap` (worst on top).
  bool QuickRejects(const Node& n, int idx, std::string_view bytes,
                    const std::vector<Candidate>* heap, int64_t want) {
    const QuickPlan& q = quick_[idx];
    bool use_heap = heap != nullptr && want > 0 && static_cast<int64_t>(heap->size()) >= want &&
                    q.order_column >= 0;
    if (q.tests.empty() && !use_heap) return false;
    auto number = storage::PeekRowSchemaVersion(bytes);
    if (!number.ok() || *number != plan_->schema->number()) return false;
    if (!storage::RowView::ParseInto(bytes, n.entity->layout, &quick_view_).ok()) return false;
    for (const QuickTest& t : q.tests) {
      if (quick_view_.IsNull(t.column)) return true;  // unknown: a conjunct that is not true
      const Value& lit = slots_[t.slot].value;
      ValueOrder order;
      if (t.type == ValueType::kString) {
        if (lit.type() != ValueType::kString) return false;
        const int c = quick_view_.GetStringView(t.column).compare(lit.as_string());
        order = c < 0 ? ValueOrder::kLess : c > 0 ? ValueOrder::kGreater : ValueOrder::kEqual;
      } else {
        order = CompareForPredicate(Normalize(quick_view_.Get(t.column)), lit);
      }
      if (t.flipped) order = Reverse(order);
      const bool pass = Satisfies(order, t.op);
      if (!pass) return true;
    }
    if (use_heap) {
      int c =
          storage::CompareValues(Normalize(quick_view_.Get(q.order_column)), heap->front().key[0]);
      if (q.order_desc) c = -c;
      if (c > 0) return true;  // after the worst kept row on the first key
    }
    return false;
  }

  // ---- entity blocks and budgets ----

  Status SetUpBlocks() {
    const Plan& p = *plan_;
    std::unordered_map<uint32_t, int> block_of;
    for (size_t i = 0; i < p.nodes.size(); ++i) {
      const Node& n = p.nodes[i];
      auto [it, inserted] = block_of.emplace(n.entity->id.value, 0);
      if (inserted) {
        it->second = static_cast<int>(out_->entities.size());
        EntityBlock b;
        b.entity = n.entity;
        out_->entities.push_back(std::move(b));
      }
      EntityBlock& b = out_->entities[it->second];
      NodeBlock& nb = out_->nodes[i];
      nb.block = it->second;
      for (const OutputItem& item : n.items) {
        int col = -1;
        if (item.kind == OutputItem::Kind::kField || item.kind == OutputItem::Kind::kVersion) {
          auto f = std::find(b.columns.begin(), b.columns.end(), item.name);
          col = static_cast<int>(f - b.columns.begin());
          if (f == b.columns.end()) b.columns.push_back(item.name);
        }
        nb.item_columns.push_back(col);
      }
    }
    for (EntityBlock& b : out_->entities) b.values.resize(b.columns.size());
    return Status::Ok();
  }

  // The value of block column `c` for a row.
  Result<Value> ColumnValue(const EntityBlock& b, size_t c, const RowData& row) {
    const std::string& name = b.columns[c];
    if (name == "_version") return Value::Int64(static_cast<int64_t>(row.version));
    int f = b.entity->FieldIndex(name);
    const catalog::FieldInfo& fi = b.entity->fields[f];
    const Value& v = row.row.fields[f];
    if (fi.type == FieldType::kRef && !v.is_null()) {
      const EntityInfo* target = plan_->schema->EntityById(fi.ref_target);
      if (target->uuid_id) {
        ORMDB_ASSIGN_OR_RETURN(const RowData* t, GetRow(*target, static_cast<RowId>(v.as_int64())));
        return t ? t->row.uuid : Value();
      }
    }
    return v;
  }

  // The bytes a row adds to its block (see docs/QUERIES.md, "Budgets"),
  // without copying its values.
  uint64_t RowBytes(const EntityBlock& b, const RowData& row) {
    uint64_t n = b.entity->uuid_id ? 16 : 8;
    for (const std::string& name : b.columns) {
      if (name == "_version") {
        n += 8;
        continue;
      }
      int f = b.entity->FieldIndex(name);
      const catalog::FieldInfo& fi = b.entity->fields[f];
      const Value& v = row.row.fields[f];
      if (fi.type == FieldType::kRef && !v.is_null()) {
        n += plan_->schema->EntityById(fi.ref_target)->uuid_id ? 16 : 8;
      } else {
        n += ValueBytes(v);
      }
    }
    return n;
  }

  void MarkTruncated(const std::string& path) {
    if (!out_->counters.truncated) {
      out_->counters.truncated = true;
      out_->counters.truncated_at = path;
    }
  }

  // Adds a row under node `idx` (occurring `occ` times); false when a budget
  // stops it (truncate mode), BUDGET_EXCEEDED in error mode.
  Result<bool> Admit(int idx, const Candidate& c, uint64_t occ, bool is_edge, uint32_t* row_out) {
    const Node& n = plan_->nodes[idx];
    NodeBlock& nb = out_->nodes[idx];
    EntityBlock& b = out_->entities[nb.block];
    FetchCounters next = out_->counters;
    auto it = b.row_of.find(c.id);
    uint64_t bytes = 0;
    if (it == b.row_of.end()) {
      bytes = RowBytes(b, *c.row);
      next.entities += 1;
      next.bytes += bytes;
    }
    if (is_edge) next.edges = SaturatingAdd(next.edges, occ);
    const FetchBudget& bud = opt_.budget;
    const char* what = nullptr;
    uint64_t count = 0, limit = 0;
    if (next.entities > bud.max_entities) {
      what = "entities", count = next.entities, limit = bud.max_entities;
    } else if (next.edges > bud.max_edges) {
      what = "edges", count = next.edges, limit = bud.max_edges;
    } else if (next.bytes > bud.max_bytes) {
      what = "bytes", count = next.bytes, limit = bud.max_bytes;
    }
    if (what != nullptr) {
      if (bud.on_exceed == OnExceed::kError) {
        return BudgetExceeded("budget exceeded: " + std::to_string(count) + " " + what +
                              " is over the limit of " + std::to_string(limit) + " at " + n.path);
      }
      MarkTruncated(n.path);
      stopped_ = true;
      return false;
    }
    out_->counters = next;
    if (it == b.row_of.end()) {
      uint32_t row = static_cast<uint32_t>(b.rows.size());
      b.rows.push_back(c.id);
      b.ids.push_back(c.ext_id);
      b.row_of.emplace(c.id, row);
      block_rows_.push_back({nb.block, c.row});
      *row_out = row;
    } else {
      *row_out = it->second;
    }
    return true;
  }

  Status FillColumns() {
    std::vector<std::vector<const RowData*>> data(out_->entities.size());
    for (auto& [block, row] : block_rows_) data[block].push_back(row);
    for (size_t b = 0; b < out_->entities.size(); ++b) {
      EntityBlock& eb = out_->entities[b];
      for (size_t c = 0; c < eb.columns.size(); ++c) {
        eb.values[c].reserve(data[b].size());
        for (const RowData* row : data[b]) {
          ORMDB_ASSIGN_OR_RETURN(Value v, ColumnValue(eb, c, *row));
          eb.values[c].push_back(std::move(v));
        }
      }
    }
    return Status::Ok();
  }

  // Emits one parent's ordered children into node `idx`: applies the limit,
  // the @next cursor and the budget. `parent_row` is the parent's row in
  // its block (0 for the root), `parent_id` its row id.
  Status Emit(int idx, uint32_t parent_row, RowId parent_id, uint64_t occ,
              std::vector<Candidate>& list, const std::optional<CursorPosition>& cursor) {
    const Node& n = plan_->nodes[idx];
    NodeBlock& nb = out_->nodes[idx];
    int64_t limit = Limit(n);
    bool more = limit >= 0 && static_cast<int64_t>(list.size()) > limit;
    size_t take = more ? static_cast<size_t>(limit) : list.size();
    uint32_t slot = static_cast<uint32_t>(nb.slot_begin.size());
    nb.slot_of.emplace(parent_row, slot);
    nb.slot_parent.push_back(parent_row);
    nb.slot_begin.push_back(static_cast<uint32_t>(nb.children.size()));
    nb.slot_partial.push_back(0);
    bool is_root = n.kind == Node::Kind::kRoot;
    const Candidate* last = nullptr;
    size_t added = 0;
    for (size_t i = 0; i < take; ++i) {
      uint32_t row = 0;
      ORMDB_ASSIGN_OR_RETURN(bool ok, Admit(idx, list[i], occ, !is_root, &row));
      if (!ok) {
        nb.slot_partial.back() = 1;
        more = true;
        break;
      }
      nb.children.push_back(row);
      last = &list[i];
      ++added;
      if (stats_) ++(*stats_)[idx].rows;
      if (!is_root) {
        auto [it, inserted] = occ_index_[idx].emplace(row, dist_rows_[idx].size());
        if (inserted) {
          dist_rows_[idx].push_back(row);
          dist_occ_[idx].push_back(occ);
        } else {
          dist_occ_[idx][it->second] = SaturatingAdd(dist_occ_[idx][it->second], occ);
        }
      } else {
        dist_rows_[idx].push_back(row);
        dist_occ_[idx].push_back(1);
      }
    }
    nb.slot_end.push_back(static_cast<uint32_t>(nb.children.size()));
    std::optional<std::string> next;
    if (more && (limit >= 0 || nb.slot_partial.back())) {
      const std::optional<CursorPosition>& from =
          cursor && (is_root || cursor->parent == parent_id) ? cursor : std::nullopt;
      next = CursorAfter(n, parent_id, last, from);
    }
    if (is_root) {
      out_->next = next;
    }
    nb.slot_next.push_back(limit >= 0 || nb.slot_partial.back() ? next : std::nullopt);
    (void)added;
    return Status::Ok();
  }

  // ---- the root ----

  Status RunRoot() {
    const Node& n = plan_->nodes[0];
    auto start = std::chrono::steady_clock::now();
    NodeStats* ns = stats_ ? &(*stats_)[0] : nullptr;
    ORMDB_ASSIGN_OR_RETURN(std::optional<CursorPosition> cursor, NodeCursor(n));
    int64_t limit = Limit(n);
    int64_t want = WantFor(limit);
    std::vector<Candidate> list;
    auto consider = [&](RowId id, const RowData* row) -> Status {
      if (row == nullptr) return Status::Ok();
      ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
      if (!m) return Status::Ok();
      Candidate c;
      ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
      if (cursor && !AfterCursor(n, c, *cursor)) return Status::Ok();
      list.push_back(std::move(c));
      return Status::Ok();
    };
    if (ns) ns->batches = 1;
    switch (n.access) {
      case Access::kIdLookup: {
        const BoundSlot& s = slots_[n.id_slots[0]];
        std::vector<Value> ids = s.list;
        if (plan_->slots[n.id_slots[0]].kind == Slot::Kind::kValue) ids = {s.value};
        std::vector<RowId> rows;
        for (const Value& v : ids) {
          ORMDB_ASSIGN_OR_RETURN(std::optional<RowId> id, ResolveId(*n.entity, v));
          if (id) rows.push_back(*id);
        }
        std::sort(rows.begin(), rows.end());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
        for (RowId id : rows) {
          if (ns) ++ns->examined;
          ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(*n.entity, id));
          ORMDB_RETURN_IF_ERROR(consider(id, row));
        }
        break;
      }
      case Access::kUniqueLookup:
      case Access::kIndexRange: {
        std::vector<Value> eq;
        for (int s : n.range.eq_slots) eq.push_back(slots_[s].value);
        Range range = BuildRange(n, n.range, eq, cursor);
        ORMDB_RETURN_IF_ERROR(ScanRange(n, 0, n.range, range, cursor, want, &list, ns));
        break;
      }
      case Access::kScan: {
        bool backward = n.range.backward && n.order_is_id_only;
        RowId from = backward ? UINT64_MAX : 0;
        if (n.order_is_id_only && cursor && !cursor->start && !n.entity->uuid_id) {
          RowId at = static_cast<RowId>(cursor->id.as_int64());
          from = backward ? (at == 0 ? 0 : at - 1) : at + 1;
          if (backward && at == 0) break;
        }
        bool early = n.order_is_id_only && want >= 0 && !n.entity->uuid_id;
        // With a limit and an order the scan does not give, only the best
        // `want` rows so far are kept (a bounded max-heap, worst on top);
        // rows that cannot enter it are dropped without being kept.
        bool top_n = want >= 0 && !early;
        auto worse = [&](const Candidate& a, const Candidate& b) {
          return CompareKeys(n, a.key, a.ext_id, b.key, b.ext_id) < 0;
        };
        // Rows are decoded in the visitor and filtered after it, chunk by
        // chunk: a predicate may read other rows, which must not happen
        // while the scan's cursor is open.
        size_t chunk = early ? ScanChunk(want) : 4096;
        bool more = true;
        // The rows' bytes stay valid in the read transaction; each is first
        // decoded only as far as the predicate and the order need, and in
        // full only when it is kept.
        struct Scanned {
          RowId id;
          std::string_view bytes;
          Version version;
        };
        std::vector<Scanned> batch;
        std::vector<size_t> wanted = FilterFields(n);
        RowData probe;
        storage::RowView view;
        while (more) {
          more = false;
          batch.clear();
          ORMDB_RETURN_IF_ERROR(txn_.ScanRows(
              n.entity->id, from, backward ? ScanDirection::kBackward : ScanDirection::kForward,
              [&](RowId id, const storage::RowRecord& rec) {
                if (batch.size() == chunk) {
                  more = true;
                  from = id;
                  return false;
                }
                if (ns) ++ns->examined;
                batch.push_back(Scanned{id, rec.bytes_in_txn, rec.version});
                return true;
              }));
          for (const Scanned& sc : batch) {
            if (!n.entity->uuid_id && !cursor &&
                QuickRejects(n, 0, sc.bytes, top_n ? &list : nullptr, want)) {
              continue;
            }
            ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(
                sc.bytes, *n.entity, plan_->schema->number(), layouts_, wanted, &view, &probe.row));
            probe.version = sc.version;
            if (n.entity->uuid_id) {
              // The id is a column of its own; decode the row in full.
              ORMDB_ASSIGN_OR_RETURN(
                  probe.row,
                  catalog::DecodeEntityRow(sc.bytes, *n.entity, plan_->schema->number(), layouts_));
            }
            ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, sc.id, probe));
            if (!m) continue;
            Candidate& c = scratch_;
            ORMDB_RETURN_IF_ERROR(MakeCandidate(n, sc.id, &probe, &c));
            if (cursor && !AfterCursor(n, c, *cursor)) continue;
            if (top_n && static_cast<int64_t>(list.size()) >= want &&
                (want == 0 || !worse(c, list.front()))) {
              continue;
            }
            ORMDB_ASSIGN_OR_RETURN(c.row, Decode(*n.entity, sc.bytes, sc.version));
            c.row = Keep(*n.entity, sc.id, c.row);
            list.push_back(c);
            if (top_n) {
              std::push_heap(list.begin(), list.end(), worse);
              if (static_cast<int64_t>(list.size()) > want) {
                std::pop_heap(list.begin(), list.end(), worse);
                list.pop_back();
              }
            }
            if (early && static_cast<int64_t>(list.size()) >= want) {
              more = false;
              break;
            }
          }
        }
        break;
      }
      default:
        return Internal("bad root access path");
    }
    SortCandidates(n, &list, want);
    out_->nodes[0].processed = true;
    ORMDB_RETURN_IF_ERROR(Emit(0, 0, 0, 1, list, cursor));
    if (ns) {
      ns->run = true;
      ns->parents = 1;
      ns->micros = Micros(start);
    }
    return Status::Ok();
  }

  static double Micros(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
        .count();
  }

  // The row id of an external id value (an int64, or a uuid through the id
  // index); nullopt when no such row can exist.
  Result<std::optional<RowId>> ResolveId(const EntityInfo& e, const Value& v) {
    if (!e.uuid_id) {
      std::optional<Value> i = ToPhysical(v, ValueType::kInt64);
      if (!i || i->as_int64() <= 0) return std::optional<RowId>();
      return std::optional<RowId>(static_cast<RowId>(i->as_int64()));
    }
    const catalog::IndexInfo* ix = nullptr;
    for (const catalog::IndexInfo& i : e.indexes) {
      if (i.id_index) ix = &i;
    }
    if (ix == nullptr || v.type() != ValueType::kUuid) return std::optional<RowId>();
    std::string key;
    storage::AppendKey(&key, v);
    std::optional<RowId> found;
    ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(ix->id, key, storage::PrefixSuccessor(key),
                                         ScanDirection::kForward,
                                         [&](const storage::IndexEntry& en) {
                                           found = en.id;
                                           return false;
                                         }));
    return found;
  }

  // ---- includes ----

  Status RunInclude(int idx) {
    const Node& n = plan_->nodes[idx];
    auto start = std::chrono::steady_clock::now();
    NodeStats* ns = stats_ ? &(*stats_)[idx] : nullptr;
    out_->nodes[idx].processed = true;
    const NodeBlock& pb = out_->nodes[n.parent];
    const EntityBlock& parent_block = out_->entities[pb.block];
    const std::vector<uint32_t>& parents = dist_rows_[n.parent];
    const std::vector<uint64_t>& occ = dist_occ_[n.parent];
    if (ns) {
      ns->run = true;
      ns->parents = parents.size();
      ns->batches = parents.empty() ? 0 : 1;
    }
    ORMDB_ASSIGN_OR_RETURN(std::optional<CursorPosition> cursor, NodeCursor(n));
    int64_t limit = Limit(n);
    int64_t want = WantFor(limit);
    const EntityInfo& pe = *plan_->nodes[n.parent].entity;
    // Parent rows' data (cached when they were admitted).
    auto parent_data = [&](uint32_t row) -> Result<const RowData*> {
      return GetRow(pe, parent_block.rows[row]);
    };
    std::vector<std::vector<Candidate>> lists(parents.size());
    auto filter_into = [&](size_t pi, RowId id, const RowData* row) -> Status {
      if (row == nullptr) return Status::Ok();
      ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
      if (!m) return Status::Ok();
      Candidate c;
      ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
      RowId pid = parent_block.rows[parents[pi]];
      if (cursor && cursor->parent == pid && !AfterCursor(n, c, *cursor)) return Status::Ok();
      lists[pi].push_back(std::move(c));
      return Status::Ok();
    };
    switch (n.access) {
      case Access::kRefLookup: {
        std::vector<std::optional<RowId>> target(parents.size());
        std::vector<RowId> distinct;
        for (size_t pi = 0; pi < parents.size(); ++pi) {
          ORMDB_ASSIGN_OR_RETURN(const RowData* pr, parent_data(parents[pi]));
          const Value& v = pr->row.fields[n.ref_field];
          if (v.is_null()) continue;
          target[pi] = static_cast<RowId>(v.as_int64());
          distinct.push_back(*target[pi]);
        }
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        for (RowId id : distinct) {
          if (ns) ++ns->examined;
          ORMDB_RETURN_IF_ERROR(GetRow(*n.entity, id).status());
        }
        for (size_t pi = 0; pi < parents.size(); ++pi) {
          if (!target[pi]) continue;
          ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(*n.entity, *target[pi]));
          ORMDB_RETURN_IF_ERROR(filter_into(pi, *target[pi], row));
        }
        break;
      }
      case Access::kChildIndex: {
        for (size_t pi = 0; pi < parents.size(); ++pi) {
          RowId pid = parent_block.rows[parents[pi]];
          const std::optional<CursorPosition>& pc =
              cursor && cursor->parent == pid ? cursor : std::nullopt;
          Range range = BuildRange(n, n.range, {Value::Int64(static_cast<int64_t>(pid))}, pc);
          ORMDB_RETURN_IF_ERROR(ScanRange(n, idx, n.range, range, pc, want, &lists[pi], ns));
        }
        break;
      }
      case Access::kChildScanHash: {
        std::unordered_map<RowId, size_t> parent_index;
        for (size_t pi = 0; pi < parents.size(); ++pi) {
          parent_index.emplace(parent_block.rows[parents[pi]], pi);
        }
        std::vector<std::pair<RowId, const RowData*>> rows;
        Status st;
        ORMDB_RETURN_IF_ERROR(txn_.ScanRows(n.entity->id, 0, ScanDirection::kForward,
                                            [&](RowId id, const storage::RowRecord& rec) {
                                              if (ns) ++ns->examined;
                                              auto row = Remember(*n.entity, id, rec);
                                              if (!row.ok()) {
                                                st = row.status();
                                                return false;
                                              }
                                              rows.emplace_back(id, *row);
                                              return true;
                                            }));
        ORMDB_RETURN_IF_ERROR(st);
        for (auto [id, row] : rows) {
          const Value& ref = row->row.fields[n.ref_field];
          if (ref.is_null()) continue;
          auto it = parent_index.find(static_cast<RowId>(ref.as_int64()));
          if (it == parent_index.end()) continue;
          ORMDB_RETURN_IF_ERROR(filter_into(it->second, id, row));
        }
        break;
      }
      case Access::kEdgeRange: {
        bool backward = n.order_is_id_only && !n.order.empty() && n.order[0].descending;
        bool early =
            n.order_is_id_only && want >= 0 && !n.has_where && !cursor && !n.entity->uuid_id;
        std::vector<std::vector<RowId>> linked(parents.size());
        std::vector<RowId> distinct;
        for (size_t pi = 0; pi < parents.size(); ++pi) {
          RowId pid = parent_block.rows[parents[pi]];
          ORMDB_RETURN_IF_ERROR(txn_.ScanEdges(
              n.edge,
              n.edge_forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward,
              pid,
              [&](RowId to) {
                if (ns) ++ns->examined;
                linked[pi].push_back(to);
                return !early || static_cast<int64_t>(linked[pi].size()) < want;
              },
              backward ? ScanDirection::kBackward : ScanDirection::kForward));
          distinct.insert(distinct.end(), linked[pi].begin(), linked[pi].end());
        }
        // The distinct linked rows in id order (one batch), then per parent
        // the predicate, the order and the limit.
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        bool top_n = want >= 0 && !early;
        if (!top_n) {
          for (RowId id : distinct) ORMDB_RETURN_IF_ERROR(GetRow(*n.entity, id).status());
        }
        for (size_t pi = 0; pi < parents.size(); ++pi) {
          RowId pid = parent_block.rows[parents[pi]];
          const CursorPosition* pc = cursor && cursor->parent == pid ? &*cursor : nullptr;
          for (RowId id : linked[pi]) {
            ORMDB_RETURN_IF_ERROR(Offer(n, idx, id, pc, want, top_n, &lists[pi]));
          }
        }
        break;
      }
      default:
        return Internal("bad include access path");
    }
    for (size_t pi = 0; pi < parents.size() && !stopped_; ++pi) {
      SortCandidates(n, &lists[pi], want);
      RowId pid = parent_block.rows[parents[pi]];
      ORMDB_RETURN_IF_ERROR(Emit(idx, parents[pi], pid, occ[pi], lists[pi], cursor));
    }
    if (ns) ns->micros = Micros(start);
    return Status::Ok();
  }

  std::shared_ptr<const Plan> plan_;
  const std::vector<BoundSlot>& slots_;
  storage::TxnReader& txn_;
  const catalog::LayoutLookup& layouts_;
  const ExecOptions& opt_;
  std::vector<NodeStats>* stats_;
  std::shared_ptr<ResultBlocks> out_;
  std::deque<RowData> rows_;
  std::unordered_map<uint32_t, std::unordered_map<RowId, const RowData*>> cache_;
  std::vector<std::pair<int, const RowData*>> block_rows_;
  // Per node: its distinct child rows in first-appearance order and how
  // often each is rendered (the next level's parents).
  std::vector<std::vector<uint32_t>> dist_rows_;
  std::vector<std::vector<uint64_t>> dist_occ_;
  std::unordered_map<int, std::unordered_map<uint32_t, size_t>> occ_index_;
  bool stopped_ = false;
  // Scratch space for rows decoded only in part (Offer).
  std::vector<std::vector<size_t>> wanted_;
  RowData probe_;
  storage::RowView view_;
  Candidate scratch_;
  std::vector<QuickPlan> quick_;
  storage::RowView quick_view_;
};

}  // namespace

Result<std::shared_ptr<ResultBlocks>> ExecutePlan(std::shared_ptr<const Plan> plan,
                                                  const std::vector<BoundSlot>& slots,
                                                  storage::TxnReader& txn,
                                                  const catalog::LayoutLookup& layouts,
                                                  const ExecOptions& options,
                                                  std::vector<NodeStats>* stats) {
  Executor ex(std::move(plan), slots, txn, layouts, options, stats);
  return ex.Run();
}

Result<Version> CursorVersion(const Plan& plan, const std::vector<BoundSlot>& slots,
                              std::string_view secret) {
  Version v = 0;
  for (const Node& n : plan.nodes) {
    if (n.after_slot < 0) continue;
    ORMDB_ASSIGN_OR_RETURN(
        CursorPosition pos,
        DecodeCursor(secret, slots[n.after_slot].after, n.kind == Node::Kind::kRoot, n.cursor_shape,
                     n.cursor_key_types, n.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64));
    if (v != 0 && pos.version != v) {
      return InvalidArgument(
          "invalid cursor: the cursors of one query must come from one snapshot (" +
          std::to_string(v) + " and " + std::to_string(pos.version) + ")");
    }
    v = pos.version;
  }
  return v;
}

}  // namespace ormdb::query
