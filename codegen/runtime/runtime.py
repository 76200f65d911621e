# ---------------------------------------------------------------------------
# The typed client's runtime: the same for every schema (codegen/runtime/
# runtime.py in the ormdb repository). It compiles fetch arguments to the
# JSON IR (docs/reference/queries.md) and mutations to batches
# (docs/reference/mutations.md), using META (the schema's relations, below),
# and runs them on an ormdb.Database (ormdb.open or ormdb.connect).
# ---------------------------------------------------------------------------

import datetime
import json
import sys
from dataclasses import dataclass
from typing import (Any, Dict, Generic, List, Literal, Mapping, Optional, Sequence, TypeVar, Union,
                    cast)

import ormdb

if sys.version_info >= (3, 11):
    from typing import Never, NotRequired, TypedDict
else:  # pragma: no cover
    from typing_extensions import Never, NotRequired, TypedDict

JsonValue = Any
TimestampIn = Union[str, int, datetime.datetime, datetime.date]
T = TypeVar("T")


class Param(Generic[T]):
    """A named parameter (``$name`` of the text form) where a condition takes a
    value: ``{"age": {"gte": param("min")}}``; its value is given in the
    fetch's ``params`` (``params={"min": 30}``). mypy types it from the place
    it is used (``Param[int]`` for an int field)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"param({self.name!r})"


def param(name: str) -> Param[T]:
    return Param(name)


@dataclass(frozen=True)
class OrderKey:
    """An order key by path, for names a TypedDict cannot list: an aggregate of
    the selection (``desc("posts_n")``) or a path deeper than the generated
    ``Order`` keys (``asc("post.author.name")``)."""
    path: str
    desc: bool = False


def asc(path: str) -> OrderKey:
    return OrderKey(path)


def desc(path: str) -> OrderKey:
    return OrderKey(path, True)


class Ref(TypedDict):
    """Names a row inserted earlier in the same batch (its ``as_``)."""
    ref: str


def ref(name: str) -> Ref:
    return {"ref": name}


Op = Dict[str, Any]
MutationResult = Dict[str, Any]

BoolV = Union[bool, Param[bool]]
BoolFilter = TypedDict("BoolFilter", {"eq": BoolV, "ne": BoolV, "is_null": bool}, total=False)
IntV = Union[int, Param[int]]
IntFilter = TypedDict("IntFilter", {
    "eq": IntV, "ne": IntV, "lt": IntV, "lte": IntV, "gt": IntV, "gte": IntV,
    "in": Sequence[IntV], "not_in": Sequence[IntV], "is_null": bool}, total=False)
FloatV = Union[float, Param[float]]
FloatFilter = TypedDict("FloatFilter", {
    "eq": FloatV, "ne": FloatV, "lt": FloatV, "lte": FloatV, "gt": FloatV, "gte": FloatV,
    "in": Sequence[FloatV], "not_in": Sequence[FloatV], "is_null": bool}, total=False)
StrV = Union[str, Param[str]]
StrFilter = TypedDict("StrFilter", {
    "eq": StrV, "ne": StrV, "lt": StrV, "lte": StrV, "gt": StrV, "gte": StrV,
    "in": Sequence[StrV], "not_in": Sequence[StrV], "like": StrV, "is_null": bool}, total=False)
TimestampV = Union[TimestampIn, Param[TimestampIn]]
TimestampFilter = TypedDict("TimestampFilter", {
    "eq": TimestampV, "ne": TimestampV, "lt": TimestampV, "lte": TimestampV,
    "gt": TimestampV, "gte": TimestampV, "in": Sequence[TimestampV],
    "not_in": Sequence[TimestampV], "is_null": bool}, total=False)
JsonFilter = TypedDict("JsonFilter", {"is_null": bool}, total=False)
Direction = Literal["asc", "desc"]

_COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_OPERATORS = set(_COMPARISONS) | {"in", "not_in", "like", "is_null"}
_AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")


def _is_ops(v: Any) -> bool:
    return isinstance(v, Mapping) and len(v) > 0 and all(k in _OPERATORS for k in v)


def _element(v: Any) -> Any:
    return {"param": v.name} if isinstance(v, Param) else v


def _operand(v: Any) -> Dict[str, Any]:
    return {"param": v.name} if isinstance(v, Param) else {"value": v}


def _compare(path: str, op: str, value: Any) -> Dict[str, Any]:
    return {"op": op, "args": [{"path": path}, _operand(value)]}


def _field_preds(path: str, v: Any) -> List[Dict[str, Any]]:
    if v is None:
        return [{"op": "is_null", "args": [{"path": path}]}]
    if not _is_ops(v):
        return [_compare(path, "==", v)]
    out: List[Dict[str, Any]] = []
    for k, x in v.items():
        if k in _COMPARISONS:
            out.append(_compare(path, _COMPARISONS[k], x))
        elif k in ("in", "not_in"):
            out.append({"op": k, "args": [{"path": path}], "list": [_element(e) for e in x]})
        elif k == "like":
            out.append({"op": "like", "args": [{"path": path}, _operand(x)]})
        else:
            out.append({"op": "is_null" if x else "is_not_null", "args": [{"path": path}]})
    return out


def _conj(preds: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if not preds:
        return None
    return preds[0] if len(preds) == 1 else {"op": "and", "args": preds}


def _where_preds(entity: str, w: Mapping[str, Any], prefix: str) -> List[Dict[str, Any]]:
    refs = META[entity]["refs"]
    out: List[Dict[str, Any]] = []
    for k, v in w.items():
        if k in ("AND", "OR"):
            parts = [p for p in (_conj(_where_preds(entity, x, prefix)) for x in v) if p is not None]
            if k == "AND":
                out.extend(parts)
            elif parts:
                out.append({"op": "or", "args": parts})
        elif k == "NOT":
            inner = _conj(_where_preds(entity, v, prefix))
            if inner is not None:
                out.append({"op": "not", "args": [inner]})
        elif k in refs and isinstance(v, Mapping) and not _is_ops(v):  # not a Param: no Mapping
            out.extend(_where_preds(refs[k], v, prefix + k + "."))
        else:
            out.extend(_field_preds(prefix + k, v))
    return out


def _order_keys(o: Any) -> List[Dict[str, Any]]:
    keys: List[Dict[str, Any]] = []
    for part in (o if isinstance(o, Sequence) else [o]):
        if isinstance(part, OrderKey):
            keys.append({"path": part.path, "desc": True} if part.desc else {"path": part.path})
            continue
        for path, direction in part.items():
            keys.append({"path": path, "desc": True} if direction == "desc" else {"path": path})
    return keys


def _select_items(entity: str, select: Optional[Mapping[str, Any]],
                  aggregate: Optional[Mapping[str, Any]]) -> List[Any]:
    meta = META[entity]
    items: List[Any] = []
    for k, v in (select or {}).items():
        if v is False:
            continue
        if k in meta["many"]:
            if v is True:
                items.append({"include": k, "select": ["id"]})
            else:
                items.append({"include": k, **_fetch_args(meta["many"][k], v)})
        elif k in meta["refs"] and v is not True:
            items.append({"include": k, "select": _select_items(meta["refs"][k], v.get("select"), None)})
        else:
            items.append(k)
    for name, spec in (aggregate or {}).items():
        kind, path = next((k, v) for k, v in spec.items() if k != "where")
        if kind not in _AGGREGATES:
            raise ValueError(f"unknown aggregate {kind!r} (one of {', '.join(_AGGREGATES)})")
        item: Dict[str, Any] = {"aggregate": kind, "name": name, "path": path}
        target = meta["many"].get(path.split(".")[0])
        if spec.get("where") and target is not None:
            where = _conj(_where_preds(target, spec["where"], ""))
            if where is not None:
                item["where"] = where
        items.append(item)
    return items or ["id"]


def _fetch_args(entity: str, args: Mapping[str, Any]) -> Dict[str, Any]:
    ir: Dict[str, Any] = {}
    if args.get("where"):
        where = _conj(_where_preds(entity, args["where"], ""))
        if where is not None:
            ir["where"] = where
    if args.get("order_by"):
        ir["order"] = _order_keys(args["order_by"])
    if args.get("limit") is not None:
        ir["limit"] = args["limit"]
    if args.get("after") is not None:
        ir["after"] = args["after"]
    ir["select"] = _select_items(entity, args.get("select"), args.get("aggregate"))
    return ir


def compile_fetch(entity: str, **args: Any) -> Dict[str, Any]:
    """The JSON IR (a dict) of a fetch of `entity`."""
    return {"entity": entity, **_fetch_args(entity, args)}


def count_of(row: Mapping[str, Any], name: str) -> int:
    """A count or count_distinct aggregate of a row, by its name."""
    return cast(int, row[name])


def aggregate_of(row: Mapping[str, Any], name: str) -> Union[int, float, str, None]:
    """A sum, avg, min or max aggregate of a row, by its name (None: no rows)."""
    return cast(Union[int, float, str, None], row[name])


RowT = TypeVar("RowT")
SelectT = TypeVar("SelectT")
WhereT = TypeVar("WhereT")
OrderT = TypeVar("OrderT")
AggT = TypeVar("AggT")
InsertT = TypeVar("InsertT")
UpdateT = TypeVar("UpdateT")
UniqueT = TypeVar("UniqueT")
LinkT = TypeVar("LinkT")
IdT = TypeVar("IdT")


@dataclass
class Page(Generic[RowT]):
    """A whole result: the rows, the snapshot read, the next page's cursor."""
    data: List[RowT]
    version: int
    next: Optional[str]
    stats: Dict[str, Any]


def _page(result: Dict[str, Any]) -> Page[Any]:
    return Page(cast(List[Any], result["data"]), cast(int, result["version"]),
                cast(Optional[str], result["next"]), cast(Dict[str, Any], result["stats"]))


def _with_after(node: Dict[str, Any], path: List[str], cursor: str) -> Dict[str, Any]:
    """A copy of `node` whose include at `path` continues from `cursor`."""
    if not path:
        return dict(node, after=cursor)
    items = [_with_after(item, path[1:], cursor)
             if isinstance(item, dict) and item.get("include") == path[0] else item
             for item in node["select"]]
    return dict(node, select=items)


def run_named(db: Any, ir: Dict[str, Any], params: Dict[str, Any], after: Optional[str],
              include_after: Optional[Dict[str, Optional[str]]] = None) -> Page[Any]:
    """Runs a named query's JSON IR (`db`: an ormdb.Database or a Client),
    from the cursor `after` when given, and each include (by its dotted
    path) from its cursor in `include_after`."""
    if not isinstance(db, ormdb.Database):
        db = db.db
    if after is not None:
        ir = dict(ir, after=after)
    for path, cursor in (include_after or {}).items():
        if cursor is not None:
            ir = _with_after(ir, path.split("."), cursor)
    return _page(db.fetch(ir, params).to_dict())


class EntityClient(Generic[RowT, SelectT, WhereT, OrderT, AggT, InsertT, UpdateT, UniqueT, LinkT, IdT]):
    """One entity of the client: typed fetches, mutations, and op builders
    for batches (``db.batch([...])``)."""

    def __init__(self, db: ormdb.Database, entity: str) -> None:
        self._db = db
        self.entity = entity

    def query(self, *, where: Optional[WhereT] = None,
              order_by: Union[OrderT, OrderKey, Sequence[Union[OrderT, OrderKey]], None] = None,
              limit: Optional[int] = None, after: Optional[str] = None,
              select: Optional[SelectT] = None,
              aggregate: Optional[Mapping[str, AggT]] = None) -> Dict[str, Any]:
        """The JSON IR of a fetch (what ``fetch`` sends), as a dict."""
        return compile_fetch(self.entity, where=where, order_by=order_by, limit=limit, after=after,
                             select=select, aggregate=aggregate)

    def fetch_page(self, *, where: Optional[WhereT] = None,
                   order_by: Union[OrderT, OrderKey, Sequence[Union[OrderT, OrderKey]], None] = None,
                   limit: Optional[int] = None, after: Optional[str] = None,
                   select: Optional[SelectT] = None,
                   aggregate: Optional[Mapping[str, AggT]] = None,
                   params: Optional[Mapping[str, Any]] = None) -> Page[RowT]:
        """The whole result of a fetch: rows, version, next cursor, stats.
        `params` gives the values of the ``param(...)`` of the conditions."""
        ir = self.query(where=where, order_by=order_by, limit=limit, after=after, select=select,
                        aggregate=aggregate)
        return _page(self._db.fetch(ir, params).to_dict())

    def fetch(self, *, where: Optional[WhereT] = None,
              order_by: Union[OrderT, OrderKey, Sequence[Union[OrderT, OrderKey]], None] = None,
              limit: Optional[int] = None, after: Optional[str] = None,
              select: Optional[SelectT] = None, aggregate: Optional[Mapping[str, AggT]] = None,
              params: Optional[Mapping[str, Any]] = None) -> List[RowT]:
        """The rows of a fetch, as dicts (docs/reference/json.md)."""
        return self.fetch_page(where=where, order_by=order_by, limit=limit, after=after,
                               select=select, aggregate=aggregate, params=params).data

    # Op builders, for db.batch([...]).
    def insert_op(self, values: InsertT, as_: Optional[str] = None) -> Op:
        op: Op = {"op": "insert", "entity": self.entity, "values": values}
        if as_:
            op["as"] = as_
        return op

    def update_op(self, id: Union[IdT, Ref], set: UpdateT, if_version: Optional[int] = None) -> Op:
        op: Op = {"op": "update", "entity": self.entity, "id": id, "set": set}
        if if_version is not None:
            op["if_version"] = if_version
        return op

    def upsert_op(self, key: UniqueT, values: UpdateT, as_: Optional[str] = None) -> Op:
        op: Op = {"op": "upsert", "entity": self.entity, "key": key, "values": values}
        if as_:
            op["as"] = as_
        return op

    def delete_op(self, id: Union[IdT, Ref]) -> Op:
        return {"op": "delete", "entity": self.entity, "id": id}

    def link_op(self, relation: LinkT, from_: Union[IdT, Ref], to: Any) -> Op:
        return {"op": "link", "relation": f"{self.entity}.{relation}", "from": from_, "to": to}

    def unlink_op(self, relation: LinkT, from_: Union[IdT, Ref], to: Any) -> Op:
        return {"op": "unlink", "relation": f"{self.entity}.{relation}", "from": from_, "to": to}

    # The same, applied at once (a batch of one op).
    def _one(self, op: Op) -> Dict[str, Any]:
        results = cast(List[Dict[str, Any]], self._db.mutate([op])["results"])
        return results[0]

    def insert(self, values: InsertT) -> IdT:
        """Inserts one row; returns its id."""
        return cast(IdT, self._one(self.insert_op(values))["id"])

    def update(self, id: IdT, set: UpdateT, if_version: Optional[int] = None) -> IdT:
        return cast(IdT, self._one(self.update_op(id, set, if_version))["id"])

    def upsert(self, key: UniqueT, values: UpdateT) -> Dict[str, Any]:
        """Updates the row holding `key` (a unique index) or inserts key + values:
        ``{"id": ..., "inserted": bool}``."""
        return self._one(self.upsert_op(key, values))

    def delete(self, id: IdT) -> Dict[str, Any]:
        return self._one(self.delete_op(id))

    def link(self, relation: LinkT, from_: IdT, to: Any) -> bool:
        return bool(self._one(self.link_op(relation, from_, to))["changed"])

    def unlink(self, relation: LinkT, from_: IdT, to: Any) -> bool:
        return bool(self._one(self.unlink_op(relation, from_, to))["changed"])
