// Fetch and select results, read lazily where they lie in the reply
// (docs/PROTOCOL.md, "Result blocks"). An EntityObject is a position in
// the blocks: reading a field reads that one value. toJSONText() renders
// what the C++ client's ToJson() renders, byte for byte.

import type { Int64, List, Struct } from "./capnp.js";
import { formatTimestamp, formatUuid, jsonDouble, jsonString, reserializeJson } from "./json.js";

// A value of a result: null, boolean, number (a bigint for integers beyond
// 2^53), string (also uuids and enum names), Buffer (bytes), Date
// (timestamps, to the millisecond), or parsed JSON for json fields.
export type Value = null | boolean | number | bigint | string | Buffer | Date | unknown;

const enum Kind {
  None = 0,
  Boolean = 1,
  Integer = 2,
  Real = 3,
  String = 4,
  Bytes = 5,
  Timestamp = 6,
  Uuid = 7,
  Json = 8,
}

// One column (protocol/ormdb.capnp `Column`): the values in the list of its kind.
class Column {
  readonly name: string;
  readonly kind: Kind;
  private readonly nulls: List | null;
  private readonly values: List | null;
  private readonly uuids: Buffer | null;

  constructor(c: Struct) {
    this.name = c.text(0);
    this.kind = c.u16(0) as Kind;
    this.nulls = c.has(1) ? c.list(1) : null;
    let values: List | null = null;
    let uuids: Buffer | null = null;
    switch (this.kind) {
      case Kind.Boolean:
      case Kind.Integer:
      case Kind.Timestamp:
        values = c.list(2);
        break;
      case Kind.Real:
        values = c.list(3);
        break;
      case Kind.String:
      case Kind.Json:
        values = c.list(4);
        break;
      case Kind.Bytes:
        values = c.list(5);
        break;
      case Kind.Uuid:
        uuids = c.bytes(6);
        break;
      default:
        break;
    }
    this.values = values;
    this.uuids = uuids;
  }

  // Rows, for an id column (ints or uuids).
  get rows(): number {
    return this.kind === Kind.Uuid ? (this.uuids?.length ?? 0) / 16 : (this.values?.length ?? 0);
  }

  isNull(row: number): boolean {
    return this.kind === Kind.None || (this.nulls !== null && row < this.nulls.length && this.nulls.bit(row));
  }

  value(row: number): Value {
    if (this.isNull(row)) return null;
    const v = this.values!;
    switch (this.kind) {
      case Kind.Boolean:
        return v.i64(row) !== 0;
      case Kind.Integer:
        return v.i64(row);
      case Kind.Real:
        return v.f64(row);
      case Kind.String:
        return v.text(row);
      case Kind.Bytes:
        return v.bytes(row);
      case Kind.Timestamp:
        return new Date(Number(v.i64(row)) / 1000);
      case Kind.Uuid:
        return formatUuid(this.uuids!.subarray(row * 16, row * 16 + 16));
      case Kind.Json: {
        const text = v.text(row);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      }
      default:
        return null;
    }
  }

  // The value as AppendResultValue writes it.
  json(row: number): string {
    if (this.isNull(row)) return "null";
    const v = this.values!;
    switch (this.kind) {
      case Kind.Boolean:
        return v.i64(row) !== 0 ? "true" : "false";
      case Kind.Integer:
        return String(v.i64(row));
      case Kind.Real:
        return jsonDouble(v.f64(row));
      case Kind.String:
        return jsonString(v.text(row));
      case Kind.Bytes:
        return '"' + v.bytes(row).toString("base64") + '"';
      case Kind.Timestamp:
        return '"' + formatTimestamp(v.i64(row)) + '"';
      case Kind.Uuid:
        return '"' + formatUuid(this.uuids!.subarray(row * 16, row * 16 + 16)) + '"';
      case Kind.Json:
        return reserializeJson(v.text(row));
      default:
        return "null";
    }
  }
}

class Block {
  private columns: Column[] | undefined;
  private idColumn: Column | undefined;
  constructor(private readonly s: Struct) {}
  get entity(): string {
    return this.s.text(0);
  }
  get ids(): Column {
    return (this.idColumn ??= new Column(this.s.struct(1)));
  }
  column(i: number): Column {
    if (!this.columns) {
      const list = this.s.list(2);
      this.columns = new Array<Column>(list.length);
    }
    return (this.columns[i] ??= new Column(this.s.list(2).struct(i)));
  }
}

interface Item {
  name: string;
  quoted: string;  // the name as a JSON string
  isInclude: boolean;
  column: number;
  child: number;
}

// One include of the query (node 0 is the root) and the rows it reached.
class Node {
  readonly entity: string;
  readonly block: number;
  readonly path: string;
  readonly toOne: boolean;
  readonly limited: boolean;
  readonly processed: boolean;
  readonly items: Item[];
  readonly slotOfRow: List;
  readonly slotBegin: List;
  readonly slotEnd: List;
  readonly slotPartial: List;
  readonly slotNext: List;
  readonly slotHasNext: List;
  readonly children: List;
  proto: object | undefined;  // the prototype of this node's objects

  constructor(n: Struct) {
    this.entity = n.text(0);
    this.block = n.u32(0);
    this.path = n.text(1);
    this.toOne = n.bool(64);
    this.limited = n.bool(65);
    this.processed = n.bool(66);
    const items = n.list(3);
    this.items = [];
    for (let i = 0; i < items.length; i++) {
      const it = items.struct(i);
      const name = it.text(0);
      this.items.push({ name, quoted: jsonString(name), isInclude: it.bool(0), column: it.i32(4), child: it.u32(8) });
    }
    this.slotOfRow = n.list(4);
    this.slotBegin = n.list(6);
    this.slotEnd = n.list(7);
    this.slotPartial = n.list(8);
    this.slotNext = n.list(9);
    this.slotHasNext = n.list(10);
    this.children = n.list(11);
  }

  // The slot of a parent row's children, or -1 when the row has none.
  slotOf(parentRow: number): number {
    if (!this.processed || parentRow >= this.slotOfRow.length) return -1;
    return this.slotOfRow.u32(parentRow) - 1;
  }
  partial(slot: number): boolean {
    return slot < this.slotPartial.length && this.slotPartial.bit(slot);
  }
  next(slot: number): string | null {
    if (slot >= this.slotHasNext.length || !this.slotHasNext.bit(slot)) return null;
    return this.slotNext.text(slot);
  }
}

export interface FetchStats {
  entities: number;
  edges: number;
  bytes: number;
  truncated: boolean;
  truncatedAt?: string;
}

const RESERVED = new Set(["entity", "id", "get", "keys", "toJSON", "toJSONText", "constructor"]);

// One object of a fetch result: an entity row reached through the root or
// an include. Fields and includes read as properties (`post.title`,
// `post.author`, `user["posts@next"]`) or with get(name).
export class EntityObject {
  // Properties the query selected, read on access.
  [name: string]: unknown;

  /** @internal */
  constructor(
    private readonly result$: FetchResult,
    private readonly node$: number,
    private readonly row$: number,
  ) {}

  // The entity type's name ("Post").
  get entity(): string {
    return this.result$._node(this.node$).entity;
  }

  // The row's id: a number, or a uuid string for `id: uuid` entities.
  get id(): Value {
    return this.result$._id(this.node$, this.row$);
  }

  // A field's value, a to-one include (an object or null), a to-many include
  // (an array of objects), "<include>@next" (a cursor or null); undefined
  // when the query did not select `name`.
  get(name: string): unknown {
    return this.result$._read(this.node$, this.row$, name);
  }

  // The selected names in selection order, as toJSON() has them ("id" first).
  keys(): string[] {
    return Object.keys(JSON.parse(this.toJSONText()) as object);
  }

  // The object as the server renders it (docs/reference/json.md).
  toJSONText(): string {
    return this.result$._render(this.node$, this.row$);
  }

  toJSON(): unknown {
    return JSON.parse(this.toJSONText()) as unknown;
  }
}

export class FetchResult implements Iterable<EntityObject> {
  private readonly blocksList: List;
  private readonly blocks: Block[];
  private readonly nodes: Node[];
  private rootBegin = 0;
  private rootEnd = 0;

  /** @internal */
  constructor(private readonly r: Struct) {
    this.blocksList = r.list(2);
    this.blocks = new Array<Block>(this.blocksList.length);
    const nodes = r.list(3);
    this.nodes = [];
    for (let i = 0; i < nodes.length; i++) this.nodes.push(new Node(nodes.struct(i)));
    const root = this.nodes[0];
    if (root && root.processed && root.slotBegin.length > 0) {
      this.rootBegin = root.slotBegin.u32(0);
      this.rootEnd = root.slotEnd.u32(0);
    }
  }

  // The snapshot read: a valid watch token and asOf.
  get version(): number {
    return this.r.u64(0);
  }

  // The cursor of the next page of roots, or null.
  get next(): string | null {
    return this.r.bool(64) ? this.r.text(0) : null;
  }

  get stats(): FetchStats {
    const s = this.r.struct(1);
    const out: FetchStats = { entities: s.u64(0), edges: s.u64(8), bytes: s.u64(16), truncated: s.bool(192) };
    if (out.truncated) out.truncatedAt = s.text(0);
    return out;
  }

  // The number of root objects.
  get length(): number {
    return this.rootEnd - this.rootBegin;
  }

  // Root object i (negative counts from the end), or undefined.
  at(i: number): EntityObject | undefined {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    return this._object(0, this.nodes[0].children.u32(this.rootBegin + i));
  }

  *[Symbol.iterator](): Iterator<EntityObject> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  // The root objects as an array.
  roots(): EntityObject[] {
    return [...this];
  }

  // {"version","data","next","stats"}: what the C++ ToJson() renders.
  toJSONText(): string {
    let out = '{"version":' + this.version + ',"data":[';
    const root = this.nodes[0];
    for (let k = this.rootBegin; k < this.rootEnd; k++) {
      if (k > this.rootBegin) out += ",";
      out += this._render(0, root.children.u32(k));
    }
    const next = this.next;
    const s = this.stats;
    out += '],"next":' + (next === null ? "null" : jsonString(next)) + ',"stats":{"entities":' + s.entities +
      ',"edges":' + s.edges + ',"truncated":' + (s.truncated ? "true" : "false");
    if (s.truncated) out += ',"truncated_at":' + jsonString(s.truncatedAt ?? "");
    return out + "}}";
  }

  // toJSONText() parsed: plain objects and arrays (JSON.stringify(result) works).
  toJSON(): unknown {
    return JSON.parse(this.toJSONText()) as unknown;
  }

  /** @internal */
  _node(node: number): Node {
    return this.nodes[node];
  }

  private block(b: number): Block {
    return (this.blocks[b] ??= new Block(this.blocksList.struct(b)));
  }

  /** @internal */
  _id(node: number, row: number): Value {
    return this.block(this.nodes[node].block).ids.value(row);
  }

  /** @internal */
  _object(node: number, row: number): EntityObject {
    const n = this.nodes[node];
    const obj = Object.create((n.proto ??= this.prototypeOf(node))) as EntityObject;
    const fields = obj as unknown as { result$: FetchResult; node$: number; row$: number };
    fields.result$ = this;
    fields.node$ = node;
    fields.row$ = row;
    return obj;
  }

  // A prototype with one getter per selected name, over EntityObject's.
  private prototypeOf(node: number): object {
    const proto = Object.create(EntityObject.prototype) as object;
    const names = this.nodes[node].items.map((it) => it.name);
    for (const it of this.nodes[node].items) {
      if (it.isInclude && this.nodes[it.child].limited) names.push(it.name + "@next");
    }
    for (const name of names) {
      if (RESERVED.has(name)) continue;
      Object.defineProperty(proto, name, {
        get(this: EntityObject) {
          return this.get(name);
        },
        enumerable: true,
      });
    }
    return proto;
  }

  /** @internal */
  _read(node: number, row: number, name: string): unknown {
    const n = this.nodes[node];
    if (name === "id") return this._id(node, row);
    const nextOf = name.endsWith("@next") ? name.slice(0, -5) : undefined;
    for (const item of n.items) {
      if (item.name !== (nextOf ?? name)) continue;
      if (!item.isInclude) {
        if (nextOf !== undefined || item.column < 0) continue;
        return this.block(n.block).column(item.column).value(row);
      }
      const child = this.nodes[item.child];
      const slot = child.slotOf(row);
      if (nextOf !== undefined) return slot < 0 || !child.limited ? null : child.next(slot);
      if (slot < 0) return child.toOne ? null : [];
      const begin = child.slotBegin.u32(slot);
      const end = child.slotEnd.u32(slot);
      if (child.toOne) return begin === end ? null : this._object(item.child, child.children.u32(begin));
      const out: EntityObject[] = [];
      for (let k = begin; k < end; k++) out.push(this._object(item.child, child.children.u32(k)));
      return out;
    }
    return undefined;
  }

  // AppendObject of query/result_render.cc.
  /** @internal */
  _render(node: number, row: number): string {
    const n = this.nodes[node];
    const block = this.block(n.block);
    let out = '{"id":' + block.ids.json(row);
    for (const item of n.items) {
      if (!item.isInclude) {
        if (item.column < 0) continue;
        out += "," + item.quoted + ":" + block.column(item.column).json(row);
        continue;
      }
      const child = this.nodes[item.child];
      if (!child.processed) continue;
      const slot = child.slotOf(row);
      if (slot < 0) continue;  // not reached before a truncation
      const begin = child.slotBegin.u32(slot);
      const end = child.slotEnd.u32(slot);
      if (child.toOne) {
        if (begin === end && child.partial(slot)) continue;  // cut, never rendered as null
        out += "," + item.quoted + ":" +
          (begin === end ? "null" : this._render(item.child, child.children.u32(begin)));
        continue;
      }
      out += "," + item.quoted + ":[";
      for (let k = begin; k < end; k++) {
        if (k > begin) out += ",";
        out += this._render(item.child, child.children.u32(k));
      }
      out += "]";
      if (child.limited) {
        const next = child.next(slot);
        out += "," + jsonString(item.name + "@next") + ":" + (next === null ? "null" : jsonString(next));
      }
    }
    return out + "}";
  }
}

// A select's result (relational mode): rows of columns, read in place.
export class SelectResult implements Iterable<Value[]> {
  private readonly cols: Column[] = [];

  /** @internal */
  constructor(private readonly r: Struct) {
    const list = r.list(1);
    for (let i = 0; i < list.length; i++) this.cols.push(new Column(list.struct(i)));
  }

  get version(): number {
    return this.r.u64(0);
  }
  get next(): string | null {
    return this.r.bool(64) ? this.r.text(0) : null;
  }
  get columns(): string[] {
    return this.cols.map((c) => c.name);
  }
  get length(): number {
    return this.r.u64(16);
  }

  // Row i as an array of values in column order, or undefined.
  at(i: number): Value[] | undefined {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    return this.cols.map((c) => c.value(i));
  }

  *[Symbol.iterator](): Iterator<Value[]> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  // The rows as objects keyed by column name.
  dicts(): Record<string, Value>[] {
    const names = this.columns;
    return [...this].map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
  }

  // {"version","columns","rows","next"}: what the C++ SelectResult::ToJson() renders.
  toJSONText(): string {
    let out = '{"version":' + this.version + ',"columns":[' + this.cols.map((c) => jsonString(c.name)).join(",") +
      '],"rows":[';
    for (let r = 0; r < this.length; r++) {
      out += r ? ",[" : "[";
      for (let c = 0; c < this.cols.length; c++) out += (c ? "," : "") + this.cols[c].json(r);
      out += "]";
    }
    const next = this.next;
    return out + '],"next":' + (next === null ? "null" : jsonString(next)) + "}";
  }

  toJSON(): unknown {
    return JSON.parse(this.toJSONText()) as unknown;
  }
}

export type { Int64 };
