#!/usr/bin/env bash
# Builds the Debian package in build-pkg/ (Release, prefix /usr, no unit tests) with
# CPack, then checks it with dpkg-deb: the file list, the conffiles, the maintainer
# scripts and Depends. Prints the package's path last. Knob: CAIRN_JOBS (2).
# Installing it is up to you: `dpkg -i build-pkg/cairn_*.deb` (see docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${CAIRN_JOBS:-2}
dir=build-pkg

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCAIRN_TESTS=OFF >/dev/null
ninja -C "$dir" -j"$jobs" cairn
rm -f "$dir"/cairn_*.deb
(cd "$dir" && cpack -G DEB >/dev/null)
debs=("$dir"/cairn_*.deb)
deb=${debs[0]}
[[ -f $deb ]] || { echo "build-deb: cpack made no package" >&2; exit 1; }

fail() {
  echo "build-deb: $deb: $*" >&2
  exit 1
}

# Exactly these files (directories aside); anything else, say a test binary, fails.
want=$(sort <<'EOF'
./etc/cairn/cairn.conf
./usr/bin/cairn
./usr/lib/systemd/system/cairn-snapshot.service
./usr/lib/systemd/system/cairn-snapshot.timer
./usr/lib/systemd/system/cairn.service
./usr/lib/systemd/system/cairn@.service
./usr/lib/sysusers.d/cairn.conf
./usr/lib/tmpfiles.d/cairn.conf
./usr/share/doc/cairn/README.md
EOF
)
want=$(printf '%s\n' "$want" $(cd docs && ls ./*.md | sed 's|^\./|./usr/share/doc/cairn/docs/|') | sort)
listing=$(dpkg-deb -c "$deb")
got=$(awk '$1 !~ /^d/ {print $6}' <<<"$listing" | sort)
if [[ $got != "$want" ]]; then
  diff <(echo "$want") <(echo "$got") >&2 || true
  fail "unexpected file list (< expected, > in the package)"
fi
grep -q '^-rw-r----- root/root .* ./etc/cairn/cairn.conf$' <<<"$listing" ||
  fail "/etc/cairn/cairn.conf is not 0640 root:root"

[[ $(dpkg-deb -f "$deb" Package) == cairn ]] || fail "Package is not cairn"
[[ $(dpkg-deb -f "$deb" Section) == database ]] || fail "Section is not database"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libsodium23 libzstd1 libsystemd0 libjemalloc2 libstdc++6 "systemd | adduser"; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done

ctrl=$(mktemp -d)
trap 'rm -rf "$ctrl"' EXIT
dpkg-deb -e "$deb" "$ctrl"
[[ $(cat "$ctrl/conffiles") == /etc/cairn/cairn.conf ]] || fail "conffiles: $(cat "$ctrl/conffiles")"
for s in postinst prerm postrm; do
  [[ -x $ctrl/$s ]] || fail "no executable $s"
  sh -n "$ctrl/$s" || fail "$s does not parse"
done
grep -q '/usr/lib/sysusers.d/cairn.conf' "$ctrl/postinst" || fail "postinst names the wrong sysusers file"

echo "Depends: $depends"
echo "Size: $(du -h "$deb" | cut -f1) ($(dpkg-deb -f "$deb" Installed-Size) KiB installed)"
echo "$deb"
