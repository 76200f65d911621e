// What the three text languages share below their grammars: the query text
// (query/parser), the schema language (catalog/sdl_parser) and @check
// expressions (catalog/check_expr). Character classes, a cursor that tracks
// line and column, the scanners of names, JSON-syntax numbers and
// double-quoted JSON strings, and the pieces of an error message that say
// where and what ("schema.ormdb:3:7: ...", "found character 'x'").
//
// The scanners report what they found and where a problem is; each language
// words its own message, so a query error reads like a query error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ormdb {

// A position in a text: 1-based line and column; columns count code points.
struct TextPos {
  int line = 0;
  int column = 0;
};

// ---- character classes (ASCII; other bytes are none of these) ----
inline bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }
inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
// A name: [A-Za-z_][A-Za-z0-9_]*.
bool IsName(std::string_view s);

// ---- positions ----

// The position of a byte offset in `text` (an offset past the end counts
// as the end).
TextPos PositionOf(std::string_view text, size_t offset);
// "12:3".
std::string FormatPos(TextPos pos);
// "SOURCE:12:3: message", how every located error of a text reads.
std::string FormatAt(std::string_view source, TextPos pos, std::string_view message);

// A text being read left to right, with the position of the next byte.
class TextCursor {
 public:
  explicit TextCursor(std::string_view text) : text_(text) {}

  std::string_view text() const { return text_; }
  size_t offset() const { return offset_; }
  bool AtEnd() const { return offset_ >= text_.size(); }
  // '\0' past the end; callers that care about a real NUL check AtEnd().
  char Peek(size_t ahead = 0) const {
    return offset_ + ahead < text_.size() ? text_[offset_ + ahead] : '\0';
  }
  TextPos Here() const { return {line_, column_}; }
  // Steps over one byte. REQUIRES: !AtEnd().
  void Bump();
  // Steps forward to `offset`. REQUIRES: offset() <= offset <= text().size().
  void BumpTo(size_t offset) {
    while (offset_ < offset) Bump();
  }
  // Skips a UTF-8 byte-order mark at the start (not content).
  void SkipByteOrderMark();

 private:
  std::string_view text_;
  size_t offset_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// ---- messages ----

// User-written text is echoed in messages; a megabyte of it is not: at most
// 40 bytes (whole characters) and "...".
std::string Shorten(std::string_view s);
// 's' in single quotes.
std::string Quote(std::string_view s);
// The character at `offset` for "found ..." / "unexpected ...": "end of
// line", "control character 0x07", "character 'x'", "character \"'\"",
// "invalid UTF-8 byte 0xC3". REQUIRES: offset < text.size().
std::string DescribeCharAt(std::string_view text, size_t offset);

// ---- scanners ----

// The end of the name starting at `offset` (the first byte that is not a
// name character). REQUIRES: IsNameStart(text[offset]).
size_t ScanName(std::string_view text, size_t offset);
// "WHAT 'x...' is N bytes long; the limit is M": a name over its limit.
std::string NameTooLongMessage(std::string_view what, std::string_view name, size_t limit);

// A number in JSON syntax, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// as far as it goes. REQUIRES: text[offset] is a digit, or '-' before one.
struct NumberScan {
  enum class Problem : uint8_t {
    kNone,
    kFractionDigit,  // no digit after '.'; error_offset at the byte after it
    kExponentDigit,  // no digit in the exponent; error_offset there
    kTrailing,       // a name character or '.' right after; end covers them
  };
  size_t end = 0;             // just after the number (kTrailing: after the junk)
  bool is_float = false;      // has a fraction or an exponent
  bool leading_zero = false;  // "01": the integer part has a leading zero
  Problem problem = Problem::kNone;
  size_t error_offset = 0;  // kFractionDigit, kExponentDigit, kTrailing
};
NumberScan ScanNumber(std::string_view text, size_t offset);

// A double-quoted string with JSON escapes. REQUIRES: text[offset] == '"'.
struct StringScan {
  bool ok = false;
  std::string value;  // ok: the unescaped contents
  size_t end = 0;     // ok: just after the closing quote
  // !ok: the line or the text ended before the closing quote.
  bool unterminated = false;
  // !ok and !unterminated: where the problem is, and what it is
  // ("expected an escape character (...), found 'q'").
  size_t error_offset = 0;
  std::string message;
};
StringScan ScanString(std::string_view text, size_t offset);

}  // namespace ormdb
