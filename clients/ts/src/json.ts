// JSON text exactly as the C++ renderers write it (common/json.cc,
// common/timestamp.cc, query/result_render.cc), so a result's toJSONText()
// is byte for byte the server's and the C++ client's ToJson().

import type { Int64 } from "./capnp.js";

// A string as AppendJsonString writes it: ", \ and control characters
// escaped, everything else (UTF-8) as it is. JSON.stringify does the same.
export function jsonString(s: string): string {
  return JSON.stringify(s);
}

// A double as std::to_chars writes its shortest form (fixed or scientific,
// whichever is shorter, fixed on a tie; a two-digit exponent at least),
// with ".0" added when it would read back as an integer; null when not finite.
export function jsonDouble(d: number): string {
  if (!Number.isFinite(d)) return "null";
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const sign = d < 0 ? "-" : "";
  const [mantissa, exp] = Math.abs(d).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const e = Number(exp);
  const n = digits.length;
  const absE = Math.abs(e);
  const sci = digits[0] + (n > 1 ? "." + digits.slice(1) : "") + "e" + (e < 0 ? "-" : "+") +
    (absE < 10 ? "0" : "") + absE;
  let fixed: string;
  if (e >= n - 1) fixed = digits + "0".repeat(e - (n - 1));
  else if (e >= 0) fixed = digits.slice(0, e + 1) + "." + digits.slice(e + 1);
  else fixed = "0." + "0".repeat(-e - 1) + digits;
  const s = fixed.length <= sci.length ? fixed : sci;
  return sign + (s.includes(".") || s.includes("e") ? s : s + ".0");
}

const MICROS_PER_DAY = 86400000000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

// Days since 1970-01-01 to the proleptic Gregorian date (H. Hinnant's civil_from_days).
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

// Microseconds since the epoch as RFC 3339 in UTC: fractional seconds only
// when non-zero, 3 digits when whole milliseconds, else 6.
export function formatTimestamp(micros: Int64): string {
  let days: number;
  let rest: number;
  if (typeof micros === "bigint") {
    const perDay = BigInt(MICROS_PER_DAY);
    let d = micros / perDay;
    let r = micros % perDay;
    if (r < 0n) {
      r += perDay;
      d -= 1n;
    }
    days = Number(d);
    rest = Number(r);
  } else {
    days = Math.floor(micros / MICROS_PER_DAY);
    rest = micros - days * MICROS_PER_DAY;
  }
  const [y, mo, d] = civilFromDays(days);
  const secondsOfDay = Math.floor(rest / 1000000);
  const fraction = rest % 1000000;
  let out = `${y < 0 ? "-" + pad(-y, 4) : pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T` +
    `${pad(Math.floor(secondsOfDay / 3600), 2)}:${pad(Math.floor(secondsOfDay / 60) % 60, 2)}:` +
    `${pad(secondsOfDay % 60, 2)}`;
  if (fraction !== 0) out += fraction % 1000 === 0 ? "." + pad(fraction / 1000, 3) : "." + pad(fraction, 6);
  return out + "Z";
}

export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

// A json field's text re-serialized as the engine does (ParseJson, then
// ToJson): no whitespace, members in their order, integers that fit int64
// as integers, other numbers as doubles; the text quoted as a string when
// it does not parse.
export function reserializeJson(text: string): string {
  const p = new JsonRewriter(text);
  try {
    p.ws();
    const out = p.value(0);
    p.ws();
    if (p.pos !== text.length) throw new Error("trailing text");
    return out;
  } catch {
    return jsonString(text);
  }
}

class JsonRewriter {
  pos = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.pos < this.s.length && " \t\n\r".includes(this.s[this.pos])) this.pos++;
  }

  value(depth: number): string {
    if (depth > 512) throw new Error("too deep");
    const s = this.s;
    const c = s[this.pos];
    if (c === "{") {
      this.pos++;
      this.ws();
      const parts: string[] = [];
      if (s[this.pos] === "}") {
        this.pos++;
        return "{}";
      }
      for (;;) {
        this.ws();
        if (s[this.pos] !== '"') throw new Error("expected a key");
        const key = this.string();
        this.ws();
        if (s[this.pos++] !== ":") throw new Error("expected ':'");
        this.ws();
        parts.push(key + ":" + this.value(depth + 1));
        this.ws();
        const d = s[this.pos++];
        if (d === "}") return "{" + parts.join(",") + "}";
        if (d !== ",") throw new Error("expected ',' or '}'");
      }
    }
    if (c === "[") {
      this.pos++;
      this.ws();
      const parts: string[] = [];
      if (s[this.pos] === "]") {
        this.pos++;
        return "[]";
      }
      for (;;) {
        this.ws();
        parts.push(this.value(depth + 1));
        this.ws();
        const d = s[this.pos++];
        if (d === "]") return "[" + parts.join(",") + "]";
        if (d !== ",") throw new Error("expected ',' or ']'");
      }
    }
    if (c === '"') return this.string();
    for (const word of ["true", "false", "null"]) {
      if (s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return word;
      }
    }
    return this.number();
  }

  string(): string {
    // A JSON string literal, decoded by JSON.parse and written again.
    const start = this.pos;
    this.pos++;
    while (this.pos < this.s.length && this.s[this.pos] !== '"') {
      if (this.s[this.pos] === "\\") this.pos++;
      this.pos++;
    }
    if (this.pos >= this.s.length) throw new Error("unterminated string");
    this.pos++;
    return jsonString(JSON.parse(this.s.slice(start, this.pos)) as string);
  }

  number(): string {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m || m[0].length === 0) throw new Error("expected a value");
    this.pos += m[0].length;
    const literal = m[0];
    if (m[2] === undefined && m[3] === undefined) {
      const v = BigInt(literal);
      if (v >= INT64_MIN && v <= INT64_MAX) return v.toString();
    }
    return jsonDouble(Number(literal));
  }
}
