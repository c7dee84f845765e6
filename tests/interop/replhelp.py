# Shared helpers for the replication interop suites (test_replication.py and
# test_replication_faults.py): nodes of either kind (Cairn or stock redis-server 7.0)
# started through the integration harness, a small TCP proxy that sits on a replica's
# master address and can cut or refuse the link, INFO parsing, DEBUG DIGEST and
# dataset comparison, deterministic datasets of every type, and polling helpers with
# deadlines (never sleeps used as assertions).
import importlib.util
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time


_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_harness():
    # The integration conftest is loaded as a plain module (as tests/interop/conftest.py
    # does), under a name of our own so a combined pytest session cannot mix them up.
    name = "cairn_repl_harness"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(_HERE, "..", "integration", "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


harness = _load_harness()

# (master kind, replica kind). Stock Redis on both ends only validates the tests
# themselves, so it runs only on request.
PAIRS = [("redis", "cairn"), ("cairn", "redis"), ("cairn", "cairn")]
if os.environ.get("CAIRN_REPL_SELFCHECK") == "1":
    PAIRS.insert(0, ("redis", "redis"))
PAIR_IDS = ["%s->%s" % p for p in PAIRS]

# Every node gets these; tests add their own after them.
BASE_ARGS = ["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"]

POLL = 0.02
READONLY_ERR = "READONLY You can't write against a read only replica."
NOREPLICAS_ERR = "NOREPLICAS Not enough good replicas to write."


# ---------------------------------------------------------------------------
# A minimal RESP2 client: replies keep the difference between status and error.

class Err(str):
    """An error reply (returned, never raised): the text without the leading '-'."""


class Status(str):
    """A status reply (+OK): the text without the leading '+'."""


class Closed(ConnectionError):
    pass


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        elif isinstance(a, float):
            a = repr(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawConn:
    def __init__(self, port, password=None, timeout=15.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        if password is not None:
            r = self.call("AUTH", password)
            if isinstance(r, Err):
                self.close()
                raise ConnectionError("AUTH refused: %s" % r)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise Closed("connection closed by server")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest.decode("utf-8", "replace"))
        if t == b"-":
            return Err(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError("unexpected RESP line %r" % line)

    def send(self, *args):
        self.sock.sendall(encode(args))

    def call(self, *args):
        self.send(*args)
        return self.read()


def parse_info(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or ":" not in line:
            continue
        k, v = line.split(":", 1)
        out[k] = v
    return out


def parse_slave_line(value):
    """'ip=127.0.0.1,port=7412,state=online,offset=94,lag=1' -> dict."""
    return dict(kv.split("=", 1) for kv in value.split(",") if "=" in kv)


# ---------------------------------------------------------------------------
# Nodes

class Node:
    """One started server of either kind, with convenience accessors."""

    def __init__(self, kind, srv, password=None):
        self.kind = kind
        self.srv = srv
        self.password = password
        self.expect_dead = False
        self._conn = None

    @property
    def port(self):
        return self.srv.port

    @property
    def workdir(self):
        return self.srv.workdir

    def __repr__(self):
        return "%s:%d" % (self.kind, self.port)

    def alive(self):
        return self.srv.alive()

    def log_tail(self, lines=25):
        return self.srv.log_tail(lines)

    def raw(self):
        return RawConn(self.port, password=self.password)

    def call(self, *args):
        """One command on a cached connection (reconnects once if it was dropped)."""
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = self.raw()
            try:
                return self._conn.call(*args)
            except (OSError, Closed):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def must(self, *args):
        r = self.call(*args)
        assert not isinstance(r, Err), "%r: %s -> error %s" % (self, fmt(args), r)
        return r

    def client(self, db=0, **kw):
        kw.setdefault("socket_timeout", 15)
        if self.password is not None:
            kw.setdefault("password", self.password)
        return self.srv.client(db=db, **kw)

    def info(self, section=None):
        r = self.call("INFO", section) if section else self.call("INFO")
        assert not isinstance(r, Err), "%r INFO %s: %s" % (self, section, r)
        return parse_info(r)

    def repl(self):
        return self.info("replication")

    def stats(self):
        return self.info("stats")

    def stat(self, name):
        return int(self.stats()[name])

    def offset(self):
        return int(self.repl()["master_repl_offset"])

    def digest(self):
        r = self.call("DEBUG", "DIGEST")
        if isinstance(r, Err):
            return None  # e.g. -LOADING while a replica loads
        return r.decode() if isinstance(r, bytes) else str(r)  # a status reply in Redis

    def close_conn(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def child_pids(pid):
    """Direct children of `pid` (a server's fork child, if it has one)."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def running(kids):
    """The pids of (pid, start time) pairs whose process still runs."""
    return [pid for pid, start in kids if start is not None and _proc_start(pid) == start]


def _proc_start(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Cluster:
    """Starts nodes and proxies for one test; close() stops everything it started and
    reports nodes that died without being told to, and sanitizer reports."""

    def __init__(self):
        self.nodes = []
        self.peers = []  # stock tools beside the nodes (redis-sentinel, haproxy)
        self.proxies = []
        self.workdirs = set()
        self.orphans = []  # (pid, start time) of fork children of killed servers

    def start(self, kind, *args, workdir=None, password=None, plain=False):
        binary = harness.redis_bin() if kind == "redis" else harness.cairn_bin()
        full = ([] if plain else list(BASE_ARGS)) + [str(a) for a in args]
        if password is not None:
            full += ["--requirepass", password]
        srv = harness.start_server(full, binary=binary, workdir=workdir)
        self.workdirs.add(srv.workdir)
        node = Node(kind, srv, password=password)
        self.nodes.append(node)
        return node

    def start_conf(self, kind, conf_path, port, password=None):
        """Starts a node from its config file alone (`cairn server <conf>`,
        `redis-server <conf>`), as an operator runs one: CONFIG REWRITE writes back to
        that file, and starting again from the same file is how a node restarts. The
        file must say `port <port>`."""
        binary = harness.redis_bin() if kind == "redis" else harness.cairn_bin()
        workdir = os.path.dirname(os.path.abspath(conf_path))
        # A log per start: the harness waits for the ready line in it.
        log_path = os.path.join(workdir, "server-%d-%d.log" % (port, time.monotonic_ns()))
        srv = harness.Server(binary, [conf_path], log_path, port, workdir)
        node = Node(kind, srv, password=password)
        self.nodes.append(node)  # before start(): close() stops it even if start fails
        self.workdirs.add(workdir)
        srv.start()
        return node

    def start_peer(self, binary, args, port, workdir, ready):
        """Starts a stock tool (redis-sentinel, haproxy) that close() stops by PID;
        `ready` is the log line or the callable that says it serves."""
        log_path = os.path.join(workdir, "%s-%d.log" % (os.path.basename(binary), port))
        srv = harness.Server(binary, args, log_path, port, workdir, ready=ready, cairn=False)
        self.peers.append(srv)
        self.workdirs.add(workdir)
        return srv.start()

    def stop(self, node, sig=signal.SIGTERM):
        """Graceful stop (SIGTERM: a node with save points saves on the way out)."""
        node.expect_dead = True
        node.close_conn()
        return node.srv.stop(sig=sig, timeout=20)

    def kill(self, node):
        """SIGKILL, remembering the node's fork children so none outlives the test.
        Returns those children as (pid, start time) pairs."""
        node.expect_dead = True
        node.close_conn()
        kids = []
        if node.srv.proc is not None:
            kids = [(c, _proc_start(c)) for c in child_pids(node.srv.pid)]
            self.orphans += kids
        node.srv.stop(sig=signal.SIGKILL)
        return kids

    def proxy(self, target_port):
        p = LinkProxy(target_port)
        self.proxies.append(p)
        return p

    def _reap_orphans(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        for pid, start in self.orphans:
            while running([(pid, start)]):
                if time.monotonic() > deadline:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                    break
                time.sleep(0.05)

    def close(self):
        problems = []
        for p in self.proxies:
            p.close()
        for srv in self.peers:
            srv.stop()
        for n in self.nodes:
            n.close_conn()
            if not n.expect_dead and not n.alive() and n.srv.proc is not None:
                problems.append("%r exited unexpectedly (code %s):\n%s" %
                                (n, n.srv.proc.returncode, n.log_tail(40)))
        for n in self.nodes:
            n.srv.stop()
            rep = n.srv.sanitizer_report()
            if rep:
                problems.append("sanitizer report in %r's log:\n%s" % (n, rep))
        self._reap_orphans()
        for d in self.workdirs:
            shutil.rmtree(d, ignore_errors=True)
        return problems


# ---------------------------------------------------------------------------
# The link proxy

class _Pair:
    def __init__(self, down, up):
        self.down = down  # accepted from the replica
        self.up = up      # connected to the master
        self.lock = threading.Lock()
        self.closed = False
        self.refs = 2

    def shut(self):
        with self.lock:
            if self.closed:
                return False
            self.closed = True
        for s in (self.down, self.up):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return True

    def release(self):
        with self.lock:
            self.refs -= 1
            last = self.refs == 0
        if last:
            self.down.close()
            self.up.close()


class LinkProxy:
    """Listens on a free loopback port and forwards each accepted connection to
    127.0.0.1:<target_port>. cut() drops every live connection (both ends see the
    close, bytes in flight are lost); block(True) makes new connections close at once
    (a master that is unreachable); freeze(True) stalls every connection without
    closing it; set_target() points it at another master."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.05)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []
        self.accepted = 0   # connections accepted from the replica side
        self.forwarded = 0  # of those, connected through to the master
        self.bytes_to_replica = 0  # forwarded master -> replica, all connections
        self.blocked = False
        self.frozen = False
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                down, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                blocked, target = self.blocked, self.target_port
            if blocked:
                down.close()
                continue
            try:
                up = socket.create_connection(("127.0.0.1", target), timeout=2)
            except OSError:
                down.close()
                continue
            for s in (down, up):
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(down, up)
            with self.lock:
                if self.stopping.is_set():
                    pair.shut()
                self.pairs.append(pair)
                self.forwarded += 1
            for src, dst in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(src, dst, pair, src is up),
                                 daemon=True).start()

    def _pump(self, src, dst, pair, to_replica):
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                while self.frozen and not pair.closed and not self.stopping.is_set():
                    time.sleep(0.01)
                if pair.closed:
                    break
                dst.sendall(data)
                if to_replica:
                    with self.lock:
                        self.bytes_to_replica += len(data)
        except OSError:
            pass
        finally:
            pair.shut()
            with self.lock:
                if pair in self.pairs:
                    self.pairs.remove(pair)
            pair.release()

    def live(self):
        with self.lock:
            return sum(1 for p in self.pairs if not p.closed)

    def cut(self):
        """Drops every live connection; returns how many there were."""
        with self.lock:
            pairs = list(self.pairs)
        return sum(1 for p in pairs if p.shut())

    def block(self, on=True):
        with self.lock:
            self.blocked = on

    def freeze(self, on=True):
        """While frozen, connections stay open but no byte moves (a hung peer or a
        black-holed route); what was held is forwarded on thaw if the link survived."""
        with self.lock:
            self.frozen = on

    def set_target(self, port):
        with self.lock:
            self.target_port = port

    def close(self):
        self.stopping.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        self.cut()
        self.thread.join(timeout=2)


# ---------------------------------------------------------------------------
# Polling

# The harness's: errors while a node restarts count as "not yet"; diag() on a timeout.
wait_for = harness.wait_for


def repl_brief(node):
    try:
        r = node.repl()
    except Exception as e:
        return "%r: INFO failed (%r), alive=%s" % (node, e, node.alive())
    keys = ("role", "master_link_status", "master_sync_in_progress", "slave_repl_offset",
            "master_repl_offset", "master_replid", "master_replid2", "second_repl_offset",
            "connected_slaves", "slave0")
    return "%r: %s" % (node, ", ".join("%s=%s" % (k, r[k]) for k in keys if k in r))


def diag_nodes(*nodes, logs=True):
    out = [repl_brief(n) for n in nodes]
    if logs:
        for n in nodes:
            out.append("--- %r log tail ---\n%s" % (n, n.log_tail(15)))
    return "\n".join(out)


def wait_link_up(replica, timeout=15, nodes=()):
    def up():
        r = replica.repl()
        return r.get("master_link_status") == "up" and r.get("master_sync_in_progress") == "0"
    wait_for(up, timeout, "%r master_link_status:up" % (replica,),
             lambda: diag_nodes(replica, *nodes))


def wait_link_down(replica, timeout=15):
    wait_for(lambda: replica.repl().get("master_link_status") == "down", timeout,
             "%r master_link_status:down" % (replica,), lambda: diag_nodes(replica))


def wait_in_sync(master, replica, timeout=20, what=""):
    """Waits until the replica's link is up, its slave_repl_offset equals the master's
    master_repl_offset, and both DEBUG DIGESTs are equal (with the master's offset
    unchanged across the digests). Returns (offset, digest)."""
    seen = {}

    def check():
        r = replica.repl()
        seen["replica"] = r
        if r.get("master_link_status") != "up" or r.get("master_sync_in_progress") != "0":
            return None
        mo = int(master.repl()["master_repl_offset"])
        seen["master_off"] = mo
        ro = int(r.get("slave_repl_offset", "-1"))
        if ro != mo:
            return None
        dm, dr = master.digest(), replica.digest()
        seen["digests"] = (dm, dr)
        if dm is None or dm != dr:
            return None
        if int(master.repl()["master_repl_offset"]) != mo:
            return None
        return mo, dm

    def diag():
        out = ["last seen: master_repl_offset=%s, replica %s, digests (master, replica)=%s" %
               (seen.get("master_off"), {k: seen.get("replica", {}).get(k) for k in (
                   "master_link_status", "master_sync_in_progress", "slave_repl_offset")},
                seen.get("digests"))]
        d = seen.get("digests")
        if d and d[0] != d[1] and None not in d:
            out.append(describe_diff(master, replica))
        out.append(diag_nodes(master, replica))
        return "\n".join(out)

    return wait_for(check, timeout, "%r to be in sync with %r%s" %
                    (replica, master, (" (" + what + ")") if what else ""), diag)


def assert_same_history(master, replica):
    m, r = master.repl(), replica.repl()
    assert r["master_replid"] == m["master_replid"], \
        "replica %r has replid %s, master %r has %s" % (replica, r["master_replid"], master,
                                                        m["master_replid"])


# ---------------------------------------------------------------------------
# Datasets

def keyspace_dbs(node):
    return sorted(int(k[2:]) for k in node.info("keyspace") if k.startswith("db"))


def snapshot(node, dbs):
    """{db: {key: (type, value, pexpiretime)}} through ordinary read commands."""
    out = {}
    c = node.raw()
    try:
        for db in dbs:
            c.call("SELECT", db)
            keys = c.call("KEYS", "*")
            if isinstance(keys, Err):
                raise AssertionError("%r KEYS: %s" % (node, keys))
            rows = {}
            for k in keys:
                t = c.call("TYPE", k)
                if t == "string":
                    v = c.call("GET", k)
                elif t == "list":
                    v = tuple(c.call("LRANGE", k, 0, -1))
                elif t == "hash":
                    v = tuple(sorted(zip(*[iter(c.call("HGETALL", k))] * 2)))
                elif t == "set":
                    v = tuple(sorted(c.call("SMEMBERS", k)))
                elif t == "zset":
                    v = tuple(c.call("ZRANGE", k, 0, -1, "WITHSCORES"))
                else:
                    v = "<%s>" % t
                rows[k] = (str(t), v, c.call("PEXPIRETIME", k))
            out[db] = rows
    finally:
        c.close()
    return out


def _diff_lines(a, b, sa, sb, limit):
    lines = []
    for db in sorted(set(sa) | set(sb)):
        ra, rb = sa.get(db, {}), sb.get(db, {})
        ka, kb = set(ra), set(rb)
        for k in sorted(ka - kb)[:limit]:
            lines.append("db%d %r only on %r" % (db, k, a))
        for k in sorted(kb - ka)[:limit]:
            lines.append("db%d %r only on %r" % (db, k, b))
        n = 0
        for k in sorted(ka & kb):
            if ra[k] != rb[k] and n < limit:
                n += 1
                what = "expire time" if ra[k][:2] == rb[k][:2] else "value"
                lines.append("db%d %r: %s differs:\n   %r: %s\n   %r: %s" % (
                    db, k, what, a, repr(ra[k])[:300], b, repr(rb[k])[:300]))
    return lines


def describe_diff(a, b, limit=8):
    """Human-readable differences between the datasets of nodes a and b."""
    try:
        dbs = sorted(set(keyspace_dbs(a)) | set(keyspace_dbs(b)))
        sa, sb = snapshot(a, dbs), snapshot(b, dbs)
    except Exception as e:
        return "(dataset comparison failed: %r)" % (e,)
    lines = _diff_lines(a, b, sa, sb, limit)
    if not lines:
        lines.append("(no difference visible through read commands; the digests differ)")
    return "dataset differences:\n  " + "\n  ".join(lines[:4 * limit])


def assert_same_data(a, b, limit=8):
    """Every key, value and exact expire time equal (DEBUG DIGEST only records whether a
    key has a TTL, not its value)."""
    dbs = sorted(set(keyspace_dbs(a)) | set(keyspace_dbs(b)))
    sa, sb = snapshot(a, dbs), snapshot(b, dbs)
    if sa != sb:
        raise AssertionError("datasets of %r and %r differ:\n  %s" % (
            a, b, "\n  ".join(_diff_lines(a, b, sa, sb, limit)[:4 * limit])))


def _member(rnd, ints):
    if ints:
        return str(rnd.randint(-(1 << 40), 1 << 40))
    if rnd.random() < 0.03:
        return "long-" + "x" * rnd.randint(65, 200)  # beyond a listpack entry
    return "m%d" % rnd.randint(0, 10 ** 6)


def every_type_commands(rnd, prefix, n, ttl_base_ms):
    """Commands building n keys of every type and encoding; ~15% get a TTL hours ahead."""
    cmds = []
    for i in range(n):
        key = "%s:%d" % (prefix, i)
        kind = i % 12
        if kind == 0:
            cmds.append(("SET", key, str(rnd.randint(0, 9999))))  # shared int
        elif kind == 1:
            cmds.append(("SET", key, str(rnd.choice((-1, 1)) * rnd.getrandbits(62))))
        elif kind == 2:
            cmds.append(("SET", key, bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40)))))
        elif kind == 3:
            size = 70000 if i % 48 == 3 else rnd.randint(45, 300)  # raw, some very large
            cmds.append(("SET", key, ("%s-%d|" % (prefix, i)) * (size // 8)))
        elif kind == 4:
            m = rnd.randint(150, 400) if i % 3 == 0 else rnd.randint(1, 20)
            cmds.append(("RPUSH", key) + tuple(_member(rnd, rnd.random() < 0.4)
                                               for _ in range(m)))
        elif kind == 5:
            m = rnd.randint(130, 300) if i % 3 == 0 else rnd.randint(1, 25)
            fields = []
            for j in range(m):
                fields += ["f%d" % j, _member(rnd, rnd.random() < 0.3)]
            cmds.append(("HSET", key) + tuple(fields))
        elif kind == 6:
            m = rnd.randint(520, 700) if i % 3 == 0 else rnd.randint(1, 40)
            cmds.append(("SADD", key) + tuple(_member(rnd, True) for _ in range(m)))
        elif kind == 7:
            m = rnd.randint(130, 300) if i % 3 == 0 else rnd.randint(1, 30)
            cmds.append(("SADD", key) + tuple(_member(rnd, False) for _ in range(m)))
        elif kind in (8, 9):
            m = rnd.randint(130, 300) if i % 3 == 0 else rnd.randint(1, 30)
            args = []
            for _ in range(m):
                score = rnd.choice((float(rnd.randint(-50, 50)), rnd.uniform(-1e6, 1e6)))
                args += [repr(score), _member(rnd, rnd.random() < 0.2)]
            cmds.append(("ZADD", key) + tuple(args))
        elif kind == 10:
            cmds.append(("SET", key, "v%d" % rnd.randint(0, 10 ** 9)))
        else:
            cmds.append(("INCRBY", key, rnd.randint(-1000, 1000)))
        if rnd.random() < 0.15:
            cmds.append(("PEXPIREAT", key, ttl_base_ms + rnd.randint(3_600_000, 90_000_000)))
    return cmds


def fill(node, seed, dbs=(0, 1, 9, 15), per_db=120, prefix="k"):
    """Loads a deterministic dataset of every type into `dbs`; returns the digest."""
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)
    for db in dbs:
        c = node.client(db=db)
        try:
            p = c.pipeline(transaction=False)
            for cmd in every_type_commands(rnd, "%s%d" % (prefix, db), per_db, now_ms):
                p.execute_command(*cmd)
            p.execute(raise_on_error=True)
        finally:
            c.close()
    return node.digest()


def fill_bulk(node, n, value_size=200, db=0, prefix="bulk"):
    """n string keys (for a slow, large full sync); returns the digest."""
    c = node.client(db=db)
    try:
        p = c.pipeline(transaction=False)
        batch = {}
        for i in range(n):
            batch["%s:%d" % (prefix, i)] = ("%08d" % i) * (value_size // 8)
            if len(batch) == 500:
                p.mset(batch)
                batch = {}
        if batch:
            p.mset(batch)
        p.execute(raise_on_error=True)
    finally:
        c.close()
    return node.digest()


def fmt(args):
    return " ".join(repr(a)[:60] for a in args)


# ---------------------------------------------------------------------------
# Write workloads (no streams, Lua, HyperLogLog or bit commands: Cairn lacks them)

FAR_MS = 4102444800000  # 2100-01-01


def stream_writes(node, rnd, tag="w"):
    """A scripted sequence of writes of every type and family on one connection:
    strings (int and raw encodings, a large value), lists, hashes, sets (intset
    conversion), zsets, TTLs set/changed/removed, key commands, SELECT across dbs,
    MULTI/EXEC (several writes, one write, read-only, SELECT inside), an aborted WATCH,
    served blocking pops, SWAPDB and FLUSHDB. Every reply must be a non-error."""
    t = tag
    c = node.raw()
    c2 = node.raw()
    try:
        def do(*args):
            r = c.call(*args)
            assert not isinstance(r, Err), "%r: %s -> %s" % (node, fmt(args), r)
            return r

        do("SELECT", 0)
        do("SET", t + ":s", "hello")
        do("SET", t + ":i", "12345")
        do("INCR", t + ":i")
        do("INCRBY", t + ":i", -7)
        do("DECR", t + ":cnt")
        do("INCRBYFLOAT", t + ":f", "1.25")
        do("APPEND", t + ":s", " world")
        do("SETRANGE", t + ":s", 1, "EY")
        do("GETSET", t + ":gs", "new")
        do("MSET", t + ":m1", "1", t + ":m2", "2", t + ":m3", "3")
        do("MSETNX", t + ":m1", "x", t + ":m9", "y")
        do("SETNX", t + ":m1", "x")
        do("GETDEL", t + ":m2")
        do("SET", t + ":ex", "v", "EX", 5000)
        do("SET", t + ":px", "v", "PX", 7_000_000)
        do("SETEX", t + ":setex", 4000, "v")
        do("PSETEX", t + ":psetex", 9_000_000, "v")
        do("SET", t + ":kt", "a", "EX", 3000)
        do("SET", t + ":kt", "b", "KEEPTTL")
        do("SET", t + ":big", "B" * 100_000 + "".join(rnd.choice("xyz") for _ in range(50)))
        do("SET", t + ":get", "old")
        do("SET", t + ":get", "new", "GET")
        do("EXPIRE", t + ":s", 7000)
        do("PERSIST", t + ":s")
        do("PEXPIRE", t + ":i", 9_000_000)
        do("EXPIREAT", t + ":gs", FAR_MS // 1000)
        do("PEXPIREAT", t + ":m3", FAR_MS + 5)
        do("GETEX", t + ":m1", "EX", 600)
        do("GETEX", t + ":m1", "PERSIST")
        do("SET", t + ":gone1", "x")
        do("EXPIRE", t + ":gone1", -1)            # deletes
        do("SET", t + ":gone2", "x")
        do("EXPIREAT", t + ":gone2", 1000000000)  # in the past: deletes

        do("RPUSH", t + ":l", *range(10))
        do("LPUSH", t + ":l", "x", "y")
        do("LPOP", t + ":l")
        do("RPOP", t + ":l", 2)
        do("LSET", t + ":l", 0, "z")
        do("LINSERT", t + ":l", "BEFORE", "z", "w")
        do("LREM", t + ":l", 0, "3")
        do("LTRIM", t + ":l", 0, 6)
        do("LMOVE", t + ":l", t + ":l2", "LEFT", "RIGHT")
        do("RPOPLPUSH", t + ":l", t + ":l2")
        do("RPUSH", t + ":lbig", *["e%d" % i for i in range(300)])
        do("LPOP", t + ":lbig", 5)
        do("LPUSHX", t + ":lbig", "head")
        do("RPUSH", t + ":llong", "y" * 5000, "short")

        do("HSET", t + ":h", "f1", "v1", "f2", "v2", "n", 10)
        do("HSETNX", t + ":h", "f1", "no")
        do("HINCRBY", t + ":h", "n", 5)
        do("HINCRBYFLOAT", t + ":h", "fl", "0.25")
        do("HDEL", t + ":h", "f2")
        do("HSET", t + ":hbig", *sum((["k%d" % i, "v%d" % i] for i in range(200)), []))
        do("HSET", t + ":hlong", "f", "z" * 300)

        do("SADD", t + ":si", 1, 2, 3, 100000)
        do("SADD", t + ":si", "notanint")          # intset -> hashtable
        do("SREM", t + ":si", 2)
        do("SADD", t + ":sp", *range(20))
        do("SPOP", t + ":sp")                      # random: must replicate as SREM
        do("SPOP", t + ":sp", 3)
        do("SMOVE", t + ":sp", t + ":si", "5")
        do("SADD", t + ":sbig", *range(600))       # large intset -> hashtable
        do("SADD", t + ":sa", "a", "b", "c")
        do("SADD", t + ":sb", "b", "c", "d")
        do("SINTERSTORE", t + ":sinter", t + ":sa", t + ":sb")
        do("SUNIONSTORE", t + ":sunion", t + ":sa", t + ":sb")
        do("SDIFFSTORE", t + ":sdiff", t + ":sa", t + ":sb")

        do("ZADD", t + ":z", 1, "a", 2, "b", "3.5", "c", "-inf", "lo", "+inf", "hi")
        do("ZINCRBY", t + ":z", "0.5", "a")
        do("ZADD", t + ":z", "GT", "CH", 10, "a", 0, "b")
        do("ZREM", t + ":z", "c")
        do("ZPOPMIN", t + ":z")
        do("ZPOPMAX", t + ":z", 1)
        do("ZADD", t + ":zbig", *sum(([str(i * 0.5), "m%d" % i] for i in range(200)), []))
        do("ZREMRANGEBYSCORE", t + ":zbig", 0, 10)
        do("ZREMRANGEBYRANK", t + ":zbig", 0, 4)
        do("ZUNIONSTORE", t + ":zu", 2, t + ":z", t + ":zbig", "WEIGHTS", 2, 1)
        do("ZINTERSTORE", t + ":zi", 2, t + ":z", t + ":zbig")
        do("ZRANGESTORE", t + ":zr", t + ":zbig", 0, 9)

        do("COPY", t + ":h", t + ":hcopy")
        do("RENAME", t + ":hcopy", t + ":hrenamed")
        do("RENAMENX", t + ":l2", t + ":l3")
        do("SET", t + ":del1", 1)
        do("SET", t + ":del2", 1)
        do("DEL", t + ":del1", t + ":missing")
        do("UNLINK", t + ":del2")
        do("SET", t + ":mv", "moving")
        do("MOVE", t + ":mv", 5)
        do("COPY", t + ":s", t + ":s-in-6", "DB", 6)

        # Writes in other databases; the stream needs SELECTs.
        do("SELECT", 3)
        do("SET", t + ":db3", "x")
        do("HSET", t + ":db3h", "a", 1)
        do("SELECT", 9)
        do("SET", t + ":db9", "to-be-flushed")
        do("RPUSH", t + ":db9l", 1, 2, 3)
        do("FLUSHDB")
        do("SET", t + ":db9-after", "y")
        do("SELECT", 0)
        do("SET", t + ":back0", "z")

        # Transactions.
        assert c.call("MULTI") == "OK"
        for args in (("SET", t + ":tx:a", 1), ("INCR", t + ":tx:b"), ("LPUSH", t + ":tx:l", "x"),
                     ("SADD", t + ":tx:s", 7), ("ZADD", t + ":tx:z", 1, "q")):
            assert c.call(*args) == "QUEUED"
        r = c.call("EXEC")
        assert isinstance(r, list) and len(r) == 5, "EXEC: %r" % (r,)
        assert c.call("MULTI") == "OK"
        assert c.call("SET", t + ":tx:single", 1) == "QUEUED"
        assert isinstance(c.call("EXEC"), list)
        assert c.call("MULTI") == "OK"
        assert c.call("GET", t + ":tx:single") == "QUEUED"
        assert isinstance(c.call("EXEC"), list)
        assert c.call("MULTI") == "OK"
        for args in (("SELECT", 4), ("SET", t + ":tx:db4", 1), ("SELECT", 0),
                     ("SET", t + ":tx:db0", 1)):
            assert c.call(*args) == "QUEUED"
        assert isinstance(c.call("EXEC"), list)
        # WATCH aborted by another client's write: only that write replicates.
        do("WATCH", t + ":watched")
        assert c2.call("SET", t + ":watched", "other") == "OK"
        assert c.call("MULTI") == "OK"
        assert c.call("SET", t + ":watched", "mine") == "QUEUED"
        assert c.call("EXEC") is None

        # Served blocking pops (the stream carries the push and the pop).
        for blk, push, want in (
                (("BLPOP", t + ":bl", 10), ("RPUSH", t + ":bl", "a", "b"),
                 [(t + ":bl").encode(), b"a"]),
                (("BZPOPMIN", t + ":bz", 10), ("ZADD", t + ":bz", 1, "one", 2, "two"),
                 [(t + ":bz").encode(), b"one", b"1"]),
                (("BLMOVE", t + ":bm", t + ":bm2", "RIGHT", "LEFT", 10),
                 ("RPUSH", t + ":bm", "p", "q"), b"q")):
            before = int(node.info("clients")["blocked_clients"])
            c2.send(*blk)
            wait_for(lambda: int(node.info("clients")["blocked_clients"]) > before, 10,
                     "%r to block %s" % (node, blk[0]))
            do(*push)
            r = c2.read()
            assert r == want, "%s served %r, expected %r" % (blk[0], r, want)

        do("SWAPDB", 3, 7)
        do("SELECT", 0)
    finally:
        c.close()
        c2.close()


def small_writes(node, tag, dbs=(0, 3)):
    """A few writes of each type in each of `dbs` (replies checked)."""
    c = node.raw()
    try:
        for db in dbs:
            for args in (("SELECT", db), ("SET", "%s:s" % tag, tag), ("INCR", "%s:c" % tag),
                         ("RPUSH", "%s:l" % tag, "a", tag), ("HSET", "%s:h" % tag, "f", tag),
                         ("SADD", "%s:set" % tag, 1, 2, tag), ("ZADD", "%s:z" % tag, 1.5, tag),
                         ("SET", "%s:ttl" % tag, "v", "EX", 3600)):
                r = c.call(*args)
                assert not isinstance(r, Err), "%r: %s -> %s" % (node, fmt(args), r)
    finally:
        c.close()
