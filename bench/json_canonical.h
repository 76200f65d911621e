// A canonical form of a JSON text, to compare a fetch result from ormdb with
// the same result built another way (bench/fetch_bench.cc,
// bench/imdb_bench.cc): no whitespace, strings decoded and re-escaped one
// way (AppendJsonString), member order kept (the order is part of a
// result), numbers as written, and the value of a member whose name ends in
// "@next" reduced to null or true (a cursor is opaque; what matters is
// whether more children remain).
//
// A float64 (an average) is printed differently by each side ("3.3333333333333335"
// from ormdb, "3.33333333333333" from SQLite's JSON functions), so numbers are
// kept as written and CanonicalDifference compares two canonical texts with a
// tolerance for such numbers.
//
// Thread-safety: a Canonicalizer is used by one thread; it borrows `text`.
// CanonicalDifference is a pure function.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "bench/blog_data.h"  // AppendJsonString

namespace ormdb::bench {

class Canonicalizer {
 public:
  explicit Canonicalizer(std::string_view text) : s_(text) {}

  // The whole text.
  bool Document(std::string* out) {
    if (!Value(out)) return false;
    Ws();
    return pos_ == s_.size() || Fail("trailing text");
  }

  // The value of member `key` of the top-level object.
  bool Member(std::string_view key, std::string* out) {
    Ws();
    if (!Eat('{')) return Fail("expected an object");
    Ws();
    bool found = false;
    if (Eat('}')) return found || Fail("no member " + std::string(key));
    for (;;) {
      std::string name, value;
      Ws();
      if (!String(&name)) return false;
      Ws();
      if (!Eat(':')) return Fail("expected ':'");
      if (!Value(&value)) return false;
      if (name == key) {
        *out = std::move(value);
        found = true;
      }
      Ws();
      if (Eat(',')) continue;
      if (Eat('}')) break;
      return Fail("expected ',' or '}'");
    }
    return found || Fail("no member " + std::string(key));
  }

  const std::string& error() const { return error_; }

 private:
  bool Fail(const std::string& what) {
    error_ = what + " at offset " + std::to_string(pos_);
    return false;
  }
  void Ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool Hex4(uint32_t* v) {
    if (pos_ + 4 > s_.size()) return Fail("short \\u escape");
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') {
        *v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        *v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        *v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad \\u escape");
      }
    }
    return true;
  }
  bool String(std::string* decoded) {
    if (!Eat('"')) return Fail("expected a string");
    for (;;) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        *decoded += c;
        continue;
      }
      if (pos_ >= s_.size()) return Fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *decoded += e;
          break;
        case 'b':
          *decoded += '\b';
          break;
        case 'f':
          *decoded += '\f';
          break;
        case 'n':
          *decoded += '\n';
          break;
        case 'r':
          *decoded += '\r';
          break;
        case 't':
          *decoded += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 1 < s_.size() && s_[pos_] == '\\' &&
              s_[pos_ + 1] == 'u') {
            pos_ += 2;
            uint32_t lo;
            if (!Hex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return Fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(decoded, cp);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
  }
  bool Value(std::string* out) {
    Ws();
    if (pos_ >= s_.size()) return Fail("unexpected end");
    char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      *out += '{';
      Ws();
      if (Eat('}')) {
        *out += '}';
        return true;
      }
      for (;;) {
        std::string name;
        Ws();
        if (!String(&name)) return false;
        Ws();
        if (!Eat(':')) return Fail("expected ':'");
        AppendJsonString(out, name);
        *out += ':';
        if (name.size() >= 5 && name.compare(name.size() - 5, 5, "@next") == 0) {
          std::string v;
          if (!Value(&v)) return false;
          *out += v == "null" ? "null" : "true";
        } else if (!Value(out)) {
          return false;
        }
        Ws();
        if (Eat(',')) {
          *out += ',';
          continue;
        }
        if (Eat('}')) {
          *out += '}';
          return true;
        }
        return Fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++pos_;
      *out += '[';
      Ws();
      if (Eat(']')) {
        *out += ']';
        return true;
      }
      for (;;) {
        if (!Value(out)) return false;
        Ws();
        if (Eat(',')) {
          *out += ',';
          continue;
        }
        if (Eat(']')) {
          *out += ']';
          return true;
        }
        return Fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      std::string s;
      if (!String(&s)) return false;
      AppendJsonString(out, s);
      return true;
    }
    for (std::string_view lit : {"true", "false", "null"}) {
      if (s_.substr(pos_, lit.size()) == lit) {
        pos_ += lit.size();
        *out += lit;
        return true;
      }
    }
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
            s_[pos_] == '+' || s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
    }
    if (pos_ == start) return Fail("unexpected character");
    *out += s_.substr(start, pos_ - start);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

// Where two canonical texts start to differ: an offset into each (they part
// ways after two numbers of different lengths that compared equal).
struct CanonicalMismatch {
  size_t a = 0, b = 0;
};

// Compares two outputs of Canonicalizer: equal (nullopt) when they are the
// same text, except that two numbers of which either has a fraction or an
// exponent ("4.0" and "4", "3.3333333333333335" and "3.33333333333333") are
// equal when they differ by at most `rel_tol` times the larger magnitude.
// Integers (ids, ratings, years) and strings compare exactly, as text.
inline std::optional<CanonicalMismatch> CanonicalDifference(std::string_view a, std::string_view b,
                                                            double rel_tol) {
  auto is_number_char = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E';
  };
  auto number_end = [&](std::string_view s, size_t from) {
    while (from < s.size() && is_number_char(s[from])) ++from;
    return from;
  };
  auto is_float = [](std::string_view n) {
    return n.find_first_of(".eE") != std::string_view::npos;
  };
  auto close = [&](std::string_view x, std::string_view y) {
    double u = std::strtod(std::string(x).c_str(), nullptr);
    double v = std::strtod(std::string(y).c_str(), nullptr);
    return std::fabs(u - v) <= rel_tol * std::max(std::fabs(u), std::fabs(v));
  };
  auto starts_number = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  };
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const char c = a[i];
    if (c != b[j] && !(starts_number(c) && starts_number(b[j]))) return CanonicalMismatch{i, j};
    if (c == '"') {  // a string, through its closing quote, byte for byte
      for (++i, ++j;; ++i, ++j) {
        if (i >= a.size() || j >= b.size() || a[i] != b[j]) return CanonicalMismatch{i, j};
        if (a[i] == '\\') {
          ++i, ++j;
          if (i >= a.size() || j >= b.size() || a[i] != b[j]) return CanonicalMismatch{i, j};
        } else if (a[i] == '"') {
          break;
        }
      }
      ++i, ++j;
    } else if (starts_number(c)) {  // a number (outside strings, only numbers hold digits)
      size_t ie = number_end(a, i), je = number_end(b, j);
      std::string_view x = a.substr(i, ie - i), y = b.substr(j, je - j);
      if (x != y && (!(is_float(x) || is_float(y)) || !close(x, y))) {
        return CanonicalMismatch{i, j};
      }
      i = ie, j = je;
    } else {
      ++i, ++j;
    }
  }
  if (i != a.size() || j != b.size()) return CanonicalMismatch{i, j};
  return std::nullopt;
}

}  // namespace ormdb::bench
