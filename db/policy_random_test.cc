// The randomized leak test of access policies: random rules, principals,
// data and fetches, each fetch compared with the same fetch on a naive
// copy of the database that holds only what the principal may read (rows
// its rules allow, references to unreadable rows cut, unreadable fields
// null), read by the owner. The rules are evaluated for the copy by this
// file's own evaluator, not the engine's. The same principals watch the
// load's change stream, which evaluates the rules on each row in a
// transaction (the write path's evaluator), and must see exactly the rows
// the oracle keeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/json.h"
#include "ormdb/database.h"
#include "storage/test_util.h"

namespace ormdb {
namespace {

// Three-valued logic of the oracle.
enum class T { kFalse, kTrue, kUnknown };
T Not(T t) { return t == T::kUnknown ? t : (t == T::kTrue ? T::kFalse : T::kTrue); }
T And(T a, T b) {
  if (a == T::kFalse || b == T::kFalse) return T::kFalse;
  if (a == T::kUnknown || b == T::kUnknown) return T::kUnknown;
  return T::kTrue;
}
T Or(T a, T b) { return Not(And(Not(a), Not(b))); }

struct Who {
  bool anonymous = true;
  int64_t id = 0;
  std::optional<std::string> tenant;
  std::optional<int64_t> level;
  std::vector<std::string> roles;

  std::string Json() const {
    if (anonymous) return "null";
    std::string s = "{\"id\": " + std::to_string(id) + ", \"roles\": [";
    for (size_t i = 0; i < roles.size(); ++i) s += (i ? ", \"" : "\"") + roles[i] + "\"";
    s += "]";
    if (tenant) s += ", \"tenant\": \"" + *tenant + "\"";
    if (level) s += ", \"level\": " + std::to_string(*level);
    return s + "}";
  }
  bool HasRole(const std::string& r) const {
    return std::find(roles.begin(), roles.end(), r) != roles.end();
  }
};

// A row of any entity: its fields by name (nullopt = null); references as
// the referenced id.
struct Row {
  int64_t id = 0;
  std::map<std::string, std::optional<std::string>> strings;
  std::map<std::string, std::optional<int64_t>> ints;
};

struct World;

// A condition: its text and its meaning.
struct Cond {
  std::string text;
  std::function<T(const World&, const std::string& entity, const Row&, const Who&)> eval;
};

struct World {
  std::map<std::string, std::vector<Row>> rows;   // by entity
  std::vector<std::pair<int64_t, int64_t>> fans;  // Org.fans: (org, member) edges
  const Row* Find(const std::string& entity, std::optional<int64_t> id) const {
    if (!id) return nullptr;
    for (const Row& r : rows.at(entity)) {
      if (r.id == *id) return &r;
    }
    return nullptr;
  }
};

T CompareStr(const std::optional<std::string>& a, const std::optional<std::string>& b, bool eq) {
  if (!a || !b) return T::kUnknown;
  return (*a == *b) == eq ? T::kTrue : T::kFalse;
}

// The schema: every entity has a tenant and an int; Member and Doc have
// references (optional, so that the naive copy can cut them).
constexpr const char* kEntities[] = {"Org", "Member", "Doc"};
struct RefSpec {
  const char* entity;
  const char* field;
  const char* target;
};
constexpr RefSpec kRefs[] = {
    {"Member", "org", "Org"}, {"Doc", "org", "Org"}, {"Doc", "author", "Member"}};

std::string SchemaText(const std::map<std::string, std::vector<std::string>>& rules,
                       const std::string& secret_rule) {
  auto r = [&](const std::string& e) {
    std::string out;
    auto it = rules.find(e);
    if (it == rules.end()) return out;
    for (const std::string& rule : it->second) out += "  " + rule + "\n";
    return out;
  };
  return "entity Org {\n  id: id\n  name: string\n  tenant: string?\n  level: int64?\n"
         "  members: [Member] @inverse(org)\n  docs: [Doc] @inverse(org)\n"
         "  fans: [Member] @many(org_fans)\n" +
         r("Org") +
         "}\nentity Member {\n  id: id\n  name: string\n  tenant: string?\n  level: int64?\n"
         "  org: Org? @on_delete(set_null)\n  docs: [Doc] @inverse(author)\n"
         "  fan_of: [Org] @many(org_fans)\n" +
         r("Member") +
         "}\nentity Doc {\n  id: id\n  name: string\n  tenant: string?\n  level: int64?\n"
         "  org: Org? @on_delete(set_null)\n  author: Member? @on_delete(set_null)\n"
         "  secret: string?" +
         (secret_rule.empty() ? "" : " " + secret_rule) + "\n" + r("Doc") + "}\n";
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Coin(int percent = 50) { return Int(1, 100) <= percent; }

  std::optional<std::string> Tenant() {
    if (Coin(15)) return std::nullopt;
    return "t" + std::to_string(Int(0, 2));
  }
  std::optional<int64_t> Level() {
    if (Coin(15)) return std::nullopt;
    return Int(0, 5);
  }

  // An atom of a rule on `entity`.
  Cond Atom(const std::string& entity) {
    std::vector<const RefSpec*> refs;
    for (const RefSpec& r : kRefs) {
      if (entity == r.entity) refs.push_back(&r);
    }
    switch (Int(0, 9)) {
      case 0:
        return {"tenant == auth.tenant",
                [](const World&, const std::string&, const Row& r, const Who& w) {
                  return w.anonymous ? T::kUnknown
                                     : CompareStr(r.strings.at("tenant"), w.tenant, true);
                }};
      case 1:
        return {"tenant != auth.tenant",
                [](const World&, const std::string&, const Row& r, const Who& w) {
                  return w.anonymous ? T::kUnknown
                                     : CompareStr(r.strings.at("tenant"), w.tenant, false);
                }};
      case 2: {
        int k = Int(0, 5);
        return {"level >= " + std::to_string(k),
                [k](const World&, const std::string&, const Row& r, const Who&) {
                  auto v = r.ints.at("level");
                  if (!v) return T::kUnknown;
                  return *v >= k ? T::kTrue : T::kFalse;
                }};
      }
      case 3:
        return {"level < auth.level",
                [](const World&, const std::string&, const Row& r, const Who& w) {
                  auto v = r.ints.at("level");
                  if (!v || w.anonymous || !w.level) return T::kUnknown;
                  return *v < *w.level ? T::kTrue : T::kFalse;
                }};
      case 4: {
        std::string role = Coin() ? "r1" : "r2";
        return {"auth.has_role(\"" + role + "\")",
                [role](const World&, const std::string&, const Row&, const Who& w) {
                  return !w.anonymous && w.HasRole(role) ? T::kTrue : T::kFalse;
                }};
      }
      case 5:
        return {"auth == null", [](const World&, const std::string&, const Row&, const Who& w) {
                  return w.anonymous ? T::kTrue : T::kFalse;
                }};
      case 6:
        return {"id == auth.id", [](const World&, const std::string&, const Row& r, const Who& w) {
                  if (w.anonymous) return T::kUnknown;
                  return r.id == w.id ? T::kTrue : T::kFalse;
                }};
      case 7:
        return {"level is null", [](const World&, const std::string&, const Row& r, const Who&) {
                  return r.ints.at("level") ? T::kFalse : T::kTrue;
                }};
      case 8:
        return Exists(entity);
      default: {
        if (refs.empty()) return Atom(entity);
        const RefSpec* ref = refs[Int(0, static_cast<int>(refs.size()) - 1)];
        std::string field = ref->field, target = ref->target;
        return {
            field + ".tenant == auth.tenant",
            [field, target](const World& world, const std::string&, const Row& r, const Who& w) {
              if (w.anonymous) return T::kUnknown;
              const Row* t = world.Find(target, r.ints.at(field));
              if (t == nullptr) return T::kUnknown;
              return CompareStr(t->strings.at("tenant"), w.tenant, true);
            }};
      }
    }
  }

  // A simple atom over a related row, for the condition of an exists.
  Cond InnerAtom() {
    switch (Int(0, 4)) {
      case 0:
        return {"tenant == auth.tenant",
                [](const World&, const std::string&, const Row& r, const Who& w) {
                  return w.anonymous ? T::kUnknown
                                     : CompareStr(r.strings.at("tenant"), w.tenant, true);
                }};
      case 1: {
        int k = Int(0, 5);
        return {"level >= " + std::to_string(k),
                [k](const World&, const std::string&, const Row& r, const Who&) {
                  auto v = r.ints.at("level");
                  if (!v) return T::kUnknown;
                  return *v >= k ? T::kTrue : T::kFalse;
                }};
      }
      case 2:
        return {"id == auth.id", [](const World&, const std::string&, const Row& r, const Who& w) {
                  if (w.anonymous) return T::kUnknown;
                  return r.id == w.id ? T::kTrue : T::kFalse;
                }};
      case 3:
        return {"level < auth.level",
                [](const World&, const std::string&, const Row& r, const Who& w) {
                  auto v = r.ints.at("level");
                  if (!v || w.anonymous || !w.level) return T::kUnknown;
                  return *v < *w.level ? T::kTrue : T::kFalse;
                }};
      default:
        return {"level is not null",
                [](const World&, const std::string&, const Row& r, const Who&) {
                  return r.ints.at("level") ? T::kTrue : T::kFalse;
                }};
    }
  }

  // exists(relation [where p]): an inverse relation, the many-to-many one,
  // or (from Doc) one reached through a to-one hop. Two-valued: true when
  // some related row (readable or not) makes p true.
  Cond Exists(const std::string& entity) {
    struct Rel {
      std::string text;     // as written after exists(
      std::string hop;      // a reference of the entity to follow first, or ""
      std::string hop_to;   // its target
      std::string related;  // the related entity
      std::string via;      // its reference back, or "" for Org.fans
      bool fans_of_org = false;
    };
    std::vector<Rel> rels;
    if (entity == "Org") {
      rels = {{"members", "", "", "Member", "org"},
              {"docs", "", "", "Doc", "org"},
              {"fans", "", "", "Member", "", true}};
    } else if (entity == "Member") {
      rels = {{"docs", "", "", "Doc", "author"}, {"fan_of", "", "", "Org", "", false}};
    } else {
      rels = {{"org.members", "org", "Org", "Member", "org"},
              {"author.docs", "author", "Member", "Doc", "author"},
              {"org.fans", "org", "Org", "Member", "", true}};
    }
    Rel rel = rels[Int(0, static_cast<int>(rels.size()) - 1)];
    std::optional<Cond> inner;
    if (Coin(75)) inner = InnerAtom();
    std::string text = "exists(" + rel.text + (inner ? " where " + inner->text : "") + ")";
    return {
        text, [rel, inner](const World& world, const std::string& e, const Row& r, const Who& who) {
          int64_t at = r.id;
          std::string at_entity = e;
          if (!rel.hop.empty()) {
            const Row* t = world.Find(rel.hop_to, r.ints.at(rel.hop));
            if (t == nullptr) return T::kFalse;
            at = t->id;
            at_entity = rel.hop_to;
          }
          for (const Row& x : world.rows.at(rel.related)) {
            bool related;
            if (!rel.via.empty()) {
              auto ref = x.ints.at(rel.via);
              related = ref && *ref == at;
            } else if (at_entity == "Org") {  // Org.fans: members linked to it
              related = std::find(world.fans.begin(), world.fans.end(), std::make_pair(at, x.id)) !=
                        world.fans.end();
            } else {  // Member.fan_of: orgs linked to it
              related = std::find(world.fans.begin(), world.fans.end(), std::make_pair(x.id, at)) !=
                        world.fans.end();
            }
            if (!related) continue;
            if (!inner || inner->eval(world, rel.related, x, who) == T::kTrue) return T::kTrue;
          }
          return T::kFalse;
        }};
  }

  Cond Condition(const std::string& entity, int depth = 0) {
    int pick = depth >= 2 ? 0 : Int(0, 5);
    if (pick <= 2) return Atom(entity);
    Cond a = Condition(entity, depth + 1);
    if (pick == 3) {
      return {"not (" + a.text + ")", [a](const World& w, const std::string& e, const Row& r,
                                          const Who& who) { return Not(a.eval(w, e, r, who)); }};
    }
    Cond b = Condition(entity, depth + 1);
    const bool conj = pick == 4;
    return {"(" + a.text + (conj ? " and " : " or ") + b.text + ")",
            [a, b, conj](const World& w, const std::string& e, const Row& r, const Who& who) {
              T x = a.eval(w, e, r, who), y = b.eval(w, e, r, who);
              return conj ? And(x, y) : Or(x, y);
            }};
  }

  Who Principal() {
    Who w;
    if (Coin(10)) return w;
    w.anonymous = false;
    w.id = Int(1, 12);
    if (!Coin(10)) w.tenant = "t" + std::to_string(Int(0, 2));
    if (Coin(70)) w.level = Int(0, 5);
    if (Coin(40)) w.roles.push_back("r1");
    if (Coin(30)) w.roles.push_back("r2");
    return w;
  }

  std::mt19937_64 rng_;
};

struct Rule {
  bool allow = true;
  Cond cond;
};

// The oracle's decision: some allow holds and no deny holds or is unknown.
bool Allowed(const std::vector<Rule>& rules, const World& w, const std::string& e, const Row& r,
             const Who& who) {
  if (rules.empty()) return true;
  bool any_allow = false;
  for (const Rule& rule : rules) {
    T t = rule.cond.eval(w, e, r, who);
    if (rule.allow && t == T::kTrue) any_allow = true;
    if (!rule.allow && t != T::kFalse) return false;
  }
  return any_allow;
}

std::string Quoted(const std::optional<std::string>& s) { return s ? "\"" + *s + "\"" : "null"; }
std::string Num(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "null"; }

// Inserts `world` (rows, with explicit ids) into `db`; `keep` says which
// rows exist there and `cut`/`masked` which references and secrets read as
// null.
void Load(Database& db, const World& world,
          const std::function<bool(const std::string&, const Row&)>& keep,
          const std::function<bool(const std::string&, const Row&)>& masked) {
  std::string ops;
  for (const char* e : kEntities) {
    for (const Row& r : world.rows.at(e)) {
      if (!keep(e, r)) continue;
      std::string v = "{\"id\": " + std::to_string(r.id) +
                      ", \"name\": " + Quoted(r.strings.at("name")) +
                      ", \"tenant\": " + Quoted(r.strings.at("tenant")) +
                      ", \"level\": " + Num(r.ints.at("level"));
      for (const RefSpec& ref : kRefs) {
        if (std::string(ref.entity) != e) continue;
        std::optional<int64_t> target = r.ints.at(ref.field);
        const Row* t = world.Find(ref.target, target);
        if (t == nullptr || !keep(ref.target, *t)) target = std::nullopt;
        v += ", \"" + std::string(ref.field) + "\": " + Num(target);
      }
      if (std::string(e) == "Doc") {
        v += ", \"secret\": " +
             (masked(e, r) ? std::string("null") : Quoted(r.strings.at("secret")));
      }
      v += "}";
      ops += (ops.empty() ? "" : ",\n") + std::string("{\"op\": \"insert\", \"entity\": \"") + e +
             "\", \"values\": " + v + "}";
    }
  }
  for (const auto& [org, member] : world.fans) {
    const Row* o = world.Find("Org", org);
    const Row* m = world.Find("Member", member);
    if (!keep("Org", *o) || !keep("Member", *m)) continue;
    ops += ",\n{\"op\": \"link\", \"relation\": \"Org.fans\", \"from\": " + std::to_string(org) +
           ", \"to\": " + std::to_string(member) + "}";
  }
  if (ops.empty()) return;
  auto m = db.Mutate("{\"ops\": [" + ops + "]}");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
}

// A fetch's rows with the cursors left out (they carry the database's
// checksum and version, which differ between the two databases).
std::string Comparable(const std::string& json) {
  auto j = ParseJson(json);
  if (!j.ok()) return json;
  std::function<Json(const Json&)> strip = [&](const Json& v) -> Json {
    if (v.is_array()) {
      Json out = Json::Array();
      for (const Json& x : v.as_array()) out.Push(strip(x));
      return out;
    }
    if (!v.is_object()) return v;
    Json out = Json::Object();
    for (const auto& [k, x] : v.as_object()) {
      if (k.find("@next") != std::string::npos) continue;
      out.Set(k, strip(x));
    }
    return out;
  };
  return ToJson(strip(*j->Find("data")));
}

std::string RandomQuery(Gen& g) {
  const int k = g.Int(0, 5);
  switch (g.Int(0, 5)) {
    case 0:
      return "Org { name, tenant, level, fans { name }, f: count(fans) }";
    case 1:
      return "Org(where: level >= " + std::to_string(k) +
             ") { name, members { name, level }, n: count(docs), docs(order: id) { name, secret, "
             "author { name } } }";
    case 2:
      return "Doc(where: author.level > " + std::to_string(k) + " or not (org.level < " +
             std::to_string(k) + ")) { name, org { name }, author { name, org { name } } }";
    case 3:
      return "Member(order: [level desc, id], limit: " + std::to_string(k + 1) +
             ") { name, org { name, n: count(members) }, docs(order: id desc, limit: 2) { name, "
             "secret } }";
    case 4:
      return "Member { name, s: sum(docs.level), m: max(docs.level where org.tenant == \"t" +
             std::to_string(k % 3) + "\") }";
    default:
      return "Doc(where: tenant in [\"t0\", \"t" + std::to_string(k % 3) +
             "\"] and level != " + std::to_string(k) + ") { name, tenant, secret }";
  }
}

// A select's columns and rows (the version differs between the two
// databases when the copy holds nothing).
std::string SelectRows(const SelectResult& r) {
  auto j = ParseJson(r.ToJson());
  if (!j.ok()) return r.ToJson();
  return ToJson(*j->Find("columns")) + ToJson(*j->Find("rows"));
}

std::string RandomSelect(Gen& g) {
  const int k = g.Int(0, 5);
  switch (g.Int(0, 2)) {
    case 0:
      return "select count() as n, max(level) as m, sum(level) as s from Doc where level >= " +
             std::to_string(k);
    case 1:
      return "select org.name as o, count() as n, min(level) as lo from Doc group by org.name "
             "order by org.name";
    default:
      return "select name, org.name as o, author.name as a from Doc where author.level > " +
             std::to_string(k) + " order by name";
  }
}

TEST(PolicyRandomTest, FetchesSeeExactlyWhatTheNaiveCopyHolds) {
  const int cases = 150;
  const int queries_per_case = 12;
  int compared = 0;
  int with_exists = 0;
  for (int c = 0; c < cases; ++c) {
    SCOPED_TRACE("case " + std::to_string(c));
    Gen g(0x5EED0000 + c);
    // Rules.
    std::map<std::string, std::vector<Rule>> rules;
    std::map<std::string, std::vector<std::string>> texts;
    for (const char* e : kEntities) {
      int n = g.Int(0, 3);
      for (int i = 0; i < n; ++i) {
        Rule r{g.Coin(65), g.Condition(e)};
        texts[e].push_back(std::string(r.allow ? "@@allow" : "@@deny") +
                           (g.Coin() ? "(read, " : "(all, ") + r.cond.text + ")");
        rules[e].push_back(std::move(r));
      }
    }
    std::vector<Rule> secret_rules;
    std::string secret_text;
    if (g.Coin(60)) {
      Rule r{true, g.Condition("Doc")};
      secret_text = "@allow(read, " + r.cond.text + ")";
      secret_rules.push_back(std::move(r));
    }
    // Data.
    World world;
    int next_id = 1;
    for (const char* e : kEntities) {
      int n = std::string(e) == "Org" ? 4 : std::string(e) == "Member" ? 8 : 16;
      for (int i = 0; i < n; ++i) {
        Row r;
        r.id = next_id++;
        r.strings["name"] = std::string(e) + std::to_string(r.id);
        r.strings["tenant"] = g.Tenant();
        r.ints["level"] = g.Level();
        for (const RefSpec& ref : kRefs) {
          if (std::string(ref.entity) != e) continue;
          const auto& targets = world.rows[ref.target];
          if (targets.empty() || g.Coin(15)) {
            r.ints[ref.field] = std::nullopt;
          } else {
            r.ints[ref.field] = targets[g.Int(0, static_cast<int>(targets.size()) - 1)].id;
          }
        }
        if (std::string(e) == "Doc") {
          r.strings["secret"] =
              g.Coin(85) ? std::optional<std::string>("s" + std::to_string(r.id)) : std::nullopt;
        }
        world.rows[e].push_back(std::move(r));
      }
    }
    for (const Row& o : world.rows["Org"]) {
      for (const Row& m : world.rows["Member"]) {
        if (g.Coin(25)) world.fans.emplace_back(o.id, m.id);
      }
    }
    if (SchemaText(texts, secret_text).find("exists(") != std::string::npos) ++with_exists;
    storage::testing::TempDir dir_a, dir_b;
    auto a = Database::Open(dir_a.path());
    ASSERT_TRUE(a.ok());
    auto applied = (*a)->ApplySchema(SchemaText(texts, secret_text));
    ASSERT_TRUE(applied.ok()) << applied.status().ToString() << "\n"
                              << SchemaText(texts, secret_text);
    const uint64_t load_from = (*a)->CurrentVersion();
    Load(
        **a, world, [](const std::string&, const Row&) { return true; },
        [](const std::string&, const Row&) { return false; });
    for (int p = 0; p < 3; ++p) {
      Who who = g.Principal();
      SCOPED_TRACE("principal " + who.Json() + "\n" + SchemaText(texts, secret_text));
      auto principal = Principal::FromJson(who.Json());
      ASSERT_TRUE(principal.ok());
      auto view = (*a)->As(*principal);
      ASSERT_TRUE(view.ok());
      // The naive copy: readable rows only, read by the owner.
      storage::testing::TempDir dir_copy;
      auto b = Database::Open(dir_copy.path());
      ASSERT_TRUE(b.ok());
      ASSERT_TRUE((*b)->ApplySchema(SchemaText({}, "")).ok());
      auto keep = [&](const std::string& e, const Row& r) {
        return Allowed(rules[e], world, e, r, who);
      };
      auto masked = [&](const std::string& e, const Row& r) {
        return !secret_rules.empty() && !Allowed(secret_rules, world, e, r, who);
      };
      Load(**b, world, keep, masked);
      for (int q = 0; q < queries_per_case / 3; ++q) {
        std::string query = RandomQuery(g);
        auto got = (*view)->Fetch(query);
        auto want = (*b)->Fetch(query);
        if (!want.ok()) {
          ADD_FAILURE() << query << ": the copy fails: " << want.status().ToString();
          continue;
        }
        if (!got.ok()) {
          // Refused up front is allowed only for a masked field in a query
          // that orders by it or aggregates it (none of these do) or a
          // path that orders through a filtered relation (query 3 orders
          // by the node's own field only).
          ADD_FAILURE() << query << ": " << got.status().ToString();
          continue;
        }
        EXPECT_EQ(Comparable((*got)->ToJson()), Comparable((*want)->ToJson())) << query;
        ++compared;
      }
      // A change stream from before the load sees an insert event exactly
      // for the rows the oracle keeps (the write-side evaluator of the
      // rules, exists included, reading the related rows in a transaction).
      WatchOptions watch;
      watch.from = load_from;
      auto events = (*view)->Watch(watch);
      ASSERT_TRUE(events.ok()) << events.status().ToString();
      std::vector<std::string> got_inserts, want_inserts;
      for (const std::string& ev : events->events) {
        auto j = ParseJson(ev);
        ASSERT_TRUE(j.ok());
        if (j->Find("op")->as_string() != "insert") continue;
        got_inserts.push_back(j->Find("entity")->as_string() + " " +
                              std::to_string(j->Find("id")->as_int()));
      }
      for (const char* e : kEntities) {
        for (const Row& r : world.rows.at(e)) {
          if (keep(e, r)) want_inserts.push_back(std::string(e) + " " + std::to_string(r.id));
        }
      }
      std::sort(got_inserts.begin(), got_inserts.end());
      std::sort(want_inserts.begin(), want_inserts.end());
      EXPECT_EQ(got_inserts, want_inserts) << "change stream";
      // Relational mode reads through the same rules.
      std::string select = RandomSelect(g);
      auto got = (*view)->Select(select);
      auto want = (*b)->Select(select);
      ASSERT_TRUE(want.ok()) << select << ": " << want.status().ToString();
      if (select.find("group by org.name") != std::string::npos) {
        // Grouping and ordering through org is refused up front exactly
        // when a fetch ordering through it is (Org rows this principal may
        // not all read).
        auto fetch = (*view)->Fetch("Doc(order: org.name) { id }");
        ASSERT_EQ(got.ok(), fetch.ok()) << select << ": " << got.status().ToString()
                                        << "; the fetch: " << fetch.status().ToString();
        if (!got.ok()) {
          EXPECT_EQ(got.status().code(), ErrorCode::kPermissionDenied) << got.status().ToString();
          EXPECT_EQ(fetch.status().code(), ErrorCode::kPermissionDenied);
          continue;
        }
      }
      ASSERT_TRUE(got.ok()) << select << ": " << got.status().ToString();
      EXPECT_EQ(SelectRows(**got), SelectRows(**want)) << select;
      ++compared;
    }
  }
  EXPECT_GT(compared, cases * 3);
  EXPECT_GT(with_exists, cases / 5);
}

}  // namespace
}  // namespace ormdb
