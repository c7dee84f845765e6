# Differential tests of the sorted-set commands: hand-written scripts per
# command (including their errors) in RESP2 and RESP3, both encodings, and a
# seeded random command sequence; every reply must equal stock Redis 7.0's.
import hashlib
import os
import random
import struct

import pytest

BIG = 200  # past zset-max-listpack-entries (128): skiplist encoding


def fill(n, prefix="m", score=lambda i: i):
    args = []
    for i in range(n):
        args += [str(score(i)), "%s%03d" % (prefix, i)]
    return args


CASES = {
    "zadd_basic": [["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZRANGE", "z", "0", "-1",
                   "WITHSCORES"], ["ZADD", "z", "5", "a"], ["ZCARD", "z"],
                   ["ZADD", "z", "CH", "5", "a", "6", "b", "7", "d"], ["ZSCORE", "z", "b"]],
    "zadd_errors": [["ZADD", "z", "1"], ["ZADD", "z", "1", "a", "2"], ["ZADD", "z", "x", "a"],
                    ["ZADD", "z", "NX", "XX", "1", "a"], ["ZADD", "z", "GT", "LT", "1", "a"],
                    ["ZADD", "z", "GT", "NX", "1", "a"], ["ZADD", "z", "LT", "NX", "1", "a"],
                    ["ZADD", "z", "INCR", "1", "a", "2", "b"], ["ZADD", "z", "nan", "a"],
                    ["ZADD", "z", "NX"], ["ZADD", "z", "1", "a", "bad", "b"], ["EXISTS", "z"]],
    "zadd_flags": [["ZADD", "z", "XX", "1", "a"], ["EXISTS", "z"], ["ZADD", "z", "NX", "1", "a"],
                   ["ZADD", "z", "NX", "2", "a"], ["ZADD", "z", "XX", "CH", "3", "a", "1", "b"],
                   ["ZADD", "z", "GT", "CH", "2", "a"], ["ZADD", "z", "GT", "CH", "4", "a"],
                   ["ZADD", "z", "LT", "CH", "9", "a"], ["ZADD", "z", "LT", "CH", "0", "a", "5", "c"],
                   ["ZADD", "z", "XX", "GT", "10", "a"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"]],
    "zadd_incr": [["ZADD", "z", "INCR", "1.5", "a"], ["ZADD", "z", "INCR", "1.5", "a"],
                  ["ZADD", "z", "NX", "INCR", "1", "a"], ["ZADD", "z", "XX", "INCR", "1", "b"],
                  ["ZADD", "z", "GT", "INCR", "-1", "a"], ["ZADD", "z", "LT", "INCR", "-1", "a"],
                  ["ZADD", "z", "INCR", "+inf", "a"], ["ZADD", "z", "INCR", "-inf", "a"],
                  ["ZSCORE", "z", "a"]],
    "zadd_scores": [["ZADD", "z", "0.1", "a", "-0", "b", "1e20", "c", "-inf", "d", "+inf", "e",
                     "3.0000000000000001", "f", "1e-300", "g", "0x10", "h"],
                    ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZSCORE", "z", "b"],
                    ["ZADD", "z", " 1", "x"], ["ZADD", "z", "1 ", "x"], ["ZADD", "z", "", "x"]],
    "zincrby": [["ZINCRBY", "z", "2", "a"], ["ZINCRBY", "z", "-0.5", "a"],
                ["ZINCRBY", "z", "x", "a"], ["ZINCRBY", "z", "inf", "a"],
                ["ZINCRBY", "z", "-inf", "a"], ["ZSCORE", "z", "a"], ["ZINCRBY", "z", "nx", "a"],
                ["SET", "s", "v"], ["ZINCRBY", "s", "1", "a"]],
    "zrem": [["ZREM", "z", "a"], ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
             ["ZREM", "z", "a", "x", "a"], ["ZREM", "z", "b", "c", "d"], ["EXISTS", "z"],
             ["SET", "s", "v"], ["ZREM", "s", "a"]],
    "zcard_zscore": [["ZCARD", "z"], ["ZSCORE", "z", "a"], ["ZADD", "z", "1.25", "a"],
                     ["ZCARD", "z"], ["ZSCORE", "z", "a"], ["ZSCORE", "z", "b"],
                     ["ZMSCORE", "z", "a", "b", "a"], ["ZMSCORE", "nokey", "a"],
                     ["SET", "s", "v"], ["ZCARD", "s"], ["ZSCORE", "s", "a"],
                     ["ZMSCORE", "s", "a"]],
    "zrank": [["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZRANK", "z", "a"],
              ["ZRANK", "z", "c"], ["ZREVRANK", "z", "a"], ["ZRANK", "z", "x"],
              ["ZRANK", "nokey", "a"], ["ZREVRANK", "nokey", "a"]],
    "zrange_rank": [["ZADD", "z"] + fill(10), ["ZRANGE", "z", "0", "-1"],
                    ["ZRANGE", "z", "2", "4", "WITHSCORES"], ["ZRANGE", "z", "-3", "-1"],
                    ["ZRANGE", "z", "5", "2"], ["ZRANGE", "z", "-100", "100"],
                    ["ZRANGE", "z", "20", "30"], ["ZRANGE", "z", "0", "2", "REV"],
                    ["ZRANGE", "z", "0", "2", "REV", "WITHSCORES"], ["ZREVRANGE", "z", "0", "3"],
                    ["ZREVRANGE", "z", "0", "3", "WITHSCORES"], ["ZRANGE", "z", "a", "1"],
                    ["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"], ["ZRANGE", "z", "0", "1", "FOO"],
                    ["ZRANGE", "nokey", "0", "-1"], ["ZREVRANGE", "z", "0", "1", "REV"]],
    "zrange_byscore": [["ZADD", "z"] + fill(10, score=lambda i: i / 2),
                       ["ZRANGE", "z", "1", "3", "BYSCORE"],
                       ["ZRANGE", "z", "(1", "(3", "BYSCORE", "WITHSCORES"],
                       ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "3"],
                       ["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"],
                       ["ZRANGE", "z", "3", "1", "BYSCORE", "REV", "WITHSCORES"],
                       ["ZRANGE", "z", "1", "3", "BYSCORE", "LIMIT", "-1", "2"],
                       ["ZRANGE", "z", "1", "3", "BYSCORE", "LIMIT", "0", "-1"],
                       ["ZRANGE", "z", "1", "3", "BYSCORE", "LIMIT", "100", "2"],
                       ["ZRANGE", "z", "1", "3", "BYSCORE", "LIMIT", "0"],
                       ["ZRANGE", "z", "x", "3", "BYSCORE"], ["ZRANGE", "z", "(", "3", "BYSCORE"],
                       ["ZRANGE", "z", "1", "nan", "BYSCORE"],
                       ["ZRANGEBYSCORE", "z", "(0.5", "2", "WITHSCORES", "LIMIT", "1", "10"],
                       ["ZREVRANGEBYSCORE", "z", "2", "(0.5", "WITHSCORES"],
                       ["ZREVRANGEBYSCORE", "z", "(0.5", "2"], ["ZRANGEBYSCORE", "z", "5", "1"],
                       ["ZRANGEBYSCORE", "z", " 1", "2"], ["ZRANGEBYSCORE", "z", "1", "2", "REV"],
                       ["ZCOUNT", "z", "1", "3"], ["ZCOUNT", "z", "(1", "(3"],
                       ["ZCOUNT", "z", "-inf", "+inf"], ["ZCOUNT", "z", "3", "1"],
                       ["ZCOUNT", "z", "a", "1"], ["ZCOUNT", "nokey", "0", "1"]],
    "zrange_bylex": [["ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ee"],
                     ["ZRANGE", "z", "[b", "(e", "BYLEX"], ["ZRANGE", "z", "-", "+", "BYLEX"],
                     ["ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "1", "3"],
                     ["ZRANGE", "z", "[e", "[b", "BYLEX", "REV"],
                     ["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
                     ["ZRANGE", "z", "b", "+", "BYLEX"], ["ZRANGE", "z", "[b", "", "BYLEX"],
                     ["ZRANGEBYLEX", "z", "(a", "[d"], ["ZRANGEBYLEX", "z", "-", "+", "LIMIT",
                     "2", "2"], ["ZREVRANGEBYLEX", "z", "+", "(c"],
                     ["ZREVRANGEBYLEX", "z", "[c", "-", "LIMIT", "0", "1"],
                     ["ZRANGEBYLEX", "z", "+", "-"], ["ZRANGEBYLEX", "z", "-x", "+"],
                     ["ZLEXCOUNT", "z", "-", "+"], ["ZLEXCOUNT", "z", "[b", "(e"],
                     ["ZLEXCOUNT", "z", "(e", "[b"], ["ZLEXCOUNT", "z", "x", "+"],
                     ["ZLEXCOUNT", "nokey", "-", "+"], ["ZRANGE", "z", "-", "+", "BYLEX",
                     "BYSCORE"]],
    "zrangestore": [["ZADD", "src"] + fill(10), ["ZRANGESTORE", "dst", "src", "2", "5"],
                    ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                    ["ZRANGESTORE", "dst", "src", "(3", "+inf", "BYSCORE", "LIMIT", "1", "2"],
                    ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
                    ["ZRANGESTORE", "dst", "src", "[m003", "-", "BYLEX", "REV"],
                    ["ZRANGESTORE", "dst", "src", "5", "2"], ["EXISTS", "dst"],
                    ["SET", "dst", "string"], ["ZRANGESTORE", "dst", "src", "0", "0"],
                    ["TYPE", "dst"], ["ZRANGESTORE", "dst", "nokey", "0", "-1"],
                    ["EXISTS", "dst"], ["ZRANGESTORE", "dst", "src", "0", "1", "WITHSCORES"],
                    ["SET", "str", "v"], ["ZRANGESTORE", "dst", "str", "0", "1"],
                    ["ZRANGESTORE", "src", "src", "0", "2"], ["ZRANGE", "src", "0", "-1"]],
    "zpop": [["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZPOPMIN", "z"],
             ["ZPOPMAX", "z"], ["ZPOPMIN", "z", "0"], ["ZPOPMIN", "z", "-1"],
             ["ZPOPMIN", "z", "x"], ["ZPOPMIN", "z", "1", "2"], ["ZPOPMAX", "z", "10"],
             ["EXISTS", "z"], ["ZPOPMIN", "z"], ["ZPOPMIN", "z", "3"], ["SET", "s", "v"],
             ["ZPOPMIN", "s"]],
    "zmpop": [["ZADD", "z2", "1", "a", "2", "b", "3", "c"],
              ["ZMPOP", "2", "z1", "z2", "MIN"], ["ZMPOP", "2", "z1", "z2", "MAX", "COUNT", "5"],
              ["ZMPOP", "1", "z1", "MIN"], ["ZMPOP", "0", "z1", "MIN"],
              ["ZMPOP", "-1", "z1", "MIN"], ["ZMPOP", "x", "z1", "MIN"],
              ["ZMPOP", "3", "z1", "MIN"], ["ZMPOP", "1", "z1", "MID"],
              ["ZMPOP", "1", "z1", "MIN", "COUNT", "0"], ["ZMPOP", "1", "z1", "MIN", "COUNT"],
              ["ZMPOP", "1", "z1", "MIN", "COUNT", "1", "COUNT", "2"],
              ["ZMPOP", "1", "z1", "MIN", "FOO"], ["SET", "s", "v"], ["ZMPOP", "2", "s", "z2",
              "MIN"]],
    "bzpop_nonblocking": [["ZADD", "z", "1", "a", "2", "b"], ["BZPOPMIN", "nokey", "z", "0"],
                          ["BZPOPMAX", "z", "0.01"], ["BZPOPMIN", "z", "-1"],
                          ["BZPOPMIN", "z", "x"], ["ZADD", "z", "5", "c"],
                          ["BZMPOP", "0", "2", "nokey", "z", "MAX", "COUNT", "3"],
                          ["BZMPOP", "-1", "1", "z", "MIN"], ["BZMPOP", "0", "0", "z", "MIN"],
                          ["SET", "s", "v"], ["BZPOPMIN", "s", "0"]],
    "zremrange": [["ZADD", "z"] + fill(10), ["ZREMRANGEBYRANK", "z", "0", "1"],
                  ["ZREMRANGEBYRANK", "z", "-2", "-1"], ["ZREMRANGEBYRANK", "z", "5", "1"],
                  ["ZREMRANGEBYSCORE", "z", "(2", "4"], ["ZREMRANGEBYSCORE", "z", "x", "4"],
                  ["ZRANGE", "z", "0", "-1"], ["ZREMRANGEBYLEX", "z", "[m005", "+"],
                  ["ZREMRANGEBYLEX", "z", "m", "+"], ["ZRANGE", "z", "0", "-1"],
                  ["ZREMRANGEBYSCORE", "z", "-inf", "+inf"], ["EXISTS", "z"],
                  ["ZREMRANGEBYRANK", "z", "0", "-1"], ["ZREMRANGEBYRANK", "z", "a", "1"],
                  ["SET", "s", "v"], ["ZREMRANGEBYRANK", "s", "0", "1"],
                  ["ZREMRANGEBYSCORE", "s", "x", "1"]],
    "zunion_inter_diff": [
        ["ZADD", "a", "1", "x", "2", "y", "3", "z"], ["ZADD", "b", "10", "y", "20", "z", "30", "w"],
        ["SADD", "s", "x", "w", "v"],
        ["ZUNION", "2", "a", "b", "WITHSCORES"], ["ZINTER", "2", "a", "b", "WITHSCORES"],
        ["ZDIFF", "2", "a", "b", "WITHSCORES"], ["ZDIFF", "2", "b", "a"],
        ["ZUNION", "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"],
        ["ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"],
        ["ZINTER", "2", "a", "b", "AGGREGATE", "max", "WITHSCORES"],
        ["ZUNION", "3", "a", "b", "s", "WITHSCORES"], ["ZINTER", "2", "a", "s", "WITHSCORES"],
        ["ZDIFF", "2", "s", "a", "WITHSCORES"], ["ZINTER", "2", "a", "a", "WITHSCORES"],
        ["ZUNION", "2", "a", "nokey", "WITHSCORES"], ["ZINTER", "2", "a", "nokey"],
        ["ZUNIONSTORE", "d", "2", "a", "b"], ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        ["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "-1"],
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"], ["ZDIFFSTORE", "d", "2", "a", "b"],
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"], ["ZINTERSTORE", "d", "2", "a", "nokey"],
        ["EXISTS", "d"], ["ZINTERCARD", "2", "a", "b"], ["ZINTERCARD", "2", "a", "b", "LIMIT",
        "1"], ["ZINTERCARD", "2", "a", "b", "LIMIT", "0"], ["ZINTERCARD", "2", "a", "b",
        "LIMIT", "-1"], ["ZINTERCARD", "2", "a", "b", "LIMIT", "x"],
        ["ZINTERCARD", "0", "a"], ["ZUNION", "0", "a"], ["ZUNIONSTORE", "d", "0", "a"],
        ["ZDIFFSTORE", "d", "-1", "a"], ["ZUNION", "3", "a", "b"], ["ZUNION", "x", "a"],
        ["ZUNION", "2", "a", "b", "WEIGHTS", "1"], ["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"],
        ["ZUNION", "2", "a", "b", "AGGREGATE", "AVG"], ["ZUNION", "2", "a", "b", "FOO"],
        ["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "2"], ["ZUNIONSTORE", "d", "2", "a", "b",
        "WITHSCORES"], ["ZINTERCARD", "2", "a", "b", "WITHSCORES"],
        ["SET", "str", "v"], ["ZUNION", "2", "a", "str"], ["ZUNIONSTORE", "str", "1", "a"],
        ["TYPE", "str"]],
    "zunion_inf_nan": [["ZADD", "a", "inf", "x"], ["ZADD", "b", "-inf", "x"],
                       ["ZUNION", "2", "a", "b", "WITHSCORES"],
                       ["ZINTER", "2", "a", "b", "WITHSCORES"],
                       ["ZUNION", "2", "a", "b", "WEIGHTS", "0", "0", "WITHSCORES"]],
    "zrandmember_whole": [["ZADD", "z", "1", "a", "2", "b", "3", "c"],
                          ["ZRANDMEMBER", "z", "3"], ["ZRANDMEMBER", "z", "10", "WITHSCORES"],
                          ["ZRANDMEMBER", "z", "0"], ["ZRANDMEMBER", "nokey"],
                          ["ZRANDMEMBER", "nokey", "5"], ["ZRANDMEMBER", "z", "x"],
                          ["ZRANDMEMBER", "z", "1", "FOO"], ["ZRANDMEMBER", "z", "1", "2", "3"],
                          ["ZRANDMEMBER", "z", "-9223372036854775808"],
                          ["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"],
                          ["SET", "s", "v"], ["ZRANDMEMBER", "s"]],
    "zscan_small": [["ZADD", "z", "1", "a", "2.5", "b", "1e17", "c", "-0", "d"],
                    ["ZSCAN", "z", "0"], ["ZSCAN", "z", "0", "MATCH", "a*"],
                    ["ZSCAN", "z", "0", "COUNT", "0"], ["ZSCAN", "z", "x"],
                    ["ZSCAN", "z", "0", "FOO", "1"], ["ZSCAN", "nokey", "0", "COUNT", "0"],
                    ["SET", "s", "v"], ["ZSCAN", "s", "0"]],
    "encodings": [["ZADD", "z"] + fill(128), ["OBJECT", "ENCODING", "z"],
                  ["ZADD", "z", "1", "one-more"], ["OBJECT", "ENCODING", "z"],
                  ["ZADD", "y", "1", "x" * 65], ["OBJECT", "ENCODING", "y"],
                  ["ZADD", "w", "1", "x" * 64], ["OBJECT", "ENCODING", "w"],
                  ["ZUNIONSTORE", "u", "1", "z"], ["OBJECT", "ENCODING", "u"],
                  ["ZRANGESTORE", "r", "z", "0", "9"], ["OBJECT", "ENCODING", "r"],
                  ["ZRANGESTORE", "r", "z", "0", "-1"], ["OBJECT", "ENCODING", "r"],
                  ["ZREMRANGEBYRANK", "z", "0", "100"], ["OBJECT", "ENCODING", "z"],
                  ["ZINTERSTORE", "i", "1", "z"], ["OBJECT", "ENCODING", "i"]],
    "wrongtype": [["SET", "s", "v"]] + [[c, "s", "0", "1"] for c in
                  ("ZRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZCOUNT", "ZREMRANGEBYRANK",
                   "ZREMRANGEBYSCORE")] + [["ZRANGEBYLEX", "s", "-", "+"],
                                           ["ZLEXCOUNT", "s", "-", "+"],
                                           ["ZREMRANGEBYLEX", "s", "-", "+"],
                                           ["ZRANK", "s", "a"], ["ZADD", "s", "1", "a"]],
    "arity": [["ZADD", "z", "1"], ["ZCARD"], ["ZSCORE", "z"], ["ZRANGE", "z", "0"],
              ["ZRANGESTORE", "d", "z", "0"], ["ZPOPMIN"], ["BZPOPMIN", "z"],
              ["ZMPOP", "1", "z"], ["BZMPOP", "0", "1", "z"], ["ZUNION", "1"],
              ["ZINTERCARD", "1"], ["ZRANDMEMBER"], ["ZSCAN", "z"], ["ZREMRANGEBYLEX", "z", "-"]],
}

RESP3_CASES = ["zadd_basic", "zadd_incr", "zcard_zscore", "zrange_rank", "zrange_byscore",
               "zpop", "zmpop", "bzpop_nonblocking", "zunion_inter_diff", "zrandmember_whole",
               "zscan_small"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_zset_case(diff, name):
    for cmd in CASES[name]:
        diff.check(*cmd)


@pytest.mark.parametrize("name", RESP3_CASES)
def test_zset_case_resp3(diff, name):
    for cmd in CASES[name]:
        diff.check3(*cmd)


@pytest.mark.parametrize("n", [5, BIG])
def test_both_encodings_same_queries(diff, n):
    diff.check("ZADD", "z", *fill(n, score=lambda i: (i * 7) % 13))
    diff.check("ZADD", "lex", *fill(n, score=lambda i: 0))
    for cmd in (["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZRANGE", "z", "3", "9", "REV"],
                ["ZRANGEBYSCORE", "z", "(2", "7", "LIMIT", "2", "5"],
                ["ZREVRANGEBYSCORE", "z", "+inf", "(3", "WITHSCORES", "LIMIT", "1", "4"],
                ["ZCOUNT", "z", "(2", "7"], ["ZRANK", "z", "m003"], ["ZREVRANK", "z", "m003"],
                ["ZRANGEBYLEX", "lex", "[m002", "(m010"], ["ZLEXCOUNT", "lex", "(m001", "+"],
                ["ZREVRANGEBYLEX", "lex", "+", "[m100", "LIMIT", "3", "3"],
                ["ZPOPMIN", "z", "3"], ["ZPOPMAX", "z", "2"], ["ZMSCORE", "z", "m004", "m100"],
                ["ZINCRBY", "z", "100", "m004"], ["ZRANGE", "z", "-3", "-1", "WITHSCORES"],
                ["ZREMRANGEBYSCORE", "z", "5", "6"], ["ZREMRANGEBYRANK", "z", "1", "3"],
                ["ZREMRANGEBYLEX", "lex", "-", "[m050"], ["ZCARD", "z"], ["ZCARD", "lex"],
                ["ZRANDMEMBER", "z", str(10 * n), "WITHSCORES"], ["OBJECT", "ENCODING", "z"]):
        diff.check(*cmd)
        diff.check3(*cmd)


def test_zscan_large_returns_everything(diff):
    diff.check("ZADD", "z", *fill(BIG, score=lambda i: i / 4))
    for which in ("cairn", "redis"):
        seen, cursor = {}, b"0"
        while True:
            cursor, items = diff.send(which, "ZSCAN", "z", cursor, "COUNT", "17")
            for i in range(0, len(items), 2):
                seen[items[i]] = items[i + 1]
            if cursor == b"0":
                break
        assert len(seen) == BIG, which
        assert seen[b"m005"] == b"1.25", which


def test_zrandmember_shapes(diff):
    for n in (5, BIG):
        diff.check("DEL", "z")
        diff.check("ZADD", "z", *fill(n))
        members = set(diff.redis.zrange("z", 0, -1))
        for count in (1, 3, n - 1, -5, -(n + 10)):
            got = diff.cairn.zrandmember("z", count)
            assert len(got) == abs(count)
            assert set(got) <= members
            if count > 0:
                assert len(set(got)) == count
        got = diff.cairn.zrandmember("z", 4, withscores=True)
        assert len(got) == 8 and len(set(got[::2])) == 4
        assert all(float(s) == int(m[1:]) for m, s in zip(got[::2], got[1::2]))
        assert diff.cairn.zrandmember("z") in members


def test_bzpop_in_multi_replies_null(diff):
    for which in ("cairn", "redis"):
        assert diff.send(which, "MULTI") == b"OK"
        diff.send(which, "BZPOPMIN", "nokey", "0")
        diff.send(which, "BZMPOP", "0", "1", "nokey", "MIN")
    rc, rr = diff.both("EXEC")
    if not isinstance(rc, list) and "not available" in str(rc):
        pytest.skip("MULTI/EXEC not wired in Cairn yet")
    assert rc == rr == [None, None]


def _sha1(data):
    return hashlib.sha1(data).digest()


def _xor_digest(digest, data):
    return bytes(a ^ b for a, b in zip(digest, _sha1(data)))


def _mix_digest(digest, data):
    return _sha1(_xor_digest(digest, data))


def redis_zset_digest(pairs):
    # Redis 7.0's xorObjectDigest for a zset (debug.c): type, then per element
    # an order-dependent mix of member and "%.17g" score, xored together.
    d = _mix_digest(bytes(20), struct.pack(">I", 3))
    for member, score in pairs:
        ele = _mix_digest(_mix_digest(bytes(20), member), b"%.17g" % score)
        d = _xor_digest(d, ele)
    return d.hex().encode()


def test_digest_value_matches_redis_scheme(diff):
    small = [(b"a", 1.5), (b"b", float("-inf")), (b"c", 3.0)]
    big = [(b"m%03d" % i, i * 0.1) for i in range(BIG)]
    for key, pairs in (("small", small), ("big", big)):
        args = []
        for m, s in pairs:
            args += [repr(s) if s != float("-inf") else "-inf", m]
        diff.check("ZADD", key, *args)
        r = diff.send("cairn", "DEBUG", "DIGEST-VALUE", key)
        if not isinstance(r, list):
            pytest.skip("DEBUG DIGEST-VALUE not available in Cairn: %r" % (r,))
        assert r == [redis_zset_digest(pairs)], key


RANDOM_CMDS = [
    lambda r, k, m: ["ZADD", k] + r.choice([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"],
                                             ["XX", "CH"]]) + [score(r), m],
    lambda r, k, m: ["ZADD", k, "INCR", score(r), m],
    lambda r, k, m: ["ZINCRBY", k, score(r), m],
    lambda r, k, m: ["ZREM", k, m, member(r)],
    lambda r, k, m: ["ZSCORE", k, m],
    lambda r, k, m: ["ZMSCORE", k, m, member(r)],
    lambda r, k, m: ["ZRANK", k, m],
    lambda r, k, m: ["ZREVRANK", k, m],
    lambda r, k, m: ["ZCARD", k],
    lambda r, k, m: ["ZRANGE", k, str(r.randint(-8, 8)), str(r.randint(-8, 8))] +
    r.choice([[], ["REV"], ["WITHSCORES"]]),
    lambda r, k, m: ["ZRANGE", k, bound(r), bound(r), "BYSCORE"] +
    r.choice([[], ["REV"], ["WITHSCORES"], ["LIMIT", str(r.randint(0, 3)), str(r.randint(-1, 4))]]),
    # Lex ranges only on "zl", whose scores are all equal: with mixed scores
    # the answer depends on the skiplist's random levels, in Redis too.
    lambda r, k, m: ["ZADD", "zl", "0", m],
    lambda r, k, m: ["ZREM", "zl", m],
    lambda r, k, m: ["ZRANGEBYLEX", "zl", lexb(r), lexb(r)],
    lambda r, k, m: ["ZREVRANGEBYLEX", "zl", lexb(r), lexb(r), "LIMIT", "1", "3"],
    lambda r, k, m: ["ZRANGE", "zl", lexb(r), lexb(r), "BYLEX"] + r.choice([[], ["REV"]]),
    lambda r, k, m: ["ZCOUNT", k, bound(r), bound(r)],
    lambda r, k, m: ["ZLEXCOUNT", "zl", lexb(r), lexb(r)],
    lambda r, k, m: ["ZPOPMIN", k] + r.choice([[], [str(r.randint(0, 3))]]),
    lambda r, k, m: ["ZPOPMAX", k] + r.choice([[], [str(r.randint(0, 3))]]),
    lambda r, k, m: ["ZMPOP", "2", k, "zb", r.choice(["MIN", "MAX"]), "COUNT", "2"],
    lambda r, k, m: ["ZREMRANGEBYRANK", k, str(r.randint(-5, 5)), str(r.randint(-5, 5))],
    lambda r, k, m: ["ZREMRANGEBYSCORE", k, bound(r), bound(r)],
    lambda r, k, m: ["ZREMRANGEBYLEX", "zl", lexb(r), lexb(r)],
    lambda r, k, m: [r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), "zd", "2", k, "zb"],
    lambda r, k, m: [r.choice(["ZUNION", "ZINTER"]), "2", k, "zb", "AGGREGATE",
                     r.choice(["SUM", "MIN", "MAX"]), "WITHSCORES"],
    lambda r, k, m: ["ZINTERCARD", "2", k, "zb"],
    lambda r, k, m: ["ZRANGESTORE", "zd", k, "0", str(r.randint(-3, 5))],
    lambda r, k, m: ["ZRANGE", "zd", "0", "-1", "WITHSCORES"],
]


def score(r):
    return r.choice(["0", "1", "2", "2.5", "-1", "(1", "inf", "-inf", "1e3", "3"])


def bound(r):
    return r.choice(["-inf", "+inf", "0", "(0", "1", "(2", "2.5", "(3", "10", "x"])


def member(r):
    return r.choice(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])


def lexb(r):
    return r.choice(["-", "+", "[a", "(b", "[c", "(d", "[e", "[j", "(", "a"])


@pytest.mark.parametrize("limit", ["128", "3"])
def test_random_sequence(diff, limit):
    seed = int(os.environ.get("CAIRN_ZSET_SEED", random.randrange(1 << 30)))
    r = random.Random(seed)
    for which in ("cairn", "redis"):
        diff.send(which, "CONFIG", "SET", "zset-max-listpack-entries", limit)
    try:
        for step in range(1500):
            key = r.choice(["za", "zb"])
            cmd = r.choice(RANDOM_CMDS)(r, key, member(r))
            try:
                diff.check(*cmd)
            except AssertionError as e:
                raise AssertionError("seed %d (CAIRN_ZSET_SEED=%d), step %d: %s" %
                                     (seed, seed, step, e)) from None
            if step % 100 == 0:
                diff.check("ZRANGE", "za", "0", "-1", "WITHSCORES")
                diff.check("ZRANGE", "zb", "0", "-1", "WITHSCORES")
    finally:
        for which in ("cairn", "redis"):
            diff.send(which, "CONFIG", "SET", "zset-max-listpack-entries", "128")
