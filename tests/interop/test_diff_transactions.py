# Differential tests of MULTI/EXEC/DISCARD/WATCH/UNWATCH: each case is a command script
# run against Cairn and stock redis-server on one connection; every reply (QUEUED,
# EXEC's array with errors in place, EXECABORT, null on WATCH failure) must be identical.
import time

import pytest

CASES = {
    "basic": [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["GET", "a"], ["EXEC"],
              ["GET", "a"]],
    "empty": [["MULTI"], ["EXEC"]],
    "nested_multi": [["MULTI"], ["MULTI"], ["SET", "a", "b"], ["EXEC"], ["GET", "a"]],
    "exec_without_multi": [["EXEC"], ["DISCARD"]],
    "discard": [["MULTI"], ["SET", "a", "1"], ["DISCARD"], ["GET", "a"], ["EXEC"]],
    "error_in_place": [["SET", "k", "v"], ["MULTI"], ["INCR", "k"], ["LPUSH", "k", "x"],
                       ["SET", "k", "5"], ["INCR", "k"], ["EXEC"], ["GET", "k"]],
    "arity_error_aborts": [["MULTI"], ["SET", "a"], ["SET", "b", "1"], ["EXEC"],
                           ["EXISTS", "b"]],
    "unknown_command_aborts": [["MULTI"], ["NOSUCHCMD", "x"], ["SET", "b", "1"], ["EXEC"],
                               ["EXISTS", "b"]],
    "abort_leaves_multi": [["MULTI"], ["SET", "a"], ["EXEC"], ["EXEC"], ["SET", "a", "1"]],
    "watch_in_multi": [["MULTI"], ["WATCH", "x"], ["SET", "x", "1"], ["EXEC"], ["GET", "x"]],
    "watch_arity": [["WATCH"], ["UNWATCH", "x"], ["MULTI", "x"], ["EXEC", "x"],
                    ["DISCARD", "x"]],
    "watch_own_write": [["WATCH", "k"], ["SET", "k", "1"], ["MULTI"], ["SET", "k", "2"],
                        ["EXEC"], ["GET", "k"]],
    "watch_untouched": [["SET", "k", "1"], ["WATCH", "k", "k", "other"], ["GET", "k"],
                        ["MULTI"], ["INCR", "k"], ["EXEC"]],
    "unwatch": [["WATCH", "k"], ["SET", "k", "1"], ["UNWATCH"], ["MULTI"], ["INCR", "k"],
                ["EXEC"]],
    "unwatch_queued": [["MULTI"], ["UNWATCH"], ["PING"], ["EXEC"]],
    "watch_after_exec_is_gone": [["WATCH", "k"], ["MULTI"], ["EXEC"], ["SET", "k", "1"],
                                 ["MULTI"], ["GET", "k"], ["EXEC"]],
    "watch_delete_missing": [["WATCH", "k"], ["DEL", "k"], ["MULTI"], ["PING"], ["EXEC"]],
    "watch_delete_existing": [["SET", "k", "v"], ["WATCH", "k"], ["DEL", "k"], ["MULTI"],
                              ["PING"], ["EXEC"]],
    "watch_flushdb": [["SET", "k", "v"], ["WATCH", "k"], ["FLUSHDB"], ["MULTI"], ["PING"],
                      ["EXEC"]],
    "watch_flushdb_missing": [["WATCH", "k"], ["FLUSHDB"], ["MULTI"], ["PING"], ["EXEC"]],
    "watch_other_db": [["WATCH", "k"], ["SELECT", "1"], ["SET", "k", "v"], ["SELECT", "0"],
                       ["MULTI"], ["PING"], ["EXEC"]],
    "select_inside": [["MULTI"], ["SELECT", "1"], ["SET", "a", "x"], ["EXEC"], ["GET", "a"],
                      ["SELECT", "0"], ["GET", "a"]],
    "blocking_inside": [["MULTI"], ["BLPOP", "nolist", "0"], ["BRPOP", "nolist", "1"],
                        ["EXEC"]],
    "types_inside": [["MULTI"], ["RPUSH", "l", "a", "b"], ["LRANGE", "l", "0", "-1"],
                     ["HSET", "h", "f", "v"], ["HGETALL", "h"], ["SADD", "s", "m"],
                     ["SCARD", "s"], ["GET", "missing"], ["EXEC"]],
    "pubsub_inside": [["MULTI"], ["PUBLISH", "ch", "m"], ["PUBSUB", "NUMSUB", "ch"],
                      ["EXEC"]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_script(diff, name):
    for cmd in CASES[name]:
        diff.check(*cmd)


def test_resp3_exec_and_null(diff):
    diff.check3("MULTI")
    diff.check3("HSET", "h", "f", "v")
    diff.check3("HGETALL", "h")
    diff.check3("GET", "nope")
    diff.check3("EXEC")
    diff.check3("WATCH", "h")
    diff.check3("HSET", "h", "f", "w")
    diff.check3("MULTI")
    diff.check3("EXEC")


def test_watch_changed_by_other_client(diff):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k")
    diff.cairn.set("k", "2")
    diff.redis.set("k", "2")
    diff.check("MULTI")
    diff.check("SET", "k", "3")
    assert diff.check("EXEC") is None
    diff.check("GET", "k")


def test_watch_read_by_other_client_keeps_exec(diff):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k")
    diff.cairn.get("k")
    diff.redis.get("k")
    diff.check("MULTI")
    diff.check("INCR", "k")
    assert diff.check("EXEC") == [2]


def test_watch_key_expires_before_exec(diff):
    diff.check("SET", "k", "1", "PX", "50")
    diff.check("WATCH", "k")
    time.sleep(0.15)
    diff.check("MULTI")
    diff.check("PING")
    assert diff.check("EXEC") is None


def test_watch_already_expired_key(diff):
    # Active expiry off on both, so the key is still stored (stale) when WATCHed.
    for which in ("cairn", "redis"):
        diff.send(which, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        diff.check("SET", "k", "1", "PX", "1")
        time.sleep(0.05)
        diff.check("WATCH", "k")
        diff.check("MULTI")
        diff.check("PING")
        diff.check("EXEC")
    finally:
        for which in ("cairn", "redis"):
            diff.send(which, "DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_discard_unwatches(diff):
    diff.check("WATCH", "k")
    diff.check("MULTI")
    diff.check("DISCARD")
    diff.cairn.set("k", "x")
    diff.redis.set("k", "x")
    diff.check("MULTI")
    diff.check("GET", "k")
    diff.check("EXEC")
