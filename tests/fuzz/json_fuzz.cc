// The JSON parser (common/json.h) on any bytes: it must accept or refuse
// without a crash, and what it accepts must print and read back to an equal
// value. Also the string helpers the check and query languages borrow.
#include "common/json.h"
#include "tests/fuzz/fuzz_util.h"

using ormdb::Json;
using ormdb::JsonLimits;
using ormdb::ParseJson;
using ormdb::ToJson;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = ormdb::fuzz::AsText(data, size);
  JsonLimits limits;
  limits.max_depth = 64;
  auto parsed = ParseJson(text, limits);
  if (parsed.ok()) {
    std::string printed = ToJson(*parsed);
    auto again = ParseJson(printed, limits);
    FUZZ_CHECK(again.ok(), "printed JSON does not parse: " + again.status().message());
    FUZZ_CHECK(*again == *parsed, "JSON round trip changed the value: " + printed);
    FUZZ_CHECK(ToJson(*again) == printed, "printing is not stable: " + printed);
  } else {
    FUZZ_CHECK(parsed.status().code() == ormdb::ErrorCode::kInvalidArgument,
               parsed.status().ToString());
  }

  // Any bytes quoted as a JSON string read back as a string (invalid UTF-8
  // replaced by U+FFFD, so equal to the input when it was valid UTF-8).
  std::string quoted;
  ormdb::AppendJsonString(&quoted, text);
  auto as_string = ParseJson(quoted);
  FUZZ_CHECK(as_string.ok() && as_string->is_string(),
             "a quoted string does not parse: " + as_string.status().message());

  if (!text.empty() && text[0] == '"') {
    size_t length = 0, error_offset = 0;
    auto decoded = ormdb::DecodeJsonString(text, &length, &error_offset);
    if (decoded.ok()) {
      FUZZ_CHECK(length >= 2 && length <= text.size(), "bad literal length");
      auto whole = ParseJson(text.substr(0, length));
      FUZZ_CHECK(whole.ok() && whole->is_string() && whole->as_string() == *decoded,
                 "DecodeJsonString and ParseJson disagree");
    } else {
      FUZZ_CHECK(error_offset <= text.size(), "error offset past the text");
    }
  }
  return 0;
}
