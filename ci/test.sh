#!/usr/bin/env bash
# Installs what is missing, fetches the Go toolchains the tests use (cached
# under $DYNPROBE_CACHE), builds, and runs every test. Needs root: the BPF
# tests attach real uprobes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export DYNPROBE_CACHE=${DYNPROBE_CACHE:-$HOME/.cache/dynprobe}
builddir=${DYNPROBE_BUILD:-$root/build}

ci/install-deps.sh

newest=$(harness/toolchains newest)
export DYNPROBE_GO_VERSIONS=${DYNPROBE_GO_VERSIONS:-"1.15 1.19 $newest"}
echo "== toolchains: $DYNPROBE_GO_VERSIONS (cache: $DYNPROBE_CACHE)"
# shellcheck disable=SC2086
harness/toolchains fetch $DYNPROBE_GO_VERSIONS >/dev/null

if [ -f "$builddir/build.ninja" ]; then
  meson setup --reconfigure "$builddir" >/dev/null
else
  meson setup "$builddir" >/dev/null
fi
meson compile -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs --num-processes 1 || status=$?

# One closing line over every GoogleTest case meson ran (meson's own summary
# counts executables, not cases).
python3 - "$builddir/meson-logs/testlog.junit.xml" <<'PY' || true
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
passed = failed = skipped = 0
for suite in root.iter("testsuite"):
    for case in suite.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
