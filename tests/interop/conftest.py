# Differential harness: one Cairn and one stock redis-server 7.0 per test module,
# started with identical settings; `diff.check(...)` sends the same command to both
# over raw RESP and asserts the replies are identical (type and bytes; errors by
# message). `diff.check3(...)` does the same over RESP3 (HELLO 3) connections.
import importlib.util
import os
import socket

import pytest
import redis

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "cairn_harness", os.path.join(_HERE, "..", "integration", "conftest.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)


# ---------------------------------------------------------------------------
# A tiny RESP2/RESP3 client. Replies keep their wire type so that, e.g., a simple
# string and a bulk string with the same bytes do not compare equal.

class Simple(bytes):
    """+OK: compares equal to b"OK" in tests, but keeps its type for diffs."""

    def __repr__(self):
        return "Simple(%s)" % bytes.__repr__(self)


class RespError(redis.exceptions.ResponseError):
    """An error reply (returned, not raised). .message is the text without '-'."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __eq__(self, other):
        return isinstance(other, RespError) and other.message == self.message

    def __hash__(self):
        return hash(self.message)

    def __repr__(self):
        return "RespError(%r)" % self.message


class Typed:
    """RESP3-only types: map (list of pairs), set, push, double, bool, bignum,
    verbatim, attribute. `value` holds the payload."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Typed) and (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self):
        return hash((self.kind, repr(self.value)))

    def __repr__(self):
        return "%s(%r)" % (self.kind, self.value)


class ConnectionClosed(Exception):
    pass


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = repr(a).encode() if isinstance(a, float) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConn:
    def __init__(self, port, timeout=30.0):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionClosed("connection closed by server")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Simple(rest)
        if t == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b"_":
            return Typed("Null", None)
        if t == b",":
            return Typed("Double", rest)
        if t == b"#":
            return Typed("Bool", rest == b"t")
        if t == b"(":
            return Typed("BigNum", rest)
        if t == b"=":
            return Typed("Verbatim", self._exact(int(rest)))
        if t == b"!":
            return RespError(self._exact(int(rest)).decode("utf-8", "replace"))
        if t == b"%":
            return Typed("Map", [(self.read(), self.read()) for _ in range(int(rest))])
        if t == b"~":
            return Typed("Set", [self.read() for _ in range(int(rest))])
        if t == b">":
            return Typed("Push", [self.read() for _ in range(int(rest))])
        if t == b"|":
            attrs = [(self.read(), self.read()) for _ in range(int(rest))]
            return Typed("Attr", (attrs, self.read()))
        raise ValueError("bad RESP type byte in %r" % line)

    def call(self, *args):
        self.send_raw(encode_command(args))
        return self.read()


def _sort_key(x):
    return repr(canon(x))


def canon(x):
    """A hashable, type-preserving form of a reply, for comparison."""
    if isinstance(x, Simple):
        return ("simple", bytes(x))
    if isinstance(x, RespError):
        return ("error", x.message)
    if isinstance(x, bytes):
        return ("bulk", x)
    if isinstance(x, bool):
        return ("bool", x)
    if isinstance(x, int):
        return ("int", x)
    if x is None:
        return ("nil",)
    if isinstance(x, list):
        return ("array", tuple(canon(e) for e in x))
    if isinstance(x, Typed):
        v = x.value
        if x.kind == "Map":
            v = tuple((canon(k), canon(e)) for k, e in v)
        elif x.kind in ("Set", "Push"):
            v = tuple(canon(e) for e in v)
        elif x.kind == "Attr":
            v = (tuple((canon(k), canon(e)) for k, e in v[0]), canon(v[1]))
        return (x.kind, v)
    return ("other", repr(x))


def canon_unordered(x):
    if isinstance(x, list):
        return ("array*", tuple(sorted((canon(e) for e in x), key=repr)))
    if isinstance(x, Typed) and x.kind in ("Map", "Set", "Push"):
        c = canon(x)
        return (x.kind + "*", tuple(sorted(c[1], key=repr)))
    return canon(x)


def fmt_cmd(args):
    return " ".join(repr(a if not isinstance(a, bytes) else a)[:80] for a in args)


# ---------------------------------------------------------------------------

class DiffPair:
    """One Cairn and one redis-server started alike; see module docstring."""

    def __init__(self, cairn_srv, redis_srv):
        self.cairn_srv = cairn_srv
        self.redis_srv = redis_srv
        self.conns = {}
        self.cairn = None
        self.redis = None
        self.history = []

    # connections ---------------------------------------------------------
    def _conn(self, which, proto):
        key = (which, proto)
        if key not in self.conns:
            srv = self.cairn_srv if which == "cairn" else self.redis_srv
            c = RespConn(srv.port)
            if proto == 3:
                r = c.call("HELLO", "3")
                if isinstance(r, RespError):
                    c.close()
                    raise AssertionError("%s refused HELLO 3: %s" % (which, r.message))
            self.conns[key] = c
        return self.conns[key]

    def reset_connections(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}
        for cl in (self.cairn, self.redis):
            if cl is not None:
                cl.close()
        self.cairn = self.cairn_srv.client()
        self.redis = self.redis_srv.client()
        self.history = []

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}
        for cl in (self.cairn, self.redis):
            if cl is not None:
                cl.close()

    # commands ------------------------------------------------------------
    def send(self, which, *args, proto=2):
        """Sends one command to one side only; returns its raw reply."""
        return self._conn(which, proto).call(*args)

    def both(self, *args, proto=2):
        """Sends to both sides; returns (cairn_reply, redis_reply) without comparing."""
        self.history.append(args)
        try:
            rc = self._conn("cairn", proto).call(*args)
        except (ConnectionClosed, OSError) as e:
            raise AssertionError("Cairn connection failed on %s: %s\n%s" %
                                 (fmt_cmd(args), e, self.cairn_srv.log_tail()))
        rr = self._conn("redis", proto).call(*args)
        return rc, rr

    def _check(self, args, proto, unordered):
        rc, rr = self.both(*args, proto=proto)
        key = canon_unordered if unordered else canon
        if key(rc) != key(rr):
            raise AssertionError(
                "replies differ (RESP%d%s)\n  command: %s\n  cairn:   %r\n  redis:   %r" %
                (proto, ", unordered" if unordered else "", fmt_cmd(args), rc, rr))
        return rr

    def check(self, *args, unordered=False):
        return self._check(args, 2, unordered)

    def check3(self, *args, unordered=False):
        return self._check(args, 3, unordered)


@pytest.fixture(scope="module")
def diff_servers(request):
    try:
        redis_bin = harness.redis_bin()
        cairn_srv = harness.start_server()
        try:
            redis_srv = harness.start_server(binary=redis_bin)
        except Exception:
            cairn_srv.stop()
            raise
    except harness.ServerStartError as e:
        pytest.fail(str(e))
    pair = DiffPair(cairn_srv, redis_srv)
    yield pair
    pair.close()
    cairn_srv.stop()
    redis_srv.stop()


@pytest.fixture
def diff(diff_servers):
    pair = diff_servers
    if not pair.cairn_srv.alive():
        # A previous test crashed it: report that once, then start a new one.
        pair.cairn_srv = harness.start_server()
    pair.reset_connections()
    for which in ("cairn", "redis"):
        r = pair.send(which, "FLUSHALL")
        assert r == b"OK", "%s FLUSHALL failed: %r" % (which, r)
    pair.history = []
    yield pair
    report = pair.cairn_srv.sanitizer_report()
    if report:
        pytest.fail("sanitizer report in Cairn's log after:\n  %s\n%s" %
                    ("\n  ".join(fmt_cmd(a) for a in pair.history[-10:]), report))
    if not pair.cairn_srv.alive():
        code = pair.cairn_srv.proc.returncode
        pytest.fail("Cairn died during this test (exit %s) after:\n  %s\nlog:\n%s" %
                    (code, "\n  ".join(fmt_cmd(a) for a in pair.history[-10:]),
                     pair.cairn_srv.log_tail()))


@pytest.fixture(scope="session")
def cairn_harness():
    """The integration harness module (start_server, Server, free_port ...)."""
    return harness


@pytest.fixture
def cluster():
    """Replication tests' nodes and proxies (replhelp.Cluster); at teardown every node
    is stopped by PID and a node that died uninvited or a sanitizer report fails the
    test."""
    import replhelp  # this directory is on sys.path (pytest's rootdir-less prepend)
    c = replhelp.Cluster()
    yield c
    problems = c.close()
    if problems:
        pytest.fail("\n\n".join(problems))
