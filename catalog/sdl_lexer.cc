// The schema language's lexer: tokens on demand over common/lexer's
// TextCursor, JSON numbers and strings, and the raw text of a @check
// expression.
#include "catalog/sdl_lexer.h"

#include <algorithm>
#include <string>

namespace ormdb::catalog::sdl {
namespace {

struct Punctuation {
  char c;
  Tok kind;
};
constexpr Punctuation kPunctuation[] = {
    {'{', Tok::kLBrace},   {'}', Tok::kRBrace}, {'[', Tok::kLBracket},
    {']', Tok::kRBracket}, {'(', Tok::kLParen}, {')', Tok::kRParen},
    {':', Tok::kColon},    {',', Tok::kComma},  {'?', Tok::kQuestion},
};

}  // namespace

// How a token is shown after "found ".
std::string Describe(const Token& tok) {
  switch (tok.kind) {
    case Tok::kEnd:
      return "end of file";
    case Tok::kString:
      return "string " + Shorten(tok.text);
    default:
      return Quote(Shorten(tok.text));
  }
}

std::string Lexer::DescribeCharHere() const {
  return AtEnd() ? "end of file" : DescribeCharAt(text(), cur_.offset());
}

Status Lexer::Unexpected(std::string_view context) const {
  return diag_.At(Here(), "unexpected " + DescribeCharHere() + std::string(context));
}

Status Lexer::SkipSpaceAndComments(bool* newline) {
  while (!AtEnd()) {
    const char c = Peek();
    if (c == '\n') {
      *newline = true;
      Bump();
    } else if (IsSpace(c)) {
      Bump();
    } else if (c == '/' && Peek(1) == '/') {
      while (!AtEnd() && Peek() != '\n') Bump();
    } else if (c == '/' && Peek(1) == '*') {
      const SourcePos start = Here();
      Bump();
      Bump();
      while (!(Peek() == '*' && Peek(1) == '/')) {
        if (AtEnd()) {
          return diag_.At(start, "unterminated comment: expected '*/', found end of file");
        }
        if (Peek() == '\n') *newline = true;
        Bump();
      }
      Bump();
      Bump();
    } else {
      break;
    }
  }
  return Status::Ok();
}

Status Lexer::Next(Token* tok) {
  tok->newline_before = false;
  tok->is_float = false;
  tok->value.clear();
  ORMDB_RETURN_IF_ERROR(SkipSpaceAndComments(&tok->newline_before));
  tok->pos = Here();
  const size_t start = cur_.offset();
  if (AtEnd()) {
    tok->kind = Tok::kEnd;
    tok->text = {};
    tok->end = Here();
    return Status::Ok();
  }
  const char c = Peek();
  if (IsNameStart(c)) {
    ORMDB_RETURN_IF_ERROR(LexIdentifier(tok));
  } else if (IsDigit(c) || (c == '-' && IsDigit(Peek(1)))) {
    ORMDB_RETURN_IF_ERROR(LexNumber(tok));
  } else if (c == '"') {
    ORMDB_RETURN_IF_ERROR(LexString(tok));
  } else if (c == '@') {
    ORMDB_RETURN_IF_ERROR(LexAttribute(tok));
  } else {
    const auto punctuation = std::find_if(std::begin(kPunctuation), std::end(kPunctuation),
                                          [c](const Punctuation& p) { return p.c == c; });
    if (punctuation == std::end(kPunctuation)) return Unexpected("");
    tok->kind = punctuation->kind;
    Bump();
  }
  tok->text = text().substr(start, cur_.offset() - start);
  tok->end = Here();
  return Status::Ok();
}

Status Lexer::LexIdentifier(Token* tok) {
  const SourcePos start = Here();
  const size_t begin = cur_.offset();
  cur_.BumpTo(ScanName(text(), begin));
  const std::string_view name = text().substr(begin, cur_.offset() - begin);
  if (name.size() > kMaxIdentifierBytes) {
    return diag_.At(start, NameTooLongMessage("identifier", name, kMaxIdentifierBytes));
  }
  tok->kind = Tok::kIdent;
  return Status::Ok();
}

// JSON number syntax (common/lexer ScanNumber).
Status Lexer::LexNumber(Token* tok) {
  const SourcePos start = Here();
  const size_t begin = cur_.offset();
  const NumberScan scan = ScanNumber(text(), begin);
  const auto written = [&] { return Quote(Shorten(text().substr(begin, scan.end - begin))); };
  tok->is_float = scan.is_float;
  switch (scan.problem) {
    case NumberScan::Problem::kFractionDigit:
      cur_.BumpTo(scan.error_offset);
      return Unexpected(" after '.' in a number: expected a digit");
    case NumberScan::Problem::kExponentDigit:
      cur_.BumpTo(scan.error_offset);
      return Unexpected(" in the exponent of a number: expected a digit");
    case NumberScan::Problem::kTrailing:
      return diag_.At(start, "invalid number " + written() +
                                 (IsNameStart(text()[scan.error_offset])
                                      ? " (a name starts with a letter or '_')"
                                      : ""));
    case NumberScan::Problem::kNone:
      break;
  }
  cur_.BumpTo(scan.end);
  if (scan.leading_zero) {
    return diag_.At(start, "invalid number " + written() + ": leading zeros are not allowed");
  }
  tok->kind = Tok::kNumber;
  return Status::Ok();
}

// A double-quoted string with JSON escapes (common/lexer ScanString).
Status Lexer::LexString(Token* tok) {
  const SourcePos start = Here();
  StringScan scan = ScanString(text(), cur_.offset());
  if (!scan.ok) {
    if (scan.unterminated) {
      return diag_.At(start, "unterminated string: expected '\"' before the end of the line");
    }
    cur_.BumpTo(scan.error_offset);
    return diag_.At(Here(), scan.message + " in a string");
  }
  cur_.BumpTo(scan.end);
  tok->value = std::move(scan.value);
  tok->kind = Tok::kString;
  return Status::Ok();
}

Status Lexer::LexAttribute(Token* tok) {
  const SourcePos start = Here();
  Bump();  // '@'
  tok->kind = Tok::kAttr;
  if (Peek() == '@') {
    Bump();
    tok->kind = Tok::kEntityAttr;
  }
  if (!IsNameStart(Peek()) || AtEnd()) {
    return diag_.At(Here(), "expected an attribute name after '" +
                                std::string(tok->kind == Tok::kAttr ? "@" : "@@") + "', found " +
                                DescribeCharHere());
  }
  const size_t begin = cur_.offset();
  cur_.BumpTo(ScanName(text(), begin));
  const size_t length = cur_.offset() - begin;
  if (length > kMaxIdentifierBytes) {
    return diag_.At(start, "attribute name is " + std::to_string(length) +
                               " bytes long; the limit is " + std::to_string(kMaxIdentifierBytes));
  }
  tok->value = std::string(text().substr(begin, length));
  return Status::Ok();
}

// Skips a "string" inside a raw expression; only its extent matters here.
Status Lexer::SkipStringInExpression(std::string_view attr) {
  const SourcePos start = Here();
  Bump();  // the opening quote
  while (Peek() != '"') {
    if (AtEnd() || Peek() == '\n') {
      return diag_.At(start, "unterminated string in " + std::string(attr) +
                                 "(...): expected '\"' before the end of the line");
    }
    if (Peek() == '\\') {
      Bump();
      if (AtEnd() || Peek() == '\n') continue;  // reported as unterminated above
    }
    Bump();
  }
  Bump();  // the closing quote
  return Status::Ok();
}

Status Lexer::ReadBalanced(std::string_view attr, std::string* text, SourcePos* pos,
                           SourcePos* end) {
  while (!AtEnd() && IsSpace(Peek())) Bump();
  const size_t begin = cur_.offset();
  *pos = Here();
  size_t trimmed_end = begin;  // just after the last non-space character
  int depth = 0;
  while (true) {
    if (AtEnd()) {
      return diag_.At(Here(),
                      "expected ')' to close " + std::string(attr) + "(...), found end of file");
    }
    const char c = Peek();
    if (c == '"') {
      ORMDB_RETURN_IF_ERROR(SkipStringInExpression(attr));
      trimmed_end = cur_.offset();
      continue;
    }
    if (c == ')' && depth == 0) break;
    if (c == '(' && ++depth > kMaxCheckNesting) {
      return diag_.At(Here(), "parentheses in " + std::string(attr) + "(...) nest deeper than " +
                                  std::to_string(kMaxCheckNesting) + " levels");
    }
    if (c == ')') --depth;
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && !IsSpace(c)) || byte == 0x7F) {
      return Unexpected(" in " + std::string(attr) + "(...)");
    }
    Bump();
    if (!IsSpace(c)) trimmed_end = cur_.offset();
  }
  *text = std::string(this->text().substr(begin, trimmed_end - begin));
  if (text->empty()) {
    return diag_.At(Here(), "expected an expression in " + std::string(attr) + "(...), found ')'");
  }
  Bump();  // ')'
  *end = Here();
  return Status::Ok();
}

}  // namespace ormdb::catalog::sdl
