#!/usr/bin/env bash
# Installs the Debian packages that dynprobe's build, tests and harness need.
# Idempotent: when everything is present it only asks dpkg and exits (well under a second).
set -euo pipefail

packages=(
  g++ pkg-config meson ninja-build
  llvm-19-dev libbpf-dev libelf-dev zlib1g-dev libzstd-dev libcapstone-dev
  libboost-program-options-dev libboost-dev
  libprotobuf-dev protobuf-compiler
  googletest libgtest-dev libgmock-dev
  bpftrace gdb binutils clang-format
  # the C++ fixtures are built with both g++ and clang++ (tests/integration/cpp_test.cc)
  clang
  # Go fixtures built with GCC's Go front end (harness/build-gccgo-fixture; conformance cells)
  gccgo
  # run-demo.sh's client; the benchmarks' JSON checks
  curl jq
  # harness/toolchains: apt-get download + dpkg -x, signature checks with gpgv
  dpkg-dev gpgv debian-archive-keyring
)

# The Rust fixtures (harness/build-rust-fixture) need rustc: a rustup toolchain when there is
# one, else Debian's.
if ! command -v rustc >/dev/null && [[ ! -x $HOME/.cargo/bin/rustc ]]; then
  packages+=(rustc)
fi

# A package counts as present only when dpkg says "install ok installed";
# half-configured or removed-but-config-kept states are reinstalled.
missing=()
declare -A status=()
while IFS=$'\t' read -r name state; do
  status[$name]=$state
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${packages[@]}" 2>/dev/null || true)
for p in "${packages[@]}"; do
  [[ ${status[$p]:-} == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
((EUID == 0)) || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
