// The ormdb client for Node.js: a connection to `ormdb serve` that speaks
// the wire protocol itself (docs/PROTOCOL.md, protocol/ormdb.capnp), with
// the results, errors and options of the C++ client
// (client/remote_database.cc is the reference).

import { randomBytes } from "node:crypto";

import { Builder, BStruct, Message, Struct } from "./capnp.js";
import {
  errorFromWire,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from "./errors.js";
import { FetchResult, SelectResult } from "./result.js";
import { SpConnection } from "./transport.js";

export * from "./errors.js";
export { EntityObject, FetchResult, SelectResult } from "./result.js";
export type { FetchStats, Value } from "./result.js";

const PROTOCOL_VERSION = 1;
const HEADER_BYTES = 4;
// Replies are trusted but not unbounded.
const MAX_REPLY_BYTES = 2 ** 30;

// The union tags of Request and Reply (protocol/ormdb.capnp).
const enum Req {
  Hello = 0,
  Fetch = 1,
  More = 2,
  Mutate = 3,
  SchemaApply = 4,
  SchemaShow = 5,
  SchemaHistory = 6,
  Explain = 7,
  Watch = 8,
  Stats = 9,
  Get = 10,
  CurrentVersion = 15,
  Upload = 16,
  Select = 17,
}
const enum Rep {
  Error = 0,
  Hello = 1,
  Fetch = 2,
  Chunk = 3,
  Text = 4,
  Mutate = 5,
  Migration = 6,
  History = 7,
  Watch = 8,
  Get = 9,
  Version = 13,
  Uploaded = 14,
  Select = 15,
}

export interface ConnectOptions {
  // The API key, when the server has keys.
  key?: string;
  // Each call's timeout in milliseconds (default 60 s); a watch adds its wait.
  timeout?: number;
  // TLS (`tls+tcp://`): the CA file to verify the server against, and the name to expect.
  tlsCaFile?: string;
  tlsServerName?: string;
  // A JWT sent with every request: the server verifies it and serves the
  // request for its principal (docs/reference/policies.md).
  token?: string;
}

// What the handles on one connection share (Database.as): the connection,
// the client id and the request numbering (request ids must not repeat
// within a client), and what the server said at hello.
interface Session {
  conn: SpConnection;
  client: bigint;
  nextRequestId: bigint;
  maxRequestBytes: number;
  maxFrameBytes: number;
  principals: boolean;
  server: string;
}

export interface FetchOptions {
  // Read the snapshot of this commit version.
  asOf?: number;
  // Lower the server's budget for this fetch.
  maxEntities?: number;
  maxEdges?: number;
  maxDepth?: number;
  maxBytes?: number;
  maxScannedRows?: number;
  // "error" (BudgetExceededError) or "truncate" (a partial result, stats.truncated).
  onExceed?: "error" | "truncate";
}

export interface SelectOptions {
  asOf?: number;
  maxScannedRows?: number;
  maxRows?: number;
}

export interface ExplainOptions extends FetchOptions {
  // Run the query and show the actual rows and times.
  analyze?: boolean;
  // The plan as JSON text rather than text.
  json?: boolean;
}

export interface WriteOptions {
  // The application's idempotency key: a write retried with the same key is applied once.
  requestKey?: string;
}

export interface ApplySchemaOptions {
  dryRun?: boolean;
  allowDestructive?: boolean;
  fileName?: string;
}

export interface MigrationReport {
  grade: string;
  changes: { grade: string; description: string }[];
  applied: boolean;
  schemaVersion: number;
  commitVersion: number;
  indexesBuilt: number;
  rowsIndexed: number;
}

export interface SchemaVersionInfo {
  schemaVersion: number;
  commitVersion: number;
  time: Date;
  grade: string;
  summary: string;
}

export interface WatchOptions {
  // The resume token: events after this version (a previous token or a
  // fetch result's version). Omitted: from the current version.
  after?: number;
  // How long one long-poll waits for an event, in milliseconds (default 30000; the server caps it).
  wait?: number;
  // At most this many events per poll (default 1000).
  maxEvents?: number;
  // A named subscriber pins the change log until it has read it.
  subscriber?: string;
}

// A change event (docs/reference/json.md, "Change events").
export type ChangeEvent = Record<string, unknown>;

// A mutation batch: the ops array, or {"ops": [...]}, or its JSON text.
export type Batch = object[] | { ops: object[] } | string;

// Query parameters: values as JSON; Date, Uint8Array and bigint are written as
// their JSON forms (RFC 3339, base64, an integer).
export type Params = Record<string, unknown>;

// A query: the text form, or the JSON IR as an object.
export type Query = string | object;

function toJsonText(v: unknown): string {
  return JSON.stringify(v, function (this: unknown, _k: string, value: unknown) {
    if (typeof value === "bigint") return { $bigint: value.toString() };
    if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
    return value;
  }).replace(/\{"\$bigint":"(-?\d+)"\}/g, "$1");
}

function random64(): bigint {
  return randomBytes(8).readBigUInt64LE(0);
}

// An optional number as the wire sends it: value + 1, 0 when not given.
function plusOne(v: number | undefined): bigint {
  if (v === undefined) return 0n;
  if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`expected a non-negative integer, found ${v}`);
  return BigInt(v) + 1n;
}

function setFetchOptions(s: BStruct, o: FetchOptions): void {
  s.setU64(0, plusOne(o.asOf));
  s.setU64(8, plusOne(o.maxEntities));
  s.setU64(16, plusOne(o.maxEdges));
  s.setU64(24, plusOne(o.maxDepth));
  s.setU64(32, plusOne(o.maxBytes));
  if (o.onExceed !== undefined && o.onExceed !== "error" && o.onExceed !== "truncate") {
    throw new InvalidArgumentError(`onExceed must be "error" or "truncate", found '${String(o.onExceed)}'`);
  }
  s.setU8(40, o.onExceed === undefined ? 0 : o.onExceed === "error" ? 1 : 2);
  s.setU64(48, plusOne(o.maxScannedRows));
}

function setSelectOptions(s: BStruct, o: SelectOptions): void {
  s.setU64(0, plusOne(o.asOf));
  s.setU64(8, plusOne(o.maxScannedRows));
  s.setU64(16, plusOne(o.maxRows));
}

// A request being built: the Request struct and its union member.
interface Draft {
  builder: Builder;
  root: BStruct;
}

export class Database {
  private readonly s: Session;
  private readonly timeout: number;
  // The principal this handle acts for (Database.as), as JSON; "" for the
  // connection's own.
  private readonly actAs: string;

  /** @internal */
  constructor(
    readonly url: string,
    private readonly o: ConnectOptions,
    session?: Session,
    actAs = "",
  ) {
    this.s = session ?? {
      conn: new SpConnection(url, {
        tlsCaFile: o.tlsCaFile,
        tlsServerName: o.tlsServerName,
        maxReplyBytes: MAX_REPLY_BYTES,
      }),
      client: random64(),
      nextRequestId: 1n,
      maxRequestBytes: 0,
      maxFrameBytes: 0,
      principals: false,
      server: "",
    };
    this.timeout = o.timeout ?? 60000;
    this.actAs = actAs;
  }

  // "ormdb 0.6": what the server said it is.
  get server(): string {
    return this.s.server;
  }

  // A handle on the same connection that acts for `principal`
  // ({id, roles, ...claims}, or null for an anonymous request): the schema's
  // access rules apply to all it reads and writes. The server allows it only
  // for a key with the role impersonate (PermissionDeniedError otherwise).
  as(principal: object | null): Database {
    if (!this.s.principals) {
      throw new PermissionDeniedError("permission denied: this server does not serve principals");
    }
    return new Database(this.url, this.o, this.s, JSON.stringify(principal));
  }

  /** @internal */
  async hello(): Promise<void> {
    const d = this.draft(Req.Hello);
    const h = d.root.initStruct(1, 1, 1);
    h.setU16(0, PROTOCOL_VERSION);
    h.setU16(2, PROTOCOL_VERSION);
    h.setText(0, "ormdb node client");
    const r = this.expect(await this.call(d, Math.min(this.timeout, 10000)), Rep.Hello, "hello").struct(0);
    this.s.server = r.text(0);
    this.s.maxRequestBytes = r.u64(16);
    this.s.maxFrameBytes = r.u64(24);
    this.s.principals = r.bool(16);
    if (this.o.token && !this.s.principals) {
      throw new InvalidArgumentError("a token needs a server that serves principals (a newer ormdb)");
    }
  }

  // Runs a graph fetch: the text form or the JSON IR, with $params.
  async fetch(query: Query, params: Params = {}, options: FetchOptions = {}): Promise<FetchResult> {
    const d = this.draft(Req.Fetch);
    const f = d.root.initStruct(1, 0, 3);
    f.setText(0, typeof query === "string" ? query : toJsonText(query));
    f.setText(1, toJsonText(params));
    setFetchOptions(f.initStruct(2, 7, 0), options);
    const r = await this.call(d);
    return new FetchResult(this.expect(r, Rep.Fetch, "a fetch").struct(0));
  }

  // Runs a select statement (relational mode).
  async select(text: string, params: Params = {}, options: SelectOptions = {}): Promise<SelectResult> {
    const d = this.draft(Req.Select);
    const s = d.root.initStruct(1, 0, 3);
    s.setText(0, text);
    s.setText(1, toJsonText(params));
    setSelectOptions(s.initStruct(2, 3, 0), options);
    const r = await this.call(d);
    return new SelectResult(this.expect(r, Rep.Select, "a select").struct(0));
  }

  // The plan of a fetch, as text (or JSON text with {json: true}).
  async explain(query: Query, params: Params = {}, options: ExplainOptions = {}): Promise<string> {
    const d = this.draft(Req.Explain);
    const e = d.root.initStruct(1, 1, 4);
    e.setText(0, typeof query === "string" ? query : toJsonText(query));
    e.setText(1, toJsonText(params));
    setFetchOptions(e.initStruct(2, 7, 0), options);
    e.setBool(0, options.analyze ?? false);
    e.setBool(1, options.json ?? false);
    return this.text(await this.call(d));
  }

  // The plan of a select statement.
  async explainSelect(text: string, params: Params = {},
    options: SelectOptions & { analyze?: boolean; json?: boolean } = {}): Promise<string> {
    const d = this.draft(Req.Explain);
    const e = d.root.initStruct(1, 1, 4);
    e.setText(0, text);
    e.setText(1, toJsonText(params));
    e.initStruct(2, 7, 0);
    e.setBool(0, options.analyze ?? false);
    e.setBool(1, options.json ?? false);
    e.setBool(2, true);
    setSelectOptions(e.initStruct(3, 3, 0), options);
    return this.text(await this.call(d));
  }

  // Applies a mutation batch (docs/reference/mutations.md); returns
  // {"version", "refs", "results"}.
  async mutate(batch: Batch, options: WriteOptions = {}): Promise<Record<string, unknown>> {
    const text = typeof batch === "string" ? batch : toJsonText(Array.isArray(batch) ? { ops: batch } : batch);
    const d = this.draft(Req.Mutate);
    d.root.setText(1, text);
    d.root.setText(2, options.requestKey ?? "");
    const r = this.expect(await this.call(d), Rep.Mutate, "mutate").struct(0);
    return JSON.parse(r.text(0)) as Record<string, unknown>;
  }

  // One row by id, as JSON values ({"id": ..., fields...}), or null.
  async get(entity: string, id: number | bigint | string): Promise<Record<string, unknown> | null> {
    const d = this.draft(Req.Get);
    const g = d.root.initStruct(1, 0, 2);
    g.setText(0, entity);
    g.setText(1, String(id));
    const r = this.expect(await this.call(d), Rep.Get, "get").struct(0);
    return r.bool(0) ? (JSON.parse(r.text(0)) as Record<string, unknown>) : null;
  }

  // Applies a schema (docs/reference/schema.md); returns the migration report.
  async applySchema(text: string, options: ApplySchemaOptions = {}): Promise<MigrationReport> {
    const d = this.draft(Req.SchemaApply);
    const s = d.root.initStruct(1, 1, 2);
    s.setText(0, text);
    s.setBool(0, options.dryRun ?? false);
    s.setBool(1, options.allowDestructive ?? false);
    s.setText(1, options.fileName ?? "");
    const m = this.expect(await this.call(d), Rep.Migration, "schema apply").struct(0);
    const list = m.list(0);
    const changes = [];
    for (let i = 0; i < list.length; i++) {
      const c = list.struct(i);
      changes.push({ grade: String.fromCharCode(c.u8(0)), description: c.text(0) });
    }
    return {
      grade: String.fromCharCode(m.u8(0)),
      changes,
      applied: m.bool(8),
      schemaVersion: m.u32(4),
      commitVersion: m.u64(8),
      indexesBuilt: m.u64(16),
      rowsIndexed: m.u64(24),
    };
  }

  // The schema's text, or its JSON with {json: true}.
  async schema(options: { json?: boolean } = {}): Promise<string> {
    const d = this.draft(Req.SchemaShow);
    d.root.initStruct(1, 1, 0).setBool(0, options.json ?? false);
    return this.text(await this.call(d));
  }

  async schemaHistory(): Promise<SchemaVersionInfo[]> {
    const list = this.expect(await this.call(this.draft(Req.SchemaHistory)), Rep.History, "schema history").list(0);
    const out: SchemaVersionInfo[] = [];
    for (let i = 0; i < list.length; i++) {
      const v = list.struct(i);
      out.push({
        schemaVersion: v.u32(0),
        commitVersion: v.u64(8),
        time: new Date(Number(v.u64big(16)) / 1000),
        grade: String.fromCharCode(v.u8(4)),
        summary: v.text(0),
      });
    }
    return out;
  }

  // The server's statistics (`ormdb stats`), parsed.
  async stats(): Promise<Record<string, unknown>> {
    return JSON.parse(this.text(await this.call(this.draft(Req.Stats)))) as Record<string, unknown>;
  }

  // The newest committed version.
  async currentVersion(): Promise<number> {
    const r = this.expect(await this.call(this.draft(Req.CurrentVersion)), Rep.Version, "currentVersion");
    return r.u64(16);
  }

  // The change events of `entities` (empty: all) after `options.after`, as
  // an endless async iterator that long-polls; `events.token` is the resume
  // token once the events so far are handled.
  watch(entities: string[] = [], options: WatchOptions = {}): WatchEvents {
    return new WatchEvents(this, entities, options);
  }

  /** @internal One long-poll: the events and the new token. */
  async _watchOnce(entities: string[], after: number | undefined, wait: number, maxEvents: number,
    subscriber: string): Promise<{ events: ChangeEvent[]; token: number }> {
    const d = this.draft(Req.Watch);
    const w = d.root.initStruct(1, 3, 2);
    w.setTextList(0, entities);
    w.setU64(0, after ?? 0);
    w.setBool(64, after !== undefined);
    w.setU32(12, Math.min(Math.max(0, Math.round(wait)), 0xffffffff));
    w.setU32(16, maxEvents);
    w.setText(1, subscriber);
    const r = this.expect(await this.call(d, this.timeout + wait), Rep.Watch, "watch").struct(0);
    const list = r.list(0);
    const events: ChangeEvent[] = [];
    for (let i = 0; i < list.length; i++) events.push(JSON.parse(list.text(i)) as ChangeEvent);
    return { events, token: r.u64(0) };
  }

  // Closes the connection; calls in flight fail with UnavailableError.
  close(): void {
    this.s.conn.close();
  }

  private draft(kind: Req): Draft {
    const builder = new Builder();
    const root = builder.initRoot(3, 5);
    root.setU64(0, this.s.client);
    root.setU64(8, this.s.nextRequestId++);
    root.setText(0, this.o.key ?? "");
    if (this.o.token) root.setText(3, this.o.token);
    if (this.actAs) root.setText(4, this.actAs);
    root.setU16(16, kind);
    return { builder, root };
  }

  private text(r: Struct): string {
    return this.expect(r, Rep.Text, "a request for text").text(0);
  }

  // The reply's union member, which must be `kind`.
  private expect(r: Struct, kind: Rep, what: string): Struct {
    const got = r.u16(8);
    if (got !== kind) throw new InternalError(`the server answered ${what} with reply kind ${got}`);
    return r;
  }

  private frame(flat: Buffer): Buffer {
    const f = Buffer.allocUnsafe(HEADER_BYTES + flat.length);
    f.write("OR", 0, "latin1");
    f[2] = PROTOCOL_VERSION;
    f[3] = 0;
    flat.copy(f, HEADER_BYTES);
    return f;
  }

  // Reads a reply frame's Reply in place; an error reply is thrown.
  private decode(body: Buffer): Struct {
    if (body.length < HEADER_BYTES + 8 || body[0] !== 0x4f || body[1] !== 0x52) {
      throw new InternalError(`${this.url} sent a frame that is not an ormdb reply`);
    }
    if (body[2] !== PROTOCOL_VERSION) {
      throw new InvalidArgumentError(
        `the server at ${this.url} speaks protocol version ${body[2]}; this client speaks ${PROTOCOL_VERSION}`);
    }
    return this.root(body.subarray(HEADER_BYTES));
  }

  private root(flat: Buffer): Struct {
    let r: Struct;
    try {
      r = new Message(flat).root();
    } catch (e) {
      throw new InternalError(`${this.url} sent a malformed reply: ${(e as Error).message}`);
    }
    if (r.u16(8) === Rep.Error) {
      const e = r.struct(0);
      throw errorFromWire(e.u16(0), e.text(0));
    }
    return r;
  }

  // Sends a request and returns its reply (reassembled when it came in
  // chunks). A request larger than the server's frame limit goes as an
  // upload in pieces. A large reply whose continuation the server dropped
  // is asked for again once.
  private async call(d: Draft, timeout = this.timeout): Promise<Struct> {
    const flat = d.builder.flat();
    if (this.s.maxRequestBytes !== 0 && flat.length > this.s.maxRequestBytes) {
      throw new ResourceExhaustedError(
        `a request of ${flat.length} bytes exceeds the server's limit of ${this.s.maxRequestBytes} ` +
        "bytes (max_request_bytes); split it or raise the limit");
    }
    for (let attempt = 0; ; attempt++) {
      const first = this.s.maxFrameBytes !== 0 && flat.length > this.s.maxFrameBytes
        ? await this.upload(flat, timeout)
        : this.decode(await this.s.conn.roundTrip(this.frame(flat), timeout));
      if (first.u16(8) !== Rep.Chunk) return first;
      try {
        return await this.pull(first.struct(0), timeout);
      } catch (e) {
        if (attempt === 0 && e instanceof NotFoundError) continue;
        throw e;
      }
    }
  }

  // Pulls the rest of a chunked reply and reads the whole in place.
  private async pull(chunk: Struct, timeout: number): Promise<Struct> {
    const handle = chunk.u64big(0);
    const total = chunk.u64(16);
    if (total % 8 !== 0 || total > MAX_REPLY_BYTES) throw new InternalError("the server sent a malformed chunked reply");
    const whole = Buffer.allocUnsafeSlow(total);
    let have = 0;
    for (;;) {
      const data = chunk.bytes(0);
      if (chunk.u64(8) !== have || have + data.length > total || data.length === 0) {
        throw new InternalError("the server sent a chunk out of order");
      }
      data.copy(whole, have);
      have += data.length;
      if (have === total) break;
      const d = this.draft(Req.More);
      const m = d.root.initStruct(1, 2, 0);
      m.setU64(0, handle);
      m.setU64(8, have);
      const r = this.decode(await this.s.conn.roundTrip(this.frame(d.builder.flat()), timeout));
      if (r.u16(8) !== Rep.Chunk) throw new InternalError("the server broke off a chunked reply");
      chunk = r.struct(0);
    }
    return this.root(whole);
  }

  // Sends a request in pieces of at most the server's frame limit; the last
  // piece's reply is the whole request's. An upload the server lost is
  // started over once.
  private async upload(flat: Buffer, timeout: number): Promise<Struct> {
    const piece = this.s.maxFrameBytes > 1024 ? this.s.maxFrameBytes - 512 : 512;
    for (let attempt = 0; ; attempt++) {
      const handle = random64();
      for (let offset = 0; offset < flat.length;) {
        const n = Math.min(piece, flat.length - offset);
        const d = this.draft(Req.Upload);
        const u = d.root.initStruct(1, 3, 1);
        u.setU64(0, handle);
        u.setU64(8, offset);
        u.setU64(16, flat.length);
        u.setData(0, flat.subarray(offset, offset + n));
        offset += n;
        const body = await this.s.conn.roundTrip(this.frame(d.builder.flat()), timeout);
        if (offset === flat.length) return this.decode(body);
        let r: Struct;
        try {
          r = this.decode(body);
        } catch (e) {
          if (attempt === 0 && e instanceof NotFoundError) break;
          throw e;
        }
        this.expect(r, Rep.Uploaded, "an upload piece");
      }
      if (attempt > 0) throw new UnavailableError("the server lost the upload twice");
    }
  }
}

// The events of a watch: an async iterator that long-polls the server,
// whole transactions at a time, in commit order. `token` is the version up
// to which every event has been returned: pass it as `after` to resume.
export class WatchEvents implements AsyncIterable<ChangeEvent> {
  private tokenValue: number | undefined;
  private closed = false;
  private readonly wait: number;
  private readonly maxEvents: number;

  constructor(private readonly db: Database, private readonly entities: string[], private readonly o: WatchOptions) {
    this.tokenValue = o.after;
    this.wait = o.wait ?? 30000;
    this.maxEvents = o.maxEvents ?? 1000;
  }

  // The resume token: every event at or below it has been handed out (or
  // filtered out). It moves when the iterator hands out the last event of a
  // transaction, so resuming after a stop in the middle of a transaction
  // delivers that whole transaction again and skips nothing. Undefined until
  // the first poll when no `after` was given.
  get token(): number | undefined {
    return this.tokenValue;
  }

  // One long-poll: the events (whole transactions) that came within `wait`
  // milliseconds, [] when none did; advances the token.
  async poll(wait = this.wait): Promise<ChangeEvent[]> {
    const r = await this.longPoll(wait);
    this.tokenValue = r.token;
    return r.events;
  }

  private longPoll(wait: number): Promise<{ events: ChangeEvent[]; token: number }> {
    return this.db._watchOnce(this.entities, this.tokenValue, wait, this.maxEvents, this.o.subscriber ?? "");
  }

  // Ends the iteration after the current poll.
  close(): void {
    this.closed = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChangeEvent> {
    while (!this.closed) {
      const r = await this.longPoll(this.wait);
      const events = r.events;
      if (events.length === 0) this.tokenValue = r.token;
      for (let i = 0; i < events.length; i++) {
        // A batch holds whole transactions; their events share a version.
        const next = events[i + 1];
        if (next === undefined) this.tokenValue = r.token;
        else if (next.version !== events[i].version) this.tokenValue = events[i].version as number;
        yield events[i];
        if (this.closed) return;
      }
    }
  }
}

// Connects to an `ormdb serve` (tcp://HOST:PORT, tls+tcp://HOST:PORT or
// ipc:///path) and exchanges the hello.
export async function connect(url: string, options: ConnectOptions = {}): Promise<Database> {
  const db = new Database(url, options);
  try {
    await db.hello();
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

