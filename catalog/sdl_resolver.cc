// The schema language in three stages: a lexer (text -> tokens), a
// recursive-descent parser (tokens -> declarations, syntax only) and a
// resolver (declarations -> Schema: names, types, attributes, relations).
// Keeping resolution out of the parser lets a declaration refer to one that
// comes later in the file.
#include "catalog/sdl_parser.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/lexer.h"
#include "common/suggest.h"
#include "common/utf8.h"

namespace ormdb::catalog {
namespace {

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

std::string Qualified(std::string_view entity, std::string_view member) {
  return std::string(entity) + "." + std::string(member);
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// " (did you mean 'prefix+X'?)" for the candidate nearest to `name`, when it
// is within max(1, len/3) edits, len being the longer of the two names (so
// that '@uniq' still finds '@unique'); ties go to the earlier candidate.
// Empty when nothing is close. On huge schemas the search stops after a
// fixed amount of work: a hint is not worth seconds.
std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates,
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

struct Punctuation {
  char c;
  Tok kind;
};
constexpr Punctuation kPunctuation[] = {
    {'{', Tok::kLBrace},   {'}', Tok::kRBrace}, {'[', Tok::kLBracket},
    {']', Tok::kRBracket}, {'(', Tok::kLParen}, {')', Tok::kRParen},
    {':', Tok::kColon},    {',', Tok::kComma},  {'?', Tok::kQuestion},
};

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

// ===========================================================================
// Declarations: the parse tree, before names are resolved
// ===========================================================================

struct Name {
  std::string text;
  SourcePos pos;
};

struct TypeExpr {
  Name name;                // the type or element type as written
  bool collection = false;  // [name]
  bool optional = false;    // name?
  SourcePos optional_pos;
};

enum class AttrKind : uint8_t {
  kUnique,
  kIndex,
  kDefault,
  kCheck,
  kOnDelete,
  kInverse,
  kMany,
  kEntityIndex,
  kEntityUnique,
  kEntityCheck,
};

// What follows an attribute's name.
enum class ArgForm : uint8_t {
  kNone,
  kLiteral,     // @default(42)
  kExpression,  // @check(length(title) > 0): kept as text
  kWord,        // @on_delete(cascade)
  kNameList,    // @@index(a, b)
};

struct AttrSpec {
  std::string_view name;  // without the '@' / '@@'
  AttrKind kind;
  ArgForm form;
};

constexpr AttrSpec kFieldAttrs[] = {
    {"unique", AttrKind::kUnique, ArgForm::kNone},
    {"index", AttrKind::kIndex, ArgForm::kNone},
    {"default", AttrKind::kDefault, ArgForm::kLiteral},
    {"check", AttrKind::kCheck, ArgForm::kExpression},
    {"on_delete", AttrKind::kOnDelete, ArgForm::kWord},
    {"inverse", AttrKind::kInverse, ArgForm::kWord},
    {"many", AttrKind::kMany, ArgForm::kWord},
};
constexpr AttrSpec kEntityAttrs[] = {
    {"index", AttrKind::kEntityIndex, ArgForm::kNameList},
    {"unique", AttrKind::kEntityUnique, ArgForm::kNameList},
    {"check", AttrKind::kEntityCheck, ArgForm::kExpression},
};

struct OnDeleteSpec {
  std::string_view keyword;
  OnDelete action;
};
constexpr OnDeleteSpec kOnDeleteActions[] = {
    {"cascade", OnDelete::kCascade},
    {"restrict", OnDelete::kRestrict},
    {"set_null", OnDelete::kSetNull},
};

template <size_t N>
const AttrSpec* FindAttr(const AttrSpec (&specs)[N], std::string_view name) {
  for (const AttrSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

template <size_t N>
std::vector<std::string_view> AttrNames(const AttrSpec (&specs)[N]) {
  std::vector<std::string_view> names;
  for (const AttrSpec& spec : specs) names.push_back(spec.name);
  return names;
}

struct FieldAttr {
  const AttrSpec* spec = nullptr;
  SourcePos pos;        // of the '@'
  DefaultSpec literal;  // @default
  Name arg;             // @check: the expression; @on_delete/@inverse/@many: the word
  OnDelete on_delete = OnDelete::kRestrict;

  std::string Written() const { return "@" + std::string(spec->name); }
};

struct MemberDecl {
  Name name;
  TypeExpr type;
  std::vector<FieldAttr> attrs;
};

struct EntityAttrDecl {
  const AttrSpec* spec = nullptr;
  SourcePos pos;             // of the '@@'
  std::vector<Name> fields;  // @@index / @@unique
  Name expr;                 // @@check
};

struct EntityDecl {
  Name name;
  std::vector<MemberDecl> members;
  std::vector<EntityAttrDecl> attrs;
};

struct EnumDecl {
  Name name;
  std::vector<Name> values;
};

struct SchemaDecl {
  std::vector<EnumDecl> enums;
  std::vector<EntityDecl> entities;
};

// ===========================================================================
// Parser: syntax only; every name is resolved later
// ===========================================================================

class Parser {
 public:
  Parser(std::string_view text, const Diagnostics& diag) : lexer_(text, diag), diag_(diag) {}

  Status Parse(SchemaDecl* out);

 private:
  Status Advance() {
    prev_end_ = tok_.end;
    return lexer_.Next(&tok_);
  }
  bool AtWord(std::string_view word) const { return tok_.kind == Tok::kIdent && tok_.text == word; }

  // "expected WHAT, found <the current token>".
  Status Expected(std::string_view what) const;
  // The same inside a member, where a line break ends the member: a token on
  // the next line is reported as "found end of line" where the line ends.
  Status ExpectedInMember(std::string_view what) const;
  // Members and enum values are separated by ',' or a line break.
  Status ExpectSeparator(std::string_view what_after);

  Status ParseEnum(SchemaDecl* out);
  Status ParseEntity(SchemaDecl* out);
  Status ParseField(MemberDecl* out);
  Status ParseType(TypeExpr* out);
  Status ParseFieldAttribute(FieldAttr* out);
  Status ParseEntityAttribute(EntityAttrDecl* out);
  Status ParseDefaultLiteral(DefaultSpec* out);
  Status ParseOnDelete(FieldAttr* out);
  Status ExpectOpenParen(std::string_view attr) const;
  Status ParseWordArgument(std::string_view attr, std::string_view what, Name* out);
  Status ParseNameList(std::string_view attr, std::vector<Name>* out);
  Status ParseExpression(std::string_view attr, Name* out);

  Lexer lexer_;
  const Diagnostics& diag_;
  Token tok_;
  SourcePos prev_end_{1, 1};
};

Status Parser::Expected(std::string_view what) const {
  return diag_.At(tok_.pos, "expected " + std::string(what) + ", found " + Describe(tok_));
}

Status Parser::ExpectedInMember(std::string_view what) const {
  if (tok_.kind != Tok::kEnd && tok_.newline_before) {
    return diag_.At(prev_end_, "expected " + std::string(what) + ", found end of line");
  }
  return Expected(what);
}

Status Parser::ExpectSeparator(std::string_view what_after) {
  if (tok_.kind == Tok::kComma) return Advance();
  if (tok_.kind == Tok::kRBrace || tok_.newline_before) return Status::Ok();
  return Expected(what_after);
}

Status Parser::Parse(SchemaDecl* out) {
  ORMDB_RETURN_IF_ERROR(Advance());
  while (tok_.kind != Tok::kEnd) {
    if (AtWord("enum")) {
      ORMDB_RETURN_IF_ERROR(ParseEnum(out));
    } else if (AtWord("entity")) {
      ORMDB_RETURN_IF_ERROR(ParseEntity(out));
    } else {
      std::string hint;
      if (tok_.kind == Tok::kIdent) hint = DidYouMean(tok_.text, {"entity", "enum"});
      return diag_.At(tok_.pos, "expected 'entity' or 'enum', found " + Describe(tok_) + hint);
    }
  }
  return Status::Ok();
}

Status Parser::ParseEnum(SchemaDecl* out) {
  if (out->enums.size() >= kMaxEnums) {
    return diag_.At(tok_.pos, "too many enums: the limit is " + std::to_string(kMaxEnums));
  }
  ORMDB_RETURN_IF_ERROR(Advance());  // 'enum'
  if (tok_.kind != Tok::kIdent) return Expected("an enum name after 'enum'");
  EnumDecl decl;
  decl.name = {std::string(tok_.text), tok_.pos};
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kLBrace) return Expected("'{' after enum " + decl.name.text);
  ORMDB_RETURN_IF_ERROR(Advance());
  while (tok_.kind != Tok::kRBrace) {
    if (tok_.kind != Tok::kIdent) return Expected("a value of enum " + decl.name.text + " or '}'");
    decl.values.push_back({std::string(tok_.text), tok_.pos});
    ORMDB_RETURN_IF_ERROR(Advance());
    ORMDB_RETURN_IF_ERROR(
        ExpectSeparator("',' or a new line after enum value " + Quote(decl.values.back().text)));
  }
  ORMDB_RETURN_IF_ERROR(Advance());  // '}'
  out->enums.push_back(std::move(decl));
  return Status::Ok();
}

Status Parser::ParseEntity(SchemaDecl* out) {
  if (out->entities.size() >= kMaxEntities) {
    return diag_.At(tok_.pos, "too many entities: the limit is " + std::to_string(kMaxEntities));
  }
  ORMDB_RETURN_IF_ERROR(Advance());  // 'entity'
  if (tok_.kind != Tok::kIdent) return Expected("an entity name after 'entity'");
  EntityDecl decl;
  decl.name = {std::string(tok_.text), tok_.pos};
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kLBrace) return Expected("'{' after entity " + decl.name.text);
  ORMDB_RETURN_IF_ERROR(Advance());
  while (tok_.kind != Tok::kRBrace) {
    if (tok_.kind == Tok::kIdent) {
      MemberDecl member;
      ORMDB_RETURN_IF_ERROR(ParseField(&member));
      decl.members.push_back(std::move(member));
      ORMDB_RETURN_IF_ERROR(ExpectSeparator("an attribute, ',' or a new line after field " +
                                            Quote(decl.members.back().name.text)));
    } else if (tok_.kind == Tok::kEntityAttr) {
      EntityAttrDecl attr;
      ORMDB_RETURN_IF_ERROR(ParseEntityAttribute(&attr));
      decl.attrs.push_back(std::move(attr));
      ORMDB_RETURN_IF_ERROR(ExpectSeparator("',' or a new line after @@" +
                                            std::string(decl.attrs.back().spec->name) + "(...)"));
    } else {
      std::string what = "a field, an '@@' attribute or '}' in entity " + decl.name.text;
      if (tok_.kind == Tok::kAttr && FindAttr(kEntityAttrs, tok_.value) != nullptr) {
        return diag_.At(tok_.pos, "expected " + what + ", found " + Describe(tok_) +
                                      " (did you mean '@" + std::string(tok_.text) + "'?)");
      }
      return Expected(what);
    }
  }
  ORMDB_RETURN_IF_ERROR(Advance());  // '}'
  out->entities.push_back(std::move(decl));
  return Status::Ok();
}

Status Parser::ParseField(MemberDecl* out) {
  out->name = {std::string(tok_.text), tok_.pos};
  ORMDB_RETURN_IF_ERROR(Advance());
  // `name: Type` stays on one line, so that a forgotten type is reported
  // where it is missing, not as a strange type on the next line.
  if (tok_.kind != Tok::kColon || tok_.newline_before) {
    return ExpectedInMember("':' after field name " + Quote(out->name.text));
  }
  ORMDB_RETURN_IF_ERROR(Advance());
  ORMDB_RETURN_IF_ERROR(ParseType(&out->type));
  while (tok_.kind == Tok::kAttr) {
    FieldAttr attr;
    ORMDB_RETURN_IF_ERROR(ParseFieldAttribute(&attr));
    for (const FieldAttr& earlier : out->attrs) {
      if (earlier.spec == attr.spec) {
        return diag_.At(attr.pos, "duplicate attribute '" + attr.Written() + "' on field " +
                                      Quote(out->name.text) + " (first written at " +
                                      FormatPos(earlier.pos) + ")");
      }
    }
    out->attrs.push_back(std::move(attr));
  }
  return Status::Ok();
}

Status Parser::ParseType(TypeExpr* out) {
  if (tok_.newline_before) return ExpectedInMember("a type");
  if (tok_.kind == Tok::kLBracket) {
    out->collection = true;
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kIdent || tok_.newline_before) {
      return ExpectedInMember("an entity name after '['");
    }
    out->name = {std::string(tok_.text), tok_.pos};
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kRBracket || tok_.newline_before) {
      return ExpectedInMember("']' after '[" + out->name.text + "'");
    }
  } else if (tok_.kind == Tok::kIdent) {
    out->name = {std::string(tok_.text), tok_.pos};
  } else {
    return ExpectedInMember("a type");
  }
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind == Tok::kQuestion && !tok_.newline_before) {
    out->optional = true;
    out->optional_pos = tok_.pos;
    ORMDB_RETURN_IF_ERROR(Advance());
  }
  return Status::Ok();
}

Status Parser::ParseFieldAttribute(FieldAttr* out) {
  out->spec = FindAttr(kFieldAttrs, tok_.value);
  out->pos = tok_.pos;
  if (out->spec == nullptr) {
    return diag_.At(tok_.pos, "unknown attribute " + Quote(Shorten(tok_.text)) +
                                  DidYouMean(tok_.value, AttrNames(kFieldAttrs), "@"));
  }
  const std::string written = out->Written();
  ORMDB_RETURN_IF_ERROR(Advance());
  switch (out->spec->form) {
    case ArgForm::kNone:
      if (tok_.kind == Tok::kLParen && !tok_.newline_before) {
        const std::string entity_form = "@" + written + "(a, b)";
        return diag_.At(tok_.pos, written + " takes no arguments; an index over several fields " +
                                      "is written " + entity_form + " as a member of the entity");
      }
      return Status::Ok();
    case ArgForm::kLiteral:
      ORMDB_RETURN_IF_ERROR(ExpectOpenParen(written));
      ORMDB_RETURN_IF_ERROR(Advance());
      ORMDB_RETURN_IF_ERROR(ParseDefaultLiteral(&out->literal));
      if (tok_.kind != Tok::kRParen) return ExpectedInMember("')' after the @default value");
      return Advance();
    case ArgForm::kExpression:
      return ParseExpression(written, &out->arg);
    case ArgForm::kWord:
      if (out->spec->kind == AttrKind::kOnDelete) return ParseOnDelete(out);
      return ParseWordArgument(
          written, out->spec->kind == AttrKind::kInverse ? "a field name" : "a relation name",
          &out->arg);
    case ArgForm::kNameList:
      break;  // entity attributes only
  }
  return Status::Ok();
}

Status Parser::ParseDefaultLiteral(DefaultSpec* out) {
  out->pos = tok_.pos;
  switch (tok_.kind) {
    case Tok::kNumber:
      out->kind = tok_.is_float ? DefaultSpec::Kind::kFloat : DefaultSpec::Kind::kInt;
      out->text = std::string(tok_.text);
      break;
    case Tok::kString:
      out->kind = DefaultSpec::Kind::kString;
      out->text = tok_.value;
      break;
    case Tok::kIdent:
      if (tok_.text == "now") {
        out->kind = DefaultSpec::Kind::kNow;
      } else if (tok_.text == "uuid") {
        out->kind = DefaultSpec::Kind::kUuid;
      } else if (tok_.text == "null") {
        out->kind = DefaultSpec::Kind::kNull;
      } else if (tok_.text == "true" || tok_.text == "false") {
        out->kind = DefaultSpec::Kind::kBool;
        out->text = std::string(tok_.text);
      } else {
        out->kind = DefaultSpec::Kind::kIdent;
        out->text = std::string(tok_.text);
      }
      break;
    default:
      return ExpectedInMember(
          "a @default value (a number, a string, true, false, null, now, uuid or an enum value)");
  }
  return Advance();
}

Status Parser::ParseOnDelete(FieldAttr* out) {
  ORMDB_RETURN_IF_ERROR(
      ParseWordArgument("@on_delete", "cascade, restrict or set_null", &out->arg));
  for (const OnDeleteSpec& action : kOnDeleteActions) {
    if (action.keyword == out->arg.text) {
      out->on_delete = action.action;
      return Status::Ok();
    }
  }
  std::vector<std::string_view> keywords;
  for (const OnDeleteSpec& action : kOnDeleteActions) keywords.push_back(action.keyword);
  std::string hint = DidYouMean(out->arg.text, keywords);
  if (hint.empty()) hint = "; expected cascade, restrict or set_null";
  return diag_.At(out->arg.pos, "unknown @on_delete action " + Quote(out->arg.text) + hint);
}

Status Parser::ExpectOpenParen(std::string_view attr) const {
  if (tok_.kind != Tok::kLParen) return ExpectedInMember("'(' after '" + std::string(attr) + "'");
  return Status::Ok();
}

Status Parser::ParseWordArgument(std::string_view attr, std::string_view what, Name* out) {
  ORMDB_RETURN_IF_ERROR(ExpectOpenParen(attr));
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kIdent) {
    return ExpectedInMember(std::string(what) + " in " + std::string(attr) + "(...)");
  }
  *out = {std::string(tok_.text), tok_.pos};
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kRParen) {
    return ExpectedInMember("')' after " + std::string(attr) + "(" + out->text);
  }
  return Advance();
}

Status Parser::ParseNameList(std::string_view attr, std::vector<Name>* out) {
  ORMDB_RETURN_IF_ERROR(ExpectOpenParen(attr));
  ORMDB_RETURN_IF_ERROR(Advance());
  while (true) {
    if (tok_.kind != Tok::kIdent) {
      return ExpectedInMember("a field name in " + std::string(attr) + "(...)");
    }
    out->push_back({std::string(tok_.text), tok_.pos});
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind == Tok::kRParen) return Advance();
    if (tok_.kind != Tok::kComma) {
      return ExpectedInMember("',' or ')' in " + std::string(attr) + "(...)");
    }
    ORMDB_RETURN_IF_ERROR(Advance());
  }
}

Status Parser::ParseExpression(std::string_view attr, Name* out) {
  ORMDB_RETURN_IF_ERROR(ExpectOpenParen(attr));
  // The lexer stands just after the '(' (one token of lookahead), which is
  // where the raw text starts.
  SourcePos end;
  ORMDB_RETURN_IF_ERROR(lexer_.ReadBalanced(attr, &out->text, &out->pos, &end));
  prev_end_ = end;
  return lexer_.Next(&tok_);
}

Status Parser::ParseEntityAttribute(EntityAttrDecl* out) {
  out->spec = FindAttr(kEntityAttrs, tok_.value);
  out->pos = tok_.pos;
  if (out->spec == nullptr) {
    std::string hint = DidYouMean(tok_.value, AttrNames(kEntityAttrs), "@@");
    if (hint.empty() && FindAttr(kFieldAttrs, tok_.value) != nullptr) {
      hint = " ('@" + tok_.value + "' is a field attribute: write it after the field's type)";
    }
    return diag_.At(tok_.pos, "unknown entity attribute " + Quote(Shorten(tok_.text)) + hint);
  }
  const std::string written = "@@" + std::string(out->spec->name);
  ORMDB_RETURN_IF_ERROR(Advance());
  if (out->spec->form == ArgForm::kExpression) return ParseExpression(written, &out->expr);
  return ParseNameList(written, &out->fields);
}

// ===========================================================================
// Resolver: names, types, attributes, indexes and relations
// ===========================================================================

struct BuiltinType {
  std::string_view keyword;
  FieldType type;
};
constexpr BuiltinType kBuiltinTypes[] = {
    {"bool", FieldType::kBool},           {"int32", FieldType::kInt32},
    {"int64", FieldType::kInt64},         {"float64", FieldType::kFloat64},
    {"string", FieldType::kString},       {"bytes", FieldType::kBytes},
    {"timestamp", FieldType::kTimestamp}, {"uuid", FieldType::kUuid},
    {"json", FieldType::kJson},
};
// The type of the `id` member only; not a field type.
constexpr std::string_view kIdType = "id";
constexpr std::string_view kIdMember = "id";
// Every entity has it in queries (DESIGN.md §9): a field may not take it.
constexpr std::string_view kVersionPseudoField = "_version";
// Words that @default(...) reads as something other than an enum value.
constexpr std::string_view kReservedEnumValues[] = {"true", "false", "null", "now", "uuid"};

// Type names of other languages, for "did you mean" when edit distance
// finds nothing: `int` is not a typo of `int64`, but it means it.
struct TypeAlias {
  std::string_view alias;
  std::string_view keyword;
};
constexpr TypeAlias kTypeAliases[] = {
    {"int", "int64"},      {"integer", "int64"},  {"long", "int64"},   {"bigint", "int64"},
    {"float", "float64"},  {"double", "float64"}, {"real", "float64"}, {"text", "string"},
    {"str", "string"},     {"varchar", "string"}, {"boolean", "bool"}, {"datetime", "timestamp"},
    {"date", "timestamp"}, {"blob", "bytes"},     {"binary", "bytes"}, {"object", "json"},
};

// " (did you mean 'int64'?)" for a known alias (any case), else "".
std::string AliasHint(std::string_view name) {
  for (const TypeAlias& a : kTypeAliases) {
    if (a.alias.size() == name.size() &&
        std::equal(name.begin(), name.end(), a.alias.begin(), [](char x, char y) {
          return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == y;
        })) {
      return " (did you mean '" + std::string(a.keyword) + "'?)";
    }
  }
  return "";
}

const BuiltinType* FindBuiltin(std::string_view name) {
  for (const BuiltinType& b : kBuiltinTypes) {
    if (b.keyword == name) return &b;
  }
  return nullptr;
}

// "a string field", "an enum field (Status)", "a reference to User".
std::string KindOf(const Field& f) {
  switch (f.type) {
    case FieldType::kEnum:
      return "an enum field (" + f.enum_name + ")";
    case FieldType::kRef:
      return "a reference to " + f.target;
    case FieldType::kInt32:
    case FieldType::kInt64:
      return "an " + std::string(BuiltinTypeKeyword(f.type)) + " field";
    default:
      return "a " + std::string(BuiltinTypeKeyword(f.type)) + " field";
  }
}

// "Post.title, a string field".
std::string DescribeField(std::string_view entity, const Field& f) {
  return Qualified(entity, f.name) + ", " + KindOf(f);
}

// "Post.title is a string field".
std::string FieldIsA(std::string_view entity, const Field& f) {
  return Qualified(entity, f.name) + " is " + KindOf(f);
}

// Types whose default may be written as a string.
bool TakesStringDefault(FieldType type) {
  switch (type) {
    case FieldType::kString:
    case FieldType::kBytes:
    case FieldType::kJson:
    case FieldType::kTimestamp:
    case FieldType::kUuid:
    case FieldType::kEnum:
      return true;
    default:
      return false;
  }
}

// The type as written in the schema: "int32", "Status", "User".
std::string TypeText(const Field& f) {
  if (f.type == FieldType::kEnum) return f.enum_name;
  if (f.type == FieldType::kRef) return f.target;
  return std::string(BuiltinTypeKeyword(f.type));
}

class Resolver {
 public:
  Resolver(const SchemaDecl& decl, const Diagnostics& diag) : decl_(decl), diag_(diag) {}

  Status Resolve(Schema* out);

 private:
  // Where an entity's members are, by name, for lookups that must stay fast
  // on huge inputs. Keys view into decl_, which outlives the resolver.
  struct MemberIndex {
    std::unordered_map<std::string_view, size_t> fields;       // into Entity::fields
    std::unordered_map<std::string_view, size_t> collections;  // into Entity::collections
    std::vector<SourcePos> relation_arg_pos;  // per collection: its @inverse/@many argument
  };

  Status DeclareTypes();
  Status CheckEnumValues(const EnumDecl& decl);
  Status ResolveEntity(const EntityDecl& decl, Entity* out);
  Status ResolveIdMember(const MemberDecl& member, Entity* out);
  Status ResolveField(const EntityDecl& entity, const MemberDecl& member, Field* out,
                      SourcePos* index_pos);
  Status ResolveFieldType(const MemberDecl& member, Field* out);
  Status ApplyFieldAttribute(const EntityDecl& entity, const FieldAttr& attr, Field* out,
                             SourcePos* index_pos);
  Status CheckDefault(const EntityDecl& entity, const Field& field, const DefaultSpec& spec);
  Status CheckIntegerDefault(const EntityDecl& entity, const Field& field, const DefaultSpec& spec);
  Status ResolveCollection(const EntityDecl& entity, const MemberDecl& member, Collection* out,
                           SourcePos* arg_pos);
  Status BuildIndexes(const EntityDecl& decl, const std::vector<SourcePos>& field_index_pos,
                      Entity* out);
  Status ResolveIndexFields(const EntityDecl& decl, const EntityAttrDecl& attr,
                            const Entity& entity, std::vector<std::string>* fields);
  Status CheckInverses(const Schema& schema);
  Status BuildEdges(Schema* schema);

  std::vector<std::string_view> FieldNames(const EntityDecl& decl) const;
  std::vector<std::string_view> EntityNames() const;

  const SchemaDecl& decl_;
  const Diagnostics& diag_;
  std::unordered_map<std::string_view, const EnumDecl*> enums_;
  std::unordered_map<std::string_view, size_t> entities_;  // into decl_.entities
  std::vector<MemberIndex> members_;                       // per entity
};

Status Resolver::Resolve(Schema* out) {
  ORMDB_RETURN_IF_ERROR(DeclareTypes());
  for (const EnumDecl& e : decl_.enums) {
    ORMDB_RETURN_IF_ERROR(CheckEnumValues(e));
    Enum resolved;
    resolved.name = e.name.text;
    resolved.pos = e.name.pos;
    for (const Name& v : e.values) resolved.values.push_back(v.text);
    out->enums.push_back(std::move(resolved));
  }
  members_.resize(decl_.entities.size());
  out->entities.resize(decl_.entities.size());
  for (size_t i = 0; i < decl_.entities.size(); ++i) {
    ORMDB_RETURN_IF_ERROR(ResolveEntity(decl_.entities[i], &out->entities[i]));
  }
  ORMDB_RETURN_IF_ERROR(CheckInverses(*out));
  return BuildEdges(out);
}

// Enums and entities share one namespace, which excludes the builtin types.
Status Resolver::DeclareTypes() {
  struct Declaration {
    const Name* name;
    bool is_enum;
  };
  std::vector<Declaration> in_order;
  for (const EnumDecl& e : decl_.enums) in_order.push_back({&e.name, true});
  for (const EntityDecl& e : decl_.entities) in_order.push_back({&e.name, false});
  std::stable_sort(in_order.begin(), in_order.end(),
                   [](const Declaration& a, const Declaration& b) {
                     return std::pair(a.name->pos.line, a.name->pos.column) <
                            std::pair(b.name->pos.line, b.name->pos.column);
                   });
  std::unordered_map<std::string_view, Declaration> seen;
  for (const Declaration& d : in_order) {
    const std::string kind = d.is_enum ? "enum" : "entity";
    if (FindBuiltin(d.name->text) != nullptr || d.name->text == kIdType) {
      return diag_.At(d.name->pos, Quote(d.name->text) + " is a builtin type; it cannot name " +
                                       (d.is_enum ? "an enum" : "an entity"));
    }
    auto [it, inserted] = seen.emplace(d.name->text, d);
    if (!inserted) {
      const Declaration& first = it->second;
      if (first.is_enum == d.is_enum) {
        return diag_.At(d.name->pos, "duplicate " + kind + " " + Quote(d.name->text) +
                                         " (first declared at " + FormatPos(first.name->pos) + ")");
      }
      return diag_.At(d.name->pos, kind + " " + Quote(d.name->text) + " has the same name as the " +
                                       (first.is_enum ? "enum" : "entity") + " declared at " +
                                       FormatPos(first.name->pos));
    }
  }
  for (const EnumDecl& e : decl_.enums) enums_.emplace(e.name.text, &e);
  for (size_t i = 0; i < decl_.entities.size(); ++i) {
    entities_.emplace(decl_.entities[i].name.text, i);
  }
  return Status::Ok();
}

Status Resolver::CheckEnumValues(const EnumDecl& decl) {
  if (decl.values.empty()) {
    return diag_.At(decl.name.pos, "enum " + decl.name.text + " has no values");
  }
  std::unordered_map<std::string_view, SourcePos> seen;
  for (const Name& v : decl.values) {
    for (std::string_view reserved : kReservedEnumValues) {
      if (v.text == reserved) {
        return diag_.At(v.pos, Quote(v.text) + " cannot be an enum value: @default(" + v.text +
                                   ") already means something else");
      }
    }
    auto [it, inserted] = seen.emplace(v.text, v.pos);
    if (!inserted) {
      return diag_.At(v.pos, "duplicate value " + Quote(v.text) + " in enum " + decl.name.text +
                                 " (first declared at " + FormatPos(it->second) + ")");
    }
  }
  return Status::Ok();
}

std::vector<std::string_view> Resolver::FieldNames(const EntityDecl& decl) const {
  std::vector<std::string_view> names;
  for (const MemberDecl& m : decl.members) {
    if (!m.type.collection && m.name.text != kIdMember) names.push_back(m.name.text);
  }
  return names;
}

std::vector<std::string_view> Resolver::EntityNames() const {
  std::vector<std::string_view> names;
  for (const EntityDecl& e : decl_.entities) names.push_back(e.name.text);
  return names;
}

Status Resolver::ResolveEntity(const EntityDecl& decl, Entity* out) {
  out->name = decl.name.text;
  out->pos = decl.name.pos;
  MemberIndex& index = members_[&decl - decl_.entities.data()];
  std::unordered_map<std::string_view, SourcePos> names;
  std::vector<SourcePos> field_index_pos;  // per field: its first @unique/@index
  bool has_id = false;
  for (const MemberDecl& m : decl.members) {
    auto [it, inserted] = names.emplace(m.name.text, m.name.pos);
    if (!inserted) {
      return diag_.At(m.name.pos, "duplicate field " + Quote(m.name.text) + " in entity " +
                                      decl.name.text + " (first declared at " +
                                      FormatPos(it->second) + ")");
    }
    if (m.name.text == kIdMember) {
      ORMDB_RETURN_IF_ERROR(ResolveIdMember(m, out));
      has_id = true;
    } else if (m.name.text == kVersionPseudoField) {
      return diag_.At(m.name.pos, Quote(kVersionPseudoField) +
                                      " is reserved: every entity has it (the version of a row's "
                                      "last change)");
    } else if (m.type.collection) {
      Collection c;
      SourcePos arg_pos;
      ORMDB_RETURN_IF_ERROR(ResolveCollection(decl, m, &c, &arg_pos));
      index.collections.emplace(m.name.text, out->collections.size());
      index.relation_arg_pos.push_back(arg_pos);
      out->collections.push_back(std::move(c));
    } else {
      Field f;
      SourcePos index_pos;
      ORMDB_RETURN_IF_ERROR(ResolveField(decl, m, &f, &index_pos));
      index.fields.emplace(m.name.text, out->fields.size());
      field_index_pos.push_back(index_pos);
      out->fields.push_back(std::move(f));
    }
  }
  if (!has_id) {
    return diag_.At(decl.name.pos, "entity " + decl.name.text +
                                       " has no 'id' member: add 'id: id' (assigned by the "
                                       "database) or 'id: uuid'");
  }
  ORMDB_RETURN_IF_ERROR(BuildIndexes(decl, field_index_pos, out));
  for (const EntityAttrDecl& attr : decl.attrs) {
    if (attr.spec->kind != AttrKind::kEntityCheck) continue;
    out->checks.push_back(attr.expr.text);
    out->check_positions.push_back(attr.expr.pos);
  }
  return Status::Ok();
}

Status Resolver::ResolveIdMember(const MemberDecl& member, Entity* out) {
  const TypeExpr& type = member.type;
  if (type.collection || (type.name.text != kIdType && type.name.text != "uuid")) {
    const std::string written = type.collection ? "[" + type.name.text + "]" : type.name.text;
    return diag_.At(type.name.pos,
                    "the 'id' member must have type 'id' or 'uuid', found " + Quote(written));
  }
  if (type.optional) return diag_.At(type.optional_pos, "the 'id' member cannot be optional");
  if (!member.attrs.empty()) {
    return diag_.At(member.attrs.front().pos, "the 'id' member takes no attributes, found '" +
                                                  member.attrs.front().Written() + "'");
  }
  out->uuid_id = type.name.text == "uuid";
  return Status::Ok();
}

Status Resolver::ResolveField(const EntityDecl& entity, const MemberDecl& member, Field* out,
                              SourcePos* index_pos) {
  out->name = member.name.text;
  out->pos = member.name.pos;
  out->optional = member.type.optional;
  ORMDB_RETURN_IF_ERROR(ResolveFieldType(member, out));
  for (const FieldAttr& attr : member.attrs) {
    ORMDB_RETURN_IF_ERROR(ApplyFieldAttribute(entity, attr, out, index_pos));
  }
  return Status::Ok();
}

Status Resolver::ResolveFieldType(const MemberDecl& member, Field* out) {
  const Name& type = member.type.name;
  if (type.text == kIdType) {
    return diag_.At(type.pos,
                    "type 'id' is only for the 'id' member; a reference to another entity is "
                    "written as the entity's name, e.g. 'owner: User'");
  }
  if (const BuiltinType* builtin = FindBuiltin(type.text)) {
    out->type = builtin->type;
  } else if (enums_.count(type.text) != 0) {
    out->type = FieldType::kEnum;
    out->enum_name = type.text;
  } else if (entities_.count(type.text) != 0) {
    out->type = FieldType::kRef;
    out->target = type.text;
  } else {
    std::vector<std::string_view> candidates;
    for (const BuiltinType& b : kBuiltinTypes) candidates.push_back(b.keyword);
    for (const EnumDecl& e : decl_.enums) candidates.push_back(e.name.text);
    for (const EntityDecl& e : decl_.entities) candidates.push_back(e.name.text);
    std::string hint = DidYouMean(type.text, candidates);
    if (hint.empty()) hint = AliasHint(type.text);
    return diag_.At(type.pos, "unknown type " + Quote(type.text) + hint);
  }
  return Status::Ok();
}

Status Resolver::ApplyFieldAttribute(const EntityDecl& entity, const FieldAttr& attr, Field* out,
                                     SourcePos* index_pos) {
  const std::string& entity_name = entity.name.text;
  switch (attr.spec->kind) {
    case AttrKind::kUnique:
    case AttrKind::kIndex:
      (attr.spec->kind == AttrKind::kUnique ? out->unique : out->indexed) = true;
      if (index_pos->line == 0) *index_pos = attr.pos;
      return Status::Ok();
    case AttrKind::kDefault:
      if (out->type == FieldType::kRef) {
        return diag_.At(attr.pos, "@default does not apply to " + DescribeField(entity_name, *out));
      }
      ORMDB_RETURN_IF_ERROR(CheckDefault(entity, *out, attr.literal));
      out->default_value = attr.literal;
      return Status::Ok();
    case AttrKind::kCheck:
      out->check = attr.arg.text;
      out->check_pos = attr.arg.pos;
      return Status::Ok();
    case AttrKind::kOnDelete:
      if (out->type != FieldType::kRef) {
        return diag_.At(attr.pos, "@on_delete applies to reference fields only; " +
                                      FieldIsA(entity_name, *out));
      }
      if (attr.on_delete == OnDelete::kSetNull && !out->optional) {
        return diag_.At(attr.arg.pos, "@on_delete(set_null) needs an optional reference: declare " +
                                          Qualified(entity_name, out->name) + " as '" +
                                          out->target + "?'");
      }
      out->on_delete = attr.on_delete;
      out->on_delete_declared = true;
      return Status::Ok();
    case AttrKind::kInverse:
    case AttrKind::kMany:
      return diag_.At(attr.pos, attr.Written() + " applies to collections ('[Entity]') only; " +
                                    FieldIsA(entity_name, *out));
    case AttrKind::kEntityIndex:
    case AttrKind::kEntityUnique:
    case AttrKind::kEntityCheck:
      break;  // never on a field: the parser reads '@@' attributes as members
  }
  return Status::Ok();
}

// Mirrors what the catalog can convert (ConvertDefault), so that a schema
// that parses is not refused later for a literal's kind.
Status Resolver::CheckDefault(const EntityDecl& entity, const Field& field,
                              const DefaultSpec& spec) {
  const std::string described = DescribeField(entity.name.text, field);
  const std::string is_a = FieldIsA(entity.name.text, field);
  auto does_not_fit = [&](std::string_view literal_kind) {
    return diag_.At(spec.pos,
                    "a " + std::string(literal_kind) + " default does not fit " + described);
  };
  const FieldType type = field.type;
  switch (spec.kind) {
    case DefaultSpec::Kind::kNone:
      return Status::Ok();
    case DefaultSpec::Kind::kNow:
      if (type == FieldType::kTimestamp) return Status::Ok();
      return diag_.At(spec.pos, "@default(now) needs a timestamp field; " + is_a);
    case DefaultSpec::Kind::kUuid:
      if (type == FieldType::kUuid) return Status::Ok();
      return diag_.At(spec.pos, "@default(uuid) needs a uuid field; " + is_a);
    case DefaultSpec::Kind::kNull:
      if (field.optional) return Status::Ok();
      return diag_.At(spec.pos, "@default(null) needs an optional field: declare " +
                                    Qualified(entity.name.text, field.name) + " as '" +
                                    TypeText(field) + "?'");
    case DefaultSpec::Kind::kBool:
      if (type == FieldType::kBool) return Status::Ok();
      return does_not_fit("bool");
    case DefaultSpec::Kind::kInt:
      return CheckIntegerDefault(entity, field, spec);
    case DefaultSpec::Kind::kFloat: {
      if (type != FieldType::kFloat64) return does_not_fit("float");
      double value = 0;
      const char* end = spec.text.data() + spec.text.size();
      auto [ptr, ec] = std::from_chars(spec.text.data(), end, value);
      if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
        return diag_.At(spec.pos,
                        "default " + Shorten(spec.text) + " is out of range for " + described);
      }
      return Status::Ok();
    }
    case DefaultSpec::Kind::kString:
      if (!TakesStringDefault(type)) return does_not_fit("string");
      if (type != FieldType::kEnum) return Status::Ok();
      [[fallthrough]];  // an enum's string default must name a value, as a bare name does
    case DefaultSpec::Kind::kIdent: {
      if (type != FieldType::kEnum) {
        std::string hint;
        if (TakesStringDefault(type)) hint = " (write \"" + Shorten(spec.text) + "\" for a string)";
        return diag_.At(spec.pos, "a bare name is a default for enum fields only; " + is_a + hint);
      }
      const EnumDecl& e = *enums_.at(field.enum_name);
      std::vector<std::string_view> values;
      for (const Name& v : e.values) {
        if (v.text == spec.text) return Status::Ok();
        values.push_back(v.text);
      }
      // A string default is shown as a string: it may hold anything, even a line break.
      const std::string shown = spec.kind == DefaultSpec::Kind::kString
                                    ? QuoteString(Shorten(spec.text))
                                    : Quote(spec.text);
      return diag_.At(spec.pos, shown + " is not a value of enum " + e.name.text +
                                    DidYouMean(spec.text, values));
    }
  }
  return Status::Ok();
}

Status Resolver::CheckIntegerDefault(const EntityDecl& entity, const Field& field,
                                     const DefaultSpec& spec) {
  const std::string described = DescribeField(entity.name.text, field);
  switch (field.type) {
    case FieldType::kInt32:
    case FieldType::kInt64:
    case FieldType::kFloat64:
    case FieldType::kTimestamp:
      break;
    default:
      return diag_.At(spec.pos, "an integer default does not fit " + described);
  }
  int64_t value = 0;
  const char* end = spec.text.data() + spec.text.size();
  auto [ptr, ec] = std::from_chars(spec.text.data(), end, value);
  const bool fits =
      ec == std::errc() && ptr == end &&
      (field.type != FieldType::kInt32 || (value >= std::numeric_limits<int32_t>::min() &&
                                           value <= std::numeric_limits<int32_t>::max()));
  if (!fits) {
    return diag_.At(spec.pos,
                    "default " + Shorten(spec.text) + " is out of range for " + described);
  }
  return Status::Ok();
}

Status Resolver::ResolveCollection(const EntityDecl& entity, const MemberDecl& member,
                                   Collection* out, SourcePos* arg_pos) {
  const std::string qualified = Qualified(entity.name.text, member.name.text);
  out->name = member.name.text;
  out->pos = member.name.pos;
  const Name& target = member.type.name;
  if (entities_.count(target.text) == 0) {
    if (FindBuiltin(target.text) != nullptr || target.text == kIdType) {
      return diag_.At(target.pos,
                      "a collection holds entities; " + Quote(target.text) + " is a builtin type");
    }
    if (enums_.count(target.text) != 0) {
      return diag_.At(target.pos,
                      "a collection holds entities; " + Quote(target.text) + " is an enum");
    }
    return diag_.At(target.pos, "unknown entity " + Quote(target.text) +
                                    DidYouMean(target.text, EntityNames()));
  }
  out->target = target.text;
  if (member.type.optional) {
    return diag_.At(member.type.optional_pos, "collection " + qualified +
                                                  " cannot be optional: an empty collection "
                                                  "already means none");
  }
  const FieldAttr* relation = nullptr;
  for (const FieldAttr& attr : member.attrs) {
    switch (attr.spec->kind) {
      case AttrKind::kInverse:
      case AttrKind::kMany:
        if (relation != nullptr) {
          return diag_.At(attr.pos, "collection " + qualified + " has both " + relation->Written() +
                                        " and " + attr.Written() + "; it takes one of them");
        }
        relation = &attr;
        break;
      case AttrKind::kOnDelete:
        return diag_.At(attr.pos, "@on_delete applies to reference fields only; " + qualified +
                                      " is a collection");
      default:
        return diag_.At(attr.pos, attr.Written() + " does not apply to collection " + qualified +
                                      ": a collection stores nothing");
    }
  }
  if (relation == nullptr) {
    return diag_.At(member.name.pos,
                    "collection " + qualified + " needs @inverse(field) or @many(relation)");
  }
  if (relation->spec->kind == AttrKind::kInverse) {
    out->kind = Collection::Kind::kInverse;
    out->inverse_field = relation->arg.text;
  } else {
    out->kind = Collection::Kind::kMany;
    out->edge = relation->arg.text;
  }
  *arg_pos = relation->arg.pos;
  return Status::Ok();
}

Status Resolver::ResolveIndexFields(const EntityDecl& decl, const EntityAttrDecl& attr,
                                    const Entity& entity, std::vector<std::string>* fields) {
  const std::string written = "@@" + std::string(attr.spec->name);
  const MemberIndex& index = members_[&decl - decl_.entities.data()];
  std::unordered_set<std::string_view> listed;
  for (const Name& n : attr.fields) {
    if (n.text == kIdMember) {
      return diag_.At(n.pos, written + " cannot list 'id': every index already ends with the id");
    }
    if (index.collections.count(n.text) != 0) {
      return diag_.At(n.pos, written + " cannot list collection " + Qualified(entity.name, n.text) +
                                 ": a collection stores nothing");
    }
    if (index.fields.count(n.text) == 0) {
      return diag_.At(n.pos, "entity " + entity.name + " has no field " + Quote(n.text) +
                                 DidYouMean(n.text, FieldNames(decl)));
    }
    if (!listed.insert(n.text).second) {
      return diag_.At(n.pos, "field " + Quote(n.text) + " appears twice in " + written + "(...)");
    }
    fields->push_back(n.text);
  }
  return Status::Ok();
}

Status Resolver::BuildIndexes(const EntityDecl& decl, const std::vector<SourcePos>& field_index_pos,
                              Entity* out) {
  // Uniqueness and field list, as one string key.
  std::unordered_map<std::string, SourcePos> defined;
  auto add = [&](Index index, std::string_view written) -> Status {
    std::string key(index.unique ? "u" : "i");
    for (const std::string& f : index.fields) key += '\0' + f;
    auto [it, inserted] = defined.emplace(std::move(key), index.pos);
    if (!inserted) {
      return diag_.At(index.pos, "duplicate index: " + std::string(written) +
                                     " repeats the index declared at " + FormatPos(it->second));
    }
    out->indexes.push_back(std::move(index));
    return Status::Ok();
  };
  for (size_t i = 0; i < out->fields.size(); ++i) {
    const Field& f = out->fields[i];
    if (!f.unique && !f.indexed) continue;
    Index index;
    index.fields = {f.name};
    index.unique = f.unique;
    index.pos = field_index_pos[i];
    ORMDB_RETURN_IF_ERROR(add(std::move(index), f.unique ? "@unique" : "@index"));
  }
  for (const EntityAttrDecl& attr : decl.attrs) {
    if (attr.spec->kind == AttrKind::kEntityCheck) continue;
    Index index;
    ORMDB_RETURN_IF_ERROR(ResolveIndexFields(decl, attr, *out, &index.fields));
    index.unique = attr.spec->kind == AttrKind::kEntityUnique;
    index.pos = attr.pos;
    const std::string written =
        "@@" + std::string(attr.spec->name) + "(" + JoinNames(index.fields) + ")";
    ORMDB_RETURN_IF_ERROR(add(std::move(index), written));
  }
  // Parent -> children is an index range on the reference (DESIGN.md §2);
  // an index that starts with the reference already serves it.
  std::unordered_set<std::string_view> leading;
  for (const Index& index : out->indexes) leading.insert(index.fields.front());
  std::vector<Index> automatic;
  for (const Field& f : out->fields) {
    if (f.type != FieldType::kRef || leading.count(f.name) != 0) continue;
    Index index;
    index.fields = {f.name};
    index.automatic = true;
    index.pos = f.pos;
    automatic.push_back(std::move(index));
  }
  for (Index& index : automatic) out->indexes.push_back(std::move(index));
  return Status::Ok();
}

Status Resolver::CheckInverses(const Schema& schema) {
  // "Entity.field" of a reference -> the collection that is its inverse.
  std::unordered_map<std::string, std::pair<std::string, SourcePos>> inverse_of;
  for (size_t e = 0; e < schema.entities.size(); ++e) {
    const Entity& entity = schema.entities[e];
    for (size_t c = 0; c < entity.collections.size(); ++c) {
      const Collection& coll = entity.collections[c];
      if (coll.kind != Collection::Kind::kInverse) continue;
      const SourcePos at = members_[e].relation_arg_pos[c];
      const size_t t = entities_.at(coll.target);
      const Entity& target = schema.entities[t];
      const MemberIndex& target_members = members_[t];
      const std::string written = "@inverse(" + coll.inverse_field + ")";
      auto field_it = target_members.fields.find(coll.inverse_field);
      if (field_it == target_members.fields.end()) {
        if (target_members.collections.count(coll.inverse_field) != 0) {
          return diag_.At(at, written + " must name a reference field of " + target.name + "; " +
                                  Qualified(target.name, coll.inverse_field) + " is a collection");
        }
        return diag_.At(at, "entity " + target.name + " has no field " + Quote(coll.inverse_field) +
                                DidYouMean(coll.inverse_field, FieldNames(decl_.entities[t])));
      }
      const Field& field = target.fields[field_it->second];
      if (field.type != FieldType::kRef || field.target != entity.name) {
        return diag_.At(at, written + " must name a reference to " + entity.name + "; " +
                                FieldIsA(target.name, field));
      }
      const std::string qualified = Qualified(entity.name, coll.name);
      auto [it, inserted] =
          inverse_of.emplace(Qualified(target.name, field.name), std::pair(qualified, coll.pos));
      if (!inserted) {
        return diag_.At(at, written + ": " + Qualified(target.name, field.name) +
                                " already has the inverse collection " + it->second.first +
                                " (declared at " + FormatPos(it->second.second) + ")");
      }
    }
  }
  return Status::Ok();
}

Status Resolver::BuildEdges(Schema* schema) {
  struct Side {
    size_t entity;
    size_t collection;
  };
  // Relations in order of first appearance; the first side is the forward one.
  std::vector<std::vector<Side>> relations;
  std::unordered_map<std::string_view, size_t> relation_of;  // views into *schema's collections
  auto describe = [&](const Side& s) {
    const Entity& e = schema->entities[s.entity];
    const Collection& c = e.collections[s.collection];
    return Qualified(e.name, c.name) + " (" + FormatPos(c.pos) + ")";
  };
  for (size_t e = 0; e < schema->entities.size(); ++e) {
    const std::vector<Collection>& collections = schema->entities[e].collections;
    for (size_t c = 0; c < collections.size(); ++c) {
      if (collections[c].kind != Collection::Kind::kMany) continue;
      auto [it, inserted] = relation_of.emplace(collections[c].edge, relations.size());
      if (inserted) relations.emplace_back();
      std::vector<Side>& sides = relations[it->second];
      if (sides.size() == 2) {
        return diag_.At(members_[e].relation_arg_pos[c],
                        "@many(" + collections[c].edge + ") already joins " + describe(sides[0]) +
                            " and " + describe(sides[1]) +
                            "; a relation joins exactly two collections");
      }
      sides.push_back({e, c});
    }
  }
  for (const std::vector<Side>& sides : relations) {
    const Entity& from = schema->entities[sides[0].entity];
    const Collection& forward = from.collections[sides[0].collection];
    if (sides.size() == 1) {
      return diag_.At(members_[sides[0].entity].relation_arg_pos[sides[0].collection],
                      "@many(" + forward.edge + ") on " + Qualified(from.name, forward.name) +
                          " has no other side: entity " + forward.target +
                          " needs a collection '[" + from.name + "] @many(" + forward.edge + ")'");
    }
    const Entity& to = schema->entities[sides[1].entity];
    const Collection& backward = to.collections[sides[1].collection];
    if (forward.target != to.name || backward.target != from.name) {
      return diag_.At(members_[sides[1].entity].relation_arg_pos[sides[1].collection],
                      "@many(" + forward.edge + ") joins collections that do not point at each " +
                          "other: " + describe(sides[0]) + " is [" + forward.target + "] in " +
                          from.name + ", " + Qualified(to.name, backward.name) + " is [" +
                          backward.target + "] in " + to.name);
    }
    EdgeRelation edge;
    edge.name = forward.edge;
    edge.from_entity = from.name;
    edge.from_collection = forward.name;
    edge.to_entity = to.name;
    edge.to_collection = backward.name;
    schema->edges.push_back(std::move(edge));
  }
  return Status::Ok();
}

}  // namespace

std::string_view BuiltinTypeKeyword(FieldType type) {
  for (const BuiltinType& b : kBuiltinTypes) {
    if (b.type == type) return b.keyword;
  }
  assert(false && "BuiltinTypeKeyword: an enum or reference type has no keyword");
  return "";
}

std::string QuoteString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string_view OnDeleteKeyword(OnDelete action) {
  for (const OnDeleteSpec& spec : kOnDeleteActions) {
    if (spec.action == action) return spec.keyword;
  }
  return "restrict";
}

Result<Schema> ParseSchema(std::string_view text, std::string_view file_name) {
  const Diagnostics diag(file_name);
  if (text.size() > kMaxSchemaTextBytes) {
    return diag.At({1, 1}, "schema text is " + std::to_string(text.size()) +
                               " bytes; the limit is " + std::to_string(kMaxSchemaTextBytes));
  }
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return diag.At(PositionOf(text, bad), "invalid UTF-8 (byte " +
                                              HexByte(static_cast<unsigned char>(text[bad])) +
                                              "): schema text must be UTF-8");
  }
  SchemaDecl decl;
  ORMDB_RETURN_IF_ERROR(Parser(text, diag).Parse(&decl));
  Schema schema;
  ORMDB_RETURN_IF_ERROR(Resolver(decl, diag).Resolve(&schema));
  return schema;
}

}  // namespace ormdb::catalog
