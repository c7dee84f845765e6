#!/usr/bin/env bash
# Cross-builds Cairn for arm64 (Raspberry Pi 3/4/5 with a 64-bit OS) on a Debian 12 amd64
# host and runs its tests under qemu-user, to catch what differs on the Pi (plain char is
# unsigned there, long double is 128-bit, alignment) before a user does:
#   1. deps:        multiarch arm64, crossbuild-essential-arm64, qemu-user and the :arm64
#                   -dev packages (apt-get --no-remove: never removes an amd64 package);
#                   skipped when all are present. libjemalloc-dev is not Multi-Arch
#                   co-installable with the amd64 one, so its arm64 .deb is unpacked into
#                   build-arm64/deps/ (libjemalloc2:arm64, which is, is installed).
#   2. build:       build-arm64/ with cmake/aarch64-linux-gnu.cmake (RelWithDebInfo, Ninja);
#                   prints `file build-arm64/cairn` and the sizes beside build/cairn.
#   3. unit:        the Catch2 binaries through ctest -R '^unit\.' (the toolchain sets
#                   qemu-aarch64 as CMAKE_CROSSCOMPILING_EMULATOR).
#   4. integration: tests/integration (pytest) with CAIRN_BIN=build-arm64/cairn-qemu, a
#                   generated wrapper that execs qemu-aarch64 on build-arm64/cairn.
# It does not need binfmt_misc (it only reports whether aarch64 is registered). Without
# it, tests that exec a copy of the binary themselves (test_install.py runs the one
# `cmake --install` staged) fail with "Exec format error", and under any qemu-user a
# test that reads /proc/PID/exe (interop test_secure_netns.py) sees qemu-aarch64: the
# harness, not the code.
# NOT part of CI's scripts/test.sh: too slow for CI's budget on 2 cores. Measured here
# (2 cores shared with other builds): first install of the packages 76 s (2 s when
# present), cold build 244 s (674 s while others compiled too), unit tests 18 s,
# integration suite 358 s; end to end 10.5 min. The interop suite adds 9 min.
# Knobs: CAIRN_JOBS (2); CAIRN_ARM64_STAGES ("deps build unit integration");
# CAIRN_ARM64_K (pytest -k expression); CAIRN_ARM64_PYTEST_ARGS (more pytest args, e.g.
# "-x", or test files such as tests/integration/test_aof.py, which replace the suite;
# tests/interop runs the interop suite); CAIRN_ARM64_REDIS=arm64 makes the tests' stock
# redis-server Debian's arm64 one under qemu (REDIS_SERVER_BIN), unpacked from its .deb:
# the differential tests then compare like with like (INCRBYFLOAT's long double is 80-bit
# on amd64, 128-bit on arm64, and Redis's own replies differ between the two).
# Every stage runs even if an earlier one failed (but no tests after a failed build);
# the exit code is non-zero if any stage or test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

jobs=${CAIRN_JOBS:-2}
stages=${CAIRN_ARM64_STAGES:-deps build unit integration}
k_filter=${CAIRN_ARM64_K:-}
redis_ref=${CAIRN_ARM64_REDIS:-host}
build="build-arm64"
triple=aarch64-linux-gnu
failed=()
start=$SECONDS

log() { printf '\n==> [%4ds] %s\n' $((SECONDS - start)) "$*"; }
want() { [[ " $stages " == *" $1 "* ]]; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
# apt-get download into the current dir; as root, without the _apt sandbox user (who
# cannot write into build-arm64/ and would make apt warn).
apt_download() {
  local o=()
  [ "$(id -u)" -eq 0 ] && o=(-o APT::Sandbox::User=root)
  apt-get download -q "${o[@]}" "$@"
}

# The arm64 packages the build links against (Multi-Arch: same, so they sit beside the
# amd64 ones). catch2 and libcxxopts-dev are header-only and arch-independent (the host's
# serve), Boost is header-only here but its CMake config is per-arch.
arm64_pkgs=(libc6-dev:arm64 libstdc++-12-dev:arm64 libboost-dev:arm64 libspdlog-dev:arm64
            libfmt-dev:arm64 libsodium-dev:arm64 libzstd-dev:arm64 liblzf-dev:arm64
            libssl-dev:arm64 libhiredis-dev:arm64 libsystemd-dev:arm64 libjemalloc2:arm64)
host_pkgs=(crossbuild-essential-arm64 file)

install_deps() {
  # The host's own tools and test peers (cmake, ninja, pytest, redis-server, ...).
  scripts/install-deps.sh || return 1
  local update=0 missing=() p
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64 || return 1
    update=1
  fi
  for p in "${host_pkgs[@]}" "${arm64_pkgs[@]}"; do installed "$p" || missing+=("$p"); done
  if ! command -v qemu-aarch64 >/dev/null && ! command -v qemu-aarch64-static >/dev/null; then
    missing+=(qemu-user)
  fi
  if ((${#missing[@]})); then
    echo "cross-arm64: installing ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-remove \
      --no-install-recommends "${missing[@]}" || return 1
  elif ((update)); then
    "${sudo_cmd[@]}" apt-get update -qq || return 1
  fi
  # jemalloc's -dev package has no Multi-Arch field: libjemalloc-dev:arm64 would replace
  # the amd64 one. Unless it is installed already (an arm64 machine, or a host that has
  # no amd64 one), unpack its .deb privately and point pkg-config at a copy of its .pc.
  if installed libjemalloc-dev:arm64; then
    rm -rf "$build/deps/pkgconfig"
  elif [[ ! -f $build/deps/pkgconfig/jemalloc.pc ]]; then
    mkdir -p "$build/deps/debs"
    rm -rf "$build/deps/root" "$build/deps/pkgconfig"
    (cd "$build/deps/debs" && rm -f ./*.deb && apt_download libjemalloc-dev:arm64) ||
      return 1
    dpkg-deb -x "$build"/deps/debs/libjemalloc-dev_*_arm64.deb "$build/deps/root" || return 1
    # Its libjemalloc.so points at libjemalloc.so.2 beside it, which libjemalloc2:arm64
    # installed in /usr/lib/aarch64-linux-gnu.
    ln -sfn "/usr/lib/$triple/libjemalloc.so.2" "$build/deps/root/usr/lib/$triple/libjemalloc.so"
    mkdir -p "$build/deps/pkgconfig"
    sed "s|^prefix=.*|prefix=$root/$build/deps/root/usr|" \
      "$build/deps/root/usr/lib/$triple/pkgconfig/jemalloc.pc" >"$build/deps/pkgconfig/jemalloc.pc"
  fi
}

qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
# qemu's -L: "/" when the multiarch loader is installed, so the loader and libc.so.6 are
# the same libc6:arm64 build (cmake/aarch64-linux-gnu.cmake says why that matters).
ld_prefix() { if [[ -e /lib/ld-linux-aarch64.so.1 ]]; then echo /; else echo "/usr/$triple"; fi; }

if want deps; then
  log "dependencies (multiarch arm64, cross compiler, qemu-user, :arm64 -dev packages)"
  t=$SECONDS
  install_deps || failed+=("deps")
  qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
  echo "cross-arm64: deps took $((SECONDS - t))s"
fi

if [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
  echo "cross-arm64: binfmt_misc has qemu-aarch64 ($(head -1 /proc/sys/fs/binfmt_misc/qemu-aarch64));" \
    "arm64 binaries might run directly, this script still runs them through $qemu"
else
  echo "cross-arm64: no binfmt_misc registration for aarch64 here; arm64 binaries run via ${qemu:-qemu (missing)}"
fi

if want build; then
  log "cross build ($build/, $triple, RelWithDebInfo, -j$jobs)"
  t=$SECONDS
  pc_arg=()
  [[ -f $build/deps/pkgconfig/jemalloc.pc ]] && pc_arg=(-DCAIRN_CROSS_PKG_CONFIG_PATH="$root/$build/deps/pkgconfig")
  if cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    --toolchain "$root/cmake/$triple.cmake" "${pc_arg[@]}" >"$build.configure.log" 2>&1 &&
    ninja -C "$build" -j"$jobs"; then
    echo "cross-arm64: build took $((SECONDS - t))s"
  else
    [[ -f $build.configure.log ]] && tail -30 "$build.configure.log"
    failed+=("build")
    # The tests would run an older binary, or none: say so rather than mislead.
    stages=${stages//unit/}
    stages=${stages//integration/}
    echo "cross-arm64: build failed, skipping the tests"
  fi
  rm -f "$build.configure.log"
fi

if [[ -x $build/cairn ]]; then
  # What runs below: an aarch64 ELF, and how big it is beside the amd64 build.
  file "$build/cairn"
  "$triple-strip" -o "$build/cairn.stripped" "$build/cairn"
  sizes="arm64 $(stat -c %s "$build/cairn") B ($(stat -c %s "$build/cairn.stripped") B stripped)"
  if [[ -x build/cairn ]]; then
    strip -o "$build/cairn-amd64.stripped" build/cairn
    sizes+=", amd64 build/cairn $(stat -c %s build/cairn) B ($(stat -c %s "$build/cairn-amd64.stripped") B stripped)"
    rm -f "$build/cairn-amd64.stripped"
  fi
  echo "cross-arm64: size: $sizes"
  # CAIRN_BIN for the pytest suites: a wrapper, since the harness execs the binary.
  # exec keeps the PID, so the harness's signals reach qemu, which passes them on.
  cat >"$build/cairn-qemu" <<EOF
#!/bin/sh
# Generated by scripts/cross-arm64.sh: runs the arm64 cairn under qemu-user.
exec ${qemu:-qemu-aarch64} -L $(ld_prefix) $root/$build/cairn "\$@"
EOF
  chmod +x "$build/cairn-qemu"
  echo "cross-arm64: $build/cairn-qemu --version: $("$build/cairn-qemu" --version 2>&1 | head -1 || true)"
fi

if want unit; then
  log "unit tests under qemu ($build/tests/*_tests)"
  t=$SECONDS
  if grep -q "qemu-aarch64" "$build/tests/CTestTestfile.cmake" 2>/dev/null; then
    (cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 1800 -R '^unit\.' 2>&1 |
      tee ctest-unit.log; exit "${PIPESTATUS[0]}") || failed+=("unit")
  else
    # No emulator in the ctest file (qemu was missing at configure): run them directly.
    for exe in "$build"/tests/*_tests; do
      echo "-- ${exe##*/}"
      CAIRN_VECTORS=$root/../shared/vectors "$qemu" -L "$(ld_prefix)" "$exe" --order rand \
        --warn NoAssertions | tail -4 || failed+=("unit ${exe##*/}")
    done
  fi
  echo "cross-arm64: unit tests took $((SECONDS - t))s"
fi

if want integration; then
  log "integration tests (pytest) against $build/cairn under qemu"
  t=$SECONDS
  # shellcheck disable=SC2206  # CAIRN_ARM64_PYTEST_ARGS is split on purpose
  extra=(${CAIRN_ARM64_PYTEST_ARGS:-})
  suite=(tests/integration)
  for a in "${extra[@]}"; do [[ $a == tests/* ]] && suite=(); done
  kargs=()
  [[ -n $k_filter ]] && kargs=(-k "$k_filter")
  if [[ $redis_ref == arm64 ]]; then
    # redis-tools:arm64 holds the server (redis-server is a link to redis-check-rdb); its
    # libraries are the -dev packages' runtime ones, plus libatomic1.
    ref=$build/deps/redis
    if [[ ! -x $ref/root/usr/bin/redis-check-rdb ]]; then
      mkdir -p "$ref/debs"
      (cd "$ref/debs" && rm -f ./*.deb && apt_download redis-tools:arm64) &&
        dpkg-deb -x "$ref"/debs/redis-tools_*_arm64.deb "$ref/root" || failed+=("arm64 redis-server")
      installed libatomic1:arm64 || DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" \
        apt-get install -y -qq --no-remove libatomic1:arm64 || failed+=("arm64 redis-server")
    fi
    # The binary picks its role from argv[0] (as Debian's redis-server link does); the
    # wrapper is named redis-server too: the harness tells Cairn from Redis by the name.
    ln -sfn redis-check-rdb "$ref/root/usr/bin/redis-server"
    mkdir -p "$ref/bin"
    printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "${qemu:-qemu-aarch64}" "$(ld_prefix)" \
      "$root/$ref/root/usr/bin/redis-server" >"$ref/bin/redis-server"
    chmod +x "$ref/bin/redis-server"
    export REDIS_SERVER_BIN=$root/$ref/bin/redis-server
    echo "cross-arm64: stock redis-server for the tests: $("$REDIS_SERVER_BIN" --version)"
  fi
  set +e
  CAIRN_BIN=$root/$build/cairn-qemu CAIRN_VECTORS=$root/../shared/vectors \
    /usr/bin/python3 -m pytest -q -rfE -p no:cacheprovider --durations=10 \
    --junitxml="$build/integration.xml" "${kargs[@]}" "${suite[@]}" "${extra[@]}" 2>&1 |
    tee "$build/pytest-integration.log"
  status=${PIPESTATUS[0]}
  set -e
  # pytest exits 5 when the -k filter selected nothing: not a failure of the code.
  if [[ $status != 0 && $status != 5 ]]; then failed+=("integration"); fi
  echo "cross-arm64: integration tests took $((SECONDS - t))s"
fi

log "done"
[[ -f $build/ctest-unit.log ]] && want unit && grep -E 'tests passed|tests failed' "$build/ctest-unit.log"
[[ -f $build/pytest-integration.log ]] && want integration && tail -1 "$build/pytest-integration.log"
if ((${#failed[@]})); then
  printf 'cross-arm64: FAILED: %s\n' "${failed[*]}"
  exit 1
fi
echo "cross-arm64: all stages passed"
