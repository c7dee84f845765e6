# Bad input against a Cairn master's secure port (docs/secure-channel.md): port-scanner
# garbage, a replica with the wrong master key, an unknown replica key, a replayed
# initiation, stalled handshakes and the pending-handshake cap, bit flips in transport
# records, a full sync cut inside a record, and a PSK mismatch / group-readable key
# files. Every case checks that the connection is closed without a reply, that the
# right counter (INFO secure) or log line moves, and that the node keeps serving: PING
# on the plain port and a legitimate replica that syncs (or keeps replicating)
# afterwards.
#
# Run with CAIRN_BIN pointing at the binary under test. Every wait polls with a
# deadline; every process and proxy is stopped in teardown.
import importlib.util
import os
import random
import re
import socket
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import replhelp as rh

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_securehelp():
    path = os.path.join(_HERE, "..", "integration", "securehelp.py")
    spec = importlib.util.spec_from_file_location("cairn_securehelp", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


sh = _load_securehelp()
harness = sh.harness  # the same module object replhelp uses ("cairn_repl_harness")

# The integration suite's fixture: start_cairn(*args) -> Server, all stopped (by PID)
# at teardown, a sanitizer report in a log fails the test.
start_cairn = harness.start_cairn

INITIATION_LEN = 128
RESPONSE_LEN = 52
VALID_LOOKING_HEADER = b"\x00\x7e\x01\x01"

REPLICA_DOWN_LOG = "Secure handshake with MASTER 127.0.0.1:%d failed"


# ---------------------------------------------------------------------------
# Helpers

def secure_info(node):
    """INFO secure as {field: str} (peerN lines stay raw strings)."""
    return rh.parse_info(node.call("INFO", "secure"))


def counters(node):
    s = secure_info(node)
    return {k: int(s["secure_handshakes_" + k]) for k in ("done", "failed", "rejected")}


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def log_count(node, needle):
    return node.srv.log_text().count(needle)


def wait_log(node, needle, timeout=10, count=1, nodes=()):
    """Waits until `needle` appears `count` times in the node's log."""
    rh.wait_for(lambda: log_count(node, needle) >= count, timeout,
                "%r to log %r (%d times)" % (node, needle, count),
                lambda: rh.diag_nodes(node, *nodes))


def assert_serving(node):
    assert node.call("PING") == "PONG", "%r stopped answering PING" % (node,)
    assert node.alive(), "%r exited:\n%s" % (node, node.log_tail(30))


def probe(port, payload, src_ip="127.0.0.1", timeout=6.0):
    """Connects (from src_ip), sends payload, half-closes and reads until the server
    closes. Returns (bytes received, seconds until the close). A server that keeps the
    connection open past `timeout` fails the test."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.bind((src_ip, 0))
        t0 = time.monotonic()
        s.connect(("127.0.0.1", port))
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # EPIPE, ECONNRESET, ENOTCONN: the server already closed (after 128 bytes)
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass  # unread bytes on the server's side turn its close into a RST
        except socket.timeout:
            raise AssertionError("the secure port kept a connection open for %.0f s after "
                                 "%d bytes (%r...)" % (timeout, len(payload), payload[:8]))
        return got, time.monotonic() - t0
    finally:
        s.close()


class Stall:
    """A connection that sends `n` bytes and then nothing; closed() polls for the
    server's close without blocking."""

    def __init__(self, port, n, src_ip="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((src_ip, 0))
        self.sock.settimeout(5)
        self.t0 = time.monotonic()
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(os.urandom(n))
        self.sock.setblocking(False)
        self.received = b""
        self.closed_after = None

    def closed(self):
        if self.closed_after is not None:
            return True
        try:
            chunk = self.sock.recv(4096)
        except BlockingIOError:
            return False
        except ConnectionResetError:
            chunk = b""
        if chunk:
            self.received += chunk
            return False
        self.closed_after = time.monotonic() - self.t0
        return True

    def close(self):
        self.sock.close()


class FaultProxy:
    """A loopback proxy in front of the master's secure port.

    It follows both directions of each connection record by record (lengths are in
    clear): the replica's 128-byte initiation (recorded) or the master's 52-byte
    response, then `u16 L` + L bytes per record. One armed fault applies once:
      arm_flip(pos, bit, min_len, max_len, to_replica=True): in the next whole record
        of that direction whose length L is within [min_len, max_len], flip `bit` of
        the byte at `pos` counted from the record's first length byte (negative: from
        its end; -1 is the tag's last byte);
      arm_cut(after): once `after` transport bytes went to the replica, forward the
        header and half of the next record to it, then close both sides (a peer that
        vanishes mid-record).
    Records are forwarded whole (TCP keeps no boundaries, so this changes timing only).
    """

    def __init__(self, target_port):
        self.target_port = target_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.05)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.socks = []
        self.threads = []
        self.connections = 0
        self.initiations = []      # the first 128 bytes of each connection, in order
        self.to_replica = 0        # transport bytes forwarded to the replica, all conns
        self.flip = None           # (to_replica, pos, bit, min_len, max_len) while armed
        self.flipped = None        # what was flipped: dict
        self.cut_at = None         # transport offset (all connections) while armed
        self.cut_done = None       # dict
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self.threads.append(t)

    def arm_flip(self, pos, bit, min_len=17, max_len=65535, to_replica=True):
        with self.lock:
            self.flipped = None
            self.flip = (to_replica, pos, bit, min_len, max_len)

    def arm_cut(self, after):
        with self.lock:
            self.cut_done = None
            self.cut_at = after

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                down, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                down.close()
                continue
            for s in (down, up):
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                conn_no = self.connections
                self.socks += [down, up]
            for src, dst, to_replica in ((down, up, False), (up, down, True)):
                t = threading.Thread(target=self._pump, args=(src, dst, conn_no, to_replica),
                                     daemon=True)
                t.start()
                self.threads.append(t)

    @staticmethod
    def _shut(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _fault(self, rec, rlen, conn_no, record_no, to_replica):
        """Under the lock: applies an armed flip to `rec` (a bytearray); returns True
        when the connection is to be cut before this record."""
        if to_replica and self.cut_at is not None and self.to_replica >= self.cut_at:
            self.cut_at = None
            self.cut_done = {"conn": conn_no, "record": record_no, "len": rlen,
                             "offset": self.to_replica}
            return True
        f = self.flip
        if f is not None and f[0] == to_replica and f[3] <= rlen <= f[4]:
            self.flip = None
            i = f[1] if f[1] >= 0 else len(rec) + f[1]
            rec[i] ^= 1 << f[2]
            self.flipped = {"conn": conn_no, "record": record_no, "len": rlen, "index": i,
                            "bit": f[2], "to_replica": to_replica}
        if to_replica:
            self.to_replica += len(rec)
        return False

    def _pump(self, src, dst, conn_no, to_replica):
        head_len = RESPONSE_LEN if to_replica else INITIATION_LEN
        buf = b""
        in_head = True
        record_no = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                if in_head:
                    if len(buf) < head_len:
                        continue
                    head, buf = buf[:head_len], buf[head_len:]
                    if not to_replica:
                        with self.lock:
                            self.initiations.append(head)
                    dst.sendall(head)
                    in_head = False
                out = []
                while len(buf) >= 2:
                    rlen = (buf[0] << 8) | buf[1]
                    if len(buf) < 2 + rlen:
                        break
                    rec, buf = bytearray(buf[:2 + rlen]), buf[2 + rlen:]
                    with self.lock:
                        cut = self._fault(rec, rlen, conn_no, record_no, to_replica)
                    if cut:
                        dst.sendall(b"".join(out) + bytes(rec[:2 + rlen // 2]))
                        return  # finally: both sides closed mid-record
                    out.append(bytes(rec))
                    record_no += 1
                if out:
                    dst.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            self._shut(src, dst)

    def close(self):
        self.stopping.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self.socks)
        self._shut(*socks)
        for t in self.threads:
            t.join(timeout=2)
        for s in socks:
            s.close()


class Env:
    """Keys and nodes of one test: a master with a secure port that allows the
    replica key (label "offsite"), replicas through the channel."""

    def __init__(self, start, directory):
        self.start = start
        self.dir = directory
        self.mkey = sh.NodeKey(directory, "master")
        self.rkey = sh.NodeKey(directory, "replica")
        self.nodes = []
        self.proxies = []

    def _node(self, srv):
        n = rh.Node("cairn", srv)
        self.nodes.append(n)
        return n

    def master(self, *extra):
        sport = harness.free_port()
        srv = self.start(*sh.master_args(self.mkey, sport, allow=[(self.rkey, "offsite")]),
                         "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes",
                         "--loglevel", "debug", *extra)
        m = self._node(srv)
        m.sport = sport
        return m

    def replica(self, port, *extra, key=None, master_key=None):
        srv = self.start(*sh.replica_args(key or self.rkey, master_key or self.mkey, port),
                         "--enable-debug-command", "yes", *extra)
        return self._node(srv)

    def proxy(self, port):
        p = FaultProxy(port)
        self.proxies.append(p)
        return p

    def close(self):
        for p in self.proxies:
            p.close()
        for n in self.nodes:
            n.close_conn()


@pytest.fixture
def env(start_cairn, tmp_path):
    e = Env(start_cairn, str(tmp_path))
    yield e
    e.close()


def write_some(master, tag, n=50):
    c = master.client()
    try:
        p = c.pipeline(transaction=False)
        for i in range(n):
            p.set("%s:%d" % (tag, i), "value-%s-%d" % (tag, i))
        p.execute()
    finally:
        c.close()


def assert_never_synced(master, replica, failures_needle, attempts=2):
    """The replica tried at least `attempts` times, its link is down and it holds none
    of the master's keys."""
    wait_log(replica, failures_needle, timeout=15, count=attempts, nodes=(master,))
    r = replica.repl()
    assert r["master_link_status"] == "down", rh.diag_nodes(replica)
    assert replica.call("DBSIZE") == 0, "the replica got data: %s" % rh.diag_nodes(replica)
    assert int(master.repl()["connected_slaves"]) == 0, rh.diag_nodes(master)


# ---------------------------------------------------------------------------
# (a) port-scanner garbage

SCAN_SEED = 20240611
SCAN_RANDOM = 500
SCAN_HEADER = 50
SCAN_ABRUPT = 30
SCAN_WORKERS = 8
SCAN_DEADLINE_S = 40
RSS_SLACK_KB = 8 * 1024


def test_port_scanner_garbage(env):
    m = env.master()
    write_some(m, "before")
    rnd = random.Random(SCAN_SEED)
    payloads = [rnd.randbytes(rnd.randint(0, 4000)) for _ in range(SCAN_RANDOM)]
    payloads += [VALID_LOOKING_HEADER + rnd.randbytes(INITIATION_LEN - 4)
                 for _ in range(SCAN_HEADER)]
    rnd.shuffle(payloads)
    short = sum(1 for p in payloads if len(p) < INITIATION_LEN)

    # Warm-up (first allocations of the acceptor), then the baseline.
    for _ in range(10):
        assert probe(m.sport, b"x" * 10)[0] == b""
    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 5,
                "no pending handshakes after the warm-up")
    before = counters(m)
    rss_before = vm_rss_kb(m.srv.pid)

    # Each worker has its own source address (all of 127/8 is loopback) and runs its
    # share of the probes one after another, so the cap of 4 pending handshakes per
    # address never decides: every probe reaches the 128-byte read.
    deadline = time.monotonic() + SCAN_DEADLINE_S

    def worker(w):
        src = "127.0.0.%d" % (20 + w)
        out = []
        for i in range(w, len(payloads), SCAN_WORKERS):
            if time.monotonic() > deadline:
                raise AssertionError("the scan took longer than %d s" % SCAN_DEADLINE_S)
            out.append((i, probe(m.sport, payloads[i], src_ip=src)[0]))
        return out

    with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
        replies = [x for part in pool.map(worker, range(SCAN_WORKERS)) for x in part]
    assert len(replies) == len(payloads)
    answered = [(i, len(payloads[i]), got[:16]) for i, got in replies if got]
    assert not answered, "the secure port sent bytes back to garbage: %r" % answered[:5]

    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 5,
                "the pending handshakes to drain", lambda: rh.diag_nodes(m))
    after = counters(m)
    # Fewer than 128 bytes then EOF: a failed handshake ("left during the handshake").
    # 128 bytes or more: the first 128 fail mac1 (rejected), whatever the header says.
    assert after["failed"] - before["failed"] == short, (before, after, short)
    assert after["rejected"] - before["rejected"] == len(payloads) - short, \
        (before, after, len(payloads) - short)
    assert after["done"] == before["done"]
    assert "is not a peer (bad mac1)" in m.srv.log_text()
    assert "left during the handshake" in m.srv.log_text()

    # Abrupt closes (RST right after the bytes): no reply possible, nothing leaks.
    for i in range(SCAN_ABRUPT):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(("127.0.0.1", m.sport))
            s.sendall(rnd.randbytes(rnd.choice((5, 127, 128, 300))))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            s.close()
    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 10,
                "the aborted handshakes to drain", lambda: rh.diag_nodes(m))

    rss_after = vm_rss_kb(m.srv.pid)
    assert rss_after - rss_before < RSS_SLACK_KB, \
        "master RSS grew by %d kB over %d garbage connections (%d -> %d kB)" % (
            rss_after - rss_before, len(payloads) + SCAN_ABRUPT, rss_before, rss_after)
    assert_serving(m)
    assert secure_info(m)["secure_connected_peers"] == "0"

    # A real replica still gets in and syncs.
    r = env.replica(m.sport)
    rh.wait_in_sync(m, r, what="after the scan")
    write_some(m, "after")
    rh.wait_in_sync(m, r)
    assert r.call("GET", "after:7") == b"value-after-7"
    assert counters(m)["done"] == after["done"] + 1


# ---------------------------------------------------------------------------
# (b) the replica pins a wrong master key

def test_wrong_master_key_on_replica(env):
    m = env.master()
    write_some(m, "secret")
    other = sh.NodeKey(env.dir, "not-the-master")
    before = counters(m)
    r = env.replica(m.sport, master_key=other)

    needle = REPLICA_DOWN_LOG % m.sport
    assert_never_synced(m, r, needle)
    # mac1 is computed with the wrong key: the master drops it before any DH.
    rh.wait_for(lambda: counters(m)["rejected"] >= before["rejected"] + 2, 5,
                "the master to reject the initiations", lambda: rh.diag_nodes(m))
    after = counters(m)
    assert after["done"] == before["done"], (before, after)
    assert "is not a peer (bad mac1)" in m.srv.log_text()
    assert int(secure_info(r)["secure_handshakes_failed"]) >= 2
    line = next(l for l in r.srv.log_text().splitlines() if needle in l)
    assert "secure-master-public-key" in line, line  # the hint names what to check

    # The right key (CONFIG SET applies at the next connection): it syncs.
    assert r.must("CONFIG", "SET", "secure-master-public-key", env.mkey.public) == "OK"
    rh.wait_in_sync(m, r, timeout=20, what="with the right master key")
    assert r.call("GET", "secret:3") == b"value-secret-3"
    assert_serving(m)


# ---------------------------------------------------------------------------
# (c) the replica's key is not in secure-allow

def test_unknown_replica_key(env):
    m = env.master()
    write_some(m, "secret")
    stranger = sh.NodeKey(env.dir, "stranger")
    before = counters(m)
    r = env.replica(m.sport, key=stranger)

    wait_log(m, "public key %s is not in secure-allow" % stranger.public, nodes=(r,))
    line = next(l for l in m.srv.log_text().splitlines() if stranger.public in l)
    assert re.search(r"Secure handshake from 127\.0\.0\.1:\d+ refused: public key %s is not "
                     r"in secure-allow" % re.escape(stranger.public), line), line
    assert_never_synced(m, r, REPLICA_DOWN_LOG % m.sport)
    after = counters(m)
    assert after["rejected"] >= before["rejected"] + 2, (before, after)
    assert after["done"] == before["done"], (before, after)

    # The key the log printed, pasted into secure-allow: the same replica gets in.
    assert m.must("CONFIG", "SET", "secure-allow",
                  "%s offsite %s newcomer" % (env.rkey.public, stranger.public)) == "OK"
    rh.wait_in_sync(m, r, timeout=20, what="once its key is allowed")
    wait_log(m, "Secure channel established with newcomer (127.0.0.1:")
    assert r.call("GET", "secret:9") == b"value-secret-9"
    assert_serving(m)


# ---------------------------------------------------------------------------
# (d) a recorded initiation replayed to the running master

REPLAYS = 300


def test_replayed_initiation(env):
    m = env.master()
    write_some(m, "base")
    p = env.proxy(m.sport)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, what="through the recording proxy")
    assert len(p.initiations) == 1, p.initiations
    captured = p.initiations[0]
    assert captured[:4] == VALID_LOOKING_HEADER
    before = counters(m)
    peers_before = secure_info(m)["secure_connected_peers"]
    assert peers_before == "1"

    got, _ = probe(m.sport, captured)
    assert got == b"", "the master answered a replayed initiation with %r" % got[:64]
    wait_log(m, "refused: replayed or old initiation")
    line = next(l for l in m.srv.log_text().splitlines() if "replayed or old" in l)
    assert re.search(r"Secure handshake from 127\.0\.0\.1:\d+ refused: replayed or old "
                     r"initiation", line), line
    rh.wait_for(lambda: counters(m)["rejected"] == before["rejected"] + 1, 5,
                "the rejected counter to count the replay")
    after = counters(m)
    assert after["done"] == before["done"] and after["failed"] == before["failed"], \
        (before, after)

    # CONFIG SET of a list that keeps the key keeps its replay state.
    assert m.must("CONFIG", "SET", "secure-allow", "%s offsite" % env.rkey.public) == "OK"
    got, _ = probe(m.sport, captured)
    assert got == b"", "replay answered after CONFIG SET secure-allow: %r" % got[:64]
    wait_log(m, "refused: replayed or old initiation", count=2)
    rh.wait_for(lambda: counters(m)["rejected"] == after["rejected"] + 1, 5,
                "the rejected counter to count the second replay")
    before = counters(m)

    # A flood of the same initiation: each one passes mac1 and costs Diffie-Hellman,
    # so past the DH budget (secure-handshake-rate 100 per second, as a burst of 100)
    # they are refused by the rate limit instead. Either way: no reply, rejected, and
    # the master's memory stays flat.
    rss_before = vm_rss_kb(m.srv.pid)
    t0 = time.monotonic()
    for i in range(REPLAYS):
        got, _ = probe(m.sport, captured, src_ip="127.0.0.%d" % (50 + i % 8))
        assert got == b"", "reply to replay %d: %r" % (i, got[:64])
    took = time.monotonic() - t0
    rh.wait_for(lambda: counters(m)["rejected"] == before["rejected"] + REPLAYS, 5,
                "every replay to be counted as rejected",
                lambda: "%s" % counters(m))
    if took < 1.9:
        # More replays than the bucket can hold (100 + 100 per second).
        assert "handshake rate limit reached" in m.srv.log_text(), took
    assert vm_rss_kb(m.srv.pid) - rss_before < RSS_SLACK_KB
    after = counters(m)
    assert after["done"] == before["done"] and after["failed"] == before["failed"], \
        (before, after)

    # The live replica did not notice: same channel, same link, new writes arrive.
    assert secure_info(m)["secure_connected_peers"] == "1"
    assert p.connections == 1
    m.must("SET", "after-replay", "still-here")
    rh.wait_in_sync(m, r, what="after the replay")
    assert r.call("GET", "after-replay") == b"still-here"
    assert r.repl()["master_link_status"] == "up"
    assert int(m.stats()["sync_full"]) == 1
    assert_serving(m)


# ---------------------------------------------------------------------------
# (e) stalled handshakes and the pending-handshake cap

def test_stalled_handshakes_and_pending_cap(env):
    m = env.master("--secure-handshake-timeout", "1", "--secure-max-pending-handshakes", "4")
    write_some(m, "base")
    before = counters(m)

    one = Stall(m.sport, 50)
    try:
        rh.wait_for(one.closed, 5, "a stalled handshake to be closed")
    finally:
        one.close()
    assert one.received == b""
    # Not before the 1 s secure-handshake-timeout (the timer starts at accept, after
    # connect began), and not long after it.
    assert 0.9 <= one.closed_after < 3.5, one.closed_after
    rh.wait_for(lambda: counters(m)["failed"] == before["failed"] + 1, 5,
                "the failed counter to count the stall")
    wait_log(m, "sent no complete handshake within 1000 ms")

    # Four stalls from four addresses fill the pending table (cap 4)...
    before = counters(m)
    stalls = [Stall(m.sport, 50, src_ip="127.0.0.%d" % (31 + i)) for i in range(4)]
    try:
        rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "4", 2,
                    "four pending handshakes", lambda: rh.diag_nodes(m))
        # ...so a fifth, from yet another address, is closed at once without a byte
        # (a pending one would be held for the 1 s timeout) and counted as rejected.
        fifth = Stall(m.sport, 50, src_ip="127.0.0.40")
        try:
            rh.wait_for(fifth.closed, 5, "the fifth connection to be closed")
        finally:
            fifth.close()
        assert fifth.received == b""
        assert fifth.closed_after < 0.9, \
            "the fifth connection lasted %.2f s: it was not refused at once" % fifth.closed_after
        mid = counters(m)
        assert mid["rejected"] == before["rejected"] + 1, (before, mid)
        assert mid["failed"] == before["failed"], (before, mid)
        assert "too many pending handshakes, dropping 127.0.0.40:" in m.srv.log_text()

        # The stalls time out after their 1 s.
        rh.wait_for(lambda: all(s.closed() for s in stalls), 5, "the four stalls to close")
        assert all(s.received == b"" for s in stalls)
        assert all(0.9 <= s.closed_after < 3.5 for s in stalls), \
            [s.closed_after for s in stalls]
    finally:
        for s in stalls:
            s.close()
    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 5,
                "the pending table to empty")
    after = counters(m)
    assert after["failed"] == before["failed"] + 4, (before, after)

    # A real replica now gets a slot and syncs.
    r = env.replica(m.sport)
    rh.wait_in_sync(m, r, what="after the stalls timed out")
    assert r.call("GET", "base:1") == b"value-base-1"
    assert counters(m)["done"] == after["done"] + 1
    assert_serving(m)


def test_pending_cap_per_address(env):
    """At most 4 pending handshakes from one source address (the global cap is 64)."""
    m = env.master("--secure-handshake-timeout", "1")
    before = counters(m)
    stalls = [Stall(m.sport, 50, src_ip="127.0.0.61") for _ in range(4)]
    try:
        rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "4", 2,
                    "four pending handshakes from 127.0.0.61", lambda: rh.diag_nodes(m))
        same = Stall(m.sport, 50, src_ip="127.0.0.61")
        other = Stall(m.sport, 50, src_ip="127.0.0.62")
        try:
            rh.wait_for(same.closed, 5, "a fifth connection from 127.0.0.61 to be closed")
            # The one from another address was let in: it is held until its timeout.
            rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "5", 2,
                        "127.0.0.62 to be pending")
            assert not other.closed()
            assert same.closed_after < 0.9, same.closed_after
            assert same.received == b""
            assert counters(m)["rejected"] == before["rejected"] + 1
            assert "too many pending handshakes, dropping 127.0.0.61:" in m.srv.log_text()
            rh.wait_for(other.closed, 5, "the stall from 127.0.0.62 to time out")
            assert other.closed_after >= 0.9, other.closed_after
        finally:
            same.close()
            other.close()
        rh.wait_for(lambda: all(s.closed() for s in stalls), 5, "the four stalls to close")
    finally:
        for s in stalls:
            s.close()
    rh.wait_for(lambda: counters(m)["failed"] == before["failed"] + 5, 5,
                "five timed-out handshakes", lambda: str(counters(m)))
    assert_serving(m)


# ---------------------------------------------------------------------------
# (f) one bit flipped in a master->replica transport record

FLIPS = {
    # name: (position from the record's first byte (negative: from its end), bit,
    #        record lengths L the flip may hit (min, max), what the replica must report)
    # L one more or one less: the tag check fails (at once, or once the next record's
    # first byte arrived).
    "length-low-bit": (1, 0, (18, 65535), "failed authentication"),
    # L 16384 larger: the replica buffers the following records, then the tag fails.
    "length-high-bit": (0, 6, (18, 1000), "failed authentication"),
    # A keepalive (L = 17) whose length becomes 1: refused before any decryption.
    "keepalive-length-below-tag": (1, 4, (17, 17), "of 1 bytes is shorter than its tag"),
    "type-byte": (2, 5, (17, 65535), "failed authentication"),
    # The ciphertext spans bytes 2 .. L-15 of the record: byte 18 when L >= 40.
    "mid-ciphertext": (18, 3, (40, 65535), "failed authentication"),
    "tag-last-byte": (-1, 7, (17, 65535), "failed authentication"),
}
CHANNEL_FAILURE = re.compile(r"Secure channel with 127\.0\.0\.1:(\d+): secure channel record "
                             r"(?:(\d+) failed authentication|of \d+ bytes is shorter than its "
                             r"tag)")


@pytest.mark.parametrize("where", list(FLIPS))
def test_bit_flip_in_transport_record(env, where):
    pos, bit, lengths, expected = FLIPS[where]
    m = env.master("--repl-backlog-size", "8mb", "--secure-keepalive", "1")
    rh.fill(m, seed=7, dbs=(0, 2), per_db=60)
    p = env.proxy(m.sport)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, what="before the flip")
    stats_before = m.stats()
    done_before = counters(m)["done"]

    p.arm_flip(pos, bit, *lengths)
    # Writes (~500-byte records) keep records flowing until the replica reported the
    # altered record; the keepalive case writes nothing, so that the idle master sends
    # a keepalive (secure-keepalive 1) for the proxy to alter.
    writes = lengths != (17, 17)
    rnd = random.Random(5)
    c = m.client()
    try:
        deadline = time.monotonic() + 15
        i = 0
        while time.monotonic() < deadline and not CHANNEL_FAILURE.search(r.srv.log_text()):
            if writes:
                c.set("flip:%d" % i, rnd.randbytes(500))
                i += 1
            time.sleep(0.02)
    finally:
        c.close()
    assert p.flipped is not None, "the proxy never saw a record to flip"
    found = CHANNEL_FAILURE.search(r.srv.log_text())
    assert found, "the replica did not report the altered record %s:\n%s" % (
        p.flipped, r.log_tail(20))
    assert int(found.group(1)) == p.port
    assert expected in found.group(0), (found.group(0), p.flipped)
    if found.group(2) is not None:
        # Records are counted from 0 on both sides: the log names the altered one.
        assert int(found.group(2)) == p.flipped["record"], (found.group(0), p.flipped)

    # The link drops and comes back through the channel (a new handshake on a new
    # connection), then continues by partial resync with the same data.
    rh.wait_for(lambda: p.connections >= 2, 15, "the replica to reconnect through the proxy",
                lambda: rh.diag_nodes(r, m))
    wait_log(r, "Connection with master lost", nodes=(m,))
    rh.wait_in_sync(m, r, timeout=20, what="after the bit flip %s" % p.flipped)
    assert counters(m)["done"] >= done_before + 1
    stats_after = m.stats()
    assert stats_after["sync_full"] == stats_before["sync_full"], (stats_before, stats_after)
    assert int(stats_after["sync_partial_ok"]) > int(stats_before["sync_partial_ok"]), \
        (stats_before, stats_after)
    rh.assert_same_data(m, r)
    # The broken session is gone on both sides; only the new one is counted.
    rh.wait_for(lambda: secure_info(m)["secure_connected_peers"] == "1", 10,
                "the master to count one connected peer", lambda: str(secure_info(m)))
    assert secure_info(r)["secure_connected_peers"] == "1", secure_info(r)
    if writes:
        assert r.call("EXISTS", "flip:%d" % (i - 1)) == 1
    assert_serving(m)
    assert len(p.initiations) == p.connections


def test_bit_flip_towards_master(env):
    """The other direction: an altered record from the replica (its REPLCONF ACKs,
    sent every second) ends the session on the master's side; the replica reconnects
    and continues."""
    m = env.master("--repl-backlog-size", "8mb")
    rh.fill(m, seed=8, dbs=(0,), per_db=60)
    p = env.proxy(m.sport)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, what="before the flip")
    partial_before = int(m.stats()["sync_partial_ok"])
    p.arm_flip(5, 1, to_replica=False)

    wait_log(m, "failed authentication", timeout=10, nodes=(r,))
    assert p.flipped is not None and not p.flipped["to_replica"], p.flipped
    found = CHANNEL_FAILURE.search(m.srv.log_text())
    assert found and int(found.group(2)) == p.flipped["record"], (p.flipped, m.log_tail(10))
    rh.wait_for(lambda: p.connections >= 2, 15, "the replica to reconnect through the proxy",
                lambda: rh.diag_nodes(r, m))
    write_some(m, "after-flip")
    rh.wait_in_sync(m, r, timeout=20, what="after the flip towards the master")
    assert int(m.stats()["sync_partial_ok"]) > partial_before
    assert int(m.stats()["sync_full"]) == 1
    rh.wait_for(lambda: secure_info(m)["secure_connected_peers"] == "1", 10,
                "the master to count one connected peer", lambda: str(secure_info(m)))
    assert_serving(m)


def test_bit_flip_during_full_sync(env):
    """A flip inside a large record of the RDB transfer: the load is abandoned and a
    new full sync over a new channel delivers the whole dataset."""
    m = env.master()
    rnd = random.Random(11)
    c = m.client()
    try:
        pipe = c.pipeline(transaction=False)
        for i in range(3000):
            pipe.set("rnd:%d" % i, rnd.randbytes(1000))  # incompressible: full records
        pipe.execute()
    finally:
        c.close()
    p = env.proxy(m.sport)
    p.arm_flip(30000, 2, min_len=60000)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, timeout=30, what="after a flip in the RDB transfer")
    assert p.flipped is not None and p.flipped["conn"] == 1, p.flipped
    found = CHANNEL_FAILURE.search(r.srv.log_text())
    assert found and found.group(2) == str(p.flipped["record"]), (p.flipped, r.log_tail(20))
    assert p.connections >= 2
    assert int(m.stats()["sync_full"]) >= 2
    rh.assert_same_data(m, r)
    assert_serving(m)


# ---------------------------------------------------------------------------
# (g) the peer vanishes inside a record in the middle of a ~20 MB full sync

BIG_KEYS = 200_000
BIG_VALUE = 100
CUT_AFTER = 3_000_000


def test_cut_mid_record_during_big_full_sync(env):
    m = env.master("--repl-backlog-size", "4mb")
    rnd = random.Random(3)
    c = m.client()
    try:
        pipe = c.pipeline(transaction=False)
        batch = {}
        for i in range(BIG_KEYS):
            # Hex: half the entropy of random bytes, so zstd leaves ~10 MB on the wire.
            batch["big:%d" % i] = rnd.randbytes(BIG_VALUE // 2).hex()
            if len(batch) == 1000:
                pipe.mset(batch)
                batch = {}
        pipe.execute()
    finally:
        c.close()
    assert m.call("DBSIZE") == BIG_KEYS

    p = env.proxy(m.sport)
    p.arm_cut(CUT_AFTER)
    r = env.replica(p.port)
    rh.wait_for(lambda: p.cut_done is not None, 30, "the proxy to cut the transfer",
                lambda: rh.diag_nodes(r, m))
    assert p.cut_done["conn"] == 1 and p.cut_done["len"] > 2, p.cut_done
    wait_log(r, "connection ended inside a record", nodes=(m,))
    assert_serving(m)

    rh.wait_in_sync(m, r, timeout=60, what="after the cut transfer")
    assert p.connections >= 2
    assert r.call("DBSIZE") == BIG_KEYS
    for k in ("big:0", "big:99999", "big:199999"):
        assert r.call("GET", k) == m.call("GET", k)
    assert int(m.stats()["sync_full"]) >= 2
    assert_serving(m)


# ---------------------------------------------------------------------------
# (h) PSK mismatch; key files readable by the group

def psk_file(directory, name, mode=0o600):
    path = os.path.join(directory, name)
    text = subprocess.run([harness.cairn_bin(), "genkey"], check=True, capture_output=True,
                          text=True).stdout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def test_psk_mismatch(env):
    psk_a = psk_file(env.dir, "a.psk")
    psk_b = psk_file(env.dir, "b.psk")
    m = env.master("--secure-psk-file", psk_a)
    write_some(m, "secret")
    before = counters(m)
    r = env.replica(m.sport, "--secure-psk-file", psk_b)

    needle = REPLICA_DOWN_LOG % m.sport
    assert_never_synced(m, r, needle)
    line = next(l for l in r.srv.log_text().splitlines() if needle in l)
    assert "failed authentication (the two sides' secure-psk-file differ)" in line, line
    # IKpsk2 mixes the PSK in only in the response: the master completes its side,
    # but counts a handshake done only once the initiator's first record opens, which
    # never happens here; each attempt ends as failed, with a log line saying why.
    rh.wait_for(lambda: counters(m)["failed"] >= before["failed"] + 2, 10,
                "the master to count the unconfirmed sessions as failed")
    after = counters(m)
    assert after["done"] == before["done"], (before, after)
    assert "ended before its first record" in m.srv.log_text()
    assert int(secure_info(r)["secure_handshakes_failed"]) >= 2
    assert int(secure_info(r)["secure_handshakes_done"]) == 0

    # Each of those sessions ended with the replica's close: none stays counted as a
    # connected peer or a client on the master.
    r.close_conn()
    r.srv.stop()
    rh.wait_for(lambda: secure_info(m)["secure_connected_peers"] == "0", 10,
                "the master to let go of the half-made sessions",
                lambda: "%s\n%s" % (secure_info(m), rh.diag_nodes(m)))
    rh.wait_for(lambda: m.info("clients")["connected_clients"] == "1", 10,
                "only this test's client to remain on the master",
                lambda: m.call("CLIENT", "LIST").decode(errors="replace"))

    # The same replica key with the master's PSK: a new replica process syncs.
    r2 = env.replica(m.sport, "--secure-psk-file", psk_a)
    rh.wait_in_sync(m, r2, what="with the matching PSK")
    assert r2.call("GET", "secret:0") == b"value-secret-0"
    assert_serving(m)


def start_expecting_failure(args, cwd):
    """Runs `cairn server ARGS` directly; returns (exit code, output). A process that
    is still running after 10 s is killed and fails the test."""
    cmd = [harness.cairn_bin(), "server", "--port", str(harness.free_port()), "--save", "",
           "--appendonly", "no"] + list(args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=cwd)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("%s kept running with a group-readable key file:\n%s" %
                             (" ".join(cmd), out.decode(errors="replace")[-2000:]))
    return proc.returncode, out.decode(errors="replace")


@pytest.mark.parametrize("which", ["psk", "private-key"])
def test_group_readable_key_file_stops_startup(env, which):
    if which == "psk":
        path = psk_file(env.dir, "loose.psk", mode=0o640)
        args = ["--secure-psk-file", path]
    else:
        path = os.path.join(env.dir, "loose.key")
        with open(env.mkey.path) as src, open(path, "w") as dst:
            dst.write(src.read())
        os.chmod(path, 0o640)
        args = ["--secure-port", str(harness.free_port()), "--secure-bind", "127.0.0.1",
                "--secure-private-key", path]
    code, out = start_expecting_failure(args, env.dir)
    assert code != 0, out
    assert "Ready to accept connections" not in out, out
    fix = "chmod 600 %s" % path
    lines = [l for l in out.splitlines() if path in l and fix in l]
    assert lines, "no line names %s and '%s':\n%s" % (path, fix, out)
    assert "0640" in lines[0], lines[0]

    # Also through the harness: it raises ServerStartError, the log says why.
    with pytest.raises(harness.ServerStartError) as e:
        harness.start_server(args, workdir=env.dir)
    assert fix in str(e.value)

    # chmod 600, as the message says: the same command starts.
    os.chmod(path, 0o600)
    srv = env.start(*args)
    assert srv.client().ping()
