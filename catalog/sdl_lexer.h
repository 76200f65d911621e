// The schema language's tokens and lexer, and the messages every stage of
// catalog/sdl_parser.cc's pipeline words the same way. Internal to
// catalog/ (ParseSchema in catalog/sdl_parser.h is the interface).
//
// Thread-safety: a Lexer reads one text on one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/sdl_parser.h"
#include "common/lexer.h"
#include "common/suggest.h"
#include "ormdb/status.h"

namespace ormdb::catalog::sdl {

// ===========================================================================
// Messages
// ===========================================================================

// Formats "FILE:LINE:COL: message" as a SCHEMA_ERROR.
class Diagnostics {
 public:
  explicit Diagnostics(std::string_view file_name) : file_name_(file_name) {}

  Status At(SourcePos pos, std::string_view message) const {
    return SchemaError(FormatAt(file_name_, pos, message));
  }

 private:
  std::string_view file_name_;
};

inline std::string Qualified(std::string_view entity, std::string_view member) {
  return std::string(entity) + "." + std::string(member);
}

inline std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// " (did you mean 'prefix+X'?)" for the candidate nearest to `name`, when it
// is within max(1, len/3) edits, len being the longer of the two names (so
// that '@uniq' still finds '@unique'); ties go to the earlier candidate.
// Empty when nothing is close. On huge schemas the search stops after a
// fixed amount of work: a hint is not worth seconds.
inline std::string DidYouMean(std::string_view name,
                              const std::vector<std::string_view>& candidates,
                              std::string_view prefix = "") {
  std::string best = NearestName(name, candidates);
  if (best.empty()) return "";
  return " (did you mean '" + std::string(prefix) + best + "'?)";
}

// ===========================================================================
// Lexer
// ===========================================================================

enum class Tok : uint8_t {
  kEnd,
  kIdent,
  kNumber,
  kString,
  kAttr,        // @name
  kEntityAttr,  // @@name
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kColon,
  kComma,
  kQuestion,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;        // as written
  std::string value;            // kString: the unescaped contents; kAttr/kEntityAttr: the name
  bool is_float = false;        // kNumber: has a fraction or an exponent
  bool newline_before = false;  // a line break separates it from the previous token
  SourcePos pos;                // of its first character
  SourcePos end;                // just after its last character
};

// How a token is shown after "found ".
std::string Describe(const Token& tok);

// Produces tokens on demand, so that the parser can take the raw text of a
// @check expression at the point where it starts.
// REQUIRES: the text is valid UTF-8 (columns count code points).
class Lexer {
 public:
  Lexer(std::string_view text, const Diagnostics& diag) : cur_(text), diag_(diag) {
    cur_.SkipByteOrderMark();
  }

  // Reads the next token into *tok (kEnd at the end of the text).
  Status Next(Token* tok);

  // REQUIRES: the last token read was '('. Reads the text up to the matching
  // ')' (parentheses inside "strings" do not count) and the ')' itself.
  // *text is that text without surrounding white space, *pos where it starts,
  // *end the position after the ')'. `attr` names the attribute in messages.
  Status ReadBalanced(std::string_view attr, std::string* text, SourcePos* pos, SourcePos* end);

 private:
  std::string_view text() const { return cur_.text(); }
  bool AtEnd() const { return cur_.AtEnd(); }
  char Peek(size_t ahead = 0) const { return cur_.Peek(ahead); }
  SourcePos Here() const { return cur_.Here(); }
  void Bump() { cur_.Bump(); }

  Status SkipSpaceAndComments(bool* newline);
  Status LexIdentifier(Token* tok);
  Status LexNumber(Token* tok);
  Status LexString(Token* tok);
  Status LexAttribute(Token* tok);
  Status SkipStringInExpression(std::string_view attr);
  // "unexpected character ..." for the character at the current offset.
  Status Unexpected(std::string_view context) const;
  std::string DescribeCharHere() const;

  TextCursor cur_;
  const Diagnostics& diag_;
};

}  // namespace ormdb::catalog::sdl
