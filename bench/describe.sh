#!/usr/bin/env bash
# bench/describe.sh: times `dynprobe describe BIN FUNC --format json` next to
# `gdb -batch -ex 'info scope FUNC' BIN` in one run, on cmd/go built from the newest fetched
# Go toolchain's own sources (about 15 MB, DWARF included). Cold runs drop the page cache
# first (needs root and a writable /proc/sys/vm/drop_caches; otherwise "warm only").
#
#   bench/describe.sh [FUNC...]        env: DYNPROBE (default build/tools/dynprobe), RUNS (5)
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
DYNPROBE=${DYNPROBE:-$repo/build/tools/dynprobe}
RUNS=${RUNS:-5}
CACHE=${DYNPROBE_CACHE:-$HOME/.cache/dynprobe}
funcs=("$@")
((${#funcs[@]})) || funcs=(main.main 'cmd/go/internal/work.(*Builder).Do' 'cmd/go/internal/load.PackagesAndErrors')

# Newest toolchain already in the cache; fetch the newest known one only if none is.
ver=$("$repo/harness/toolchains" list | awk -F'\t' '$3 == "cached" { v = $1 } END { print v }')
[[ -n $ver ]] || ver=$("$repo/harness/toolchains" newest)
goroot=$("$repo/harness/toolchains" fetch "$ver")

bin=$CACHE/bench/cmd-go-go$ver
if [[ ! -x $bin ]]; then
  mkdir -p "$CACHE/bench"
  echo "building cmd/go with go$ver ..." >&2
  # cmd is its own module with vendored dependencies: no -mod=mod here.
  (cd "$goroot/src" && env GOROOT="$goroot" GOPATH="$CACHE/go/path" GOCACHE="$CACHE/go/cache" \
    GOENV=off GOWORK=off GOTOOLCHAIN=local GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
    "$goroot/bin/go" build -o "$bin.tmp" cmd/go)
  mv -f "$bin.tmp" "$bin"
fi

can_drop=no
if [[ -w /proc/sys/vm/drop_caches ]] && (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
  can_drop=yes
fi

# Runs "$@" RUNS times, prints the median wall time in seconds; fails if any run fails
# or prints nothing useful ($check is a grep -E pattern the output must contain).
median_time() {
  local cold=$1 check=$2
  shift 2
  local times=() i s e out
  for ((i = 0; i < RUNS; i++)); do
    if [[ $cold == cold ]]; then
      sync
      echo 3 >/proc/sys/vm/drop_caches
    fi
    s=$(date +%s%N)
    out=$("$@" 2>&1) || {
      echo "FAILED: $(head -c 200 <<<"$out")" >&2
      return 1
    }
    e=$(date +%s%N)
    grep -qE "$check" <<<"$out" || {
      echo "UNEXPECTED OUTPUT: $(head -c 200 <<<"$out")" >&2
      return 1
    }
    times+=($((e - s)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END {
    m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f\n", m / 1e9 }'
}

have_dynprobe=no
[[ -x $DYNPROBE ]] && have_dynprobe=yes

echo "binary: $bin ($(($(stat -c %s "$bin") / 1024 / 1024)) MB, go$ver), runs: $RUNS, median seconds"
[[ $can_drop == yes ]] || echo "cannot drop the page cache here: warm only"
[[ $have_dynprobe == yes ]] || echo "dynprobe not found at $DYNPROBE (set DYNPROBE): gdb only"
printf '%-45s %-6s %10s %10s %8s\n' function cache dynprobe gdb gdb/dp
modes=(warm)
[[ $can_drop == yes ]] && modes=(cold warm)
for f in "${funcs[@]}"; do
  for c in "${modes[@]}"; do
    dp=- ratio=-
    if [[ $have_dynprobe == yes ]]; then
      dp=$(median_time "$c" '"params"' "$DYNPROBE" describe "$bin" "$f" --format json) || dp=fail
    fi
    # -nx: no user gdbinit; the Go runtime's gdb Python script would be refused (safe-path) anyway.
    g=$(median_time "$c" '^Symbol|^Scope for' gdb -nx -batch -iex 'set auto-load python-scripts off' -ex "info scope $f" "$bin") || g=fail
    if [[ $dp != - && $dp != fail && $g != fail ]]; then
      ratio=$(awk -v a="$g" -v b="$dp" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')
    fi
    printf '%-45s %-6s %10s %10s %8s\n' "$f" "$c" "$dp" "$g" "$ratio"
  done
done
