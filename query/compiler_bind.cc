// Binding a compiled plan's slots to the values of one query: the literals
// lifted from the query text and the $parameters, each converted to the
// domain of what it is compared with.
#include <algorithm>

#include "common/suggest.h"
#include "common/timestamp.h"
#include "common/uuid.h"
#include "query/compiler.h"
#include "query/compiler_internal.h"
#include "query/json_values.h"

namespace ormdb::query {

using compiler_internal::At;
using compiler_internal::KindPhrase;

Result<Value> ConvertForDomain(const Json& v, Domain domain, const catalog::Enum* enum_def,
                               std::string_view subject) {
  auto mismatch = [&]() {
    return InvalidArgument("cannot compare " + std::string(subject) + " (" +
                           std::string(DomainName(domain)) + ") with " + KindPhrase(v) + " (" +
                           ToJson(v) + ")");
  };
  auto malformed = [&](std::string_view what) {
    return InvalidArgument(std::string(subject) + ": " + QuoteForMessage(v.as_string()) +
                           " is not " + std::string(what));
  };
  switch (domain) {
    case Domain::kNumber:
      if (v.is_int()) return Value::Int64(v.as_int());
      if (v.is_double()) return Value::Float64(v.as_double());
      return mismatch();
    case Domain::kString:
      if (!v.is_string()) return mismatch();
      if (enum_def != nullptr && std::find(enum_def->values.begin(), enum_def->values.end(),
                                           v.as_string()) == enum_def->values.end()) {
        std::string hint = NearestName(v.as_string(), enum_def->values);
        return InvalidArgument(std::string(subject) + ": " + enum_def->name + " has no value " +
                               QuoteForMessage(v.as_string()) +
                               (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      return Value::String(v.as_string());
    case Domain::kBool:
      if (!v.is_bool()) return mismatch();
      return Value::Bool(v.as_bool());
    case Domain::kTimestamp: {
      if (v.is_int()) return Value::Timestamp(v.as_int());
      if (!v.is_string()) return mismatch();
      auto t = ParseTimestamp(v.as_string());
      if (!t.ok()) return malformed("an RFC 3339 timestamp");
      return Value::Timestamp(*t);
    }
    case Domain::kUuid: {
      if (!v.is_string()) return mismatch();
      auto u = ParseUuid(v.as_string());
      if (!u.ok()) return malformed("a uuid");
      return Value::MakeUuid(*u);
    }
    case Domain::kBytes: {
      if (!v.is_string()) return mismatch();
      auto b = Base64Decode(v.as_string());
      if (!b.ok()) return malformed("base64");
      return Value::Bytes(std::move(*b));
    }
    case Domain::kJson:
      return mismatch();
  }
  return mismatch();
}

Result<std::vector<BoundSlot>> BindSlots(const Plan& plan, const FetchQuery& query,
                                         const Json& params) {
  if (!params.is_object()) return InvalidArgument("parameters must be a JSON object");
  std::vector<LiteralRef> lits = CollectLiterals(query);
  std::vector<std::string> used;
  auto param = [&](const std::string& name, const QueryPos& pos) -> Result<const Json*> {
    const Json* v = params.Find(name);
    if (v == nullptr) {
      return InvalidArgument(At(pos) + "missing parameter $" + name + " (bind it with --param " +
                             name + "=VALUE)");
    }
    used.push_back(name);
    return v;
  };
  std::vector<BoundSlot> out(plan.slots.size());
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    const Slot& s = plan.slots[i];
    BoundSlot& b = out[i];
    const LiteralRef* lit = nullptr;
    if (s.literal >= 0) {
      if (static_cast<size_t>(s.literal) >= lits.size()) return Internal("plan and query differ");
      lit = &lits[s.literal];
    }
    auto located = [&](Status st) {
      if (st.message().starts_with("query:")) return st;
      return Status(st.code(), At(s.pos) + st.message());
    };
    // A value that came from a parameter: the message names it.
    auto named = [](Status st, const std::string& param) {
      if (param.empty()) return st;
      return Status(st.code(), "parameter $" + param + ": " + st.message());
    };
    switch (s.kind) {
      case Slot::Kind::kValue: {
        const Json* v = lit ? lit->value : nullptr;
        if (!s.param.empty()) {
          ORMDB_ASSIGN_OR_RETURN(v, param(s.param, s.pos));
        }
        if (v == nullptr) return Internal("plan and query differ");
        if (v->is_null()) {
          return InvalidArgument(At(s.pos) + "$" + s.param + " is null: a comparison with null " +
                                 "matches nothing (use is null)");
        }
        auto cv = ConvertForDomain(*v, s.domain, s.enum_def, s.subject);
        if (!cv.ok()) return located(named(cv.status(), s.param));
        b.value = std::move(*cv);
        break;
      }
      case Slot::Kind::kList: {
        const std::vector<Json>* list = lit ? lit->list : (s.literal < 0 ? &s.list : nullptr);
        if (list == nullptr) return Internal("plan and query differ");
        for (const Json& el : *list) {
          const Json* v = &el;
          std::string param_name;
          if (el.is_object()) {
            const Json* name = el.Find("$param");
            if (name == nullptr || !name->is_string()) return Internal("bad list parameter");
            ORMDB_ASSIGN_OR_RETURN(v, param(name->as_string(), s.pos));
            param_name = name->as_string();
            if (v->is_null()) {
              return InvalidArgument(At(s.pos) + "$" + name->as_string() +
                                     " is null: null cannot be in an in-list");
            }
          }
          auto cv = ConvertForDomain(*v, s.domain, s.enum_def, s.subject);
          if (!cv.ok()) return located(named(cv.status(), param_name));
          b.list.push_back(std::move(*cv));
        }
        break;
      }
      case Slot::Kind::kPattern: {
        const Json* v = lit ? lit->value : nullptr;
        if (!s.param.empty()) {
          ORMDB_ASSIGN_OR_RETURN(v, param(s.param, s.pos));
        }
        if (v == nullptr) return Internal("plan and query differ");
        if (!v->is_string()) {
          return InvalidArgument(At(s.pos) + "a like pattern must be a string, found " +
                                 KindPhrase(*v));
        }
        const std::string& p = v->as_string();
        size_t trailing = 0;
        for (size_t k = p.size(); k > 0 && p[k - 1] == '\\'; --k) ++trailing;
        if (trailing % 2 == 1) {
          return InvalidArgument(At(s.pos) + "like pattern " + QuoteForMessage(p) +
                                 " ends in a lone backslash");
        }
        b.pattern = std::make_shared<LikePattern>(p);
        break;
      }
      case Slot::Kind::kLimit:
        if (lit == nullptr || lit->limit < 0) return Internal("plan and query differ");
        b.limit = lit->limit;
        break;
      case Slot::Kind::kAfter:
        if (lit == nullptr || lit->after == nullptr) return Internal("plan and query differ");
        b.after = *lit->after;
        break;
    }
  }
  for (const auto& [name, value] : params.as_object()) {
    // Names with a '.' are an access policy's ($auth.tenant, $policy.0),
    // merged in for every query whether its plan reads them or not.
    if (name.find('.') != std::string::npos) continue;
    if (std::find(used.begin(), used.end(), name) == used.end()) {
      return InvalidArgument("parameter $" + name + " is not used by the query");
    }
  }
  return out;
}

}  // namespace ormdb::query
