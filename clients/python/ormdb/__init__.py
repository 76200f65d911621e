"""ormdb: the Python client of the ormdb graph-fetch database.

    import ormdb

    with ormdb.open("./data") as db:                   # embedded, in this process
        db.apply_schema(open("blog.ormdb").read())
        db.mutate([{"op": "insert", "entity": "User",
                    "values": {"email": "ann@example.com", "name": "Ann"}}])
        for user in db.fetch("User(where: name == $n) { name, posts { title } }", n="Ann"):
            print(user.name, [p.title for p in user.posts])

    db = ormdb.connect("tcp://127.0.0.1:7411", key="...")  # the same API, remote

See docs/reference/python.md.
"""

from __future__ import annotations

from typing import Optional

from . import _ormdb
from ._database import Database, Mutation, Query, WatchEvents, to_json
from ._errors import (
    BudgetExceeded,
    ConstraintViolation,
    Conflict,
    Error,
    HistoryLost,
    Internal,
    InvalidArgument,
    MigrationRefused,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    SchemaError,
    Unauthenticated,
    Unavailable,
)
from ._result import FetchResult, Object, SelectResult

__all__ = [
    "open",
    "connect",
    "Database",
    "FetchResult",
    "Object",
    "SelectResult",
    "WatchEvents",
    "Mutation",
    "Query",
    "to_json",
    "Error",
    "InvalidArgument",
    "SchemaError",
    "NotFound",
    "ConstraintViolation",
    "Conflict",
    "BudgetExceeded",
    "MigrationRefused",
    "PermissionDenied",
    "Unauthenticated",
    "HistoryLost",
    "ResourceExhausted",
    "Unavailable",
    "Internal",
]


def open(
    path: str,
    *,
    create_if_missing: bool = True,
    initial_map_size: Optional[int] = None,
    max_map_size: Optional[int] = None,
    retention_versions: Optional[int] = None,
    retention_seconds: Optional[int] = None,
    max_entities: Optional[int] = None,
    max_edges: Optional[int] = None,
    max_depth: Optional[int] = None,
    max_bytes: Optional[int] = None,
    max_scanned_rows: Optional[int] = None,
    on_exceed: Optional[str] = None,
) -> Database:
    """Opens (creating if allowed) the data directory `path` in this process.

    The budget options set the database's fetch budget (the default and the
    ceiling of every fetch). Unavailable when another process holds the
    directory; NotFound when it is missing and not create_if_missing.
    """
    native = _ormdb.Database.open(
        path,
        create_if_missing,
        initial_map_size,
        max_map_size,
        retention_versions,
        retention_seconds,
        max_entities,
        max_edges,
        max_depth,
        max_bytes,
        max_scanned_rows,
        on_exceed,
    )
    return Database(native)


def connect(
    url: str,
    *,
    key: Optional[str] = None,
    timeout: float = 60.0,
    tls_ca_file: Optional[str] = None,
    tls_server_name: Optional[str] = None,
    token: Optional[str] = None,
) -> Database:
    """Connects to ``ormdb serve`` at `url` (tcp://HOST:PORT, ipc:///path,
    tls+tcp://HOST:PORT) with the API `key` when the server has keys, and
    the JWT `token` (sent with every request; the server verifies it and
    reads as its principal, docs/reference/policies.md).

    `timeout` (seconds) bounds each request's wait for its reply (a watch's
    long-poll is added). Unavailable when nothing answers, Unauthenticated for
    a missing or wrong key, InvalidArgument for a malformed URL.
    """
    native = _ormdb.Database.connect(
        url, key or "", tls_ca_file or "", tls_server_name or "", int(timeout * 1000), token or ""
    )
    return Database(native, url)
