"""The Python client, embedded and remote (each test runs in both modes)."""

from __future__ import annotations

import datetime
import json
import pathlib
from typing import Dict

import pytest

import ormdb
from conftest import BLOG_DATA, BLOG_SCHEMA, Server, load_blog

UTC = datetime.timezone.utc
NESTED = ("User(order: name) { name, age, posts(order: created_at, limit: 1) "
          "{ title, created_at, author { name }, tags { name }, comments { body } } }")


def test_fetch_reads_objects_lazily(db: ormdb.Database) -> None:
    result = db.fetch(NESTED)
    assert len(result) == 2
    assert result.version == 2
    assert result.next is None
    ann, bob = result
    assert (ann.entity, ann.id, ann.name, ann["name"], ann.age) == ("User", 1, "Ann", "Ann", 34)
    assert bob.age is None
    [hello] = ann.posts
    assert hello.title == "Hello"
    assert hello.created_at == datetime.datetime(2024, 2, 1, 10, tzinfo=UTC)
    assert hello.author.name == "Ann"          # to-one: an object
    assert [t.name for t in hello.tags] == ["cpp"]
    assert [c.body for c in hello.comments] == ["Nice"]
    assert isinstance(ann["posts@next"], str)  # a limited include's cursor
    assert bob.posts == [] and bob["posts@next"] is None
    assert result[-1] == bob and result[0:1] == [ann]
    assert repr(ann) == "<ormdb.Object User id=1>"


def test_missing_names_are_attribute_errors(db: ormdb.Database) -> None:
    user = db.fetch("User(limit: 1) { name }")[0]
    with pytest.raises(AttributeError, match="User.email was not selected"):
        user.email
    with pytest.raises(AttributeError, match="User has no field or relation named 'nmae'"):
        user.nmae
    with pytest.raises(KeyError):
        user["nmae"]
    assert user.get("email", "none") == "none"


def test_to_dict_and_to_json_are_the_cpp_rendering(db: ormdb.Database) -> None:
    result = db.fetch(NESTED)
    tree = json.loads(result.to_json())
    assert result.to_dict() == tree
    assert tree["data"][0]["posts"][0]["created_at"] == "2024-02-01T10:00:00Z"
    for i, user in enumerate(result):
        assert user.to_dict() == tree["data"][i]
        assert json.loads(user.to_json()) == tree["data"][i]
    post = result[0].posts[0]
    assert post.to_dict() == tree["data"][0]["posts"][0]
    assert post.author.to_dict() == {"id": 1, "name": "Ann"}
    assert post.keys() == ["id", "title", "created_at", "author", "tags", "comments"]
    blocks = json.loads(result.to_blocks_json())
    assert blocks["entities"]["User"]["ids"] == [1, 2]


def test_params(db: ormdb.Database) -> None:
    q = "User(where: age > $min and name like $pattern) { name }"
    assert [u.name for u in db.fetch(q, min=30, pattern="A%")] == ["Ann"]
    assert [u.name for u in db.fetch(q, {"min": 40, "pattern": "%"})] == []
    since = datetime.datetime(2024, 2, 2, tzinfo=UTC)
    assert [p.title for p in db.fetch("Post(where: created_at > $t) { title }", t=since)] == ["Again"]
    with pytest.raises(ormdb.InvalidArgument, match=r"missing parameter \$min"):
        db.fetch(q, pattern="A%")


def test_root_and_include_cursors(db: ormdb.Database) -> None:
    first = db.fetch("User(order: name, limit: 1) { name }")
    assert [u.name for u in first] == ["Ann"] and first.next is not None
    second = db.fetch(f'User(order: name, limit: 1, after: "{first.next}") {{ name }}')
    assert [u.name for u in second] == ["Bob"] and second.next is None
    ir = {"entity": "User", "order": [{"path": "name"}], "limit": 1, "after": first.next,
          "select": ["name"]}
    assert [u.name for u in db.fetch(ir)] == ["Bob"]
    ann = db.fetch("User(where: name == \"Ann\") { posts(order: created_at, limit: 1) { title } }")[0]
    cursor = ann["posts@next"]
    more = db.fetch(f'User(where: name == "Ann") {{ posts(order: created_at, limit: 1, after: "{cursor}") {{ title }} }}')
    assert [p.title for p in more[0].posts] == ["Again"]


def test_mutate_get_and_as_of(db: ormdb.Database) -> None:
    reply = db.mutate({"ops": [{"op": "update", "entity": "User", "id": 2, "set": {"name": "Bobby"}}]})
    assert reply == {"version": 3, "refs": {}, "results": [{"id": 2}]}
    assert db.version == 3
    assert db.get("User", 2) == {"id": 2, "email": "bob@example.com", "name": "Bobby", "age": None,
                                 "created_at": "2024-01-11T09:00:00Z"}
    assert db.get("User", 99) is None
    assert db.fetch("User(where: id == 2) { name }", as_of=2)[0].name == "Bob"
    raw = db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "b\u00e9"}, "as": "t"}])
    assert raw["refs"] == {"t": 2}
    assert db.fetch("Tag(where: id == 2) { name }")[0].name == "b\u00e9"


def test_errors_map_to_their_classes(db: ormdb.Database) -> None:
    cases = [
        (lambda: db.fetch("User {"), ormdb.InvalidArgument, "INVALID_ARGUMENT"),
        (lambda: db.fetch("Usr { name }"), ormdb.SchemaError, "SCHEMA_ERROR"),
        (lambda: db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "cpp"}}]),
         ormdb.ConstraintViolation, "CONSTRAINT_VIOLATION"),
        (lambda: db.fetch("User { posts { title } }", max_entities=2), ormdb.BudgetExceeded,
         "BUDGET_EXCEEDED"),
        (lambda: db.mutate([{"op": "update", "entity": "User", "id": 1, "set": {"name": "x"},
                             "if_version": 1}]), ormdb.Conflict, "CONFLICT"),
        (lambda: db.fetch("User { name }", as_of=1000), ormdb.InvalidArgument, "INVALID_ARGUMENT"),
        (lambda: db.apply_schema("entity User { id: id }"), ormdb.MigrationRefused, "MIGRATION_REFUSED"),
    ]
    for call, cls, code in cases:
        with pytest.raises(cls) as info:
            call()
        assert isinstance(info.value, ormdb.Error)
        assert info.value.code == code
        assert info.value.message and str(info.value).startswith(code + ": ")
    assert ormdb.Conflict.retryable and ormdb.Unavailable.retryable
    assert not ormdb.InvalidArgument.retryable


def test_budget_truncate(db: ormdb.Database) -> None:
    result = db.fetch("User(order: name) { posts { title } }", max_entities=2, on_exceed="truncate")
    assert result.stats["truncated"] is True
    assert result.stats["truncated_at"]


def test_select(db: ormdb.Database) -> None:
    result = db.select("select author.name, count() as posts from Post group by author.name "
                       "order by posts desc")
    assert result.columns == ["author.name", "posts"]
    assert list(result) == [("Ann", 2)]
    assert result.dicts() == [{"author.name": "Ann", "posts": 2}]
    assert result.to_dict() == {"version": 2, "columns": ["author.name", "posts"],
                                "rows": [["Ann", 2]], "next": None}
    assert db.select("select name from User where age > $a", a=30)[0] == ("Ann",)
    assert "Post" in db.explain_select("select title from Post")


def test_explain(db: ormdb.Database) -> None:
    plan = db.explain("User(where: name == $n) { posts { title } }", n="Ann")
    assert "User" in plan and "name" in plan
    analyzed = db.explain("User { name }", analyze=True)
    assert analyzed != db.explain("User { name }")
    json.loads(db.explain("User { name }", as_json=True))


def test_watch_with_resume_token(db: ormdb.Database) -> None:
    start = db.fetch("User { name }").version
    db.mutate([{"op": "update", "entity": "User", "id": 2, "set": {"age": 40}}])
    db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "py"}}])
    events = db.watch(["User"], after=start, wait=0.2)
    first = next(events)
    assert (first["op"], first["entity"], first["id"], first["changed"]) == ("update", "User", 2, ["age"])
    # The batch held both transactions; the Tag insert (version 4) was filtered out.
    assert events.token == 4
    db.mutate([{"op": "delete", "entity": "User", "id": 2}])
    resumed = db.watch(["User"], after=events.token, wait=0.2)
    ops = [(e["op"], e.get("entity")) for e in resumed.poll()]
    assert ("delete", "User") in ops
    assert resumed.token == 5
    assert resumed.poll(wait=0) == [] and resumed.token == 5


def test_watch_stopped_inside_a_transaction(db: ormdb.Database) -> None:
    start = db.fetch("User { name }").version
    db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "t1"}}])
    db.mutate(
        [
            {"op": "insert", "entity": "Tag", "values": {"name": "t2a"}},
            {"op": "insert", "entity": "Tag", "values": {"name": "t2b"}},
        ]
    )
    db.mutate([{"op": "insert", "entity": "Tag", "values": {"name": "t3"}}])

    def name(e: dict) -> object:
        after = e["after"]
        assert isinstance(after, dict)
        return after["name"]

    # One poll returns the three transactions; the token follows what was returned.
    events = db.watch(["Tag"], after=start, wait=2)
    assert name(next(events)) == "t1"
    assert events.token == start + 1  # t1's transaction is whole
    assert name(next(events)) == "t2a"
    assert events.token == start + 1  # t2's is not
    resumed = db.watch(["Tag"], after=events.token, wait=2)
    assert [name(next(resumed)) for _ in range(3)] == ["t2a", "t2b", "t3"]
    assert resumed.token == start + 3


def test_schema(db: ormdb.Database) -> None:
    assert "entity Post" in db.schema()
    names = [e["name"] for e in db.schema_json()["entities"]]
    assert names == ["User", "Post", "Comment", "Tag"]
    report = db.apply_schema(BLOG_SCHEMA, dry_run=True)
    assert report["applied"] is False


def test_closed_database(empty_db: ormdb.Database) -> None:
    empty_db.close()
    assert empty_db.closed
    with pytest.raises(ormdb.InvalidArgument, match="closed"):
        empty_db.fetch("User { name }")


def test_same_results_embedded_and_remote(tmp_path: pathlib.Path, mode: str) -> None:
    if mode == "remote":
        pytest.skip("one comparison is enough")
    embedded = ormdb.open(str(tmp_path / "embedded"))
    server = Server(tmp_path / "served")
    try:
        remote = ormdb.connect(server.url)
        for db in (embedded, remote):
            load_blog(db)
        # Cursors are bound to their database: compare queries without limits.
        for q in ("User(order: name) { name, age, created_at, posts(order: created_at) "
                  "{ title, author { name }, tags { name }, comments { body } } }",
                  "Post(order: id) { title, status, author { name, age } }"):
            assert embedded.fetch(q).to_json() == remote.fetch(q).to_json()
            assert embedded.fetch(q)[0].to_dict() == remote.fetch(q)[0].to_dict()
        s = "select title, created_at from Post order by title"
        assert embedded.select(s).to_json() == remote.select(s).to_json()
        assert list(embedded.select(s)) == list(remote.select(s))
        assert embedded.get("Comment", 1) == remote.get("Comment", 1)
        remote.close()
    finally:
        embedded.close()
        server.stop()


def test_connect_errors(tmp_path: pathlib.Path, mode: str) -> None:
    if mode == "embedded":
        with pytest.raises(ormdb.NotFound):
            ormdb.open(str(tmp_path / "missing"), create_if_missing=False)
        return
    with pytest.raises(ormdb.InvalidArgument):
        ormdb.connect("nonsense://x")


TENANT_SCHEMA = """
entity Project {
  id: id
  name: string
  tenant: string @index
  budget: int64? @allow(read, auth.has_role("finance"))
  @@deny(all, tenant != auth.tenant)
  @@allow(all, true)
}
"""


def load_projects(db: ormdb.Database) -> None:
    db.apply_schema(TENANT_SCHEMA)
    db.mutate([{"op": "insert", "entity": "Project",
                "values": {"name": n, "tenant": t, "budget": b}}
               for n, t, b in (("rocket", "acme", 1), ("drill", "globex", 2), ("kite", "acme", 3))])


def test_as_principal_applies_the_rules(empty_db: ormdb.Database) -> None:
    load_projects(empty_db)
    acme = empty_db.as_principal({"id": 1, "tenant": "acme"})
    rows = acme.fetch("Project(order: name) { name, budget }")
    assert [(p.name, p.budget) for p in rows] == [("kite", None), ("rocket", None)]
    finance = empty_db.as_principal({"id": 2, "tenant": "globex", "roles": ["finance"]})
    assert [(p.name, p.budget) for p in finance.fetch("Project { name, budget }")] == [("drill", 2)]
    assert len(empty_db.as_principal(None).fetch("Project { name }")) == 0
    with pytest.raises(ormdb.PermissionDenied):
        acme.mutate([{"op": "insert", "entity": "Project",
                      "values": {"name": "x", "tenant": "globex"}}])
    with pytest.raises(ormdb.PermissionDenied):
        acme.fetch("Project(where: budget > 1) { name }")
    # The owner's handle still sees every row.
    assert len(empty_db.fetch("Project { name }")) == 3


def _jwt(secret: bytes, claims: Dict[str, object]) -> str:
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def test_token_reads_as_its_principal(tmp_path: pathlib.Path, mode: str) -> None:
    if mode == "embedded":
        pytest.skip("a token is verified by a server")
    import time

    secret = b"a-test-secret-of-at-least-32-bytes!!"
    config = tmp_path / "server.json"
    config.write_text(json.dumps({"jwt": {"hs256_secret": secret.decode()}}))
    owner = ormdb.open(str(tmp_path / "data"))
    load_projects(owner)
    owner.close()
    server = Server(tmp_path / "data", ["--config", str(config)])
    try:
        token = _jwt(secret, {"sub": "7", "tenant": "globex", "exp": int(time.time()) + 600})
        db = ormdb.connect(server.url, token=token)
        assert [p.name for p in db.fetch("Project { name }")] == ["drill"]
        db.close()
        expired = _jwt(secret, {"sub": "7", "tenant": "globex", "exp": int(time.time()) - 600})
        with pytest.raises(ormdb.Unauthenticated):
            ormdb.connect(server.url, token=expired)
        forged = _jwt(b"another-secret-of-at-least-32-bytes!", {"sub": "7", "tenant": "acme",
                                                                "exp": int(time.time()) + 600})
        with pytest.raises(ormdb.Unauthenticated):
            ormdb.connect(server.url, token=forged)
    finally:
        server.stop()
