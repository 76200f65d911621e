// The schema language in three stages: a lexer (text -> tokens), a
// recursive-descent parser (tokens -> declarations, syntax only) and a
// resolver (declarations -> Schema: names, types, attributes, relations).
// Keeping resolution out of the parser lets a declaration refer to one that
// comes later in the file.
//
// This file holds the parser and ParseSchema; the lexer is in
// sdl_lexer.cc, the declarations in sdl_ast.h, the resolver in
// sdl_resolver.cc and sdl_relations.cc.
#include "catalog/sdl_parser.h"

#include <string>
#include <vector>

#include "catalog/sdl_ast.h"
#include "common/json.h"
#include "common/utf8.h"

namespace ormdb::catalog::sdl {
namespace {

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
    case ArgForm::kOptionalNameList:
      if (tok_.kind != Tok::kLParen || tok_.newline_before) return Status::Ok();
      return ParseNameList(written, &out->names);
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

}  // namespace

Status ParseDeclarations(std::string_view text, const Diagnostics& diag, SchemaDecl* out) {
  return Parser(text, diag).Parse(out);
}

}  // namespace ormdb::catalog::sdl

namespace ormdb::catalog {

using sdl::Diagnostics;
using sdl::SchemaDecl;

std::string QuoteString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string_view OnDeleteKeyword(OnDelete action) {
  for (const sdl::OnDeleteSpec& spec : sdl::kOnDeleteActions) {
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
  ORMDB_RETURN_IF_ERROR(sdl::ParseDeclarations(text, diag, &decl));
  Schema schema;
  ORMDB_RETURN_IF_ERROR(sdl::ResolveDeclarations(decl, diag, &schema));
  return schema;
}

}  // namespace ormdb::catalog
