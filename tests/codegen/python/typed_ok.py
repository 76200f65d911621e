"""Must pass mypy --strict against the client generated from
tests/data/blog.ormdb (as module `blog`)."""

import datetime
from typing import List, Optional

import ormdb

import blog


def page(db: blog.Client) -> List[str]:
    users: List[blog.User] = db.User.fetch(
        where={"age": {"gte": 30}},
        order_by={"name": "asc"},
        limit=20,
        select={"name": True, "posts": {"limit": 5, "order_by": {"created_at": "desc"},
                                        "select": {"title": True}}},
    )
    titles = [p["title"] for u in users for p in u["posts"]]
    age: Optional[int] = users[0]["age"]
    comments = db.Comment.fetch(
        where={"post": {"status": "published", "author": {"name": {"like": "A%"}}}, "author": None},
        select={"body": True, "author": {"select": {"age": True}}},
    )
    posts = db.Post.fetch(
        where={"OR": [{"status": "draft"},
                      {"created_at": {"gte": datetime.datetime(2024, 2, 5, tzinfo=datetime.timezone.utc)}}]},
        select={"title": True, "tags": {"select": {"name": True}}},
        aggregate={"comments_n": {"count": "comments"}},
    )
    n: int = blog.count_of(posts[0], "comments_n")
    p: blog.Page[blog.Tag] = db.Tag.fetch_page(limit=1, select={"name": True})
    nxt: Optional[str] = p.next
    return titles + [c["body"] for c in comments] + [str(age), str(n), str(nxt)]


def params_and_orders(db: blog.Client) -> int:
    # Params (typed from where they are used), ordering by an aggregate and
    # through references, an aggregate's condition on the related rows.
    users = db.User.fetch(
        where={"age": {"gte": blog.param("min")}, "name": {"like": blog.param("pattern")}},
        params={"min": 30, "pattern": "A%"},
        order_by=[blog.desc("posts_n"), {"name": "asc"}],
        aggregate={"posts_n": {"count": "posts", "where": {"status": "published"}}},
    )
    comments = db.Comment.fetch(order_by=[{"post.author.name": "desc"}, {"id": "asc"}])
    return blog.count_of(users[0], "posts_n") + len(comments)


def mutations(db: blog.Client) -> int:
    dee: int = db.User.insert({"email": "dee@example.com", "name": "Dee"})
    db.User.update(dee, {"age": None})
    db.Tag.upsert({"name": "py"}, {"name": "py"})
    db.Post.link("tags", 1, 2)
    result = db.batch([
        db.User.insert_op({"email": "eve@example.com", "name": "Eve"}, as_="eve"),
        db.Post.insert_op({"title": "Hi", "author": blog.ref("eve")}, as_="hi"),
        db.Post.link_op("tags", blog.ref("hi"), 1),
        db.Post.update_op(blog.ref("hi"), {"status": "published"}, if_version=3),
    ])
    return dee + len(result)


def open_client(path: str) -> blog.Client:
    return blog.Client(ormdb.open(path))
