"""Fetch and select results, read lazily from the C++ result.

A ``FetchResult`` keeps the engine's result blocks (embedded) or the reply read
in place (remote); an ``Object`` is a position in it, and reading an attribute
reads that one value. Nothing is copied into Python objects until asked:
``to_dict()`` parses the result's JSON once, on first use.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union, overload

from . import _ormdb
from ._schema import Shapes

# The JSON form of a value, an object or a result (docs/reference/json.md).
JsonValue = Any

_MISSING = object()

# How an object was reached from the root: its root index, then per include
# the relation's name and the index in it (None for a to-one include).
_Path = Tuple[Union[int, str, None], ...]


def _dumps(value: JsonValue) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Object:
    """One object of a fetch result: an entity row reached through the root or
    an include.

    Fields and includes read as attributes (``post.title``, ``post.author``) or
    items (``post["title"]``); ``obj["posts@next"]`` is the cursor of a
    limited include's next children. Values are Python values: ``int``,
    ``float``, ``str``, ``bytes``, ``bool``, ``None``, ``datetime`` (UTC) for
    timestamps, ``uuid.UUID``, and parsed JSON for ``json`` fields. A to-one
    include is an ``Object`` or ``None``, a to-many include a list of them.
    """

    __slots__ = ("_native", "_result", "_path")

    def __init__(self, native: _ormdb.Object, result: "FetchResult", path: _Path) -> None:
        self._native = native
        self._result = result
        self._path = path

    @property
    def entity(self) -> str:
        """The entity type's name ("Post")."""
        return self._native.entity

    @property
    def id(self) -> Any:
        """The row's id: an int, or a ``uuid.UUID`` for ``id: uuid`` entities."""
        return self._native.id

    def _read(self, name: str) -> Any:
        if name.endswith("@next"):
            return self._native.related_next(name[: -len("@next")])
        value = self._native.value(name, _MISSING)
        if value is not _MISSING:
            return value
        to_one = self._result._shapes.to_one(self.entity, name)
        if to_one is None:
            raise KeyError(self._result._shapes.describe_missing(self.entity, name))
        related = self._native.related(name)
        if to_one:
            return Object(related[0], self._result, self._path + (name, None)) if related else None
        return [Object(o, self._result, self._path + (name, i)) for i, o in enumerate(related)]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._read(name)
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    def __getitem__(self, name: str) -> Any:
        return self._read(name)

    def get(self, name: str, default: Any = None) -> Any:
        """The field or include ``name``, or ``default`` when the query did not select it."""
        try:
            return self._read(name)
        except KeyError:
            return default

    def to_dict(self) -> Dict[str, JsonValue]:
        """The object as docs/reference/json.md renders it: ``id`` first, then the
        selected fields and includes in selection order, values in their JSON
        form (timestamps as RFC 3339 strings). Parses the whole result's JSON
        once per result."""
        node: Any = self._result.to_dict()["data"]
        for step in self._path:
            if step is not None:
                node = node[step]
        assert isinstance(node, dict)
        return node

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    def keys(self) -> List[str]:
        """The selected names, in selection order (reads ``to_dict()``)."""
        return list(self.to_dict().keys())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Object):
            return NotImplemented
        return (self.entity, self.id) == (other.entity, other.id)

    def __hash__(self) -> int:
        return hash((self.entity, self.id))

    def __repr__(self) -> str:
        return f"<ormdb.Object {self.entity} id={self.id!r}>"


class FetchResult(Sequence[Object]):
    """The result of ``db.fetch``: a sequence of the root objects.

    ``version`` is the snapshot read (a valid ``watch(after=...)`` token),
    ``next`` the cursor of the next root page or ``None``, ``stats`` the
    budget statistics. ``to_json()`` is byte for byte the C++ ``ToJson()``.
    """

    def __init__(self, native: _ormdb.FetchResult, shapes: Shapes) -> None:
        self._native = native
        self._shapes = shapes
        self._dict: Optional[Dict[str, JsonValue]] = None

    @property
    def version(self) -> int:
        return self._native.version

    @property
    def next(self) -> Optional[str]:
        return self._native.next

    @property
    def stats(self) -> Dict[str, Any]:
        return self._native.stats

    def __len__(self) -> int:
        return len(self._native)

    @overload
    def __getitem__(self, index: int) -> Object: ...

    @overload
    def __getitem__(self, index: slice) -> List[Object]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[Object, List[Object]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("root index out of range")
        return Object(self._native.root(index), self, (index,))

    def __iter__(self) -> Iterator[Object]:
        for i, native in enumerate(self._native.roots()):
            yield Object(native, self, (i,))

    def to_json(self) -> str:
        """``{"version", "data", "next", "stats"}`` (docs/reference/json.md)."""
        return self._native.to_json()

    def to_dict(self) -> Dict[str, JsonValue]:
        """``to_json()`` parsed (once; later calls return the same dict)."""
        if self._dict is None:
            self._dict = json.loads(self.to_json())
        return self._dict

    def to_blocks_json(self) -> str:
        """The result blocks (``ormdb query --format blocks``)."""
        return self._native.to_blocks_json()

    def __repr__(self) -> str:
        return f"<ormdb.FetchResult version={self.version} roots={len(self)}>"


class SelectResult(Sequence[Tuple[Any, ...]]):
    """The result of ``db.select``: a sequence of rows (tuples, values as in
    ``Object``), with ``columns``, ``version`` and the ``next`` cursor."""

    def __init__(self, native: _ormdb.SelectResult) -> None:
        self._native = native

    @property
    def version(self) -> int:
        return self._native.version

    @property
    def next(self) -> Optional[str]:
        return self._native.next

    @property
    def columns(self) -> List[str]:
        return self._native.columns

    def __len__(self) -> int:
        return len(self._native)

    @overload
    def __getitem__(self, index: int) -> Tuple[Any, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> List[Tuple[Any, ...]]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[Tuple[Any, ...], List[Tuple[Any, ...]]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        return self._native.row(index)

    def __iter__(self) -> Iterator[Tuple[Any, ...]]:
        for i in range(len(self)):
            yield self._native.row(i)

    def dicts(self) -> List[Dict[str, Any]]:
        """The rows as dicts keyed by column name."""
        columns = self.columns
        return [dict(zip(columns, row)) for row in self]

    def to_json(self) -> str:
        """``{"version", "columns", "rows", "next"}`` (docs/reference/select.md)."""
        return self._native.to_json()

    def to_dict(self) -> Dict[str, JsonValue]:
        return dict(json.loads(self.to_json()))

    def to_csv(self) -> str:
        return self._native.to_csv()

    def __repr__(self) -> str:
        return f"<ormdb.SelectResult version={self.version} rows={len(self)}>"
