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
/** A named parameter (`$name` of the text form), in a condition where a
 *  value goes: `{ age: { gte: param("min") } }`. Its value is given in the
 *  fetch's `params` (`params: { min: 30 }`), typed as the compared field. */
export class Param<N extends string = string> {
  declare private readonly paramBrand: undefined;
  constructor(readonly name: N) {}
}
export function param<const N extends string>(name: N): Param<N> { return new Param(name); }
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

/** Comparisons of one field: `{ gte: 30 }`, `{ in: ["a", "b"] }`, `{ like: "A%" }`;
 *  a Param stands for a value anywhere. */
export type Ops<T> = {
  eq?: T | Param; ne?: T | Param; lt?: T | Param; lte?: T | Param; gt?: T | Param; gte?: T | Param;
  in?: readonly (T | Param)[]; notIn?: readonly (T | Param)[];
  isNull?: boolean;
  like?: [T] extends [string] ? string | Param : never;
};
/** A value (equality), a Param, null (is null) or comparisons. */
export type Filter<T> = NonNullable<T> | Param | Ops<NonNullable<T>> | (null extends T ? null : never);

/** A row condition: every member must hold (and). A reference takes a
 *  filter of the referenced id or a condition on the referenced row. */
export type Where<E extends Ent> =
  & { id?: Filter<Model[E]["id"]> }
  & { [K in keyof Inputs<E>]?: Filter<Inputs<E>[K]> }
  & { [K in keyof Refs<E>]?: Filter<RefValue<E, K>> | Where<RefTarget<E, K>> }
  & { AND?: readonly Where<E>[]; OR?: readonly Where<E>[]; NOT?: Where<E> };

type Direction = "asc" | "desc";
/** Order keys: a field, an aggregate of the selection (named in `A`), or a
 *  reference as its id (`"asc"`) or as a path into the referenced row
 *  (`{ author: { name: "asc" } }` is `author.name asc`): to-one only. */
export type OrderKey<E extends Ent, A extends string = never> =
  & { [K in "id" | keyof Scalars<E> | A]?: Direction }
  & { [K in keyof Refs<E>]?: Direction | OrderKey<RefTarget<E, K>> };
export type OrderBy<E extends Ent, A extends string = never> = OrderKey<E, A> | readonly OrderKey<E, A>[];
/** An include's order before Strict checks its names (aggregates of the
 *  include may be named). */
type LooseOrderKey = { readonly [name: string]: Direction | LooseOrderKey };
type LooseOrderBy = LooseOrderKey | readonly LooseOrderKey[];

type Paths<T extends Ent> = (keyof Scalars<T> | keyof Refs<T>) & string;
type NumberPaths<T extends Ent> =
  { [F in keyof Scalars<T>]: NonNullable<Scalars<T>[F]> extends number ? F : never }[keyof Scalars<T>] & string;
/** An aggregate over a to-many relation, per row: `{ count: "comments" }`,
 *  `{ avg: "posts.score" }`, with an optional condition on the related rows
 *  (`{ count: "posts", where: { status: "published" } }`). */
export type Aggregate<E extends Ent> = {
  [K in keyof Many<E> & string]: (
    | { count: K | `${K}.${Paths<ManyTarget<E, K>>}` } | { countDistinct: `${K}.${Paths<ManyTarget<E, K>>}` }
    | { sum: `${K}.${NumberPaths<ManyTarget<E, K>>}` } | { avg: `${K}.${NumberPaths<ManyTarget<E, K>>}` }
    | { min: `${K}.${Paths<ManyTarget<E, K>>}` } | { max: `${K}.${Paths<ManyTarget<E, K>>}` }
  ) & { where?: Where<ManyTarget<E, K>> }
}[keyof Many<E> & string];
export type Aggregates<E extends Ent> = { [name: string]: Aggregate<E> };
/** The value of a min or max: the field's type (ids for a reference). */
type AggField<E extends Ent, P> = P extends `${infer R}.${infer F}`
  ? (F extends keyof Scalars<ManyTarget<E, R>> ? NonNullable<Scalars<ManyTarget<E, R>>[F]>
    : NonNullable<RefValue<ManyTarget<E, R>, F>>)
  : never;
type AggRow<E extends Ent, A> = {
  -readonly [N in keyof A]: A[N] extends { count: unknown } | { countDistinct: unknown } ? number
    : A[N] extends { sum: unknown } | { avg: unknown } ? number | null
    : A[N] extends { min: infer P } | { max: infer P } ? AggField<E, P> | null : never;
};

/** A to-many include: the root's arguments, per parent row. */
export type Include<E extends Ent> = {
  where?: Where<E>; orderBy?: LooseOrderBy; limit?: number; after?: string;
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
 *  type naming it, at every depth; likewise the order keys of includes. */
export type Strict<E extends Ent, S> = {
  [K in keyof S]: K extends "id" | "_version" | keyof Scalars<E> ? unknown
    : K extends keyof Refs<E> ? (S[K] extends { select: infer SS } ? { select: Strict<RefTarget<E, K>, SS> } : unknown)
    : K extends keyof Many<E> ? StrictInclude<ManyTarget<E, K>, S[K]>
    : { [M in `ormdb: ${E} has no field or relation '${K & string}'`]: never };
};
type StrictInclude<E extends Ent, I> =
  & (I extends { select: infer SS } ? { select: Strict<E, SS> } : unknown)
  & (I extends { orderBy: infer O } ? { orderBy: StrictOrder<E, O, keyof IncludedAggs<I> & string> } : unknown);
type StrictOrder<E extends Ent, O, A extends string> = O extends readonly unknown[]
  ? { [I in keyof O]: StrictOrderKey<E, O[I], A> } : StrictOrderKey<E, O, A>;
type StrictOrderKey<E extends Ent, O, A extends string> = {
  [K in keyof O]: K extends "id" | keyof Scalars<E> | A ? unknown
    : K extends keyof Refs<E> ? (O[K] extends object ? StrictOrderKey<RefTarget<E, K>, O[K], never> : unknown)
    : K extends keyof Many<E> ? { [M in `ormdb: ${E}.${K & string} is a to-many relation: order through to-one relations only`]: never }
    : { [M in `ormdb: ${E} has no field or aggregate '${K & string}'`]: never };
};

// ---- the parameters a fetch uses, typed as the fields they are compared with ----

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type OpKey = "eq" | "ne" | "lt" | "lte" | "gt" | "gte" | "in" | "notIn" | "like" | "isNull";
type ParamIn<F, T> = F extends Param<infer N> ? { [P in N]: T } : never;
type FilterParams<F, T> = F extends Param ? ParamIn<F, T>
  : F extends object ? { [K in keyof F]: K extends "in" | "notIn"
      ? (F[K] extends readonly (infer X)[] ? ParamIn<X, T> : never)
      : K extends "like" ? ParamIn<F[K], string> : ParamIn<F[K], T> }[keyof F]
  : never;
type WhereParams<E extends Ent, W> = {
  [K in keyof W]: K extends "AND" | "OR" ? (W[K] extends readonly (infer X)[] ? WhereParams<E, X> : never)
    : K extends "NOT" ? WhereParams<E, W[K]>
    : K extends "id" ? FilterParams<W[K], Model[E]["id"]>
    : K extends keyof Inputs<E> ? FilterParams<W[K], NonNullable<Inputs<E>[K]>>
    : K extends keyof Refs<E> ? (W[K] extends Param ? ParamIn<W[K], NonNullable<RefValue<E, K>>>
        : keyof W[K] extends OpKey ? FilterParams<W[K], NonNullable<RefValue<E, K>>>
        : WhereParams<RefTarget<E, K>, W[K]>)
    : never;
}[keyof W];
type AggRelation<X> = X extends { [kind: string]: infer P }
  ? (P extends `${infer R}.${string}` ? R : P) : never;
type AggParams<E extends Ent, A> = {
  [N in keyof A]: A[N] extends { where: infer W }
    ? WhereParams<ManyTarget<E, AggRelation<Omit<A[N], "where">>>, W> : never;
}[keyof A];
type SelectParams<E extends Ent, S> = {
  [K in keyof S]: K extends keyof Refs<E> ? (S[K] extends { select: infer SS } ? SelectParams<RefTarget<E, K>, SS> : never)
    : K extends keyof Many<E> ? IncludeParams<ManyTarget<E, K>, S[K]>
    : never;
}[keyof S];
type IncludeParams<E extends Ent, I> =
  | (I extends { where: infer W } ? WhereParams<E, W> : never)
  | (I extends { select: infer SS } ? SelectParams<E, SS> : never)
  | (I extends { aggregate: infer A } ? AggParams<E, A> : never);
/** The `params` of a fetch: every Param its conditions use (the root's, the
 *  includes', the aggregates'), typed as the compared field. */
export type ParamsOf<E extends Ent, W, S, A> = [WhereParams<E, W> | SelectParams<E, S> | AggParams<E, A>] extends [infer U]
  ? ([U] extends [never] ? {} : Simplify<UnionToIntersection<U>>) : never;
type ParamsArg<P> = {} extends P ? { params?: P } : { params: P };

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
  & AggRow<E, A>>;

/** The arguments of a fetch. `select` and `aggregate` decide the row type;
 *  the Params of `where`, `select` and `aggregate` decide `params`. */
export type FetchArgs<E extends Ent, S, A, W = {}> = {
  where?: W; orderBy?: NoInfer<OrderBy<E, keyof A & string>>; limit?: number; after?: string;
  select?: S & NoInfer<Strict<E, S>>;
  aggregate?: A;
} & NoInfer<ParamsArg<ParamsOf<E, W, S, A>>>;
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
  query<const S extends Select<E> = {}, const A extends Aggregates<E> = {}, const W extends Where<E> = {}>(args?: FetchArgs<E, S, A, W>): string;
  /** The rows of a fetch. */
  fetch<const S extends Select<E> = {}, const A extends Aggregates<E> = {}, const W extends Where<E> = {}>(args?: FetchArgs<E, S, A, W>): Promise<Row<E, S, A>[]>;
  /** The whole result of a fetch: rows, version, next cursor, stats. */
  fetchPage<const S extends Select<E> = {}, const A extends Aggregates<E> = {}, const W extends Where<E> = {}>(args?: FetchArgs<E, S, A, W>): Promise<Page<Row<E, S, A>>>;
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
  select?: AnyObj; aggregate?: AnyObj; params?: AnyObj;
};
type AnyObj = { [key: string]: any };
const OPS: { [op: string]: string } = {
  eq: "==", ne: "!=", lt: "<", lte: "<=", gt: ">", gte: ">=",
};
const AGGREGATES: { [key: string]: string } = {
  count: "count", countDistinct: "count_distinct", sum: "sum", avg: "avg", min: "min", max: "max",
};

function isOps(v: unknown): v is AnyObj {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Date || v instanceof Param) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k in OPS || k === "in" || k === "notIn" || k === "like" || k === "isNull");
}
function literal(v: unknown): unknown {
  return v instanceof Date ? v.toISOString() : v;
}
/** An operand or in-list element: a Param as {param}, a value as itself. */
function element(v: unknown): unknown {
  return v instanceof Param ? { param: v.name } : literal(v);
}
function operand(v: unknown): AnyObj {
  return v instanceof Param ? { param: v.name } : { value: literal(v) };
}
function compare(path: string, op: string, value: unknown): AnyObj {
  return { op, args: [{ path }, operand(value)] };
}
function fieldPreds(path: string, v: unknown): AnyObj[] {
  if (v === null) return [{ op: "is_null", args: [{ path }] }];
  if (!isOps(v)) return [compare(path, "==", v)];
  const out: AnyObj[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    if (k in OPS) out.push(compare(path, OPS[k], x));
    else if (k === "in" || k === "notIn") {
      out.push({ op: k === "in" ? "in" : "not_in", args: [{ path }], list: (x as unknown[]).map(element) });
    } else if (k === "like") out.push({ op: "like", args: [{ path }, operand(x)] });
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
    } else if (k in meta.refs && v !== null && typeof v === "object" && !isOps(v) && !(v instanceof Param)) {
      out.push(...wherePreds((meta.refs as AnyObj)[k], v, prefix + k + "."));
    } else {
      out.push(...fieldPreds(prefix + k, v));
    }
  }
  return out;
}
function orderKeys(o: AnyObj | readonly AnyObj[]): AnyObj[] {
  const keys: AnyObj[] = [];
  const add = (part: AnyObj, prefix: string) => {
    for (const [name, dir] of Object.entries(part)) {
      const path = prefix + name;
      if (dir !== null && typeof dir === "object") add(dir, path + ".");
      else if (dir !== undefined) keys.push(dir === "desc" ? { path, desc: true } : { path });
    }
  };
  for (const part of Array.isArray(o) ? o : [o]) add(part, "");
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
    const { where, ...fn } = spec as AnyObj;
    const [kind, path] = Object.entries(fn)[0];
    const item: AnyObj = { aggregate: AGGREGATES[kind], name, path };
    const target = (meta.many as AnyObj)[String(path).split(".")[0]];
    const pred = where && target ? conj(wherePreds(target, where, "")) : undefined;
    if (pred) item.where = pred;
    items.push(item);
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
    const page = async (args?: AnyArgs) => {
      const query = JSON.stringify(compileFetch(entity, args));
      const params = args?.params ? values(args.params) : undefined;
      return tree(await (params ? db.fetch(query, params) : db.fetch(query))) as Page<any>;
    };
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
