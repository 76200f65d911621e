"""A blog API page with the generated client: a user with their newest
posts, each post's tags and comment count.

    ormdb codegen python tests/data/blog.ormdb -o examples/python   # writes blog.py
    python3 examples/python/blog_page.py DATA_DIR
"""

import json
import sys
from typing import Any, Dict, List

import ormdb

import blog


def user_page(db: blog.Client, email: str) -> List[Dict[str, Any]]:
    users = db.User.fetch(
        where={"email": email},
        select={"name": True, "posts": {
            "order_by": {"created_at": "desc"}, "limit": 3,
            "select": {"title": True, "created_at": True, "tags": {"select": {"name": True}}},
            "aggregate": {"comments_n": {"count": "comments"}}}},
    )
    return [{"user": u["name"],
             "posts": [{"title": p["title"], "at": p["created_at"],
                        "tags": [t["name"] for t in p["tags"]],
                        "comments": blog.count_of(p, "comments_n")} for p in u["posts"]]}
            for u in users]


def main(path: str) -> None:
    with ormdb.open(path) as raw:
        db = blog.Client(raw)
        result = db.batch([
            db.User.insert_op({"email": "ann@example.com", "name": "Ann"}, as_="ann"),
            db.Tag.insert_op({"name": "db"}, as_="db"),
            db.Post.insert_op({"title": "Hello", "author": blog.ref("ann"),
                               "created_at": "2024-02-01T10:00:00Z"}, as_="hello"),
            db.Post.insert_op({"title": "Second", "author": blog.ref("ann"),
                               "created_at": "2024-02-05T10:00:00Z"}),
            db.Post.link_op("tags", blog.ref("hello"), blog.ref("db")),
            db.Comment.insert_op({"body": "Nice", "post": blog.ref("hello")}),
        ])
        assert result["refs"]["ann"] == 1
        print(json.dumps(user_page(db, "ann@example.com")))


if __name__ == "__main__":
    main(sys.argv[1])
