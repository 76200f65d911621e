// `--format table`: a fetch result as text tables that show its tree. The
// root rows form one table; under each row, indented by two spaces per
// level, each of its includes follows as a table of its own ("posts (2
// rows)", "author (1 row)"), and so on down. Tables of one include path share
// their column widths, so they line up down the page. Columns are measured in
// display width (DisplayWidth), so UTF-8 text lines up on a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ormdb/fetch.h"

namespace ormdb::tools {

// The columns `text` (UTF-8) takes on a terminal: East Asian wide and
// fullwidth characters (CJK, Hangul, fullwidth forms, most emoji) count 2,
// combining marks and zero-width characters 0, every other character 1. An
// invalid byte counts 1. A fixed table (Unicode 15 ranges), independent of
// the locale.
size_t DisplayWidth(std::string_view text);

// The result as tree tables, then a blank line and "version V, N entities,
// M edges" (", truncated at PATH" when truncated; "next: CURSOR" on its own
// line when there is a next page). An include with more rows than its limit
// says "more follow" (its cursor is in --format json). Cell text: strings
// as they are (control characters escaped as \n, \t, \xNN), null as
// "null", other values as their JSON without quotes.
std::string RenderTreeTable(const FetchResult& result);

}  // namespace ormdb::tools
