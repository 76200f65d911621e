#include "common/like_pattern.h"

#include <algorithm>
#include <cstdint>

#include "common/utf8.h"

namespace ormdb {
namespace {

// The characters of `text` are UTF-8 sequences; a byte that starts none is
// a character of its own.
size_t CharLength(std::string_view text, size_t at) {
  const size_t n = Utf8SequenceLength(text, at);
  return n == 0 ? 1 : std::min(n, text.size() - at);
}

}  // namespace

bool LikePattern::EndsInLoneEscape(std::string_view pattern) {
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) return true;
      i += 2;
    } else {
      ++i;
    }
  }
  return false;
}

LikePattern::LikePattern(std::string_view p) {
  bool in_prefix = true;
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '%' || c == '_') {
      in_prefix = false;
      ++i;
      if (c == '%' && !tokens_.empty() && tokens_.back().kind == Token::Kind::kAny) continue;
      tokens_.push_back(Token{c == '%' ? Token::Kind::kAny : Token::Kind::kOne, ""});
      continue;
    }
    if (c == '\\' && i + 1 < p.size()) ++i;  // the next character, literally
    const size_t length = CharLength(p, i);
    if (tokens_.empty() || tokens_.back().kind != Token::Kind::kText) {
      tokens_.push_back(Token{Token::Kind::kText, ""});
    }
    tokens_.back().text.append(p, i, length);
    if (in_prefix) prefix_.append(p, i, length);
    i += length;
  }
}

bool LikePattern::Matches(std::string_view s) const {
  size_t t = 0, p = 0;
  size_t star_t = SIZE_MAX, star_p = 0;
  while (t < tokens_.size() || p < s.size()) {
    if (t < tokens_.size()) {
      const Token& tok = tokens_[t];
      if (tok.kind == Token::Kind::kAny) {
        star_t = t++;
        star_p = p;
        continue;
      }
      if (tok.kind == Token::Kind::kOne && p < s.size()) {
        p += CharLength(s, p);
        ++t;
        continue;
      }
      if (tok.kind == Token::Kind::kText && s.substr(p).starts_with(tok.text)) {
        p += tok.text.size();
        ++t;
        continue;
      }
    }
    // Let the last '%' swallow one more character and retry after it.
    if (star_t != SIZE_MAX && star_p < s.size()) {
      star_p += CharLength(s, star_p);
      p = star_p;
      t = star_t + 1;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace ormdb
