// "Did you mean ...?": the nearest known name to a misspelt one, used by
// every error that names something unknown (schema text, mutations, queries)
// so that suggestions are consistent everywhere.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ormdb {

// Optimal-string-alignment (restricted Damerau-Levenshtein) distance,
// case-insensitive: a transposition is one typo, and so is a wrong case.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `name` when it is within max(1, len/3) edits, len
// being the longer of the two names; ties go to the earlier candidate. Empty
// when nothing is close (or `name` itself is a candidate). The search stops
// after a fixed amount of work on huge candidate lists: a hint is not worth
// seconds.
std::string NearestName(std::string_view name, const std::vector<std::string_view>& candidates);
std::string NearestName(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace ormdb
