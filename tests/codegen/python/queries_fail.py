"""Must NOT pass mypy: reads of what the named queries did not select, and
parameters of the wrong type. run_python.sh compares mypy's errors with
queries_fail.expected."""

import blog


def mistakes(db: blog.Client) -> None:
    page = blog.user_page(db, email="ann@example.com", since="2024-02-01T00:00:00Z")
    user = page.data[0]
    # Fields the selection did not ask for, at the root and in includes.
    print(user["email"])
    print(user["posts"][0]["author"])
    print(user["posts"][0]["tags"][0]["posts"])
    # A count compared with a string; an optional field used as a str.
    if user["posts_n"] == "3":
        return
    print(user["age"] + 1)
    # A parameter of the wrong type, and one missing.
    blog.comment_list(db, pattern="A%", skip="2")
    blog.comment_list(db, pattern="A%")
    # No cursor: user_page's root has no limit.
    blog.user_page(db, email="a", since=0, after="x")
