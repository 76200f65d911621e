#include "common/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>
#include <tuple>
#include <unordered_set>

#include "common/utf8.h"

namespace ormdb {
namespace {

// ---------------------------------------------------------------------------
// Error descriptions

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// What the text holds at `offset`, for the "found ..." half of a message: a
// short word ('tru'), a character ('}') or a byte (byte 0xC3).
std::string DescribeAt(std::string_view text, size_t offset) {
  if (offset >= text.size()) return "end of input";
  char c = text[offset];
  if (IsWordChar(c)) {
    size_t end = offset;
    while (end < text.size() && end - offset < 20 && IsWordChar(text[end])) ++end;
    std::string word = "'";
    word.append(text.data() + offset, end - offset);
    word.push_back('\'');
    return word;
  }
  if (c > 0x20 && c < 0x7F) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned char>(c));
  return buf;
}

// An error of the string decoder: the offset of the problem and the message
// without a position.
struct StringError {
  size_t offset = 0;
  std::string message;
};

StringError MakeStringError(std::string_view text, size_t offset, std::string_view expected) {
  return {offset, "expected " + std::string(expected) + ", found " + DescribeAt(text, offset)};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the 4 hex digits at text[i..i+4) into *cp; on failure returns the
// offset of the first bad digit.
bool ReadHex4(std::string_view text, size_t i, uint32_t* cp, size_t* bad) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = i + k < text.size() ? HexValue(text[i + k]) : -1;
    if (h < 0) {
      *bad = i + k;
      return false;
    }
    v = v * 16 + static_cast<uint32_t>(h);
  }
  *cp = v;
  return true;
}

std::string HexEscape(uint32_t cp) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04X", cp);
  return buf;
}

// Decodes the string literal at text[*pos] (a '"') into *out and moves *pos
// past its closing quote. On failure fills *err.
bool DecodeStringAt(std::string_view text, size_t* pos, std::string* out, StringError* err) {
  size_t i = *pos + 1;
  const size_t n = text.size();
  while (true) {
    // Copy the plain run in one go: most strings have no escapes.
    size_t start = i;
    while (i < n) {
      auto c = static_cast<unsigned char>(text[i]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++i;
    }
    out->append(text.data() + start, i - start);
    if (i >= n) {
      *err = MakeStringError(text, i, "'\"' to close the string");
      return false;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c < 0x20) {
      *err = MakeStringError(text, i, "a string character (control characters must be escaped)");
      return false;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(text, i);
      if (len == 0) {
        *err = MakeStringError(text, i, "valid UTF-8");
        return false;
      }
      out->append(text.data() + i, len);
      i += len;
      continue;
    }
    // A backslash escape.
    if (i + 1 >= n) {
      *err = MakeStringError(text, i + 1, "an escape character");
      return false;
    }
    char e = text[i + 1];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out->push_back(e);
        i += 2;
        continue;
      case 'b':
        out->push_back('\b');
        i += 2;
        continue;
      case 'f':
        out->push_back('\f');
        i += 2;
        continue;
      case 'n':
        out->push_back('\n');
        i += 2;
        continue;
      case 'r':
        out->push_back('\r');
        i += 2;
        continue;
      case 't':
        out->push_back('\t');
        i += 2;
        continue;
      case 'u':
        break;
      default:
        *err = MakeStringError(text, i + 1, "an escape character (\" \\ / b f n r t u)");
        return false;
    }
    uint32_t cp = 0;
    size_t bad = 0;
    if (!ReadHex4(text, i + 2, &cp, &bad)) {
      *err = MakeStringError(text, bad, "4 hex digits after \\u");
      return false;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      *err = {i, "expected a high surrogate (\\uD800-\\uDBFF) before a low one, found lone " +
                     HexEscape(cp)};
      return false;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate: the low half must follow as another \u escape.
      size_t j = i + 6;
      uint32_t low = 0;
      if (j + 1 >= n || text[j] != '\\' || text[j + 1] != 'u') {
        *err = {j, "expected a low surrogate escape (\\uDC00-\\uDFFF) after " + HexEscape(cp) +
                       ", found " + DescribeAt(text, j)};
        return false;
      }
      if (!ReadHex4(text, j + 2, &low, &bad)) {
        *err = MakeStringError(text, bad, "4 hex digits after \\u");
        return false;
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        *err = {j, "expected a low surrogate escape (\\uDC00-\\uDFFF) after " + HexEscape(cp) +
                       ", found " + HexEscape(low)};
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i = j + 6;
    } else {
      i += 6;
    }
    AppendUtf8(out, cp);
  }
}

// ---------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Result<Json> ParseDocument() {
    Json value;
    SkipWhitespace();
    ORMDB_RETURN_IF_ERROR(ParseValue(&value, 0));
    SkipWhitespace();
    if (pos_ != text_.size()) return Error(pos_, "end of input");
    return value;
  }

 private:
  void SkipWhitespace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  // "invalid JSON at line L, column C: <message>" for the position `offset`.
  Status ErrorMessage(size_t offset, std::string_view message) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') {
        ++line;
        column = 1;
      } else if ((c & 0xC0) != 0x80) {  // count characters, not continuation bytes
        ++column;
      }
    }
    return InvalidArgument("invalid JSON at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + ": " + std::string(message));
  }

  Status Error(size_t offset, std::string_view expected) const {
    return ErrorMessage(
        offset, "expected " + std::string(expected) + ", found " + DescribeAt(text_, offset));
  }

  bool Consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status ParseValue(Json* out, int depth) {
    if (pos_ >= text_.size()) return Error(pos_, "a value");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        ORMDB_RETURN_IF_ERROR(ParseString(&s));
        *out = Json(std::move(s));
        return Status::Ok();
      }
      case 't':
        if (!Consume("true")) break;
        *out = Json(true);
        return Status::Ok();
      case 'f':
        if (!Consume("false")) break;
        *out = Json(false);
        return Status::Ok();
      case 'n':
        if (!Consume("null")) break;
        *out = Json();
        return Status::Ok();
      default:
        if (text_[pos_] == '-' || (text_[pos_] >= '0' && text_[pos_] <= '9')) {
          return ParseNumber(out);
        }
        break;
    }
    return Error(pos_, "a value");
  }

  Status CheckDepth(int depth) const {
    if (depth <= limits_.max_depth) return Status::Ok();
    return ErrorMessage(pos_, "expected at most " + std::to_string(limits_.max_depth) +
                                  " levels of nesting, found deeper nesting");
  }

  Status ParseArray(Json* out, int depth) {
    ORMDB_RETURN_IF_ERROR(CheckDepth(depth));
    ++pos_;  // '['
    Json array = Json::Array();
    Json::Elements& elements = array.as_array();
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      *out = std::move(array);
      return Status::Ok();
    }
    while (true) {
      SkipWhitespace();
      elements.emplace_back();
      ORMDB_RETURN_IF_ERROR(ParseValue(&elements.back(), depth));
      SkipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        break;
      }
      return Error(pos_, "',' or ']'");
    }
    *out = std::move(array);
    return Status::Ok();
  }

  Status ParseObject(Json* out, int depth) {
    ORMDB_RETURN_IF_ERROR(CheckDepth(depth));
    ++pos_;  // '{'
    Json object = Json::Object();
    Json::Members& members = object.as_object();
    // Duplicate detection: a linear scan while the object is small, a hash
    // set of the keys once it grows, so that a hostile object with a million
    // keys is not quadratic.
    constexpr size_t kLinearScanMax = 16;
    std::unordered_set<std::string> seen;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      *out = std::move(object);
      return Status::Ok();
    }
    while (true) {
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error(pos_, "'\"' to start a key");
      size_t key_offset = pos_;
      std::string key;
      ORMDB_RETURN_IF_ERROR(ParseString(&key));
      bool duplicate = false;
      if (members.size() < kLinearScanMax) {
        for (const auto& m : members) {
          if (m.first == key) duplicate = true;
        }
      } else {
        if (seen.empty()) {
          for (const auto& m : members) seen.insert(m.first);
        }
        duplicate = !seen.insert(key).second;
      }
      if (duplicate) {
        std::string quoted;
        AppendJsonString(&quoted, key);
        return ErrorMessage(key_offset, "expected a unique key, found duplicate key " + quoted);
      }
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Error(pos_, "':'");
      ++pos_;
      SkipWhitespace();
      // Built in place: moving a temporary Json here trips GCC 12's false
      // -Wmaybe-uninitialized on std::variant at -O2.
      members.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::move(key)),
                           std::forward_as_tuple());
      ORMDB_RETURN_IF_ERROR(ParseValue(&members.back().second, depth));
      SkipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        break;
      }
      return Error(pos_, "',' or '}'");
    }
    *out = std::move(object);
    return Status::Ok();
  }

  Status ParseString(std::string* out) {
    StringError err;
    if (!DecodeStringAt(text_, &pos_, out, &err)) return ErrorMessage(err.offset, err.message);
    return Status::Ok();
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // number = [ minus ] int [ frac ] [ exp ] (RFC 8259 §6).
  Status ParseNumber(Json* out) {
    const size_t start = pos_;
    const size_t n = text_.size();
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= n || !IsDigit(text_[pos_])) return Error(pos_, "a digit");
    if (text_[pos_] == '0') {
      ++pos_;
      if (pos_ < n && IsDigit(text_[pos_])) {
        return ErrorMessage(
            start, "expected a number without leading zeros, found " + DescribeAt(text_, start));
      }
    } else {
      while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
    }
    bool integral = true;
    if (pos_ < n && text_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= n || !IsDigit(text_[pos_])) return Error(pos_, "a digit after '.'");
      while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < n && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < n && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= n || !IsDigit(text_[pos_])) return Error(pos_, "a digit in the exponent");
      while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
    }
    std::string_view literal = text_.substr(start, pos_ - start);
    const char* first = literal.data();
    const char* last = literal.data() + literal.size();
    if (integral) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && p == last) {
        *out = Json(v);
        return Status::Ok();
      }
      // Too large for int64: falls through to a double.
    }
    double d = 0;
    auto [p, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      if (DecimalExponent(literal) > 0) {
        return ErrorMessage(start, "expected a number within the range of a double, found " +
                                       std::string(literal.substr(0, 40)));
      }
      d = literal[0] == '-' ? -0.0 : 0.0;  // underflow: as close to the value as a double gets
    } else if (ec != std::errc() || p != last) {
      return ErrorMessage(start, "expected a number, found " + std::string(literal.substr(0, 40)));
    }
    *out = Json(d);
    return Status::Ok();
  }

  // Roughly log10 of a syntactically valid, non-zero number literal: positive
  // for an overflow, negative for an underflow (only its sign matters, and
  // from_chars only reports out of range far from 10^0).
  static int64_t DecimalExponent(std::string_view literal) {
    size_t i = literal[0] == '-' ? 1 : 0;
    int64_t integer_digits = 0;  // significant digits before the point
    int64_t fraction_zeros = 0;  // zeros after the point before the first non-zero digit
    bool seen_nonzero = false;
    while (i < literal.size() && IsDigit(literal[i])) {
      if (literal[i] != '0') seen_nonzero = true;
      if (seen_nonzero) ++integer_digits;
      ++i;
    }
    if (i < literal.size() && literal[i] == '.') {
      ++i;
      while (i < literal.size() && IsDigit(literal[i])) {
        if (literal[i] != '0') seen_nonzero = true;
        if (!seen_nonzero) ++fraction_zeros;
        ++i;
      }
    }
    int64_t exponent = 0;
    if (i < literal.size() && (literal[i] == 'e' || literal[i] == 'E')) {
      ++i;
      bool negative = false;
      if (literal[i] == '+' || literal[i] == '-') negative = literal[i++] == '-';
      while (i < literal.size()) {
        if (exponent < 1'000'000'000) exponent = exponent * 10 + (literal[i] - '0');
        ++i;
      }
      if (negative) exponent = -exponent;
    }
    return integer_digits > 0 ? exponent + integer_digits - 1 : exponent - fraction_zeros - 1;
  }

  std::string_view text_;
  JsonLimits limits_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Writer

void AppendDouble(std::string* out, double d) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view s(buf, static_cast<size_t>(p - buf));
  out->append(s);
  // "1" would read back as an int.
  if (s.find_first_of(".e") == std::string_view::npos) out->append(".0");
}

}  // namespace

// ---------------------------------------------------------------------------
// Json

const Json* Json::Find(std::string_view key) const {
  for (const auto& m : as_object()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Json* Json::Find(std::string_view key) {
  for (auto& m : as_object()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Json& Json::Set(std::string key, Json value) {
  if (Json* existing = Find(key)) {
    *existing = std::move(value);
  } else {
    as_object().emplace_back(std::move(key), std::move(value));
  }
  return *this;
}

Json& Json::Push(Json value) {
  as_array().push_back(std::move(value));
  return *this;
}

size_t Json::size() const {
  if (is_array()) return as_array().size();
  if (is_object()) return as_object().size();
  return 0;
}

std::string_view Json::TypeName() const {
  switch (kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kInt:
      return "integer";
    case Kind::kDouble:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "unknown";
}

bool operator==(const Json& a, const Json& b) { return a.data_ == b.data_; }

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_text_size) {
    return InvalidArgument("invalid JSON: expected at most " +
                           std::to_string(limits.max_text_size) + " bytes, found " +
                           std::to_string(text.size()));
  }
  return Parser(text, limits).ParseDocument();
}

Result<std::string> DecodeJsonString(std::string_view text, size_t* length, size_t* error_offset) {
  assert(!text.empty() && text[0] == '"');
  size_t pos = 0;
  std::string out;
  StringError err;
  if (!DecodeStringAt(text, &pos, &out, &err)) {
    *error_offset = err.offset;
    return InvalidArgument(std::move(err.message));
  }
  *length = pos;
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++i;
    }
    out->append(s.data() + start, i - start);
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD for one bad byte
        ++i;
      } else {
        out->append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
        break;
    }
  }
  out->push_back('"');
}

void AppendJson(std::string* out, const Json& value) {
  switch (value.kind()) {
    case Json::Kind::kNull:
      out->append("null");
      return;
    case Json::Kind::kBool:
      out->append(value.as_bool() ? "true" : "false");
      return;
    case Json::Kind::kInt: {
      char buf[24];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, value.as_int());
      out->append(buf, static_cast<size_t>(p - buf));
      return;
    }
    case Json::Kind::kDouble:
      AppendDouble(out, value.as_double());
      return;
    case Json::Kind::kString:
      AppendJsonString(out, value.as_string());
      return;
    case Json::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Json& e : value.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(out, e);
      }
      out->push_back(']');
      return;
    }
    case Json::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, key);
        out->push_back(':');
        AppendJson(out, member);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string ToJson(const Json& value) {
  std::string out;
  AppendJson(&out, value);
  return out;
}

}  // namespace ormdb
