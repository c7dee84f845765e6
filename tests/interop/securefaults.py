# Shared pieces of the secure channel fault suites (test_secure_handshake_faults.py and
# test_secure_record_faults.py): raw probes of the secure port, a stalling client, a
# record-aware fault proxy (bit flips, a cut inside a record), an Env of keys, master
# and replicas, INFO secure counters and log polling. Every wait polls with a
# deadline; every process and proxy is stopped in teardown. Run with CAIRN_BIN
# pointing at the binary under test.
import importlib.util
import os
import socket
import threading
import time

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
