// The `like` pattern of query `where` and of schema @check: '%' matches any
// run of characters, '_' exactly one character (a UTF-8 sequence, or one
// byte that is not part of a valid one), and '\' makes the next character
// literal. Matching is case-sensitive, on bytes, and never exponential:
// one backtrack point (the last '%'), O(|text| * |pattern|) at worst.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ormdb {

class LikePattern {
 public:
  // A '\' with nothing after it escapes nothing: the languages refuse such
  // a pattern (each in its own words) before compiling it.
  static bool EndsInLoneEscape(std::string_view pattern);

  // REQUIRES: !EndsInLoneEscape(pattern).
  explicit LikePattern(std::string_view pattern);

  bool Matches(std::string_view text) const;
  // The literal text every match starts with (up to the first wildcard).
  const std::string& prefix() const { return prefix_; }

 private:
  struct Token {
    enum class Kind : uint8_t { kText, kOne, kAny } kind;
    std::string text;  // kText
  };
  std::vector<Token> tokens_;
  std::string prefix_;
};

}  // namespace ormdb
