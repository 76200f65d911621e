"""Checked with mypy --strict (not run by pytest): how an application's code
types against the package."""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional

import ormdb


def newest_titles(db: ormdb.Database, name: str) -> List[str]:
    result: ormdb.FetchResult = db.fetch(
        "User(where: name == $n) { posts(order: created_at desc, limit: 5) { title } }", n=name)
    titles: List[str] = []
    for user in result:
        obj: ormdb.Object = user
        titles.extend(str(p.title) for p in obj.posts)
    cursor: Optional[str] = result.next
    assert cursor is None or isinstance(cursor, str)
    return titles


def write(db: ormdb.Database) -> int:
    reply: Dict[str, Any] = db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "x"}}])
    version = reply["version"]
    assert isinstance(version, int)
    return version


def report(db: ormdb.Database) -> List[Dict[str, Any]]:
    rows: ormdb.SelectResult = db.select("select name from User where created_at > $t",
                                         t=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    return rows.dicts()


def follow(db: ormdb.Database, after: int) -> Optional[int]:
    events: ormdb.WatchEvents = db.watch(["Post"], after=after, wait=1.0)
    for event in events.poll():
        print(event["op"])
    return events.token


def handle(db: ormdb.Database) -> str:
    try:
        return db.explain("User { name }", analyze=True)
    except ormdb.SchemaError as e:
        return e.code + e.message
    except ormdb.Error as e:
        return str(e)


def main() -> None:
    with ormdb.open("/tmp/typed-usage-never-run") as db:
        newest_titles(db, "Ann")
    remote: ormdb.Database = ormdb.connect("tcp://127.0.0.1:7411", key="k", timeout=5.0)
    remote.close()
