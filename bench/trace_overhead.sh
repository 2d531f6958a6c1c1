#!/usr/bin/env bash
# bench/trace_overhead.sh: per-call cost of a traced function, side by side in one run, on the
# same fixtures/go/hotloop binary (main.hot2(a, b int64) int64, a leaf of two instructions
# called N times in a tight loop; the program times the loop itself, so tracer start-up and
# exit are not counted). Configurations, interleaved run by run, median of RUNS each:
#
#   none        no probe
#   bt-count    bpftrace counting uprobe on the entry: the bare trap
#   bt-2traps   bpftrace counting on the entry and on every RET: two bare traps per call
#   bt-print    bpftrace printing the first argument (RAX, or 8(SP) under ABI0) to a file
#   dp-one      dynprobe -p 'main.hot2(a)': one argument, entry probe only
#   dp-full     dynprobe -p main.hot2: all args, result, latency (entry + RET probes)
#   dp-full-hot dynprobe -p main.hot on hot(int64, float64) (float in X0): informational
#
# Every traced run is checked: bpftrace counts must equal N, dynprobe must write N records with
# 0 drops whose values match what the loop passed (a = i, b = 3, $0 = a ^ 3). A failed check
# counts as a bad run (reason on stderr) and is left out of the median; if every run of a
# configuration is bad, its median is that of the bad runs, marked "(wrong values)".
#
# Debian's bpftrace 0.17 is built without the disassembler it needs to check an offset probe
# (uprobe:BIN:FUNC+OFF is refused, --unsafe does not help), so the RET probes of bt-2traps are
# put on a function symbol added at each RET address: every configuration runs on one copy
# of the fixture with these extra symbols (code and layout unchanged).
#
#   bench/trace_overhead.sh         env: DYNPROBE (default build/tools/dynprobe), BPFTRACE,
#                                   RUNS (5), N (100000), GOVERS (newest cached toolchain, and
#                                   1.15 if cached), KEEP=1 keeps the work directory
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
DYNPROBE=${DYNPROBE:-$repo/build/tools/dynprobe}
BPFTRACE=${BPFTRACE:-bpftrace}
RUNS=${RUNS:-5}
N=${N:-100000}

die() {
  printf 'trace_overhead: error: %s\n' "$*" >&2
  exit 1
}

((EUID == 0)) || die "needs root (uprobes)"
[[ -x $DYNPROBE ]] || die "no dynprobe at $DYNPROBE (build it or set DYNPROBE)"
command -v "$BPFTRACE" >/dev/null || die "no bpftrace (set BPFTRACE)"
for t in jq python3 objcopy readelf; do command -v $t >/dev/null || die "needs $t"; done

if [[ -z ${GOVERS:-} ]]; then
  cached=$("$repo/harness/toolchains" list | awk -F'\t' '$3 == "cached" { print $1 }')
  newest=$(tail -n1 <<<"$cached")
  [[ -n $newest ]] || newest=$("$repo/harness/toolchains" newest)
  GOVERS=$newest
  grep -qx 1.15 <<<"$cached" && [[ $newest != 1.15 ]] && GOVERS+=" 1.15"
fi

work=$(mktemp -d /tmp/trace_overhead.XXXXXX)
if [[ ${KEEP:-0} == 1 ]]; then
  echo "work directory: $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

# Sets the st_size of ELF64 .symtab symbol NAME in FILE: bpftrace refuses a probe on a
# symbol of size 0, and objcopy --add-symbol cannot give one.
set_symbol_size() {
  python3 - "$@" <<'PY'
import struct, sys
path, name, size = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
with open(path, "r+b") as f:
    d = f.read()
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", d, 0x3A)
    for i in range(shnum):
        sh = shoff + i * shentsize
        if struct.unpack_from("<I", d, sh + 4)[0] != 2:  # SHT_SYMTAB
            continue
        off, sz, link = struct.unpack_from("<QQI", d, sh + 24)
        strtab, = struct.unpack_from("<Q", d, shoff + link * shentsize + 24)
        for s in range(off, off + sz, 24):
            n, = struct.unpack_from("<I", d, s)
            if d[strtab + n:d.index(b"\0", strtab + n)] == name:
                f.seek(s + 16)
                f.write(struct.pack("<Q", size))
                sys.exit(0)
sys.exit("symbol %s not found in %s" % (name.decode(), path))
PY
}

# Checks dynprobe's JSON lines against the loop's calls: every i in [0, N) once as a.
check_records() {
  python3 - "$@" <<'PY'
import json, sys
path, fn, n, full = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "full"
seen = set()
with open(path) as f:
    for line in f:
        r = json.loads(line)
        a = r["args"]["a"]
        if fn == "hot2":
            want_b, want_ret = 3, a ^ 3
        else:
            want_b, want_ret = 1.5, a + 1
        if full:
            if r["args"].get("b") != want_b or r["ret"].get("$0") != want_ret or r.get("latency_ns", -1) < 0:
                sys.exit("wrong record: " + line.strip())
        seen.add(a)
if seen != set(range(n)):
    sys.exit("%d distinct calls recorded, want %d" % (len(seen), n))
PY
}

# run_config VER CFG: one run; prints its ns/call, "BAD:ns/call" when a check failed, or "BAD"
# when the run failed; the reason goes to stderr.
run_config() {
  local ver=$1 cfg=$2 bin=${bins[$1]} argexpr=${argexprs[$1]}
  local out=$work/out err=$work/err fn=hot2 probes ns n
  rm -f "$out" "$err"
  case $cfg in
  none) "$bin" -fn hot2 -n "$N" 2>"$err" ;;
  bt-count)
    "$BPFTRACE" -o "$out" -e "uprobe:$bin:main.hot2 { @n = count(); }" -c "$bin -fn hot2 -n $N" 2>"$err"
    ;;
  bt-2traps)
    probes="uprobe:$bin:main.hot2 { @e = count(); }"
    for s in ${retsyms[$ver]}; do probes+=" uprobe:$bin:$s { @r = count(); }"; done
    "$BPFTRACE" -o "$out" -e "$probes" -c "$bin -fn hot2 -n $N" 2>"$err"
    ;;
  bt-print)
    "$BPFTRACE" -o "$out" -e "uprobe:$bin:main.hot2 { printf(\"%d\\n\", $argexpr); }" \
      -c "$bin -fn hot2 -n $N" 2>"$err"
    ;;
  dp-one) "$DYNPROBE" trace -p 'main.hot2(a)' --format json --output "$out" -- "$bin" -fn hot2 -n "$N" 2>"$err" ;;
  dp-full) "$DYNPROBE" trace -p main.hot2 --format json --output "$out" -- "$bin" -fn hot2 -n "$N" 2>"$err" ;;
  dp-full-hot)
    fn=hot
    "$DYNPROBE" trace -p main.hot --format json --output "$out" -- "$bin" -fn hot -n "$N" 2>"$err"
    ;;
  esac || {
    echo "$ver $cfg: exit status $?: $(grep -v RLIMIT_MEMLOCK "$err" | head -c 300)" >&2
    echo BAD
    return
  }
  ns=$(sed -n 's/^hotloop: fn=.* ns_per_call=\([0-9.]*\)$/\1/p' "$err")
  [[ -n $ns ]] || {
    echo "$ver $cfg: no timing line: $(head -c 300 "$err")" >&2
    echo BAD
    return
  }
  local bad=
  case $cfg in
  bt-count) grep -qx "@n: $N" "$out" || bad="count $(grep '^@n' "$out" || echo none), want $N" ;;
  bt-2traps)
    grep -qx "@e: $N" "$out" || bad="entry count $(grep '^@e' "$out" || echo none), want $N"
    grep -qx "@r: $N" "$out" || bad+=" ret count $(grep '^@r' "$out" || echo none), want $N"
    ;;
  bt-print)
    n=$(grep -cE '^[0-9]+$' "$out" || true)
    ((n == N)) || bad="$n lines printed, want $N ($(grep -i lost "$out" | head -1))"
    ;;
  dp-*)
    grep -qE "; $N records, 0 drops" "$err" || bad="summary: $(grep 'dynprobe: .*records' "$err")"
    [[ -z $bad ]] && { bad=$(check_records "$out" "$fn" "$N" "$([[ $cfg == dp-one ]] && echo one || echo full)" 2>&1) || true; }
    ;;
  esac
  if [[ -n $bad ]]; then
    echo "$ver $cfg: $bad" >&2
    echo "BAD:$ns"
  else
    echo "$ns"
  fi
}

# median / minimum / maximum of the numbers on stdin (any spacing); "-" for none.
median() { tr ' ' '\n' | sort -g | awk 'NF { v[++n] = $1 } END {
  if (n == 0) { print "-"; exit }
  m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2; printf "%.1f\n", m }'; }
extreme() { tr ' ' '\n' | sort -g | awk -v which="$1" 'NF { v[++n] = $1 } END {
  if (n == 0) print "-"; else printf "%.1f\n", (which == "min") ? v[1] : v[n] }'; }

declare -A bins argexprs retsyms abis traps results
configs=(none bt-count bt-2traps bt-print dp-one dp-full dp-full-hot)
for ver in $GOVERS; do
  src=$("$repo/harness/build-fixture" "$ver" hotloop default)
  desc=$("$DYNPROBE" describe "$src" main.hot2 --format json) || die "dynprobe describe failed on $src"
  abis[$ver]=$(jq -r .abi <<<"$desc")
  case ${abis[$ver]} in
  go-register) argexprs[$ver]='reg("ax")' ;;
  go-stack) argexprs[$ver]='*(int64*)(reg("sp") + 8)' ;;
  *) die "go$ver: unexpected ABI ${abis[$ver]}" ;;
  esac
  mkdir -p "$work/go$ver"
  bin=$work/go$ver/hotloop
  text_addr=$(readelf -SW "$src" | sed -n 's/.*\] \.text  *PROGBITS  *\([0-9a-f]*\) .*/\1/p')
  [[ -n $text_addr ]] || die "go$ver: no .text section in $src"
  adds=() syms=
  i=0
  for ret in $(jq -r '.return_sites[]' <<<"$desc"); do
    adds+=(--add-symbol "bench.hot2_ret$i=.text:$((ret - 0x$text_addr)),function,global")
    syms+=" bench.hot2_ret$i"
    i=$((i + 1))
  done
  ((i > 0)) || die "go$ver: dynprobe describe lists no return site for main.hot2"
  objcopy "${adds[@]}" "$src" "$bin"
  for s in $syms; do set_symbol_size "$bin" "$s" 1; done
  bins[$ver]=$bin retsyms[$ver]=$syms
  traps[$ver]=$((i + 1))
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ver in $GOVERS; do
  echo "go$ver (${abis[$ver]}): $RUNS runs x ${#configs[@]} configurations, N=$N calls each ..." >&2
  for ((r = 1; r <= RUNS; r++)); do
    for cfg in "${configs[@]}"; do
      results[$ver,$cfg]+=" $(run_config "$ver" "$cfg")"
    done
  done
done

# The load average tells whether other work shared the CPUs with the runs.
printf '\n## trace_overhead: %s, %s, %s cores, N=%s calls, median of %s runs, load average at start %s, at end %s\n\n' \
  "$(date -u +%Y-%m-%d)" "$(uname -r)" "$(nproc)" "$N" "$RUNS" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| Go | configuration | traps/call | ns/call | min | max | bad runs |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: |\n'
declare -A med
for ver in $GOVERS; do
  for cfg in "${configs[@]}"; do
    vals=$(tr ' ' '\n' <<<"${results[$ver,$cfg]}" | grep -E '^[0-9.]+$' | tr '\n' ' ' || true)
    bad=$(tr ' ' '\n' <<<"${results[$ver,$cfg]}" | grep -c BAD || true)
    med[$ver,$cfg]=$(median <<<"$vals")
    if [[ ${med[$ver,$cfg]} == - ]]; then
      # No run passed its check: show the timing of the failed runs, marked.
      vals=$(tr ' ' '\n' <<<"${results[$ver,$cfg]}" | sed -n 's/^BAD:\([0-9.]\+\)$/\1/p' | tr '\n' ' ' || true)
      m=$(median <<<"$vals")
      [[ $m == - ]] || med[$ver,$cfg]="$m (wrong values)"
    fi
    min=$(extreme min <<<"$vals")
    max=$(extreme max <<<"$vals")
    case $cfg in
    none) t=0 label="no probe" ;;
    bt-count) t=1 label="bpftrace: count on entry (bare trap)" ;;
    bt-2traps) t=${traps[$ver]} label="bpftrace: count on entry + RET (bare traps)" ;;
    bt-print) t=1 label="bpftrace: printf first arg" ;;
    dp-one) t=1 label="dynprobe: main.hot2(a)" ;;
    dp-full) t=${traps[$ver]} label="dynprobe: main.hot2 (args, result, latency)" ;;
    dp-full-hot) t=${traps[$ver]} label="dynprobe: main.hot (int + float arg), informational" ;;
    esac
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$ver" "$label" "$t" "${med[$ver,$cfg]}" \
      "$min" "$max" "$bad"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-"; else printf "%.2f", a / b }'; }
printf '\n| Go | full capture / two bare traps (goal <= 1.10) | dynprobe one arg / bpftrace one arg (goal < 1) | dynprobe one arg / bare trap |\n'
printf '| --- | ---: | ---: | ---: |\n'
for ver in $GOVERS; do
  printf '| %s | %s | %s | %s |\n' "$ver" \
    "$(ratio "${med[$ver,dp-full]}" "${med[$ver,bt-2traps]}")" \
    "$(ratio "${med[$ver,dp-one]}" "${med[$ver,bt-print]}")" \
    "$(ratio "${med[$ver,dp-one]}" "${med[$ver,bt-count]}")"
done
