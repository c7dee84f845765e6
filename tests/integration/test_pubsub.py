# Pub/Sub against a running Cairn: subscribe confirmations, delivery to channel and
# pattern subscribers across clients, PUBSUB CHANNELS/NUMSUB/NUMPAT, the RESP2
# subscribed-mode restrictions, RESP3 push frames (raw socket after HELLO 3) and
# sharded channels.
import socket
import time

import pytest
import redis


class Raw:
    """A minimal RESP2/RESP3 connection that keeps push frames distinguishable."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return ("error", rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"_":
            return None
        if t in (b"*", b"~"):
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b">":
            return ("push", [self.read() for _ in range(int(rest))])
        if t == b"%":
            return dict((self.read(), self.read()) for _ in range(int(rest)))
        raise AssertionError("unexpected RESP type %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.read()


@pytest.fixture
def raw(cairn_server):
    conns = []

    def make():
        c = Raw(cairn_server.port)
        conns.append(c)
        return c

    yield make
    for c in conns:
        c.close()


def next_message(ps, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(timeout=0.2)
        if m is not None:
            return m
    raise AssertionError("no pub/sub message within %.1fs" % timeout)


def test_subscribe_confirmations_count_per_channel(raw):
    c = raw()
    c.send("SUBSCRIBE", "a", "b", "a")
    assert c.read() == [b"subscribe", b"a", 1]
    assert c.read() == [b"subscribe", b"b", 2]
    assert c.read() == [b"subscribe", b"a", 2]
    c.send("PSUBSCRIBE", "x*")
    assert c.read() == [b"psubscribe", b"x*", 3]
    c.send("UNSUBSCRIBE", "nope")
    assert c.read() == [b"unsubscribe", b"nope", 3]
    c.send("UNSUBSCRIBE")
    got = sorted([c.read(), c.read()])
    assert got == [[b"unsubscribe", b"a", 1], [b"unsubscribe", b"b", 2]] or \
        got == [[b"unsubscribe", b"a", 2], [b"unsubscribe", b"b", 1]]
    c.send("UNSUBSCRIBE")
    assert c.read() == [b"unsubscribe", None, 1]
    c.send("PUNSUBSCRIBE")
    assert c.read() == [b"punsubscribe", b"x*", 0]
    c.send("PUNSUBSCRIBE")
    assert c.read() == [b"punsubscribe", None, 0]
    # Out of subscribed mode: ordinary commands work again.
    assert c.call("GET", "k") is None


def test_publish_reaches_channel_and_pattern_subscribers(cairn, cairn_factory):
    sub = cairn_factory()
    ps = sub.pubsub()
    ps.subscribe("news")
    ps.psubscribe("n*")
    assert next_message(ps)["type"] == "subscribe"
    assert next_message(ps)["type"] == "psubscribe"

    assert cairn.publish("news", "hello") == 2
    m1, m2 = next_message(ps), next_message(ps)
    by_type = {m1["type"]: m1, m2["type"]: m2}
    assert by_type["message"]["channel"] == b"news"
    assert by_type["message"]["data"] == b"hello"
    assert by_type["pmessage"]["pattern"] == b"n*"
    assert by_type["pmessage"]["channel"] == b"news"
    assert by_type["pmessage"]["data"] == b"hello"

    assert cairn.publish("nothing-here", "x") == 1  # only the pattern n* matches
    assert next_message(ps)["type"] == "pmessage"
    assert cairn.publish("zzz", "x") == 0
    ps.close()


def test_publish_counts_every_subscriber(cairn, cairn_factory):
    subs = []
    for _ in range(3):
        ps = cairn_factory().pubsub()
        ps.subscribe("ch")
        assert next_message(ps)["type"] == "subscribe"
        subs.append(ps)
    assert cairn.publish("ch", b"\x00binary\r\n") == 3
    for ps in subs:
        m = next_message(ps)
        assert m["data"] == b"\x00binary\r\n"
        ps.close()


def test_pubsub_introspection(cairn, raw):
    a, b = raw(), raw()
    a.send("SUBSCRIBE", "c1", "c2")
    a.read(), a.read()
    b.send("SUBSCRIBE", "c1")
    b.read()
    b.send("PSUBSCRIBE", "p*", "q*")
    b.read(), b.read()
    a.send("PSUBSCRIBE", "p*")
    a.read()
    assert sorted(cairn.pubsub_channels()) == [b"c1", b"c2"]
    assert cairn.pubsub_channels("*2") == [b"c2"]
    assert cairn.execute_command("PUBSUB", "NUMSUB", "c1", "c2", "c3") == \
        [b"c1", 2, b"c2", 1, b"c3", 0]
    assert cairn.pubsub_numpat() == 2
    help_lines = cairn.execute_command("PUBSUB", "HELP")
    assert help_lines[0].startswith(b"PUBSUB <subcommand>")
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'NOSUCH'"):
        cairn.execute_command("PUBSUB", "NOSUCH")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'pubsub'"):
        cairn.execute_command("PUBSUB")
    # A disconnected subscriber no longer counts.
    a.close()
    deadline = time.monotonic() + 5
    while cairn.pubsub_channels() != [b"c1"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cairn.pubsub_channels() == [b"c1"]
    assert cairn.pubsub_numpat() == 2


def test_resp2_subscribed_mode_restricts_commands(raw):
    c = raw()
    c.send("SUBSCRIBE", "ch")
    c.read()
    err = c.call("GET", "k")
    assert err[0] == "error"
    assert err[1].startswith("ERR Can't execute 'get'")
    assert c.call("PING") == [b"pong", b""]
    c.send("UNSUBSCRIBE")
    c.read()
    assert c.call("PING") == "PONG"


def test_resp3_push_frames(raw, cairn):
    c = raw()
    hello = c.call("HELLO", "3")
    assert isinstance(hello, dict) and hello[b"proto"] == 3
    c.send("SUBSCRIBE", "ch")
    assert c.read() == ("push", [b"subscribe", b"ch", 1])
    c.send("PSUBSCRIBE", "c*")
    assert c.read() == ("push", [b"psubscribe", b"c*", 2])
    # RESP3 clients may run any command while subscribed.
    assert c.call("SET", "k", "v") == "OK"
    assert cairn.publish("ch", "m") == 2
    frames = [c.read(), c.read()]
    assert ("push", [b"message", b"ch", b"m"]) in frames
    assert ("push", [b"pmessage", b"c*", b"ch", b"m"]) in frames
    c.send("UNSUBSCRIBE", "ch")
    assert c.read() == ("push", [b"unsubscribe", b"ch", 1])
    c.send("PUNSUBSCRIBE")
    assert c.read() == ("push", [b"punsubscribe", b"c*", 0])
    c.send("PUNSUBSCRIBE")
    assert c.read() == ("push", [b"punsubscribe", None, 0])


def test_sharded_channels(raw, cairn):
    c = raw()
    c.send("SSUBSCRIBE", "s1", "s2")
    assert c.read() == [b"ssubscribe", b"s1", 1]
    assert c.read() == [b"ssubscribe", b"s2", 2]
    assert cairn.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "x") == [b"s1", 1, b"x", 0]
    assert sorted(cairn.execute_command("PUBSUB", "SHARDCHANNELS")) == [b"s1", b"s2"]
    # Shard channels are a namespace of their own.
    assert cairn.publish("s1", "m") == 0
    assert cairn.execute_command("SPUBLISH", "s1", "m") == 1
    assert c.read() == [b"smessage", b"s1", b"m"]
    c.send("SUNSUBSCRIBE", "s1")
    assert c.read() == [b"sunsubscribe", b"s1", 1]
    c.send("SUNSUBSCRIBE")
    assert c.read() == [b"sunsubscribe", b"s2", 0]
    c.send("SUNSUBSCRIBE")
    assert c.read() == [b"sunsubscribe", None, 0]
    assert cairn.execute_command("PUBSUB", "SHARDCHANNELS") == []


def test_disconnect_drops_shard_subscriptions(raw, cairn):
    c = raw()
    c.send("SSUBSCRIBE", "gone-ch")
    assert c.read() == [b"ssubscribe", b"gone-ch", 1]
    assert cairn.execute_command("PUBSUB", "SHARDNUMSUB", "gone-ch") == [b"gone-ch", 1]
    assert cairn.info("stats")["pubsubshard_channels"] == 1
    c.close()
    # The server notices the closed socket asynchronously: poll, bounded.
    deadline = time.monotonic() + 5.0
    while True:
        numsub = cairn.execute_command("PUBSUB", "SHARDNUMSUB", "gone-ch")
        shard_channels = cairn.info("stats")["pubsubshard_channels"]
        if (numsub == [b"gone-ch", 0] and shard_channels == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert numsub == [b"gone-ch", 0]
    assert shard_channels == 0
    assert cairn.execute_command("SPUBLISH", "gone-ch", "m") == 0

def test_subscribe_inside_multi(raw):
    c = raw()
    assert c.call("MULTI") == "OK"
    assert c.call("SUBSCRIBE", "ch") == "QUEUED"
    assert c.call("EXEC") == [[b"subscribe", b"ch", 1]]
