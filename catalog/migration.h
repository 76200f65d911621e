// Migration plans: the difference between the current schema and a new one,
// each change graded by what applying it costs and risks (DESIGN.md §3):
//
//   A  metadata only, online: add entity, optional field, relation, enum
//      value; drop an index; relax a constraint.
//   B  online with background work: add an index or unique constraint (built
//      in batches while reads and writes go on, uniqueness validated first),
//      a required field filled by its default, a widening type change.
//   C  validates existing rows and can fail on data: make a field required,
//      a narrowing type change, a new check, a removed enum value. Offending
//      rows are reported and nothing changes.
//   D  destructive: drop an entity, a stored field or a many-to-many
//      relation, a lossy type change. Refused without --allow-destructive.
//
// The plan's grade is the highest grade of its changes (A for no change).
#pragma once

#include <string>
#include <vector>

#include "catalog/compiled_schema.h"

namespace ormdb::catalog {

enum class Grade : char { kA = 'A', kB = 'B', kC = 'C', kD = 'D' };

struct MigrationChange {
  Grade grade = Grade::kA;
  std::string description;  // "add field User.age (optional)"
  std::string entity;       // the entity it concerns ("" for enums and relations)
  // C: rows of `entity` must be validated under the new schema.
  bool validates_rows = false;
};

struct MigrationPlan {
  Grade grade = Grade::kA;
  std::vector<MigrationChange> changes;

  bool empty() const { return changes.empty(); }
  // "grade: B\n[A] add entity Tag\n[B] add index Post(title)\n" (DESIGN.md §9).
  std::string ToText() const;
  // {"grade":"B","changes":[{"grade":"A","change":"add entity Tag"},...]}
  std::string ToJsonText() const;
  // A one-line summary for the schema history ("3 changes: add entity Tag, ...").
  std::string Summary() const;
};

// Diffs `next` (built from `previous`, so shared objects have the same ids)
// against `previous` (nullptr: the empty schema).
MigrationPlan DiffSchemas(const CompiledSchema* previous, const CompiledSchema& next);

}  // namespace ormdb::catalog
