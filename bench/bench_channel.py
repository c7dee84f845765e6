#!/usr/bin/env python3
# Cairn's secure channel (Noise IKpsk2 + zstd) against plain TCP, spiped and stunnel,
# in one run:
#   1. throughput on loopback through a `cairn tunnel` pair, compression off and on,
#      compressible (JSON-like) and random payloads, against plain TCP loopback with
#      the same sender and receiver (GB/s and channel/plain);
#   2. full sync over a rate-limited veth pair between two network namespaces (tbf on
#      both ends) of a JSON-like and of an incompressible dataset: Cairn master ->
#      Cairn replica over the channel, stock Redis -> stock Redis through spiped and
#      through stunnel. Bytes on the wire from the veth counters, time from REPLICAOF
#      until the link is up and DBSIZE matches, and ratios against zstd -3 of the RDB
#      written without LZF and against the physical limit (wire bytes / link rate);
#   3. steady state under a paced SET load over the same link: wire bytes per second
#      of the channel against the plain replication stream, spiped and stunnel, and
#      the replication lag of a marker key, channel against plain TCP.
# Ratios are printed so that > 1 favours Cairn. Everything this script starts (servers,
# tunnels, namespaces) it stops by PID / deletes itself, also on errors and Ctrl-C.
import argparse
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from channel_env import *  # noqa: E402,F401,F403 (processes, netns, client, data)
from channel_env import _procs, _tmpdirs  # noqa: E402,F401


# --- 1. loopback throughput ----------------------------------------------------------------


def _tp_receiver(lsock, pipe, bufsize):
    conn, _ = lsock.accept()
    buf = memoryview(bytearray(bufsize))
    n = 0
    while True:
        k = conn.recv_into(buf)
        if not k:
            break
        n += k
    t_end = time.monotonic()
    conn.close()
    pipe.send((n, t_end))


def _tp_sender(port, pool, total, chunk, pipe):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    view = memoryview(pool)
    sent, off = 0, 0
    while sent < total:
        n = min(chunk, total - sent, len(pool) - off)
        s.sendall(view[off:off + n])
        sent += n
        off = (off + n) % len(pool)
    s.shutdown(socket.SHUT_WR)
    s.close()
    pipe.send(t0)


def tp_transfer(lsock, port, pool, total, args):
    """One connection to `port` (plain receiver or tunnel client) carrying `total` bytes to
    the receiver behind `lsock`. Returns (bytes received, seconds from the sender's connect
    to the receiver's EOF)."""
    ctx = multiprocessing.get_context("fork")
    r_end, r_child = ctx.Pipe()
    s_end, s_child = ctx.Pipe()
    rx = ctx.Process(target=_tp_receiver, args=(lsock, r_child, args.tp_buffer), daemon=True)
    tx = ctx.Process(target=_tp_sender, args=(port, pool, total, args.tp_buffer, s_child),
                     daemon=True)
    limit = 30 + total / (20 * MB)  # generous: 20 MB/s is far below any sane result
    try:
        rx.start()
        tx.start()
        if not r_end.poll(limit):
            raise RuntimeError("transfer of %d bytes to port %d did not finish in %.0fs" %
                               (total, port, limit))
        n, t_end = r_end.recv()
        if not s_end.poll(30):
            raise RuntimeError("sender did not finish")
        t0 = s_end.recv()
        return n, t_end - t0
    finally:
        for p in (tx, rx):
            if p.is_alive():
                p.terminate()
            p.join(timeout=10)


def part_throughput(args, tmp):
    print("\n== 1. throughput on loopback: sender -> [cairn tunnel client -> channel -> cairn "
          "tunnel server] -> receiver ==", flush=True)
    total = int(args.tp_mb * MB)
    t = time.monotonic()
    pools = {"json": json_pool(args.tp_pool_mb * 2**20),
             "random": random.Random(5).randbytes(args.tp_pool_mb * 2**20)}
    print("payloads: %d MB per transfer, cycled from a %d MiB pool of JSON-like records "
          "(zstd window is 8 MiB, so the pool does not repeat within it) or of random bytes; "
          "sendall/recv_into with %d KiB buffers; median of %d rounds (built in %.1fs)" %
          (args.tp_mb, args.tp_pool_mb, args.tp_buffer // 1024, args.tp_rounds,
           time.monotonic() - t), flush=True)

    keys = os.path.join(tmp, "tp-keys")
    os.makedirs(keys)
    ckey, skey = NodeKey(args.cairn_bin, keys, "client"), NodeKey(args.cairn_bin, keys, "server")
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    recv_port = lsock.getsockname()[1]
    results = {}  # (mode, payload) -> dict

    def measure(mode, port, tunnels):
        for payload in args.tp_payloads:
            rates, cpu = [], []
            for _ in range(args.tp_rounds):
                c0 = [p.cpu_seconds() for p in tunnels]
                n, secs = tp_transfer(lsock, port, pools[payload], total, args)
                c1 = [p.cpu_seconds() for p in tunnels]
                if n != total:
                    raise RuntimeError("%s/%s: receiver got %d of %d bytes" % (mode, payload, n,
                                                                              total))
                rates.append(n / secs / GB)
                cpu.append([(b - a) / (n / GB) for a, b in zip(c0, c1)])
            st = {"gbs": statistics.median(rates), "all": rates,
                  "cpu": [statistics.median(x) for x in zip(*cpu)] if tunnels else []}
            results[(mode, payload)] = st
            print("  %-16s %-7s %6.3f GB/s  (rounds: %s)%s" % (
                mode, payload, st["gbs"], " ".join("%.3f" % r for r in rates),
                "  tunnel CPU s/GB client %.2f server %.2f" % tuple(st["cpu"]) if tunnels
                else ""), flush=True)

    try:
        measure("plain TCP", recv_port, [])
        for comp in args.tp_compression:
            sport, cport = servers.free_port(), servers.free_port()
            server = Proc("tunnel-server-comp-%s" % comp, [
                args.cairn_bin, "tunnel", "--secure-listen", "127.0.0.1:%d" % sport,
                "--forward", "127.0.0.1:%d" % recv_port, "--private-key", skey.path,
                "--allow", ckey.public + ":bench", "--compression", comp], tmp)
            client = Proc("tunnel-client-comp-%s" % comp, [
                args.cairn_bin, "tunnel", "--listen", "127.0.0.1:%d" % cport, "--connect",
                "127.0.0.1:%d" % sport, "--private-key", ckey.path, "--peer-key", skey.public,
                "--compression", comp], tmp)
            try:
                server.wait_log("Tunnel server:")
                client.wait_log("Tunnel client:")
                measure("channel comp=%s" % comp, cport, [client, server])
                for p in (client, server):
                    p.check()
            finally:
                stop_all([client, server])
    finally:
        lsock.close()

    print("\nthroughput (GB/s, 1 GB = 1e9 bytes; ratio = channel / plain TCP, same payload)")
    print("%-22s %-8s %9s %9s %s" % ("path", "payload", "GB/s", "ratio", "tunnel CPU s/GB "
                                     "(client, server)"))
    for (mode, payload), st in results.items():
        plain = results.get(("plain TCP", payload))
        r = st["gbs"] / plain["gbs"] if plain else float("nan")
        print("%-22s %-8s %9.3f %9.3f %s" % (mode, payload, st["gbs"], r,
                                           "%.2f, %.2f" % tuple(st["cpu"]) if st["cpu"] else ""))
    off = [results[k]["gbs"] / results[("plain TCP", k[1])]["gbs"] for k in results
           if k[0] == "channel comp=no" and ("plain TCP", k[1]) in results]
    if off:
        worst = min(off)
        print("target: channel with compression off within 15%% of plain TCP (ratio >= 0.85): "
              "worst ratio %.3f -> %s" % (worst, "met" if worst >= 0.85 else "NOT met"))
    return results


# --- 2./3. server pairs over the link ----------------------------------------------------------

CONFIGS = {
    # name: (server kind, transport)
    "cairn-channel": ("cairn", "channel"),
    "cairn-plain": ("cairn", "plain"),
    "redis-plain": ("redis", "plain"),
    "redis-spiped": ("redis", "spiped"),
    "redis-stunnel": ("redis", "stunnel"),
    "redis-tunnel": ("redis", "cairn-tunnel"),
}
LABELS = {
    "cairn-channel": "Cairn -> Cairn, channel",
    "cairn-plain": "Cairn -> Cairn, plain TCP",
    "redis-plain": "Redis -> Redis, plain TCP",
    "redis-spiped": "Redis -> Redis, spiped",
    "redis-stunnel": "Redis -> Redis, stunnel",
    "redis-tunnel": "Redis -> Redis, cairn tunnel",
}


# Startup warnings of every run on this VM, and the servers' own log of the shutdown
# this script asks for.
BENIGN = ("no config file specified", "memory overcommit must be enabled",
          "received sigterm", "connection with master lost", "connection with replica",
          "user requested shutdown", "error condition on socket for sync: connection refused")


class Pair:
    """A master in the link's master namespace and an empty replica (not yet replicating)
    in the replica namespace, with whatever tunnel processes the transport needs."""

    _count = 0

    def __init__(self, cfg, link, args, tmp):
        Pair._count += 1
        self.cfg, self.link, self.args = cfg, link, args
        kind, self.transport = CONFIGS[cfg]
        self.dir = os.path.join(tmp, "%s-%d" % (cfg, Pair._count))
        os.makedirs(self.dir)
        base = 20000 + 10 * Pair._count
        self.pm, self.pr, self.sp, self.lp = base, base + 1, base + 2, base + 3
        binary = args.cairn_bin if kind == "cairn" else args.redis_bin
        self.procs = []
        self.clients = []
        try:
            self._start(kind, binary)
        except BaseException:
            self.stop()
            raise

    def _server(self, name, binary, ns, port, extra):
        d = os.path.join(self.dir, name)
        os.makedirs(d)
        sub = [] if os.path.basename(binary).startswith("redis-server") else ["server"]
        p = Proc("%s-%d-%s" % (self.cfg, Pair._count, name), [binary] + sub + [
            "--port", str(port), "--save", "", "--appendonly", "no", "--dir", d,
            "--dbfilename", "dump.rdb", "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0"] + extra, self.dir, netns=ns, cwd=d)
        self.procs.append(p)
        return p

    def _tunnel_proc(self, name, argv, ns):
        p = Proc("%s-%d-%s" % (self.cfg, Pair._count, name), argv, self.dir, netns=ns)
        self.procs.append(p)
        return p

    def _start(self, kind, binary):
        L, a = self.link, self.args
        m_extra, r_extra = ["--bind", "127.0.0.1"], ["--bind", "127.0.0.1"]
        if self.transport == "channel":
            mkey = NodeKey(a.cairn_bin, self.dir, "master")
            rkey = NodeKey(a.cairn_bin, self.dir, "replica")
            m_extra += ["--secure-port", str(self.sp), "--secure-bind", L.ip_m,
                        "--secure-private-key", mkey.path, "--secure-allow", rkey.public,
                        "offsite"]
            r_extra += ["--secure-master-public-key", mkey.public, "--secure-private-key",
                        rkey.path]
            self.target = (L.ip_m, self.sp)
        elif self.transport == "plain":
            m_extra = ["--bind", "127.0.0.1", L.ip_m, "--protected-mode", "no"]
            self.target = (L.ip_m, self.pm)
        else:
            self.target = ("127.0.0.1", self.lp)
        self.master = self._server("master", binary, L.ns_m, self.pm, m_extra)
        self.replica = self._server("replica", binary, L.ns_r, self.pr, r_extra)

        if self.transport == "spiped":
            key = os.path.join(self.dir, "spiped.key")
            write_secret(key, os.urandom(32))
            d = self._tunnel_proc("spiped-d", [
                "spiped", "-d", "-F", "-s", "[%s]:%d" % (L.ip_m, self.sp), "-t",
                "[127.0.0.1]:%d" % self.pm, "-k", key], L.ns_m)
            e = self._tunnel_proc("spiped-e", [
                "spiped", "-e", "-F", "-s", "[127.0.0.1]:%d" % self.lp, "-t",
                "[%s]:%d" % (L.ip_m, self.sp), "-k", key], L.ns_r)
            d.wait_listening(self.sp)
            e.wait_listening(self.lp)
        elif self.transport == "stunnel":
            cert, key = stunnel_files(os.path.dirname(self.dir))
            srv = self._tunnel_proc("stunnel-server", ["stunnel4", stunnel_conf(
                os.path.join(self.dir, "stunnel-server.conf"), False, "%s:%d" % (L.ip_m, self.sp),
                "127.0.0.1:%d" % self.pm, cert, key)], L.ns_m)
            cli = self._tunnel_proc("stunnel-client", ["stunnel4", stunnel_conf(
                os.path.join(self.dir, "stunnel-client.conf"), True, "127.0.0.1:%d" % self.lp,
                "%s:%d" % (L.ip_m, self.sp), cert, key)], L.ns_r)
            srv.wait_listening(self.sp)
            cli.wait_listening(self.lp)
        elif self.transport == "cairn-tunnel":
            skey = NodeKey(a.cairn_bin, self.dir, "tunnel-server")
            ckey = NodeKey(a.cairn_bin, self.dir, "tunnel-client")
            srv = self._tunnel_proc("tunnel-server", [
                a.cairn_bin, "tunnel", "--secure-listen", "%s:%d" % (L.ip_m, self.sp),
                "--forward", "127.0.0.1:%d" % self.pm, "--private-key", skey.path, "--allow",
                ckey.public + ":replica"], L.ns_m)
            cli = self._tunnel_proc("tunnel-client", [
                a.cairn_bin, "tunnel", "--listen", "127.0.0.1:%d" % self.lp, "--connect",
                "%s:%d" % (L.ip_m, self.sp), "--private-key", ckey.path, "--peer-key",
                skey.public], L.ns_r)
            srv.wait_log("Tunnel server:")
            cli.wait_log("Tunnel client:")

        wait_ping(self.master, L.ns_m, self.pm)
        wait_ping(self.replica, L.ns_r, self.pr)
        self.m = self.client("m")
        self.r = self.client("r")

    def client(self, side, timeout=30.0):
        ns, port = (self.link.ns_m, self.pm) if side == "m" else (self.link.ns_r, self.pr)
        c = Client(ns, port, timeout=timeout)
        self.clients.append(c)
        return c

    def start_replication(self):
        self.r.call("REPLICAOF", self.target[0], self.target[1])

    def wait_synced(self, keys, timeout, poll=0.02):
        """Until the replica's link is up, no sync is in progress and DBSIZE == keys."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.master.check()
            self.replica.check()
            for p in self.procs:
                p.check()
            try:
                info = self.r.info("replication")
                if (info.get("master_link_status") == "up"
                        and info.get("master_sync_in_progress") == "0"
                        and self.r.call("DBSIZE") == keys):
                    return
            except RespError:  # -LOADING and the like: keep polling
                pass
            time.sleep(poll)
        raise RuntimeError("%s: the replica did not sync within %gs; replica log:\n%s\n"
                           "master log:\n%s" % (self.cfg, timeout, self.replica.log_tail(),
                                                self.master.log_tail()))

    def secure_info(self):
        return self.m.info("secure") if self.transport == "channel" else {}

    def log_problems(self):
        """Lines of the server and tunnel logs that look like trouble (known harmless
        startup warnings left out)."""
        bad = []
        for p in self.procs:
            for line in p.log_text().splitlines():
                low = line.lower()
                if any(b in low for b in BENIGN):
                    continue
                if any(w in low for w in ("error", "fail", "timeout", "timed out", "lost",
                                          "refused", "panic", "assert", "warn", "abort")):
                    bad.append("%s: %s" % (p.name, line.strip()))
        return bad

    def stop(self):
        for c in self.clients:
            try:
                c.close()
            except OSError:
                pass
        self.clients = []
        stop_all(self.procs)
        self.procs = []


# --- 2. full sync ------------------------------------------------------------------------------


def reference_rdb(args, cmds, tmp, name):
    """Stock Redis on loopback, loaded with `cmds`; RDB sizes with and without LZF (dumped
    with redis-cli --rdb) and zstd -3 of each."""
    d = os.path.join(tmp, "ref-" + name)
    os.makedirs(d)
    port = servers.free_port()
    p = Proc("ref-redis-" + name, [args.redis_bin, "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", d,
                                   "--repl-diskless-sync-delay", "0"], d)
    try:
        wait_ping(p, None, port)
        c = Client(None, port, timeout=120)
        load(c, cmds)
        out = {}
        for lzf in ("no", "yes"):
            c.call("CONFIG", "SET", "rdbcompression", lzf)
            path = os.path.join(d, "lzf-%s.rdb" % lzf)
            run(["redis-cli", "-p", str(port), "--rdb", path], timeout=600,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t = time.monotonic()
            z = run(["zstd", "-3", "-c", "-q", path], timeout=600, capture_output=True).stdout
            out["rdb_lzf_" + lzf] = os.path.getsize(path)
            out["zstd_lzf_" + lzf] = len(z)
            out["zstd_s_lzf_" + lzf] = time.monotonic() - t
            os.unlink(path)
        c.close()
        return out
    finally:
        p.stop()
        shutil.rmtree(d, ignore_errors=True)


def measure_sync(cfg, link, args, tmp, cmds):
    pair = Pair(cfg, link, args, tmp)
    try:
        load(pair.m, cmds)
        keys = pair.m.call("DBSIZE")
        if keys != len(cmds):
            raise RuntimeError("%s: master has %d keys, expected %d" % (cfg, keys, len(cmds)))
        s0, c0 = pair.secure_info(), link.counters()
        t0 = time.monotonic()
        pair.start_replication()
        pair.wait_synced(keys, args.sync_timeout)
        secs = time.monotonic() - t0
        d = delta(link.counters(), c0)
        s1 = pair.secure_info()
        st = {"secs": secs, "wire": d["tx_bytes"], "back": d["rx_bytes"],
              "payload": payload_estimate(d), "packets": d["tx_packets"], "drops": d["drops"],
              "keys": keys}
        st["limit_s"] = st["wire"] / link.rate_bps
        if s1:
            for k in ("secure_bytes_sent_on_wire", "secure_bytes_sent_before_compression"):
                st[k] = int(s1[k]) - int(s0.get(k, 0))
            st["lzf_skipped"] = "RDB strings go without LZF" in pair.master.log_text()
        st["problems"] = pair.log_problems()
        return st
    finally:
        pair.stop()


def fmt_mb(b):
    return "%.2f" % (b / MB)


def favour(other, cairn):
    """other / cairn: > 1 favours Cairn for costs (bytes, seconds)."""
    return "%.2f" % (other / cairn) if cairn else "-"


def part_sync(args, link, tmp):
    print("\n== 2. full sync over a veth pair between two namespaces (tbf %s burst %s latency %s "
          "on both ends), diskless (repl-diskless-sync yes, delay 0) ==" %
          (link.rate, link.burst, link.latency), flush=True)
    all_results = {}
    for ds in args.datasets:
        t = time.monotonic()
        if ds == "json":
            cmds = json_dataset(args.json_mb * MB)
            desc = "JSON-like user records (~190-byte values, fixed seed)"
        else:
            cmds = random_dataset(args.random_mb * MB, args.random_value_size)
            desc = "random bytes values of %d bytes (fixed seed)" % args.random_value_size
        ref = reference_rdb(args, cmds, tmp, ds)
        zr = ref["rdb_lzf_no"] / ref["zstd_lzf_no"]
        print("\ndataset %s: %d keys, %s (built and dumped in %.1fs)" %
              (ds, len(cmds), desc, time.monotonic() - t))
        print("  RDB without LZF %s MB, with LZF %s MB; zstd -3 of the RDB without LZF %s MB "
              "(ratio %.2f), of the RDB with LZF %s MB" % (
                  fmt_mb(ref["rdb_lzf_no"]), fmt_mb(ref["rdb_lzf_yes"]),
                  fmt_mb(ref["zstd_lzf_no"]), zr, fmt_mb(ref["zstd_lzf_yes"])))
        if ds == "json":
            print("  dataset check: zstd -3 ratio of the RDB without LZF >= 2.5: %.2f -> %s" %
                  (zr, "ok" if zr >= 2.5 else "NOT ok (dataset too random)"))
        res = {}
        for cfg in args.sync_configs:
            st = measure_sync(cfg, link, args, tmp, cmds)
            res[cfg] = st
            extra = ""
            if "secure_bytes_sent_on_wire" in st:
                extra = ("; channel: %s MB before compression -> %s MB sent (INFO secure), "
                         "master log says LZF skipped: %s" % (
                             fmt_mb(st["secure_bytes_sent_before_compression"]),
                             fmt_mb(st["secure_bytes_sent_on_wire"]),
                             "yes" if st["lzf_skipped"] else "NO"))
            print("  %-28s %7.2fs  %s MB m->r (%d frames, tbf drops %d), %s MB r->m%s" % (
                LABELS[cfg], st["secs"], fmt_mb(st["wire"]), st["packets"], st["drops"],
                fmt_mb(st["back"]), extra), flush=True)
            for line in st["problems"][:8]:
                print("      log: " + line)
        del cmds
        all_results[ds] = (ref, res)
        print_sync_table(ds, ref, res, link)
    return all_results


def print_sync_table(ds, ref, res, link):
    print("\nfull sync, dataset %s (wire = master->replica Ethernet frames on the veth; payload "
          "= wire - %d bytes of headers per frame; limit = wire / %s)" %
          (ds, FRAME_OVERHEAD, link.rate))
    print("%-30s %10s %12s %10s %9s %9s %11s" % ("", "wire MB", "payload MB", "r->m MB",
                                                "time s", "limit s", "time/limit"))
    for cfg, st in res.items():
        print("%-30s %10s %12s %10s %9.2f %9.2f %11.2f" % (
            LABELS[cfg], fmt_mb(st["wire"]), fmt_mb(st["payload"]), fmt_mb(st["back"]),
            st["secs"], st["limit_s"], st["secs"] / st["limit_s"]))
    c = res.get("cairn-channel")
    if not c:
        return
    print("ratios, > 1 favours Cairn (other / Cairn):")
    for other in ("redis-spiped", "redis-stunnel", "redis-plain", "redis-tunnel"):
        if other in res:
            o = res[other]
            print("  Cairn vs %-22s wire bytes %s, time %s" % (
                LABELS[other].split(", ")[1], favour(o["wire"], c["wire"]),
                favour(o["secs"], c["secs"])))
    z = ref["zstd_lzf_no"]
    print("Cairn against zstd -3 of the RDB without LZF (%s MB): wire %.3f, payload %.3f, "
          "channel bytes from INFO secure %.3f (Cairn / zstd, < 1 favours Cairn)" % (
              fmt_mb(z), c["wire"] / z, c["payload"] / z, c["secure_bytes_sent_on_wire"] / z))
    print("targets:")
    w = c["wire"] / z
    p = c["payload"] / z
    print("  wire bytes within 5%% of zstd -3 (<= 1.05): frames %.3f -> %s; TCP payload %.3f -> "
          "%s" % (w, "met" if w <= 1.05 else "NOT met", p, "met" if p <= 1.05 else "NOT met"))
    tl = c["secs"] / c["limit_s"]
    print("  time within 15%% of the physical limit (<= 1.15): %.2f -> %s" %
          (tl, "met" if tl <= 1.15 else "NOT met"))
    for other in ("redis-spiped", "redis-stunnel"):
        if other not in res:
            continue
        sp = res[other]["secs"] / c["secs"]
        if ds == "json" and other == "redis-spiped":
            print("  >= 2x faster than spiped on JSON: %.2f -> %s" % (
                sp, "met" if sp >= 2 else "NOT met"))
        elif ds != "json":
            print("  never slower than %s on incompressible data (>= 1): %.2f -> %s" % (
                LABELS[other].split(", ")[1], sp, "met" if sp >= 1 else "NOT met"))
    if "lzf_skipped" in c and not c["lzf_skipped"]:
        print("  NOTE: the master's log does not say it skipped LZF for this sync")


# --- 3. steady state --------------------------------------------------------------------------


def steady_commands(rate, seconds, distinct_keys=50000, seed=19):
    rng = random.Random(seed)
    return [encode([b"SET", b"live:%06d" % (i % distinct_keys), json_value(rng, 900000 + i)])
            for i in range(int(rate * seconds))]


def _writer(sock, cmds, batch, rate, pipe):
    """Child process: the pre-encoded commands in pipelined batches at `rate` per second."""
    total = len(cmds)
    t, counts = servers.count_replies(sock, total)
    pipe.send("ready")
    t0 = time.monotonic()
    late = 0.0
    for k in range(0, total, batch):
        d = t0 + k / rate - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            late = max(late, -d)
        sock.sendall(b"".join(cmds[k:k + batch]))
    sent_s = time.monotonic() - t0
    t.join(timeout=60)
    pipe.send({"sent": total, "replies": counts["replies"], "errors": counts["errors"],
               "sent_s": sent_s, "late_s": late})


def percentile(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def measure_steady(cfg, link, args, tmp, cmds):
    pair = Pair(cfg, link, args, tmp)
    writer = None
    try:
        pair.start_replication()
        pair.wait_synced(0, 60)
        m_set, r_get = pair.client("m"), pair.client("r")
        # A write must reach the replica before the clock starts (Redis waits for the
        # replica's first REPLCONF ACK after a diskless sync before it streams).
        t0 = time.monotonic()
        m_set.call("SET", "warmup", "1")
        while r_get.call("GET", "warmup") != b"1":
            if time.monotonic() - t0 > 15:
                raise RuntimeError("%s: a write did not reach the replica in 15 s" % cfg)
            time.sleep(0.002)

        wsock = Client(link.ns_m, pair.pm, timeout=60)
        pair.clients.append(wsock)
        ctx = multiprocessing.get_context("fork")
        parent_end, child_end = ctx.Pipe()
        writer = ctx.Process(target=_writer, args=(wsock.sock, cmds, args.steady_batch,
                                                   args.steady_rate, child_end), daemon=True)
        off0 = int(pair.m.info("replication")["master_repl_offset"])
        s0, c0 = pair.secure_info(), link.counters()
        writer.start()
        if not parent_end.poll(30) or parent_end.recv() != "ready":
            raise RuntimeError("%s: writer did not start" % cfg)
        t_start = time.monotonic()
        marks, missed, k = [], 0, 0
        interval = args.marker_ms / 1000.0
        n_marks = int(args.steady_seconds / interval)
        while k < n_marks and time.monotonic() - t_start < args.steady_seconds + 30:
            key, token = b"marker:%d" % k, b"%d:%d" % (os.getpid(), k)
            t = time.monotonic()
            m_set.call("SET", key, token)
            # GET back to back for the first 5 ms (resolution: one loopback round trip),
            # then every 0.2 ms until the timeout.
            for _ in range(200000):
                if r_get.call("GET", key) == token:
                    marks.append((time.monotonic() - t) * 1000.0)
                    break
                waited = time.monotonic() - t
                if waited > args.marker_timeout:
                    missed += 1
                    break
                if waited > 0.005:
                    time.sleep(0.0002)
            else:
                missed += 1
            k += 1
            time.sleep(max(0.0, t_start + k * interval - time.monotonic()))
        if not parent_end.poll(args.steady_seconds + 60):
            raise RuntimeError("%s: writer did not finish" % cfg)
        w = parent_end.recv()
        writer.join(timeout=10)
        if w["replies"] != w["sent"] or w["errors"]:
            raise RuntimeError("%s: writer got %d replies (%d errors) for %d SETs" %
                               (cfg, w["replies"], w["errors"], w["sent"]))
        # The replica must catch up with the master's offset.
        t = time.monotonic()
        while True:
            m_off = int(pair.m.info("replication")["master_repl_offset"])
            r_off = int(pair.r.info("replication")["slave_repl_offset"])
            if m_off == r_off or time.monotonic() - t > 30:
                break
            time.sleep(0.01)
        if m_off != r_off:
            raise RuntimeError("%s: replica offset %d != master %d 30 s after the load" %
                               (cfg, r_off, m_off))
        catchup_s = time.monotonic() - t
        d = delta(link.counters(), c0)
        s1 = pair.secure_info()
        mk, rk = pair.m.call("DBSIZE"), pair.r.call("DBSIZE")
        if mk != rk:
            raise RuntimeError("%s: replica DBSIZE %d != master %d" % (cfg, rk, mk))
        secs = w["sent_s"]
        st = {"secs": secs, "rate": w["sent"] / secs, "late_ms": w["late_s"] * 1000,
              "stream": m_off - off0, "wire": d["tx_bytes"], "back": d["rx_bytes"],
              "payload": payload_estimate(d), "drops": d["drops"], "catchup_s": catchup_s,
              "marks": marks, "missed": missed,
              "p50": percentile(marks, 50), "p99": percentile(marks, 99),
              "max": max(marks) if marks else float("nan")}
        if s1:
            st["channel_sent"] = (int(s1["secure_bytes_sent_on_wire"]) -
                                  int(s0["secure_bytes_sent_on_wire"]))
            st["channel_before"] = (int(s1["secure_bytes_sent_before_compression"]) -
                                    int(s0["secure_bytes_sent_before_compression"]))
        st["problems"] = pair.log_problems()
        return st
    finally:
        if writer is not None and writer.is_alive():
            writer.terminate()
            writer.join(timeout=10)
        pair.stop()


def part_steady(args, link, tmp):
    print("\n== 3. steady state over the same link: %d SET/s of JSON-like values (unique "
          "values, 50000 keys cycled) for %gs in pipelined batches of %d; a marker key every "
          "%g ms ==" % (args.steady_rate, args.steady_seconds, args.steady_batch,
                        args.marker_ms), flush=True)
    cmds = steady_commands(args.steady_rate, args.steady_seconds)
    res = {}
    for cfg in args.steady_configs:
        st = measure_steady(cfg, link, args, tmp, cmds)
        res[cfg] = st
        extra = ""
        if "channel_sent" in st:
            extra = "; channel %s MB before compression -> %s MB sent" % (
                fmt_mb(st["channel_before"]), fmt_mb(st["channel_sent"]))
        print("  %-28s %.0f SET/s, stream %s MB, wire m->r %s MB, r->m %s MB, tbf drops %d, "
              "%d markers (%d missed; p50 %.3f p99 %.3f ms), writer at most %.1f ms late, "
              "caught up in %.2fs%s" % (
                  LABELS[cfg], st["rate"], fmt_mb(st["stream"]), fmt_mb(st["wire"]),
                  fmt_mb(st["back"]), st["drops"], len(st["marks"]), st["missed"], st["p50"],
                  st["p99"], st["late_ms"], st["catchup_s"], extra), flush=True)
        for line in st["problems"][:8]:
            print("      log: " + line)

    print("\nsteady state (stream = growth of master_repl_offset, the plain replication "
          "stream; wire = master->replica frames on the veth)")
    print("%-30s %12s %12s %10s %11s %11s %11s" % ("", "stream kB/s", "wire kB/s",
                                                    "wire/strm", "lag p50 ms", "lag p99 ms",
                                                    "lag max ms"))
    for cfg, st in res.items():
        print("%-30s %12.1f %12.1f %10.3f %11.3f %11.3f %11.3f" % (
            LABELS[cfg], st["stream"] / st["secs"] / 1e3, st["wire"] / st["secs"] / 1e3,
            st["wire"] / st["stream"] if st["stream"] else float("nan"),
            st["p50"], st["p99"], st["max"]))
    c = res.get("cairn-channel")
    if not c:
        return res
    plain = [p for p in ("cairn-plain", "redis-plain") if p in res]
    print("ratios, > 1 favours Cairn's channel (other / channel):")
    for other in ("cairn-plain", "redis-plain", "redis-spiped", "redis-stunnel", "redis-tunnel"):
        if other in res:
            o = res[other]
            print("  vs %-28s wire bytes %s, lag p50 %s, lag p99 %s" % (
                LABELS[other], favour(o["wire"], c["wire"]), favour(o["p50"], c["p50"]),
                favour(o["p99"], c["p99"])))
    print("targets:")
    for p in plain:
        o = res[p]
        share = c["wire"] / o["wire"]
        print("  wire bytes at most a third of the plain stream's (%s): %.3f -> %s" % (
            LABELS[p], share, "met" if share <= 1 / 3 else "NOT met"))
        ok50, ok99 = c["p50"] <= o["p50"], c["p99"] <= o["p99"]
        print("  lag no worse than plain TCP (%s): p50 %.3f vs %.3f ms, p99 %.3f vs %.3f ms -> "
              "%s" % (LABELS[p], c["p50"], o["p50"], c["p99"], o["p99"],
                      "met" if ok50 and ok99 else "NOT met"))
    return res


# --- main ------------------------------------------------------------------------------------


def check_tools(parts):
    need = []
    if "sync" in parts or "steady" in parts:
        need += ["ip", "tc", "spiped", "stunnel4", "openssl", "redis-cli", "zstd"]
    missing = [t for t in need if shutil.which(t) is None]
    if missing:
        sys.exit("missing tools: %s (apt-get install -y %s)" % (" ".join(missing), PACKAGES))
    if ("sync" in parts or "steady" in parts) and os.geteuid() != 0:
        sys.exit("parts sync and steady create network namespaces: run as root "
                 "(or select --parts throughput)")


def split_list(text, allowed, what):
    items = []
    for x in text.split(","):
        if x and x not in items:
            items.append(x)
    for x in items:
        if x not in allowed:
            sys.exit("unknown %s %r (choose from %s)" % (what, x, ", ".join(allowed)))
    return items


def main():
    ap = argparse.ArgumentParser(
        description="Cairn's secure channel against plain TCP, spiped and stunnel: loopback "
        "throughput, full sync and steady-state replication over a rate-limited veth.")
    ap.add_argument("--parts", default="throughput,sync,steady",
                    help="which parts to run: throughput, sync, steady")
    ap.add_argument("--cairn-bin", default=servers.default_cairn(),
                    help="cairn binary (default $CAIRN_BIN or build/cairn)")
    ap.add_argument("--redis-bin", default="/usr/bin/redis-server")
    # 1. throughput
    ap.add_argument("--tp-mb", type=float, default=1000, help="MB per transfer")
    ap.add_argument("--tp-rounds", type=int, default=3, help="transfers per case (median)")
    ap.add_argument("--tp-payloads", default="json,random", help="json, random")
    ap.add_argument("--tp-compression", default="no,yes", help="channel compression settings")
    ap.add_argument("--tp-pool-mb", type=int, default=16, help="MiB of payload cycled")
    ap.add_argument("--tp-buffer", type=int, default=1 << 20, help="sendall/recv_into size")
    # link
    ap.add_argument("--rate", default="20mbit", help="tbf rate on both veth ends")
    ap.add_argument("--burst", default="32kbit", help="tbf burst")
    ap.add_argument("--latency", default="400ms", help="tbf latency (queue bound)")
    # 2. full sync
    ap.add_argument("--datasets", default="json,random", help="json, random")
    ap.add_argument("--json-mb", type=float, default=30, help="size of the JSON dataset's RDB "
                    "without LZF, MB")
    ap.add_argument("--random-mb", type=float, default=30, help="size of the random dataset, MB")
    ap.add_argument("--random-value-size", type=int, default=1000)
    ap.add_argument("--sync-configs", default="cairn-channel,redis-spiped,redis-stunnel",
                    help="any of " + ",".join(CONFIGS))
    ap.add_argument("--sync-timeout", type=float, default=300)
    # 3. steady state
    ap.add_argument("--steady-configs",
                    default="cairn-channel,cairn-plain,redis-plain,redis-spiped,redis-stunnel",
                    help="any of " + ",".join(CONFIGS))
    ap.add_argument("--steady-rate", type=int, default=2000, help="SETs per second")
    ap.add_argument("--steady-seconds", type=float, default=20)
    ap.add_argument("--steady-batch", type=int, default=20, help="SETs per pipelined batch")
    ap.add_argument("--marker-ms", type=float, default=100, help="marker key interval")
    ap.add_argument("--marker-timeout", type=float, default=2.0)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs) at exit")
    args = ap.parse_args()

    parts = split_list(args.parts, ("throughput", "sync", "steady"), "part")
    args.tp_payloads = split_list(args.tp_payloads, ("json", "random"), "payload")
    args.tp_compression = split_list(args.tp_compression, ("no", "yes"), "compression")
    args.datasets = split_list(args.datasets, ("json", "random"), "dataset")
    args.sync_configs = split_list(args.sync_configs, CONFIGS, "config")
    args.steady_configs = split_list(args.steady_configs, CONFIGS, "config")
    if min(args.tp_rounds, args.steady_rate, args.steady_batch) <= 0 or min(
            args.tp_mb, args.steady_seconds, args.marker_ms, args.json_mb, args.random_mb) <= 0:
        ap.error("sizes, rates, rounds and times must be positive")
    args.cairn_bin = os.path.abspath(args.cairn_bin)
    if not os.access(args.cairn_bin, os.X_OK):
        ap.error("no cairn binary at %s (build it, or --cairn-bin / CAIRN_BIN)" % args.cairn_bin)
    check_tools(parts)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(128 + 15))

    tmp = tempfile.mkdtemp(prefix="cairn-bench-channel-")
    if not args.keep:
        _tmpdirs.append(tmp)
    started = time.monotonic()
    print("cairn: %s (%s)\nredis: %s\nmachine: %d CPUs, load average %s; logs in %s" % (
        args.cairn_bin, time.strftime("%Y-%m-%d %H:%M", time.localtime(
            os.path.getmtime(args.cairn_bin))), args.redis_bin, os.cpu_count(),
        " ".join("%.2f" % x for x in os.getloadavg()), tmp), flush=True)
    ok = False
    link = None
    try:
        if "throughput" in parts:
            part_throughput(args, tmp)
        if "sync" in parts or "steady" in parts:
            link = Link(args.rate, args.burst, args.latency)
            print("\nlink: namespaces %s (master, %s) and %s (replica, %s), veth %s/%s, tbf "
                  "rate %s burst %s latency %s on both ends" % (
                      link.ns_m, link.ip_m, link.ns_r, link.ip_r, link.if_m, link.if_r,
                      args.rate, args.burst, args.latency), flush=True)
            if "sync" in parts:
                part_sync(args, link, tmp)
            if "steady" in parts:
                part_steady(args, link, tmp)
        ok = True
    finally:
        stop_all(_procs)
        if link is not None:
            link.delete()
        if not ok and not args.keep:
            # Keep the logs of a failed run.
            _tmpdirs.remove(tmp)
            print("\nlogs kept in %s" % tmp, file=sys.stderr)
    print("\ndone in %.0fs, load average now %s" % (
        time.monotonic() - started, " ".join("%.2f" % x for x in os.getloadavg())))


if __name__ == "__main__":
    main()
