#!/usr/bin/env bash
# The README's run command: installs dependencies, builds build/cairn and runs a
# server with ./cairn.conf (if present) plus any extra directives given, e.g.
#   scripts/run.sh --port 6380
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"${CAIRN_JOBS:-2}" cairn
if [[ -f cairn.conf ]]; then
  exec build/cairn server cairn.conf "$@"
fi
exec build/cairn server "$@"
