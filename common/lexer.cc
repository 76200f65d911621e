#include "common/lexer.h"

#include <algorithm>

#include "common/json.h"
#include "common/utf8.h"

namespace ormdb {

bool IsName(std::string_view s) {
  return !s.empty() && IsNameStart(s[0]) && std::all_of(s.begin(), s.end(), IsNameChar);
}

TextPos PositionOf(std::string_view text, size_t offset) {
  TextCursor cursor(text);
  cursor.BumpTo(std::min(offset, text.size()));
  return cursor.Here();
}

std::string FormatPos(TextPos pos) {
  return std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

std::string FormatAt(std::string_view source, TextPos pos, std::string_view message) {
  std::string out(source);
  out += ':';
  out += FormatPos(pos);
  out += ": ";
  out += message;
  return out;
}

void TextCursor::Bump() {
  const char c = text_[offset_++];
  if (c == '\n') {
    ++line_;
    column_ = 1;
  } else if (!IsContinuationByte(c)) {
    ++column_;
  }
}

void TextCursor::SkipByteOrderMark() {
  if (offset_ == 0 && text_.substr(0, 3) == "\xEF\xBB\xBF") offset_ = 3;
}

std::string Shorten(std::string_view s) {
  constexpr size_t kMax = 40;
  if (s.size() <= kMax) return std::string(s);
  size_t cut = kMax;
  while (cut > 0 && IsContinuationByte(s[cut])) --cut;  // whole characters
  return std::string(s.substr(0, cut)) + "...";
}

// Built by appending: GCC 12 at -O3 warns falsely about "'" + std::string.
std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  out.append(s);
  out.push_back('\'');
  return out;
}

std::string DescribeCharAt(std::string_view text, size_t offset) {
  const auto c = static_cast<unsigned char>(text[offset]);
  if (c == '\n') return "end of line";
  if (c < 0x20 || c == 0x7F) return "control character " + HexByte(c);
  if (c == '\'') return "character \"'\"";
  if (c < 0x80) return "character " + Quote(std::string(1, static_cast<char>(c)));
  const size_t length = Utf8SequenceLength(text, offset);
  if (length == 0) return "invalid UTF-8 byte " + HexByte(c);
  return "character " + Quote(text.substr(offset, length));
}

size_t ScanName(std::string_view text, size_t offset) {
  while (offset < text.size() && IsNameChar(text[offset])) ++offset;
  return offset;
}

std::string NameTooLongMessage(std::string_view what, std::string_view name, size_t limit) {
  return std::string(what) + " " + Quote(Shorten(name)) + " is " + std::to_string(name.size()) +
         " bytes long; the limit is " + std::to_string(limit);
}

NumberScan ScanNumber(std::string_view text, size_t offset) {
  NumberScan scan;
  auto at = [&](size_t i) { return i < text.size() ? text[i] : '\0'; };
  size_t i = offset;
  if (at(i) == '-') ++i;
  const size_t int_begin = i;
  while (IsDigit(at(i))) ++i;
  scan.leading_zero = i - int_begin > 1 && text[int_begin] == '0';
  auto fail = [&](NumberScan::Problem problem) {
    scan.problem = problem;
    scan.error_offset = i;
    scan.end = i;
    return scan;
  };
  if (at(i) == '.') {
    scan.is_float = true;
    ++i;
    if (!IsDigit(at(i))) return fail(NumberScan::Problem::kFractionDigit);
    while (IsDigit(at(i))) ++i;
  }
  if (at(i) == 'e' || at(i) == 'E') {
    scan.is_float = true;
    ++i;
    if (at(i) == '+' || at(i) == '-') ++i;
    if (!IsDigit(at(i))) return fail(NumberScan::Problem::kExponentDigit);
    while (IsDigit(at(i))) ++i;
  }
  if (IsNameChar(at(i)) || at(i) == '.') {
    scan.problem = NumberScan::Problem::kTrailing;
    scan.error_offset = i;
    while (IsNameChar(at(i)) || at(i) == '.') ++i;
  }
  scan.end = i;
  return scan;
}

StringScan ScanString(std::string_view text, size_t offset) {
  StringScan scan;
  size_t length = 0, error_offset = 0;
  Result<std::string> decoded = DecodeJsonString(text.substr(offset), &length, &error_offset);
  if (decoded.ok()) {
    scan.ok = true;
    scan.value = std::move(decoded).value();
    scan.end = offset + length;
    return scan;
  }
  scan.error_offset = offset + error_offset;
  scan.message = decoded.status().message();
  scan.unterminated = scan.error_offset >= text.size() || text[scan.error_offset] == '\n' ||
                      text[scan.error_offset] == '\r';
  return scan;
}

}  // namespace ormdb
