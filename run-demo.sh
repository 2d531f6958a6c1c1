#!/usr/bin/env bash
# One command on a fresh machine: install what is missing, build dynprobe,
# build the bundled demo Go service (fixtures/go/computee, the Pixie demo's
# computeE server), start it, and show what dynprobe sees in it.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
export DYNPROBE_CACHE=${DYNPROBE_CACHE:-$HOME/.cache/dynprobe}
go_version=${DEMO_GO_VERSION:-$(harness/toolchains newest)}

ci/install-deps.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
if ! log=$(meson compile -C build dynprobe 2>&1); then
  echo "$log" >&2
  exit 1
fi
dynprobe=$root/build/tools/dynprobe

harness/toolchains fetch "$go_version" >/dev/null
app=$(harness/build-fixture "$go_version" computee default)

port=${DEMO_PORT:-9090}
"$app" -addr "127.0.0.1:$port" >/dev/null 2>&1 &
app_pid=$!
trap 'kill $app_pid 2>/dev/null; wait $app_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/e?iters=2" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== demo service: $app (pid $app_pid, Go $go_version) on 127.0.0.1:$port"
echo
echo "\$ dynprobe describe $app computeE"
"$dynprobe" describe "$app" computeE
echo
echo "\$ dynprobe trace --pid $app_pid -p main.computeE --max-events 3"
"$dynprobe" trace --pid "$app_pid" -p main.computeE --max-events 3 --duration 20 &
trace_pid=$!
sleep 0.5  # attach takes tens of milliseconds; leave room on a loaded machine
for iters in 2 100 200; do
  reply=$(curl -fs "http://127.0.0.1:$port/e?iters=$iters")
  echo "  (curl /e?iters=$iters -> $reply)" >&2
done
wait $trace_pid
