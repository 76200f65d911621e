// ---------------------------------------------------------------------------
// The typed client's runtime: the same for every schema (codegen/runtime/
// runtime.ts in the ormdb repository). It reads the schema's `Model` (types)
// and `META` (names) above, compiles fetch arguments to the JSON IR
// (docs/reference/queries.md) and mutations to batches
// (docs/reference/mutations.md), and hands them to an Executor.
// ---------------------------------------------------------------------------

/** What the generated client runs on: any object with these two methods. */
export interface Executor {
  /** Runs a graph fetch given as JSON IR text; resolves to the JSON result
   *  tree {version, data, next, stats} (docs/reference/json.md). */
  fetch(query: string, params?: object): Promise<unknown>;
  /** Applies a mutation batch {"ops": [...]} (text or object); resolves to
   *  {version, refs, results}. */
  mutate(batch: string | object): Promise<unknown>;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** Names a row inserted earlier in the same batch (`as`). */
export interface Ref { readonly ref: string }
export function ref(name: string): Ref { return { ref: name }; }

type Ent = keyof Model;
type Scalars<E extends Ent> = Model[E]["scalars"];
type Inputs<E extends Ent> = Model[E]["inputs"];
type Refs<E extends Ent> = Model[E]["refs"];
type Many<E extends Ent> = Model[E]["many"];
type RefTarget<E extends Ent, K> = K extends keyof Refs<E>
  ? (Refs<E>[K] extends { target: infer T extends Ent } ? T : never) : never;
type RefValue<E extends Ent, K> = K extends keyof Refs<E>
  ? (Refs<E>[K] extends { value: infer V } ? V : never) : never;
type ManyTarget<E extends Ent, K> = K extends keyof Many<E>
  ? (Many<E>[K] extends infer T extends Ent ? T : never) : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Comparisons of one field: `{ gte: 30 }`, `{ in: ["a", "b"] }`, `{ like: "A%" }`. */
export type Ops<T> = {
  eq?: T; ne?: T; lt?: T; lte?: T; gt?: T; gte?: T;
  in?: readonly T[]; notIn?: readonly T[];
  isNull?: boolean;
  like?: [T] extends [string] ? string : never;
};
/** A value (equality), null (is null) or comparisons. */
export type Filter<T> = NonNullable<T> | Ops<NonNullable<T>> | (null extends T ? null : never);

/** A row condition: every member must hold (and). A reference takes a
 *  filter of the referenced id or a condition on the referenced row. */
export type Where<E extends Ent> =
  & { id?: Filter<Model[E]["id"]> }
  & { [K in keyof Inputs<E>]?: Filter<Inputs<E>[K]> }
  & { [K in keyof Refs<E>]?: Filter<RefValue<E, K>> | Where<RefTarget<E, K>> }
  & { AND?: readonly Where<E>[]; OR?: readonly Where<E>[]; NOT?: Where<E> };

type Direction = "asc" | "desc";
export type OrderKey<E extends Ent> = { [K in "id" | keyof Scalars<E> | keyof Refs<E>]?: Direction };
export type OrderBy<E extends Ent> = OrderKey<E> | readonly OrderKey<E>[];

type AggPath<E extends Ent> = {
  [K in keyof Many<E> & string]: K | `${K}.${(keyof Scalars<ManyTarget<E, K>> | keyof Refs<ManyTarget<E, K>>) & string}`
}[keyof Many<E> & string];
/** An aggregate over a to-many relation, per row: `{ count: "comments" }`,
 *  `{ avg: "posts.score" }`. */
export type Aggregate<E extends Ent> =
  | { count: AggPath<E> } | { countDistinct: AggPath<E> } | { sum: AggPath<E> }
  | { avg: AggPath<E> } | { min: AggPath<E> } | { max: AggPath<E> };
export type Aggregates<E extends Ent> = { [name: string]: Aggregate<E> };
type AggRow<A> = {
  -readonly [N in keyof A]: A[N] extends { count: unknown } | { countDistinct: unknown } ? number
    : A[N] extends { sum: unknown } | { avg: unknown } ? number | null : number | string | null;
};

/** A to-many include: the root's arguments, per parent row. */
export type Include<E extends Ent> = {
  where?: Where<E>; orderBy?: OrderBy<E>; limit?: number; after?: string;
  select?: Select<E>; aggregate?: Aggregates<E>;
};
/** What to return of each row: `true` for a field; a reference as `true`
 *  (its id) or `{ select }` (the row); a to-many relation as `true` (ids)
 *  or an Include. */
export type Select<E extends Ent> =
  & { id?: boolean; _version?: boolean }
  & { [K in keyof Scalars<E>]?: boolean }
  & { [K in keyof Refs<E>]?: boolean | { select: Select<RefTarget<E, K>> } }
  & { [K in keyof Many<E>]?: boolean | Include<ManyTarget<E, K>> };

/** Maps every name a selection holds that the entity lacks to an error
 *  type naming it, at every depth. */
export type Strict<E extends Ent, S> = {
  [K in keyof S]: K extends "id" | "_version" | keyof Scalars<E> ? unknown
    : K extends keyof Refs<E> ? (S[K] extends { select: infer SS } ? { select: Strict<RefTarget<E, K>, SS> } : unknown)
    : K extends keyof Many<E> ? (S[K] extends { select: infer SS } ? { select: Strict<ManyTarget<E, K>, SS> } : unknown)
    : { [M in `ormdb: ${E} has no field or relation '${K & string}'`]: never };
};

type IncludedAggs<S> = S extends { aggregate: infer A } ? A : {};
type Selected<V> = V extends false | undefined ? false : true;
/** The result row of a selection: `id`, then exactly the selected fields
 *  and includes (with `rel@next` for limited to-many includes). */
export type Row<E extends Ent, S, A = {}> = Simplify<
  & { id: Model[E]["id"] }
  & {
    -readonly [K in keyof S as Selected<S[K]> extends true ? (K extends "id" ? never : K) : never]:
      K extends "_version" ? number
      : K extends keyof Scalars<E> ? Scalars<E>[K]
      : K extends keyof Refs<E> ? (S[K] extends { select: infer SS }
          ? Row<RefTarget<E, K>, SS> | (null extends RefValue<E, K> ? null : never)
          : RefValue<E, K>)
      : K extends keyof Many<E> ? (S[K] extends { select: infer SS }
          ? Row<ManyTarget<E, K>, SS, IncludedAggs<S[K]>>[]
          : Row<ManyTarget<E, K>, {}, IncludedAggs<S[K]>>[])
      : never;
  }
  & { -readonly [K in keyof S as S[K] extends { limit: number } ? `${K & string}@next` : never]: string | null }
  & AggRow<A>>;

/** The arguments of a fetch. `select` and `aggregate` decide the row type. */
export type FetchArgs<E extends Ent, S, A> = {
  where?: Where<E>; orderBy?: OrderBy<E>; limit?: number; after?: string;
  select?: S & NoInfer<Strict<E, S>>;
  aggregate?: A;
};
export interface Stats { entities: number; edges: number; truncated: boolean; truncated_at?: string }
/** A whole result: the rows, the snapshot read, the next page's cursor. */
export interface Page<R> { version: number; data: R[]; next: string | null; stats: Stats }

type IdInput<E extends Ent> = Model[E]["id"] | Ref;
type Op = { op: string; [member: string]: unknown };
export interface MutationResult {
  version: number; refs: { [name: string]: number | string };
  results: { id?: number | string; inserted?: boolean; cascaded?: number; changed?: boolean }[];
}

/** The mutation ops of one entity, to put in a batch. */
export interface EntityOps<E extends Ent> {
  insert(values: Model[E]["insert"], as?: string): Op;
  update(id: IdInput<E>, set: Model[E]["update"], ifVersion?: number): Op;
  upsert(key: Model[E]["unique"], values: Model[E]["update"], as?: string): Op;
  delete(id: IdInput<E>): Op;
  link<R extends keyof Model[E]["links"]>(relation: R, from: IdInput<E>, to: IdInput<Model[E]["links"][R] & Ent>): Op;
  unlink<R extends keyof Model[E]["links"]>(relation: R, from: IdInput<E>, to: IdInput<Model[E]["links"][R] & Ent>): Op;
}

/** One entity of the client: typed fetches, and mutations applied at once. */
export interface EntityClient<E extends Ent> {
  /** The JSON IR text of a fetch (what `fetch` sends). */
  query<const S extends Select<E> = {}, const A extends Aggregates<E> = {}>(args?: FetchArgs<E, S, A>): string;
  /** The rows of a fetch. */
  fetch<const S extends Select<E> = {}, const A extends Aggregates<E> = {}>(args?: FetchArgs<E, S, A>): Promise<Row<E, S, A>[]>;
  /** The whole result of a fetch: rows, version, next cursor, stats. */
  fetchPage<const S extends Select<E> = {}, const A extends Aggregates<E> = {}>(args?: FetchArgs<E, S, A>): Promise<Page<Row<E, S, A>>>;
  /** Inserts one row; resolves to its id. */
  insert(values: Model[E]["insert"]): Promise<Model[E]["id"]>;
  update(id: Model[E]["id"], set: Model[E]["update"], ifVersion?: number): Promise<Model[E]["id"]>;
  /** Updates the row holding `key` (a unique index), or inserts key + values. */
  upsert(key: Model[E]["unique"], values: Model[E]["update"]): Promise<{ id: Model[E]["id"]; inserted: boolean }>;
  delete(id: Model[E]["id"]): Promise<{ id: Model[E]["id"]; cascaded?: number }>;
  link<R extends keyof Model[E]["links"]>(relation: R, from: Model[E]["id"], to: Model[Model[E]["links"][R] & Ent]["id"]): Promise<boolean>;
  unlink<R extends keyof Model[E]["links"]>(relation: R, from: Model[E]["id"], to: Model[Model[E]["links"][R] & Ent]["id"]): Promise<boolean>;
}

export type Client = { readonly [E in Ent]: EntityClient<E> } & {
  /** Applies ops (from `ops.Entity.insert(...)`, ...) as one transaction. */
  batch(ops: readonly Op[]): Promise<MutationResult>;
};

// ---- compiling to the JSON IR ----

type AnyArgs = {
  where?: AnyObj; orderBy?: AnyObj | readonly AnyObj[]; limit?: number; after?: string;
  select?: AnyObj; aggregate?: AnyObj;
};
type AnyObj = { [key: string]: any };
const OPS: { [op: string]: string } = {
  eq: "==", ne: "!=", lt: "<", lte: "<=", gt: ">", gte: ">=",
};
const AGGREGATES: { [key: string]: string } = {
  count: "count", countDistinct: "count_distinct", sum: "sum", avg: "avg", min: "min", max: "max",
};

function isOps(v: unknown): v is AnyObj {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Date) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k in OPS || k === "in" || k === "notIn" || k === "like" || k === "isNull");
}
function literal(v: unknown): unknown {
  return v instanceof Date ? v.toISOString() : v;
}
function compare(path: string, op: string, value: unknown): AnyObj {
  return { op, args: [{ path }, { value: literal(value) }] };
}
function fieldPreds(path: string, v: unknown): AnyObj[] {
  if (v === null) return [{ op: "is_null", args: [{ path }] }];
  if (!isOps(v)) return [compare(path, "==", v)];
  const out: AnyObj[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    if (k in OPS) out.push(compare(path, OPS[k], x));
    else if (k === "in" || k === "notIn") {
      out.push({ op: k === "in" ? "in" : "not_in", args: [{ path }], list: (x as unknown[]).map(literal) });
    } else if (k === "like") out.push({ op: "like", args: [{ path }, { value: x }] });
    else out.push({ op: x ? "is_null" : "is_not_null", args: [{ path }] });
  }
  return out;
}
function conj(preds: AnyObj[]): AnyObj | undefined {
  if (preds.length === 0) return undefined;
  return preds.length === 1 ? preds[0] : { op: "and", args: preds };
}
function wherePreds(entity: string, w: AnyObj, prefix: string): AnyObj[] {
  const meta = META[entity as Ent];
  const out: AnyObj[] = [];
  for (const [k, v] of Object.entries(w)) {
    if (v === undefined) continue;
    if (k === "AND" || k === "OR") {
      const parts = (v as AnyObj[]).map((x) => conj(wherePreds(entity, x, prefix))).filter((p) => p !== undefined);
      if (k === "AND") out.push(...(parts as AnyObj[]));
      else if (parts.length > 0) out.push({ op: "or", args: parts });
    } else if (k === "NOT") {
      const inner = conj(wherePreds(entity, v, prefix));
      if (inner) out.push({ op: "not", args: [inner] });
    } else if (k in meta.refs && v !== null && typeof v === "object" && !isOps(v)) {
      out.push(...wherePreds((meta.refs as AnyObj)[k], v, prefix + k + "."));
    } else {
      out.push(...fieldPreds(prefix + k, v));
    }
  }
  return out;
}
function orderKeys(o: AnyObj | readonly AnyObj[]): AnyObj[] {
  const keys: AnyObj[] = [];
  for (const part of Array.isArray(o) ? o : [o]) {
    for (const [path, dir] of Object.entries(part)) {
      if (dir !== undefined) keys.push(dir === "desc" ? { path, desc: true } : { path });
    }
  }
  return keys;
}
function selectItems(entity: string, select: AnyObj | undefined, aggregate: AnyObj | undefined): unknown[] {
  const meta = META[entity as Ent];
  const items: unknown[] = [];
  for (const [k, v] of Object.entries(select ?? {})) {
    if (v === undefined || v === false) continue;
    if (k in meta.many) {
      const target = (meta.many as AnyObj)[k];
      items.push(v === true ? { include: k, select: ["id"] } : { include: k, ...fetchArgs(target, v) });
    } else if (k in meta.refs && v !== true) {
      items.push({ include: k, select: selectItems((meta.refs as AnyObj)[k], v.select, undefined) });
    } else {
      items.push(k);
    }
  }
  for (const [name, spec] of Object.entries(aggregate ?? {})) {
    const [kind, path] = Object.entries(spec as AnyObj)[0];
    items.push({ aggregate: AGGREGATES[kind], name, path });
  }
  return items.length > 0 ? items : ["id"];
}
function fetchArgs(entity: string, args: AnyArgs): AnyObj {
  const ir: AnyObj = {};
  const where = args.where ? conj(wherePreds(entity, args.where, "")) : undefined;
  if (where) ir.where = where;
  if (args.orderBy) ir.order = orderKeys(args.orderBy);
  if (args.limit !== undefined) ir.limit = args.limit;
  if (args.after !== undefined) ir.after = args.after;
  ir.select = selectItems(entity, args.select, args.aggregate);
  return ir;
}
/** The JSON IR object of a fetch of `entity`. */
export function compileFetch(entity: Ent, args: object = {}): object {
  return { entity, ...fetchArgs(entity, args as AnyArgs) };
}

function values(v: AnyObj): AnyObj {
  const out: AnyObj = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = literal(x);
  return out;
}
function entityOps<E extends Ent>(entity: E): EntityOps<E> {
  return {
    insert: (v, as) => ({ op: "insert", entity, values: values(v), ...(as ? { as } : {}) }),
    update: (id, set, ifVersion) =>
      ({ op: "update", entity, id, set: values(set), ...(ifVersion !== undefined ? { if_version: ifVersion } : {}) }),
    upsert: (key, v, as) => ({ op: "upsert", entity, key: values(key), values: values(v), ...(as ? { as } : {}) }),
    delete: (id) => ({ op: "delete", entity, id }),
    link: (relation, from, to) => ({ op: "link", relation: `${entity}.${String(relation)}`, from, to }),
    unlink: (relation, from, to) => ({ op: "unlink", relation: `${entity}.${String(relation)}`, from, to }),
  };
}
/** The op builders of every entity: `ops.Post.insert({...}, "p")`. */
export const ops: { readonly [E in Ent]: EntityOps<E> } =
  Object.fromEntries(Object.keys(META).map((e) => [e, entityOps(e as Ent)])) as any;

// The TypeScript client's fetch resolves to a FetchResult read in place
// from the reply; its toJSON() is the result tree. Other executors resolve
// to the tree itself.
function tree(result: unknown): unknown {
  const r = result as AnyObj | null;
  return r !== null && typeof r === "object" && typeof r.toJSON === "function" ? r.toJSON() : r;
}

/** The typed client over an Executor (the TypeScript client, or any object
 *  with fetch and mutate). */
export function client(db: Executor): Client {
  const batch = async (list: readonly Op[]) => (await db.mutate({ ops: list })) as MutationResult;
  const one = async (op: Op) => (await batch([op])).results[0] as AnyObj;
  const entityClient = (entity: Ent): EntityClient<Ent> => {
    const o = entityOps(entity) as EntityOps<any>;
    const page = async (args?: object) => tree(await db.fetch(JSON.stringify(compileFetch(entity, args)))) as Page<any>;
    return {
      query: (args?: object) => JSON.stringify(compileFetch(entity, args)),
      fetch: async (args?: object) => (await page(args)).data,
      fetchPage: page,
      insert: async (v: any) => (await one(o.insert(v))).id,
      update: async (id: any, set: any, ifVersion?: number) => (await one(o.update(id, set, ifVersion))).id,
      upsert: async (key: any, v: any) => (await one(o.upsert(key, v))) as any,
      delete: async (id: any) => (await one(o.delete(id))) as any,
      link: async (r: any, from: any, to: any) => (await one(o.link(r, from, to))).changed,
      unlink: async (r: any, from: any, to: any) => (await one(o.unlink(r, from, to))).changed,
    } as any;
  };
  const c: AnyObj = { batch };
  for (const e of Object.keys(META)) c[e] = entityClient(e as Ent);
  return c as Client;
}
