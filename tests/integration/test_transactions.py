# MULTI/EXEC/DISCARD/WATCH against a running Cairn through redis-py: queueing, replies
# of the queued commands (errors in place), EXECABORT after a rejected command, and
# WATCH failing EXEC when another client writes or a watched key expires.
import time

import pytest
import redis


class Conn:
    """One connection, replies as sent (no redis-py response callbacks, which would
    turn +QUEUED into False for SET), so MULTI state and raw replies are visible."""

    def __init__(self, client):
        self.client = client
        self.connection = client.connection

    def execute_command(self, *args):
        self.connection.send_command(*args)
        return self.connection.read_response()

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def conn(cairn_factory):
    return Conn(cairn_factory(single_connection_client=True))


def test_multi_exec_runs_queued_commands(conn):
    assert conn.execute_command("MULTI") == b"OK"
    assert conn.execute_command("SET", "a", "1") == b"QUEUED"
    assert conn.execute_command("INCR", "a") == b"QUEUED"
    assert conn.execute_command("GET", "a") == b"QUEUED"
    assert conn.execute_command("EXEC") == [b"OK", 2, b"2"]
    assert conn.get("a") == b"2"


def test_pipeline_transaction(cairn):
    with cairn.pipeline(transaction=True) as p:
        p.rpush("l", "x", "y").lrange("l", 0, -1).incrby("n", 5)
        assert p.execute() == [2, [b"x", b"y"], 5]


def test_nothing_runs_before_exec(conn, cairn_factory):
    other = cairn_factory()
    conn.execute_command("MULTI")
    conn.execute_command("SET", "k", "v")
    assert other.get("k") is None
    conn.execute_command("EXEC")
    assert other.get("k") == b"v"


def test_runtime_error_is_returned_in_place(conn):
    conn.set("k", "v")
    conn.execute_command("MULTI")
    conn.execute_command("LPUSH", "k", "x")
    conn.execute_command("SET", "k", "after")
    res = conn.execute_command("EXEC")
    assert isinstance(res[0], redis.ResponseError)
    assert str(res[0]).startswith("WRONGTYPE")
    assert res[1] == b"OK"
    assert conn.get("k") == b"after"


def test_queued_error_aborts_with_execabort(conn):
    conn.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'set'"):
        conn.execute_command("SET", "k")
    assert conn.execute_command("SET", "other", "1") == b"QUEUED"
    with pytest.raises(redis.exceptions.ExecAbortError, match="Transaction discarded because of previous errors"):
        conn.execute_command("EXEC")
    assert conn.exists("other") == 0
    # The transaction is over: a second EXEC has no MULTI.
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        conn.execute_command("EXEC")


def test_nested_multi_and_watch_inside_are_refused(conn):
    conn.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="MULTI calls can not be nested"):
        conn.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="WATCH inside MULTI is not allowed"):
        conn.execute_command("WATCH", "x")
    conn.execute_command("SET", "x", "1")
    # Neither error aborts the transaction.
    assert conn.execute_command("EXEC") == [b"OK"]


def test_discard(conn):
    conn.execute_command("MULTI")
    conn.execute_command("SET", "k", "v")
    assert conn.execute_command("DISCARD") == b"OK"
    assert conn.get("k") is None
    with pytest.raises(redis.ResponseError, match="DISCARD without MULTI"):
        conn.execute_command("DISCARD")


def test_watch_then_other_client_writes_fails_exec(conn, cairn_factory):
    other = cairn_factory()
    conn.set("k", "1")
    conn.execute_command("WATCH", "k")
    other.set("k", "2")
    conn.execute_command("MULTI")
    conn.execute_command("SET", "k", "3")
    assert conn.execute_command("EXEC") is None
    assert conn.get("k") == b"2"


def test_watch_with_pipeline_raises_watcherror(cairn, cairn_factory):
    other = cairn_factory()
    cairn.set("k", "1")
    with cairn.pipeline() as p:
        p.watch("k")
        other.incr("k")
        p.multi()
        p.incr("k")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert cairn.get("k") == b"2"


def test_watch_untouched_key_lets_exec_run(conn, cairn_factory):
    other = cairn_factory()
    conn.set("k", "1")
    conn.execute_command("WATCH", "k")
    other.set("unrelated", "x")
    other.get("k")
    conn.execute_command("MULTI")
    conn.execute_command("INCR", "k")
    assert conn.execute_command("EXEC") == [2]


def test_exec_and_unwatch_forget_watches(conn, cairn_factory):
    other = cairn_factory()
    conn.execute_command("WATCH", "k")
    conn.execute_command("UNWATCH")
    other.set("k", "x")
    conn.execute_command("MULTI")
    conn.execute_command("GET", "k")
    assert conn.execute_command("EXEC") == [b"x"]
    # EXEC unwatched too: a later write does not affect the next transaction.
    conn.execute_command("WATCH", "k")
    conn.execute_command("MULTI")
    conn.execute_command("EXEC")
    other.set("k", "y")
    conn.execute_command("MULTI")
    conn.execute_command("GET", "k")
    assert conn.execute_command("EXEC") == [b"y"]


def test_watch_key_that_expires_fails_exec(conn):
    conn.set("k", "v", px=50)
    conn.execute_command("WATCH", "k")
    time.sleep(0.15)
    conn.execute_command("MULTI")
    conn.execute_command("PING")
    assert conn.execute_command("EXEC") is None


def test_watch_missing_key_created_by_other_fails_exec(conn, cairn_factory):
    other = cairn_factory()
    conn.execute_command("WATCH", "k")
    other.set("k", "new")
    conn.execute_command("MULTI")
    conn.execute_command("PING")
    assert conn.execute_command("EXEC") is None


def test_blocking_command_inside_exec_does_not_block(conn):
    conn.execute_command("MULTI")
    conn.execute_command("BLPOP", "empty", "0")
    assert conn.execute_command("EXEC") == [None]


def test_exec_resp3_null_on_watch_failure(cairn_server):
    import socket
    s = socket.create_connection(("127.0.0.1", cairn_server.port), timeout=10)
    try:
        other = cairn_server.client()

        def cmd(*args):
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a.encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)

        buf = b""

        def read_until(term):
            nonlocal buf
            while term not in buf:
                chunk = s.recv(65536)
                assert chunk, "connection closed"
                buf += chunk
            i = buf.index(term) + len(term)
            got, buf = buf[:i], buf[i:]
            return got

        cmd("HELLO", "3")
        read_until(b"modules\r\n*0\r\n")
        cmd("WATCH", "k")
        assert read_until(b"\r\n") == b"+OK\r\n"
        other.set("k", "1")
        cmd("MULTI")
        assert read_until(b"\r\n") == b"+OK\r\n"
        cmd("EXEC")
        assert read_until(b"\r\n") == b"_\r\n"
        other.close()
    finally:
        s.close()
