"""The GIL is released while the database works: a watch long-polling in
one thread does not stop fetches in another."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List

import ormdb


def test_long_poll_does_not_block_fetches(db: ormdb.Database) -> None:
    received: List[Dict[str, Any]] = []
    events = db.watch(["Tag"], after=db.version, wait=10.0)

    def watch() -> None:
        received.append(next(events))

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.1)  # let it enter the long-poll
    started = time.monotonic()
    fetched = 0
    while fetched < 50:
        assert len(db.fetch("User { name, posts { title } }")) == 2
        fetched += 1
    elapsed = time.monotonic() - started
    assert watcher.is_alive() and not received, "the watch returned without an event"
    assert elapsed < 5.0, f"50 fetches took {elapsed:.1f}s beside a waiting watch"
    db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "wakes"}}])
    watcher.join(10)
    assert not watcher.is_alive()
    assert received[0]["after"]["name"] == "wakes"


def test_concurrent_fetches_from_threads(db: ormdb.Database) -> None:
    errors: List[BaseException] = []

    def work() -> None:
        try:
            for _ in range(30):
                result = db.fetch("Post(order: id) { title, author { name } }")
                assert [p.author.name for p in result] == ["Ann", "Ann"]
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
