// Randomized differential test of the graph fetch (DESIGN.md §4, §5, §9;
// docs/QUERIES.md) against a naive reference evaluator written here.
//
// Each run builds a few small random graphs (seeded; small value domains so
// that ties and nulls are frequent) through Database::Mutate, keeps an
// in-memory copy of the rows and links, and runs a few thousand random
// fetches given as query text: random where trees (comparisons, in, not in,
// like, is [not] null, and/or/not, paths through to-one relations, $params),
// random orders (paths included), root and per-parent limits, and nested
// includes up to depth 3 (to-one, inverse, many-to-many, self). The
// reference evaluates each fetch by nested loops over every row with SQL's
// three-valued logic, sorts (nulls last ascending, first descending, id asc
// as the final tie-break), applies per-parent limits and renders the §5 tree;
// the test compares it with the engine's "data" (cursors only as null or
// not), "next", "version" and stats (entities, edges), with the same tree
// read through ResultObject, and follows root and include cursors for some
// cases. Selections hold aggregates (every function, with where filters,
// over inverse and many-to-many relations, some ordered by) which the
// reference computes per parent by nested loops. Half of the graph's queries run after a random
// mutation batch, some of them `as_of` the version before it against the saved copy.
//
// The seed is random and printed (fixed, 20261121, when the CI variable is
// set, so that a CI run is reproducible and lands or not on its merits);
// ORMDB_RANDOM_SEED=N reproduces a run and ORMDB_RANDOM_GRAPHS=N changes the
// number of graphs (default 12).
//
// Only the public API (ormdb/database.h, ormdb/fetch.h) and common/json.h.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"
#include "tests/served_database.h"

namespace ormdb {
namespace {

// ---------------------------------------------------------------------------
// The schema, as the database sees it and as the reference models it. Half
// the graphs use it as is, the other half with the indexes of kIndexes
// added, so that index ranges (and like prefixes, long keys, composite
// indexes) are among the access paths the compiler picks.

constexpr const char* kSchema = R"(
entity Team {
  id: id
  name: string
  rank: int32?
  nodes: [Node] @inverse(team)
}

entity Node {
  id: id
  a: int32?
  b: int64
  s: string?
  f: float64?
  flag: bool
  ts: timestamp
  team: Team? @on_delete(set_null)
  parent: Node? @on_delete(set_null)
  children: [Node] @inverse(parent)
  tags: [Tag] @many(node_tags)
}

entity Tag {
  id: id
  label: string?
  weight: int32?
  nodes: [Node] @many(node_tags)
}
)";

// The same schema with indexes (applied as a migration after kSchema).
std::string IndexedSchema() {
  std::string s = kSchema;
  auto add = [&](const std::string& after, const std::string& text) {
    size_t at = s.find(after);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no " << after;
      return;
    }
    s.insert(at + after.size(), text);
  };
  add("  name: string", " @index");
  add("  b: int64", " @index");
  add("  s: string?", " @index");
  add("  f: float64?", " @index");
  add("  label: string?", " @index");
  add("  weight: int32?", " @index");
  add("  tags: [Tag] @many(node_tags)\n",
      "  @@index(a, ts)\n  @@index(parent, s)\n  @@index(team, f)\n");
  return s;
}

enum class Ty { kInt32, kInt64, kFloat, kStr, kBool, kTs, kId, kRef };
enum class RelKind { kToOne, kInverse, kMany };

struct FieldDef {
  std::string name;
  Ty type;
  bool nullable;
  int target;  // kRef: the referenced entity
};
struct RelDef {
  std::string name;
  RelKind kind;
  int target;
  int field;  // kToOne: the ref field of this entity; kInverse: the ref field of target
  int side;   // kMany: 0 = from Node (Node.tags), 1 = from Tag (Tag.nodes)
};
struct EntityDef {
  std::string name;
  std::vector<FieldDef> fields;
  std::vector<RelDef> rels;
};

enum Ent { kTeam = 0, kNode = 1, kTag = 2 };
constexpr int kNodeA = 0, kNodeB = 1, kNodeS = 2, kNodeF = 3, kNodeFlag = 4, kNodeTs = 5,
              kNodeTeam = 6, kNodeParent = 7;

const std::vector<EntityDef>& Schema() {
  static const std::vector<EntityDef> s = {
      {"Team",
       {{"name", Ty::kStr, false, -1}, {"rank", Ty::kInt32, true, -1}},
       {{"nodes", RelKind::kInverse, kNode, kNodeTeam, 0}}},
      {"Node",
       {{"a", Ty::kInt32, true, -1},
        {"b", Ty::kInt64, false, -1},
        {"s", Ty::kStr, true, -1},
        {"f", Ty::kFloat, true, -1},
        {"flag", Ty::kBool, false, -1},
        {"ts", Ty::kTs, false, -1},
        {"team", Ty::kRef, true, kTeam},
        {"parent", Ty::kRef, true, kNode}},
       {{"team", RelKind::kToOne, kTeam, kNodeTeam, 0},
        {"parent", RelKind::kToOne, kNode, kNodeParent, 0},
        {"children", RelKind::kInverse, kNode, kNodeParent, 0},
        {"tags", RelKind::kMany, kTag, -1, 0}}},
      {"Tag",
       {{"label", Ty::kStr, true, -1}, {"weight", Ty::kInt32, true, -1}},
       {{"nodes", RelKind::kMany, kNode, -1, 1}}},
  };
  return s;
}

int FieldIndex(int ent, const std::string& name) {
  const auto& f = Schema()[ent].fields;
  for (size_t i = 0; i < f.size(); ++i)
    if (f[i].name == name) return static_cast<int>(i);
  return -1;
}

// ---------------------------------------------------------------------------
// Values and rows.

struct Val {
  enum K : uint8_t { kNull, kInt, kFloat, kStr, kBool } k = kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;
  bool b = false;

  static Val Null() { return {}; }
  static Val Int(int64_t v) {
    Val x;
    x.k = kInt;
    x.i = v;
    return x;
  }
  static Val Float(double v) {
    Val x;
    x.k = kFloat;
    x.d = v;
    return x;
  }
  static Val Str(std::string v) {
    Val x;
    x.k = kStr;
    x.s = std::move(v);
    return x;
  }
  static Val Bool(bool v) {
    Val x;
    x.k = kBool;
    x.b = v;
    return x;
  }
  bool null() const { return k == kNull; }
};

// Three-way comparison of two non-null values of comparable kinds.
int Cmp3(const Val& x, const Val& y) {
  if ((x.k == Val::kInt || x.k == Val::kFloat) && (y.k == Val::kInt || y.k == Val::kFloat)) {
    if (x.k == Val::kInt && y.k == Val::kInt) return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
    long double a = x.k == Val::kInt ? static_cast<long double>(x.i) : x.d;
    long double b = y.k == Val::kInt ? static_cast<long double>(y.i) : y.d;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (x.k == Val::kStr && y.k == Val::kStr) {
    int c = x.s.compare(y.s);  // char_traits<char>: unsigned bytes
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (x.k == Val::kBool && y.k == Val::kBool) return static_cast<int>(x.b) - static_cast<int>(y.b);
  ADD_FAILURE() << "reference bug: incomparable values";
  return 0;
}

using Row = std::vector<Val>;

struct Data {
  std::array<std::map<int64_t, Row>, 3> rows;
  std::set<std::pair<int64_t, int64_t>> node_tags;  // (node id, tag id)
};

// ---------------------------------------------------------------------------
// Timestamps (written here: the test uses only the public API and json.h).

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t Micros(int y, int mo, int d, int h, int mi, int s, int us) {
  return ((DaysFromCivil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * 1000000 + us;
}

// RFC 3339 UTC with Z; fractional seconds only when non-zero (3 digits for
// whole milliseconds, else 6), as the engine's timestamp rendering does.
std::string FormatTs(int64_t us) {
  int64_t secs = FloorDiv(us, 1000000);
  int64_t frac = us - secs * 1000000;
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02lld:%02lld:%02lld", static_cast<long long>(y), m,
           d, static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
           static_cast<long long>(sod % 60));
  std::string out = buf;
  if (frac != 0) {
    if (frac % 1000 == 0)
      snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(frac / 1000));
    else
      snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  return out + "Z";
}

// ---------------------------------------------------------------------------
// Value domains: small, so that ties and nulls are frequent.

using Rng = std::mt19937_64;

int64_t Uniform(Rng& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
bool Chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(Uniform(rng, 0, static_cast<int64_t>(v.size()) - 1))];
}

const std::vector<int64_t> kBDomain = {-1, 0, 1, 2, 3, 5000000000};
const std::vector<double> kFDomain = {-1.5, 0.0, 2.0, 2.5, 7.25};
// Strings longer than an index key (511 bytes) end the domain: equal
// 600-byte prefixes, then different.
const std::vector<std::string> kSDomain = {"",
                                           "a",
                                           "ab",
                                           "abc",
                                           "a_b",
                                           "a%b",
                                           "b",
                                           "B",
                                           "\xC3\xA9",
                                           "a\xC3\xA9",
                                           "zz",
                                           "a b",
                                           std::string(600, 'a') + "b",
                                           std::string(600, 'a') + "c",
                                           std::string(600, 'a')};
const std::vector<std::string> kTeamNames = {"red", "blue", "Red", "green", "", "r\xC3\xA9"};
const std::vector<std::string> kLabels = {"x", "y", "x_", "%", "xy", "X"};
const std::vector<int64_t>& TsDomain() {
  static const std::vector<int64_t> v = {
      Micros(2024, 5, 1, 10, 0, 0, 0),       Micros(2024, 5, 1, 10, 0, 0, 250000),
      Micros(2024, 5, 1, 9, 59, 59, 999999), Micros(2023, 12, 31, 23, 59, 59, 0),
      Micros(1970, 1, 1, 0, 0, 0, 0),        Micros(2024, 2, 29, 12, 0, 0, 0),
  };
  return v;
}
const std::vector<std::string> kLikePatterns = {
    "a%",        "%b",  "_",   "__",        "a\\_b", "a\\%b", "%\\%%", "",    "%",
    "_\xC3\xA9", "a_",  "%a%", "a_b",       "A%",    "%_",    "r%",    "%e%", "r_",
    "x\\_",      "\\%", "x%",  "%\xC3\xA9", "_b%",   "ab%c",  "a b"};

Val RandomValue(Rng& rng, int ent, int field, const Data& d) {
  const FieldDef& f = Schema()[ent].fields[field];
  if (f.nullable && Chance(rng, 0.25)) return Val::Null();
  switch (f.type) {
    case Ty::kInt32:
      return Val::Int(Uniform(rng, ent == kNode ? -1 : 0, ent == kNode ? 5 : 4));
    case Ty::kInt64:
      return Val::Int(Pick(rng, kBDomain));
    case Ty::kFloat:
      return Val::Float(Pick(rng, kFDomain));
    case Ty::kStr:
      return Val::Str(ent == kNode   ? Pick(rng, kSDomain)
                      : ent == kTeam ? Pick(rng, kTeamNames)
                                     : Pick(rng, kLabels));
    case Ty::kBool:
      return Val::Bool(Chance(rng, 0.5));
    case Ty::kTs:
      return Val::Int(Pick(rng, TsDomain()));
    case Ty::kRef: {
      const auto& rows = d.rows[f.target];
      if (rows.empty()) return Val::Null();
      auto it = rows.begin();
      std::advance(it, Uniform(rng, 0, static_cast<int64_t>(rows.size()) - 1));
      return Val::Int(it->first);
    }
    case Ty::kId:
      break;
  }
  return Val::Null();
}

// The value as the mutation batch writes it.
Json ValueToMutationJson(Rng& rng, Ty type, const Val& v) {
  if (v.null()) return Json();
  switch (v.k) {
    case Val::kInt:
      if (type == Ty::kTs && Chance(rng, 0.7)) return Json(FormatTs(v.i));
      return Json(v.i);
    case Val::kFloat:
      return Json(v.d);
    case Val::kStr:
      return Json(v.s);
    case Val::kBool:
      return Json(v.b);
    case Val::kNull:
      break;
  }
  return Json();
}

// The value as a §5 result renders it.
Json ValueToResultJson(Ty type, const Val& v) {
  if (v.null()) return Json();
  switch (v.k) {
    case Val::kInt:
      if (type == Ty::kTs) return Json(FormatTs(v.i));
      return Json(v.i);
    case Val::kFloat:
      return Json(v.d);
    case Val::kStr:
      return Json(v.s);
    case Val::kBool:
      return Json(v.b);
    case Val::kNull:
      break;
  }
  return Json();
}

// ---------------------------------------------------------------------------
// Paths through to-one relations.

struct PathSpec {
  std::vector<std::string> path;
  Ty type;
};

const std::vector<PathSpec>& WherePaths(int ent) {
  static const std::vector<PathSpec> team = {
      {{"name"}, Ty::kStr}, {{"rank"}, Ty::kInt32}, {{"id"}, Ty::kId}};
  static const std::vector<PathSpec> node = {
      {{"a"}, Ty::kInt32},
      {{"a"}, Ty::kInt32},
      {{"b"}, Ty::kInt64},
      {{"s"}, Ty::kStr},
      {{"s"}, Ty::kStr},
      {{"f"}, Ty::kFloat},
      {{"flag"}, Ty::kBool},
      {{"ts"}, Ty::kTs},
      {{"id"}, Ty::kId},
      {{"team"}, Ty::kRef},
      {{"parent"}, Ty::kRef},
      {{"team", "name"}, Ty::kStr},
      {{"team", "rank"}, Ty::kInt32},
      {{"team", "id"}, Ty::kId},
      {{"parent", "a"}, Ty::kInt32},
      {{"parent", "s"}, Ty::kStr},
      {{"parent", "ts"}, Ty::kTs},
      {{"parent", "flag"}, Ty::kBool},
      {{"parent", "team", "rank"}, Ty::kInt32},
      {{"parent", "parent", "b"}, Ty::kInt64},
  };
  static const std::vector<PathSpec> tag = {
      {{"label"}, Ty::kStr}, {{"weight"}, Ty::kInt32}, {{"id"}, Ty::kId}};
  return ent == kTeam ? team : ent == kNode ? node : tag;
}

const std::vector<std::vector<std::string>>& OrderPaths(int ent) {
  static const std::vector<std::vector<std::string>> team = {{"name"}, {"rank"}, {"id"}};
  static const std::vector<std::vector<std::string>> node = {{"a"},
                                                             {"b"},
                                                             {"s"},
                                                             {"f"},
                                                             {"flag"},
                                                             {"ts"},
                                                             {"id"},
                                                             {"team"},
                                                             {"team", "rank"},
                                                             {"team", "name"},
                                                             {"parent", "b"},
                                                             {"parent", "s"},
                                                             {"parent", "team", "name"},
                                                             {"a"},
                                                             {"s"}};
  static const std::vector<std::vector<std::string>> tag = {{"label"}, {"weight"}, {"id"}};
  return ent == kTeam ? team : ent == kNode ? node : tag;
}

Val EvalPath(const Data& d, int ent, int64_t id, const std::vector<std::string>& path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == "id") return Val::Int(id);
    int fi = FieldIndex(ent, path[i]);
    if (fi < 0) {
      ADD_FAILURE() << "reference bug: no field " << path[i];
      return Val::Null();
    }
    const Row& row = d.rows[ent].at(id);
    const Val& v = row[fi];
    if (i + 1 == path.size()) return v;
    if (v.null()) return Val::Null();
    id = v.i;
    ent = Schema()[ent].fields[fi].target;
  }
  return Val::Null();
}

std::string JoinPath(const std::vector<std::string>& p) {
  std::string s;
  for (size_t i = 0; i < p.size(); ++i) s += (i ? "." : "") + p[i];
  return s;
}

// ---------------------------------------------------------------------------
// Predicates.

struct Operand {
  bool is_path = false;
  std::vector<std::string> path;
  Val lit;               // the literal's value as compared (timestamps as micros)
  std::string text;      // as written: a literal or $param
  Ty type = Ty::kInt32;  // a literal's: the type of the path it meets
  std::string param;     // the parameter's name when written as $param
};

struct Expr {
  enum Op { kCmp, kIn, kNotIn, kLike, kIsNull, kIsNotNull, kAnd, kOr, kNot } op = kCmp;
  std::string cmp;   // kCmp
  Operand lhs, rhs;  // kCmp; kIn, kLike, kIsNull use lhs; kLike's rhs is the pattern
  std::vector<Operand> list;
  std::string pattern;  // kLike, unescaped
  std::vector<Expr> kids;
  bool bare_and = false;  // kOr: print and-children without parentheses
};

std::string QuoteJson(const std::string& s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

// Builds literal operands and collects the $params a query binds.
struct LitGen {
  Rng* rng;
  Json* params;
  int* next_param;
  int64_t max_id = 45;  // id literals range over 0..max_id
  double param_rate = 0.12;

  // When re-rolling a query's literals: each operand keeps its form (a
  // literal, or the same $param with a new value).
  const std::string* keep_param = nullptr;

  Operand Make(std::string text, Val v, Json json) {
    Operand o;
    o.lit = std::move(v);
    bool as_param = keep_param ? !keep_param->empty() : Chance(*rng, param_rate);
    if (as_param) {
      std::string name = keep_param ? *keep_param : "p" + std::to_string((*next_param)++);
      params->Set(name, std::move(json));
      o.text = "$" + name;
      o.param = name;
    } else {
      o.text = std::move(text);
    }
    return o;
  }

  Operand Literal(Ty t) {
    Operand o = LiteralOfType(t);
    o.type = t;
    return o;
  }

  Operand LiteralOfType(Ty t) {
    Rng& r = *rng;
    switch (t) {
      case Ty::kInt32:
      case Ty::kInt64:
      case Ty::kFloat:
        if (Chance(r, 0.65)) {
          static const std::vector<int64_t> ints = {-1, 0, 1, 2, 3, 4, 5, 5000000000};
          int64_t v = Pick(r, ints);
          return Make(std::to_string(v), Val::Int(v), Json(v));
        } else {
          static const std::vector<std::pair<const char*, double>> fl = {
              {"-1.5", -1.5}, {"0.0", 0.0},   {"2.0", 2.0},
              {"2.5", 2.5},   {"7.25", 7.25}, {"3.5", 3.5}};
          auto [text, v] = Pick(r, fl);
          return Make(text, Val::Float(v), Json(v));
        }
      case Ty::kId:
      case Ty::kRef: {
        int64_t v = Uniform(r, 0, max_id);
        return Make(std::to_string(v), Val::Int(v), Json(v));
      }
      case Ty::kStr: {
        std::string v;
        int which = static_cast<int>(Uniform(r, 0, 3));
        v = which == 0   ? Pick(r, kSDomain)
            : which == 1 ? Pick(r, kTeamNames)
            : which == 2 ? Pick(r, kLabels)
                         : Pick(r, std::vector<std::string>{"aa", "zzz", "b ", "\xC3\xA9t", "a"});
        return Make(QuoteJson(v), Val::Str(v), Json(v));
      }
      case Ty::kBool: {
        bool v = Chance(r, 0.5);
        return Make(v ? "true" : "false", Val::Bool(v), Json(v));
      }
      case Ty::kTs: {
        int64_t v = Pick(r, TsDomain());
        int delta = static_cast<int>(Uniform(r, 0, 4));
        if (delta == 3) v += 1;
        if (delta == 4) v -= 1;
        int form = static_cast<int>(Uniform(r, 0, 4));
        if (form <= 1) return Make(QuoteJson(FormatTs(v)), Val::Int(v), Json(FormatTs(v)));
        if (form == 2) {
          std::string local = FormatTs(v + int64_t{2} * 3600 * 1000000);
          local = local.substr(0, local.size() - 1) + "+02:00";
          return Make(QuoteJson(local), Val::Int(v), Json(local));
        }
        return Make(std::to_string(v), Val::Int(v), Json(v));
      }
    }
    return {};
  }
};

Operand PathOperand(const std::vector<std::string>& p) {
  Operand o;
  o.is_path = true;
  o.path = p;
  o.text = JoinPath(p);
  return o;
}

enum class TyClass { kNum, kStr, kBool, kTs, kId };
TyClass ClassOf(Ty t) {
  switch (t) {
    case Ty::kInt32:
    case Ty::kInt64:
    case Ty::kFloat:
      return TyClass::kNum;
    case Ty::kStr:
      return TyClass::kStr;
    case Ty::kBool:
      return TyClass::kBool;
    case Ty::kTs:
      return TyClass::kTs;
    case Ty::kId:
    case Ty::kRef:
      return TyClass::kId;
  }
  return TyClass::kId;
}

Expr GenPredicate(Rng& rng, int ent, LitGen& lits) {
  const auto& paths = WherePaths(ent);
  const PathSpec& p = Pick(rng, paths);
  Expr e;
  double r = std::uniform_real_distribution<double>(0, 1)(rng);
  TyClass cls = ClassOf(p.type);
  if (cls == TyClass::kStr && r < 0.15) {
    e.op = Expr::kLike;
    e.lhs = PathOperand(p.path);
    e.pattern = Pick(rng, kLikePatterns);
    e.rhs = lits.Make(QuoteJson(e.pattern), Val::Str(e.pattern), Json(e.pattern));
    e.rhs.type = Ty::kStr;
    return e;
  }
  if (r < 0.30) {
    e.op = Chance(rng, 0.5) ? Expr::kIn : Expr::kNotIn;
    e.lhs = PathOperand(p.path);
    int n = static_cast<int>(Uniform(rng, 0, 4));
    if (n == 0 && Chance(rng, 0.5)) n = 1;
    for (int i = 0; i < n; ++i) e.list.push_back(lits.Literal(p.type));
    return e;
  }
  if (r < 0.42) {
    e.op = Chance(rng, 0.5) ? Expr::kIsNull : Expr::kIsNotNull;
    e.lhs = PathOperand(p.path);
    return e;
  }
  e.op = Expr::kCmp;
  static const std::vector<std::string> ops = {"==", "!=", "<", "<=", ">", ">="};
  static const std::vector<std::string> eq_ops = {"==", "!="};
  e.cmp = Pick(rng, cls == TyClass::kBool ? eq_ops : ops);
  e.lhs = PathOperand(p.path);
  if (r < 0.52 && cls != TyClass::kId && cls != TyClass::kBool) {
    // Path against path of a comparable type.
    std::vector<const PathSpec*> same;
    for (const auto& q : paths)
      if (ClassOf(q.type) == cls && q.path != p.path) same.push_back(&q);
    if (!same.empty()) {
      e.rhs = PathOperand(Pick(rng, same)->path);
      return e;
    }
  }
  e.rhs = lits.Literal(p.type);
  if (Chance(rng, 0.1)) std::swap(e.lhs, e.rhs);  // literal on the left
  return e;
}

Expr GenExpr(Rng& rng, int ent, LitGen& lits, int depth) {
  double r = std::uniform_real_distribution<double>(0, 1)(rng);
  if (depth >= 3 || r < 0.45) return GenPredicate(rng, ent, lits);
  Expr e;
  if (r < 0.62) {
    e.op = Expr::kNot;
    e.kids.push_back(GenExpr(rng, ent, lits, depth + 1));
    return e;
  }
  e.op = r < 0.81 ? Expr::kAnd : Expr::kOr;
  int n = static_cast<int>(Uniform(rng, 2, 3));
  for (int i = 0; i < n; ++i) e.kids.push_back(GenExpr(rng, ent, lits, depth + 1));
  e.bare_and = Chance(rng, 0.5);
  return e;
}

// New values for every literal of `e` (same types, same forms): the query
// keeps its shape, so a cached plan must be reused with the new values.
void RerollLiterals(Rng& rng, Expr& e, LitGen& lits) {
  auto again = [&](Operand& o) {
    if (o.is_path) return;
    std::string keep = o.param;
    lits.keep_param = &keep;
    o = lits.Literal(o.type);
    lits.keep_param = nullptr;
  };
  switch (e.op) {
    case Expr::kCmp:
      again(e.lhs);
      again(e.rhs);
      break;
    case Expr::kIn:
    case Expr::kNotIn:
      for (Operand& o : e.list) again(o);
      break;
    case Expr::kLike: {
      std::string keep = e.rhs.param;
      lits.keep_param = &keep;
      e.pattern = Pick(rng, kLikePatterns);
      e.rhs = lits.Make(QuoteJson(e.pattern), Val::Str(e.pattern), Json(e.pattern));
      e.rhs.type = Ty::kStr;
      lits.keep_param = nullptr;
      break;
    }
    case Expr::kIsNull:
    case Expr::kIsNotNull:
      break;
    case Expr::kNot:
    case Expr::kAnd:
    case Expr::kOr:
      for (Expr& k : e.kids) RerollLiterals(rng, k, lits);
      break;
  }
}

std::string PrintExpr(const Expr& e) {
  switch (e.op) {
    case Expr::kCmp:
      return e.lhs.text + " " + e.cmp + " " + e.rhs.text;
    case Expr::kIn:
    case Expr::kNotIn: {
      std::string s = e.lhs.text + (e.op == Expr::kIn ? " in [" : " not in [");
      for (size_t i = 0; i < e.list.size(); ++i) s += (i ? ", " : "") + e.list[i].text;
      return s + "]";
    }
    case Expr::kLike:
      return e.lhs.text + " like " + e.rhs.text;
    case Expr::kIsNull:
      return e.lhs.text + " is null";
    case Expr::kIsNotNull:
      return e.lhs.text + " is not null";
    case Expr::kNot: {
      const Expr& k = e.kids[0];
      bool paren = k.op == Expr::kAnd || k.op == Expr::kOr;
      return paren ? "not (" + PrintExpr(k) + ")" : "not " + PrintExpr(k);
    }
    case Expr::kAnd:
    case Expr::kOr: {
      std::string s;
      for (size_t i = 0; i < e.kids.size(); ++i) {
        const Expr& k = e.kids[i];
        bool paren =
            k.op == Expr::kOr || (k.op == Expr::kAnd && !(e.op == Expr::kOr && e.bare_and));
        if (i) s += e.op == Expr::kAnd ? " and " : " or ";
        s += paren ? "(" + PrintExpr(k) + ")" : PrintExpr(k);
      }
      return s;
    }
  }
  return "";
}

enum Tri { kF, kT, kU };

Val OperandValue(const Data& d, int ent, int64_t id, const Operand& o) {
  return o.is_path ? EvalPath(d, ent, id, o.path) : o.lit;
}

// Code points of valid UTF-8.
std::vector<uint32_t> CodePoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

bool LikeMatch(const std::string& pattern, const std::string& text) {
  // Tokens: -1 = '%', -2 = '_', else a literal code point.
  std::vector<int64_t> pat;
  std::vector<uint32_t> pc = CodePoints(pattern);
  for (size_t i = 0; i < pc.size(); ++i) {
    if (pc[i] == '\\' && i + 1 < pc.size() &&
        (pc[i + 1] == '%' || pc[i + 1] == '_' || pc[i + 1] == '\\')) {
      pat.push_back(pc[++i]);
    } else if (pc[i] == '%') {
      pat.push_back(-1);
    } else if (pc[i] == '_') {
      pat.push_back(-2);
    } else {
      pat.push_back(pc[i]);
    }
  }
  std::vector<uint32_t> t = CodePoints(text);
  // dp[j]: pattern prefix of length i matches text prefix of length j.
  std::vector<char> dp(t.size() + 1, 0), nd(t.size() + 1, 0);
  dp[0] = 1;
  for (int64_t tok : pat) {
    std::fill(nd.begin(), nd.end(), 0);
    if (tok == -1) {
      char any = 0;
      for (size_t j = 0; j <= t.size(); ++j) {
        any = any || dp[j];
        nd[j] = any;
      }
    } else {
      for (size_t j = 0; j < t.size(); ++j)
        if (dp[j] && (tok == -2 || static_cast<uint32_t>(tok) == t[j])) nd[j + 1] = 1;
    }
    std::swap(dp, nd);
  }
  return dp[t.size()];
}

Tri Eval(const Expr& e, const Data& d, int ent, int64_t id) {
  switch (e.op) {
    case Expr::kCmp: {
      Val l = OperandValue(d, ent, id, e.lhs), r = OperandValue(d, ent, id, e.rhs);
      if (l.null() || r.null()) return kU;
      int c = Cmp3(l, r);
      bool b = e.cmp == "=="   ? c == 0
               : e.cmp == "!=" ? c != 0
               : e.cmp == "<"  ? c < 0
               : e.cmp == "<=" ? c <= 0
               : e.cmp == ">"  ? c > 0
                               : c >= 0;
      return b ? kT : kF;
    }
    case Expr::kIn:
    case Expr::kNotIn: {
      Val l = OperandValue(d, ent, id, e.lhs);
      if (l.null()) return kU;
      bool found = false;
      for (const Operand& o : e.list) found = found || Cmp3(l, o.lit) == 0;
      return (found == (e.op == Expr::kIn)) ? kT : kF;
    }
    case Expr::kLike: {
      Val l = OperandValue(d, ent, id, e.lhs);
      if (l.null()) return kU;
      return LikeMatch(e.pattern, l.s) ? kT : kF;
    }
    case Expr::kIsNull:
    case Expr::kIsNotNull: {
      bool n = OperandValue(d, ent, id, e.lhs).null();
      return (n == (e.op == Expr::kIsNull)) ? kT : kF;
    }
    case Expr::kNot: {
      Tri t = Eval(e.kids[0], d, ent, id);
      return t == kU ? kU : t == kT ? kF : kT;
    }
    case Expr::kAnd: {
      Tri out = kT;
      for (const Expr& k : e.kids) {
        Tri t = Eval(k, d, ent, id);
        if (t == kF) return kF;
        if (t == kU) out = kU;
      }
      return out;
    }
    case Expr::kOr: {
      Tri out = kF;
      for (const Expr& k : e.kids) {
        Tri t = Eval(k, d, ent, id);
        if (t == kT) return kT;
        if (t == kU) out = kU;
      }
      return out;
    }
  }
  return kU;
}

// ---------------------------------------------------------------------------
// Queries.

struct OrderKey {
  std::vector<std::string> path;
  bool desc = false;
  bool explicit_dir = false;
};

struct QNode;
// An aggregate item: `name: fn(relation[.path] [where p])`.
struct AggSpec {
  std::string fn;                 // count, count_distinct, sum, avg, min, max
  int rel = -1;                   // the to-many relation, in the entity's rels
  std::vector<std::string> path;  // of the related entity; empty: count()
  Ty type = Ty::kInt64;           // the path's type
  std::optional<Expr> where;
};
struct Item {
  std::string field;             // a field (or "id"), or the aggregate's name
  std::shared_ptr<QNode> inc;    // an include
  std::shared_ptr<AggSpec> agg;  // an aggregate
};

struct QNode {
  int ent = kNode;
  int rel = -1;  // index of the relation in the parent entity (-1: root)
  RelKind kind = RelKind::kToOne;
  std::string name;  // entity (root) or relation name
  std::optional<Expr> where;
  std::vector<OrderKey> order;
  bool order_brackets = true;
  std::optional<int64_t> limit;
  std::vector<Item> items;
  std::string sep = ", ";
  bool braces = true;
  // Following cursors: the `after` argument, and for an include the parent
  // whose children it continues and the offset it continues at.
  std::string after;
  int64_t after_parent = -1;
  int64_t after_offset = 0;
};

std::string PrintNode(const QNode& n) {
  std::string s = n.name;
  std::vector<std::string> args;
  if (n.where) args.push_back("where: " + PrintExpr(*n.where));
  if (!n.order.empty()) {
    std::string o;
    for (size_t i = 0; i < n.order.size(); ++i) {
      const OrderKey& k = n.order[i];
      o += (i ? ", " : "") + JoinPath(k.path);
      if (k.desc)
        o += " desc";
      else if (k.explicit_dir)
        o += " asc";
    }
    args.push_back(n.order_brackets || n.order.size() > 1 ? "order: [" + o + "]" : "order: " + o);
  }
  if (n.limit) args.push_back("limit: " + std::to_string(*n.limit));
  if (!n.after.empty()) args.push_back("after: " + QuoteJson(n.after));
  if (!args.empty()) {
    s += "(";
    for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i];
    s += ")";
  }
  if (n.braces) {
    s += " { ";
    for (size_t i = 0; i < n.items.size(); ++i) {
      if (i) s += n.sep;
      const Item& it = n.items[i];
      if (it.agg) {
        const AggSpec& a = *it.agg;
        s += it.field + ": " + a.fn + "(" + Schema()[n.ent].rels[a.rel].name +
             (a.path.empty() ? "" : "." + JoinPath(a.path)) +
             (a.where ? " where " + PrintExpr(*a.where) : "") + ")";
        continue;
      }
      s += it.inc ? PrintNode(*it.inc) : it.field;
    }
    s += " }";
  }
  return s;
}

struct QueryGen {
  Rng& rng;
  LitGen lits;

  void GenArgs(QNode& n, double p_where, double p_order, double p_limit, int64_t max_limit) {
    if (Chance(rng, p_where)) n.where = GenExpr(rng, n.ent, lits, 0);
    if (Chance(rng, p_order)) {
      int keys = static_cast<int>(Uniform(rng, 1, 3));
      std::vector<std::vector<std::string>> used;
      for (int i = 0; i < keys; ++i) {
        OrderKey k;
        k.path = Pick(rng, OrderPaths(n.ent));
        if (std::find(used.begin(), used.end(), k.path) != used.end()) continue;
        used.push_back(k.path);
        k.desc = Chance(rng, 0.4);
        k.explicit_dir = Chance(rng, 0.3);
        n.order.push_back(k);
      }
      n.order_brackets = Chance(rng, 0.5);
    }
    if (Chance(rng, p_limit)) n.limit = Chance(rng, 0.04) ? 0 : Uniform(rng, 1, max_limit);
  }

  void GenSelection(QNode& n, int depth) {
    const EntityDef& e = Schema()[n.ent];
    static const double kIncludeRate[] = {0.45, 0.3, 0.2};
    std::vector<Item> items;
    std::set<std::string> included;
    if (depth < 3) {
      for (size_t r = 0; r < e.rels.size(); ++r) {
        if (!Chance(rng, kIncludeRate[depth])) continue;
        auto c = std::make_shared<QNode>();
        c->rel = static_cast<int>(r);
        c->kind = e.rels[r].kind;
        c->ent = e.rels[r].target;
        c->name = e.rels[r].name;
        if (c->kind != RelKind::kToOne) GenArgs(*c, 0.35, 0.4, 0.35, 4);
        GenSelection(*c, depth + 1);
        included.insert(c->name);
        items.push_back({"", c, nullptr});
      }
    }
    for (const FieldDef& f : e.fields)
      if (!included.count(f.name) && Chance(rng, 0.4)) items.push_back({f.name, nullptr, nullptr});
    // Aggregates over the to-many relations, sometimes ordered by.
    std::vector<std::string> aggregates;
    for (size_t r = 0; r < e.rels.size(); ++r) {
      if (e.rels[r].kind == RelKind::kToOne || !Chance(rng, 0.3)) continue;
      auto a = std::make_shared<AggSpec>();
      a->rel = static_cast<int>(r);
      static const std::vector<std::string> fns = {"count", "count", "count_distinct", "sum", "avg",
                                                   "min",   "max"};
      a->fn = Pick(rng, fns);
      auto fits = [&](Ty t) {
        if (a->fn == "sum" || a->fn == "avg") {
          return t == Ty::kInt32 || t == Ty::kInt64 || t == Ty::kFloat;
        }
        if (a->fn == "min" || a->fn == "max") {
          return t == Ty::kInt32 || t == Ty::kInt64 || t == Ty::kFloat || t == Ty::kStr ||
                 t == Ty::kTs;
        }
        return true;
      };
      if (a->fn != "count" || Chance(rng, 0.4)) {
        std::vector<PathSpec> paths;
        for (const PathSpec& p : WherePaths(e.rels[r].target))
          if (fits(p.type)) paths.push_back(p);
        const PathSpec& p = Pick(rng, paths);
        a->path = p.path;
        a->type = p.type;
      }
      if (Chance(rng, 0.35)) a->where = GenExpr(rng, e.rels[r].target, lits, 0);
      std::string name = "agg" + std::to_string(r);
      aggregates.push_back(name);
      items.push_back({name, nullptr, a});
    }
    if (!aggregates.empty() && (n.rel < 0 || n.kind != RelKind::kToOne) && Chance(rng, 0.35)) {
      OrderKey k;
      k.path = {Pick(rng, aggregates)};
      k.desc = Chance(rng, 0.5);
      k.explicit_dir = Chance(rng, 0.3);
      n.order.insert(n.order.begin() + Uniform(rng, 0, static_cast<int64_t>(n.order.size())), k);
    }
    if (Chance(rng, 0.15)) items.push_back({"id", nullptr, nullptr});
    std::shuffle(items.begin(), items.end(), rng);
    bool has_args = n.where || !n.order.empty() || n.limit;
    if (items.empty()) {
      if (n.rel >= 0 && has_args && Chance(rng, 0.5)) {
        n.braces = false;  // `children(limit: 2)`: objects with their id only
      } else {
        const FieldDef& f = Pick(rng, e.fields);
        items.push_back({included.count(f.name) ? "id" : f.name, nullptr, nullptr});
      }
    }
    n.items = std::move(items);
    static const std::vector<std::string> seps = {", ", " ", ",", ", "};
    n.sep = Pick(rng, seps);
  }

  QNode Root() {
    QNode q;
    double r = std::uniform_real_distribution<double>(0, 1)(rng);
    q.ent = r < 0.6 ? kNode : r < 0.8 ? kTeam : kTag;
    q.name = Schema()[q.ent].name;
    GenArgs(q, 0.7, 0.6, 0.4, 12);
    GenSelection(q, 0);
    return q;
  }
};

// New literal values and limits throughout a query, keeping its shape.
void RerollQuery(Rng& rng, QNode& n, LitGen& lits) {
  if (n.where) RerollLiterals(rng, *n.where, lits);
  if (n.limit) n.limit = Chance(rng, 0.04) ? 0 : Uniform(rng, 1, n.rel < 0 ? 12 : 4);
  for (Item& it : n.items) {
    if (it.inc) RerollQuery(rng, *it.inc, lits);
    if (it.agg && it.agg->where) RerollLiterals(rng, *it.agg->where, lits);
  }
}

// ---------------------------------------------------------------------------
// The reference evaluator.

// The rows of relation `rel` of (ent, id), in id order.
std::vector<int64_t> LinkedRows(const Data& d, int ent, int64_t id, int rel) {
  const RelDef& r = Schema()[ent].rels[rel];
  std::vector<int64_t> ids;
  switch (r.kind) {
    case RelKind::kToOne: {
      const Val& v = d.rows[ent].at(id)[r.field];
      if (!v.null()) ids.push_back(v.i);
      break;
    }
    case RelKind::kInverse:
      for (const auto& [cid, row] : d.rows[r.target])
        if (!row[r.field].null() && row[r.field].i == id) ids.push_back(cid);
      break;
    case RelKind::kMany:
      for (const auto& [node, tag] : d.node_tags) {
        if (r.side == 0 && node == id) ids.push_back(tag);
        if (r.side == 1 && tag == id) ids.push_back(node);
      }
      break;
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// An aggregate of (ent, id) by SQL's rules, summing in id order as the
// engine does (so float sums agree to the bit).
Val AggregateOf(const Data& d, int ent, int64_t id, const AggSpec& a) {
  const int target = Schema()[ent].rels[a.rel].target;
  int64_t count = 0, isum = 0;
  double fsum = 0;
  Val best;
  std::set<std::string> distinct;
  for (int64_t cid : LinkedRows(d, ent, id, a.rel)) {
    if (a.where && Eval(*a.where, d, target, cid) != kT) continue;
    if (a.path.empty()) {
      ++count;
      continue;
    }
    Val v = EvalPath(d, target, cid, a.path);
    if (v.null()) continue;
    ++count;
    if (v.k == Val::kFloat) {
      fsum += v.d;
    } else if (v.k == Val::kInt) {
      isum += v.i;
    }
    distinct.insert(std::to_string(v.k) + ":" + std::to_string(v.i) + ":" + std::to_string(v.d) +
                    ":" + v.s + ":" + std::to_string(v.b));
    if (best.null() || (a.fn == "min" ? Cmp3(v, best) < 0 : Cmp3(v, best) > 0)) best = v;
  }
  const bool is_float = a.type == Ty::kFloat;
  if (a.fn == "count") return Val::Int(count);
  if (a.fn == "count_distinct") return Val::Int(static_cast<int64_t>(distinct.size()));
  if (count == 0) return Val::Null();
  if (a.fn == "sum") return is_float ? Val::Float(fsum) : Val::Int(isum);
  if (a.fn == "avg") {
    return Val::Float(is_float ? fsum / static_cast<double>(count)
                               : static_cast<double>(isum) / static_cast<double>(count));
  }
  return best;
}

Json AggregateJson(const AggSpec& a, const Val& v) {
  if (a.fn == "min" || a.fn == "max") return ValueToResultJson(a.type, v);
  return ValueToResultJson(Ty::kInt64, v);
}

const AggSpec* NamedAggregate(const QNode& n, const std::vector<std::string>& path) {
  if (path.size() != 1) return nullptr;
  for (const Item& it : n.items)
    if (it.agg && it.field == path[0]) return it.agg.get();
  return nullptr;
}

std::vector<int64_t> SortedRows(const Data& d, const QNode& n, std::vector<int64_t> ids) {
  std::vector<int64_t> out;
  for (int64_t id : ids)
    if (!n.where || Eval(*n.where, d, n.ent, id) == kT) out.push_back(id);
  std::map<int64_t, std::vector<Val>> keys;
  for (int64_t id : out) {
    auto& k = keys[id];
    for (const OrderKey& o : n.order) {
      const AggSpec* a = NamedAggregate(n, o.path);
      k.push_back(a ? AggregateOf(d, n.ent, id, *a) : EvalPath(d, n.ent, id, o.path));
    }
  }
  std::sort(out.begin(), out.end(), [&](int64_t x, int64_t y) {
    const auto& kx = keys[x];
    const auto& ky = keys[y];
    for (size_t i = 0; i < n.order.size(); ++i) {
      const Val& a = kx[i];
      const Val& b = ky[i];
      bool desc = n.order[i].desc;
      if (a.null() && b.null()) continue;
      if (a.null()) return desc;  // nulls first descending, last ascending
      if (b.null()) return !desc;
      int c = Cmp3(a, b);
      if (c != 0) return desc ? c > 0 : c < 0;
    }
    return x < y;
  });
  return out;
}

std::vector<int64_t> RelatedRows(const Data& d, int parent_ent, int64_t pid, const QNode& n) {
  const RelDef& r = Schema()[parent_ent].rels[n.rel];
  std::vector<int64_t> ids;
  switch (r.kind) {
    case RelKind::kToOne: {
      const Val& v = d.rows[parent_ent].at(pid)[r.field];
      if (!v.null()) ids.push_back(v.i);
      break;
    }
    case RelKind::kInverse:
      for (const auto& [id, row] : d.rows[r.target])
        if (!row[r.field].null() && row[r.field].i == pid) ids.push_back(id);
      break;
    case RelKind::kMany:
      for (const auto& [node, tag] : d.node_tags) {
        if (r.side == 0 && node == pid) ids.push_back(tag);
        if (r.side == 1 && tag == pid) ids.push_back(node);
      }
      break;
  }
  return SortedRows(d, n, ids);
}

struct RenderCtx {
  const Data& d;
  std::set<std::pair<int, int64_t>> entities;
  uint64_t edges = 0;
};

Json RenderObject(RenderCtx& c, const QNode& n, int64_t id) {
  c.entities.insert({n.ent, id});
  Json obj = Json::Object();
  obj.Set("id", Json(id));
  if (!n.braces) return obj;
  for (const Item& it : n.items) {
    if (it.agg) {
      obj.Set(it.field, AggregateJson(*it.agg, AggregateOf(c.d, n.ent, id, *it.agg)));
      continue;
    }
    if (!it.inc) {
      if (it.field == "id") continue;
      int fi = FieldIndex(n.ent, it.field);
      obj.Set(it.field,
              ValueToResultJson(Schema()[n.ent].fields[fi].type, c.d.rows[n.ent].at(id)[fi]));
      continue;
    }
    const QNode& ch = *it.inc;
    std::vector<int64_t> rows = RelatedRows(c.d, n.ent, id, ch);
    if (ch.kind == RelKind::kToOne) {
      if (rows.empty()) {
        obj.Set(ch.name, Json());
      } else {
        ++c.edges;
        obj.Set(ch.name, RenderObject(c, ch, rows[0]));
      }
      continue;
    }
    size_t begin = ch.after_parent == id ? static_cast<size_t>(ch.after_offset) : 0;
    begin = std::min(begin, rows.size());
    size_t end =
        ch.limit ? std::min(rows.size(), begin + static_cast<size_t>(*ch.limit)) : rows.size();
    Json arr = Json::Array();
    for (size_t i = begin; i < end; ++i) {
      ++c.edges;
      arr.Push(RenderObject(c, ch, rows[i]));
    }
    obj.Set(ch.name, std::move(arr));
    if (ch.limit) obj.Set(ch.name + "@next", end < rows.size() ? Json("<cursor>") : Json());
  }
  return obj;
}

struct Expected {
  Json data = Json::Array();
  bool has_next = false;
  uint64_t entities = 0;
  uint64_t edges = 0;
};

// The page of the root rows starting at `offset`.
Expected Evaluate(const Data& d, const QNode& q, size_t offset) {
  std::vector<int64_t> all;
  for (const auto& [id, row] : d.rows[q.ent]) all.push_back(id);
  std::vector<int64_t> rows = SortedRows(d, q, all);
  RenderCtx c{d, {}, 0};
  Expected e;
  size_t begin = std::min(offset, rows.size());
  size_t end = q.limit ? std::min(rows.size(), begin + static_cast<size_t>(*q.limit)) : rows.size();
  for (size_t i = begin; i < end; ++i) e.data.Push(RenderObject(c, q, rows[i]));
  e.has_next = end < rows.size();
  e.entities = c.entities.size();
  e.edges = c.edges;
  return e;
}

// ---------------------------------------------------------------------------
// Comparing the engine's JSON with the reference.

bool SameJson(const Json& e, const Json& a, const std::string& where, std::string* diff) {
  if (e.is_number() && a.is_number()) {
    bool same =
        (e.is_int() && a.is_int()) ? e.as_int() == a.as_int() : e.as_double() == a.as_double();
    if (!same) *diff = where + ": expected " + ToJson(e) + ", found " + ToJson(a);
    return same;
  }
  if (e.kind() != a.kind()) {
    *diff = where + ": expected " + ToJson(e) + ", found " + ToJson(a);
    return false;
  }
  if (e.is_array()) {
    const auto& ea = e.as_array();
    const auto& aa = a.as_array();
    for (size_t i = 0; i < std::min(ea.size(), aa.size()); ++i)
      if (!SameJson(ea[i], aa[i], where + "[" + std::to_string(i) + "]", diff)) return false;
    if (ea.size() != aa.size()) {
      *diff = where + ": expected " + std::to_string(ea.size()) + " elements, found " +
              std::to_string(aa.size());
      return false;
    }
    return true;
  }
  if (e.is_object()) {
    const auto& eo = e.as_object();
    const auto& ao = a.as_object();
    std::string id = e.Find("id") ? "{id=" + ToJson(*e.Find("id")) + "}" : "";
    for (size_t i = 0; i < std::min(eo.size(), ao.size()); ++i) {
      const std::string& key = eo[i].first;
      if (ao[i].first != key) {
        *diff = where + id + ": member " + std::to_string(i) + " expected '" + key + "', found '" +
                ao[i].first + "'";
        return false;
      }
      if (key.size() > 5 && key.ends_with("@next")) {
        // Cursors are opaque: only whether one is there.
        if (eo[i].second.is_null() != ao[i].second.is_null() ||
            !(ao[i].second.is_null() || ao[i].second.is_string())) {
          *diff = where + id + "." + key + ": expected " +
                  (eo[i].second.is_null() ? "null" : "a cursor") + ", found " +
                  ToJson(ao[i].second);
          return false;
        }
        continue;
      }
      if (!SameJson(eo[i].second, ao[i].second, where + id + "." + key, diff)) return false;
    }
    if (eo.size() != ao.size()) {
      std::string ek, ak;
      for (const auto& m : eo) ek += m.first + " ";
      for (const auto& m : ao) ak += m.first + " ";
      *diff = where + id + ": expected members [" + ek + "], found [" + ak + "]";
      return false;
    }
    return true;
  }
  if (!(e == a)) {
    *diff = where + ": expected " + ToJson(e) + ", found " + ToJson(a);
    return false;
  }
  return true;
}

// The tree read back through ResultObject, shaped like the reference's.
Json ApiRender(const ResultObject& o, const QNode& n, std::string* problem) {
  Json obj = Json::Object();
  auto parse = [&](const ResultValue& v) -> Json {
    auto j = ParseJson(v.ToJson());
    if (!j.ok()) {
      *problem = "ResultValue::ToJson is not JSON: " + v.ToJson();
      return Json();
    }
    return std::move(j).value();
  };
  if (o.entity() != Schema()[n.ent].name)
    *problem = "ResultObject::entity() is " + std::string(o.entity()) + ", expected " +
               Schema()[n.ent].name;
  obj.Set("id", parse(o.id()));
  if (!n.braces) return obj;
  for (const Item& it : n.items) {
    if (!it.inc) {
      if (it.field == "id") continue;
      std::optional<ResultValue> v = o.Get(it.field);
      obj.Set(it.field, v ? parse(*v) : Json("<Get returned nullopt>"));
      continue;
    }
    const QNode& ch = *it.inc;
    std::vector<ResultObject> rel = o.Related(ch.name);
    if (ch.kind == RelKind::kToOne) {
      if (rel.size() > 1)
        *problem = "to-one Related() returned " + std::to_string(rel.size()) + " objects";
      obj.Set(ch.name, rel.empty() ? Json() : ApiRender(rel[0], ch, problem));
      continue;
    }
    Json arr = Json::Array();
    for (const ResultObject& c : rel) arr.Push(ApiRender(c, ch, problem));
    obj.Set(ch.name, std::move(arr));
    if (ch.limit) {
      std::optional<std::string> next = o.RelatedNext(ch.name);
      obj.Set(ch.name + "@next", next ? Json(*next) : Json());
    }
  }
  return obj;
}

// ---------------------------------------------------------------------------
// The driver.

std::string Truncated(const std::string& s, size_t max = 6000) {
  return s.size() <= max ? s : s.substr(0, max) + "... (" + std::to_string(s.size()) + " bytes)";
}

class RandomFetch {
 public:
  // `served`: through a server on tcp loopback and the remote client.
  RandomFetch(uint64_t seed, int graph, bool served = false)
      : seed_(seed), graph_(graph), served_(served), rng_(seed * 1000003 + graph) {}

  ~RandomFetch() {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Run(int queries_per_phase) {
    char tmpl[] = "/tmp/ormdb_fetch_random_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (served_) {
      auto db = testing::ServedDatabase::Start(dir_ + "/db");
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      db_ = std::move(db).value();
    } else {
      auto db = Database::Open(dir_ + "/db");
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      db_ = std::move(db).value();
    }
    // Graph kinds by number: 0 no indexes; 1 indexes; 2 indexes built by a
    // migration over the loaded rows; 3 indexes and a larger graph.
    const int kind = graph_ % 4;
    auto applied =
        db_->ApplySchema(kind == 1 || kind == 3 ? IndexedSchema() : std::string(kSchema));
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();

    ASSERT_NO_FATAL_FAILURE(LoadGraph(kind == 3));
    if (kind == 2) {
      auto migrated = db_->ApplySchema(IndexedSchema());
      ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
      ASSERT_TRUE(migrated->applied);
    }
    for (int i = 0; i < queries_per_phase && failures_ < kMaxFailures; ++i)
      OneCase(data_, std::nullopt);

    Data before = data_;
    uint64_t v_before = db_->CurrentVersion();
    ASSERT_NO_FATAL_FAILURE(MutateGraph());
    for (int i = 0; i < queries_per_phase && failures_ < kMaxFailures; ++i) {
      if (Chance(rng_, 0.15))
        OneCase(before, v_before);
      else
        OneCase(data_, std::nullopt);
    }
  }

  int cases() const { return cases_; }
  int failures() const { return failures_; }
  int root_follows() const { return root_follows_; }
  int include_follows() const { return include_follows_; }
  int as_of_cases() const { return as_of_cases_; }
  int rerolls() const { return rerolls_; }
  static constexpr int kMaxFailures = 6;

 private:
  Json MutateOrFail(const Json& batch) {
    std::string text = ToJson(batch);
    auto r = db_->Mutate(text);
    if (!r.ok()) {
      ADD_FAILURE() << "seed " << seed_ << " graph " << graph_
                    << ": mutation failed: " << r.status().ToString() << "\n"
                    << Truncated(text);
      return Json();
    }
    auto j = ParseJson(r->json);
    if (!j.ok()) {
      ADD_FAILURE() << "mutation result is not JSON: " << r->json;
      return Json();
    }
    return std::move(j).value();
  }

  Json InsertOp(int ent, const Row& row, const std::string& as) {
    Json values = Json::Object();
    const auto& fields = Schema()[ent].fields;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (row[i].null() && Chance(rng_, 0.5)) continue;  // omitted: null
      values.Set(fields[i].name, ValueToMutationJson(rng_, fields[i].type, row[i]));
    }
    Json op = Json::Object();
    op.Set("op", "insert").Set("entity", Schema()[ent].name).Set("values", std::move(values));
    if (!as.empty()) op.Set("as", as);
    return op;
  }

  Row RandomRow(int ent) {
    Row row;
    for (size_t i = 0; i < Schema()[ent].fields.size(); ++i)
      row.push_back(RandomValue(rng_, ent, static_cast<int>(i), data_));
    return row;
  }

  static std::vector<int64_t> ResultIds(const Json& result) {
    std::vector<int64_t> ids;
    const Json* results = result.is_object() ? result.Find("results") : nullptr;
    if (!results) return ids;
    for (const Json& r : results->as_array()) {
      const Json* id = r.Find("id");
      ids.push_back(id && id->is_int() ? id->as_int() : -1);
    }
    return ids;
  }

  void LoadGraph(bool large) {
    int n_teams = static_cast<int>(large ? Uniform(rng_, 20, 60) : Uniform(rng_, 5, 15));
    int n_tags = static_cast<int>(large ? Uniform(rng_, 20, 80) : Uniform(rng_, 5, 20));
    int n_nodes = static_cast<int>(large ? Uniform(rng_, 100, 250) : Uniform(rng_, 5, 40));

    // Teams and tags.
    Json ops = Json::Array();
    std::vector<std::pair<int, Row>> pending;
    for (int i = 0; i < n_teams + n_tags; ++i) {
      int ent = i < n_teams ? kTeam : kTag;
      Row row = RandomRow(ent);
      ops.Push(InsertOp(ent, row, ""));
      pending.push_back({ent, std::move(row)});
    }
    Json batch = Json::Object();
    batch.Set("ops", std::move(ops));
    std::vector<int64_t> ids = ResultIds(MutateOrFail(batch));
    ASSERT_EQ(ids.size(), pending.size());
    for (size_t i = 0; i < ids.size(); ++i)
      data_.rows[pending[i].first][ids[i]] = pending[i].second;

    // Nodes, each parent an earlier node of the same batch (by ref).
    ops = Json::Array();
    std::vector<Row> rows;
    std::vector<int> parent_index;
    for (int i = 0; i < n_nodes; ++i) {
      Row row = RandomRow(kNode);
      row[kNodeParent] = Val::Null();
      int p = (i > 0 && Chance(rng_, 0.7)) ? static_cast<int>(Uniform(rng_, 0, i - 1)) : -1;
      Json op = InsertOp(kNode, row, "n" + std::to_string(i));
      if (p >= 0) {
        Json ref = Json::Object();
        ref.Set("ref", "n" + std::to_string(p));
        op.Find("values")->Set("parent", std::move(ref));
      }
      ops.Push(std::move(op));
      rows.push_back(std::move(row));
      parent_index.push_back(p);
    }
    batch = Json::Object();
    batch.Set("ops", std::move(ops));
    ids = ResultIds(MutateOrFail(batch));
    ASSERT_EQ(ids.size(), rows.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (parent_index[i] >= 0) rows[i][kNodeParent] = Val::Int(ids[parent_index[i]]);
      data_.rows[kNode][ids[i]] = rows[i];
    }

    // Links, and some parents rewired (cycles and self-parents included).
    ops = Json::Array();
    for (const auto& [nid, row] : data_.rows[kNode]) {
      int k = static_cast<int>(Uniform(rng_, 0, 3));
      for (int j = 0; j < k; ++j) {
        auto it = data_.rows[kTag].begin();
        std::advance(it, Uniform(rng_, 0, static_cast<int64_t>(data_.rows[kTag].size()) - 1));
        ops.Push(LinkOp("link", nid, it->first));
        data_.node_tags.insert({nid, it->first});
      }
    }
    for (auto& [nid, row] : data_.rows[kNode]) {
      if (!Chance(rng_, 0.12)) continue;
      Val p = Chance(rng_, 0.3) ? Val::Int(nid) : RandomValue(rng_, kNode, kNodeParent, data_);
      row[kNodeParent] = p;
      ops.Push(UpdateOp(kNode, nid, "parent", p.null() ? Json() : Json(p.i)));
    }
    if (ops.size() > 0) {
      batch = Json::Object();
      batch.Set("ops", std::move(ops));
      MutateOrFail(batch);
    }
  }

  Json LinkOp(const char* op, int64_t node, int64_t tag) {
    Json j = Json::Object();
    bool from_tag = Chance(rng_, 0.4);
    j.Set("op", op)
        .Set("relation", from_tag ? "Tag.nodes" : "Node.tags")
        .Set("from", from_tag ? tag : node)
        .Set("to", from_tag ? node : tag);
    return j;
  }

  static Json UpdateOp(int ent, int64_t id, const std::string& field, Json value) {
    Json set = Json::Object();
    set.Set(field, std::move(value));
    Json j = Json::Object();
    j.Set("op", "update")
        .Set("entity", Schema()[ent].name)
        .Set("id", id)
        .Set("set", std::move(set));
    return j;
  }

  // One batch of random updates, deletes, inserts, links and unlinks,
  // mirrored on data_ in op order.
  void MutateGraph() {
    Json ops = Json::Array();
    std::vector<std::pair<int, Row>> inserted;  // in op order, for the result ids
    std::vector<size_t> insert_ops;
    int n = static_cast<int>(Uniform(rng_, 5, 25));
    for (int i = 0; i < n; ++i) {
      int kind = static_cast<int>(Uniform(rng_, 0, 9));
      int ent = static_cast<int>(Uniform(rng_, 0, 2));
      auto& rows = data_.rows[ent];
      if (kind <= 3 && !rows.empty()) {  // update
        auto it = rows.begin();
        std::advance(it, Uniform(rng_, 0, static_cast<int64_t>(rows.size()) - 1));
        int fi = static_cast<int>(
            Uniform(rng_, 0, static_cast<int64_t>(Schema()[ent].fields.size()) - 1));
        Val v = RandomValue(rng_, ent, fi, data_);
        if (ent == kNode && fi == kNodeParent && Chance(rng_, 0.2)) v = Val::Int(it->first);
        it->second[fi] = v;
        ops.Push(UpdateOp(ent, it->first, Schema()[ent].fields[fi].name,
                          ValueToMutationJson(rng_, Schema()[ent].fields[fi].type, v)));
      } else if (kind <= 5 && rows.size() > 3) {  // delete
        auto it = rows.begin();
        std::advance(it, Uniform(rng_, 0, static_cast<int64_t>(rows.size()) - 1));
        int64_t id = it->first;
        Json op = Json::Object();
        op.Set("op", "delete").Set("entity", Schema()[ent].name).Set("id", id);
        ops.Push(std::move(op));
        rows.erase(it);
        if (ent == kTeam || ent == kNode) {
          int fi = ent == kTeam ? kNodeTeam : kNodeParent;
          for (auto& [nid, row] : data_.rows[kNode])
            if (!row[fi].null() && row[fi].i == id) row[fi] = Val::Null();
          for (auto& [ient, row] : inserted)  // set_null reaches rows inserted earlier in the batch
            if (ient == kNode && !row[fi].null() && row[fi].i == id) row[fi] = Val::Null();
        }
        for (auto e = data_.node_tags.begin(); e != data_.node_tags.end();) {
          if ((ent == kNode && e->first == id) || (ent == kTag && e->second == id))
            e = data_.node_tags.erase(e);
          else
            ++e;
        }
      } else if (kind <= 7) {  // link or unlink
        if (data_.rows[kNode].empty() || data_.rows[kTag].empty()) continue;
        auto nit = data_.rows[kNode].begin();
        std::advance(nit, Uniform(rng_, 0, static_cast<int64_t>(data_.rows[kNode].size()) - 1));
        auto tit = data_.rows[kTag].begin();
        std::advance(tit, Uniform(rng_, 0, static_cast<int64_t>(data_.rows[kTag].size()) - 1));
        bool link = kind == 6;
        ops.Push(LinkOp(link ? "link" : "unlink", nit->first, tit->first));
        if (link)
          data_.node_tags.insert({nit->first, tit->first});
        else
          data_.node_tags.erase({nit->first, tit->first});
      } else {  // insert: its id is known after the batch, so nothing refers to it here
        Row row = RandomRow(ent);
        insert_ops.push_back(ops.size());
        ops.Push(InsertOp(ent, row, ""));
        inserted.push_back({ent, std::move(row)});
      }
    }
    if (ops.size() == 0) return;
    Json batch = Json::Object();
    batch.Set("ops", std::move(ops));
    std::vector<int64_t> ids = ResultIds(MutateOrFail(batch));
    ASSERT_FALSE(ids.empty());
    for (size_t i = 0; i < inserted.size(); ++i) {
      ASSERT_LT(insert_ops[i], ids.size());
      data_.rows[inserted[i].first][ids[insert_ops[i]]] = inserted[i].second;
    }
  }

  void Fail(const std::string& what, const std::string& query, const std::string& params,
            std::optional<uint64_t> as_of, const std::string& expected, const std::string& actual) {
    ++failures_;
    ADD_FAILURE() << "fetch mismatch (ORMDB_RANDOM_SEED=" << seed_ << ", graph " << graph_
                  << ", case " << cases_ << "): " << what << "\nquery: " << query
                  << "\nparams: " << params
                  << (as_of ? "\nas_of: " + std::to_string(*as_of) : std::string())
                  << "\nexpected: " << Truncated(expected) << "\nactual:   " << Truncated(actual);
  }

  // Runs `text`, compares with the reference's page at `offset`; returns the
  // root cursor and the parsed result (null Json on failure).
  bool RunAndCompare(const Data& d, const QNode& q, size_t offset, const std::string& params,
                     std::optional<uint64_t> as_of, std::optional<std::string>* next,
                     Json* parsed) {
    std::string text = PrintNode(q);
    FetchOptions opts;
    opts.as_of = as_of;
    Expected exp = Evaluate(d, q, offset);
    Json exp_full = Json::Object();
    exp_full.Set("data", exp.data).Set("next", exp.has_next ? Json("<cursor>") : Json());
    exp_full.Set("stats", Json::Object()
                              .Set("entities", exp.entities)
                              .Set("edges", exp.edges)
                              .Set("truncated", false));
    std::string exp_text = ToJson(exp_full);
    ++cases_;
    auto r = db_->Fetch(text, params, opts);
    if (!r.ok()) {
      Fail("fetch failed", text, params, as_of, exp_text, r.status().ToString());
      return false;
    }
    std::string actual = r.value()->ToJson();
    auto j = ParseJson(actual);
    if (!j.ok()) {
      Fail("ToJson is not JSON: " + j.status().ToString(), text, params, as_of, exp_text, actual);
      return false;
    }
    const Json& a = j.value();
    const Json* data = a.is_object() ? a.Find("data") : nullptr;
    const Json* anext = a.is_object() ? a.Find("next") : nullptr;
    const Json* stats = a.is_object() ? a.Find("stats") : nullptr;
    const Json* version = a.is_object() ? a.Find("version") : nullptr;
    if (!data || !anext || !stats || !version) {
      Fail("result lacks data, next, stats or version", text, params, as_of, exp_text, actual);
      return false;
    }
    std::string diff;
    if (!SameJson(exp.data, *data, "data", &diff)) {
      Fail(diff, text, params, as_of, exp_text, actual);
      return false;
    }
    if (anext->is_null() == exp.has_next || !(anext->is_null() || anext->is_string())) {
      Fail(std::string("root next: expected ") + (exp.has_next ? "a cursor" : "null"), text, params,
           as_of, exp_text, actual);
      return false;
    }
    if (anext->is_null() != !r.value()->next().has_value()) {
      Fail("FetchResult::next() disagrees with ToJson's next", text, params, as_of, exp_text,
           actual);
      return false;
    }
    uint64_t want_version = as_of ? *as_of : db_->CurrentVersion();
    if (!version->is_int() || static_cast<uint64_t>(version->as_int()) != want_version ||
        r.value()->version() != want_version) {
      Fail("version: expected " + std::to_string(want_version), text, params, as_of, exp_text,
           actual);
      return false;
    }
    const Json* se = stats->is_object() ? stats->Find("entities") : nullptr;
    const Json* sg = stats->is_object() ? stats->Find("edges") : nullptr;
    const Json* st = stats->is_object() ? stats->Find("truncated") : nullptr;
    if (!se || !sg || !st || !se->is_int() || !sg->is_int() ||
        static_cast<uint64_t>(se->as_int()) != exp.entities ||
        static_cast<uint64_t>(sg->as_int()) != exp.edges || !(*st == Json(false))) {
      Fail("stats: expected entities " + std::to_string(exp.entities) + ", edges " +
               std::to_string(exp.edges) + ", not truncated",
           text, params, as_of, exp_text, actual);
      return false;
    }
    FetchStats fs = r.value()->stats();
    if (fs.entities != exp.entities || fs.edges != exp.edges || fs.truncated) {
      Fail("FetchResult::stats() disagrees with the reference", text, params, as_of, exp_text,
           actual);
      return false;
    }
    // The same tree through ResultObject.
    std::string problem;
    Json api = Json::Array();
    for (const ResultObject& o : r.value()->roots()) api.Push(ApiRender(o, q, &problem));
    if (!problem.empty() || !SameJson(exp.data, api, "roots()", &diff)) {
      Fail("through ResultObject: " + (problem.empty() ? diff : problem), text, params, as_of,
           exp_text, ToJson(api));
      return false;
    }
    *next = r.value()->next();
    *parsed = j.value();
    return true;
  }

  void OneCase(const Data& d, std::optional<uint64_t> as_of) {
    Json params = Json::Object();
    int next_param = 0;
    int64_t max_id = 0;
    for (const auto& rows : d.rows)
      if (!rows.empty()) max_id = std::max(max_id, rows.rbegin()->first);
    QueryGen gen{rng_, LitGen{&rng_, &params, &next_param, max_id + 2}};
    QNode q = gen.Root();
    std::string params_text = ToJson(params);
    std::optional<std::string> next;
    Json parsed;
    if (as_of) ++as_of_cases_;
    if (!RunAndCompare(d, q, 0, params_text, as_of, &next, &parsed)) return;

    // The same shape with other literals (and limits): the plan cache must
    // not reuse old values, nor a plan only right for them.
    if (Chance(rng_, 0.25)) {
      for (int k = 0; k < 2; ++k) {
        params = Json::Object();
        RerollQuery(rng_, q, gen.lits);
        params_text = ToJson(params);
        ++rerolls_;
        if (!RunAndCompare(d, q, 0, params_text, as_of, &next, &parsed)) return;
      }
    }

    // Follow the root cursors to the end.
    if (next && q.limit && *q.limit > 0 && Chance(rng_, 0.5)) {
      size_t offset = 0;
      for (int page = 0; next && page < 60; ++page) {
        offset += static_cast<size_t>(*q.limit);
        q.after = *next;
        ++root_follows_;
        std::optional<std::string> n2;
        if (!RunAndCompare(d, q, offset, params_text, as_of, &n2, &parsed)) return;
        next = n2;
      }
      return;
    }
    // Continue one root's children of a limited to-many include.
    if (Chance(rng_, 0.6) && parsed.Find("data")) {
      for (Item& it : q.items) {
        if (!it.inc || it.inc->kind == RelKind::kToOne || !it.inc->limit || *it.inc->limit == 0)
          continue;
        for (const Json& root : parsed.Find("data")->as_array()) {
          const Json* c = root.Find(it.inc->name + "@next");
          if (!c || !c->is_string()) continue;
          it.inc->after = c->as_string();
          it.inc->after_parent = root.Find("id")->as_int();
          it.inc->after_offset = *it.inc->limit;
          ++include_follows_;
          RunAndCompare(d, q, 0, params_text, as_of, &next, &parsed);
          return;
        }
      }
    }
  }

  uint64_t seed_;
  int graph_;
  bool served_ = false;
  Rng rng_;
  std::string dir_;
  std::unique_ptr<Database> db_;
  Data data_;
  int cases_ = 0;
  int failures_ = 0;
  int root_follows_ = 0;     // fetches with a root `after`
  int include_follows_ = 0;  // fetches with an include `after`
  int as_of_cases_ = 0;      // fetches as_of an earlier version
  int rerolls_ = 0;          // fetches of an earlier shape with new literals
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(FetchRandomTest, MatchesReferenceEvaluator) {
  uint64_t seed =
      EnvOr("ORMDB_RANDOM_SEED", std::getenv("CI") != nullptr ? 20261121 : std::random_device{}());
  int graphs = static_cast<int>(EnvOr("ORMDB_RANDOM_GRAPHS", 12));
  std::printf("fetch_random_test: ORMDB_RANDOM_SEED=%llu (%d graphs)\n",
              static_cast<unsigned long long>(seed), graphs);
  auto start = std::chrono::steady_clock::now();
  int cases = 0, failures = 0, root_follows = 0, include_follows = 0, as_of_cases = 0, rerolls = 0;
  for (int g = 0; g < graphs && failures < RandomFetch::kMaxFailures; ++g) {
    RandomFetch run(seed, g);
    run.Run(120);
    cases += run.cases();
    failures += run.failures();
    root_follows += run.root_follows();
    include_follows += run.include_follows();
    as_of_cases += run.as_of_cases();
    rerolls += run.rerolls();
    if (HasFatalFailure()) break;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "fetch_random_test: %d fetches compared in %.2f s, %d mismatches (seed %llu); of them %d "
      "root "
      "pages after a cursor, %d with an include cursor, %d as_of an earlier version, %d of an "
      "earlier "
      "shape with new literals\n",
      cases, secs, failures, static_cast<unsigned long long>(seed), root_follows, include_follows,
      as_of_cases, rerolls);
  if (HasFailure())
    std::printf("reproduce with ORMDB_RANDOM_SEED=%llu\n", static_cast<unsigned long long>(seed));
}

// The remote client's results read in place from the wire: the same
// comparisons (tree JSON, roots()/Related walks, cursors) over tcp.
TEST(FetchRandomTest, OverTcpMatchesReferenceEvaluator) {
  uint64_t seed =
      EnvOr("ORMDB_RANDOM_SEED", std::getenv("CI") != nullptr ? 20261121 : std::random_device{}());
  std::printf("fetch_random_test over tcp: ORMDB_RANDOM_SEED=%llu\n",
              static_cast<unsigned long long>(seed));
  int cases = 0;
  for (int g = 0; g < 4; ++g) {
    RandomFetch run(seed, g, /*served=*/true);
    run.Run(60);
    cases += run.cases();
    if (HasFatalFailure() || run.failures() > 0) break;
  }
  std::printf("fetch_random_test over tcp: %d fetches compared\n", cases);
  EXPECT_GT(cases, 0);
}

// The reference's own building blocks, checked by hand so that a mismatch
// above points at the engine.
TEST(FetchRandomTest, ReferenceLikeAndTimestamps) {
  EXPECT_TRUE(LikeMatch("a%", "abc"));
  EXPECT_TRUE(LikeMatch("a%", "a"));
  EXPECT_FALSE(LikeMatch("a%", "ba"));
  EXPECT_TRUE(LikeMatch("_", "\xC3\xA9"));
  EXPECT_FALSE(LikeMatch("__", "\xC3\xA9"));
  EXPECT_TRUE(LikeMatch("a\\_b", "a_b"));
  EXPECT_FALSE(LikeMatch("a\\_b", "acb"));
  EXPECT_TRUE(LikeMatch("a_b", "acb"));
  EXPECT_TRUE(LikeMatch("%\\%%", "a%b"));
  EXPECT_FALSE(LikeMatch("%\\%%", "ab"));
  EXPECT_TRUE(LikeMatch("", ""));
  EXPECT_FALSE(LikeMatch("", "a"));
  EXPECT_TRUE(LikeMatch("%", ""));
  EXPECT_EQ(FormatTs(Micros(2024, 5, 1, 10, 0, 0, 0)), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatTs(Micros(2024, 5, 1, 10, 0, 0, 250000)), "2024-05-01T10:00:00.250Z");
  EXPECT_EQ(FormatTs(Micros(2024, 5, 1, 9, 59, 59, 999999)), "2024-05-01T09:59:59.999999Z");
  EXPECT_EQ(FormatTs(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(Micros(1970, 1, 2, 0, 0, 0, 0), int64_t{86400} * 1000000);
}

}  // namespace
}  // namespace ormdb
