// ormdb::Principal: who a request acts for, as the access policies of the
// schema see it (`auth` in a rule; docs/reference/policies.md).
//
// A principal is anonymous (`auth == null`) or has an id (an int64, or a
// uuid as a string), roles (`auth.has_role("editor")`) and claims (any
// other `auth.<name>`: a string, number, bool, null or a list of them).
// Its JSON form is what `ormdb --as` takes and a server's key config holds:
//   {"id": 7, "roles": ["user"], "tenant": "acme"}     null: anonymous
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ormdb/status.h"

namespace ormdb {

struct Principal {
  // False for the anonymous principal (every other member is empty then).
  bool authenticated = false;
  // The id as JSON: 7, or "9b2f..." for a uuid. "null" when the principal
  // names no id (a role-only principal: `auth.id` is null).
  std::string id_json = "null";
  std::vector<std::string> roles;
  // The claims as a compact JSON object, id and roles excluded.
  std::string claims_json = "{}";

  bool HasRole(std::string_view role) const;
  // The JSON form above (compact).
  std::string ToJson() const;

  // Parses the JSON form. INVALID_ARGUMENT for anything else: not an
  // object or null, an id that is not an integer or string, roles that are
  // not an array of strings, a claim that is an object or a list holding
  // one, a claim named like an operation of `auth` (has_role).
  static Result<Principal> FromJson(std::string_view json);
  static Principal Anonymous() { return Principal(); }
};

}  // namespace ormdb
