#!/usr/bin/env python3
# Replication, Cairn master -> Cairn replica against stock Redis master -> stock Redis
# replica on loopback, in one run:
#   1. full sync of a large mixed dataset (disk-based and diskless): time from starting an
#      empty replica with --replicaof until its INFO says the link is up and no sync is in
#      progress, MB/s of the RDB it received, DBSIZE/DEBUG DIGEST checked equal, and the
#      peak RSS of master, master+fork child and replica while it runs;
#   2. steady-state lag under a paced SET load on the master: master_repl_offset minus the
#      replica's slave_repl_offset sampled every ~50 ms, and the time until a marker key
#      written on the master is visible to GET on the replica.
# Ratios are in Cairn's favour when > 1 (Redis/Cairn for times, lags and memory,
# Cairn/Redis for MB/s).
import argparse
import atexit
import multiprocessing
import os
import random
import select
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
from bench_persistence import children, container_command, proc_kb  # noqa: E402

_live = []


# --- a small RESP client --------------------------------------------------------


class ReplyError(Exception):
    pass


class _Incomplete(Exception):
    pass


def _parse(buf, pos):
    """One RESP2 reply at buf[pos:]; returns (value, next pos) or raises _Incomplete."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, body, pos = buf[pos:pos + 1], buf[pos + 1:end], end + 2
    if kind == b"+":
        return body, pos
    if kind == b"-":
        return ReplyError(body.decode("utf-8", "replace")), pos
    if kind == b":":
        return int(body), pos
    if kind == b"$":
        n = int(body)
        if n < 0:
            return None, pos
        if len(buf) < pos + n + 2:
            raise _Incomplete
        return buf[pos:pos + n], pos + n + 2
    if kind == b"*":
        n = int(body)
        items = []
        for _ in range(max(n, 0)):
            item, pos = _parse(buf, pos)
            items.append(item)
        return (items if n >= 0 else None), pos
    raise OSError("protocol error: %r" % buf[pos - len(body) - 3:pos + 40])


PENDING = object()


class Conn:
    """One persistent connection; call() blocks (bounded by timeout), poll() does not."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, *args):
        self.sock.sendall(command(list(args)))

    def _take(self):
        value, pos = _parse(self.buf, 0)
        self.buf = self.buf[pos:]
        return value

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise OSError("connection closed")
        self.buf += chunk

    def reply(self):
        while True:
            try:
                value = self._take()
            except _Incomplete:
                self._recv()
                continue
            if isinstance(value, ReplyError):
                raise value
            return value

    def poll(self, wait):
        """The next reply if it is complete within `wait` seconds, else PENDING."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return self._take()
            except _Incomplete:
                pass
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return PENDING
            self._recv()

    def call(self, *args):
        self.send(*args)
        return self.reply()


def parse_info(text):
    fields = {}
    for line in text.decode("utf-8", "replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


# --- server processes -----------------------------------------------------------


class Node:
    """One server in its own temp dir; stopped by PID (atexit and SIGTERM included)."""

    def __init__(self, name, binary, extra=()):
        self.name = name
        self.binary = os.path.abspath(binary) if os.sep in binary else binary
        self.extra = list(extra)
        self.dir = tempfile.mkdtemp(prefix="cairn-bench-repl-")
        self.port = servers.free_port()
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None

    def start(self):
        sub = [] if os.path.basename(self.binary) == "redis-server" else ["server"]
        args = [self.binary] + sub + [
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.dir, "--dbfilename", "dump.rdb",
            "--enable-debug-command", "yes"] + self.extra
        _live.append(self)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)

    @property
    def pid(self):
        return self.proc.pid

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode,
                                                            self.log_tail()))

    def wait_serving(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                c = Conn(self.port, timeout=5)
                try:
                    if c.call("PING") == b"PONG":
                        return
                finally:
                    c.close()
            except (OSError, ReplyError):
                pass
            time.sleep(0.01)
        raise RuntimeError("%s did not answer PING within %ds" % (self.name, timeout))

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self in _live:
            _live.remove(self)
        shutil.rmtree(self.dir, ignore_errors=True)


@atexit.register
def _stop_all():
    for n in list(_live):
        n.stop()


def reset_hwm(pid):
    """Resets VmHWM of a process we own (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_tree_kb(pid):
    return sum(proc_kb(p, "VmRSS") for p in [pid] + children(pid))


# --- dataset ----------------------------------------------------------------------


def value_pool(seed=1, size=1 << 16):
    """Hex text from a fixed seed: values that LZF in the RDB writer barely compresses."""
    return random.Random(seed).getrandbits(size * 4).to_bytes(size // 2, "little").hex().encode()


def dataset_commands(keys, value_size):
    """80% strings of value_size bytes, 5% each of 5-field hashes, 8-item lists,
    6-member sets, 5-member zsets (the shapes of bench_persistence)."""
    pool = value_pool()
    span = len(pool) - value_size
    kinds = {16: "hash", 17: "list", 18: "set", 19: "zset"}
    cmds = []
    for i in range(keys):
        kind = kinds.get(i % 20)
        if kind is None:
            off = (i * 7919) % span
            cmds.append(command([b"SET", b"str:%d" % i, pool[off:off + value_size]]))
        else:
            cmds.append(container_command(kind, i))
    return cmds


def writer_batches(batch, value_size, distinct=100000):
    pool = value_pool(seed=2)
    value = pool[:value_size]
    per = max(1, distinct // batch)
    return [b"".join(command([b"SET", b"lag:%d" % (k * batch + j), value])
                     for j in range(batch)) for k in range(per)]


def dbsize(port):
    c = Conn(port, timeout=600)
    try:
        return c.call("DBSIZE")
    finally:
        c.close()


def digest(port):
    c = Conn(port, timeout=600)
    try:
        return c.call("DEBUG", "DIGEST")
    except ReplyError:
        return None
    finally:
        c.close()


# --- 1. full sync -------------------------------------------------------------------


def wait_synced(replica, master, timeout, poll_s, rss=None):
    """Polls the replica's INFO replication until master_link_status:up and
    master_sync_in_progress:0; samples RSS into `rss` meanwhile. Returns seconds since the
    replica process was started."""
    t0 = replica.t_start
    deadline = t0 + timeout
    conn = None
    outstanding = False
    while True:
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError("%s: no full sync within %ds; replica log:\n%s" %
                               (replica.name, timeout, replica.log_tail()))
        replica.check_alive()
        master.check_alive()
        if rss is not None:
            rss["master_tree"] = max(rss["master_tree"], rss_tree_kb(master.pid))
            rss["master"] = max(rss["master"], proc_kb(master.pid, "VmRSS"))
            rss["replica"] = max(rss["replica"], rss_tree_kb(replica.pid))
            rss["replica_anon"] = max(rss["replica_anon"], proc_kb(replica.pid, "RssAnon"))
        try:
            if conn is None:
                conn = Conn(replica.port, timeout=5)
                outstanding = False
            if not outstanding:
                conn.send("INFO", "replication")
                outstanding = True
            r = conn.poll(poll_s)
            if r is not PENDING:
                outstanding = False
                if not isinstance(r, ReplyError):  # e.g. -LOADING: keep polling
                    info = parse_info(r)
                    if (info.get("master_link_status") == "up"
                            and info.get("master_sync_in_progress") == "0"):
                        elapsed = time.monotonic() - t0
                        conn.close()
                        return elapsed
                time.sleep(poll_s)
        except OSError:  # not listening yet, or reset
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(poll_s)


def measure_sync(name, binary, diskless, cmds, args):
    master = Node("%s-master" % name, binary, [
        "--repl-diskless-sync", "yes" if diskless else "no", "--repl-diskless-sync-delay", "0"])
    replica = None
    try:
        master.start()
        master.wait_serving()
        t = time.monotonic()
        load(master.port, len(cmds), cmds.__getitem__)
        load_s = time.monotonic() - t
        master_keys = dbsize(master.port)
        mconn = Conn(master.port)
        net0 = int(parse_info(mconn.call("INFO", "stats")).get("total_net_repl_output_bytes", 0))

        hwm_reset = reset_hwm(master.pid)
        rss = {"master": proc_kb(master.pid, "VmRSS"), "master_tree": 0, "replica": 0,
               "replica_anon": 0}
        replica = Node("%s-replica" % name, binary,
                       ["--replicaof", "127.0.0.1", str(master.port)])
        replica.t_start = time.monotonic()
        replica.start()
        sync_s = wait_synced(replica, master, args.sync_timeout, args.poll_ms / 1000.0, rss)

        st = {"load_s": load_s, "sync_s": sync_s}
        st["master_peak_mb"] = (proc_kb(master.pid, "VmHWM") if hwm_reset else rss["master"]) / 1024
        st["master_tree_peak_mb"] = rss["master_tree"] / 1024
        st["replica_peak_mb"] = max(proc_kb(replica.pid, "VmHWM"), rss["replica"]) / 1024
        st["replica_anon_peak_mb"] = rss["replica_anon"] / 1024
        st["replica_after_mb"] = proc_kb(replica.pid, "VmRSS") / 1024
        net = int(parse_info(mconn.call("INFO", "stats")).get("total_net_repl_output_bytes", 0))
        mconn.close()
        # The RDB the replica received (it keeps it as its dump.rdb), else the master's file,
        # else the bytes the master sent to replicas.
        for path, src in ((os.path.join(replica.dir, "dump.rdb"), "replica dump.rdb"),
                          (os.path.join(master.dir, "dump.rdb"), "master dump.rdb")):
            if os.path.exists(path):
                st["rdb_mb"], st["rdb_src"] = os.path.getsize(path) / 2**20, src
                break
        else:
            st["rdb_mb"], st["rdb_src"] = (net - net0) / 2**20, "net repl bytes"
        st["mbs"] = st["rdb_mb"] / sync_s if sync_s > 0 else float("nan")

        replica_keys = dbsize(replica.port)
        st["keys"] = master_keys
        st["keys_ok"] = replica_keys == master_keys
        if not st["keys_ok"]:
            print("ERROR %s: replica DBSIZE %d != master DBSIZE %d" %
                  (name, replica_keys, master_keys), flush=True)
        if args.digest:
            dm, dr = digest(master.port), digest(replica.port)
            st["digest"] = "n/a" if dm is None or dr is None else (
                "equal" if dm == dr else "DIFFERENT")
            if st["digest"] == "DIFFERENT":
                print("ERROR %s: DEBUG DIGEST master %s replica %s" % (name, dm, dr), flush=True)
        return st
    finally:
        if replica is not None:
            replica.stop()
        master.stop()


# --- 2. steady-state lag ------------------------------------------------------------------


def _writer(port, batches, batch, rate, seconds, pipe):
    """Child process: sends len(batches)-cycled pipelined SET batches at `rate` ops/s."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n_batches = max(1, int(rate * seconds / batch))
    total = n_batches * batch
    t, counts = servers.count_replies(sock, total)
    pipe.send("ready")
    t0 = time.monotonic()
    late = 0.0
    for k in range(n_batches):
        d = t0 + k * batch / rate - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            late = max(late, -d)
        sock.sendall(batches[k % len(batches)])
    sent_s = time.monotonic() - t0
    t.join(timeout=60)
    done_s = time.monotonic() - t0
    sock.close()
    pipe.send({"sent": total, "replies": counts["replies"], "errors": counts["errors"],
               "sent_s": sent_s, "done_s": done_s, "late_s": late})


def percentile(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def measure_lag(name, binary, batches, args):
    master = Node("%s-master" % name, binary, ["--repl-diskless-sync-delay", "0"])
    replica = None
    writer = None
    conns = []
    try:
        master.start()
        master.wait_serving()
        replica = Node("%s-replica" % name, binary,
                       ["--replicaof", "127.0.0.1", str(master.port)])
        replica.t_start = time.monotonic()
        replica.start()
        wait_synced(replica, master, 60, args.poll_ms / 1000.0)
        m_info, r_info, m_set, r_get = conns[:] = [
            Conn(p) for p in (master.port, replica.port, master.port, replica.port)]
        # A diskless sync ends with the master waiting for the replica's first REPLCONF ACK
        # before it streams commands; when that ACK races the master noticing that its fork
        # child exited, Redis waits for the next one, a second later. Measure from the point
        # where a write reaches the replica.
        t0 = time.monotonic()
        m_set.call("SET", "warmup", "1")
        for _ in range(100000):
            if r_get.call("GET", "warmup") == b"1":
                break
            if time.monotonic() - t0 > 10:
                raise RuntimeError("%s: a write did not reach the replica in 10 s" % name)
            time.sleep(0.001)
        first_write_ms = (time.monotonic() - t0) * 1000.0

        ctx = multiprocessing.get_context("fork")
        parent_end, child_end = ctx.Pipe()
        writer = ctx.Process(target=_writer, args=(master.port, batches, args.batch, args.rate,
                                                   args.seconds, child_end), daemon=True)
        writer.start()
        if not parent_end.poll(30) or parent_end.recv() != "ready":
            raise RuntimeError("%s: writer did not start" % name)

        lags, marks, missed, negative = [], [], 0, 0
        interval = args.sample_ms / 1000.0
        marker_every = max(1, int(round(args.marker_ms / args.sample_ms)))
        t_start = time.monotonic()
        k = 0
        while time.monotonic() - t_start < args.seconds and k < 10 * args.seconds / interval:
            # Both INFOs in flight at once, so the two offsets are read at about one instant.
            m_info.send("INFO", "replication")
            r_info.send("INFO", "replication")
            m_off = int(parse_info(m_info.reply())["master_repl_offset"])
            r_off = int(parse_info(r_info.reply())["slave_repl_offset"])
            if m_off < r_off:
                negative += 1
            lags.append(max(0, m_off - r_off))
            if k % marker_every == 0:
                key, token = b"marker:%d" % k, b"%d:%d" % (os.getpid(), k)
                t0 = time.monotonic()
                if m_set.call("SET", key, token) != b"OK":
                    raise RuntimeError("%s: marker SET failed" % name)
                for _ in range(200000):
                    if r_get.call("GET", key) == token:
                        marks.append((time.monotonic() - t0) * 1000.0)
                        break
                    if time.monotonic() - t0 > args.marker_timeout:
                        missed += 1
                        break
                    time.sleep(0.0001)
                else:
                    missed += 1
            k += 1
            time.sleep(max(0.0, t_start + k * interval - time.monotonic()))

        if not parent_end.poll(args.seconds + 60):
            raise RuntimeError("%s: writer did not finish" % name)
        w = parent_end.recv()
        writer.join(timeout=10)
        if w["replies"] != w["sent"] or w["errors"]:
            raise RuntimeError("%s: writer got %d replies (%d errors) for %d SETs" %
                               (name, w["replies"], w["errors"], w["sent"]))

        # After the load stops the replica must reach the master's offset and key count.
        t0 = time.monotonic()
        for _ in range(100000):
            m_info.send("INFO", "replication")
            r_info.send("INFO", "replication")
            m_off = int(parse_info(m_info.reply())["master_repl_offset"])
            r_off = int(parse_info(r_info.reply())["slave_repl_offset"])
            if m_off == r_off or time.monotonic() - t0 > 30:
                break
            time.sleep(0.001)
        if m_off != r_off:
            raise RuntimeError("%s: replica offset %d != master %d 30 s after the load" %
                               (name, r_off, m_off))
        mk, rk = m_set.call("DBSIZE"), r_get.call("DBSIZE")
        if mk != rk:
            raise RuntimeError("%s: replica DBSIZE %d != master %d" % (name, rk, mk))
        return {"rate": w["sent"] / w["sent_s"], "late_ms": w["late_s"] * 1000.0,
                "first_write_ms": first_write_ms,
                "samples": len(lags), "negative": negative,
                "lag_mean": mean(lags), "lag_p99": percentile(lags, 99), "lag_max": max(lags),
                "markers": len(marks), "missed": missed, "mark_mean": mean(marks),
                "mark_p50": percentile(marks, 50), "mark_p99": percentile(marks, 99),
                "mark_max": max(marks) if marks else float("nan")}
    finally:
        for c in conns:
            c.close()
        if writer is not None and writer.is_alive():
            writer.terminate()
            writer.join(timeout=10)
        if replica is not None:
            replica.stop()
        master.stop()


# --- report ------------------------------------------------------------------------


def ratio(kind, r, c):
    """> 1 is in Cairn's favour: Redis/Cairn for costs, Cairn/Redis for speeds."""
    num, den = (c, r) if kind == "speed" else (r, c)
    if num != num or den != den:
        return "-"
    if den == 0:
        return "1.00" if num == 0 else "inf"
    return "%.2f" % (num / den)


SYNC_ROWS = [
    ("rdb_mb", "RDB size (MB)", "%.1f", "cost"),
    ("sync_s", "full sync time (s)", "%.3f", "cost"),
    ("mbs", "full sync throughput (MB/s of RDB)", "%.1f", "speed"),
    ("master_peak_mb", "master peak RSS (MB)", "%.1f", "cost"),
    ("master_tree_peak_mb", "master+fork child peak RSS (MB)", "%.1f", "cost"),
    ("replica_peak_mb", "replica peak RSS (MB)", "%.1f", "cost"),
    ("replica_anon_peak_mb", "replica peak RssAnon (MB, sampled)", "%.1f", "cost"),
    ("replica_after_mb", "replica RSS after the sync (MB)", "%.1f", "cost"),
]
LAG_ROWS = [
    ("rate", "SET rate achieved (ops/s)", "%.0f", "speed"),
    ("lag_mean", "lag mean (bytes)", "%.0f", "cost"),
    ("lag_p99", "lag p99 (bytes)", "%.0f", "cost"),
    ("lag_max", "lag max (bytes)", "%.0f", "cost"),
    ("mark_mean", "marker visible on replica, mean (ms)", "%.3f", "cost"),
    ("mark_p50", "marker visible, p50 (ms)", "%.3f", "cost"),
    ("mark_p99", "marker visible, p99 (ms)", "%.3f", "cost"),
    ("mark_max", "marker visible, max (ms)", "%.3f", "cost"),
]


def print_table(title, rows, stats, names):
    print()
    print(title)
    header = "%-40s" % "metric" + "".join("%12s" % n for n in names)
    if len(names) == 2:
        header += "%8s" % "ratio"
    print(header)
    print("-" * len(header))
    for key, label, fmt, kind in rows:
        vals = [stats[n][key] for n in names]
        line = "%-40s" % label + "".join("%12s" % (fmt % v) for v in vals)
        if len(names) == 2:
            line += "%8s" % ratio(kind, vals[0], vals[1])
        print(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", "-n", type=int, default=1000000,
                    help="keys in the full-sync dataset (80%% strings, 20%% containers)")
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--modes", default="disk,diskless",
                    help="full-sync modes: disk (repl-diskless-sync no), diskless (yes)")
    ap.add_argument("--rate", type=int, default=20000, help="SETs/s during the lag test")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the lag test")
    ap.add_argument("--batch", type=int, default=20, help="SETs per pipelined batch")
    ap.add_argument("--sample-ms", type=float, default=50.0, help="offset sampling interval")
    ap.add_argument("--marker-ms", type=float, default=50.0, help="marker key interval")
    ap.add_argument("--marker-timeout", type=float, default=2.0)
    ap.add_argument("--poll-ms", type=float, default=2.0, help="INFO poll interval during sync")
    ap.add_argument("--sync-timeout", type=float, default=600.0)
    ap.add_argument("--no-digest", dest="digest", action="store_false",
                    help="skip the DEBUG DIGEST comparison after each full sync")
    ap.add_argument("--servers", default="redis,cairn", help="which pairs to run")
    ap.add_argument("--cairn-bin", default=servers.default_cairn())
    ap.add_argument("--redis-bin", default="/usr/bin/redis-server")
    args = ap.parse_args()
    if args.rate <= 0 or args.batch <= 0 or args.seconds <= 0 or args.sample_ms <= 0:
        ap.error("--rate, --batch, --seconds and --sample-ms must be positive")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    bins = {"redis": args.redis_bin, "cairn": args.cairn_bin}
    names = [n for n in args.servers.split(",") if n]
    modes = [m for m in args.modes.split(",") if m]
    for n in names:
        if n not in bins:
            ap.error("unknown server %r" % n)
    for m in modes:
        if m not in ("disk", "diskless"):
            ap.error("unknown mode %r" % m)
    print("redis: %s\ncairn: %s" % (bins["redis"], bins["cairn"]))

    t = time.monotonic()
    cmds = dataset_commands(args.keys, args.value_size)
    print("dataset: %d keys (80%% %d-byte strings, 5%% each 5-field hashes, 8-item lists, "
          "6-member sets, 5-member zsets), commands built in %.1fs" %
          (args.keys, args.value_size, time.monotonic() - t), flush=True)

    sync = {m: {} for m in modes}
    for m in modes:
        for n in names:
            st = measure_sync(n, bins[n], m == "diskless", cmds, args)
            sync[m][n] = st
            print("  %-8s %-5s loaded in %.1fs, synced %d keys in %.3fs (%.1f MB from %s), "
                  "DBSIZE %s, digest %s" % (m, n, st["load_s"], st["keys"], st["sync_s"],
                                            st["rdb_mb"], st["rdb_src"],
                                            "equal" if st["keys_ok"] else "DIFFERENT",
                                            st.get("digest", "skipped")), flush=True)
    del cmds

    batches = writer_batches(args.batch, args.value_size)
    lag = {}
    for n in names:
        lag[n] = measure_lag(n, bins[n], batches, args)
        st = lag[n]
        print("  lag      %-5s first write after the sync visible in %.1f ms; %d samples (%d with "
              "the replica ahead of the master offset read), %d markers, %d not seen within "
              "%.1fs, writer at most %.1f ms behind schedule" %
              (n, st["first_write_ms"], st["samples"], st["negative"], st["markers"],
               st["missed"], args.marker_timeout, st["late_ms"]), flush=True)

    print()
    print("ratio > 1 is in Cairn's favour: Redis/Cairn for times, lags and memory, "
          "Cairn/Redis for MB/s and rates")
    for m in modes:
        print_table("full sync, repl-diskless-sync %s (delay 0), %d keys" %
                    ("yes" if m == "diskless" else "no", args.keys), SYNC_ROWS, sync[m], names)
    print_table("steady state: %d SET/s for %gs in batches of %d; offsets every %g ms, "
                "a marker every %g ms" % (args.rate, args.seconds, args.batch, args.sample_ms,
                                          args.marker_ms), LAG_ROWS, lag, names)
    bad = [m for m in modes for n in names if not sync[m][n]["keys_ok"]
           or sync[m][n].get("digest") == "DIFFERENT"]
    if bad:
        print("\nERROR: a replica did not hold the master's data after the full sync")
        sys.exit(1)


if __name__ == "__main__":
    main()
