# Blocking list commands against a running Cairn: timeouts reply a null array,
# a push from another connection wakes the waiter with Redis's reply shape, and
# waiters are served in arrival order.
import time

import pytest
import redis

from blocking import call_in_thread, finish, wait_blocked


def test_blpop_timeout_on_empty_key(cairn):
    start = time.monotonic()
    assert cairn.execute_command("BLPOP", "empty", "0.1") is None
    assert time.monotonic() - start >= 0.09
    assert cairn.execute_command("BRPOP", "e1", "e2", "0.1") is None
    assert cairn.execute_command("BLMPOP", "0.1", "1", "empty", "LEFT") is None


def test_blmove_timeout_replies_null(cairn):
    assert cairn.execute_command("BLMOVE", "empty", "d", "LEFT", "RIGHT", "0.1") is None
    assert cairn.execute_command("BRPOPLPUSH", "empty", "d", "0.1") is None
    assert cairn.exists("d") == 0


def test_blpop_woken_by_push_from_other_client(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BLPOP", "q1", "q2", "0")
    wait_blocked(cairn, 1)
    assert cairn.rpush("q2", "hello", "world") == 2
    assert list(finish(t, out)) == [b"q2", b"hello"]
    assert cairn.lrange("q2", 0, -1) == [b"world"]


def test_brpop_takes_last_and_deletes_emptied_key(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BRPOP", "q", "5")
    wait_blocked(cairn, 1)
    cairn.lpush("q", "only")
    assert list(finish(t, out)) == [b"q", b"only"]
    assert cairn.exists("q") == 0


def test_waiters_served_in_arrival_order(cairn, cairn_factory):
    first, second = cairn_factory(), cairn_factory()
    t1, o1 = call_in_thread(first, "BLPOP", "fifo", "0")
    wait_blocked(cairn, 1)
    t2, o2 = call_in_thread(second, "BLPOP", "fifo", "0")
    wait_blocked(cairn, 2)
    cairn.rpush("fifo", "a", "b")
    assert list(finish(t1, o1)) == [b"fifo", b"a"]
    assert list(finish(t2, o2)) == [b"fifo", b"b"]


def test_blmove_woken_pushes_to_destination(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    wait_blocked(cairn, 1)
    cairn.rpush("src", "x", "y")
    assert finish(t, out) == b"y"
    assert cairn.lrange("dst", 0, -1) == [b"y"]
    assert cairn.lrange("src", 0, -1) == [b"x"]


def test_blmpop_woken_returns_key_and_elements(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "2")
    wait_blocked(cairn, 1)
    cairn.rpush("m2", "a", "b", "c")
    assert finish(t, out) == [b"m2", [b"c", b"b"]]
    assert cairn.lrange("m2", 0, -1) == [b"a"]


def test_blocked_client_keeps_waiting_when_key_is_taken(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BLPOP", "k", "0")
    wait_blocked(cairn, 1)
    # Pushed and popped inside one transaction: nothing is left for the waiter.
    pipe = cairn.pipeline(transaction=True)
    pipe.rpush("k", "gone")
    pipe.lpop("k")
    pipe.execute()
    time.sleep(0.05)
    assert t.is_alive()
    assert cairn.info("clients")["blocked_clients"] == 1
    cairn.rpush("k", "kept")
    assert list(finish(t, out)) == [b"k", b"kept"]


def test_blocking_in_multi_does_not_block(cairn):
    pipe = cairn.pipeline(transaction=True)
    pipe.execute_command("BLPOP", "nothing", "0")
    pipe.execute_command("BLMOVE", "nothing", "d", "LEFT", "LEFT", "0")
    assert pipe.execute() == [None, None]


def test_blpop_wrongtype_and_bad_timeout(cairn):
    cairn.set("s", "v")
    with pytest.raises(Exception, match="WRONGTYPE"):
        cairn.execute_command("BLPOP", "s", "0")
    with pytest.raises(Exception, match="timeout is negative"):
        cairn.execute_command("BLPOP", "x", "-1")
    with pytest.raises(Exception, match="timeout is not a float or out of range"):
        cairn.execute_command("BLPOP", "x", "abc")
