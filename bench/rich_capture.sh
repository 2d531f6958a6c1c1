#!/usr/bin/env bash
# Per-call cost of capturing rich Go values (issue 5), side by side in one run:
# the bare trap (bpftrace counting) next to dynprobe capturing a 3-field struct
# (string + 2 ints), a 200-byte string and a 10-element slice, each with an
# entry-only probe (one trap per call). Median ns/call of RUNS runs, measured
# inside fixtures/go/hotloop. Every dynprobe run must deliver N records with
# 0 drops and the right values. Prints a Markdown table. Root only.
set -euo pipefail
cd "$(dirname "$0")/.."
DYNPROBE=${DYNPROBE:-build/tools/dynprobe}
BPFTRACE=${BPFTRACE:-bpftrace}
RUNS=${RUNS:-5}
N=${N:-50000}
GOVER=${GOVER:-$(harness/toolchains newest)}
die() { echo "rich_capture: $*" >&2; exit 1; }
[ -x "$DYNPROBE" ] || die "no dynprobe at $DYNPROBE (build first or set DYNPROBE)"
command -v "$BPFTRACE" >/dev/null || die "no bpftrace (set BPFTRACE)"
bin=$(harness/build-fixture "$GOVER" hotloop default) || die "cannot build hotloop"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ns_of() { sed -n 's/^hotloop: fn=.* ns_per_call=\([0-9.]*\)$/\1/p' "$1"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# fn | dynprobe expression | python check of one record
cases=(
  "hotStruct|main.hotStruct(m)|r['args']['m']['Currency']=='EUR' and r['args']['m']['Nanos']==5"
  "hotString|main.hotString(s)|r['args']['s']=='x'*200"
  "hotSlice|main.hotSlice(xs)|r['args']['xs'][1:]==list(range(1,10))"
)

echo "| value captured | no probe | bare trap (bpftrace count) | dynprobe entry probe | dynprobe / bare trap |"
echo "| --- | ---: | ---: | ---: | ---: |"
for c in "${cases[@]}"; do
  IFS='|' read -r fn expr check <<<"$c"
  base=() trap_ns=() dp=()
  for _ in $(seq "$RUNS"); do
    "$bin" -fn "$fn" -n "$N" 2>"$tmp/base.err"
    base+=("$(ns_of "$tmp/base.err")")
    "$BPFTRACE" -o "$tmp/bt.out" -e "uprobe:$bin:main.$fn { @n = count(); }" -c "$bin -fn $fn -n $N" \
      2>"$tmp/bt.err" >/dev/null || true
    grep -q "@n: $N" "$tmp/bt.out" || die "bpftrace did not count $N calls of $fn"
    trap_ns+=("$(ns_of "$tmp/bt.err")")
    # A tight loop makes bursts no reader keeps up with: size the ring for all N records.
    "$DYNPROBE" trace -p "$expr" --ring-size 64 --format json --output "$tmp/dp.json" -- "$bin" -fn "$fn" -n "$N" \
      2>"$tmp/dp.err"
    grep -q "; $N records, 0 drops" "$tmp/dp.err" || die "dynprobe lost records of $fn: $(tail -1 "$tmp/dp.err")"
    python3 - "$tmp/dp.json" "$N" "$check" <<'PY' || die "dynprobe captured wrong values for $fn"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == int(sys.argv[2])
for r in rows:
    assert eval(sys.argv[3], {}, {"r": r}), r
PY
    dp+=("$(ns_of "$tmp/dp.err")")
  done
  b=$(printf '%s\n' "${base[@]}" | median)
  t=$(printf '%s\n' "${trap_ns[@]}" | median)
  d=$(printf '%s\n' "${dp[@]}" | median)
  printf '| %s | %.1f | %.0f | %.0f | %.2f |\n' "$expr" "$b" "$t" "$d" "$(awk -v d="$d" -v t="$t" 'BEGIN {print d / t}')"
done
echo
echo "Go $GOVER, N=$N calls per run, median of $RUNS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
