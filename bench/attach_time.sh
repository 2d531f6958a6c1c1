#!/usr/bin/env bash
# bench/attach_time.sh: how fast a tracer is ready, and how much memory it takes, when it
# attaches to the running demo (fixtures/go/computee, newest cached Go toolchain): dynprobe
# `trace -p main.computeE --pid PID --duration 1` next to bpftrace attaching one uprobe to the
# same function of the same process. Per run and tool, measured from just before exec:
#
#   attached line   dynprobe: its stderr line "N uprobe(s) attached in X ms" (X, its own
#                   figure, is also shown: it counts from after DWARF loading and planning);
#                   bpftrace: its "Attaching 1 probe..." line, printed before it attaches
#   first record    the first traced call printed, while a client sends GET /e?iters=7 every
#                   millisecond or so from before the tracer starts: the probe is live by then
#                   (resolution about one request, ~1-2 ms)
#   peak RSS        the tracer's ru_maxrss from wait4 (what /usr/bin/time -v reports), and
#                   its RssAnon / RssFile from /proc when the first record arrives (file pages
#                   are mostly shared libraries: libLLVM alone is 120 MB on disk)
#
# Each run checks the first record: it must be a call with iterations 7 (bpftrace prints RAX,
# the argument under the register ABI); dynprobe's result must also be e's 7-term value
# (counted apart: the timing of a run with a wrong result still stands).
# bpftrace has no --duration: it gets SIGINT one second after its first record.
#
#   bench/attach_time.sh       env: DYNPROBE (default build/tools/dynprobe), BPFTRACE, RUNS (5),
#                              GOVER (newest cached toolchain)
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
DYNPROBE=${DYNPROBE:-$repo/build/tools/dynprobe}
BPFTRACE=${BPFTRACE:-bpftrace}
RUNS=${RUNS:-5}

die() {
  printf 'attach_time: error: %s\n' "$*" >&2
  exit 1
}

((EUID == 0)) || die "needs root (uprobes)"
[[ -x $DYNPROBE ]] || die "no dynprobe at $DYNPROBE (build it or set DYNPROBE)"
command -v "$BPFTRACE" >/dev/null || die "no bpftrace (set BPFTRACE)"
command -v python3 >/dev/null || die "needs python3"

if [[ -z ${GOVER:-} ]]; then
  GOVER=$("$repo/harness/toolchains" list | awk -F'\t' '$3 == "cached" { v = $1 } END { print v }')
  [[ -n $GOVER ]] || GOVER=$("$repo/harness/toolchains" newest)
fi
bin=$("$repo/harness/build-fixture" "$GOVER" computee default)

work=$(mktemp -d /tmp/attach_time.XXXXXX)
app_pid=
cleanup() {
  if [[ -n $app_pid ]]; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" -addr 127.0.0.1:0 >/dev/null 2>"$work/app.err" &
app_pid=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's/^computee: listening on //p' "$work/app.err")
  [[ -n $addr ]] && break
  sleep 0.05
done
[[ -n $addr ]] || die "computee did not start: $(cat "$work/app.err")"

echo "computee go$GOVER pid $app_pid on $addr; $RUNS runs per tool ..." >&2
python3 - "$DYNPROBE" "$BPFTRACE" "$bin" "$app_pid" "$addr" "$RUNS" "$GOVER" <<'PY'
import http.client, json, math, os, re, signal, statistics, subprocess, sys, threading, time

dynprobe, bpftrace, binary, pid, addr, runs, gover = sys.argv[1:8]
runs = int(runs)
host, port = addr.rsplit(":", 1)

def e_terms(n):  # computeE's own arithmetic, for the check
    res, fact = 2.0, 1.0
    for i in range(2, n):
        fact *= float(i)
        res += 1 / fact
    return res

class Client(threading.Thread):
    """Calls GET /e?iters=7 about every millisecond until stopped."""
    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.errors = 0
    def run(self):
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        while not self.stop.is_set():
            try:
                conn.request("GET", "/e?iters=7")
                conn.getresponse().read()
            except Exception:
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=5)
            time.sleep(0.001)

def rss_split(tracer):
    """Anonymous and file-backed resident MB now: most file pages are shared libraries."""
    out = {"anon_mb": None, "file_mb": None}
    try:
        with open("/proc/%d/status" % tracer) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("RssAnon", "RssFile"):
                    out[k[3:].lower() + "_mb"] = int(v.split()[0]) / 1024.0
    except OSError:
        pass
    return out

def run_tool(tool):
    if tool == "dynprobe":
        argv = [dynprobe, "trace", "-p", "main.computeE", "--pid", pid, "--duration", "1",
                "--format", "json"]
    else:
        argv = [bpftrace, "-p", pid, "-e",
                'uprobe:%s:main.computeE { printf("hit %%d\\n", reg("ax")); }' % binary]
    r = {"attach_line": None, "own_ms": None, "first": None, "ok": False, "value_ok": False, "why": "",
         "anon_mb": None, "file_mb": None}
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    stderr_lines = []

    def read_err():
        for line in p.stderr:
            stderr_lines.append(line)
            m = re.search(r"uprobe\(s\) attached in ([0-9.]+) ms", line)
            if m and r["attach_line"] is None:
                r["attach_line"] = (time.monotonic() - t0) * 1e3
                r["own_ms"] = float(m.group(1))
    te = threading.Thread(target=read_err, daemon=True)
    te.start()
    first_line = None
    for line in p.stdout:
        if tool == "bpftrace" and line.startswith("Attaching") and r["attach_line"] is None:
            r["attach_line"] = (time.monotonic() - t0) * 1e3
            continue
        if first_line is None and line.strip():
            r["first"] = (time.monotonic() - t0) * 1e3
            first_line = line.strip()
            r.update(rss_split(p.pid))
            if tool == "bpftrace":
                threading.Timer(1.0, p.send_signal, [signal.SIGINT]).start()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    te.join()
    r["rss_mb"] = usage.ru_maxrss / 1024.0
    if first_line is None:
        r["why"] = "no record; stderr: " + "".join(stderr_lines)[-300:]
    elif tool == "dynprobe":
        rec = json.loads(first_line)
        got = rec["ret"].get("$0")
        r["ok"] = rec["args"].get("iterations") == 7
        r["why"] = "" if r["ok"] else "unexpected record " + first_line
        r["value_ok"] = isinstance(got, float) and math.isclose(got, e_terms(7))
        if r["ok"] and not r["value_ok"]:
            print("dynprobe: wrong or missing result in " + first_line, file=sys.stderr)
    else:
        r["ok"] = r["value_ok"] = first_line == "hit 7"
        r["why"] = "" if r["ok"] else "unexpected line " + first_line
    if tool == "dynprobe" and p.returncode != 0:
        r["ok"], r["why"] = False, "exit status %d: %s" % (p.returncode, "".join(stderr_lines)[-300:])
    return r

client = Client()
client.start()
time.sleep(0.2)
results = {"dynprobe": [], "bpftrace": []}
for i in range(runs):
    for tool in results:
        r = run_tool(tool)
        if not r["ok"]:
            print("%s run %d: %s" % (tool, i + 1, r["why"]), file=sys.stderr)
        results[tool].append(r)
        time.sleep(0.3)
client.stop.set()
client.join()

def med(tool, key, fmt="%.1f"):
    v = [r[key] for r in results[tool] if r["ok"] and r[key] is not None]
    if not v:
        return "-"
    return (fmt % statistics.median(v)) + (" (%s-%s)" % (fmt % min(v), fmt % max(v)) if len(v) > 1 else "")

print("\n## attach_time: %s, %s, %d cores, computee go%s, median (min-max) of %d runs, load average %s\n"
      % (time.strftime("%Y-%m-%d", time.gmtime()), os.uname().release, os.cpu_count(), gover, runs,
         " ".join("%.2f" % x for x in os.getloadavg())))
print("| tool | own figure (ms) | exec to attached line (ms) | exec to first record (ms) | peak RSS (MB) | RSS anon / file at first record (MB) | runs with a record | with the right values |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for tool in results:
    good = sum(r["ok"] for r in results[tool])
    right = sum(r["value_ok"] for r in results[tool])
    own = med(tool, "own_ms") if tool == "dynprobe" else "-"
    print("| %s | %s | %s | %s | %s | %s / %s | %d/%d | %d/%d |" % (
        "dynprobe trace -p main.computeE --pid" if tool == "dynprobe" else "bpftrace -p, one uprobe",
        own, med(tool, "attach_line"), med(tool, "first"), med(tool, "rss_mb"),
        med(tool, "anon_mb").split(" ")[0], med(tool, "file_mb").split(" ")[0], good, runs, right, runs))
if client.errors:
    print("\n(client request errors: %d)" % client.errors)
PY
