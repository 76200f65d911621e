"""The generated Python client (module `blog`, from tests/data/blog.ormdb)
on an embedded database: each typed fetch returns what the text form of
the same query returns; typed mutations and batches with refs apply."""

import datetime
import json
import os
from typing import Any, Dict, Iterator

import ormdb
import pytest

import blog

SRC = os.environ["ORMDB_SOURCE_DIR"]


def seed() -> Dict[str, Any]:
    page = open(os.path.join(SRC, "docs/reference/queries.md")).read()
    start = page.index("```json file=seed.json\n") + len("```json file=seed.json\n")
    return json.loads(page[start:page.index("```", start)])


@pytest.fixture
def db(tmp_path: Any) -> Iterator[blog.Client]:
    with ormdb.open(str(tmp_path / "data")) as raw:
        raw.apply_schema(open(os.path.join(SRC, "tests/data/blog.ormdb")).read())
        raw.mutate(seed())
        yield blog.Client(raw)


def same(db: blog.Client, page: blog.Page[Any], text: str, **params: Any) -> None:
    expected = db.db.fetch(text, params).to_dict()
    assert {"version": page.version, "data": page.data, "next": page.next, "stats": page.stats} == expected


def test_fetches_return_what_the_text_form_returns(db: blog.Client) -> None:
    same(db, db.User.fetch_page(
        where={"age": {"gte": 30}}, order_by={"name": "asc"}, limit=20,
        select={"name": True, "posts": {"limit": 5, "order_by": {"created_at": "desc"},
                                        "select": {"title": True}}}),
        "User(where: age >= 30, order: name, limit: 20) "
        "{ name, posts(order: created_at desc, limit: 5) { title } }")
    same(db, db.Post.fetch_page(
        where={"status": "published", "author": {"name": "Ann"}},
        order_by=[{"created_at": "desc"}, {"id": "asc"}],
        select={"title": True, "status": True, "author": {"select": {"email": True}},
                "tags": {"order_by": {"name": "asc"}, "select": {"name": True}}},
        aggregate={"comments_n": {"count": "comments"},
                   "commenters": {"count_distinct": "comments.author"}}),
        'Post(where: status == "published" and author.name == "Ann", order: [created_at desc, id]) '
        "{ title, status, author { email }, tags(order: name) { name }, "
        "comments_n: count(comments), commenters: count_distinct(comments.author) }")
    same(db, db.User.fetch_page(
        where={"OR": [{"age": {"lt": 30}}, {"age": None}], "NOT": {"name": {"like": "Z%"}}},
        select={"name": True, "age": True, "_version": True}),
        'User(where: (age < 30 or age is null) and not (name like "Z%")) { name, age, _version }')
    same(db, db.Comment.fetch_page(
        where={"post": {"author": {"age": {"gt": 40}}}, "author": {"is_null": False},
               "id": {"in": [1, 2, 3, 4], "not_in": [2]}},
        select={"body": True, "post": True, "author": {"select": {"name": True}}}),
        "Comment(where: post.author.age > 40 and author is not null and id in [1, 2, 3, 4] "
        "and id not in [2]) { body, post, author { name } }")
    same(db, db.Post.fetch_page(
        where={"created_at": {"gte": datetime.datetime(2024, 2, 5, tzinfo=datetime.timezone.utc)}},
        select={"title": True, "created_at": True}),
        'Post(where: created_at >= "2024-02-05T00:00:00Z") { title, created_at }')
    same(db, db.Tag.fetch_page(select={"posts": {"select": {"title": True},
                                                 "aggregate": {"n": {"count": "comments"}}}}),
         "Tag { posts { title, n: count(comments) } }")
    assert db.Tag.fetch(order_by={"name": "desc"}, select={"name": True}) == [
        {"id": 2, "name": "db"}, {"id": 1, "name": "cpp"}]
    assert db.User.query(where={"age": {"gte": 30}}, select={"name": True}) == {
        "entity": "User", "where": {"op": ">=", "args": [{"path": "age"}, {"value": 30}]},
        "select": ["name"]}


def test_params_orders_and_aggregate_conditions(db: blog.Client) -> None:
    same(db, db.User.fetch_page(
        where={"age": {"gte": blog.param("min")}, "name": {"like": blog.param("pattern")},
               "id": {"in": [blog.param("first"), 3]}},
        params={"min": 30, "pattern": "A%", "first": 1, "status": "published",
                "since": "2024-02-02T08:30:00Z"},
        order_by=[blog.desc("posts_n"), {"name": "asc"}],
        select={"name": True, "posts": {
            "where": {"status": blog.param("status")},
            "order_by": [blog.desc("comments_n"), {"author.name": "asc"}],
            "select": {"title": True},
            "aggregate": {"comments_n": {"count": "comments",
                                         "where": {"created_at": {"gt": blog.param("since")}}}}}},
        aggregate={"posts_n": {"count": "posts", "where": {"status": "published"}},
                   "last": {"max": "posts.created_at"}}),
        "User(where: age >= $min and name like $pattern and id in [$first, 3], "
        "order: [posts_n desc, name]) { name, posts(where: status == $status, "
        "order: [comments_n desc, author.name]) { title, comments_n: count(comments where "
        'created_at > $since) }, posts_n: count(posts where status == "published"), '
        "last: max(posts.created_at) }",
        min=30, pattern="A%", first=1, status="published", since="2024-02-02T08:30:00Z")
    same(db, db.Comment.fetch_page(
        where={"post": {"author": blog.param("author")}}, params={"author": 1},
        order_by=[{"post.author.name": "desc"}, {"post.title": "asc"}, {"id": "desc"}],
        select={"body": True}),
        "Comment(where: post.author == $author, order: [post.author.name desc, post.title, "
        "id desc]) { body }", author=1)


def test_named_queries_return_what_the_text_form_returns(db: blog.Client) -> None:
    since = datetime.datetime(2024, 2, 1, tzinfo=datetime.timezone.utc)
    page = blog.user_page(db, email="ann@example.com", since=since)
    same(db, page, open(os.path.join(SRC, "tests/codegen/python/blog_queries.ormdbq")).read()
         .split("query user_page ")[1].split("\n\n")[0],
         email="ann@example.com", since="2024-02-01T00:00:00Z")
    assert [p["title"] for p in page.data[0]["posts"]] == ["Draft", "Second"]
    assert page.data[0]["posts_n"] == 3
    # An include's cursor: the rest of Ann's posts.
    more = blog.user_page(db, email="ann@example.com", since=since,
                          posts_after=page.data[0]["posts@next"])
    assert [p["title"] for p in more.data[0]["posts"]] == ["Hello"]
    assert more.data[0]["posts@next"] is None
    # Paged by the root's cursor; through an ormdb.Database as well as a Client.
    first = blog.comment_list(db.db, pattern="A%", skip=2)
    rest = blog.comment_list(db, pattern="A%", skip=2, after=first.next)
    assert [c["body"] for c in first.data + rest.data] == ["Agreed", "Nice", "Who wrote this?"]
    assert first.data[0]["post"] == {"id": 4, "title": "100% sure", "author": {"id": 3, "name": "Al"}}
    assert rest.next is None


def test_mutations_and_batches(db: blog.Client) -> None:
    dee = db.User.insert({"email": "dee@example.com", "name": "Dee",
                          "created_at": datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)})
    assert db.User.update(dee, {"age": 44}) == dee
    up = db.Tag.upsert({"name": "py"}, {"name": "py"})
    assert up["inserted"] is True
    result = db.batch([
        db.Post.insert_op({"title": "Typed", "author": dee, "status": "published"}, as_="typed"),
        db.Post.link_op("tags", blog.ref("typed"), up["id"]),
        db.Comment.insert_op({"body": "First", "post": blog.ref("typed")}, as_="c"),
        db.Comment.update_op(blog.ref("c"), {"body": "First!"}),
    ])
    typed = result["refs"]["typed"]
    assert db.Post.link("tags", typed, up["id"]) is False
    assert db.User.fetch(where={"email": "dee@example.com"}, select={
        "name": True, "age": True, "created_at": True,
        "posts": {"select": {"title": True, "tags": {"select": {"name": True}},
                             "comments": {"select": {"body": True}}}}}) == [
        {"id": dee, "name": "Dee", "age": 44, "created_at": "2024-03-01T00:00:00Z",
         "posts": [{"id": typed, "title": "Typed", "tags": [{"id": up["id"], "name": "py"}],
                    "comments": [{"id": 5, "body": "First!"}]}]}]
    assert db.Post.unlink("tags", typed, up["id"]) is True
    assert db.User.delete(dee) == {"id": dee, "cascaded": 2}
    with pytest.raises(ormdb.ConstraintViolation):
        db.User.insert({"email": "ann@example.com", "name": "Ann again"})
