#!/usr/bin/env python3
# A verified, timestamped snapshot: Cairn's BACKUP SNAPSHOT (a forked child writes the
# RDB, reads it back in full, writes the manifest, renames) against what a careful cron
# script does with stock Redis 7.0 (BGSAVE, wait, copy dump.rdb to a timestamped name
# with fsync, redis-check-rdb on the copy). Same dataset in both (built in Redis, loaded
# by Cairn, DEBUG DIGEST compared). Prints wall time, peak memory of the server and its
# child while the snapshot is made, the verifier's peak memory, and file sizes.
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from bench_persistence import Node, _stop_all, build_dataset, children, proc_kb, pss_kb  # noqa: E402,E501


def peak_while(pids_fn, done_fn, timeout=3600):
    """Samples pids_fn() every 10 ms until done_fn(); returns (peak RSS kB, peak PSS kB).
    RSS counts pages parent and child share twice; PSS splits them."""
    t0 = time.monotonic()
    peak = peak_pss = 0
    while time.monotonic() - t0 < timeout:
        pids = pids_fn()
        peak = max(peak, sum(proc_kb(p, "VmRSS") for p in pids))
        peak_pss = max(peak_pss, sum(pss_kb(p) for p in pids))
        if done_fn():
            return peak, peak_pss
        time.sleep(0.01)
    raise RuntimeError("timed out")


def run_measuring_hwm(args):
    """Runs a command to its end; returns (seconds, its peak RSS in kB, exit code)."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hwm = 0
    while p.poll() is None:
        hwm = max(hwm, proc_kb(p.pid, "VmHWM"))
        time.sleep(0.005)
    return time.monotonic() - t0, hwm, p.returncode


def redis_cron_snapshot(node, snapdir, stats):
    before = node.info("persistence").get("rdb_last_bgsave_time_sec")
    t0 = time.monotonic()
    r = node.call("BGSAVE")
    if not r.startswith(b"+Background saving started"):
        raise RuntimeError("BGSAVE: %r" % r)
    peak, peak_pss = peak_while(
        lambda: [node.proc.pid] + children(node.proc.pid),
        lambda: node.info("persistence").get("rdb_bgsave_in_progress") == "0")
    if node.info("persistence").get("rdb_last_bgsave_status") != "ok":
        raise RuntimeError("BGSAVE failed")
    del before
    name = time.strftime("dump-%Y%m%dT%H%M%SZ.rdb", time.gmtime())
    target = os.path.join(snapdir, name)
    tmp = target + ".tmp"
    shutil.copyfile(os.path.join(node.dir, "dump.rdb"), tmp)
    fd = os.open(tmp, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    check_s, check_hwm, rc = run_measuring_hwm(["redis-check-rdb", tmp])
    if rc != 0:
        raise RuntimeError("redis-check-rdb failed on the copy")
    os.rename(tmp, target)
    stats["total_s"] = time.monotonic() - t0
    stats["server_peak_mb"] = peak / 1024
    stats["server_peak_pss_mb"] = peak_pss / 1024
    stats["verify_peak_mb"] = check_hwm / 1024
    stats["verify_s"] = check_s
    stats["file_mb"] = os.path.getsize(target) / 2**20


def cairn_snapshot(node, stats):
    t0 = time.monotonic()
    r = node.call("BACKUP", "SNAPSHOT")
    if not r.startswith(b"+Snapshot started: "):
        raise RuntimeError("BACKUP SNAPSHOT: %r" % r)
    name = r.decode().split(": ", 1)[1]
    # The child writes and then verifies: its RSS while verifying is the verifier's.
    peak, peak_pss = peak_while(lambda: [node.proc.pid] + children(node.proc.pid),
                                lambda: node.info("backup").get("snapshot_in_progress") == "0")
    info = node.info("backup")
    if info.get("last_snapshot") != name or info.get("last_snapshot_status") != "ok":
        raise RuntimeError("snapshot failed: %r" % info)
    stats["total_s"] = time.monotonic() - t0
    stats["server_peak_mb"] = peak / 1024
    stats["server_peak_pss_mb"] = peak_pss / 1024
    stats["verify_peak_mb"] = float("nan")  # inside the child: part of server_peak_mb
    stats["verify_s"] = float("nan")
    stats["file_mb"] = int(info["last_snapshot_size"]) / 2**20


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", "-n", type=int, default=1000000)
    ap.add_argument("--cairn-bin", default=servers.default_cairn())
    ap.add_argument("--redis-bin", default="/usr/bin/redis-server")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cairn-bench-snap-")
    stats = {"redis": {}, "cairn": {}}
    try:
        source = os.path.join(work, "source.rdb")
        build_dataset(args.redis_bin, args.keys, source)
        print("dataset: %d keys, RDB %.1f MB" % (args.keys, os.path.getsize(source) / 2**20),
              flush=True)
        digests = {}
        for name, binary in (("redis", args.redis_bin), ("cairn", args.cairn_bin)):
            d = os.path.join(work, name)
            os.makedirs(os.path.join(d, "snapshots"))
            shutil.copy(source, os.path.join(d, "dump.rdb"))
            node = Node(name, binary, d)
            node.start()
            digests[name] = node.call("DEBUG", "DIGEST")
            stats[name]["rss_mb"] = proc_kb(node.proc.pid, "VmRSS") / 1024
            if name == "redis":
                redis_cron_snapshot(node, os.path.join(d, "snapshots"), stats[name])
            else:
                node.call("CONFIG", "SET", "snapshot-dir", os.path.join(d, "snapshots"))
                cairn_snapshot(node, stats[name])
            node.stop()
    finally:
        _stop_all()
        shutil.rmtree(work, ignore_errors=True)

    print("DEBUG DIGEST %s" % ("equal" if digests["redis"] == digests["cairn"] else "DIFFERENT"))
    r, c = stats["redis"], stats["cairn"]
    print("redis: BGSAVE + cp + fsync + redis-check-rdb; cairn: BACKUP SNAPSHOT (write, "
          "read back, manifest, rename)")
    print("ratio: time redis/cairn (> 1: Cairn faster); memory and size cairn/redis (< 1: "
          "Cairn smaller)")
    header = "%-44s %10s %10s %8s" % ("metric", "redis", "cairn", "ratio")
    print(header)
    print("-" * len(header))
    rows = [("rss_mb", "server RSS with the data (MB)", "size"),
            ("total_s", "verified snapshot, wall time (s)", "time"),
            ("server_peak_mb", "peak RSS server+child during it (MB)", "size"),
            ("server_peak_pss_mb", "peak PSS server+child during it (MB)", "size"),
            ("verify_peak_mb", "separate verifier peak RSS (MB)", "size"),
            ("file_mb", "snapshot file (MB)", "size")]
    for key, label, kind in rows:
        rv, cv = r[key], c[key]
        ratio = (rv / cv if kind == "time" else cv / rv) if rv and cv == cv else float("nan")
        print("%-44s %10.2f %10.2f %8.2f" % (label, rv, cv, ratio))
    # What a Pi must hold at the worst moment: Redis's recipe peaks at the server (and
    # its child) or at redis-check-rdb, which loads the whole dataset again.
    worst_r = max(r["server_peak_pss_mb"], r["rss_mb"] + r["verify_peak_mb"])
    worst_c = c["server_peak_pss_mb"]
    print("%-44s %10.2f %10.2f %8.2f" % ("worst moment: memory in use, PSS (MB)", worst_r,
                                         worst_c, worst_c / worst_r))


if __name__ == "__main__":
    main()
