// UTF-8 primitives shared by every parser of untrusted text (JSON, the schema
// language, the query language).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ormdb {

// A byte that continues a multi-byte sequence (10xxxxxx).
inline bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence starting at s[i] (per Unicode
// table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or 0
// when the bytes there are not one. REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// The offset of the first byte that does not start a well-formed sequence,
// or npos when all of `s` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);

// Appends code point `cp` encoded as UTF-8. REQUIRES: cp <= 0x10FFFF and not
// a surrogate.
void AppendUtf8(std::string* out, uint32_t cp);

// "0x1f": a byte as it is named in error messages.
std::string HexByte(unsigned char c);

}  // namespace ormdb
