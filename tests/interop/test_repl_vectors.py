# Cairn's replication against the captured real Redis 7.0.15 sessions in
# $CAIRN_VECTORS/repl (its README.md documents every byte).
#
# Cairn as REPLICA: a fake master (a socket server in this file) plays the master's side
# of a captured connection, chunk by chunk as captured (pauses shortened), and answers
# only when the replica sent what the real replica had sent by then. The replica's
# handshake must be the captured one (its own port, PSYNC by the README's rules), and it
# must end with the captured replica's dataset, offset, ACKs and INFO replication.
# Scenarios a1 (disk framing), a2 (diskless, newlines before +FULLRESYNC), b (partial
# resync after a restart and after a cut), c (the command stream, GETACK) and d (auth).
#
# Cairn as MASTER: a fake replica sends the captured handshake bytes and checks every
# byte of the answers, the RDB framing and the command stream (the rewrites of the
# c-command-stream table), and that master_repl_offset counts exactly the bytes sent.
#
# Set CAIRN_REPL_SELFCHECK=1 to also run every test with stock redis-server 7.0 in
# Cairn's place (that validates the tests themselves).
import ast
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import replhelp as rh
from replhelp import Err

VECTORS = os.environ.get("CAIRN_VECTORS") or os.path.join(rh.harness.REPO, "..", "shared",
                                                           "vectors")
REPL_DIR = os.path.join(VECTORS, "repl")

PACE_MAX = 0.03   # the capture's pauses between chunks shrink to at most this (seconds)
PACE_MIN = 0.003  # ... and to at least this, so chunks leave as separate segments
AT_ONCE = 0.4     # "right away": an ACK must follow its cause within this (Redis: ~1 ms)
WAIT = 10         # deadline for anything the replica/master must do by itself
FAR = 3600        # repl-ping-replica-period for master tests that check exact bytes

KINDS = ["cairn"] + (["redis"] if os.environ.get("CAIRN_REPL_SELFCHECK") == "1" else [])

pytestmark = pytest.mark.skipif(not os.path.isdir(REPL_DIR),
                                reason="replication vectors not found at %s" % REPL_DIR)


@pytest.fixture
def fake_master():
    fm = FakeMaster()
    yield fm
    fm.close()


def encode(args):
    return rh.encode([a.encode() if isinstance(a, str) else a for a in args])


def is_ack(args):
    return len(args) >= 2 and args[0].upper() == "REPLCONF" and args[1].upper() == "ACK"


# ---------------------------------------------------------------------------
# The captures

class Capture:
    """One captured TCP connection: its bytes, its recv() chunks and its events."""

    def __init__(self, scenario, n):
        base = os.path.join(REPL_DIR, scenario, "conn%d" % n)
        self.scenario = scenario
        self.name = "%s/conn%d" % (scenario, n)
        with open(base + ".m2r.bin", "rb") as f:
            self.m2r = f.read()
        with open(base + ".r2m.bin", "rb") as f:
            self.r2m = f.read()
        self.chunks = []  # (t, dir, offset, length); EOF lines are left out
        with open(base + ".chunks.tsv") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                t, d, off, ln = line.rstrip("\n").split("\t")
                if ln != "EOF":
                    self.chunks.append((float(t), d, int(off), int(ln)))
        with open(base + ".events.json") as f:
            doc = json.load(f)
        self.events = doc["events"]
        self.final_offset = doc.get("final_repl_offset")

    def handshake(self):
        """The replica's commands other than REPLCONF ACK, in order."""
        return [e for e in self.events
                if e["dir"] == "r2m" and e["kind"] == "command" and not is_ack(e["args"])]

    def handshake_raw(self):
        return [self.r2m[e["offset"]:e["offset"] + e["length"]] for e in self.handshake()]

    def event(self, kind, **match):
        for e in self.events:
            if e["kind"] == kind and all(e.get(k) == v for k, v in match.items()):
                return e
        raise KeyError("%s: no %s event %r" % (self.name, kind, match))

    def sync_event(self):
        """The +FULLRESYNC / +CONTINUE reply."""
        return next(e for e in self.events if e["kind"] == "reply"
                    and e["line"].startswith(("+FULLRESYNC", "+CONTINUE")))

    def sync_replid(self):
        return self.sync_event()["line"].split()[1]

    def m2r_chunk_with(self, offset):
        for i, (_, d, off, ln) in enumerate(self.chunks):
            if d == "m2r" and off <= offset < off + ln:
                return i
        raise KeyError("%s: no m2r chunk holds offset %d" % (self.name, offset))


def vector_path(scenario, name):
    return os.path.join(REPL_DIR, scenario, name)


# ---------------------------------------------------------------------------
# The fake master: every accepted connection becomes a Link whose reader thread splits
# what the replica sends into messages (RESP commands, bare "\n" keepalives).

class Msg:
    def __init__(self, t, kind, args=None, raw=b""):
        self.t, self.kind, self.args, self.raw = t, kind, args, raw

    def __repr__(self):
        return "%s%r" % (self.kind, self.args if self.args is not None else self.raw[:60])


def parse_msg(buf):
    """(Msg fields, rest) for the first message in buf; None when incomplete."""
    if buf[:1] == b"\n":
        return ("newline", None, b"\n"), buf[1:]
    if buf[:1] != b"*":
        return ("junk", None, buf), b""
    i = buf.find(b"\r\n")
    if i < 0:
        return None
    if not buf[1:i].isdigit():
        return ("junk", None, buf), b""
    pos, args = i + 2, []
    for _ in range(int(buf[1:i])):
        j = buf.find(b"\r\n", pos)
        if j < 0:
            return None
        if buf[pos:pos + 1] != b"$" or not buf[pos + 1:j].isdigit():
            return ("junk", None, buf), b""
        ln = int(buf[pos + 1:j])
        if len(buf) < j + 2 + ln + 2:
            return None
        args.append(buf[j + 2:j + 2 + ln].decode("latin-1"))
        pos = j + 2 + ln + 2
    return ("command", args, buf[:pos]), buf[pos:]


class Link:
    def __init__(self, sock):
        self.sock = sock
        self.accepted_at = time.monotonic()
        self.msgs = []
        self.closed_at = None
        self.cond = threading.Condition()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            now = time.monotonic()
            with self.cond:
                if not data:
                    self.closed_at = now
                    self.cond.notify_all()
                    return
                buf += data
                while buf:
                    r = parse_msg(buf)
                    if r is None:
                        break
                    (kind, args, raw), buf = r
                    self.msgs.append(Msg(now, kind, args, raw))
                self.cond.notify_all()

    def wait(self, pred, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("fake master: timed out after %.0f s waiting for %s;"
                                         " the replica sent %r%s" % (
                                             timeout, what, self.msgs,
                                             " and closed" if self.closed_at else ""))
                self.cond.wait(min(left, 0.1))

    def snapshot(self):
        with self.cond:
            return list(self.msgs)

    def handshake(self):
        return [m for m in self.snapshot() if m.kind == "command" and not is_ack(m.args)]

    def acks(self, after=0.0):
        """(arrival time, offset) of every REPLCONF ACK that arrived after `after`."""
        return [(m.t, int(m.args[2])) for m in self.snapshot()
                if m.kind == "command" and is_ack(m.args) and m.t > after]

    def wait_ack(self, after, pred, what, timeout=WAIT):
        def find():
            for t, off in self.acks(after):
                if pred(off):
                    return t, off
            return None
        return self.wait(find, what, timeout)

    def wait_closed(self, what, timeout=WAIT):
        return self.wait(lambda: self.closed_at, what, timeout)

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakeMaster:
    def __init__(self):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.1)
        self.port = self.lsock.getsockname()[1]
        self.links = []
        self.taken = 0
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cond:
                self.links.append(Link(s))
                self.cond.notify_all()

    def next_link(self, timeout=WAIT):
        """The next connection the replica opened (waits for it)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.links) <= self.taken:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the replica did not connect to the fake master "
                                         "within %.0f s (%d links so far)" %
                                         (timeout, len(self.links)))
                self.cond.wait(min(left, 0.1))
            self.taken += 1
            return self.links[self.taken - 1]

    def close(self):
        self.stopping = True
        self.lsock.close()
        self.thread.join(2)
        for link in self.links:
            link.close()


def replay(link, cap, split=None, before_chunk=None):
    """Plays the master's side of `cap` to the replica on `link`: every m2r chunk as its
    own send, in the captured order, each only after the replica sent what the real one
    had sent by then in the capture: its handshake commands (AUTH/REPLCONF, pipelined by
    the replica, all of them before the first of their replies) and, after an EOF-marked
    RDB, the first REPLCONF ACK (a Redis master streams nothing before it). `split=1`
    sends the bytes after the handshake one at a time. before_chunk(index) runs before
    each m2r chunk. Returns {chunk index: monotonic time just before it was sent}."""
    hs = cap.handshake()
    r2m_chunk = {}  # handshake event index -> index of the r2m chunk holding it
    for k, e in enumerate(hs):
        for i, (_, d, off, ln) in enumerate(cap.chunks):
            if d == "r2m" and off <= e["offset"] < off + ln:
                r2m_chunk[k] = i
    group = [k for k, e in enumerate(hs) if e["args"][0].upper() in ("AUTH", "REPLCONF")]
    diskless_end = None
    for e in cap.events:
        if e["kind"] == "rdb-diskless":
            diskless_end = e["offset"] + e["length"]
    sent = {}
    prev_t = None
    await_ack_since = None
    handshake_done = False
    for i, (t, d, off, ln) in enumerate(cap.chunks):
        if d != "m2r":
            continue
        need = sum(1 for k in range(len(hs)) if r2m_chunk.get(k, len(cap.chunks)) < i)
        if group and need > group[0]:
            need = max(need, group[-1] + 1)
        link.wait(lambda: len(link.handshake()) >= need,
                  "%s: the first %d handshake commands %r before m2r chunk @%d" % (
                      cap.name, need, [e["args"] for e in hs[:need]], off))
        if await_ack_since is not None:
            link.wait_ack(await_ack_since, lambda o: True,
                          "%s: REPLCONF ACK after the EOF-marked RDB" % cap.name)
            await_ack_since = None
        if prev_t is not None:
            time.sleep(min(max(t - prev_t, PACE_MIN), PACE_MAX))
        prev_t = t
        if before_chunk is not None:
            before_chunk(i)
        data = cap.m2r[off:off + ln]
        if split and need >= len(hs):
            handshake_done = True
        # Taken before the send: the replica may answer (a GETACK's ACK) before sendall
        # returns to this thread on a loaded machine.
        sent_at = time.monotonic()
        try:
            if split and handshake_done:
                for b in range(0, len(data), split):
                    link.send(data[b:b + split])
                    time.sleep(0.0005)
            else:
                link.send(data)
        except OSError:
            # The replica hung up (after -WRONGPASS it closes without reading the rest,
            # as the captured one did); the caller checks that it had to.
            link.wait_closed("%s: the replica reset the link at m2r @%d" % (cap.name, off))
            return sent
        sent[i] = sent_at
        if diskless_end is not None and off < diskless_end <= off + ln:
            await_ack_since = sent[i]
    return sent


def expected_handshake(cap, port, psync):
    """The captured handshake with the replica's own listening port and `psync`."""
    out = []
    for e in cap.handshake():
        args = list(e["args"])
        if args[:2] == ["REPLCONF", "listening-port"]:
            args[2] = str(port)
        elif args[0] == "PSYNC":
            args = list(psync)
        out.append(args)
    return out


def check_handshake(link, cap, port, psync):
    want = expected_handshake(cap, port, psync)
    got = link.handshake()
    assert [m.args for m in got] == want, (
        "%s: handshake differs from the capture\n  expected %r\n  got      %r" %
        (cap.name, want, [m.args for m in got]))
    for m in got:
        assert m.raw == encode(m.args), "%s: %r not sent as a RESP array: %r" % (
            cap.name, m.args, m.raw)


# ---------------------------------------------------------------------------
# Datasets in the canonical form of ../rdb/README.md (key, type, expire_ms, value)

def bstr(v):
    if isinstance(v, dict):
        return bytes.fromhex(v["hex"])
    return v.encode("ascii")


def expected_dataset(scenario, skip):
    """{db: {key: (type, expire_ms, value)}} from replica-final-dataset.json, without
    stream keys (Cairn has no streams) and the (db, key)s in `skip`."""
    with open(vector_path(scenario, "replica-final-dataset.json")) as f:
        doc = json.load(f)
    out = {}
    for db, entries in doc["databases"].items():
        rows = {}
        for e in entries:
            key = bstr(e["key"])
            if e["type"] == "stream" or (int(db), key) in skip:
                continue
            v = e["value"]
            if e["type"] == "string":
                v = bstr(v)
            elif e["type"] in ("list", "set"):
                v = [bstr(x) for x in v]
            elif e["type"] == "hash":
                v = [[bstr(f), bstr(x)] for f, x in v]
            elif e["type"] == "zset":
                v = [[bstr(m), s.encode()] for m, s in v]
            rows[key] = (e["type"], e["expire_ms"], v)
        if rows:
            out[int(db)] = rows
    return out


def dataset(node):
    out = {}
    c = node.raw()
    try:
        for db in rh.keyspace_dbs(node):
            assert c.call("SELECT", db) == "OK"
            rows = {}
            for k in c.call("KEYS", "*"):
                t = str(c.call("TYPE", k))
                if t == "string":
                    v = c.call("GET", k)
                elif t == "list":
                    v = c.call("LRANGE", k, 0, -1)
                elif t == "set":
                    v = sorted(c.call("SMEMBERS", k))
                elif t == "hash":
                    flat = c.call("HGETALL", k)
                    v = sorted([flat[i], flat[i + 1]] for i in range(0, len(flat), 2))
                elif t == "zset":
                    flat = c.call("ZRANGE", k, 0, -1, "WITHSCORES")
                    v = [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]
                else:
                    v = "<%s>" % t
                exp = c.call("PEXPIRETIME", k)
                rows[k] = (t, None if exp == -1 else exp, v)
            if rows:
                out[db] = rows
    finally:
        c.close()
    return out


def check_dataset(node, scenario, skip=()):
    want = expected_dataset(scenario, set(skip))
    got = dataset(node)
    assert got == want, "%s: the replica's dataset differs from replica-final-dataset.json" \
        "\n  expected %r\n  got      %r" % (scenario, want, got)


def unsupported(node, command):
    """True when the node does not know `command` (COMMAND INFO answers nil)."""
    r = node.call("COMMAND", "INFO", command)
    return isinstance(r, list) and r[0] is None


# ---------------------------------------------------------------------------
# INFO replication and ROLE against the captured ones

def info_fields(text):
    if isinstance(text, bytes):
        text = text.decode()
    return [tuple(line.split(":", 1)) for line in text.splitlines()
            if line and not line.startswith("#") and ":" in line]


def captured_info(scenario, name):
    with open(vector_path(scenario, name + ".txt")) as f:
        text = f.read()
    info, _, role = text.partition("# ROLE reply (RESP, decoded):")
    return info_fields(info), ast.literal_eval(role.strip())


def check_info(info, scenario, name, subst=None, ignore=(), values=True):
    """An INFO replication reply has the captured field names in the captured order, and
    (with `values`) the captured values except `ignore`, with `subst` {field: value}."""
    want, _ = captured_info(scenario, name)
    got = info_fields(info)
    assert [k for k, _ in got] == [k for k, _ in want], (
        "INFO replication field names/order differ from %s/%s.txt\n  expected %r\n  got      %r"
        % (scenario, name, [k for k, _ in want], [k for k, _ in got]))
    if not values:
        return dict(got)
    subst = subst or {}
    exp = {k: subst.get(k, v) for k, v in want if k not in ignore}
    have = {k: v for k, v in got if k not in ignore}
    diff = {k: (exp[k], have[k]) for k in exp if exp[k] != have[k]}
    assert not diff, "INFO replication values differ from %s/%s.txt (field: (expected, got)): " \
        "%r" % (scenario, name, diff)
    return dict(got)


def check_role(role, scenario, name, subst):
    """A ROLE reply equals the captured one with the (index path -> value) substitutions."""
    _, want = captured_info(scenario, name)
    for path, v in subst.items():
        target = want
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = v
    assert role == want, "ROLE differs from %s/%s.txt: expected %r, got %r" % (
        scenario, name, want, role)


def own_history(node):
    r = node.repl()
    return r["master_replid"], int(r["master_repl_offset"])


def wait_offset(node, offset, what):
    rh.wait_for(lambda: int(node.repl().get("slave_repl_offset", -1)) == offset, WAIT,
                "%s: slave_repl_offset %d" % (what, offset),
                lambda: rh.repl_brief(node) + "\n" + node.log_tail(20))


def wait_role_state(node, state):
    rh.wait_for(lambda: node.call("ROLE")[3] == state.encode(), WAIT,
                "%r: ROLE state %s" % (node, state),
                lambda: "ROLE %r\n%s" % (node.call("ROLE"), node.log_tail(20)))


def check_immediate_ack(link, sent_at, offset, what):
    """The first ACK after `sent_at` says `offset` and came right away."""
    t, off = link.wait_ack(sent_at, lambda o: True, what)
    assert off == offset, "%s: first REPLCONF ACK says %d, expected %d" % (what, off, offset)
    assert t - sent_at < AT_ONCE, "%s: REPLCONF ACK %d came %.3f s later, not at once " \
        "(Redis: ~1 ms)" % (what, off, t - sent_at)


def check_only_acks(link, cap):
    """Besides its handshake a replica sends nothing but REPLCONF ACK <n> (and "\\n"
    while it loads): it never answers the stream."""
    n = len(cap.handshake())
    cmds = [m for m in link.snapshot() if m.kind != "newline"]
    hs = [m for m in cmds if m.kind == "command" and not is_ack(m.args)]
    extra = [m for m in cmds if m not in hs[:n] and not (
        m.kind == "command" and is_ack(m.args) and len(m.args) == 3 and m.args[2].isdigit())]
    assert not extra, "%s: the replica sent %r besides its handshake and ACKs" % (
        cap.name, extra)


def rdb_check(data):
    """(AUX fields, number of keys) of an RDB according to redis-check-rdb 7.0, which
    must accept it."""
    fd, path = tempfile.mkstemp(suffix=".rdb", prefix="cairn-vec-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        tool = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"
        p = subprocess.run([tool, path], capture_output=True, timeout=30)
    finally:
        os.unlink(path)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0 and "RDB looks OK" in out, "redis-check-rdb rejects it:\n" + out
    aux = dict(re.findall(r"AUX FIELD (\S+) = '([^']*)'", out))
    keys = re.search(r"\[info\] (\d+) keys read", out)
    return aux, int(keys.group(1)) if keys else None


def sync_reply_chunk(cap):
    return cap.m2r_chunk_with(cap.sync_event()["offset"])


def rdb_end_chunk(cap):
    e = next(e for e in cap.events if e["kind"].startswith("rdb-"))
    return cap.m2r_chunk_with(e["offset"] + e["length"] - 1)


# ---------------------------------------------------------------------------
# Cairn as replica

def start_replica_at_runtime(cluster, kind, fake_master, *args):
    """A fresh node told REPLICAOF at runtime; returns (node, link, own replid, offset)."""
    rep = cluster.start(kind, *args)
    replid, off = own_history(rep)
    assert rep.call("REPLICAOF", "127.0.0.1", fake_master.port) == "OK"
    return rep, fake_master.next_link(), replid, off


@pytest.mark.parametrize("kind", KINDS)
def test_a1_disk_fullsync_as_replica(cluster, fake_master, kind):
    cap = Capture("a1-fullsync-disk", 1)
    rep, link, replid, off = start_replica_at_runtime(cluster, kind, fake_master)
    during = {}

    def before(i):
        if i == rdb_end_chunk(cap):  # +FULLRESYNC and a "\n" sent, the RDB not yet
            wait_role_state(rep, "sync")
            during["info"] = rep.call("INFO", "replication")
            during["role"] = rep.call("ROLE")

    replay(link, cap, before_chunk=before)
    # A runtime REPLICAOF offers the node's own history: PSYNC <own replid> <offset+1>.
    check_handshake(link, cap, rep.port, ["PSYNC", replid, str(off + 1)])
    wait_offset(rep, 94, cap.name)  # SELECT 0 (23) + SET (37) + INCR (34)
    link.wait_ack(0, lambda o: o == 94, "periodic REPLCONF ACK 94")
    check_only_acks(link, cap)
    check_dataset(rep, cap.scenario)
    check_info(rep.call("INFO", "replication"), cap.scenario, "info-replica",
               subst={"master_port": str(fake_master.port)},
               ignore=("master_last_io_seconds_ago",))
    check_role(rep.call("ROLE"), cap.scenario, "info-replica", {(2,): fake_master.port})
    # While the disk transfer has not started: the same fields as Redis, in order.
    check_info(during["info"], cap.scenario, "info-replica-during-sync",
               subst={"master_port": str(fake_master.port), "master_replid": replid},
               ignore=("master_last_io_seconds_ago", "master_sync_last_io_seconds_ago"))
    check_role(during["role"], cap.scenario, "info-replica-during-sync",
               {(2,): fake_master.port})


@pytest.mark.parametrize("split", [None, 1], ids=["captured-chunks", "byte-at-a-time"])
@pytest.mark.parametrize("kind", KINDS)
def test_a2_diskless_fullsync_as_replica(cluster, fake_master, kind, split):
    cap = Capture("a2-fullsync-diskless", 1)
    rep, link, replid, off = start_replica_at_runtime(cluster, kind, fake_master)
    waiting = {}

    def before(i):
        if i == sync_reply_chunk(cap):  # PSYNC answered only with "\n"s so far
            wait_role_state(rep, "handshake")
            waiting["info"] = rep.call("INFO", "replication")
            waiting["role"] = rep.call("ROLE")

    sent = replay(link, cap, split=split, before_chunk=before)
    check_handshake(link, cap, rep.port, ["PSYNC", replid, str(off + 1)])
    # After an EOF-marked transfer the replica acknowledges the FULLRESYNC offset at once
    # (the master streams nothing before that ACK).
    check_immediate_ack(link, sent[rdb_end_chunk(cap)], 0, "ACK after the diskless load")
    wait_offset(rep, 74, cap.name)  # SELECT 0 (23) + SET (37) + ping (14)
    link.wait_ack(0, lambda o: o == 74, "periodic REPLCONF ACK 74")
    check_only_acks(link, cap)
    check_dataset(rep, cap.scenario)
    check_info(rep.call("INFO", "replication"), cap.scenario, "info-replica",
               subst={"master_port": str(fake_master.port)},
               ignore=("master_last_io_seconds_ago",))
    check_info(waiting["info"], cap.scenario, "info-replica-waiting-for-fullresync",
               subst={"master_port": str(fake_master.port), "master_replid": replid},
               ignore=("master_last_io_seconds_ago",))
    check_role(waiting["role"], cap.scenario, "info-replica-waiting-for-fullresync",
               {(2,): fake_master.port})


@pytest.mark.parametrize("kind", KINDS)
def test_c_command_stream_as_replica(cluster, fake_master, kind):
    """The whole captured stream: rewritten commands, MULTI/EXEC, SELECTs, pings, PUBLISH,
    GETACK. Commands Cairn lacks (FUNCTION LOAD, XADD, XGROUP, XCLAIM, PFADD) reach it
    too; like any failing command from the master they must not stop the stream, and
    their bytes count in the offset."""
    cap = Capture("c-command-stream", 1)
    rep, link, replid, off = start_replica_at_runtime(cluster, kind, fake_master)
    sent = replay(link, cap)
    check_handshake(link, cap, rep.port, ["PSYNC", replid, str(off + 1)])
    check_immediate_ack(link, sent[rdb_end_chunk(cap)], 0, "ACK after the diskless load")
    # REPLCONF GETACK * (2534 -> 2571) is answered at once with the offset before it.
    g = cap.event("command", args=["REPLCONF", "GETACK", "*"])
    g_sent = sent[cap.m2r_chunk_with(g["offset"])]
    t, o = link.wait_ack(g_sent, lambda o: o >= g["repl_offset_before"], "ACK for GETACK")
    assert o == g["repl_offset_before"], \
        "GETACK answered with ACK %d, Redis answers ACK %d (the offset before the GETACK)" % (
            o, g["repl_offset_before"])
    assert t - g_sent < AT_ONCE, "GETACK answered %.3f s later, not at once" % (t - g_sent)
    wait_offset(rep, cap.final_offset, cap.name)
    assert cap.final_offset == 2629
    link.wait_ack(0, lambda o: o == 2629, "periodic REPLCONF ACK 2629")
    check_only_acks(link, cap)
    # hll-copy (db 5) is made by PFADD + COPY + MOVE: without PFADD it cannot exist.
    skip = {(5, b"hll-copy")} if unsupported(rep, "PFADD") else set()
    check_dataset(rep, cap.scenario, skip)
    check_info(rep.call("INFO", "replication"), cap.scenario, "info-replica",
               subst={"master_port": str(fake_master.port)},
               ignore=("master_last_io_seconds_ago",))
    check_role(rep.call("ROLE"), cap.scenario, "info-replica", {(2,): fake_master.port})


@pytest.mark.parametrize("kind", KINDS)
def test_b_partial_resync_as_replica(cluster, fake_master, kind):
    """conn1: PSYNC ? -1 from a replica without history; SIGTERM saves repl-id and
    repl-offset in its dump; conn2 after the restart: PSYNC <replid> 82 -> +CONTINUE and
    the missed bytes; conn3 after the link was cut: PSYNC <replid> 225 -> +CONTINUE."""
    caps = [Capture("b-partial-resync", n) for n in (1, 2, 3)]
    args = ["--replicaof", "127.0.0.1", fake_master.port, "--save", "3600 1"]
    rep = cluster.start(kind, *args)
    link = fake_master.next_link()
    sent = replay(link, caps[0])
    check_handshake(link, caps[0], rep.port, ["PSYNC", "?", "-1"])
    check_immediate_ack(link, sent[rdb_end_chunk(caps[0])], 0, "ACK after the diskless load")
    wait_offset(rep, 81, caps[0].name)
    check_only_acks(link, caps[0])

    assert cluster.stop(rep) == 0, rep.log_tail()
    link.wait_closed("the replica's link to close at its shutdown")
    with open(os.path.join(rep.workdir, "dump.rdb"), "rb") as f:
        aux, _ = rdb_check(f.read())
    with open(vector_path("b-partial-resync", "replica-dump-at-shutdown.rdb"), "rb") as f:
        want_aux, _ = rdb_check(f.read())
    for k in ("repl-stream-db", "repl-id", "repl-offset"):
        assert aux.get(k) == want_aux[k], "the dump written at shutdown has AUX %s=%r, " \
            "Redis wrote %r" % (k, aux.get(k), want_aux[k])

    rep = cluster.start(kind, *args, workdir=rep.workdir)
    link = fake_master.next_link()
    replay(link, caps[1])
    check_handshake(link, caps[1], rep.port, caps[1].handshake()[-1]["args"])
    wait_offset(rep, 224, caps[1].name)
    check_only_acks(link, caps[1])
    link.close()  # the network cut

    link = fake_master.next_link()
    replay(link, caps[2])
    check_handshake(link, caps[2], rep.port, caps[2].handshake()[-1]["args"])
    wait_offset(rep, 266, caps[2].name)
    link.wait_ack(0, lambda o: o == 266, "periodic REPLCONF ACK 266")
    check_only_acks(link, caps[2])
    check_dataset(rep, "b-partial-resync")
    check_info(rep.call("INFO", "replication"), "b-partial-resync", "info-replica",
               subst={"master_port": str(fake_master.port)},
               ignore=("master_last_io_seconds_ago",))
    check_role(rep.call("ROLE"), "b-partial-resync", "info-replica",
               {(2,): fake_master.port})


@pytest.mark.parametrize("kind", KINDS)
def test_d_auth_as_replica(cluster, fake_master, kind):
    """Wrong masterauth: AUTH and both REPLCONFs pipelined, -WRONGPASS, the replica
    closes (no PSYNC) and retries about once a second; the right password: AUTH <pw>;
    masteruser: AUTH <user> <pw> and, after REPLICAOF NO ONE, PSYNC <its new id> 61."""
    caps = {n: Capture("d-auth", n) for n in range(1, 6)}
    rep, link, replid, off = start_replica_at_runtime(cluster, kind, fake_master,
                                                      "--masterauth", "wrong-pw")
    links = []
    for n in (1, 2, 3):
        if n > 1:
            link = fake_master.next_link()
        replay(link, caps[n])
        link.wait_closed("the replica to close %s after -WRONGPASS" % caps[n].name)
        check_handshake(link, caps[n], rep.port, None)  # no PSYNC at all
        links.append(link)
    failing, role = rep.call("INFO", "replication"), rep.call("ROLE")
    check_info(failing, "d-auth", "info-replica-auth-failing",
               subst={"master_port": str(fake_master.port), "master_replid": replid})
    check_role(role, "d-auth", "info-replica-auth-failing", {(2,): fake_master.port})
    gaps = [b.accepted_at - a.closed_at for a, b in zip(links, links[1:])]
    assert all(g < 2.0 for g in gaps), "retries came %r s after the failures" % gaps
    period = links[2].accepted_at - links[1].accepted_at
    assert 0.5 <= period <= 2.0, "retries %.2f s apart; Redis retries once a second" % period

    assert rep.call("CONFIG", "SET", "masterauth", "s3cret-pw") == "OK"
    link = fake_master.next_link()
    sent = replay(link, caps[4])
    check_handshake(link, caps[4], rep.port, ["PSYNC", replid, str(off + 1)])
    check_immediate_ack(link, sent[rdb_end_chunk(caps[4])], 0, "ACK after the diskless load")
    wait_offset(rep, 60, caps[4].name)
    check_only_acks(link, caps[4])

    for args in (("CONFIG", "SET", "masteruser", "repl-user"),
                 ("CONFIG", "SET", "masterauth", "repl-pw"), ("REPLICAOF", "NO", "ONE")):
        assert rep.call(*args) == "OK", args
    new_id, new_off = own_history(rep)
    assert new_off == 60 and new_id != caps[4].sync_replid(), (new_id, new_off)
    assert rep.call("REPLICAOF", "127.0.0.1", fake_master.port) == "OK"
    link.wait_closed("the old link to close at REPLICAOF NO ONE")
    link = fake_master.next_link()
    sent = replay(link, caps[5])
    check_handshake(link, caps[5], rep.port, ["PSYNC", new_id, "61"])
    check_immediate_ack(link, sent[rdb_end_chunk(caps[5])], 60, "ACK after the diskless load")
    wait_offset(rep, 124, caps[5].name)
    check_only_acks(link, caps[5])
    check_dataset(rep, "d-auth")
    check_info(rep.call("INFO", "replication"), "d-auth", "info-replica",
               subst={"master_port": str(fake_master.port)},
               ignore=("master_last_io_seconds_ago",))
    check_role(rep.call("ROLE"), "d-auth", "info-replica", {(2,): fake_master.port})


# ---------------------------------------------------------------------------
# Cairn as master: a fake replica

class FakeReplica:
    """A replica's end of the link, driven by hand: sends captured bytes, reads what the
    master sends byte-exactly and counts the stream bytes it read (its offset)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.offset = None

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def ack(self, offset):
        self.send(encode(["REPLCONF", "ACK", str(offset)]))

    def _fill(self, deadline, what):
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            raise AssertionError("fake replica: timed out waiting for %s; the master sent %r"
                                 % (what, self.buf[:300])) from None
        if not data:
            raise AssertionError("fake replica: the master closed the link while waiting for "
                                 "%s; it sent %r" % (what, self.buf[:300]))
        self.buf += data

    def read_exact(self, n, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            self._fill(deadline, what)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            self._fill(deadline, what)
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def skip_newlines(self, what, timeout=WAIT):
        """Drops the "\n" keepalives in front of the next message; returns how many."""
        deadline = time.monotonic() + timeout
        n = 0
        while True:
            while not self.buf:
                self._fill(deadline, what)
            if self.buf[:1] != b"\n":
                return n
            self.buf = self.buf[1:]
            n += 1

    def read_command(self, what, timeout=WAIT):
        """The next stream command: (args, raw bytes); counted in the offset."""
        deadline = time.monotonic() + timeout
        while True:
            r = parse_msg(self.buf) if self.buf else None
            if r is not None:
                (kind, args, raw), rest = r
                assert kind == "command", "fake replica: %s: not a RESP command: %r" % (
                    what, self.buf[:200])
                self.buf = rest
                self.offset += len(raw)
                return args, raw
            self._fill(deadline, what)

    def expect_nothing(self, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.buf:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                break
            assert data, "fake replica: the master closed the link (%s)" % what
            self.buf += data
        assert self.buf == b"", "%s: the master sent %r" % (what, self.buf[:200])


def start_handshake(node, raw):
    """Sends a captured handshake (PING; REPLCONF listening-port and capa back to back;
    PSYNC) and checks the answers before PSYNC's."""
    fr = FakeReplica(node.port)
    fr.send(raw[0])
    assert fr.read_exact(7, "+PONG") == b"+PONG\r\n"
    fr.send(raw[1] + raw[2])
    assert fr.read_exact(10, "+OK +OK") == b"+OK\r\n+OK\r\n"
    fr.send(raw[3])
    return fr


def read_fullresync(fr):
    """(replid, offset, "\\n"s before it) of the +FULLRESYNC line."""
    newlines = fr.skip_newlines("+FULLRESYNC")
    line = fr.read_line("+FULLRESYNC")
    m = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)", line)
    assert m, "expected +FULLRESYNC <40 hex> <offset>, got %r" % line
    fr.offset = int(m.group(2))
    return m.group(1).decode(), fr.offset, newlines


def read_rdb(fr, diskless):
    """The RDB payload, checked for its framing: `$<len>\\r\\n` + exactly len bytes (no
    CRLF after them), or `$EOF:<40>\\r\\n` + RDB + the same 40 bytes and nothing after."""
    fr.skip_newlines("the RDB header")
    line = fr.read_line("the RDB header")
    if not diskless:
        m = re.fullmatch(rb"\$(\d+)", line)
        assert m, "expected the disk framing $<len>, got %r" % line
        return fr.read_exact(int(m.group(1)), "the RDB payload")
    m = re.fullmatch(rb"\$EOF:(.{40})", line, re.S)
    assert m, "expected the diskless framing $EOF:<40 chars>, got %r" % line
    mark = m.group(1)
    deadline = time.monotonic() + WAIT
    while mark not in fr.buf:
        fr._fill(deadline, "the EOF mark")
    payload, _, fr.buf = fr.buf.partition(mark)
    assert fr.buf == b"", "bytes after the EOF mark before the first ACK: %r" % fr.buf[:100]
    return payload


def check_payload(payload, replid, offset, keys):
    assert payload.startswith(b"REDIS0010"), payload[:16]
    aux, n = rdb_check(payload)
    assert aux.get("repl-id") == replid and aux.get("repl-offset") == str(offset), aux
    assert aux.get("repl-stream-db") == "0", aux
    assert n == keys, "the RDB holds %s keys, expected %d" % (n, keys)


def wait_online(node, offset=None):
    def ok():
        s = node.repl().get("slave0", "")
        return "state=online" in s and (offset is None or ",offset=%d," % offset in s)
    rh.wait_for(ok, WAIT, "%r: slave0 online%s" % (node, "" if offset is None else
                                                   " with offset=%d" % offset),
                lambda: rh.repl_brief(node))


def check_slave_line(info, scenario, name):
    """slaveN fields of the captured master: same names in order, same values but lag."""
    want = rh.parse_slave_line(dict(captured_info(scenario, name)[0])["slave0"])
    got = rh.parse_slave_line(info["slave0"])
    assert list(got) == list(want), "slave0 fields %r, Redis %r" % (list(got), list(want))
    want.pop("lag")
    got.pop("lag")
    assert got == want, "slave0 %r, Redis (%s) %r" % (got, name, want)


def pre_writes(conn):
    for args in (("SET", "pre:string", "hello"), ("RPUSH", "pre:list", "a", "b", "c"),
                 ("HSET", "pre:hash", "f", "v")):
        r = conn.call(*args)
        assert not isinstance(r, Err), (args, r)


def stream_bytes(cap, first, last):
    """The captured m2r bytes of stream events first..last (inclusive, 0-based among the
    stream commands)."""
    evs = [e for e in cap.events if e["dir"] == "m2r" and e["kind"] == "command"]
    return cap.m2r[evs[first]["offset"]:evs[last]["offset"] + evs[last]["length"]]


def master_args(*extra):
    return ["--repl-ping-replica-period", FAR] + list(extra)


@pytest.mark.parametrize("kind", KINDS)
def test_master_disk_fullsync(cluster, kind):
    cap = Capture("a1-fullsync-disk", 1)
    m = cluster.start(kind, *master_args("--repl-diskless-sync", "no"))
    standalone = m.call("INFO", "replication")
    check_info(standalone, "info-standalone", "info-standalone-master",
               ignore=("master_replid",))
    check_role(m.call("ROLE"), "info-standalone", "info-standalone-master", {})
    c = m.raw()
    pre_writes(c)
    assert m.offset() == 0, "writes without a backlog are not counted"
    fr = start_handshake(m, cap.handshake_raw())
    replid, off, _ = read_fullresync(fr)
    assert off == 0
    assert replid == m.repl()["master_replid"]
    assert replid != dict(info_fields(standalone))["master_replid"], \
        "Redis starts a new replication id when it creates the backlog"
    check_payload(read_rdb(fr, diskless=False), replid, 0, keys=3)
    fr.ack(0)
    wait_online(m)
    assert c.call("SET", "after:sync", 1) == "OK"
    assert c.call("INCR", "after:counter") == 1
    # Exactly the captured bytes: no CRLF after the RDB, SELECT 0 first, then the writes.
    got = fr.read_exact(94, "SELECT 0, SET after:sync 1, INCR after:counter")
    assert got == stream_bytes(cap, 0, 2), got
    assert m.offset() == 94
    fr.ack(94)
    wait_online(m, 94)
    info = check_info(m.call("INFO", "replication"), cap.scenario, "info-master",
                      subst={"master_replid": replid}, ignore=("slave0",))
    check_slave_line(info, cap.scenario, "info-master")
    check_role(m.call("ROLE"), cap.scenario, "info-master", {})
    fr.close()
    c.close()


@pytest.mark.parametrize("kind", KINDS)
def test_master_diskless_fullsync(cluster, kind):
    """PSYNC ? -1 (b conn1's handshake) to a diskless master with a 2 s delay: "\\n"s
    before +FULLRESYNC, the EOF-marked RDB, then nothing until the first ACK."""
    cap = Capture("a2-fullsync-diskless", 1)
    hs = Capture("b-partial-resync", 1)
    m = cluster.start(kind, *master_args("--repl-diskless-sync", "yes",
                                         "--repl-diskless-sync-delay", "2"))
    c = m.raw()
    pre_writes(c)
    fr = start_handshake(m, hs.handshake_raw())
    rh.wait_for(lambda: "state=wait_bgsave" in m.repl().get("slave0", ""), WAIT,
                "slave0 state=wait_bgsave during the diskless delay")
    check_info(m.call("INFO", "replication"), cap.scenario,
               "info-master-during-diskless-delay", values=False)
    replid, off, newlines = read_fullresync(fr)
    assert newlines >= 1, "no \\n keepalive before +FULLRESYNC during the diskless delay"
    assert off == 0
    check_payload(read_rdb(fr, diskless=True), replid, 0, keys=3)
    assert c.call("SET", "after:sync", 1) == "OK"
    fr.expect_nothing(0.5, "before the replica's first REPLCONF ACK")
    fr.ack(0)
    got = fr.read_exact(60, "SELECT 0, SET after:sync 1 after the ACK")
    assert got == stream_bytes(cap, 0, 1), got
    assert m.offset() == 60
    fr.close()
    c.close()


@pytest.mark.parametrize("kind", KINDS)
def test_master_auth(cluster, kind):
    """requirepass: the captured d-auth handshakes get the captured answers, byte for
    byte (wrong password: -NOAUTH, -WRONGPASS, -NOAUTH, -NOAUTH; right one: +OK)."""
    m = cluster.start(kind, *master_args(), password="s3cret-pw")
    for n in (1, 4):
        cap = Capture("d-auth", n)
        hs = cap.handshake_raw()
        psync = [e for e in cap.handshake() if e["args"][0] == "PSYNC"]
        # Everything the master answered before PSYNC (conn1: all it sent).
        want_len = cap.sync_event()["offset"] if psync else len(cap.m2r)
        fr = FakeReplica(m.port)
        fr.send(hs[0])
        assert fr.read_exact(34, "-NOAUTH") == cap.m2r[:34]
        fr.send(b"".join(hs[1:4]))  # AUTH and both REPLCONFs, pipelined
        got = fr.read_exact(want_len - 34, "the answers to AUTH and REPLCONF")
        assert got == cap.m2r[34:want_len], got
        if psync:
            fr.send(hs[4])
            read_fullresync(fr)
        fr.close()


# The client commands of c-command-stream (README table) and what Redis appended to the
# replication stream for each. Placeholders: Ms(d) = the master's clock + d ms when the
# command ran; ANY = an id or time Redis chose; POPPED = the member SPOP returned.
class Ms:
    def __init__(self, delta):
        self.delta = delta

    def __repr__(self):
        return "<now%+dms>" % self.delta


ANY = type("Any", (), {"__repr__": lambda self: "<any>"})()
POPPED = type("Popped", (), {"__repr__": lambda self: "<popped>"})()

LUA_WRITE = "redis.call('SET', KEYS[1], 'fromlua'); redis.call('INCR', 'lua:cnt'); return 1"
LUA_READ = "return redis.call('GET', KEYS[1])"
LIBRARY = ("#!lua name=vlib\nredis.register_function('vset', function(k, a) "
           "return redis.call('SET', k[1], a[1]) end)")
GETACK = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
PING = b"*1\r\n$4\r\nping\r\n"


class Row:
    def __init__(self, cmds, stream=None, needs=None, marker=False, run=None):
        self.cmds = cmds
        self.stream = [cmds[0]] if stream is None else stream
        self.needs = needs    # a command (or "lua") Cairn may lack: the row is skipped
        self.marker = marker  # "nothing": proven by the next write arriving first
        self.run = run        # rows that need more than one client

    def __repr__(self):
        return " / ".join(" ".join(a)[:60] for a in self.cmds)


def run_blpop(ctx):
    b = ctx.node.raw()
    try:
        before = int(ctx.node.info("clients")["blocked_clients"])
        b.send("BLPOP", "blq", "0")
        rh.wait_for(lambda: int(ctx.node.info("clients")["blocked_clients"]) > before, WAIT,
                    "BLPOP to block")
        assert ctx.conn.call("RPUSH", "blq", "served") == 1
        assert b.read() == [b"blq", b"served"]
    finally:
        b.close()


def run_lazy(ctx):
    c = ctx.conn
    assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    try:
        assert c.call("SET", "lazy", "v", "PX", "100") == "OK"
        time.sleep(0.2)  # lets the TTL pass; GET then finds the key expired
        assert c.call("GET", "lazy") is None
    finally:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"


def run_wait(ctx):
    """SET + WAIT in one write: the master asks for an ACK with REPLCONF GETACK *; the
    replica answers with the offset before the GETACK (as Redis's does) and WAIT counts
    it."""
    c, fr = ctx.conn, ctx.fr
    c.sock.sendall(encode(["SET", "before-wait", "1"]) + encode(["WAIT", "1", "1000"]))
    args, _ = fr.read_command("SET before-wait 1")
    assert args == ["SET", "before-wait", "1"], args
    before = fr.offset
    got = fr.read_exact(len(GETACK), "REPLCONF GETACK * for the WAIT")
    assert got == GETACK, got
    fr.offset += len(GETACK)
    fr.ack(before)
    assert c.read() == "OK"
    assert c.read() == 1, "WAIT did not count the replica's ACK %d" % before


ROWS = [
    Row([("SET", "k", "v")], [("SELECT", "0"), ("SET", "k", "v")]),
    Row([("SET", "kex", "v", "EX", "100")], [("SET", "kex", "v", "PXAT", Ms(100000))]),
    Row([("SET", "kpx", "v", "PX", "100000")], [("SET", "kpx", "v", "PXAT", Ms(100000))]),
    Row([("SETEX", "ksetex", "100", "v")], [("SET", "ksetex", "v", "PXAT", Ms(100000))]),
    Row([("EXPIRE", "k", "100")], [("PEXPIREAT", "k", Ms(100000))]),
    Row([("PEXPIRE", "k", "200000")], [("PEXPIREAT", "k", Ms(200000))]),
    Row([("EXPIREAT", "k", "4102444800")], [("PEXPIREAT", "k", "4102444800000")]),
    Row([("GETEX", "kex", "EX", "50")], [("PEXPIREAT", "kex", Ms(50000))]),
    Row([("GETEX", "kex", "PERSIST")], [("PERSIST", "kex")]),
    Row([("SET", "k", "v2", "KEEPTTL")]),
    Row([("INCRBYFLOAT", "fl", "1.5")], [("SET", "fl", "1.5", "KEEPTTL")]),
    Row([("HINCRBYFLOAT", "h", "f", "0.25")], [("HSET", "h", "f", "0.25")]),
    Row([("INCR", "cnt")]),
    Row([("SET", "k", "zzz", "NX")], [], marker=True),
    Row([("DEL", "does-not-exist")], [], marker=True),
    Row([("MULTI",), ("SET", "tx:a", "1"), ("INCR", "tx:b"), ("LPUSH", "tx:l", "x"), ("EXEC",)],
        [("MULTI",), ("SET", "tx:a", "1"), ("INCR", "tx:b"), ("LPUSH", "tx:l", "x"),
         ("EXEC",)]),
    Row([("MULTI",), ("SET", "tx:single", "1"), ("EXEC",)], [("SET", "tx:single", "1")]),
    Row([("SELECT", "3")], []),
    Row([("SET", "in:db3", "x")], [("SELECT", "3"), ("SET", "in:db3", "x")]),
    Row([("SELECT", "0")], []),
    Row([("SET", "back:in:db0", "y")], [("SELECT", "0"), ("SET", "back:in:db0", "y")]),
    Row([("EVAL", LUA_WRITE, "1", "lua:key")],
        [("MULTI",), ("SET", "lua:key", "fromlua"), ("INCR", "lua:cnt"), ("EXEC",)],
        needs="lua"),
    Row([("EVAL", LUA_READ, "1", "lua:key")], [], needs="lua", marker=True),
    Row([("FUNCTION", "LOAD", LIBRARY)], needs="lua"),
    Row([("FCALL", "vset", "1", "fn:key", "fn:val")], [("SET", "fn:key", "fn:val")],
        needs="lua"),
    Row([("SADD", "s", "a", "b", "c")]),
    Row([("SPOP", "s")], [("SREM", "s", POPPED)]),
    Row([("SPOP", "s", "5")], [("DEL", "s")]),
    Row([("RPUSH", "q", "1", "2", "3")]),
    Row([("LMOVE", "q", "q2", "LEFT", "RIGHT")]),
    Row([("RPOPLPUSH", "q", "q2")]),
    Row([("ZADD", "z", "1", "a", "2", "b")]),
    Row([("ZPOPMIN", "z")]),
    Row([("GETDEL", "fl")], [("DEL", "fl")]),
    Row([("GETSET", "k", "gs")], [("SET", "k", "gs")]),
    Row([("APPEND", "k", "++")]),
    Row([("SETRANGE", "k", "1", "X")]),
    Row([("RENAME", "k", "k-renamed")]),
    Row([("XADD", "st", "*", "f", "v")], [("XADD", "st", ANY, "f", "v")], needs="XADD"),
    Row([("XGROUP", "CREATE", "st", "g", "0")], needs="XADD"),
    Row([("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "st", ">")],
        [("XCLAIM", "st", "g", "c1", "0", ANY, "TIME", ANY, "RETRYCOUNT", "1", "FORCE",
          "JUSTID", "LASTID", ANY)], needs="XADD"),
    Row([("PUBLISH", "chan", "hello-pubsub")]),
    Row([("PFADD", "hll", "a", "b")], needs="PFADD"),
    Row([("COPY", "hll", "hll-copy")], needs="PFADD"),
    Row([("MOVE", "hll-copy", "5")], needs="PFADD"),
    Row([("DEL", "q", "q2", "missing")]),
    Row([("UNLINK", "z")]),
    Row([("MULTI",), ("GET", "x"), ("EXEC",)], [], marker=True),
    Row([("EXPIREAT", "h", "1000000000")], [("DEL", "h")]),
    Row([("EXPIRE", "k-renamed", "-1")], [("DEL", "k-renamed")]),
    # The DEL comes from the active expiry cycle.
    Row([("SET", "short", "v", "PX", "150")], [("SET", "short", "v", "PXAT", Ms(150)),
                                               ("DEL", "short")]),
    Row([("BLPOP", "blq", "0"), ("RPUSH", "blq", "served")],
        [("RPUSH", "blq", "served"), ("LPOP", "blq")], run=run_blpop),
    Row([("SET", "lazy", "v", "PX", "100"), ("GET", "lazy")],
        [("SET", "lazy", "v", "PXAT", Ms(100)), ("DEL", "lazy")], run=run_lazy),
    Row([("SET", "active-expire-me", "v", "PX", "300")],
        [("SET", "active-expire-me", "v", "PXAT", Ms(300)), ("DEL", "active-expire-me")]),
    Row([("FLUSHDB",)]),
    Row([("SET", "before-wait", "1"), ("WAIT", "1", "1000")],
        [("SET", "before-wait", "1"), ("REPLCONF", "GETACK", "*")], run=run_wait),
    Row([("SET", "last", "1")]),
]


def arg_matches(want, got, window, popped):
    if want is ANY:
        return True
    if want is POPPED:
        return popped is None or got == popped
    if isinstance(want, Ms):
        if not got.isdigit():
            return False
        return window is None or window[0] - 2 <= int(got) - want.delta <= window[1] + 2
    return want == got


def stream_matches(want, got, window=None, popped=None):
    return len(want) == len(got) and all(arg_matches(w, g, window, popped)
                                         for w, g in zip(want, got))


def test_rows_are_the_capture():
    """The table above is c-command-stream's stream, command for command (pings aside)."""
    cap = Capture("c-command-stream", 1)
    captured = [[bstr(a).decode("latin-1") if isinstance(a, dict) else a for a in e["args"]]
                for e in cap.events if e["dir"] == "m2r" and e["kind"] == "command"]
    captured = [a for a in captured if a != ["ping"]]
    table = [w for row in ROWS for w in row.stream]
    assert len(table) == len(captured), (len(table), len(captured))
    for w, g in zip(table, captured):
        assert stream_matches(w, g), "table %r, capture %r" % (w, g)
    assert cap.final_offset == 2629


class Ctx:
    def __init__(self, node, conn, fr):
        self.node, self.conn, self.fr = node, conn, fr


def supported(node, row):
    if row.needs is None:
        return True
    if row.needs == "lua":  # scripts and functions; Cairn answers them with an error
        return not isinstance(node.call("EVAL", "return 1", "0"), Err)
    return not unsupported(node, row.needs)


def attach_diskless(m, cap):
    """A fake replica through a full diskless sync, ACKed and online. Its ACK goes out
    once the master lists it online: Redis puts the replica online when the transfer's
    child is done, and streams at the first ACK after that (a real replica ACKs every
    second, so an earlier ACK only costs it a second)."""
    fr = start_handshake(m, cap.handshake_raw())
    replid, off, _ = read_fullresync(fr)
    read_rdb(fr, diskless=True)
    wait_online(m)
    fr.ack(off)
    return fr, replid


def wait_uptime(m):
    """Waits until the master has run its once-a-second cron. See
    test_master_no_ping_at_the_first_ack for why."""
    rh.wait_for(lambda: int(m.info("server")["uptime_in_seconds"]) >= 2, WAIT,
                "%r uptime_in_seconds >= 2" % (m,))


@pytest.mark.parametrize("kind", KINDS)
def test_master_no_ping_at_the_first_ack(cluster, kind):
    """Redis pings replicas every repl-ping-replica-period seconds of its cron (loop 0 runs
    1 ms after start, before any replica exists); a replica that comes online gets no
    ping of its own: right after its first ACK the stream is the writes, SELECT 0 first.
    (The other master tests attach after 2 s of uptime so they don't depend on this.)"""
    m = cluster.start(kind, *master_args())
    fr, _ = attach_diskless(m, Capture("c-command-stream", 1))
    c = m.raw()
    assert c.call("SET", "k", "v") == "OK"
    got = [fr.read_command("the first write")[0] for _ in range(2)]
    assert got == [["SELECT", "0"], ["SET", "k", "v"]], \
        "after the first ACK the master streamed %r, Redis streams [SELECT 0, SET k v]" % (got,)
    assert m.offset() == fr.offset
    fr.close()
    c.close()


@pytest.mark.parametrize("kind", KINDS)
def test_master_command_stream(cluster, kind):
    """Each client command of the c-command-stream table on the master, then exactly
    Redis's rewrite of it on the replica link; master_repl_offset grows by exactly the
    bytes sent. Then a lower-case ping after repl-ping-replica-period 1."""
    cap = Capture("c-command-stream", 1)
    m = cluster.start(kind, *master_args())
    wait_uptime(m)
    fr, _ = attach_diskless(m, cap)
    c = m.raw()
    ctx = Ctx(m, c, fr)
    skipped = []
    for i, row in enumerate(ROWS):
        if not supported(m, row):
            skipped.append(row)
            continue
        t0 = time.time() * 1000
        popped = None
        if row.run is not None:
            row.run(ctx)
        else:
            for args in row.cmds:
                r = c.call(*args)
                assert not isinstance(r, Err), "%s -> %s" % (args, r)
                if args[0] == "SPOP" and len(args) == 2:
                    popped = r.decode("latin-1")
        t1 = time.time() * 1000
        if row.run is not run_wait:
            for want in row.stream:
                got, raw = fr.read_command("%r for %r" % (want, row))
                assert stream_matches(want, got, (int(t0), int(t1)), popped), \
                    "after %r the master streamed %r, Redis streams %r" % (row, got, want)
                assert raw == encode(got)
        if row.marker:
            assert c.call("SET", "marker:%d" % i, "x") == "OK"
            got, _ = fr.read_command("the marker after %r" % row)
            assert got == ["SET", "marker:%d" % i, "x"], \
                "after %r (which Redis does not propagate) the master streamed %r" % (row, got)
        off = m.offset()
        assert off == fr.offset, "after %r master_repl_offset is %d, but %d bytes were " \
            "streamed" % (row, off, fr.offset)
    if kind == "redis":
        assert not skipped
    # Keepalive: lower-case ping, 14 bytes, counted in the offset.
    assert m.call("CONFIG", "SET", "repl-ping-replica-period", "1") == "OK"
    got = fr.read_exact(len(PING), "a ping after repl-ping-replica-period 1", timeout=5)
    assert got == PING, got
    fr.offset += len(PING)
    assert m.call("CONFIG", "SET", "repl-ping-replica-period", FAR) == "OK"
    assert m.offset() in (fr.offset, fr.offset + len(PING))
    fr.close()
    c.close()


@pytest.mark.parametrize("kind", KINDS)
def test_master_wait_after_getack(cluster, kind):
    """After the replica answered GETACK with the offset of the client's write, another
    WAIT by that client returns at once and no second GETACK is streamed."""
    m = cluster.start(kind, *master_args())
    wait_uptime(m)
    fr, _ = attach_diskless(m, Capture("c-command-stream", 1))
    c = m.raw()
    c.sock.sendall(encode(["SET", "w", "1"]) + encode(["WAIT", "1", "1000"]))
    assert fr.read_command("SELECT 0")[0] == ["SELECT", "0"]
    assert fr.read_command("SET w 1")[0] == ["SET", "w", "1"]
    before = fr.offset
    assert fr.read_exact(len(GETACK), "GETACK") == GETACK
    fr.offset += len(GETACK)
    fr.ack(before)
    assert c.read() == "OK"
    assert c.read() == 1
    t = time.monotonic()
    assert c.call("WAIT", "1", "1000") == 1, "WAIT after an ACK covering the client's write"
    assert time.monotonic() - t < 0.5, "WAIT waited %.2f s" % (time.monotonic() - t)
    assert c.call("SET", "w2", "1") == "OK"
    got, _ = fr.read_command("SET w2 1")
    assert got == ["SET", "w2", "1"], "the master streamed %r (Redis: no GETACK)" % (got,)
    fr.close()
    c.close()


@pytest.mark.parametrize("kind", KINDS)
def test_master_partial_resync(cluster, kind):
    """b-partial-resync from the master's side: PSYNC <replid> 82 after three writes made
    while the replica was away -> +CONTINUE <replid> and exactly those bytes; after a cut,
    PSYNC <replid> 225 -> +CONTINUE and the stream goes on."""
    caps = [Capture("b-partial-resync", n) for n in (1, 2, 3)]
    m = cluster.start(kind, *master_args())
    c = m.raw()
    pre_writes(c)
    wait_uptime(m)
    fr, replid = attach_diskless(m, caps[0])
    assert c.call("SET", "k1", "v1") == "OK"
    assert c.call("SET", "k2", "v2") == "OK"
    assert fr.read_exact(81, "the first writes") == stream_bytes(caps[0], 0, 2)
    fr.ack(81)
    wait_online(m, 81)
    fr.close()
    rh.wait_for(lambda: m.repl()["connected_slaves"] == "0", WAIT, "the replica to be gone")
    for args in (("SET", "while-down:1", "a"), ("SELECT", "2"), ("SET", "while-down:db2", "b")):
        assert c.call(*args) == "OK"
    assert c.call("DEL", "k1") == 0
    assert m.offset() == 184

    # conn2: PSYNC <replid> 82 -> +CONTINUE and exactly the bytes missed (offsets 81 ->
    # 184); then SET after-restart x (a db 2 write: no SELECT, the stream is in db 2).
    fr = start_handshake(m, caps[1].handshake_raw()[:3] + [encode(["PSYNC", replid, "82"])])
    assert fr.read_line("+CONTINUE") == b"+CONTINUE " + replid.encode()
    assert fr.read_exact(103, "the missed bytes") == stream_bytes(caps[1], 0, 2)
    fr.expect_nothing(0.2, "after the backlog")
    assert c.call("SET", "after-restart", "x") == "OK"
    assert fr.read_exact(40, "SET after-restart x") == stream_bytes(caps[1], 3, 3)
    fr.ack(224)
    wait_online(m, 224)
    fr.close()  # the cut
    # conn3: PSYNC <replid> 225 -> +CONTINUE, nothing to resend, then the stream.
    fr = start_handshake(m, caps[2].handshake_raw()[:3] + [encode(["PSYNC", replid, "225"])])
    assert fr.read_line("+CONTINUE") == b"+CONTINUE " + replid.encode()
    fr.expect_nothing(0.2, "after +CONTINUE at the end of the backlog")
    assert c.call("SET", "during-netsplit", "y") == "OK"
    assert fr.read_exact(42, "SET during-netsplit y") == stream_bytes(caps[2], 0, 0)
    fr.ack(266)
    wait_online(m, 266)
    assert m.offset() == 266
    info = check_info(m.call("INFO", "replication"), "b-partial-resync", "info-master",
                      subst={"master_replid": replid}, ignore=("slave0",))
    check_slave_line(info, "b-partial-resync", "info-master")
    fr.close()
    c.close()
