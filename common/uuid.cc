#include "common/uuid.h"

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <random>

namespace ormdb {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsHyphenPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

Status UuidError(std::string_view text, std::string_view reason) {
  std::string m = "invalid uuid " + QuoteForMessage(text) + ": ";
  m += reason;
  return InvalidArgument(std::move(m));
}

// The generator of one thread, with the process it was seeded in.
struct ThreadRng {
  std::mt19937_64 engine;
  pid_t pid = 0;
};

void Seed(ThreadRng* rng) {
  std::random_device device;
  std::seed_seq seq{device(), device(), device(), device(), device(), device(), device(), device()};
  rng->engine.seed(seq);
  rng->pid = getpid();
}

}  // namespace

Result<Uuid> ParseUuid(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected 36 characters: 8-4-4-4-12 hex digits separated by '-'";
  if (text.size() != 36) {
    return UuidError(text, std::string(kExpected) + ", found " + std::to_string(text.size()));
  }
  Uuid uuid;
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (IsHyphenPosition(i)) {
      if (text[i] != '-') {
        return UuidError(text, "expected '-' at column " + std::to_string(i + 1));
      }
      ++i;
      continue;
    }
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);  // i + 1 is never a hyphen position nor past the end
    if (hi < 0 || lo < 0) {
      return UuidError(text,
                       "expected a hex digit at column " + std::to_string(hi < 0 ? i + 1 : i + 2));
    }
    uuid.bytes[byte++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return uuid;
}

std::string FormatUuid(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < uuid.bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uuid.bytes[i] >> 4]);
    out.push_back(kHex[uuid.bytes[i] & 0xF]);
  }
  return out;
}

Uuid RandomUuidV4() {
  // One generator per thread: no lock on the insert path. Checking the pid
  // costs a syscall but keeps a forked child from repeating its parent's ids.
  thread_local std::optional<ThreadRng> rng;
  if (!rng.has_value()) {
    rng.emplace();
    Seed(&*rng);
  } else if (rng->pid != getpid()) {
    Seed(&*rng);
  }
  Uuid uuid;
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t bits = rng->engine();
    for (size_t k = 0; k < 8; ++k) uuid.bytes[i + k] = static_cast<uint8_t>(bits >> (8 * k));
  }
  uuid.bytes[6] = static_cast<uint8_t>((uuid.bytes[6] & 0x0F) | 0x40);  // version 4
  uuid.bytes[8] = static_cast<uint8_t>((uuid.bytes[8] & 0x3F) | 0x80);  // variant 10xx
  return uuid;
}

}  // namespace ormdb
