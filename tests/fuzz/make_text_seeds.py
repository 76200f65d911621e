#!/usr/bin/env python3
"""Writes the seed corpora of the text fuzz targets from the project's own
inputs: the queries, mutation batches and schemas of tests/fetch/*.test,
tests/data/blog.ormdb, the schema error cases of catalog/testdata, and CSV /
JSON lines exported from the blog rows. Run from the repository root:

    python3 tests/fuzz/make_text_seeds.py

It rewrites tests/fuzz/corpus/{schema,query,json,mutation,import}/ (the frame
corpus comes from make_frame_seeds). Seeds are deduplicated and capped per
target, so the replay tests stay quick.
"""
import glob
import hashlib
import json
import os
import re
import shutil

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "tests/fuzz/corpus")
CAP = 120

seeds = {k: {} for k in ("schema", "query", "json", "mutation", "import")}


def add(target, name, text):
    data = text.encode() if isinstance(text, str) else text
    digest = hashlib.sha1(data).hexdigest()[:10]
    if any(v == data for v in seeds[target].values()):
        return
    seeds[target][f"{name}-{digest}"] = data


def parse_test(path):
    """(kind, options, body) for each query / explain / mutate / schema step;
    a mutate's options are "blog" when the blog schema is in force."""
    lines = open(path).read().split("\n")
    i = 0
    schema = None
    while i < len(lines):
        line = lines[i].split(" #")[0].rstrip()
        word = line.split(" ")[0]
        if line == "schema blog":
            schema = "blog"
        if word in ("query", "explain"):
            opts = (schema or "other") + " " + line[len(word):].strip()
            body = []
            i += 1
            while i < len(lines) and lines[i] != "----":
                body.append(lines[i])
                i += 1
            yield word, opts, "\n".join(body)
        elif word == "mutate" or line == "schema":
            body = []
            i += 1
            while i < len(lines) and lines[i] != "end":
                body.append(lines[i])
                i += 1
            if word == "mutate":
                yield "mutate", schema, "\n".join(body)
            else:
                schema = None
                yield "schema", line, "\n".join(body)
        i += 1


for path in sorted(glob.glob(os.path.join(ROOT, "tests/fetch/*.test"))):
    base = os.path.splitext(os.path.basename(path))[0]
    for n, (kind, opts, body) in enumerate(parse_test(path)):
        if kind in ("query", "explain"):
            m = re.search(r"params=(\{.*\})", opts)
            text = body + ("\n----\n" + m.group(1) if m else "")
            # Queries on the blog schema reach the engine of the query target.
            add("query", ("blog-" if opts.startswith("blog") else "other-") + base, text)
            if body.lstrip().startswith("{"):
                add("json", base + "-ir", body)
        elif kind == "mutate":
            # The mutation target's store has the blog schema.
            if opts == "blog":
                add("mutation", base, body)
            add("json", base + "-batch", body)
        else:
            add("schema", base, body)

blog = open(os.path.join(ROOT, "tests/data/blog.ormdb")).read()
add("schema", "blog", blog)
for path in sorted(glob.glob(os.path.join(ROOT, "catalog/testdata/sdl_errors/*.ormdb"))):
    add("schema", os.path.splitext(os.path.basename(path))[0], open(path, "rb").read())

# Batches against the blog rows the mutation target starts from: each op kind,
# refs, cascades, and the errors of each kind.
for n, ops in enumerate([
        [{"op": "insert", "entity": "User", "values": {"email": "z@x.io", "name": "Z"}, "as": "z"},
         {"op": "insert", "entity": "Post", "values": {"title": "P", "author": {"ref": "z"}}, "as": "p"},
         {"op": "link", "relation": "Post.tags", "from": {"ref": "p"}, "to": 3},
         {"op": "insert", "entity": "Comment", "values": {"body": "c", "post": {"ref": "p"}, "author": {"ref": "z"}}}],
        [{"op": "update", "entity": "User", "id": 2, "set": {"age": None, "name": "Bobby"}, "if_version": 2}],
        [{"op": "upsert", "entity": "Tag", "key": {"name": "cpp"}, "values": {"name": "cpp"}},
         {"op": "upsert", "entity": "Tag", "key": {"name": "rust"}, "values": {"name": "rust"}}],
        [{"op": "delete", "entity": "User", "id": 1}],
        [{"op": "delete", "entity": "Post", "id": 4}, {"op": "unlink", "relation": "Tag.posts", "from": 1, "to": 6}],
        [{"op": "update", "entity": "Post", "id": 1, "set": {"title": "", "status": "archived"}}],
        [{"op": "insert", "entity": "User", "values": {"email": "ann@x.io", "name": "dup"}}],
        [{"op": "insert", "entity": "Comment", "values": {"body": "x", "post": 99}}],
        [{"op": "update", "entity": "Post", "id": 2, "set": {"author": 5, "created_at": "2024-13-01T00:00:00Z"}}],
        [{"op": "link", "relation": "Post.tags", "from": 1, "to": 1}, {"op": "unlink", "relation": "Post.tags", "from": 2, "to": 3}],
        ]):
    text = json.dumps({"ops": ops})
    add("mutation", f"blog{n}", text)
    add("json", f"blog{n}-batch", text)

# JSON beyond the batches: every kind of value, escapes, numbers at the edges.
for n, text in enumerate([
        'null', 'true', '-0', '-0.0', '1e308', '9223372036854775807', '-9223372036854775808',
        '9223372036854775808', '1.5e-320', '"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/"',
        '[1, [2, [3, [4, {"a": [5]}]]]]', '{"a": {"b": {"c": null}}, "d": [true, false]}',
        '"\u00e9t\u00e9"', ' \r\n\t[ ] ', '{"k": 1, "k2": 2.0, "k3": "x"}']):
    add("json", f"values{n}", text)

# Import: the blog rows as JSON lines and as CSV, per entity and relation.
rows = {}
links = []
for kind, opts, body in parse_test(os.path.join(ROOT, "tests/fetch/includes.test")):
    if kind != "mutate":
        continue
    for op in json.loads(body)["ops"]:
        if op["op"] == "insert":
            values = dict(op["values"])
            values["id"] = values["id"] + 100  # new ids: the rows exist already
            rows.setdefault(op["entity"], []).append(values)
        elif op["op"] == "link":
            links.append({"from": op["from"], "to": op["to"] % 3 + 1})
    break


def csv_field(v):
    if v is None:
        return ""
    s = json.dumps(v) if isinstance(v, bool) else str(v)
    if any(c in s for c in ',"\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


for entity, items in rows.items():
    for item in items:
        if entity == "User":
            item["email"] = "new-" + item["email"]
        if entity == "Tag":
            item["name"] = "new-" + item["name"]
    add("import", entity + "-jsonl",
        f"jsonl {entity}\n" + "\n".join(json.dumps(r) for r in items) + "\n")
    fields = list(dict.fromkeys(k for r in items for k in r))
    lines = [",".join(fields)] + [",".join(csv_field(r.get(f)) for f in fields) for r in items]
    add("import", entity + "-csv", f"csv {entity}\n" + "\n".join(lines) + "\n")
add("import", "post_tags-jsonl",
    "jsonl Post.tags\n" + "\n".join(json.dumps(l) for l in links) + "\n")
add("import", "post_tags-csv",
    "csv Post.tags\nfrom,to\n" + "\n".join(f"{l['from']},{l['to']}" for l in links) + "\n")
add("import", "tag-quoted-csv",
    'csv Tag\nid,name\n200,"multi\nline"\n201,"say ""hi"""\n\n202,plain\n')
add("import", "tag-posts-jsonl", 'jsonl Tag.posts\n{"from": 1, "to": 2}\n')

for target, files in seeds.items():
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # Over the cap, an even spread over the sources (names start with them);
    # for queries, mostly blog ones.
    def spread(items, cap):
        return items[::max(1, -(-len(items) // cap))]
    items = sorted(files.items())
    if target == "query":
        chosen = (spread([i for i in items if i[0].startswith("blog-")], CAP - 20) +
                  spread([i for i in items if not i[0].startswith("blog-")], 20))
    else:
        chosen = spread(items, CAP)
    for name, data in chosen:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(chosen)} seeds (of {len(files)})")
