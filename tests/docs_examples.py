#!/usr/bin/env python3
"""Runs the examples of the user documentation and compares their output.

    docs_examples.py ORMDB DOCS_DIR [--update] [PAGE.md ...]

Every Markdown page under DOCS_DIR is read. A page's examples run in order, in
a fresh empty working directory of their own (so `ormdb` uses ./ormdb-data
there), with the example schema tests/data/blog.ormdb copied in as
blog.ormdb and `ormdb` on the PATH. Two kinds of fenced blocks take part:

  ```console                     commands and their expected output:
  $ ormdb query 'User { name }'    a line starting with "$ " is a command,
  > ...                            continued by lines starting with "> ";
  {"version":2,...}                the lines up to the next command are its
  ```                              output (stdout and stderr together)

  ```json file=batch.json        a file the later commands use: the block's
  {"ops": [...]}                   text is written to that path in the
  ```                              working directory (any language word)

Every other block is prose. A command runs with bash in the working
directory. Its exit status must be 1 when its expected output has a line
starting with "error: ", else 0; `echo $?` prints the previous command's exit
status (and checks it instead). An expected line that is exactly "..." matches any number of lines.

Before comparing, both sides are normalized: a timestamp of 2025 or later
(what `@default(now)` and `schema history` produce) becomes <now>, and a
duration "0.012 ms" becomes "<t> ms" (and "time_ms":0.012 becomes "time_ms":<t>), and
"pid 1234" becomes "pid <pid>". Cursors (base64url tokens of 40 or more
characters) and uuids differ from run to run: each one in the expected output
is paired with the one at the same place in the actual output, and later
commands that quote the expected one are run with the actual one.

--update rewrites the expected output of mismatching commands in place (for
writing new pages; review the diff). Exit status: 0 when every example
matches, 1 otherwise.
"""

import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\S*)(.*)$")
TIMESTAMP = re.compile(r"(202[5-9]|20[3-9]\d)-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z( +)?")
DURATION = re.compile(r"\b\d+\.\d+ ms\b")
PID = re.compile(r"\bpid \d+")
TIME_MS = re.compile(r'"time_ms":[0-9.e+-]+')
TOKEN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # a uuid
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")  # a cursor
COMMAND_TIMEOUT = 120


def normalize(text):
    text = TIMESTAMP.sub(lambda m: "<now>" + (" " if m.group(3) else ""), text)
    text = PID.sub("pid <pid>", text)
    text = TIME_MS.sub('"time_ms":<t>', text)
    return DURATION.sub("<t> ms", text)


class Example:
    def __init__(self, line, command):
        self.line = line  # 1-based line of the "$ " line
        self.command = command
        self.expected = []  # lines
        self.first_output_line = line  # index (0-based) of the first output line
        self.end_output_line = line


def parse_page(lines):
    """Yields ("file", name, text, line) and ("console", [Example]) items."""
    items = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, rest = m.group(1), m.group(2)
        start = i
        i += 1
        body_start = i
        while i < len(lines) and lines[i].rstrip() != "```":
            i += 1
        body = lines[body_start:i]
        i += 1  # the closing fence
        file_attr = re.search(r"\bfile=(\S+)", rest)
        if file_attr:
            items.append(("file", file_attr.group(1), "".join(l + "\n" for l in body), start + 1))
        elif lang == "console":
            examples = []
            j = 0
            while j < len(body):
                if not body[j].startswith("$ "):
                    if not examples:
                        raise ValueError("line %d: a console block must start with a command"
                                         % (body_start + j + 1))
                    j += 1
                    continue
                ex = Example(body_start + j + 1, body[j][2:])
                j += 1
                while j < len(body) and body[j].startswith("> "):
                    ex.command += "\n" + body[j][2:]
                    j += 1
                ex.first_output_line = body_start + j
                while j < len(body) and not body[j].startswith("$ "):
                    ex.expected.append(body[j])
                    j += 1
                ex.end_output_line = body_start + j
                examples.append(ex)
            items.append(("console", examples))
    return items


def lines_match(expected, actual):
    """Whether actual matches expected, where an expected "..." line matches any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(lines_match(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and lines_match(expected[1:], actual[1:])


def pair_tokens(expected_text, actual_text, mapping):
    """Pairs the volatile tokens of both sides; returns actual_text with the
    paired tokens replaced by the expected ones, and extends mapping."""
    exp = TOKEN.findall(expected_text)
    act = [m for m in TOKEN.finditer(actual_text)]
    if len(exp) != len(act):
        return actual_text
    out, last = [], 0
    for e, a in zip(exp, act):
        if e != a.group(0):
            mapping[e] = a.group(0)
        out.append(actual_text[last:a.start()])
        out.append(e)
        last = a.end()
    out.append(actual_text[last:])
    return "".join(out)


def run_page(ormdb, blog, path, update):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        items = parse_page(lines)
    except ValueError as e:
        print("%s: %s" % (path, e))
        return 0, 1
    examples_total = sum(len(it[1]) for it in items if it[0] == "console")
    if examples_total == 0:
        return 0, 0
    work = tempfile.mkdtemp(prefix="ormdb-docs-")
    bindir = os.path.join(work, ".bin")
    home = os.path.join(work, "home")
    os.makedirs(bindir)
    os.makedirs(home)
    os.symlink(os.path.abspath(ormdb), os.path.join(bindir, "ormdb"))
    shutil.copy(blog, os.path.join(home, "blog.ormdb"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORMDB_")}
    env.update({"PATH": bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
                "TZ": "UTC", "LC_ALL": "C"})
    passed = failed = 0
    mapping = {}
    last_status = 0
    replacements = []  # (first_line, end_line, new_lines) for --update
    groups = []  # the process group of each command, ended with the page
    try:
        for item in items:
            if item[0] == "file":
                _, name, text, line = item
                target = os.path.join(home, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text)
                continue
            for index, ex in enumerate(item[1]):
                following = item[1][index + 1] if index + 1 < len(item[1]) else None
                command = ex.command
                for e, a in mapping.items():
                    command = command.replace(e, a)
                if command.strip() == "echo $?":
                    actual, status = "%d\n" % last_status, 0
                else:
                    try:
                        # Its own session: a server it starts in the background is
                        # ended with the page, whatever happens to the examples.
                        proc = subprocess.Popen(["bash", "-c", command], cwd=home, env=env,
                                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT, start_new_session=True)
                        groups.append(proc.pid)
                        out, _ = proc.communicate(timeout=COMMAND_TIMEOUT)
                        actual, status = out.decode("utf-8", "replace"), proc.returncode
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.communicate()
                        actual, status = "(timed out after %ds)\n" % COMMAND_TIMEOUT, -1
                    last_status = status
                expected_text = "\n".join(ex.expected)
                while expected_text.endswith("\n"):
                    expected_text = expected_text[:-1]
                actual = pair_tokens(expected_text, actual, mapping)
                act_lines = normalize(actual).rstrip("\n").split("\n")
                if act_lines == [""]:
                    act_lines = []
                exp_lines = normalize(expected_text).split("\n") if expected_text else []
                want_status = 1 if any(l.startswith("error: ") for l in ex.expected) else 0
                if command.strip() == "echo $?":
                    want_status = 0
                elif following is not None and following.command.strip() == "echo $?":
                    want_status = status  # the next example shows and checks it
                ok = lines_match(exp_lines, act_lines) and status == want_status
                if ok:
                    passed += 1
                    continue
                failed += 1
                print("FAIL %s:%d: $ %s" % (path, ex.line, ex.command.replace("\n", "\n> ")))
                if status != want_status:
                    print("  exit status %d, expected %d" % (status, want_status))
                for d in difflib.unified_diff(exp_lines, act_lines, "expected", "actual",
                                              lineterm=""):
                    print("  " + d)
                if update:
                    replacements.append((ex.first_output_line, ex.end_output_line,
                                         actual.rstrip("\n").split("\n") if actual.strip() else []))
    finally:
        for group in groups:
            try:
                os.killpg(group, signal.SIGTERM)
            except OSError:
                pass  # ended with its command, as it should
        shutil.rmtree(work, ignore_errors=True)
    if update and replacements:
        for first, end, new in sorted(replacements, reverse=True):
            # Keep blank lines that separate the output from the next command.
            trailing = 0
            while end - trailing - 1 >= first and lines[end - trailing - 1] == "":
                trailing += 1
            lines[first:end - trailing] = new
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print("updated %s (%d examples)" % (path, len(replacements)))
    return passed, failed


def main(argv):
    update = "--update" in argv
    args = [a for a in argv[1:] if a != "--update"]
    if len(args) < 2:
        print(__doc__)
        return 2
    ormdb, docs = args[0], args[1]
    blog = os.path.join(docs, os.pardir, "tests", "data", "blog.ormdb")
    pages = args[2:]
    if not pages:
        for root, dirs, files in os.walk(docs):
            dirs.sort()
            pages += [os.path.join(root, f) for f in sorted(files) if f.endswith(".md")]
    passed = failed = 0
    for page in pages:
        p, f = run_page(ormdb, blog, page, update)
        if p or f:
            print("%s: %d passed, %d failed" % (os.path.relpath(page, docs), p, f))
        passed += p
        failed += f
    print("docs examples: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
