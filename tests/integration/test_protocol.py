# Wire-protocol tests: pipelining, inline commands, frames split at every byte,
# protocol errors (exact bytes and the connection closed, checked side by side with
# stock redis-server), RESP3 via HELLO 3 and the client query buffer limit.
import socket
import time

import pytest

READ_TIMEOUT = 10.0


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """Reads whole RESP replies from a socket and returns their raw bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.closed = False

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
            raise EOFError("connection closed")
        self.buf += chunk

    def _line_end(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            self._fill()

    def _skip(self, pos):
        """Returns the end position of the reply starting at pos."""
        end = self._line_end(pos)
        t, arg = self.buf[pos:pos + 1], self.buf[pos + 1:end]
        pos = end + 2
        if t in b"$=!":
            n = int(arg)
            if n < 0:
                return pos
            while len(self.buf) < pos + n + 2:
                self._fill()
            return pos + n + 2
        if t in b"*~>%|":
            n = int(arg)
            n = n * 2 if t in b"%|" else n
            for _ in range(max(n, 0)):
                pos = self._skip(pos)
            return pos
        return pos

    def reply(self):
        end = self._skip(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def until_close(self):
        """All bytes until the server closes the connection (or timeout)."""
        try:
            while True:
                self._fill()
        except (EOFError, ConnectionResetError):
            pass
        except socket.timeout:
            return self.buf, False
        return self.buf, True


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


@pytest.fixture
def pair(cairn_server, start_redis):
    """(cairn port, redis port) for side-by-side byte comparisons."""
    return cairn_server.port, start_redis().port


def exchange(port, chunks, n_replies):
    s = connect(port)
    try:
        r = Reader(s)
        for c in chunks:
            s.sendall(c)
        return r.replies(n_replies)
    finally:
        s.close()


def both(pair, chunks, n_replies):
    got = [exchange(p, chunks, n_replies) for p in pair]
    assert got[0] == got[1], "cairn: %r\nredis: %r" % (got[0][:10], got[1][:10])
    return got[0]


def test_pipeline_1000_in_one_write(cairn_server):
    payload = b"".join(cmd("SET", "k%d" % i, "v%d" % i) for i in range(500))
    payload += b"".join(cmd("GET", "k%d" % i) for i in range(500))
    replies = exchange(cairn_server.port, [payload], 1000)
    assert replies[:500] == [b"+OK\r\n"] * 500
    assert replies[500:] == [b"$%d\r\nv%d\r\n" % (len(str(i)) + 1, i) for i in range(500)]


def test_pipeline_mixed_with_errors(pair):
    payload = cmd("SET", "a", "1") + cmd("NOSUCHCMD") + cmd("INCR", "a") + cmd("GET") + cmd("GET", "a")
    both(pair, [payload], 5)


INLINE = [
    (b"PING\r\n", 1),
    (b"PING\n", 1),
    (b"ping hello\r\n", 1),
    (b'SET k "hello world"\r\nGET k\r\n', 2),
    (b"SET k 'it\\'s'\r\nGET k\r\n", 2),
    (b'SET k "a\\x41\\n\\t\\"q\\""\r\nGET k\r\n', 2),
    (b"   SET    k    spaced   \r\nGET k\r\n", 2),
    (b"\r\n\r\nPING\r\n", 1),  # blank lines are ignored
    (b"SET k v\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 2),  # inline then multibulk
    (b"ECHO\r\n", 1),
    (b"NOSUCH a b\r\n", 1),
]


@pytest.mark.parametrize("data,n", INLINE, ids=[repr(d[:20]) for d, _ in INLINE])
def test_inline_commands(pair, data, n):
    both(pair, [data], n)


def test_split_at_every_byte(cairn_server):
    payload = (cmd("SET", "key", "hello\r\nworld") + cmd("GET", "key") + b"PING\r\n" +
               cmd("INCRBY", "n", "12345") + b'ECHO "x y"\r\n')
    s = connect(cairn_server.port)
    try:
        r = Reader(s)
        for i in range(len(payload)):
            s.sendall(payload[i:i + 1])
        got = r.replies(5)
    finally:
        s.close()
    assert got == [b"+OK\r\n", b"$12\r\nhello\r\nworld\r\n", b"+PONG\r\n", b":12345\r\n",
                   b"$3\r\nx y\r\n"]


def test_split_at_each_position_once(cairn_server):
    payload = cmd("SET", "k", "v" * 40) + cmd("GET", "k")
    for cut in range(1, len(payload)):
        got = exchange(cairn_server.port, [payload[:cut], payload[cut:]], 2)
        assert got == [b"+OK\r\n", b"$40\r\n" + b"v" * 40 + b"\r\n"], "cut at %d" % cut


GARBAGE = {
    "mbulk_len_alpha": b"*abc\r\n",
    "mbulk_len_overflow": b"*3000000000\r\n",
    "mbulk_len_plus": b"*+1\r\n",
    "expected_dollar": b"*1\r\nfoo\r\n",
    "expected_dollar_colon": b"*2\r\n$4\r\nECHO\r\n:1\r\n",
    "bulk_len_alpha": b"*1\r\n$abc\r\n",
    "bulk_len_negative": b"*1\r\n$-5\r\n",
    "bulk_len_huge": b"*1\r\n$999999999999\r\n",
    "bulk_len_over_512mb": b"*1\r\n$536870913\r\n",
    "unbalanced_double_quote": b'SET k "abc\r\n',
    "unbalanced_single_quote": b"SET k 'abc\r\n",
    "quote_then_char": b'SET k "abc"x\r\n',
    "after_good_command": b"PING\r\n*1\r\n$x\r\n",
    "too_big_inline": b"a" * 70000,
    "too_big_mbulk_count": b"*" + b"1" * 70000,
    "too_big_bulk_count": b"*1\r\n$" + b"1" * 70000,
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_protocol_garbage(pair, name):
    outs = []
    for port in pair:
        s = connect(port)
        try:
            s.sendall(GARBAGE[name])
            data, closed = Reader(s).until_close()
        finally:
            s.close()
        outs.append((data, closed))
    assert outs[0] == outs[1], "cairn: %r\nredis: %r" % (outs[0], outs[1])
    assert outs[0][1], "connection not closed"
    assert b"-ERR Protocol error" in outs[0][0]


@pytest.mark.parametrize("data", [b"*-1\r\nPING\r\n", b"*0\r\nPING\r\n", b"*-10\r\nPING\r\n"])
def test_empty_multibulk_ignored(pair, data):
    assert both(pair, [data], 1) == [b"+PONG\r\n"]


def test_server_survives_garbage(cairn_server, cairn):
    for data in GARBAGE.values():
        s = connect(cairn_server.port)
        s.sendall(data)
        Reader(s).until_close()
        s.close()
    assert cairn.ping()
    assert cairn_server.alive()


def test_hello3_map(pair):
    outs = []
    for port in pair:
        got = exchange(port, [cmd("HELLO", "3")], 1)[0]
        assert got.startswith(b"%7\r\n"), got
        for key in (b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"):
            assert b"$%d\r\n%s\r\n" % (len(key), key) in got
        assert b"$5\r\nproto\r\n:3\r\n" in got
        outs.append(got)
    # After HELLO 3, typed replies are RESP3.
    seq = [cmd("HELLO", "3"), cmd("HSET", "h", "f", "v"), cmd("HGETALL", "h"), cmd("GET", "nope"),
           cmd("HELLO", "2"), cmd("HGETALL", "h"), cmd("GET", "nope")]
    for port in pair:
        got = exchange(port, seq, 7)[1:]
        assert got[0] == b":1\r\n"
        assert got[1] == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
        assert got[2] == b"_\r\n"
        assert got[4] == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        assert got[5] == b"$-1\r\n"


def test_hello_errors(pair):
    both(pair, [cmd("HELLO", "4"), cmd("HELLO", "x"), cmd("HELLO", "3", "FOO")], 3)


def test_query_buffer_limit(cairn_server, start_cairn, start_redis):
    """A client whose unparsed input exceeds client-query-buffer-limit is closed."""
    servers = [start_cairn("--client-query-buffer-limit", "1mb"),
               start_redis("--client-query-buffer-limit", "1mb")]
    for srv in servers:
        s = connect(srv.port)
        try:
            s.sendall(b"*2\r\n$4\r\nECHO\r\n$3000000\r\n")
            closed = False
            try:
                for _ in range(300):
                    s.sendall(b"x" * 10000)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            if not closed:
                _, closed = Reader(s).until_close()
        finally:
            s.close()
        assert closed, "port %d kept a client over the query buffer limit" % srv.port
        c = srv.client()
        assert c.ping()
        c.close()


def test_large_bulk_roundtrip(cairn):
    big = b"\x00\xff" * (3 * 1024 * 1024)
    assert cairn.set("big", big)
    assert cairn.get("big") == big
    assert cairn.strlen("big") == len(big)


def test_many_clients(cairn_server, cairn_factory):
    clients = [cairn_factory() for _ in range(50)]
    for i, c in enumerate(clients):
        c.set("c%d" % i, i)
    for i, c in enumerate(clients):
        assert c.get("c%d" % (49 - i)) == str(49 - i).encode()


def test_slow_client_does_not_block_others(cairn_server, cairn):
    s = connect(cairn_server.port)
    try:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc")  # incomplete
        t0 = time.monotonic()
        assert cairn.ping()
        assert time.monotonic() - t0 < 5
        s.sendall(b"defghij\r\n")
        assert Reader(s).reply() == b"+OK\r\n"
        assert cairn.get("k") == b"abcdefghij"
    finally:
        s.close()
