"""Must NOT pass mypy: each statement is one mistake the generated types
catch. run_python.sh compares mypy's errors with typed_fail.expected."""

import blog


def mistakes(db: blog.Client) -> None:
    # A field that does not exist, at the root and in an include.
    db.User.fetch(select={"nmae": True})
    db.User.fetch(select={"posts": {"select": {"titel": True}}})
    # A string compared with a number, and a number with a string.
    db.User.fetch(where={"age": {"gte": "30"}})
    db.Post.fetch(where={"title": 3})
    # A value that is not of the enum.
    db.Post.fetch(where={"status": "archived"})
    # An insert without a required field; an update of an unknown field.
    db.User.insert({"email": "x@example.com"})
    db.Post.update(1, {"titel": "x"})
    # Linking a relation that is not many-to-many.
    db.Post.link("comments", 1, 2)
    # An aggregate over something that is not a to-many relation.
    db.Post.fetch(aggregate={"n": {"count": "author"}})
    # Ordering through a to-many relation.
    db.User.fetch(order_by={"posts.title": "asc"})
    # A parameter declared a str where an int field is compared.
    db.User.fetch(where={"age": {"gte": blog.Param[str]("min")}})
    # An aggregate's condition comparing a string field with a number.
    db.User.fetch(aggregate={"n": {"count": "posts", "where": {"title": 3}}})
    # An aggregate count compared with a string.
    if blog.count_of(db.User.fetch()[0], "n") == "3":
        return
    # An include's condition on a field the related entity lacks, and a
    # value of the wrong type.
    db.User.fetch(select={"posts": {"where": {"titel": "x"}}})
    db.User.fetch(select={"posts": {"where": {"title": 3}}})
