// The fetch query (query/parser.h) on any bytes, in both written forms:
// the text form, and the JSON IR when the input parses as JSON. A query
// that parses must print (text and JSON IR) and parse back to the same
// query. Then the query runs (Database::Fetch and Explain analyze) on an
// embedded blog database, which compiles, plans and executes it.
//
// Input: the query, optionally followed by a line "----" and the JSON
// object of its parameters (the layout of tests/fetch/*.test).
#include "common/json.h"
#include "query/parser.h"
#include "tests/fuzz/fuzz_util.h"

namespace query = ormdb::query;
using ormdb::ErrorCode;

namespace {

void CheckRoundTrip(const query::FetchQuery& q) {
  std::string text = query::FetchToText(q);
  if (text.size() <= query::kMaxQueryTextBytes) {
    auto again = query::ParseFetchText(text);
    FUZZ_CHECK(again.ok(), "printed query does not parse: " + again.status().message() + "\n" +
                               text);
    FUZZ_CHECK(query::SameFetch(*again, q), "printed query parses to another query:\n" + text);
  }
  std::string ir = ormdb::ToJson(query::FetchToJson(q));
  ormdb::JsonLimits limits;
  limits.max_depth = query::kMaxJsonIrDepth;
  auto json = ormdb::ParseJson(ir, limits);
  FUZZ_CHECK(json.ok(), "JSON IR does not parse as JSON: " + json.status().message());
  auto from_json = query::ParseFetchJson(*json);
  FUZZ_CHECK(from_json.ok(), "JSON IR does not parse: " + from_json.status().message() + "\n" + ir);
  FUZZ_CHECK(query::SameFetch(*from_json, q), "JSON IR parses to another query:\n" + ir);
  query::ShapeKey(q);
  query::LiftedLiterals(q);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = ormdb::fuzz::AsText(data, size);
  std::string_view text = input;
  std::string_view params = "{}";
  if (size_t sep = input.find("\n----\n"); sep != std::string_view::npos) {
    text = input.substr(0, sep);
    params = input.substr(sep + 6);
  }

  auto parsed = query::ParseFetchText(text);
  if (parsed.ok()) {
    CheckRoundTrip(*parsed);
  } else {
    FUZZ_CHECK(parsed.status().code() == ErrorCode::kInvalidArgument, parsed.status().ToString());
  }
  ormdb::JsonLimits limits;
  limits.max_depth = query::kMaxJsonIrDepth;
  auto json = ormdb::ParseJson(text, limits);
  if (json.ok()) {
    auto ir = query::ParseFetchJson(*json);
    if (ir.ok()) {
      CheckRoundTrip(*ir);
    } else {
      FUZZ_CHECK(ir.status().code() == ErrorCode::kInvalidArgument, ir.status().ToString());
    }
  }

  // Only queries that parse reach the engine; the rest would fail the same
  // way there.
  if (!parsed.ok() && !(json.ok() && !text.empty() && text[0] == '{')) return 0;
  ormdb::Database& db = ormdb::fuzz::BlogDatabase();
  ormdb::FetchOptions options;
  options.max_entities = 2000;
  auto result = db.Fetch(text, params, options);
  ormdb::fuzz::CheckNotInternal(result.status(), "fetch");
  if (result.ok()) {
    std::string out = (*result)->ToJson();
    FUZZ_CHECK(ormdb::ParseJson(out).ok(), "the result is not JSON: " + out);
    (*result)->ToBlocksJson();
    (*result)->ToTable();
    for (const ormdb::ResultObject& o : (*result)->roots()) o.id();
  }
  ormdb::ExplainOptions eo;
  eo.analyze = true;
  eo.fetch = options;
  auto explained = db.Explain(text, params, eo);
  ormdb::fuzz::CheckNotInternal(explained.status(), "explain");
  return 0;
}
