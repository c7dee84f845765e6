# Blocking sorted-set pops against a running Cairn: timeouts reply a null
# array, a ZADD (or a ZUNIONSTORE) from another connection wakes the waiter with
# Redis's reply shape, waiters keep arrival order, and emptied keys are deleted.
import time

import pytest
import redis

from blocking import call_in_thread, finish, wait_blocked


# redis-py turns BZPOPMIN/BZPOPMAX scores into floats; BZMPOP stays raw.
def test_bzpopmin_timeout_replies_null(cairn):
    start = time.monotonic()
    assert cairn.execute_command("BZPOPMIN", "empty", "0.1") is None
    assert time.monotonic() - start >= 0.09
    assert cairn.execute_command("BZPOPMAX", "e1", "e2", "0.1") is None
    assert cairn.execute_command("BZMPOP", "0.1", "1", "empty", "MIN") is None


def test_bzpopmin_woken_by_zadd_from_other_client(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BZPOPMIN", "z1", "z2", "0")
    wait_blocked(cairn, 1)
    assert cairn.zadd("z2", {"b": 2, "a": 1}) == 2
    assert list(finish(t, out)) == [b"z2", b"a", 1.0]
    assert cairn.zrange("z2", 0, -1, withscores=True) == [(b"b", 2.0)]


def test_bzpopmax_deletes_emptied_key(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BZPOPMAX", "z", "5")
    wait_blocked(cairn, 1)
    cairn.zadd("z", {"only": 1.5})
    assert list(finish(t, out)) == [b"z", b"only", 1.5]
    assert cairn.exists("z") == 0


def test_bzmpop_woken_with_count(cairn, cairn_factory):
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BZMPOP", "0", "2", "x", "y", "MAX", "COUNT", "2")
    wait_blocked(cairn, 1)
    cairn.zadd("y", {"a": 1, "b": 2, "c": 3})
    assert finish(t, out) == [b"y", [[b"c", b"3"], [b"b", b"2"]]]
    assert cairn.zcard("y") == 1


def test_store_command_wakes_waiter(cairn, cairn_factory):
    cairn.zadd("src", {"m": 7})
    waiter = cairn_factory()
    t, out = call_in_thread(waiter, "BZPOPMIN", "dst", "0")
    wait_blocked(cairn, 1)
    assert cairn.zunionstore("dst", ["src"]) == 1
    assert list(finish(t, out)) == [b"dst", b"m", 7.0]


def test_waiters_served_in_arrival_order(cairn, cairn_factory):
    first, second = cairn_factory(), cairn_factory()
    t1, o1 = call_in_thread(first, "BZPOPMIN", "fifo", "0")
    wait_blocked(cairn, 1)
    t2, o2 = call_in_thread(second, "BZPOPMIN", "fifo", "0")
    wait_blocked(cairn, 2)
    cairn.zadd("fifo", {"a": 1, "b": 2})
    assert list(finish(t1, o1)) == [b"fifo", b"a", 1.0]
    assert list(finish(t2, o2)) == [b"fifo", b"b", 2.0]


def test_wrongtype_key_errors_instead_of_blocking(cairn):
    cairn.set("s", "v")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        cairn.execute_command("BZPOPMIN", "s", "0")
