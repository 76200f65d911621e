"""Fixtures of the Python client's tests: a database with the blog data of
docs/reference/json.md, embedded and through a server the fixture starts.

ORMDB_BINARY names the `ormdb` binary (set by tests/CMakeLists.txt);
ORMDB_TEST_DATA the directory of blog.ormdb.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import time
from typing import Iterator, List

import pytest

import ormdb

ORMDB_BINARY = os.environ.get("ORMDB_BINARY", "ormdb")
DATA = pathlib.Path(
    os.environ.get("ORMDB_TEST_DATA", pathlib.Path(__file__).resolve().parents[3] / "tests" / "data")
)
BLOG_SCHEMA = (DATA / "blog.ormdb").read_text()

BLOG_DATA = [
    {"op": "insert", "entity": "User", "as": "ann",
     "values": {"email": "ann@example.com", "name": "Ann", "age": 34, "created_at": "2024-01-10T09:00:00Z"}},
    {"op": "insert", "entity": "User", "as": "bob",
     "values": {"email": "bob@example.com", "name": "Bob", "created_at": "2024-01-11T09:00:00Z"}},
    {"op": "insert", "entity": "Post", "as": "hello",
     "values": {"title": "Hello", "status": "published", "author": {"ref": "ann"},
                "created_at": "2024-02-01T10:00:00Z"}},
    {"op": "insert", "entity": "Post",
     "values": {"title": "Again", "author": {"ref": "ann"}, "created_at": "2024-02-03T10:00:00.5Z"}},
    {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}, "as": "cpp"},
    {"op": "link", "relation": "Post.tags", "from": {"ref": "hello"}, "to": {"ref": "cpp"}},
    {"op": "insert", "entity": "Comment",
     "values": {"body": "Nice", "post": {"ref": "hello"}, "author": {"ref": "bob"},
                "created_at": "2024-02-02T08:00:00Z"}},
]


class Server:
    """`ormdb serve` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, data_dir: pathlib.Path, extra: List[str] = []) -> None:
        self.log = data_dir.parent / (data_dir.name + ".serve.log")
        self.process = subprocess.Popen(
            [ORMDB_BINARY, "serve", "--data", str(data_dir), "--listen", "tcp://127.0.0.1:0",
             # No metrics endpoint: its default port is for one server per machine.
             "--http-listen", "off", *extra],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = re.search(r"^ormdb serving .* on (\S+)$", self.log.read_text(), re.M)
            if m:
                self.url = m.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("the server did not start: " + self.log.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load_blog(db: ormdb.Database) -> None:
    db.apply_schema(BLOG_SCHEMA, file_name="blog.ormdb")
    db.mutate(BLOG_DATA)


@pytest.fixture(params=["embedded", "remote"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db(mode: str, tmp_path: pathlib.Path) -> Iterator[ormdb.Database]:
    """An empty database, embedded or through a server of its own."""
    if mode == "embedded":
        db = ormdb.open(str(tmp_path / "data"))
        yield db
        db.close()
        return
    server = Server(tmp_path / "data")
    db = ormdb.connect(server.url, timeout=20)
    try:
        yield db
    finally:
        db.close()
        server.stop()


@pytest.fixture
def db(empty_db: ormdb.Database) -> ormdb.Database:
    """The blog schema with the data of docs/reference/json.md (version 2)."""
    load_blog(empty_db)
    return empty_db
