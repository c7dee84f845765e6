# Differential tests of every string command: each case is a short command script
# run against Cairn and stock redis-server; every reply must be identical.
import time

import pytest

FUTURE_S = int(time.time()) + 1000
FUTURE_MS = FUTURE_S * 1000
PAST_S = 1000000

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"

# name -> list of commands. A command whose first element is "TTL" or "PTTL-OK"
# is compared as usual (TTL in seconds is stable across both servers).
CASES = {
    # SET and its options
    "set_plain": [["SET", "k", "v"], ["GET", "k"], ["SET", "k", ""], ["GET", "k"], ["TTL", "k"]],
    "set_binary": [["SET", b"k\x00\xff", b"\x00\r\n\xff"], ["GET", b"k\x00\xff"]],
    "set_overwrites_type": [["RPUSH", "l", "a"], ["SET", "l", "v"], ["TYPE", "l"], ["GET", "l"]],
    "set_ex": [["SET", "k", "v", "EX", "100"], ["TTL", "k"], ["GET", "k"]],
    "set_px": [["SET", "k", "v", "PX", "100000"], ["TTL", "k"]],
    "set_exat": [["SET", "k", "v", "EXAT", str(FUTURE_S)], ["TTL", "k"]],
    "set_pxat": [["SET", "k", "v", "PXAT", str(FUTURE_MS)], ["TTL", "k"]],
    "set_exat_past": [["SET", "k", "v", "EXAT", str(PAST_S)], ["EXISTS", "k"], ["GET", "k"]],
    "set_pxat_past": [["SET", "k", "v", "PXAT", "1"], ["EXISTS", "k"]],
    "set_ex_lowercase": [["set", "k", "v", "ex", "100"], ["TTL", "k"]],
    "set_ex_zero": [["SET", "k", "v", "EX", "0"], ["EXISTS", "k"]],
    "set_ex_negative": [["SET", "k", "v", "EX", "-1"], ["SET", "k", "v", "PX", "-5"]],
    "set_ex_notint": [["SET", "k", "v", "EX", "abc"], ["SET", "k", "v", "EX", "1.5"],
                      ["SET", "k", "v", "PX", ""], ["SET", "k", "v", "EX", " 10"]],
    "set_ex_overflow": [["SET", "k", "v", "EX", I64_MAX], ["SET", "k", "v", "PX", I64_MAX],
                        ["SET", "k", "v", "EX", "9223372036854776"],
                        ["SET", "k", "v", "EXAT", I64_MAX], ["SET", "k", "v", "PXAT", I64_MAX],
                        ["EXISTS", "k"]],
    "set_ex_missing_value": [["SET", "k", "v", "EX"], ["SET", "k", "v", "PX"],
                             ["SET", "k", "v", "EXAT"], ["SET", "k", "v", "PXAT"]],
    "set_ex_px_both": [["SET", "k", "v", "EX", "10", "PX", "100"],
                       ["SET", "k", "v", "EX", "10", "EX", "10"],
                       ["SET", "k", "v", "EXAT", "10", "PXAT", "100"],
                       ["SET", "k", "v", "EX", "10", "KEEPTTL"],
                       ["SET", "k", "v", "KEEPTTL", "PX", "10"], ["EXISTS", "k"]],
    "set_nx": [["SET", "k", "v", "NX"], ["SET", "k", "w", "NX"], ["GET", "k"]],
    "set_xx": [["SET", "k", "v", "XX"], ["EXISTS", "k"], ["SET", "k", "v"],
               ["SET", "k", "w", "XX"], ["GET", "k"]],
    "set_nx_xx": [["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "XX", "NX"],
                  ["SET", "k", "v", "NX", "NX"]],
    "set_keepttl": [["SET", "k", "v", "EX", "100"], ["SET", "k", "w", "KEEPTTL"], ["TTL", "k"],
                    ["SET", "k", "x"], ["TTL", "k"], ["SET", "n", "v", "KEEPTTL"], ["TTL", "n"]],
    "set_get": [["SET", "k", "v", "GET"], ["SET", "k", "w", "GET"], ["GET", "k"]],
    "set_get_wrongtype": [["RPUSH", "l", "a"], ["SET", "l", "v", "GET"], ["TYPE", "l"]],
    "set_nx_get": [["SET", "k", "v", "NX", "GET"], ["SET", "k", "w", "NX", "GET"], ["GET", "k"]],
    "set_xx_get": [["SET", "k", "v", "XX", "GET"], ["SET", "k", "v"],
                   ["SET", "k", "w", "XX", "GET"], ["GET", "k"]],
    "set_get_ex": [["SET", "k", "v"], ["SET", "k", "w", "GET", "EX", "100"], ["TTL", "k"]],
    "set_syntax": [["SET", "k", "v", "FOO"], ["SET", "k", "v", "EX", "10", "FOO"],
                   ["SET", "k"], ["SET"], ["SET", "k", "v", "GET", "GET"]],
    # GET / MGET / MSET / MSETNX / SETNX / SETEX / PSETEX
    "get": [["GET", "nope"], ["SET", "k", "v"], ["GET", "k"], ["GET"], ["GET", "a", "b"]],
    "get_wrongtype": [["SADD", "s", "a"], ["GET", "s"], ["HSET", "h", "f", "v"], ["GET", "h"]],
    "get_int_encoded": [["SET", "k", "12345"], ["GET", "k"], ["SET", "k", "-0"], ["GET", "k"],
                        ["SET", "k", "007"], ["GET", "k"], ["OBJECT", "ENCODING", "k"]],
    "mget": [["SET", "a", "1"], ["RPUSH", "l", "x"], ["MGET", "a", "b", "l", "a"], ["MGET"]],
    "mset": [["MSET", "a", "1", "b", "2"], ["MGET", "a", "b"], ["MSET", "a"], ["MSET"],
             ["MSET", "a", "1", "b"], ["MSET", "a", "x", "a", "y"], ["GET", "a"]],
    "mset_clears_ttl": [["SET", "a", "1", "EX", "100"], ["MSET", "a", "2"], ["TTL", "a"]],
    "msetnx": [["MSETNX", "a", "1", "b", "2"], ["MSETNX", "b", "3", "c", "4"],
               ["MGET", "a", "b", "c"], ["MSETNX", "a"], ["MSETNX", "x", "1", "x", "2"],
               ["GET", "x"]],
    "setnx": [["SETNX", "k", "v"], ["SETNX", "k", "w"], ["GET", "k"], ["SETNX", "k"]],
    "setex": [["SETEX", "k", "100", "v"], ["TTL", "k"], ["GET", "k"], ["SETEX", "k", "0", "v"],
              ["SETEX", "k", "-1", "v"], ["SETEX", "k", "x", "v"], ["SETEX", "k", "10"],
              ["SETEX", "k", I64_MAX, "v"], ["GET", "k"]],
    "psetex": [["PSETEX", "k", "100000", "v"], ["TTL", "k"], ["PSETEX", "k", "0", "v"],
               ["PSETEX", "k", "-10", "v"], ["PSETEX", "k", "1.5", "v"]],
    # GETSET / GETDEL / GETEX
    "getset": [["GETSET", "k", "v"], ["GETSET", "k", "w"], ["GET", "k"],
               ["SET", "t", "v", "EX", "100"], ["GETSET", "t", "x"], ["TTL", "t"],
               ["RPUSH", "l", "a"], ["GETSET", "l", "v"], ["GETSET", "k"]],
    "getdel": [["GETDEL", "k"], ["SET", "k", "v"], ["GETDEL", "k"], ["EXISTS", "k"],
               ["RPUSH", "l", "a"], ["GETDEL", "l"], ["EXISTS", "l"], ["GETDEL"]],
    "getex": [["GETEX", "k"], ["SET", "k", "v"], ["GETEX", "k"], ["GETEX", "k", "EX", "100"],
              ["TTL", "k"], ["GETEX", "k", "PERSIST"], ["TTL", "k"],
              ["GETEX", "k", "PX", "100000"], ["TTL", "k"],
              ["GETEX", "k", "EXAT", str(FUTURE_S)], ["TTL", "k"],
              ["GETEX", "k", "PXAT", str(FUTURE_MS)], ["TTL", "k"]],
    "getex_errors": [["SET", "k", "v"], ["GETEX", "k", "EX"], ["GETEX", "k", "EX", "0"],
                     ["GETEX", "k", "EX", "-1"], ["GETEX", "k", "EX", "x"],
                     ["GETEX", "k", "EX", "10", "PX", "10"], ["GETEX", "k", "PERSIST", "EX", "1"],
                     ["GETEX", "k", "KEEPTTL"], ["GETEX", "k", "FOO"],
                     ["GETEX", "k", "EX", I64_MAX], ["GETEX", "k", "PXAT", "0"],
                     ["RPUSH", "l", "a"], ["GETEX", "l"], ["GETEX", "l", "EX", "10"],
                     ["GETEX"]],
    "getex_past": [["SET", "k", "v"], ["GETEX", "k", "EXAT", str(PAST_S)], ["EXISTS", "k"]],
    # APPEND / STRLEN / GETRANGE / SETRANGE
    "append": [["APPEND", "k", "ab"], ["APPEND", "k", "cd"], ["GET", "k"], ["APPEND", "k", ""],
               ["STRLEN", "k"], ["SET", "n", "12"], ["APPEND", "n", "3"], ["GET", "n"],
               ["RPUSH", "l", "a"], ["APPEND", "l", "x"], ["APPEND", "k"]],
    "strlen": [["STRLEN", "none"], ["SET", "k", "hello"], ["STRLEN", "k"], ["SET", "n", "-123"],
               ["STRLEN", "n"], ["SADD", "s", "a"], ["STRLEN", "s"], ["STRLEN"]],
    "getrange": [["SET", "k", "Hello World"], ["GETRANGE", "k", "0", "4"],
                 ["GETRANGE", "k", "-5", "-1"], ["GETRANGE", "k", "0", "-1"],
                 ["GETRANGE", "k", "5", "2"], ["GETRANGE", "k", "-100", "100"],
                 ["GETRANGE", "k", "100", "200"], ["GETRANGE", "k", "-1", "-5"],
                 ["GETRANGE", "k", "0", "0"], ["GETRANGE", "none", "0", "10"],
                 ["GETRANGE", "k", "a", "1"], ["GETRANGE", "k", "0"],
                 ["SET", "n", "1234"], ["GETRANGE", "n", "1", "2"],
                 ["SET", "e", ""], ["GETRANGE", "e", "0", "-1"], ["GETRANGE", "e", "-1", "0"],
                 ["GETRANGE", "k", I64_MIN, I64_MAX],
                 ["RPUSH", "l", "a"], ["GETRANGE", "l", "0", "1"]],
    "substr": [["SET", "k", "Hello"], ["SUBSTR", "k", "1", "3"]],
    "setrange": [["SETRANGE", "k", "5", "abc"], ["GET", "k"], ["SETRANGE", "k", "0", "XY"],
                 ["GET", "k"], ["SETRANGE", "k", "0", ""], ["SETRANGE", "none", "3", ""],
                 ["EXISTS", "none"], ["SETRANGE", "k", "-1", "x"], ["SETRANGE", "k", "x", "x"],
                 ["SETRANGE", "k", "536870912", "x"], ["SETRANGE", "k", "536870911", ""],
                 ["SET", "n", "123"], ["SETRANGE", "n", "1", "9"], ["GET", "n"],
                 ["RPUSH", "l", "a"], ["SETRANGE", "l", "0", "x"], ["SETRANGE", "l", "0", ""],
                 ["SETRANGE", "k", "0"]],
    # INCR family
    "incr": [["INCR", "k"], ["INCR", "k"], ["GET", "k"], ["SET", "k", "41"], ["INCR", "k"],
             ["DECR", "k"], ["DECR", "new"], ["INCRBY", "k", "10"], ["DECRBY", "k", "100"],
             ["INCRBY", "k", "-5"], ["DECRBY", "k", "-5"], ["GET", "k"]],
    "incr_errors": [["SET", "k", "abc"], ["INCR", "k"], ["SET", "k", "1.5"], ["INCR", "k"],
                    ["SET", "k", " 1"], ["INCR", "k"], ["SET", "k", "01"], ["INCR", "k"],
                    ["SET", "k", "+1"], ["INCR", "k"], ["SET", "k", ""], ["INCR", "k"],
                    ["SET", "k", "1"], ["INCRBY", "k", "x"], ["INCRBY", "k", "1.0"],
                    ["DECRBY", "k", ""], ["INCRBY", "k"], ["INCR"],
                    ["RPUSH", "l", "a"], ["INCR", "l"], ["DECRBY", "l", "1"]],
    "incr_overflow": [["SET", "k", I64_MAX], ["INCR", "k"], ["INCRBY", "k", "1"],
                      ["GET", "k"], ["SET", "k", I64_MIN], ["DECR", "k"], ["DECRBY", "k", "1"],
                      ["INCRBY", "k", "-1"], ["SET", "k", "0"], ["DECRBY", "k", I64_MIN],
                      ["INCRBY", "k", I64_MIN], ["DECRBY", "k", I64_MAX], ["GET", "k"],
                      ["SET", "k", "9223372036854775808"], ["INCR", "k"],
                      ["INCRBY", "k2", "9223372036854775808"]],
    "incr_keeps_ttl": [["SET", "k", "1", "EX", "100"], ["INCR", "k"], ["TTL", "k"],
                       ["INCRBYFLOAT", "k", "1.5"], ["TTL", "k"]],
    "incrbyfloat": [["INCRBYFLOAT", "k", "10.5"], ["INCRBYFLOAT", "k", "0.1"],
                    ["INCRBYFLOAT", "k", "-5"], ["INCRBYFLOAT", "k", "5.0e3"], ["GET", "k"],
                    ["SET", "i", "10"], ["INCRBYFLOAT", "i", "1"], ["INCRBYFLOAT", "i", "1.0"],
                    ["INCRBYFLOAT", "i", "0.0000000000000000001"],
                    ["SET", "f", "3.0"], ["INCRBYFLOAT", "f", "0"],
                    ["SET", "z", "0"], ["INCRBYFLOAT", "z", "-0.0"], ["INCRBYFLOAT", "z", "1e-20"],
                    ["INCRBYFLOAT", "z", "-1e-20"]],
    "incrbyfloat_format": [["SET", "k", "1"], ["INCRBYFLOAT", "k", "0.1"],
                           ["INCRBYFLOAT", "k", "0.2"], ["INCRBYFLOAT", "k", "1e17"],
                           ["INCRBYFLOAT", "k", "-1e17"], ["INCRBYFLOAT", "k", "1.23456789012345678"],
                           ["SET", "b", "1e300"], ["INCRBYFLOAT", "b", "1"],
                           ["SET", "h", "0x10"], ["INCRBYFLOAT", "h", "1"],
                           ["INCRBYFLOAT", "s", "3.14159265358979323846"],
                           ["INCRBYFLOAT", "n", "-1.5"], ["INCRBYFLOAT", "n", "1.5"], ["GET", "n"]],
    "incrbyfloat_errors": [["SET", "k", "abc"], ["INCRBYFLOAT", "k", "1"],
                           ["SET", "k", "1"], ["INCRBYFLOAT", "k", "abc"],
                           ["INCRBYFLOAT", "k", "nan"], ["INCRBYFLOAT", "k", "inf"],
                           ["INCRBYFLOAT", "k", "-inf"], ["INCRBYFLOAT", "k", ""],
                           ["INCRBYFLOAT", "k", " 1"], ["INCRBYFLOAT", "k", "1 "],
                           ["SET", "b", "1.7e308"], ["INCRBYFLOAT", "b", "1.7e308"],
                           ["GET", "b"], ["SET", "inf", "inf"], ["INCRBYFLOAT", "inf", "1"],
                           ["RPUSH", "l", "a"], ["INCRBYFLOAT", "l", "1"], ["INCRBYFLOAT", "k"]],
    "lcs_like_arity": [["GETSET"], ["APPEND"], ["SETRANGE"], ["GETRANGE"], ["MGET"],
                       ["INCRBYFLOAT"], ["DECR"], ["PSETEX"], ["SETEX"], ["GETDEL", "a", "b"]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_string_case(diff, name):
    for cmd in CASES[name]:
        diff.check(*cmd)


@pytest.mark.parametrize("name", ["set_plain", "incrbyfloat", "getrange", "mget", "set_get"])
def test_string_case_resp3(diff, name):
    for cmd in CASES[name]:
        diff.check3(*cmd)


def test_large_values(diff):
    big = b"x" * 100000
    diff.check("SET", "k", big)
    diff.check("APPEND", "k", big)
    diff.check("STRLEN", "k")
    diff.check("GETRANGE", "k", "99990", "100010")
    diff.check("SETRANGE", "k", "250000", "end")
    diff.check("STRLEN", "k")
    diff.check("GETRANGE", "k", "199995", "200005")


def test_expired_key_behaves_missing(diff):
    diff.check("SET", "k", "v", "PX", "30")
    diff.check("SET", "n", "5", "PX", "30")
    time.sleep(0.1)
    for cmd in (["GET", "k"], ["STRLEN", "k"], ["APPEND", "k", "x"], ["GET", "k"],
                ["INCR", "n"], ["SET", "k", "v", "XX"], ["EXISTS", "k"]):
        diff.check(*cmd)


def test_integer_range_roundtrip(diff):
    for v in ["0", "-1", "1", I64_MAX, I64_MIN, "9223372036854775808", "-9223372036854775809",
              "10000", "-10000", "4294967296", "1" * 25]:
        diff.check("SET", "k", v)
        diff.check("GET", "k")
        diff.check("STRLEN", "k")
        diff.check("INCRBY", "k", "0")
