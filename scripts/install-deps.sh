#!/usr/bin/env bash
# Installs, from Debian 12's packages, what Cairn needs to build, test and benchmark.
# Skips apt entirely when every package is already present, so repeated runs are fast.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libboost-dev libspdlog-dev libfmt-dev libsodium-dev libzstd-dev libjemalloc-dev liblzf-dev libcxxopts-dev libssl-dev catch2
      redis-server redis-tools redis-sentinel haproxy libhiredis-dev libsystemd-dev python3 python3-redis python3-pytest
      clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # redis-server is a test peer, not a service: keep its package from starting
  # one on port 6379 (where Cairn runs) by denying service starts while apt runs.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod +x "$policy"
    added_policy=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" || status=$?
  if [ "$added_policy" = 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi
  exit "$status"
fi
