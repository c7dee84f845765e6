# Differential tests of the generic key commands (DEL ... OBJECT, the expire
# family, KEYS/SCAN, COPY/MOVE/SWAPDB, FLUSH*): each case is a command script run
# against Cairn and stock redis-server 7.0; every reply must be identical, except
# relative TTLs, which may differ by the time that passed between the two sends.
import time

import pytest

FUTURE_S = int(time.time()) + 100000
FUTURE_MS = FUTURE_S * 1000
I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"

CASES = {
    # DEL / UNLINK / EXISTS / TOUCH / TYPE
    "del": [["SET", "a", "1"], ["SET", "b", "2"], ["DEL", "a", "b", "c", "a"], ["EXISTS", "a", "b"],
            ["DEL", "a"], ["DEL"]],
    "del_types": [["RPUSH", "l", "x"], ["SADD", "s", "x"], ["HSET", "h", "f", "v"],
                  ["ZADD", "z", "1", "m"], ["DEL", "l", "s", "h", "z"], ["DBSIZE"]],
    "unlink": [["SET", "a", "1"], ["SET", "b", "x" * 100], ["UNLINK", "a", "b", "zz"],
               ["EXISTS", "a", "b"], ["UNLINK"]],
    "exists_repeats": [["SET", "a", "1"], ["EXISTS", "a", "a", "a", "b"], ["EXISTS", "b"],
                       ["EXISTS"]],
    "touch": [["SET", "a", "1"], ["TOUCH", "a", "b", "a"], ["TOUCH"]],
    "type": [["SET", "s", "v"], ["RPUSH", "l", "x"], ["SADD", "st", "x"], ["HSET", "h", "f", "v"],
             ["ZADD", "z", "1", "m"], ["TYPE", "s"], ["TYPE", "l"], ["TYPE", "st"], ["TYPE", "h"],
             ["TYPE", "z"], ["TYPE", "none"], ["TYPE"], ["TYPE", "a", "b"]],
    # EXPIRE family: options and errors
    "expire_missing": [["EXPIRE", "k", "100"], ["PEXPIRE", "k", "100"],
                       ["EXPIREAT", "k", str(FUTURE_S)], ["PEXPIREAT", "k", str(FUTURE_MS)],
                       ["EXISTS", "k"]],
    "expire_nx": [["SET", "k", "v"], ["EXPIREAT", "k", str(FUTURE_S), "NX"],
                  ["EXPIREAT", "k", str(FUTURE_S + 10), "NX"], ["EXPIRETIME", "k"]],
    "expire_xx": [["SET", "k", "v"], ["EXPIREAT", "k", str(FUTURE_S), "XX"], ["TTL", "k"],
                  ["EXPIREAT", "k", str(FUTURE_S)], ["EXPIREAT", "k", str(FUTURE_S + 5), "xx"],
                  ["EXPIRETIME", "k"]],
    "expire_gt": [["SET", "k", "v"], ["EXPIREAT", "k", str(FUTURE_S), "GT"], ["TTL", "k"],
                  ["EXPIREAT", "k", str(FUTURE_S)], ["EXPIREAT", "k", str(FUTURE_S), "GT"],
                  ["EXPIREAT", "k", str(FUTURE_S - 1), "GT"],
                  ["EXPIREAT", "k", str(FUTURE_S + 1), "GT"], ["EXPIRETIME", "k"]],
    "expire_lt": [["SET", "k", "v"], ["EXPIREAT", "k", str(FUTURE_S), "LT"], ["EXPIRETIME", "k"],
                  ["PERSIST", "k"], ["EXPIREAT", "k", str(FUTURE_S), "LT"],
                  ["EXPIREAT", "k", str(FUTURE_S), "LT"],
                  ["EXPIREAT", "k", str(FUTURE_S + 1), "LT"],
                  ["EXPIREAT", "k", str(FUTURE_S - 1), "lt"], ["EXPIRETIME", "k"]],
    "expire_gt_xx": [["SET", "k", "v"], ["EXPIREAT", "k", str(FUTURE_S), "GT", "XX"],
                     ["EXPIREAT", "k", str(FUTURE_S)],
                     ["EXPIREAT", "k", str(FUTURE_S + 1), "XX", "GT"], ["EXPIRETIME", "k"]],
    "expire_flag_errors": [["SET", "k", "v"], ["EXPIRE", "k", "10", "NX", "XX"],
                           ["EXPIRE", "k", "10", "NX", "GT"], ["EXPIRE", "k", "10", "LT", "NX"],
                           ["EXPIRE", "k", "10", "GT", "LT"], ["EXPIRE", "k", "10", "FOO"],
                           ["PEXPIRE", "k", "10", "nx", "bar"], ["EXPIRE", "k", "abc", "FOO"],
                           ["EXPIRE", "k", "10", "NX", "NX"], ["TTL", "k"]],
    "expire_not_integer": [["SET", "k", "v"], ["EXPIRE", "k", "abc"], ["EXPIRE", "k", "1.5"],
                           ["PEXPIRE", "k", ""], ["EXPIREAT", "k", " 1"],
                           ["PEXPIREAT", "k", "99999999999999999999"], ["TTL", "k"]],
    "expire_overflow": [["SET", "k", "v"], ["EXPIRE", "k", I64_MAX],
                        ["EXPIRE", "k", "9223372036854776"], ["EXPIRE", "k", I64_MIN],
                        ["PEXPIRE", "k", I64_MAX], ["EXPIREAT", "k", I64_MAX],
                        ["EXPIREAT", "k", "-9223372036854776"], ["TTL", "k"],
                        ["EXPIRE", "missing", I64_MAX]],
    "pexpireat_max": [["SET", "k", "v"], ["PEXPIREAT", "k", I64_MAX], ["PEXPIRETIME", "k"],
                      ["EXPIRETIME", "k"]],
    "expire_past_deletes": [["SET", "a", "v"], ["SET", "b", "v"], ["SET", "c", "v"],
                            ["SET", "d", "v"], ["EXPIRE", "a", "-1"], ["PEXPIRE", "b", "0"],
                            ["EXPIREAT", "c", "1"], ["PEXPIREAT", "d", "-5"],
                            ["EXISTS", "a", "b", "c", "d"], ["DBSIZE"], ["TTL", "a"]],
    "expire_past_with_flags": [["SET", "a", "v"], ["EXPIRE", "a", "-1", "XX"], ["EXISTS", "a"],
                               ["EXPIRE", "a", "-1", "NX"], ["EXISTS", "a"]],
    "expire_arity": [["EXPIRE", "k"], ["PEXPIRE"], ["EXPIREAT", "k"], ["PEXPIREAT", "k"]],
    "expiretime_rounding": [["SET", "k", "v"], ["PEXPIREAT", "k", str(FUTURE_MS + 499)],
                            ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"],
                            ["PEXPIREAT", "k", str(FUTURE_MS + 500)], ["EXPIRETIME", "k"],
                            ["PEXPIREAT", "k", str(FUTURE_MS + 1999)], ["EXPIRETIME", "k"]],
    "ttl_missing_and_persistent": [["TTL", "k"], ["PTTL", "k"], ["EXPIRETIME", "k"],
                                   ["PEXPIRETIME", "k"], ["SET", "k", "v"], ["TTL", "k"],
                                   ["PTTL", "k"], ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"],
                                   ["TTL"], ["PTTL", "a", "b"]],
    "ttl_other_types": [["RPUSH", "l", "a"], ["EXPIREAT", "l", str(FUTURE_S)],
                        ["EXPIRETIME", "l"], ["HSET", "h", "f", "v"],
                        ["PEXPIREAT", "h", str(FUTURE_MS)], ["PEXPIRETIME", "h"]],
    "persist": [["PERSIST", "k"], ["SET", "k", "v"], ["PERSIST", "k"],
                ["EXPIREAT", "k", str(FUTURE_S)], ["PERSIST", "k"], ["TTL", "k"],
                ["PERSIST", "k"], ["PERSIST"]],
    # RENAME / RENAMENX
    "rename": [["SET", "a", "1"], ["RENAME", "a", "b"], ["EXISTS", "a"], ["GET", "b"],
               ["RENAME", "a", "b"], ["RENAME", "b", "b"], ["RENAME", "x", "x"], ["GET", "b"]],
    "rename_overwrites": [["SET", "a", "1"], ["RPUSH", "b", "x"],
                          ["EXPIREAT", "b", str(FUTURE_S)], ["RENAME", "a", "b"], ["TYPE", "b"],
                          ["TTL", "b"], ["GET", "b"], ["DBSIZE"]],
    "rename_keeps_ttl": [["SET", "a", "x" * 60], ["PEXPIREAT", "a", str(FUTURE_MS + 7)],
                         ["RENAME", "a", "b"], ["PEXPIRETIME", "b"], ["OBJECT", "ENCODING", "b"],
                         ["GET", "b"]],
    "rename_types": [["SADD", "s", "1", "2"], ["RENAME", "s", "t"], ["SMEMBERS", "t"],
                     ["ZADD", "z", "1", "a"], ["RENAME", "z", "y"], ["ZRANGE", "y", "0", "-1"]],
    "renamenx": [["RENAMENX", "a", "b"], ["SET", "a", "1"], ["SET", "b", "2"],
                 ["RENAMENX", "a", "b"], ["GET", "b"], ["RENAMENX", "a", "a"],
                 ["RENAMENX", "a", "c"], ["GET", "c"], ["EXISTS", "a"]],
    "rename_arity": [["RENAME", "a"], ["RENAMENX", "a", "b", "c"]],
    # KEYS
    "keys_patterns": [["MSET", "one", "1", "two", "2", "three", "3", "four", "4", "h?llo", "x",
                       "hello", "y", "a*b", "z", "[x]", "w"],
                      ["KEYS", "*"], ["KEYS", "t*"], ["KEYS", "*o"], ["KEYS", "?????"],
                      ["KEYS", "h[ae]llo"], ["KEYS", "h\\?llo"], ["KEYS", "a\\*b"],
                      ["KEYS", "[^t]*"], ["KEYS", "\\[x\\]"], ["KEYS", "nomatch*"], ["KEYS"]],
    # RANDOMKEY / DBSIZE
    "randomkey": [["RANDOMKEY"], ["SET", "only", "1"], ["RANDOMKEY"], ["RANDOMKEY", "x"]],
    "dbsize": [["DBSIZE"], ["MSET", "a", "1", "b", "2"], ["DBSIZE"], ["DBSIZE", "x"]],
    # FLUSHDB / FLUSHALL
    "flushdb": [["MSET", "a", "1", "b", "2"], ["FLUSHDB"], ["DBSIZE"], ["SET", "a", "1"],
                ["FLUSHDB", "ASYNC"], ["DBSIZE"], ["FLUSHDB", "sync"], ["FLUSHDB", "FOO"],
                ["FLUSHDB", "ASYNC", "SYNC"]],
    "flushall": [["SET", "a", "1"], ["SELECT", "1"], ["SET", "b", "1"], ["FLUSHDB"],
                 ["SET", "b", "1"], ["SELECT", "0"], ["FLUSHDB"], ["SELECT", "1"], ["DBSIZE"],
                 ["FLUSHALL"], ["DBSIZE"], ["SELECT", "0"], ["DBSIZE"], ["FLUSHALL", "ASYNC"],
                 ["FLUSHALL", "SYNC"], ["FLUSHALL", "LAZY"]],
    # COPY
    "copy": [["SET", "a", "v"], ["COPY", "a", "b"], ["GET", "b"], ["COPY", "a", "b"],
             ["SET", "a", "w"], ["COPY", "a", "b", "REPLACE"], ["GET", "b"],
             ["COPY", "missing", "c"], ["COPY", "a", "a"], ["COPY", "a", "a", "DB", "0"],
             ["EXISTS", "c"]],
    "copy_ttl_and_types": [["RPUSH", "l", "1", "2"], ["PEXPIREAT", "l", str(FUTURE_MS + 3)],
                           ["COPY", "l", "l2"], ["LRANGE", "l2", "0", "-1"],
                           ["PEXPIRETIME", "l2"], ["HSET", "h", "f", "v"], ["COPY", "h", "h2"],
                           ["HGETALL", "h2"], ["HSET", "h2", "g", "w"], ["HLEN", "h"],
                           ["SADD", "s", "1"], ["COPY", "s", "s2"], ["SMEMBERS", "s2"],
                           ["ZADD", "z", "1", "a"], ["COPY", "z", "z2"],
                           ["ZRANGE", "z2", "0", "-1", "WITHSCORES"]],
    "copy_db": [["SET", "a", "v"], ["COPY", "a", "a", "DB", "1"], ["COPY", "a", "a", "db", "1"],
                ["COPY", "a", "a", "DB", "1", "REPLACE"], ["SELECT", "1"], ["GET", "a"],
                ["SELECT", "0"], ["COPY", "a", "b", "DB", "16"], ["COPY", "a", "b", "DB", "-1"],
                ["COPY", "a", "b", "DB", "abc"], ["COPY", "a", "b", "DB", "99999999999"],
                ["COPY", "a", "b", "DB"], ["COPY", "a", "b", "FOO"],
                ["COPY", "a", "b", "REPLACE", "DB"], ["COPY", "a"]],
    "copy_encodings": [["SET", "i", "12345"], ["SET", "e", "hello"], ["SET", "r", "x" * 50],
                       ["APPEND", "ra", "ab"], ["INCRBYFLOAT", "f", "3"], ["APPEND", "ri", "7"],
                       ["COPY", "i", "i2"], ["COPY", "e", "e2"], ["COPY", "r", "r2"],
                       ["COPY", "ra", "ra2"], ["COPY", "f", "f2"], ["COPY", "ri", "ri2"],
                       ["OBJECT", "ENCODING", "f2"], ["OBJECT", "ENCODING", "ri2"],
                       ["OBJECT", "ENCODING", "i2"], ["OBJECT", "ENCODING", "e2"],
                       ["OBJECT", "ENCODING", "r2"], ["OBJECT", "ENCODING", "ra2"]],
    # MOVE
    "move": [["SET", "a", "v"], ["MOVE", "a", "1"], ["EXISTS", "a"], ["MOVE", "a", "1"],
             ["SELECT", "1"], ["GET", "a"], ["MOVE", "a", "1"], ["SET", "b", "x"],
             ["SELECT", "0"], ["SET", "b", "y"], ["MOVE", "b", "1"], ["GET", "b"],
             ["MOVE", "b", "16"], ["MOVE", "b", "-1"], ["MOVE", "b", "x"],
             ["MOVE", "b", "99999999999"], ["MOVE", "b"], ["MOVE", "missing", "2"]],
    "move_keeps_ttl": [["SET", "a", "v"], ["PEXPIREAT", "a", str(FUTURE_MS + 11)],
                       ["MOVE", "a", "3"], ["SELECT", "3"], ["PEXPIRETIME", "a"]],
    # SWAPDB
    "swapdb": [["SET", "a", "0"], ["SELECT", "1"], ["SET", "b", "1"], ["SWAPDB", "0", "1"],
               ["GET", "a"], ["GET", "b"], ["SELECT", "0"], ["GET", "b"], ["SWAPDB", "0", "0"],
               ["GET", "b"], ["SWAPDB", "x", "1"], ["SWAPDB", "1", "x"], ["SWAPDB", "0", "16"],
               ["SWAPDB", "-1", "0"], ["SWAPDB", "99999999999", "0"],
               ["SWAPDB", "0", "99999999999"], ["SWAPDB", "0"], ["SWAPDB", "0", "1", "2"]],
    # OBJECT
    "object_encoding_strings": [
        ["SET", "i", "12345"], ["SET", "neg", "-7"], ["SET", "big", I64_MAX],
        ["SET", "over", "9223372036854775808"], ["SET", "zero", "0"], ["SET", "lead", "0123"],
        ["SET", "e", "hello"], ["SET", "e44", "x" * 44], ["SET", "r45", "x" * 45],
        ["SET", "empty", ""], ["APPEND", "app", "12"], ["INCR", "cnt"],
        ["OBJECT", "ENCODING", "i"], ["OBJECT", "ENCODING", "neg"],
        ["OBJECT", "ENCODING", "big"], ["OBJECT", "ENCODING", "over"],
        ["OBJECT", "ENCODING", "zero"], ["OBJECT", "ENCODING", "lead"],
        ["OBJECT", "ENCODING", "e"], ["OBJECT", "ENCODING", "e44"],
        ["OBJECT", "ENCODING", "r45"], ["OBJECT", "ENCODING", "empty"],
        ["OBJECT", "ENCODING", "app"], ["OBJECT", "ENCODING", "cnt"],
        ["object", "encoding", "missing"]],
    "object_encoding_aggregates": [
        ["RPUSH", "l", "a"], ["SADD", "si", "1", "2"], ["SADD", "ss", "a"],
        ["HSET", "h", "f", "v"], ["ZADD", "z", "1", "m"], ["OBJECT", "ENCODING", "l"],
        ["OBJECT", "ENCODING", "si"], ["OBJECT", "ENCODING", "h"],
        ["OBJECT", "ENCODING", "z"]],
    "object_refcount": [["SET", "small", "1"], ["SET", "edge", "9999"], ["SET", "big", "10000"],
                        ["SET", "neg", "-1"], ["SET", "s", "abc"], ["RPUSH", "l", "a"],
                        ["OBJECT", "REFCOUNT", "small"], ["OBJECT", "REFCOUNT", "edge"],
                        ["OBJECT", "REFCOUNT", "big"], ["OBJECT", "REFCOUNT", "neg"],
                        ["OBJECT", "REFCOUNT", "s"], ["OBJECT", "REFCOUNT", "l"],
                        ["OBJECT", "REFCOUNT", "missing"]],
    "object_idletime_freq": [["SET", "k", "v"], ["OBJECT", "IDLETIME", "k"],
                             ["OBJECT", "IDLETIME", "missing"], ["OBJECT", "FREQ", "k"],
                             ["OBJECT", "FREQ", "missing"]],
    "object_help_and_errors": [["OBJECT", "HELP"], ["object", "help"], ["OBJECT", "FOO", "k"],
                               ["OBJECT", "ENCODING"], ["OBJECT", "ENCODING", "a", "b"],
                               ["OBJECT", "HELP", "x"], ["OBJECT"]],
    # SCAN argument handling (the iteration itself is tested below)
    "scan_errors": [["SCAN", "abc"], ["SCAN", " 1"], ["SCAN", "1 "], ["SCAN", "0", "COUNT", "0"],
                    ["SCAN", "0", "COUNT", "-1"], ["SCAN", "0", "COUNT", "abc"],
                    ["SCAN", "0", "COUNT"], ["SCAN", "0", "MATCH"], ["SCAN", "0", "TYPE"],
                    ["SCAN", "0", "FOO", "bar"], ["SCAN", "99999999999999999999999"],
                    ["SCAN", "-1"], ["SCAN", "+0"], ["SCAN", "007"], ["SCAN", ""], ["SCAN"]],
    "scan_small": [["SCAN", "0"], ["SET", "a", "1"], ["SCAN", "0"], ["SCAN", "0", "MATCH", "a"],
                   ["SCAN", "0", "MATCH", "b"], ["SCAN", "0", "TYPE", "string"],
                   ["SCAN", "0", "TYPE", "STRING"], ["SCAN", "0", "TYPE", "list"],
                   ["SCAN", "0", "count", "5", "match", "*", "type", "string"]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keys_case(diff, name):
    unordered = name.startswith("keys_")
    for cmd in CASES[name]:
        diff.check(*cmd, unordered=unordered)


@pytest.mark.parametrize("name", ["type", "object_encoding_strings", "ttl_missing_and_persistent",
                                  "randomkey", "scan_small"])
def test_keys_case_resp3(diff, name):
    for cmd in CASES[name]:
        diff.check3(*cmd)


def check_close(diff, cmd, key, tolerance):
    rc, rr = diff.both(cmd, key)
    assert isinstance(rc, int) and isinstance(rr, int), (rc, rr)
    assert abs(rc - rr) <= tolerance, "%s %s: cairn %r, redis %r" % (cmd, key, rc, rr)
    return rc


def test_relative_ttls(diff):
    diff.check("SET", "k", "v")
    diff.check("EXPIRE", "k", "100")
    assert 99 <= check_close(diff, "TTL", "k", 1) <= 100
    check_close(diff, "PTTL", "k", 1000)
    diff.check("PEXPIRE", "k", "5500")
    ttl = check_close(diff, "TTL", "k", 1)
    assert ttl in (5, 6)
    diff.check("EXPIRE", "k", "50", "GT")
    diff.check("EXPIRE", "k", "10", "GT")
    diff.check("EXPIRE", "k", "10", "LT")
    assert 9 <= check_close(diff, "TTL", "k", 1) <= 10
    now = int(time.time())
    exp = check_close(diff, "EXPIRETIME", "k", 1)
    assert now + 8 <= exp <= now + 12


def test_expiry_happens(diff):
    diff.check("SET", "k", "v")
    diff.check("SET", "keep", "v")
    diff.check("PEXPIRE", "k", "50")
    time.sleep(0.2)
    for cmd in (["EXISTS", "k"], ["TTL", "k"], ["TYPE", "k"], ["PERSIST", "k"],
                ["RENAME", "k", "x"], ["MOVE", "k", "1"], ["COPY", "k", "y"],
                ["OBJECT", "ENCODING", "k"], ["DEL", "k"], ["KEYS", "*"], ["SCAN", "0"],
                ["RANDOMKEY"], ["EXPIRE", "k", "10"]):
        diff.check(*cmd)


def test_scan_full_iteration(diff):
    for side in ("cairn", "redis"):
        for start in range(0, 1000, 100):
            args = []
            for i in range(start, start + 100):
                args += ["key:%d" % i, "v"]
            assert diff.send(side, "MSET", *args) == b"OK"
        assert diff.send(side, "RPUSH", "list:1", "a") == 1
        assert diff.send(side, "SADD", "set:1", "a") == 1

    def full_scan(side, *opts):
        seen, cursor, calls = [], b"0", 0
        while True:
            reply = diff.send(side, "SCAN", cursor, *opts)
            cursor, keys = reply
            seen += keys
            calls += 1
            assert calls < 5000, "SCAN did not terminate"
            if cursor == b"0":
                return seen

    for opts in ((), ("COUNT", "7"), ("COUNT", "1000"), ("MATCH", "key:1*"),
                 ("MATCH", "*:1", "COUNT", "3"), ("TYPE", "list"), ("TYPE", "set"),
                 ("TYPE", "string", "MATCH", "key:99*")):
        c = set(full_scan("cairn", *opts))
        r = set(full_scan("redis", *opts))
        assert c == r, "SCAN %s: only cairn %r, only redis %r" % (opts, sorted(c - r)[:5],
                                                                  sorted(r - c)[:5])
    assert len(set(full_scan("cairn"))) == 1002


def test_keys_large(diff):
    for side in ("cairn", "redis"):
        args = []
        for i in range(500):
            args += ["user:%d" % i, "v"]
        diff.send(side, "MSET", *args)
    diff.check("KEYS", "*", unordered=True)
    diff.check("KEYS", "user:4?", unordered=True)
    diff.check("KEYS", "user:[1-2]0*", unordered=True)
    diff.check("DBSIZE")


def test_randomkey_returns_existing_keys(diff):
    keys = {b"a", b"b", b"c"}
    for k in keys:
        diff.check("SET", k, "1")
    for _ in range(20):
        assert diff.send("cairn", "RANDOMKEY") in keys


def test_object_idletime_counts_seconds(diff):
    # Both servers count idle time on a one-second LRU clock, so the same wait
    # can read as 2 on one and 3 on the other: compare within that tick.
    diff.check("SET", "k", "v")
    time.sleep(2.1)
    idle = [c.object("idletime", "k") for c in (diff.cairn, diff.redis)]
    assert all(2 <= i <= 3 for i in idle), idle
    diff.check("GET", "k")
    idle = [c.object("idletime", "k") for c in (diff.cairn, diff.redis)]
    assert idle == [0, 0], idle


@pytest.mark.parametrize("action", [
    [["RPUSH", "src", "a"], ["RENAME", "src", "dst"]],
    [["RPUSH", "src", "a"], ["RENAMENX", "src", "dst"]],
    [["RPUSH", "src", "a"], ["COPY", "src", "dst"]],
    [["SELECT", "1"], ["RPUSH", "dst", "a"], ["MOVE", "dst", "0"]],
    [["SELECT", "1"], ["RPUSH", "dst", "a"], ["SWAPDB", "0", "1"]],
])
def test_new_list_wakes_blocked_client(diff, action):
    import threading
    results = {}
    for side in ("cairn", "redis"):
        srv = diff.cairn_srv if side == "cairn" else diff.redis_srv
        blocked, other = srv.client(), srv.client()
        try:
            out = {}
            t = threading.Thread(target=lambda: out.update(r=blocked.blpop(["dst"], 5)))
            t.start()
            deadline = time.time() + 5
            while time.time() < deadline:
                clients = other.execute_command("CLIENT", "LIST")
                if b"cmd=blpop" in clients and b"flags=b" in clients:
                    break
                time.sleep(0.02)
            for cmd in action:
                other.execute_command(*cmd)
            t.join(10)
            results[side] = out.get("r")
            other.execute_command("FLUSHALL")
        finally:
            blocked.close()
            other.close()
    assert results["cairn"] == results["redis"] == (b"dst", b"a"), results


def watch_then(diff, setup, action, db=None):
    """WATCH k on one connection, run `action` on another, then MULTI/EXEC;
    returns the EXEC replies of (cairn, redis)."""
    results = []
    for side in ("cairn", "redis"):
        srv = diff.cairn_srv if side == "cairn" else diff.redis_srv
        watcher = srv.client()
        other = srv.client()
        try:
            for cmd in setup:
                other.execute_command(*cmd)
            if db is not None:
                watcher.execute_command("SELECT", db)
            watcher.execute_command("WATCH", "k")
            for cmd in action:
                other.execute_command(*cmd)
            watcher.execute_command("MULTI")
            watcher.execute_command("PING")
            results.append(watcher.execute_command("EXEC"))
        finally:
            watcher.close()
            other.close()
    return results


@pytest.mark.parametrize("setup,action,db", [
    ([["SET", "k", "v"]], [["FLUSHALL"]], None),
    ([["SET", "k", "v"]], [["FLUSHDB"]], None),
    ([], [["FLUSHALL"]], None),
    ([["SET", "k", "v"]], [["DEL", "k"]], None),
    ([["SET", "k", "v"]], [["EXPIRE", "k", "100"]], None),
    ([["SET", "k", "v"]], [["PERSIST", "k"]], None),
    ([["SET", "k", "v"], ["EXPIRE", "k", "100"]], [["PERSIST", "k"]], None),
    ([["SET", "j", "v"]], [["RENAME", "j", "k"]], None),
    ([["SET", "k", "v"]], [["RENAME", "k", "j"]], None),
    ([["SET", "k", "v"]], [["MOVE", "k", "1"]], None),
    ([["SET", "k", "v"]], [["COPY", "k", "k", "DB", "1"]], "1"),
    ([["SET", "k", "v"]], [["SWAPDB", "0", "1"]], None),
    ([["SET", "k", "v"]], [["EXPIRE", "k", "-1"]], None),
])
def test_writes_invalidate_watch(diff, setup, action, db):
    c, r = watch_then(diff, setup, action, db)
    assert c == r, "cairn EXEC %r, redis EXEC %r" % (c, r)


def test_dirty_counts_like_redis(diff):
    def dirty(side):
        info = diff.send(side, "INFO", "persistence").decode()
        for line in info.splitlines():
            if line.startswith("rdb_changes_since_last_save:"):
                return int(line.split(":")[1])
        raise AssertionError("no rdb_changes_since_last_save in INFO from " + side)

    for cmd in (["MSET", "a", "1", "b", "2", "c", "3"], ["SET", "x", "1"]):
        diff.check(*cmd)
    script = [["DEL", "a", "zz"], ["UNLINK", "x"], ["EXPIRE", "b", "100"], ["PERSIST", "b"],
              ["PERSIST", "b"], ["RENAME", "b", "d"], ["RENAMENX", "d", "c"], ["COPY", "d", "e"],
              ["MOVE", "e", "2"], ["SWAPDB", "2", "3"], ["EXPIRE", "c", "-1"], ["FLUSHDB"],
              ["FLUSHALL"]]
    before = {s: dirty(s) for s in ("cairn", "redis")}
    for cmd in script:
        diff.check(*cmd)
        deltas = {s: dirty(s) - before[s] for s in ("cairn", "redis")}
        assert deltas["cairn"] == deltas["redis"], "after %r: %r" % (cmd, deltas)
