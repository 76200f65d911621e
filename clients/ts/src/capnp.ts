// A Cap'n Proto reader that reads a flat message where it lies in the
// received buffer (no copy), and a single-segment builder for requests.
// Only what protocol/ormdb.capnp uses: structs, unions, Text, Data, and
// lists of primitives, pointers and structs. Field offsets are the ones
// `capnp compile -ocapnp protocol/ormdb.capnp` prints (written where they
// are read, in index.ts and result.ts).

const TWO_32 = 4294967296;

// A 64-bit integer as a number when it is exact, else as a bigint.
export type Int64 = number | bigint;

export class Message {
  readonly buf: Buffer;
  readonly dv: DataView;
  // Absolute byte offsets of each segment's start and end in `buf`.
  readonly segStart: number[] = [];
  readonly segEnd: number[] = [];

  // `buf` holds the flat form: segment table, then the segments.
  constructor(buf: Buffer) {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.byteLength < 8) throw new Error("a Cap'n Proto message shorter than its segment table");
    const count = this.dv.getUint32(0, true) + 1;
    if (count > 512) throw new Error(`a Cap'n Proto message with ${count} segments`);
    let offset = 4 + count * 4;
    offset += offset % 8;
    for (let i = 0; i < count; i++) {
      const words = this.dv.getUint32(4 + i * 4, true);
      const end = offset + words * 8;
      if (end > buf.byteLength) throw new Error("a Cap'n Proto segment past the message's end");
      this.segStart.push(offset);
      this.segEnd.push(end);
      offset = end;
    }
  }

  root(): Struct {
    const s = this.resolve(0, this.segStart[0]);
    return s === null ? EMPTY_STRUCT(this) : this.structAt(s);
  }

  // Follows the pointer at absolute byte `at` in segment `seg` (far pointers
  // included). Returns the target's segment, its absolute content offset and
  // the tag word's two halves, or null for a null pointer.
  resolve(seg: number, at: number): Target | null {
    const dv = this.dv;
    let lo = dv.getUint32(at, true);
    let hi = dv.getUint32(at + 4, true);
    if (lo === 0 && hi === 0) return null;
    if ((lo & 3) === 2) {
      const doubleFar = (lo & 4) !== 0;
      const padSeg = hi;
      if (padSeg >= this.segStart.length) throw new Error("a far pointer to a missing segment");
      const pad = this.segStart[padSeg] + (lo >>> 3) * 8;
      if (!doubleFar) {
        lo = dv.getUint32(pad, true);
        hi = dv.getUint32(pad + 4, true);
        return this.near(padSeg, pad, lo, hi);
      }
      const farLo = dv.getUint32(pad, true);
      const farHi = dv.getUint32(pad + 4, true);
      const contentSeg = farHi;
      if (contentSeg >= this.segStart.length) throw new Error("a far pointer to a missing segment");
      lo = dv.getUint32(pad + 8, true);
      hi = dv.getUint32(pad + 12, true);
      return { seg: contentSeg, at: this.segStart[contentSeg] + (farLo >>> 3) * 8, lo, hi };
    }
    return this.near(seg, at, lo, hi);
  }

  private near(seg: number, at: number, lo: number, hi: number): Target {
    const offsetWords = (lo | 0) >> 2;  // signed 30 bits
    return { seg, at: at + 8 + offsetWords * 8, lo, hi };
  }

  structAt(t: Target): Struct {
    if ((t.lo & 3) !== 0) throw new Error("expected a struct pointer");
    const dataWords = t.hi & 0xffff;
    const ptrs = t.hi >>> 16;
    if (t.at < this.segStart[t.seg] || t.at + (dataWords + ptrs) * 8 > this.segEnd[t.seg]) {
      throw new Error("a struct outside its segment");
    }
    return new Struct(this, t.seg, t.at, dataWords * 8, ptrs);
  }

  listAt(t: Target): List {
    if ((t.lo & 3) !== 1) throw new Error("expected a list pointer");
    if (t.at < this.segStart[t.seg]) throw new Error("a list outside its segment");
    const size = t.hi & 7;
    let count = t.hi >>> 3;
    if (size === 7) {
      // Inline composite: a tag word, then `count` structs.
      const words = count;
      const tagLo = this.dv.getUint32(t.at, true);
      const tagHi = this.dv.getUint32(t.at + 4, true);
      count = tagLo >>> 2;
      const dataWords = tagHi & 0xffff;
      const ptrs = tagHi >>> 16;
      if (t.at + 8 + words * 8 > this.segEnd[t.seg]) throw new Error("a list past its segment");
      return new List(this, t.seg, t.at + 8, count, 7, (dataWords + ptrs) * 8, dataWords * 8, ptrs);
    }
    const bits = [0, 1, 8, 16, 32, 64, 64, 0][size];
    if (t.at + Math.ceil((count * bits) / 64) * 8 > this.segEnd[t.seg]) {
      throw new Error("a list past its segment");
    }
    return new List(this, t.seg, t.at, count, size, bits / 8, 0, 0);
  }
}

export interface Target {
  seg: number;
  at: number;  // absolute byte offset of the content
  lo: number;
  hi: number;
}

function EMPTY_STRUCT(m: Message): Struct {
  return new Struct(m, 0, 0, 0, 0);
}

export class Struct {
  constructor(
    readonly m: Message,
    readonly seg: number,
    readonly data: number,  // absolute byte offset of the data section
    readonly dataBytes: number,
    readonly ptrCount: number,
  ) {}

  u8(byte: number): number {
    return byte < this.dataBytes ? this.m.dv.getUint8(this.data + byte) : 0;
  }
  u16(byte: number): number {
    return byte + 2 <= this.dataBytes ? this.m.dv.getUint16(this.data + byte, true) : 0;
  }
  u32(byte: number): number {
    return byte + 4 <= this.dataBytes ? this.m.dv.getUint32(this.data + byte, true) : 0;
  }
  i32(byte: number): number {
    return byte + 4 <= this.dataBytes ? this.m.dv.getInt32(this.data + byte, true) : 0;
  }
  // An unsigned 64-bit value as a number (versions, counts, sizes: below 2^53).
  u64(byte: number): number {
    if (byte + 8 > this.dataBytes) return 0;
    const dv = this.m.dv;
    return dv.getUint32(this.data + byte + 4, true) * TWO_32 + dv.getUint32(this.data + byte, true);
  }
  // An unsigned 64-bit value, exact.
  u64big(byte: number): bigint {
    return byte + 8 <= this.dataBytes ? this.m.dv.getBigUint64(this.data + byte, true) : 0n;
  }
  bool(bit: number): boolean {
    const byte = bit >>> 3;
    return byte < this.dataBytes && (this.m.dv.getUint8(this.data + byte) & (1 << (bit & 7))) !== 0;
  }

  private target(i: number): Target | null {
    if (i >= this.ptrCount) return null;
    return this.m.resolve(this.seg, this.data + this.dataBytes + i * 8);
  }
  has(i: number): boolean {
    return this.target(i) !== null;
  }
  struct(i: number): Struct {
    const t = this.target(i);
    return t === null ? EMPTY_STRUCT(this.m) : this.m.structAt(t);
  }
  list(i: number): List {
    const t = this.target(i);
    return t === null ? EMPTY_LIST(this.m) : this.m.listAt(t);
  }
  text(i: number): string {
    return this.list(i).asText();
  }
  // A Data field: a view into the message, not a copy.
  bytes(i: number): Buffer {
    return this.list(i).asBytes();
  }
}

function EMPTY_LIST(m: Message): List {
  return new List(m, 0, 0, 0, 0, 0, 0, 0);
}

export class List {
  constructor(
    readonly m: Message,
    readonly seg: number,
    readonly at: number,  // absolute byte offset of element 0
    readonly length: number,
    readonly size: number,  // the element size code (7: structs)
    readonly step: number,  // bytes per element (0 for bits)
    readonly dataBytes: number,  // structs: data section
    readonly ptrCount: number,  // structs: pointers
  ) {}

  // The list's elements as fixed-width numbers; for lists of the expected width only.
  u32(i: number): number {
    return this.m.dv.getUint32(this.at + i * 4, true);
  }
  f64(i: number): number {
    return this.m.dv.getFloat64(this.at + i * 8, true);
  }
  // A signed 64-bit element: a number when exact, else a bigint.
  i64(i: number): Int64 {
    const dv = this.m.dv;
    const at = this.at + i * 8;
    const hi = dv.getInt32(at + 4, true);
    if (hi >= -0x200000 && hi < 0x200000) return hi * TWO_32 + dv.getUint32(at, true);
    return dv.getBigInt64(at, true);
  }
  bit(i: number): boolean {
    return (this.m.dv.getUint8(this.at + (i >>> 3)) & (1 << (i & 7))) !== 0;
  }
  struct(i: number): Struct {
    return new Struct(this.m, this.seg, this.at + i * this.step, this.dataBytes, this.ptrCount);
  }
  // Element i of a list of Text. A near pointer to a byte list is read
  // without allocating; anything else goes through resolve().
  text(i: number): string {
    const at = this.at + i * 8;
    const dv = this.m.dv;
    const lo = dv.getUint32(at, true);
    const hi = dv.getUint32(at + 4, true);
    if ((lo & 3) === 1 && (hi & 7) === 2) {
      const start = at + 8 + ((lo | 0) >> 2) * 8;
      const n = hi >>> 3;
      if (n === 0) return "";
      if (start < this.m.segStart[this.seg] || start + n > this.m.segEnd[this.seg]) {
        throw new Error("a list outside its segment");
      }
      return this.m.buf.toString("utf8", start, start + n - 1);
    }
    const t = this.m.resolve(this.seg, at);
    return t === null ? "" : this.m.listAt(t).asText();
  }
  // Element i of a list of Data, as a view.
  bytes(i: number): Buffer {
    const t = this.m.resolve(this.seg, this.at + i * 8);
    return t === null ? Buffer.alloc(0) : this.m.listAt(t).asBytes();
  }
  asText(): string {
    // A Text is a byte list ending in NUL.
    if (this.length === 0) return "";
    return this.m.buf.toString("utf8", this.at, this.at + this.length - 1);
  }
  asBytes(): Buffer {
    return this.m.buf.subarray(this.at, this.at + this.length);
  }
}

// Builds a one-segment message. Offsets are in bytes from the segment's start.
export class Builder {
  private buf: Buffer;
  private used = 8;  // the root pointer

  constructor(initialBytes = 1024) {
    this.buf = Buffer.alloc(Math.max(64, initialBytes));
  }

  private alloc(bytes: number): number {
    const padded = (bytes + 7) & ~7;
    const at = this.used;
    if (at + padded > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < at + padded) size *= 2;
      const grown = Buffer.alloc(size);
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    this.used += padded;
    return at;
  }

  private pointTo(ptrAt: number, target: number, lo2: number, hi: number): void {
    const offsetWords = (target - ptrAt - 8) / 8;
    this.buf.writeUInt32LE(((offsetWords << 2) | lo2) >>> 0, ptrAt);
    this.buf.writeUInt32LE(hi >>> 0, ptrAt + 4);
  }

  initRoot(dataWords: number, ptrs: number): BStruct {
    return this.initStructAt(0, dataWords, ptrs);
  }

  initStructAt(ptrAt: number, dataWords: number, ptrs: number): BStruct {
    const at = this.alloc((dataWords + ptrs) * 8);
    this.pointTo(ptrAt, at, 0, dataWords | (ptrs << 16));
    return new BStruct(this, at, dataWords * 8);
  }

  // A byte list: Text (with its NUL) or Data.
  setBytes(ptrAt: number, bytes: Uint8Array, nul: boolean): void {
    const n = bytes.length + (nul ? 1 : 0);
    const at = this.alloc(n);
    this.buf.set(bytes, at);
    this.pointTo(ptrAt, at, 1, 2 | (n << 3));
  }

  setTextList(ptrAt: number, texts: string[]): void {
    const at = this.alloc(texts.length * 8);
    this.pointTo(ptrAt, at, 1, 6 | (texts.length << 3));
    texts.forEach((t, i) => this.setBytes(at + i * 8, Buffer.from(t, "utf8"), true));
  }

  view(): Buffer {
    return this.buf;
  }

  // The flat form: the segment table (one segment), then the segment.
  flat(): Buffer {
    const out = Buffer.alloc(8 + this.used);
    out.writeUInt32LE(0, 0);
    out.writeUInt32LE(this.used / 8, 4);
    this.buf.copy(out, 8, 0, this.used);
    return out;
  }
}

export class BStruct {
  constructor(readonly b: Builder, readonly at: number, readonly dataBytes: number) {}
  private get buf(): Buffer {
    return this.b.view();
  }
  setU8(byte: number, v: number): void {
    this.buf.writeUInt8(v, this.at + byte);
  }
  setU16(byte: number, v: number): void {
    this.buf.writeUInt16LE(v, this.at + byte);
  }
  setU32(byte: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, this.at + byte);
  }
  setU64(byte: number, v: number | bigint): void {
    this.buf.writeBigUInt64LE(BigInt(v), this.at + byte);
  }
  setBool(bit: number, v: boolean): void {
    const at = this.at + (bit >>> 3);
    const mask = 1 << (bit & 7);
    this.buf[at] = v ? this.buf[at] | mask : this.buf[at] & ~mask;
  }
  private ptr(i: number): number {
    return this.at + this.dataBytes + i * 8;
  }
  setText(i: number, s: string): void {
    if (s.length > 0) this.b.setBytes(this.ptr(i), Buffer.from(s, "utf8"), true);
  }
  setData(i: number, d: Uint8Array): void {
    if (d.length > 0) this.b.setBytes(this.ptr(i), d, false);
  }
  setTextList(i: number, texts: string[]): void {
    this.b.setTextList(this.ptr(i), texts);
  }
  initStruct(i: number, dataWords: number, ptrs: number): BStruct {
    return this.b.initStructAt(this.ptr(i), dataWords, ptrs);
  }
}
