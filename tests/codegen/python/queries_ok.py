"""Must pass mypy --strict: the named queries of blog_queries.ormdbq return
rows typed as exactly their selection."""

import datetime
from typing import List, Optional

import blog


def page(db: blog.Client) -> List[str]:
    since = datetime.datetime(2024, 2, 1, tzinfo=datetime.timezone.utc)
    result: blog.Page[blog.UserPageRow] = blog.user_page(db, email="ann@example.com", since=since)
    out: List[str] = []
    for user in result.data:
        age: Optional[int] = user["age"]
        n: int = user["posts_n"]
        last: Optional[str] = user["last_post"]
        more: Optional[str] = user["posts@next"]
        for post in user["posts"]:
            status: blog.Status = post["status"]
            out += [post["title"], status, str(post["comments_n"] + post["recent_n"])]
            out += [tag["name"] for tag in post["tags"]]
        out += [user["name"], str(age), str(n), str(last), str(more)]
        rest = blog.user_page(db, email="ann@example.com", since=since, posts_after=more)
        out += [p["title"] for u in rest.data for p in u["posts"]]
    comments = blog.comment_list(db.db, pattern="A%", skip=2)
    for c in comments.data:
        author: Optional[int] = c["author"]
        out += [c["body"], c["post"]["title"], c["post"]["author"]["name"], str(author)]
    if comments.next is not None:
        out += [r["body"] for r in blog.comment_list(db, pattern="A%", skip=2, after=comments.next).data]
    return out
