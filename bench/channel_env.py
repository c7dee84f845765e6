# The environment of bench_channel.py: processes stopped by PID at exit, network
# namespaces joined by a tbf-shaped veth, a small RESP client, the JSON-like and
# random datasets, node keys and stunnel files. Kept apart so that the benchmark
# file holds the measurements only.
import atexit
import contextlib
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

GB = 1e9
MB = 1e6
PACKAGES = "iproute2 redis-server redis-tools spiped stunnel4 openssl zstd python3"

_procs = []      # Proc objects still running, stopped in reverse order at exit
_namespaces = []  # network namespaces created by this run
_tmpdirs = []    # removed at exit unless --keep

# --- processes --------------------------------------------------------------------------


class Proc:
    """A child process (optionally inside a network namespace through `ip netns exec`,
    which execs the command, so the PID is the program's own) with its output in a log
    file. Stopped by PID: SIGTERM, then SIGKILL after `grace` seconds."""

    def __init__(self, name, argv, log_dir, netns=None, cwd=None):
        self.name = name
        self.log_path = os.path.join(log_dir, "%s.log" % name)
        full = (["ip", "netns", "exec", netns] if netns else []) + list(argv)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=cwd or log_dir)
        _procs.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def check(self):
        if not self.alive():
            raise RuntimeError("%s exited with status %s; log %s:\n%s" % (
                self.name, self.proc.returncode, self.log_path, self.log_tail()))

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=2500):
        return self.log_text()[-n:]

    def wait_log(self, needle, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return
            self.check()
            time.sleep(0.02)
        raise RuntimeError("%s: no %r in its log within %gs:\n%s" %
                           (self.name, needle, timeout, self.log_tail()))

    def wait_listening(self, port, timeout=10.0):
        """Until this process's network namespace has a TCP socket listening on `port`
        (read from /proc/<pid>/net/tcp, which shows the namespace of <pid>)."""
        want = ":%04X" % port
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            try:
                with open("/proc/%d/net/tcp" % self.pid) as f:
                    for line in f.readlines()[1:]:
                        parts = line.split()
                        if parts[1].endswith(want) and parts[3] == "0A":
                            return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("%s: not listening on port %d within %gs:\n%s" %
                           (self.name, port, timeout, self.log_tail()))

    def cpu_seconds(self):
        """utime + stime of the process, 0 once it is gone."""
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self, grace=10.0):
        if self.alive():
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self in _procs:
            _procs.remove(self)


def stop_all(procs):
    for p in reversed(list(procs)):
        try:
            p.stop()
        except Exception as e:  # keep stopping the others
            print("warning: stopping %s: %s" % (p.name, e), file=sys.stderr)


def run(argv, timeout=30, **kw):
    return subprocess.run(argv, check=True, timeout=timeout, **kw)


@atexit.register
def _cleanup():
    stop_all(_procs)
    for ns in list(_namespaces):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, timeout=30)
        _namespaces.remove(ns)
    for d in list(_tmpdirs):
        shutil.rmtree(d, ignore_errors=True)
        _tmpdirs.remove(d)


# --- network namespaces -------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


@contextlib.contextmanager
def in_netns(name):
    """Runs the block with the calling thread in network namespace `name` (None: stay).
    Sockets made inside keep that namespace after the thread comes back."""
    if name is None:
        yield
        return
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open("/run/netns/" + name, os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)


def parse_rate(text):
    """tc-style rate (20mbit, 500kbit, 1gbit, 2mbps) in bytes per second."""
    t = text.strip().lower()
    units = [("gbit", 1e9 / 8), ("mbit", 1e6 / 8), ("kbit", 1e3 / 8), ("gbps", 1e9),
             ("mbps", 1e6), ("kbps", 1e3), ("bit", 1 / 8), ("bps", 1)]
    for suffix, mult in units:
        if t.endswith(suffix):
            return float(t[:-len(suffix)]) * mult
    return float(t) / 8


class Link:
    """Two namespaces joined by a veth pair, tbf on both ends:
    master side  <ns_m>/<if_m> ip_m  <-->  ip_r <if_r>/<ns_r>  replica side."""

    def __init__(self, rate, burst, latency):
        tag = "cbch%d" % (os.getpid() % 100000)
        self.ns_m, self.ns_r = tag + "m", tag + "r"
        self.if_m, self.if_r = tag + "m0", tag + "r0"
        self.ip_m, self.ip_r = "10.213.47.1", "10.213.47.2"
        self.rate, self.burst, self.latency = rate, burst, latency
        self.rate_bps = parse_rate(rate)
        for ns in (self.ns_m, self.ns_r):
            run(["ip", "netns", "add", ns])
            _namespaces.append(ns)
        run(["ip", "link", "add", self.if_m, "type", "veth", "peer", "name", self.if_r])
        for ns, dev, ip in ((self.ns_m, self.if_m, self.ip_m), (self.ns_r, self.if_r, self.ip_r)):
            run(["ip", "link", "set", dev, "netns", ns])
            run(["ip", "-n", ns, "addr", "add", ip + "/30", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf",
                 "rate", rate, "burst", burst, "latency", latency])

    def counters(self):
        """Master side veth counters: tx = master -> replica, rx = replica -> master."""
        out = run(["ip", "-j", "-s", "-n", self.ns_m, "link", "show", "dev", self.if_m],
                  capture_output=True).stdout
        st = json.loads(out)[0]["stats64"]
        return {"tx_bytes": st["tx"]["bytes"], "tx_packets": st["tx"]["packets"],
                "rx_bytes": st["rx"]["bytes"], "rx_packets": st["rx"]["packets"],
                "drops": self.tbf_drops()}

    def tbf_drops(self):
        total = 0
        for ns, dev in ((self.ns_m, self.if_m), (self.ns_r, self.if_r)):
            out = run(["ip", "netns", "exec", ns, "tc", "-s", "-j", "qdisc", "show", "dev", dev],
                      capture_output=True).stdout
            for q in json.loads(out):
                if q.get("kind") == "tbf":
                    total += int(q.get("drops", 0))
        return total

    def delete(self):
        for ns in (self.ns_m, self.ns_r):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, timeout=30)
            if ns in _namespaces:
                _namespaces.remove(ns)


def delta(after, before):
    return {k: after[k] - before[k] for k in before}


# Ethernet 14 + IPv4 20 + TCP 20 + timestamps option 12: the headers of every frame of
# these TCP connections (Linux uses timestamps by default).
FRAME_OVERHEAD = 66


def payload_estimate(d):
    return d["tx_bytes"] - FRAME_OVERHEAD * d["tx_packets"]


# --- a small RESP client -------------------------------------------------------------------


class RespError(Exception):
    pass


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body
    if kind == b"-":
        return RespError(body.decode("utf-8", "replace"))
    if kind == b":":
        return int(body)
    if kind == b"$":
        n = int(body)
        if n < 0:
            return None
        data = f.read(n + 2)
        if len(data) != n + 2:
            raise ConnectionError("connection closed")
        return data[:-2]
    if kind == b"*":
        n = int(body)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise ConnectionError("protocol error: %r" % line[:80])


class Client:
    """One connection to a server, made inside network namespace `ns`."""

    def __init__(self, ns, port, host="127.0.0.1", timeout=30.0):
        with in_netns(ns):
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb", buffering=1 << 16)

    def close(self):
        self.f.close()
        self.sock.close()

    def send(self, raw):
        self.sock.sendall(raw)

    def read(self):
        return _read_reply(self.f)

    def call(self, *args):
        self.send(encode(args))
        r = self.read()
        if isinstance(r, RespError):
            raise r
        return r

    def info(self, section):
        fields = {}
        for line in self.call("INFO", section).decode("utf-8", "replace").splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                fields[k] = v
        return fields


def wait_ping(proc, ns, port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check()
        try:
            c = Client(ns, port, timeout=5)
            try:
                if c.call("PING") == b"PONG":
                    return
            finally:
                c.close()
        except (OSError, RespError):
            pass
        time.sleep(0.02)
    raise RuntimeError("%s did not answer PING within %gs:\n%s" % (proc.name, timeout,
                                                                     proc.log_tail()))


def load(client, cmds, chunk=1000):
    """Pipelined writes of pre-encoded commands, `chunk` in flight; errors raise."""
    for i in range(0, len(cmds), chunk):
        part = cmds[i:i + chunk]
        client.send(b"".join(part))
        for _ in part:
            r = client.read()
            if isinstance(r, RespError):
                raise r


# --- data -------------------------------------------------------------------------------------

FIRST = ("Ada Alan Alice Amir Ana Andrei Anna Arjun Ben Bruno Carla Chen Chloe Daniel David "
         "Diego Elena Emma Eva Farah Felix Grace Hana Hugo Ian Ines Ivan Jana Jin Jonas Julia "
         "Kai Karim Laura Leo Lina Lucas Maya Mei Mila Noah Nora Omar Paula Priya Rafael Sara "
         "Sofia Tom Yuki").split()
LAST = ("Smith Garcia Muller Rossi Kowalski Tanaka Nguyen Silva Novak Jensen Dubois Ivanova "
        "Kim Patel Cohen Larsen Costa Horvat Lopez Schmidt Martin Moreau Bauer Fischer Weber "
        "Santos Oliveira Chen Wang Singh").split()
DOMAINS = ("example.com", "mail.example.org", "corp.example.net", "example.io",
           "users.example.dev")
TAGS = ("admin beta billing churn-risk developer early-adopter enterprise free gdpr mobile "
        "newsletter partner premium support trial vip web api eu us apac").split()
PLANS = ("free", "pro", "team", "enterprise")


def json_value(rng, user_id):
    """A JSON-like user record of ~190 bytes; every field drawn from `rng`."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    tags = ",".join('"%s"' % t for t in rng.sample(TAGS, rng.randint(1, 4)))
    return ('{"user_id":%d,"name":"%s %s","email":"%s.%s%d@%s","tags":[%s],'
            '"created":"2026-%02d-%02dT%02d:%02d:%02dZ","active":%s,"plan":"%s","logins":%d}' % (
                user_id, first, last, first.lower(), last.lower(), rng.randrange(100),
                rng.choice(DOMAINS), tags, rng.randint(1, 12), rng.randint(1, 28),
                rng.randrange(24), rng.randrange(60), rng.randrange(60),
                rng.choice(("true", "false")), rng.choice(PLANS), rng.randrange(5000))).encode()


# Bytes an RDB spends on a string key/value pair besides key and value (type byte and two
# length prefixes), to size a dataset by its RDB.
RDB_PER_KEY = 5


def json_dataset(target_bytes, seed=7):
    """SET user:<n> <JSON record> until the RDB would be about `target_bytes` (no LZF)."""
    rng = random.Random(seed)
    cmds, size, i = [], 0, 0
    while size < target_bytes:
        key, value = b"user:%08d" % i, json_value(rng, 100000 + i)
        cmds.append(encode([b"SET", key, value]))
        size += len(key) + len(value) + RDB_PER_KEY
        i += 1
    return cmds


def random_dataset(target_bytes, value_size, seed=11):
    """SET blob:<n> <value_size random bytes> until the RDB would be ~`target_bytes`."""
    rng = random.Random(seed)
    cmds, size, i = [], 0, 0
    while size < target_bytes:
        key = b"blob:%08d" % i
        cmds.append(encode([b"SET", key, rng.randbytes(value_size)]))
        size += len(key) + value_size + RDB_PER_KEY
        i += 1
    return cmds


def json_pool(size, seed=3):
    rng = random.Random(seed)
    parts, n, i = [], 0, 0
    while n < size:
        v = json_value(rng, 500000 + i) + b"\n"
        parts.append(v)
        n += len(v)
        i += 1
    return b"".join(parts)[:size]


# --- keys and tunnels ------------------------------------------------------------------------


def write_secret(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class NodeKey:
    """`cairn genkey > FILE` (mode 0600) and `cairn pubkey < FILE`."""

    def __init__(self, cairn_bin, directory, name):
        self.path = os.path.join(directory, name + ".key")
        private = run([cairn_bin, "genkey"], capture_output=True).stdout
        write_secret(self.path, private)
        self.public = run([cairn_bin, "pubkey"], input=private,
                          capture_output=True).stdout.decode().strip()


def stunnel_files(directory):
    """A self-signed certificate and its key (EC P-256) for stunnel."""
    cert, key = os.path.join(directory, "stunnel.crt"), os.path.join(directory, "stunnel.key")
    if not os.path.exists(cert):
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days",
             "2", "-subj", "/CN=cairn-bench"], capture_output=True)
        os.chmod(key, 0o600)
    return cert, key


def stunnel_conf(path, client, accept, connect, cert, key):
    lines = ["foreground = yes", "pid =", "debug = warning", "[redis]",
             "accept = %s" % accept, "connect = %s" % connect]
    if client:
        lines += ["client = yes", "CAfile = %s" % cert, "verifyPeer = yes"]
    else:
        lines += ["cert = %s" % cert, "key = %s" % key]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
