// Uuid text form and generation (the Uuid type itself is in common/value.h).
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "ormdb/status.h"
#include "common/value.h"

namespace ormdb {

// Parses the canonical 8-4-4-4-12 form (36 characters, hex digits of either
// case): 123e4567-e89b-12d3-a456-426614174000. No braces, no "urn:uuid:", no
// form without hyphens: one spelling per value keeps comparisons of the text
// form honest. Any version and variant is accepted.
// Errors: INVALID_ARGUMENT `invalid uuid "<text>": expected ...`.
Result<Uuid> ParseUuid(std::string_view text);

// The canonical form in lowercase.
std::string FormatUuid(const Uuid& uuid);

// A random (version 4, RFC 9562 variant) uuid: 122 random bits from a
// per-thread generator seeded from std::random_device, re-seeded in a forked
// child so that parent and child never share a sequence. Not for secrets.
Uuid RandomUuidV4();

}  // namespace ormdb
