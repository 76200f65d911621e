// Json: a small JSON value type with a strict parser and a compact writer.
//
// Used wherever ormdb speaks JSON: mutation batches, query results, change
// events, the JSON IR of queries. The parser reads untrusted bytes, so it
// enforces RFC 8259 strictly (no comments, no trailing commas, valid UTF-8
// only) and applies explicit limits before it builds anything large.
//
// Numbers keep their exactness where they can: an integer literal that fits
// int64 is an int (is_int()); anything with a fraction or an exponent, and any
// integer too large for int64, is a double (is_double()). The writer prints a
// double so that it reads back as a double ("1.0", never "1").
//
// Objects keep their members in insertion (document) order; keys are unique.
// Thread-safety: a Json is a plain value; concurrent const access is safe.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "ormdb/status.h"

namespace ormdb {

class Json {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };
  using Elements = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Members = std::vector<Member>;

  // Implicit conversions from C++ scalars are deliberate: they make builders
  // read like the JSON they produce (obj.Set("limit", 20)).
  Json() = default;                                    // null
  Json(std::nullptr_t) {}                              // NOLINT: null
  Json(bool b) : data_(b) {}                           // NOLINT
  Json(double d) : data_(d) {}                         // NOLINT
  Json(const char* s) : data_(std::string(s)) {}       // NOLINT
  Json(std::string s) : data_(std::move(s)) {}         // NOLINT
  Json(std::string_view s) : data_(std::string(s)) {}  // NOLINT
  // Any integer type. An unsigned value above INT64_MAX cannot be an int and
  // becomes the nearest double (row ids and versions never get there).
  template <std::integral T>
  requires(!std::same_as<T, bool>) Json(T v) {  // NOLINT
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<int64_t>::max())) {
        data_ = static_cast<double>(v);
        return;
      }
    }
    data_ = static_cast<int64_t>(v);
  }
  // Other pointers would silently become bool.
  template <typename T>
  requires(!std::same_as<std::remove_cv_t<T>, char>) Json(T*)
  = delete;

  // An empty array / object, to fill with Push / Set.
  static Json Array() { return Json(Elements{}); }
  static Json Object() { return Json(Members{}); }
  static Json Array(Elements e) { return Json(std::move(e)); }

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_double() const { return kind() == Kind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }

  // Accessors. REQUIRES: the matching kind (checked by std::get, which throws
  // std::bad_variant_access on a mismatch: a caller bug). Check the kind and
  // report a wrong one with TypeName() when the input is untrusted.
  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  // REQUIRES: is_number(). An int converts to the nearest double.
  double as_double() const {
    return is_int() ? static_cast<double>(as_int()) : std::get<double>(data_);
  }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const Elements& as_array() const { return std::get<Elements>(data_); }
  Elements& as_array() { return std::get<Elements>(data_); }
  const Members& as_object() const { return std::get<Members>(data_); }
  Members& as_object() { return std::get<Members>(data_); }

  // The member named `key`, or nullptr when absent. REQUIRES: is_object().
  // Linear in the number of members (objects here are small).
  const Json* Find(std::string_view key) const;
  Json* Find(std::string_view key);

  // Sets member `key`, replacing the value of an existing member in place
  // (its position is kept) or appending a new one. REQUIRES: is_object().
  // Returns *this for chaining.
  Json& Set(std::string key, Json value);
  // Appends an element. REQUIRES: is_array(). Returns *this for chaining.
  Json& Push(Json value);

  // Element count of an array, member count of an object, 0 otherwise.
  size_t size() const;

  // "null", "boolean", "integer", "number" (a double), "string", "array" or
  // "object": for messages like "expected string, found integer".
  std::string_view TypeName() const;

  // Deep equality. Kinds must match (1 and 1.0 differ), doubles compare with
  // == (so NaN differs from itself), objects compare member by member in
  // order.
  friend bool operator==(const Json& a, const Json& b);

 private:
  explicit Json(Elements e) : data_(std::move(e)) {}
  explicit Json(Members m) : data_(std::move(m)) {}

  // The alternative order matches Kind.
  std::variant<std::monostate, bool, int64_t, double, std::string, Elements, Members> data_;
};

// Limits applied to untrusted JSON text before and while it is parsed.
struct JsonLimits {
  // Deepest nesting of arrays and objects; a scalar document has depth 0,
  // `[1]` depth 1. The parser recurses once per level, so this also bounds
  // its stack use: keep it in the hundreds at most.
  int max_depth = 64;
  // Longest accepted text, in bytes. Larger texts are refused before any
  // parsing (the parsed form takes several times the text's memory).
  size_t max_text_size = size_t{256} << 20;
};

// Parses one JSON document (surrounding whitespace allowed, nothing else).
// Strict RFC 8259: no comments, trailing commas, single quotes, leading zeros,
// NaN/Infinity; strings must be valid UTF-8 without raw control characters;
// \u escapes are decoded to UTF-8 (surrogate pairs combined, lone surrogates
// refused); duplicate object keys are refused. Integers that fit int64 parse
// as ints, other numbers as doubles; a number beyond the double range is
// refused, one below it becomes 0.
// Errors: INVALID_ARGUMENT "invalid JSON at line L, column C: expected ...,
// found ..." (line and column 1-based, column counted in characters), or
// INVALID_ARGUMENT when the text or its nesting exceeds `limits`.
Result<Json> ParseJson(std::string_view text, const JsonLimits& limits = {});

// The compact form: no whitespace ({"a":1,"b":[true,null]}). Doubles print in
// their shortest round-trip form and always with a '.' or an exponent, so they
// read back as doubles; non-finite doubles print as null. The output always
// parses with ParseJson (limits aside).
std::string ToJson(const Json& value);
// Appends ToJson(value) to *out.
void AppendJson(std::string* out, const Json& value);

// Appends `s` as a quoted JSON string: '"', '\\' and control characters are
// escaped (\n \t \r \b \f, else \u00XX); everything else is copied as is. A
// byte sequence that is not valid UTF-8 is replaced by U+FFFD so the output is
// always valid JSON.
void AppendJsonString(std::string* out, std::string_view s);

// Decodes the JSON string literal that starts `text` (REQUIRES: text[0] is
// '"'), for other languages that borrow JSON's string syntax (the check and
// query expressions). On success returns the unescaped UTF-8 text and sets
// *length to the literal's size in bytes, quotes included. On failure returns
// INVALID_ARGUMENT whose message is "expected ..., found ..." without a
// position, and sets *error_offset to the offending byte's offset in `text`,
// so the caller can report the position in its own terms.
Result<std::string> DecodeJsonString(std::string_view text, size_t* length, size_t* error_offset);

}  // namespace ormdb
