#!/usr/bin/env bash
# The README's tour, run as written, so that it cannot rot:
#   cli_tour_test.sh ORMDB REPO_ROOT
# The commands ("$ " lines of the first code block under "## Tour", continued
# while a single quote is open) run in order with bash, in a scratch directory
# that sees the repository's tests/ and examples/, with `ormdb` on the PATH.
# Each must exit 0 and print what the README shows: lines that start with one
# space continue the line before (wrapped for reading), lines starting with
# "#" are comments, "..." within a line
# matches anything and a line that is exactly "..." any number of lines;
# timestamps and durations are compared as <now> and <t> ms.
# The only changes to the commands: ports 7411 and 7412 become free ports, a command
# ending in '&' is waited for until the server answers (and stopped at the
# end), and `ormdb watch` gets the Ctrl-C the README shows after 2 seconds.
set -u
ORMDB="$1"
ROOT="$2"
if ! command -v python3 >/dev/null; then
  echo "cli_tour_test needs python3" >&2
  exit 1
fi
exec python3 - "$ORMDB" "$ROOT" <<'PY'
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time

ormdb, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
readme = open(os.path.join(root, "README.md"), encoding="utf-8").read().split("\n")
start = readme.index("## Tour")
fence = next(i for i in range(start, len(readme)) if readme[i].startswith("```"))
end = next(i for i in range(fence + 1, len(readme)) if readme[i].startswith("```"))
block = readme[fence + 1:end]

# Commands and the output the README shows after each.
examples = []
i = 0
while i < len(block):
    line = block[i]
    i += 1
    if not line.startswith("$ "):
        if examples:
            examples[-1][1].append(line)
        continue
    command = line[2:]
    while command.count("'") % 2 == 1 and i < len(block):
        command += "\n" + block[i]
        i += 1
    examples.append([command, []])

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = str(s.getsockname()[1])
with socket.socket() as s:  # the HTTP port (metrics, console)
    s.bind(("127.0.0.1", 0))
    http_port = str(s.getsockname()[1])

TIMESTAMP = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
DURATION = re.compile(r"\b\d+\.\d+ ms\b")
def normalize(line):
    line = line.replace("7411", port).replace("7412", http_port)
    return DURATION.sub("<t> ms", TIMESTAMP.sub("<now>", line))

def patterns(expected):
    lines = []
    for line in expected:
        if line == "^C" or line.startswith("#") or (not line.strip() and not lines):
            continue
        if re.match(r"^ \S", line) and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    return [normalize(l) for l in lines]

def matches(pats, actual):
    if not pats:
        return not actual
    if pats[0] == "...":
        return any(matches(pats[1:], actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    regex = ".*".join(re.escape(p) for p in pats[0].split("...")) + r"\Z"
    return re.match(regex, actual[0]) is not None and matches(pats[1:], actual[1:])

work = tempfile.mkdtemp()
for d in ("tests", "examples"):
    os.symlink(os.path.join(root, d), os.path.join(work, d))
env = dict(os.environ)
env["PATH"] = os.path.dirname(ormdb) + os.pathsep + env["PATH"]
env.pop("ORMDB_URL", None)
background = []
failures = 0
try:
    for command, expected in examples:
        run = command.replace("7411", port).replace("7412", http_port)
        if re.match(r"^export (\w+)=(\S+)", run):
            name, value = re.match(r"^export (\w+)=(\S+)", run).groups()
            env[name] = value
            continue
        if run.split("#")[0].rstrip().endswith("&"):
            log = open(os.path.join(work, "serve.log"), "w")
            p = subprocess.Popen(["bash", "-c", "exec " + run.split("#")[0].rstrip()[:-1]],
                                 cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
            background.append(p)
            for _ in range(200):
                if subprocess.run([ormdb, "--connect", "tcp://127.0.0.1:" + port, "stats"],
                                  capture_output=True).returncode == 0:
                    break
                time.sleep(0.05)
            out = open(os.path.join(work, "serve.log")).read().split("\n")
            status = 0 if p.poll() is None else p.returncode
        else:
            if run.startswith("ormdb watch"):
                run = "timeout --preserve-status -s INT 2 " + run
            r = subprocess.run(["bash", "-c", run], cwd=work, env=env, capture_output=True,
                               text=True, timeout=60)
            out = (r.stdout + r.stderr).split("\n")
            status = r.returncode
        while out and not out[-1]:
            out.pop()
        actual = [normalize(l) for l in out]
        if status != 0 or not matches(patterns(expected), actual):
            failures += 1
            print("FAIL: $ " + command)
            print("  exit status %d; expected:" % status)
            print("\n".join("    " + l for l in patterns(expected)))
            print("  actual:")
            print("\n".join("    " + l for l in actual))
finally:
    for p in background:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)
print("cli_tour_test: %d commands, %d failed" % (len(examples), failures))
sys.exit(1 if failures or not examples else 0)
PY
