#include "ormdb/principal.h"

#include <algorithm>

#include "common/json.h"

namespace ormdb {
namespace {

Status BadPrincipal(std::string_view what) {
  return InvalidArgument("principal: " + std::string(what));
}

bool IsScalar(const Json& v) { return !v.is_array() && !v.is_object(); }

}  // namespace

bool Principal::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string Principal::ToJson() const {
  if (!authenticated) return "null";
  Json out = Json::Object();
  Result<Json> parsed_claims = ParseJson(claims_json);
  Result<Json> parsed_id = ParseJson(id_json);
  Json claims = parsed_claims.ok() ? std::move(parsed_claims).value() : Json::Object();
  Json id = parsed_id.ok() ? std::move(parsed_id).value() : Json();
  out.Set("id", std::move(id));
  Json roles_json = Json::Array();
  for (const std::string& r : roles) roles_json.Push(Json(r));
  out.Set("roles", std::move(roles_json));
  if (claims.is_object()) {
    for (auto& [name, value] : claims.as_object()) out.Set(name, value);
  }
  return ormdb::ToJson(out);
}

Result<Principal> Principal::FromJson(std::string_view json) {
  ORMDB_ASSIGN_OR_RETURN(Json v, ParseJson(json));
  Principal p;
  if (v.is_null()) return p;
  if (!v.is_object())
    return BadPrincipal("needs a JSON object or null, found " + std::string(v.TypeName()));
  p.authenticated = true;
  Json claims = Json::Object();
  for (const auto& [name, value] : v.as_object()) {
    if (name == "id") {
      if (!value.is_int() && !value.is_string() && !value.is_null()) {
        return BadPrincipal("\"id\" needs an integer or a string, found " +
                            std::string(value.TypeName()));
      }
      p.id_json = ormdb::ToJson(value);
    } else if (name == "roles") {
      if (!value.is_array()) return BadPrincipal("\"roles\" needs an array of strings");
      for (const Json& r : value.as_array()) {
        if (!r.is_string()) return BadPrincipal("\"roles\" needs an array of strings");
        p.roles.push_back(r.as_string());
      }
    } else if (name == "has_role") {
      return BadPrincipal("\"has_role\" cannot be a claim (it is auth.has_role(...))");
    } else {
      bool ok = IsScalar(value) ||
                (value.is_array() &&
                 std::all_of(value.as_array().begin(), value.as_array().end(), IsScalar));
      if (!ok) {
        return BadPrincipal("claim \"" + name +
                            "\" needs a string, number, bool, null or a list of them");
      }
      claims.Set(name, value);
    }
  }
  p.claims_json = ormdb::ToJson(claims);
  return p;
}

}  // namespace ormdb
