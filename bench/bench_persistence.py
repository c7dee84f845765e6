#!/usr/bin/env python3
# RDB persistence, Cairn against stock redis-server 7.0 on the same data: SAVE time
# and throughput, BGSAVE time and the peak memory of parent+child while it runs,
# startup load time, file size. The dataset (strings, small hashes, lists, int and
# plain sets, sorted sets) is built in Redis, saved, and that file is loaded by
# Cairn, so both hold the same keys (checked with DEBUG DIGEST).
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from bench_memory import command, load  # noqa: E402

_live = []


class Node:
    """One server process on a data dir; start() measures the time to serve."""

    def __init__(self, name, binary, data_dir):
        self.name = name
        self.binary = os.path.abspath(binary) if os.sep in binary else binary
        self.dir = data_dir
        self.proc = None
        self.port = None
        self.log_path = None

    def start(self, timeout=600):
        self.port = servers.free_port()
        self.log_path = os.path.join(self.dir, "%s-%d.log" % (self.name, self.port))
        sub = [] if os.path.basename(self.binary) == "redis-server" else ["server"]
        args = [self.binary] + sub + [
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.dir, "--dbfilename", "dump.rdb", "--enable-debug-command", "yes"]
        t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        _live.append(self)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited:\n%s" % (self.name, self.log_text()[-3000:]))
            try:
                r = self.call("PING")
                if r == b"+PONG":
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError("%s did not serve within %ds" % (self.name, timeout))

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def loaded_seconds(self):
        m = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", self.log_text())
        return float(m[-1]) if m else float("nan")

    def call(self, *args, timeout=3600):
        """One command on a fresh connection; returns the raw reply (bulk body only)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(command(list(args)))
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("connection closed")
                data += chunk
            head, _, rest = data.partition(b"\r\n")
            if not head.startswith(b"$"):
                return head
            n = int(head[1:])
            while len(rest) < n + 2:
                rest += s.recv(1 << 20)
            return rest[:n]

    def info(self, section):
        fields = {}
        for line in self.call("INFO", section).decode().splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v
        return fields

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self in _live:
            _live.remove(self)


def _stop_all():
    for n in list(_live):
        n.stop()


def proc_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


# --- dataset ------------------------------------------------------------------


def container_command(kind, i):
    key = "%s:%d" % (kind, i)
    if kind == "hash":
        return command(["HSET", key] + sum((["f%d" % j, "v%d" % (i + j)] for j in range(5)), []))
    if kind == "list":
        return command(["RPUSH", key] + ["item:%d" % (i + j) for j in range(8)])
    if kind == "iset":
        return command(["SADD", key] + [str(i * 7 + j) for j in range(6)])
    if kind == "set":
        return command(["SADD", key] + ["member:%d" % (i + j) for j in range(6)])
    return command(["ZADD", key] + sum(([str(j * 1.5), "m:%d" % (i + j)] for j in range(5)), []))


def build_dataset(redis_bin, keys, out_path):
    """Half strings (DEBUG POPULATE), the rest small containers; saves to out_path."""
    d = tempfile.mkdtemp(prefix="cairn-bench-persist-")
    node = Node("redis", redis_bin, d)
    try:
        node.start()
        strings = keys // 2
        rest = keys - strings
        kinds = ["hash", "list", "iset", "set", "zset"]
        node.call("DEBUG", "POPULATE", str(strings), "str", "24")
        for j, kind in enumerate(kinds):
            n = rest // len(kinds) + (1 if j < rest % len(kinds) else 0)
            load(node.port, n, lambda i: container_command(kind, i))
        node.call("SAVE")
        node.stop()
        shutil.move(os.path.join(d, "dump.rdb"), out_path)
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


# --- measurements -------------------------------------------------------------


def measure(name, binary, source_rdb, stats):
    d = tempfile.mkdtemp(prefix="cairn-bench-%s-" % name)
    dump = os.path.join(d, "dump.rdb")
    shutil.copy(source_rdb, dump)
    node = Node(name, binary, d)
    try:
        node.start()
        stats["digest"] = node.call("DEBUG", "DIGEST")
        stats["keys"] = sum(int(re.search(r"keys=(\d+)", v).group(1))
                            for k, v in node.info("keyspace").items() if k.startswith("db"))
        stats["rss_mb"] = proc_kb(node.proc.pid, "VmRSS") / 1024

        t0 = time.monotonic()
        r = node.call("SAVE")
        stats["save_s"] = time.monotonic() - t0
        if r != b"+OK":
            raise RuntimeError("%s SAVE: %r" % (name, r))
        stats["file_mb"] = os.path.getsize(dump) / 2**20
        stats["save_mbs"] = stats["file_mb"] / stats["save_s"]

        peak_rss = peak_pss = 0
        t0 = time.monotonic()
        r = node.call("BGSAVE")
        if not r.startswith(b"+Background saving started"):
            raise RuntimeError("%s BGSAVE: %r" % (name, r))
        deadline = t0 + 3600
        while time.monotonic() < deadline:
            pids = [node.proc.pid] + children(node.proc.pid)
            peak_rss = max(peak_rss, sum(proc_kb(p, "VmRSS") for p in pids))
            peak_pss = max(peak_pss, sum(pss_kb(p) for p in pids))
            if node.info("persistence").get("rdb_bgsave_in_progress") == "0":
                break
            time.sleep(0.01)
        stats["bgsave_s"] = time.monotonic() - t0
        pinfo = node.info("persistence")
        if pinfo.get("rdb_last_bgsave_status") != "ok":
            raise RuntimeError("%s BGSAVE failed:\n%s" % (name, node.log_text()[-2000:]))
        stats["bgsave_peak_rss_mb"] = peak_rss / 1024
        stats["bgsave_peak_pss_mb"] = peak_pss / 1024
        stats["cow_mb"] = int(pinfo.get("rdb_last_cow_size", "0")) / 2**20
        node.stop()

        # Its own file this time: each server loads what it wrote.
        stats["load_s"] = node.start()
        stats["load_log_s"] = node.loaded_seconds()
        if node.call("DEBUG", "DIGEST") != stats["digest"]:
            raise RuntimeError("%s: digest changed across restart" % name)
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


ROWS = [
    # key, label, format, ratio kind: "time" -> redis/cairn, "size" -> cairn/redis
    ("file_mb", "RDB file size (MB)", "%.1f", "size"),
    ("rss_mb", "RSS after load (MB)", "%.1f", "size"),
    ("save_s", "SAVE wall time (s)", "%.3f", "time"),
    ("save_mbs", "SAVE throughput (MB/s of own file)", "%.1f", "speed"),
    ("bgsave_s", "BGSAVE wall time (s, polled)", "%.3f", "time"),
    ("bgsave_peak_rss_mb", "BGSAVE peak RSS parent+child (MB)", "%.1f", "size"),
    ("bgsave_peak_pss_mb", "BGSAVE peak PSS parent+child (MB)", "%.1f", "size"),
    ("cow_mb", "rdb_last_cow_size (MB)", "%.1f", "size"),
    ("load_s", "startup until PING (s)", "%.3f", "time"),
    ("load_log_s", "'DB loaded from disk' (s)", "%.3f", "time"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", "-n", type=int, default=2000000)
    ap.add_argument("--cairn-bin", default=servers.default_cairn())
    ap.add_argument("--redis-bin", default="/usr/bin/redis-server")
    ap.add_argument("--rdb", help="use this RDB file as the dataset instead of building one")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cairn-bench-persist-")
    try:
        source = args.rdb
        if not source:
            source = os.path.join(work, "source.rdb")
            t0 = time.monotonic()
            build_dataset(args.redis_bin, args.keys, source)
            print("dataset: %d keys (1/2 strings, 1/10 each 5-field hashes, 8-item lists, "
                  "6-int sets, 6-member sets, 5-member zsets) built in %.1fs, %.1f MB" %
                  (args.keys, time.monotonic() - t0, os.path.getsize(source) / 2**20), flush=True)
        stats = {"redis": {}, "cairn": {}}
        measure("redis", args.redis_bin, source, stats["redis"])
        measure("cairn", args.cairn_bin, source, stats["cairn"])
    finally:
        _stop_all()
        shutil.rmtree(work, ignore_errors=True)

    r, c = stats["redis"], stats["cairn"]
    if r["digest"] != c["digest"] or r["keys"] != c["keys"]:
        print("WARNING: the servers do not hold the same data (digest %r vs %r)" %
              (r["digest"], c["digest"]))
    print("%d keys in both (DEBUG DIGEST %s)" % (c["keys"],
                                                "equal" if r["digest"] == c["digest"] else
                                                "DIFFERENT"))
    print("ratio: times and speeds > 1 mean Cairn is faster; sizes < 1 mean Cairn is smaller")
    header = "%-36s %10s %10s %8s" % ("metric", "redis", "cairn", "ratio")
    print(header)
    print("-" * len(header))
    for key, label, fmt, kind in ROWS:
        rv, cv = r[key], c[key]
        if kind == "time":
            ratio = rv / cv if cv else float("nan")
        else:
            ratio = cv / rv if rv else float("nan")
        print("%-36s %10s %10s %8.2f" % (label, fmt % rv, fmt % cv, ratio))


if __name__ == "__main__":
    main()
