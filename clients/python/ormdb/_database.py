"""ormdb.Database: the same API embedded (``ormdb.open``) and remote (``ormdb.connect``)."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from . import _ormdb
from ._result import FetchResult, JsonValue, SelectResult
from ._schema import Shapes

# A mutation batch: {"ops": [...]} or the list of ops alone (docs/reference/mutations.md).
Mutation = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]
# A graph fetch: the text form, or the JSON IR as a dict (docs/reference/queries.md).
Query = Union[str, Mapping[str, Any]]


def _json_default(value: Any) -> Any:
    """Python values the JSON forms take that json does not know."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise TypeError(f"a naive datetime is ambiguous: give it a tzinfo ({value!r})")
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a value ormdb takes: {value!r}")


def to_json(value: Any) -> str:
    """`value` as the JSON text ormdb reads: datetimes as RFC 3339, uuids as
    text, bytes as base64."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def _query_text(query: Query) -> str:
    return query if isinstance(query, str) else to_json(query)


def _seconds_to_ms(seconds: float) -> int:
    return max(0, int(round(seconds * 1000)))


class WatchEvents(Iterator[Dict[str, JsonValue]]):
    """The change events after a version, as an endless iterator of dicts
    (docs/reference/json.md), long-polling for more.

    ``token`` is the resume token: every event at or below it has been
    returned by the iterator (or filtered out). Pass it as
    ``db.watch(after=token)`` to continue, in this process or another. It
    moves when the iterator returns the last event of a transaction, so
    resuming after a stop in the middle of a transaction returns that whole
    transaction again and skips nothing.
    """

    def __init__(
        self,
        db: "Database",
        entities: List[str],
        after: Optional[int],
        wait: float,
        max_events: int,
        subscriber: str,
    ) -> None:
        self._db = db
        self._entities = entities
        self._after = after
        self._wait_ms = _seconds_to_ms(wait)
        self._max_events = max_events
        self._subscriber = subscriber
        self._pending: List[Dict[str, JsonValue]] = []
        self._batch_token: Optional[int] = None
        self.token: Optional[int] = after

    def poll(self, wait: Optional[float] = None) -> List[Dict[str, JsonValue]]:
        """The next batch of events (whole transactions), waiting up to `wait`
        seconds (default: the watch's) for one; [] when none came."""
        events = self._pending
        self._pending = []
        if events:
            self.token = self._batch_token
            return events
        wait_ms = self._wait_ms if wait is None else _seconds_to_ms(wait)
        raw, token = self._db._native_db.watch(
            self._entities, self.token, wait_ms, self._max_events, self._subscriber
        )
        self.token = token
        return [json.loads(e) for e in raw]

    def __next__(self) -> Dict[str, JsonValue]:
        while not self._pending:
            raw, token = self._db._native_db.watch(
                self._entities, self.token, self._wait_ms, self._max_events, self._subscriber
            )
            if not raw:
                self.token = token
                continue
            self._pending = [json.loads(e) for e in raw]
            self._batch_token = token
        event = self._pending.pop(0)
        # A batch holds whole transactions; their events share a version.
        if not self._pending:
            self.token = self._batch_token
        elif self._pending[0]["version"] != event["version"]:
            version = event["version"]
            assert isinstance(version, int)
            self.token = version
        return event


class Database:
    """A database, embedded or remote. Every method may be called from any
    thread; the GIL is released while the database works. Errors are
    ``ormdb.Error`` subclasses, one per code. Use as a context manager, or
    call ``close()``."""

    def __init__(self, native: _ormdb.Database, url: Optional[str] = None) -> None:
        self._native_db = native
        self.url = url
        self._shapes = Shapes(native.schema_json)

    # ---- lifetime ----
    def close(self) -> None:
        self._native_db.close()

    @property
    def closed(self) -> bool:
        return self._native_db.closed

    @property
    def remote(self) -> bool:
        return self.url is not None

    def as_principal(self, principal: Optional[Dict[str, JsonValue]]) -> "Database":
        """A handle on the same database acting for `principal`
        (``{"id": 7, "roles": ["user"], "tenant": "acme"}``, or None for an
        anonymous request): the schema's access rules apply to all it reads
        and writes (docs/reference/policies.md). Remotely the server allows
        it only for a key with the role impersonate; PermissionDenied
        otherwise."""
        native = self._native_db.as_principal(json.dumps(principal))
        return Database(native, self.url)

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.url if self.url is not None else "embedded"
        return f"<ormdb.Database {where}{' closed' if self.closed else ''}>"

    # ---- schema ----
    def apply_schema(
        self,
        text: str,
        *,
        dry_run: bool = False,
        allow_destructive: bool = False,
        file_name: str = "schema",
    ) -> Dict[str, JsonValue]:
        """Plans and applies a schema (docs/reference/schema.md); returns the
        migration report: grade, changes, applied, schema_version, ..."""
        report = self._native_db.apply_schema(text, dry_run, allow_destructive, file_name)
        self._shapes.invalidate()
        result: Dict[str, JsonValue] = json.loads(report)
        return result

    def schema(self) -> str:
        """The current schema as schema text (it applies back unchanged)."""
        return self._native_db.schema_text()

    def schema_json(self) -> Dict[str, JsonValue]:
        result: Dict[str, JsonValue] = json.loads(self._native_db.schema_json())
        return result

    # ---- writes ----
    def mutate(self, ops: Mutation, *, request_key: str = "") -> Dict[str, JsonValue]:
        """Applies a batch as one transaction: ``{"ops": [...]}`` or the list of
        ops. Returns ``{"version", "refs", "results"}``. With `request_key`, a
        retried batch is applied once."""
        batch = {"ops": list(ops)} if isinstance(ops, Sequence) else ops
        result: Dict[str, JsonValue] = json.loads(
            self._native_db.mutate(to_json(batch), request_key)
        )
        return result

    # ---- reads ----
    def get(self, entity: str, id: Any) -> Optional[Dict[str, JsonValue]]:
        """The row (``id`` and every stored field, JSON values) or None."""
        row = self._native_db.get(entity, str(id))
        if row is None:
            return None
        result: Dict[str, JsonValue] = json.loads(row)
        return result

    def fetch(
        self,
        query: Query,
        params: Optional[Mapping[str, Any]] = None,
        *,
        as_of: Optional[int] = None,
        max_entities: Optional[int] = None,
        max_edges: Optional[int] = None,
        max_depth: Optional[int] = None,
        max_bytes: Optional[int] = None,
        max_scanned_rows: Optional[int] = None,
        on_exceed: Optional[str] = None,
        **kwparams: Any,
    ) -> FetchResult:
        """Runs a graph fetch (docs/reference/queries.md). `query` is the text
        form or the JSON IR (a dict); its ``$params`` bind from `params` and the
        other keyword arguments. The budget options may only lower the
        database's; ``on_exceed="truncate"`` returns a partial result instead of
        BudgetExceeded. Cursors (``result.next``, ``obj["posts@next"]``) go
        back into the query as ``after: "..."`` (or ``"after"`` in the IR)."""
        bound = dict(params or {}, **kwparams)
        native = self._native_db.fetch(
            _query_text(query),
            to_json(bound),
            as_of,
            max_entities,
            max_edges,
            max_depth,
            max_bytes,
            max_scanned_rows,
            on_exceed,
        )
        return FetchResult(native, self._shapes)

    def explain(
        self,
        query: Query,
        params: Optional[Mapping[str, Any]] = None,
        *,
        analyze: bool = False,
        as_json: bool = False,
        as_of: Optional[int] = None,
        **kwparams: Any,
    ) -> str:
        """The plan of a fetch, as text (or JSON text); with `analyze`, also
        what running it did."""
        bound = dict(params or {}, **kwparams)
        return self._native_db.explain(_query_text(query), to_json(bound), analyze, as_json, as_of)

    def select(
        self,
        text: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        as_of: Optional[int] = None,
        max_scanned_rows: Optional[int] = None,
        max_rows: Optional[int] = None,
        **kwparams: Any,
    ) -> SelectResult:
        """Runs a select statement (relational mode, docs/reference/select.md)."""
        bound = dict(params or {}, **kwparams)
        native = self._native_db.select(text, to_json(bound), as_of, max_scanned_rows, max_rows)
        return SelectResult(native)

    def explain_select(
        self,
        text: str,
        params: Optional[Mapping[str, Any]] = None,
        *,
        analyze: bool = False,
        as_json: bool = False,
        as_of: Optional[int] = None,
        **kwparams: Any,
    ) -> str:
        bound = dict(params or {}, **kwparams)
        return self._native_db.explain_select(text, to_json(bound), analyze, as_json, as_of)

    # ---- change stream ----
    def watch(
        self,
        entities: Iterable[str] = (),
        *,
        after: Optional[int] = None,
        wait: float = 30.0,
        max_events: int = 1000,
        subscriber: str = "",
    ) -> WatchEvents:
        """The change events after version `after` (a resume token or a fetch
        result's version; None: from now), for `entities` (empty: all), as an
        endless iterator that long-polls `wait` seconds at a time. A named
        `subscriber` pins the change log until it has read it."""
        return WatchEvents(self, list(entities), after, wait, max_events, subscriber)

    # ---- maintenance ----
    def stats(self) -> Dict[str, JsonValue]:
        result: Dict[str, JsonValue] = json.loads(self._native_db.stats())
        return result

    @property
    def version(self) -> int:
        """The newest committed version."""
        return self._native_db.current_version()
