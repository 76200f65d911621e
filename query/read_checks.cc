// The read checks of a query's computed values (query/read_checks.h).
#include "query/read_checks.h"

#include <string>

#include "query/compiler_internal.h"

namespace ormdb::query {

using compiler_internal::At;

Status CheckFieldReadable(const ReadPolicy& policy, const catalog::EntityInfo& e, size_t field,
                          const QueryPos& pos, std::string_view uses) {
  const EntityRead* er = policy.For(e.id);
  if (er == nullptr || field >= er->masks.size() || er->masks[field] == nullptr) {
    return Status::Ok();
  }
  return Status(ErrorCode::kPermissionDenied,
                At(pos) + "permission denied: " + e.name + "." + e.fields[field].name +
                    " is not readable by this principal everywhere, so it cannot be used in " +
                    std::string(uses));
}

Status CheckThroughReadable(const ReadPolicy& policy, const catalog::EntityInfo& target,
                            std::string_view path, const QueryPos& pos, std::string_view uses) {
  const EntityRead* er = policy.For(target.id);
  if (er == nullptr || !er->filter) return Status::Ok();
  return Status(ErrorCode::kPermissionDenied,
                At(pos) + "permission denied: " + std::string(path) + " reads " + target.name +
                    " rows this principal may not all read: it cannot " + std::string(uses) +
                    " through it");
}

}  // namespace ormdb::query
