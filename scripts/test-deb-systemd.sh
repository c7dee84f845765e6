#!/usr/bin/env bash
# NOT part of CI (needs root, debootstrap, systemd-nspawn and a Debian mirror; about
# 1 minute with the cached root filesystem on two cores, about 2 minutes more the first
# time, which debootstraps it). Manual check of the .deb under a real systemd:
#
#   scripts/build-deb.sh && sudo scripts/test-deb-systemd.sh [path/to/cairn_*.deb]
#
# Boots Debian 12 with systemd as PID 1 in systemd-nspawn (its own network namespace:
# ports 6379/6380 inside do not touch the host's), installs the package there and checks:
# cairn.service (Type=notify, STATUS=, watchdog), SAVE/BGSAVE/CONFIG REWRITE under the
# hardening, the systemd-analyze security score, a backup node cairn@offsite (snapshots,
# cairn promote, the role after a restart), cairn-snapshot.timer/.service, a clean stop
# with the final save, Restart=on-failure after SIGKILL, a watchdog timeout, remove and
# purge. Exits 1 when any check failed.
#
# The root filesystem is cached in $CAIRN_NSPAWN_ROOT (/var/tmp/cairn-nspawn) and never
# written by a run: the container boots it read-only with a tmpfs overlay
# (--volatile=overlay). Only the package's Depends are added to the cache (apt in a
# chroot, from the mirror /etc/apt/sources.list* names). Works without systemd on the
# host (--register=no --keep-unit; commands go in with nsenter). Everything started is
# stopped on exit, also on failure.
# The checks are shell snippets run inside the container: single quotes on purpose.
# shellcheck disable=SC2016
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

root=${CAIRN_NSPAWN_ROOT:-/var/tmp/cairn-nspawn}
max_exposure=${CAIRN_MAX_EXPOSURE:-3.5}
debs=(build-pkg/cairn_*.deb)
deb=${1:-${debs[0]}}
machine=cairn-deb-test
log=$(mktemp -d /tmp/cairn-deb-systemd.XXXXXX)

[[ $(id -u) == 0 ]] || { echo "test-deb-systemd: run as root" >&2; exit 2; }
[[ -f $deb ]] || { echo "test-deb-systemd: no package $deb (scripts/build-deb.sh)" >&2; exit 2; }
for tool in debootstrap systemd-nspawn nsenter; do
  command -v "$tool" >/dev/null ||
    { echo "test-deb-systemd: needs $tool (apt-get install debootstrap systemd-container)" >&2; exit 2; }
done

failures=0
nspawn_pid=
say() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
bad() {
  printf 'FAIL %s\n' "$*"
  failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: the command's exit status decides.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

cleanup() {
  local rc=$?
  if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
    # The first SIGTERM asks the container's systemd to halt; a second one, or SIGKILL
    # after 30 s, ends it at once.
    kill -TERM "$nspawn_pid" 2>/dev/null
    for _ in $(seq 1 60); do
      kill -0 "$nspawn_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
  fi
  echo "(container console log: $log/console.log)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cached root filesystem --------------------------------------------------
mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
mirror=${mirror:-http://deb.debian.org/debian}
if [[ ! -x $root/usr/lib/systemd/systemd ]]; then
  say "debootstrap bookworm into $root (mirror $mirror)"
  rm -rf "$root.tmp"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,redis-tools,adduser,procps,iproute2 \
    bookworm "$root.tmp" "$mirror" >"$log/debootstrap.log" 2>&1 ||
    { tail -20 "$log/debootstrap.log"; exit 1; }
  echo cairn-test >"$root.tmp/etc/hostname"
  mv "$root.tmp" "$root"
fi
# The package's Depends (alternatives: the first; systemd is there), installed in the
# cache so that `apt install ./cairn.deb` inside needs no network.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' |
  grep -v '^systemd$' | grep . | tr '\n' ' ')
# shellcheck disable=SC2086
if ! chroot "$root" dpkg-query -W $deps >/dev/null 2>&1; then
  say "adding the package's Depends to the cache: $deps"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  chroot "$root" /bin/sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $deps && apt-get clean" >"$log/deps.log" 2>&1 ||
    { tail -20 "$log/deps.log"; rm -f "$root/etc/resolv.conf"; exit 1; }
  rm -f "$root/etc/resolv.conf"
fi
if chroot "$root" dpkg-query -W cairn >/dev/null 2>&1; then
  echo "test-deb-systemd: $root has cairn installed (not a clean cache); remove $root" >&2
  exit 1
fi

# --- boot ----------------------------------------------------------------------------
say "booting $root with systemd-nspawn"
systemd-nspawn --boot --directory="$root" --volatile=overlay --machine="$machine" \
  --register=no --keep-unit --private-network --console=pipe \
  --bind-ro="$(realpath "$deb")":/root/cairn.deb \
  </dev/null >"$log/console.log" 2>&1 &
nspawn_pid=$!
pid1=
for _ in $(seq 1 100); do
  pid1=$(pgrep -P "$nspawn_pid" -x systemd || true)
  [[ -n $pid1 ]] && break
  kill -0 "$nspawn_pid" 2>/dev/null || break
  sleep 0.2
done
if [[ -z $pid1 ]]; then
  echo "test-deb-systemd: systemd-nspawn did not start systemd:" >&2
  cat "$log/console.log" >&2
  exit 1
fi

# c COMMAND...: run in the container (every namespace of its PID 1), bounded.
c() {
  timeout 180 nsenter --target "$pid1" --all \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb LANG=C.UTF-8 "$@" </dev/null
}
cs() { c sh -c "$1"; }
prop() { c systemctl show "$1" -p "$2" --value; }
# wait_for SECONDS SHELL-CONDITION (run in the container)
wait_for() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    cs "$2" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

# The manager's socket appears a moment after PID 1 starts; then wait for the boot.
state=
for _ in $(seq 1 60); do
  state=$(c timeout 120 systemctl is-system-running --wait 2>/dev/null)
  [[ -n $state ]] && break
  sleep 1
done
echo "systemd is up: $state (container PID 1 is $pid1 on the host)"
[[ $state == running || $state == degraded ]] || bad "system state $state"
[[ $state == degraded ]] && c systemctl --failed --no-pager

# --- install -----------------------------------------------------------------------
say "apt install ./cairn.deb"
check "apt install" cs 'cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./cairn.deb >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }'
check "cairn.service active (running)" wait_for 30 '[ "$(systemctl show cairn -p SubState --value)" = running ]'
c systemctl status cairn --no-pager | head -6
c systemctl show cairn -p Type,NotifyAccess,WatchdogUSec,StatusText,MainPID,Restart
check "Type=notify" test "$(prop cairn Type)" = notify
check "STATUS= reached systemd" test "$(prop cairn StatusText)" = "Ready to accept connections"
check "WatchdogUSec=5min" test "$(prop cairn WatchdogUSec)" = 5min
c journalctl -u cairn --no-pager -o cat | tail -12
check "journal: watchdog pings announced" cs 'journalctl -u cairn -o cat | grep -q "systemd watchdog: pinging every 150000 ms"'
check "redis-cli ping" test "$(c redis-cli ping)" = PONG
check "the user cairn" cs 'getent passwd cairn >/dev/null'
check "/etc/cairn cairn:cairn 0750, cairn.conf cairn:cairn 0640" \
  test "$(c stat -c '%U:%G %a' /etc/cairn /etc/cairn/cairn.conf | tr '\n' ' ')" = "cairn:cairn 750 cairn:cairn 640 "

# --- the hardening -------------------------------------------------------------------
say "hardening: SAVE, BGSAVE (fork), CONFIG REWRITE, systemd-analyze security"
c redis-cli set k v >/dev/null
check "SAVE" test "$(c redis-cli save)" = OK
check "BGSAVE" cs 'redis-cli bgsave | grep -q "Background saving started"'
check "BGSAVE finished ok" wait_for 20 'redis-cli info persistence | grep -q "rdb_bgsave_in_progress:0" && redis-cli info persistence | grep -q "rdb_last_bgsave_status:ok"'
check "dump.rdb in /var/lib/cairn" cs 'test -s /var/lib/cairn/dump.rdb'
c redis-cli config set maxmemory-policy allkeys-lru >/dev/null
check "CONFIG REWRITE" test "$(c redis-cli config rewrite)" = OK
check "cairn.conf rewritten" cs 'grep -q "^maxmemory-policy allkeys-lru" /etc/cairn/cairn.conf'
check "cairn.conf still cairn:cairn 0640" test "$(c stat -c '%U:%G %a' /etc/cairn/cairn.conf)" = "cairn:cairn 640"
c systemd-analyze security cairn --no-pager >"$log/security.txt" 2>&1
grep -E '^✗' "$log/security.txt" | sed 's/  */ /g'
score=$(sed -n 's/.*Overall exposure level for cairn.service: \([0-9.]*\).*/\1/p' "$log/security.txt")
tail -1 "$log/security.txt"
check "exposure ${score:-?} <= $max_exposure" awk -v s="${score:-99}" -v m="$max_exposure" 'BEGIN {exit !(s <= m)}'

# --- a backup node: cairn@offsite ----------------------------------------------------
say "backup node cairn@offsite (port 6380)"
cs 'printf "port 6380\nbind 127.0.0.1 -::1\ndir /var/lib/cairn/offsite\nreplicaof 127.0.0.1 6379\nbackup-mode yes\nsnapshot-interval 30s\n" >/tmp/offsite.conf &&
    install -o cairn -g cairn -m 0640 /tmp/offsite.conf /etc/cairn/offsite.conf'
check "enable --now cairn@offsite" c systemctl enable --now cairn@offsite --quiet
check "cairn@offsite active" wait_for 30 '[ "$(systemctl show cairn@offsite -p SubState --value)" = running ]'
check "offsite synced (master_link_status:up)" wait_for 60 'redis-cli -p 6380 info replication | grep -q master_link_status:up'
check "offsite has the data" test "$(c redis-cli -p 6380 get k)" = v
check "offsite refuses writes" cs 'redis-cli -p 6380 set x y | grep -q READONLY'
echo "StatusText=$(prop cairn@offsite StatusText)"
check "scheduled snapshot in /var/lib/cairn/offsite/snapshots" \
  wait_for 75 'ls /var/lib/cairn/offsite/snapshots/*.rdb.meta'
c ls -l /var/lib/cairn/offsite/snapshots

# --- cairn-snapshot.timer / .service -------------------------------------------------
say "cairn-snapshot.timer and cairn-snapshot.service"
check "enable --now cairn-snapshot.timer" c systemctl enable --now cairn-snapshot.timer --quiet
c systemctl list-timers cairn-snapshot.timer --no-pager | head -2
check "list-timers shows it" cs 'systemctl list-timers --no-pager | grep -q cairn-snapshot.timer'
check "cairn-snapshot.service (the node on 6379)" c systemctl start cairn-snapshot.service
check "its snapshot in /var/lib/cairn/snapshots" cs 'ls /var/lib/cairn/snapshots/*.rdb.meta'
# Against the backup node: a drop-in, as the unit's comment says. And with cairn.service
# disabled and stopped, the snapshot must not start it.
cs 'mkdir -p /etc/systemd/system/cairn-snapshot.service.d &&
    printf "[Service]\nExecStart=\nExecStart=/usr/bin/cairn snapshot create -h 127.0.0.1 -p 6380 --timeout 3600\n" \
      >/etc/systemd/system/cairn-snapshot.service.d/port.conf && systemctl daemon-reload'
c systemctl disable --now cairn --quiet
n=$(cs 'ls /var/lib/cairn/offsite/snapshots/*.rdb | wc -l')
check "cairn-snapshot.service against the backup node (drop-in, -p 6380)" c systemctl start cairn-snapshot.service
check "a manual snapshot on the backup node" cs "[ \$(ls /var/lib/cairn/offsite/snapshots/*.rdb | wc -l) -gt $n ]"
check "the snapshot did not start the disabled cairn.service" test "$(prop cairn ActiveState)" = inactive
c journalctl -u cairn-snapshot --no-pager -o cat -n 4
c systemctl enable --now cairn --quiet
c rm -r /etc/systemd/system/cairn-snapshot.service.d
c systemctl daemon-reload

# --- promotion -----------------------------------------------------------------------
say "cairn promote -p 6380"
c cairn promote -p 6380
check "offsite.conf: backup-mode no, no replicaof" \
  cs 'grep -q "^backup-mode no" /etc/cairn/offsite.conf && ! grep -q "^replicaof" /etc/cairn/offsite.conf'
check "restart cairn@offsite" c systemctl restart cairn@offsite
check "still a master after the restart" wait_for 20 'redis-cli -p 6380 info replication | grep -q role:master'
check "and writable" test "$(c redis-cli -p 6380 set promoted 1)" = OK

# --- stop, SIGKILL -------------------------------------------------------------------
say "systemctl stop cairn (STOPPING=1, final save), then SIGKILL"
c redis-cli set before-stop 1 >/dev/null
c systemd-analyze log-level debug # systemd then logs each sd_notify message
cursor=$(c journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
check "systemctl stop cairn" c systemctl stop cairn
c systemd-analyze log-level info
c journalctl --after-cursor="$cursor" --no-pager -o cat >"$log/stop.log"
grep -E '^cairn\.service: (Got notification|Deactivated)|SIGTERM|final RDB|DB saved|bye|^Stopped cairn\.service' "$log/stop.log"
check "STOPPING=1 reached systemd" grep -q 'notification message.*STOPPING=1' "$log/stop.log"
check "final save in the journal" grep -q 'Saving the final RDB snapshot before exiting' "$log/stop.log"
check "clean exit (Result=success, status 0)" \
  test "$(prop cairn Result) $(prop cairn ExecMainStatus)" = "success 0"
c systemctl start cairn
check "data kept over the restart" test "$(c redis-cli get before-stop)" = 1
pid=$(prop cairn MainPID)
restarts=$(prop cairn NRestarts)
c systemctl kill -s SIGKILL cairn
check "Restart=on-failure after SIGKILL" wait_for 20 \
  "[ \"\$(systemctl show cairn -p NRestarts --value)\" -gt $restarts ] && [ \"\$(systemctl show cairn -p SubState --value)\" = running ]"
echo "MainPID $pid -> $(prop cairn MainPID), NRestarts $restarts -> $(prop cairn NRestarts)"

# --- the watchdog --------------------------------------------------------------------
say "watchdog: WatchdogSec=4s drop-in, 20 s up, then SIGSTOP"
cs 'mkdir -p /etc/systemd/system/cairn.service.d &&
    printf "[Service]\nWatchdogSec=4s\n" >/etc/systemd/system/cairn.service.d/watchdog.conf &&
    systemctl daemon-reload && systemctl restart cairn'
check "WatchdogUSec=4s" test "$(prop cairn WatchdogUSec)" = 4s
pid=$(prop cairn MainPID)
restarts=$(prop cairn NRestarts)
c systemd-analyze log-level debug
cursor=$(c journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
sleep 20
c systemd-analyze log-level info
pings=$(c journalctl --after-cursor="$cursor" -o cat | grep -c 'cairn.service: Got notification message.*WATCHDOG=1')
check "20 s with WatchdogSec=4s: $pings watchdog pings, same pid, no restart" \
  test "$pings" -ge 5 -a "$(prop cairn MainPID)" = "$pid" -a "$(prop cairn NRestarts)" = "$restarts"
if [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)); then
  cursor=$(c journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
  c kill -STOP "$pid"
  check "watchdog timeout: killed and restarted" wait_for 30 \
    "[ \"\$(systemctl show cairn -p NRestarts --value)\" -gt $restarts ] && [ \"\$(systemctl show cairn -p SubState --value)\" = running ]"
  c journalctl --after-cursor="$cursor" --no-pager -o short-precise | grep -E 'systemd\[1\]' | head -6
  check "journal: Watchdog timeout" cs "journalctl --after-cursor='$cursor' -o cat | grep -q 'Watchdog timeout'"
else
  bad "no MainPID for the watchdog test ($pid)"
fi
c rm -r /etc/systemd/system/cairn.service.d
c systemctl daemon-reload

# --- remove, purge -------------------------------------------------------------------
say "apt remove cairn, apt purge cairn"
check "apt remove" cs 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q cairn >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }'
check "no cairn process left" cs '! pgrep -x cairn'
check "remove keeps the data, the config and the user" \
  cs 'test -s /var/lib/cairn/dump.rdb && test -f /etc/cairn/offsite.conf && getent passwd cairn >/dev/null'
check "apt purge" cs 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cairn >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }'
check "purge: user and group gone" cs '! getent passwd cairn && ! getent group cairn'
check "purge: /var/lib/cairn and /etc/cairn gone" cs '! test -e /var/lib/cairn && ! test -e /etc/cairn'
c systemctl list-units --all --no-legend --no-pager 'cairn*'
check "purge: no cairn unit left loaded" cs '! systemctl list-units --all --no-legend "cairn*" | grep -q .'
check "purge: no cairn enablement link left" cs '! find /etc/systemd/system -name "cairn*" | grep .'

say "summary"
if ((failures)); then
  echo "test-deb-systemd: $failures check(s) failed (logs in $log)"
  exit 1
fi
echo "test-deb-systemd: all checks passed"
