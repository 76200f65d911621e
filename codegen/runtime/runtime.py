# ---------------------------------------------------------------------------
# The typed client's runtime: the same for every schema (codegen/runtime/
# runtime.py in the ormdb repository). It compiles fetch arguments to the
# JSON IR (docs/reference/queries.md) and mutations to batches
# (docs/reference/mutations.md), using META (the schema's relations, below),
# and runs them on an ormdb.Database (ormdb.open or ormdb.connect).
# ---------------------------------------------------------------------------

import datetime
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


class Ref(TypedDict):
    """Names a row inserted earlier in the same batch (its ``as_``)."""
    ref: str


def ref(name: str) -> Ref:
    return {"ref": name}


Op = Dict[str, Any]
MutationResult = Dict[str, Any]

BoolFilter = TypedDict("BoolFilter", {"eq": bool, "ne": bool, "is_null": bool}, total=False)
IntFilter = TypedDict("IntFilter", {
    "eq": int, "ne": int, "lt": int, "lte": int, "gt": int, "gte": int,
    "in": Sequence[int], "not_in": Sequence[int], "is_null": bool}, total=False)
FloatFilter = TypedDict("FloatFilter", {
    "eq": float, "ne": float, "lt": float, "lte": float, "gt": float, "gte": float,
    "in": Sequence[float], "not_in": Sequence[float], "is_null": bool}, total=False)
StrFilter = TypedDict("StrFilter", {
    "eq": str, "ne": str, "lt": str, "lte": str, "gt": str, "gte": str,
    "in": Sequence[str], "not_in": Sequence[str], "like": str, "is_null": bool}, total=False)
TimestampFilter = TypedDict("TimestampFilter", {
    "eq": TimestampIn, "ne": TimestampIn, "lt": TimestampIn, "lte": TimestampIn,
    "gt": TimestampIn, "gte": TimestampIn, "in": Sequence[TimestampIn],
    "not_in": Sequence[TimestampIn], "is_null": bool}, total=False)
JsonFilter = TypedDict("JsonFilter", {"is_null": bool}, total=False)
Direction = Literal["asc", "desc"]

_COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_OPERATORS = set(_COMPARISONS) | {"in", "not_in", "like", "is_null"}
_AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")


def _is_ops(v: Any) -> bool:
    return isinstance(v, Mapping) and len(v) > 0 and all(k in _OPERATORS for k in v)


def _compare(path: str, op: str, value: Any) -> Dict[str, Any]:
    return {"op": op, "args": [{"path": path}, {"value": value}]}


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
            out.append({"op": k, "args": [{"path": path}], "list": list(x)})
        elif k == "like":
            out.append({"op": "like", "args": [{"path": path}, {"value": x}]})
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
        elif k in refs and isinstance(v, Mapping) and not _is_ops(v):
            out.extend(_where_preds(refs[k], v, prefix + k + "."))
        else:
            out.extend(_field_preds(prefix + k, v))
    return out


def _order_keys(o: Any) -> List[Dict[str, Any]]:
    keys: List[Dict[str, Any]] = []
    for part in (o if isinstance(o, Sequence) else [o]):
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
        kind, path = next(iter(spec.items()))
        if kind not in _AGGREGATES:
            raise ValueError(f"unknown aggregate {kind!r} (one of {', '.join(_AGGREGATES)})")
        items.append({"aggregate": kind, "name": name, "path": path})
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


class EntityClient(Generic[RowT, SelectT, WhereT, OrderT, AggT, InsertT, UpdateT, UniqueT, LinkT, IdT]):
    """One entity of the client: typed fetches, mutations, and op builders
    for batches (``db.batch([...])``)."""

    def __init__(self, db: ormdb.Database, entity: str) -> None:
        self._db = db
        self.entity = entity

    def query(self, *, where: Optional[WhereT] = None,
              order_by: Union[OrderT, Sequence[OrderT], None] = None, limit: Optional[int] = None,
              after: Optional[str] = None, select: Optional[SelectT] = None,
              aggregate: Optional[Mapping[str, AggT]] = None) -> Dict[str, Any]:
        """The JSON IR of a fetch (what ``fetch`` sends), as a dict."""
        return compile_fetch(self.entity, where=where, order_by=order_by, limit=limit, after=after,
                             select=select, aggregate=aggregate)

    def fetch_page(self, *, where: Optional[WhereT] = None,
                   order_by: Union[OrderT, Sequence[OrderT], None] = None,
                   limit: Optional[int] = None, after: Optional[str] = None,
                   select: Optional[SelectT] = None,
                   aggregate: Optional[Mapping[str, AggT]] = None) -> Page[RowT]:
        """The whole result of a fetch: rows, version, next cursor, stats."""
        ir = self.query(where=where, order_by=order_by, limit=limit, after=after, select=select,
                        aggregate=aggregate)
        result = self._db.fetch(ir).to_dict()
        return Page(cast(List[RowT], result["data"]), cast(int, result["version"]),
                    cast(Optional[str], result["next"]), cast(Dict[str, Any], result["stats"]))

    def fetch(self, *, where: Optional[WhereT] = None,
              order_by: Union[OrderT, Sequence[OrderT], None] = None, limit: Optional[int] = None,
              after: Optional[str] = None, select: Optional[SelectT] = None,
              aggregate: Optional[Mapping[str, AggT]] = None) -> List[RowT]:
        """The rows of a fetch, as dicts (docs/reference/json.md)."""
        return self.fetch_page(where=where, order_by=order_by, limit=limit, after=after,
                               select=select, aggregate=aggregate).data

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
