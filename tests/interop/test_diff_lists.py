# Differential tests of the list commands: hand-written scripts per command
# (including wrong type, wrong arity, bad integers and out-of-range cases) and a
# seeded random sequence of list commands, each reply compared between Cairn and
# stock redis-server 7.0. Seed: $CAIRN_LIST_SEED, else random; printed on failure.
import os
import random

import pytest

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"
BIG = "x" * 10000  # larger than any list node: a "plain" node

# Lists that span several nodes at the default list-max-listpack-size (-2, 8 KB).
LONG = [str(i) for i in range(3000)]
WIDE = ["v%03d-%s" % (i, "p" * (i % 90)) for i in range(400)]

CASES = {
    # pushes
    "push": [["LPUSH", "l", "a"], ["LPUSH", "l", "b", "c"], ["RPUSH", "l", "d", "e"],
             ["LRANGE", "l", "0", "-1"], ["LLEN", "l"], ["TYPE", "l"],
             ["OBJECT", "ENCODING", "l"]],
    "push_binary": [["RPUSH", "l", b"\x00\xff", b"", b"\r\n"], ["LRANGE", "l", "0", "-1"]],
    "push_ints": [["RPUSH", "l", "1", "-1", "0", I64_MAX, I64_MIN, "007", "1.5", " 1"],
                  ["LRANGE", "l", "0", "-1"], ["LPOS", "l", "007"]],
    "pushx": [["LPUSHX", "l", "a"], ["RPUSHX", "l", "a", "b"], ["EXISTS", "l"],
              ["RPUSH", "l", "x"], ["LPUSHX", "l", "a", "b"], ["RPUSHX", "l", "c"],
              ["LRANGE", "l", "0", "-1"]],
    "push_arity": [["LPUSH", "l"], ["RPUSH"], ["LPUSHX", "l"], ["RPUSHX"]],
    "push_wrongtype": [["SET", "s", "v"], ["LPUSH", "s", "a"], ["RPUSH", "s", "a"],
                       ["LPUSHX", "s", "a"], ["RPUSHX", "s", "a"], ["GET", "s"]],
    # pops
    "pop": [["RPUSH", "l", "a", "b", "c"], ["LPOP", "l"], ["RPOP", "l"], ["LPOP", "l"],
            ["EXISTS", "l"], ["LPOP", "l"], ["RPOP", "l"]],
    "pop_count": [["RPUSH", "l", "a", "b", "c", "d", "e"], ["LPOP", "l", "2"],
                  ["RPOP", "l", "2"], ["LPOP", "l", "0"], ["RPOP", "l", "10"],
                  ["EXISTS", "l"], ["LPOP", "l", "1"], ["RPOP", "l", "0"], ["LPOP", "l"]],
    "pop_count_errors": [["RPUSH", "l", "a"], ["LPOP", "l", "-1"], ["RPOP", "l", "x"],
                         ["LPOP", "l", "1.5"], ["LPOP", "l", "1", "2"], ["RPOP"],
                         ["LPOP", "nokey", "-1"], ["LPOP", "l", I64_MAX], ["EXISTS", "l"]],
    "pop_wrongtype": [["SET", "s", "v"], ["LPOP", "s"], ["RPOP", "s", "1"], ["LPOP", "s", "0"]],
    # LLEN / LINDEX / LRANGE
    "llen": [["LLEN", "l"], ["RPUSH", "l", "a", "b"], ["LLEN", "l"], ["SET", "s", "v"],
             ["LLEN", "s"], ["LLEN"], ["LLEN", "a", "b"]],
    "lindex": [["RPUSH", "l", "a", "b", "c"], ["LINDEX", "l", "0"], ["LINDEX", "l", "-1"],
               ["LINDEX", "l", "2"], ["LINDEX", "l", "3"], ["LINDEX", "l", "-4"],
               ["LINDEX", "l", "x"], ["LINDEX", "nokey", "x"], ["LINDEX", "l", I64_MAX],
               ["LINDEX", "l", I64_MIN], ["LINDEX", "l", "9223372036854775808"],
               ["SET", "s", "v"], ["LINDEX", "s", "0"], ["LINDEX", "s", "x"], ["LINDEX", "l"]],
    "lrange": [["RPUSH", "l", "a", "b", "c", "d"], ["LRANGE", "l", "0", "-1"],
               ["LRANGE", "l", "1", "2"], ["LRANGE", "l", "-2", "-1"],
               ["LRANGE", "l", "-100", "100"], ["LRANGE", "l", "3", "1"],
               ["LRANGE", "l", "4", "10"], ["LRANGE", "l", "0", "-5"],
               ["LRANGE", "l", I64_MIN, I64_MAX], ["LRANGE", "l", "a", "1"],
               ["LRANGE", "l", "0", "b"], ["LRANGE", "nokey", "0", "-1"],
               ["LRANGE", "nokey", "x", "-1"], ["SET", "s", "v"], ["LRANGE", "s", "0", "-1"],
               ["LRANGE", "s", "x", "-1"], ["LRANGE", "l", "0"]],
    # LSET
    "lset": [["RPUSH", "l", "a", "b", "c"], ["LSET", "l", "0", "x"], ["LSET", "l", "-1", "z"],
             ["LSET", "l", "3", "q"], ["LSET", "l", "-4", "q"], ["LSET", "l", "x", "q"],
             ["LSET", "nokey", "0", "q"], ["LSET", "nokey", "x", "q"],
             ["LSET", "l", "1", BIG], ["LRANGE", "l", "0", "-1"], ["LSET", "l", "1", "y"],
             ["LRANGE", "l", "0", "-1"], ["SET", "s", "v"], ["LSET", "s", "0", "a"],
             ["LSET", "l", "0"]],
    # LINSERT
    "linsert": [["RPUSH", "l", "a", "b", "c", "b"], ["LINSERT", "l", "BEFORE", "b", "x"],
                ["LINSERT", "l", "after", "b", "y"], ["LINSERT", "l", "AFTER", "c", "z"],
                ["LINSERT", "l", "before", "nope", "q"], ["LRANGE", "l", "0", "-1"],
                ["LINSERT", "l", "middle", "b", "q"], ["LINSERT", "nokey", "BEFORE", "a", "b"],
                ["LINSERT", "nokey", "bad", "a", "b"], ["EXISTS", "nokey"],
                ["SET", "s", "v"], ["LINSERT", "s", "BEFORE", "a", "b"],
                ["LINSERT", "s", "bad", "a", "b"], ["LINSERT", "l", "BEFORE", "a"]],
    # LREM
    "lrem": [["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"], ["LREM", "l", "1", "a"],
             ["LRANGE", "l", "0", "-1"], ["LREM", "l", "-2", "a"], ["LRANGE", "l", "0", "-1"],
             ["LREM", "l", "0", "b"], ["LRANGE", "l", "0", "-1"], ["LREM", "l", "0", "zz"],
             ["LREM", "l", "x", "a"], ["LREM", "nokey", "0", "a"], ["LREM", "nokey", "x", "a"],
             ["LREM", "l", "0", "a"], ["LREM", "l", "0", "c"], ["EXISTS", "l"],
             ["SET", "s", "v"], ["LREM", "s", "0", "a"], ["LREM", "l", "0"]],
    "lrem_extreme_counts": [["RPUSH", "l", "a", "a", "b"], ["LREM", "l", I64_MIN, "a"],
                            ["RPUSH", "l", "b"], ["LREM", "l", I64_MAX, "b"], ["EXISTS", "l"]],
    # LTRIM
    "ltrim": [["RPUSH", "l", "a", "b", "c", "d", "e"], ["LTRIM", "l", "1", "-2"],
              ["LRANGE", "l", "0", "-1"], ["LTRIM", "l", "-100", "100"],
              ["LRANGE", "l", "0", "-1"], ["LTRIM", "l", "1", "0"], ["EXISTS", "l"],
              ["RPUSH", "l", "a", "b"], ["LTRIM", "l", "5", "10"], ["EXISTS", "l"],
              ["LTRIM", "nokey", "0", "1"], ["LTRIM", "l", "x", "1"],
              ["LTRIM", "nokey", "x", "1"], ["SET", "s", "v"], ["LTRIM", "s", "0", "1"],
              ["LTRIM", "l", "0"]],
    # LPOS
    "lpos": [["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"], ["LPOS", "l", "c"],
             ["LPOS", "l", "c", "RANK", "2"], ["LPOS", "l", "c", "RANK", "-1"],
             ["LPOS", "l", "c", "RANK", "-3"], ["LPOS", "l", "c", "RANK", "4"],
             ["LPOS", "l", "c", "COUNT", "0"], ["LPOS", "l", "c", "COUNT", "2"],
             ["LPOS", "l", "c", "COUNT", "0", "RANK", "-1"],
             ["LPOS", "l", "c", "COUNT", "0", "RANK", "2"],
             ["LPOS", "l", "c", "COUNT", "1", "MAXLEN", "3"],
             ["LPOS", "l", "c", "MAXLEN", "2"], ["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"],
             ["LPOS", "l", "zz"], ["LPOS", "l", "zz", "COUNT", "1"],
             ["LPOS", "l", "c", "rank", "1", "count", "5", "maxlen", "0"]],
    "lpos_errors": [["RPUSH", "l", "a"], ["LPOS", "l", "a", "RANK", "0"],
                    ["LPOS", "l", "a", "RANK", "x"], ["LPOS", "l", "a", "COUNT", "-1"],
                    ["LPOS", "l", "a", "COUNT", "x"], ["LPOS", "l", "a", "MAXLEN", "-1"],
                    ["LPOS", "l", "a", "MAXLEN", "x"], ["LPOS", "l", "a", "RANK"],
                    ["LPOS", "l", "a", "FOO", "1"], ["LPOS", "l", "a", "COUNT"],
                    ["LPOS", "nokey", "a"], ["LPOS", "nokey", "a", "COUNT", "0"],
                    ["LPOS", "nokey", "a", "RANK", "0"], ["SET", "s", "v"], ["LPOS", "s", "a"],
                    ["LPOS", "s", "a", "RANK", "0"], ["LPOS", "l"],
                    ["LPOS", "l", "a", "RANK", I64_MIN],
                    ["LPOS", "l", "a", "RANK", I64_MIN, "COUNT", "1"],
                    ["LPOS", "l", "a", "RANK", I64_MAX]],
    # LMOVE / RPOPLPUSH
    "lmove": [["RPUSH", "s", "a", "b", "c"], ["LMOVE", "s", "d", "LEFT", "RIGHT"],
              ["LMOVE", "s", "d", "right", "left"], ["LMOVE", "s", "d", "LEFT", "LEFT"],
              ["LRANGE", "d", "0", "-1"], ["EXISTS", "s"], ["LMOVE", "s", "d", "LEFT", "LEFT"],
              ["LMOVE", "d", "d", "LEFT", "RIGHT"], ["LRANGE", "d", "0", "-1"],
              ["LMOVE", "d", "d", "UP", "LEFT"], ["LMOVE", "d", "d", "LEFT", "DOWN"],
              ["LMOVE", "nokey", "d", "UP", "LEFT"], ["LMOVE", "d", "e"]],
    "lmove_single_self": [["RPUSH", "l", "a"], ["LMOVE", "l", "l", "LEFT", "RIGHT"],
                          ["LRANGE", "l", "0", "-1"], ["RPOPLPUSH", "l", "l"],
                          ["LRANGE", "l", "0", "-1"]],
    "lmove_wrongtype": [["SET", "str", "v"], ["RPUSH", "l", "a"],
                        ["LMOVE", "str", "l", "LEFT", "LEFT"],
                        ["LMOVE", "l", "str", "LEFT", "LEFT"], ["LRANGE", "l", "0", "-1"],
                        ["LMOVE", "nokey", "str", "LEFT", "LEFT"],
                        ["RPOPLPUSH", "l", "str"], ["RPOPLPUSH", "str", "l"],
                        ["RPOPLPUSH", "nokey", "str"]],
    "rpoplpush": [["RPUSH", "s", "a", "b"], ["RPOPLPUSH", "s", "d"], ["RPOPLPUSH", "s", "d"],
                  ["RPOPLPUSH", "s", "d"], ["LRANGE", "d", "0", "-1"], ["EXISTS", "s"],
                  ["RPOPLPUSH", "s"], ["RPOPLPUSH", "s", "d", "x"]],
    # LMPOP
    "lmpop": [["RPUSH", "b", "1", "2", "3"], ["LMPOP", "2", "a", "b", "LEFT"],
              ["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5"], ["EXISTS", "b"],
              ["LMPOP", "2", "a", "b", "LEFT"], ["RPUSH", "a", "x", "y"],
              ["LMPOP", "1", "a", "left", "count", "1"], ["LMPOP", "3", "q", "w", "a", "RIGHT"]],
    "lmpop_errors": [["RPUSH", "a", "x"], ["LMPOP", "0", "a", "LEFT"],
                     ["LMPOP", "-1", "a", "LEFT"], ["LMPOP", "x", "a", "LEFT"],
                     ["LMPOP", "2", "a", "LEFT"], ["LMPOP", "5", "a", "b", "LEFT"],
                     ["LMPOP", "1", "a", "UP"], ["LMPOP", "1", "a", "LEFT", "COUNT"],
                     ["LMPOP", "1", "a", "LEFT", "COUNT", "0"],
                     ["LMPOP", "1", "a", "LEFT", "COUNT", "-1"],
                     ["LMPOP", "1", "a", "LEFT", "COUNT", "x"],
                     ["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"],
                     ["LMPOP", "1", "a", "LEFT", "FOO"], ["LMPOP", "1", "a"],
                     ["LMPOP", "1"], ["LMPOP", I64_MAX, "a", "LEFT"],
                     ["SET", "s", "v"], ["LMPOP", "2", "s", "a", "LEFT"],
                     ["LMPOP", "2", "a", "s", "LEFT"], ["LLEN", "a"]],
    # blocking commands on non-empty keys and their argument errors
    "blocking_immediate": [["RPUSH", "a", "1", "2", "3"], ["BLPOP", "nokey", "a", "0"],
                           ["BRPOP", "a", "0.5"], ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"],
                           ["BRPOPLPUSH", "b", "c", "1"], ["LRANGE", "c", "0", "-1"],
                           ["RPUSH", "a", "4", "5"],
                           ["BLMPOP", "0", "2", "x", "a", "RIGHT", "COUNT", "5"],
                           ["EXISTS", "a"]],
    "blocking_errors": [["RPUSH", "a", "1"], ["SET", "s", "v"], ["BLPOP", "a", "x"],
                        ["BLPOP", "a", "-1"], ["BLPOP", "s", "a", "0"], ["BRPOP", "a"],
                        ["BLMOVE", "a", "b", "UP", "LEFT", "0"],
                        ["BLMOVE", "a", "b", "LEFT", "LEFT", "x"],
                        ["BLMOVE", "s", "b", "LEFT", "LEFT", "0"],
                        ["BLMOVE", "a", "s", "LEFT", "LEFT", "0"],
                        ["BRPOPLPUSH", "a", "b", "-1"], ["BRPOPLPUSH", "s", "b", "0"],
                        ["BLMPOP", "x", "1", "a", "LEFT"], ["BLMPOP", "0", "0", "a", "LEFT"],
                        ["BLMPOP", "0", "1", "a", "UP"], ["BLMPOP", "-1", "1", "a", "LEFT"],
                        ["BLMPOP", "0", "1", "s", "LEFT"], ["BLMPOP", "0", "1", "a"],
                        ["BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0"],
                        ["LLEN", "a"]],
    # multi-node lists and big elements
    "big_elements": [["RPUSH", "l", "a", BIG, "b"], ["LPUSH", "l", BIG], ["LINDEX", "l", "2"],
                     ["LINSERT", "l", "AFTER", "a", BIG], ["LRANGE", "l", "0", "-1"],
                     ["LREM", "l", "0", BIG], ["LRANGE", "l", "0", "-1"]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_list_case(diff, name):
    for cmd in CASES[name]:
        diff.check(*cmd)


@pytest.mark.parametrize("name", ["pop_count", "lindex", "lpos", "lmpop", "lmove"])
def test_list_case_resp3(diff, name):
    for cmd in CASES[name]:
        diff.check3(*cmd)


def test_long_list_ops(diff):
    diff.check("RPUSH", "l", *LONG)
    diff.check("LPUSH", "w", *WIDE)
    for idx in ["0", "1", "1499", "1500", "2999", "-1", "-3000", "3000", "-1234"]:
        diff.check("LINDEX", "l", idx)
    diff.check("LRANGE", "l", "1000", "1100")
    diff.check("LRANGE", "l", "-50", "-1")
    diff.check("LSET", "l", "1777", BIG)
    diff.check("LINSERT", "l", "BEFORE", "2000", "inserted")
    diff.check("LINSERT", "w", "AFTER", WIDE[200], BIG)
    diff.check("LREM", "l", "-1", "5")
    diff.check("LPOS", "l", "2500")
    diff.check("LPOS", "l", "2500", "MAXLEN", "100")
    diff.check("LTRIM", "l", "10", "-10")
    diff.check("LPOP", "l", "500")
    diff.check("RPOP", "l", "500")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LRANGE", "w", "0", "-1")
    diff.check("LLEN", "l")


def test_multi_blocking_returns_at_once(diff):
    for which in ("cairn", "redis"):
        diff.send(which, "MULTI")
    for cmd in (["BLPOP", "empty", "0"], ["BRPOP", "empty", "1"],
                ["BLMOVE", "empty", "d", "LEFT", "LEFT", "0"], ["BRPOPLPUSH", "empty", "d", "0"],
                ["BLMPOP", "0", "1", "empty", "LEFT"]):
        rc, rr = diff.both(*cmd)
        assert rc == rr
    diff.check("EXEC")


SEED = int(os.environ.get("CAIRN_LIST_SEED", str(random.SystemRandom().randrange(1 << 31))))
KEYS = ["l0", "l1", "l2", "str"]


def random_command(r):
    def key():
        return r.choice(KEYS)

    def val():
        x = r.random()
        if x < 0.5:
            return str(r.randint(0, 9))
        if x < 0.9:
            return r.choice(["a", "b", "c", "", "long-" + "z" * r.randint(0, 300)])
        return "B" * r.randint(5000, 12000)

    def idx():
        return str(r.randint(-40, 40))

    choice = r.randrange(20)
    if choice == 0:
        return ["LPUSH", key()] + [val() for _ in range(r.randint(1, 30))]
    if choice == 1:
        return ["RPUSH", key()] + [val() for _ in range(r.randint(1, 30))]
    if choice == 2:
        return [r.choice(["LPUSHX", "RPUSHX"]), key(), val()]
    if choice == 3:
        return [r.choice(["LPOP", "RPOP"]), key()] + ([str(r.randint(0, 8))] if r.random() < 0.5 else [])
    if choice == 4:
        return ["LLEN", key()]
    if choice == 5:
        return ["LRANGE", key(), idx(), idx()]
    if choice == 6:
        return ["LINDEX", key(), idx()]
    if choice == 7:
        return ["LSET", key(), idx(), val()]
    if choice == 8:
        return ["LINSERT", key(), r.choice(["BEFORE", "AFTER"]), val(), val()]
    if choice == 9:
        return ["LREM", key(), str(r.randint(-3, 3)), val()]
    if choice == 10:
        return ["LTRIM", key(), idx(), idx()]
    if choice == 11:
        cmd = ["LPOS", key(), val()]
        if r.random() < 0.5:
            cmd += ["RANK", str(r.choice([-3, -2, -1, 1, 2, 3]))]
        if r.random() < 0.5:
            cmd += ["COUNT", str(r.randint(0, 3))]
        if r.random() < 0.3:
            cmd += ["MAXLEN", str(r.randint(0, 20))]
        return cmd
    if choice == 12:
        return ["LMOVE", key(), key(), r.choice(["LEFT", "RIGHT"]), r.choice(["LEFT", "RIGHT"])]
    if choice == 13:
        return ["RPOPLPUSH", key(), key()]
    if choice == 14:
        n = r.randint(1, 3)
        cmd = ["LMPOP", str(n)] + [key() for _ in range(n)] + [r.choice(["LEFT", "RIGHT"])]
        if r.random() < 0.5:
            cmd += ["COUNT", str(r.randint(1, 5))]
        return cmd
    if choice == 15:
        return [r.choice(["BLPOP", "BRPOP"]), key(), key(), "0.01"]
    if choice == 16:
        return ["SET", "str", val()]
    if choice == 17:
        return ["RPUSH", key()] + [str(i) for i in range(r.randint(100, 1500))]
    if choice == 18:
        return ["LPOS", key(), val(), "RANK", "-1", "COUNT", "0"]
    return ["LRANGE", key(), "0", "-1"]


def test_random_list_sequence(diff):
    r = random.Random(SEED)
    sent = []
    try:
        for _ in range(1500):
            cmd = random_command(r)
            if cmd[0] in ("BLPOP", "BRPOP"):
                # Only run blocking pops when they cannot block (both servers agree).
                if not any(diff.redis.type(k) == b"list" for k in cmd[1:-1]):
                    continue
            sent.append(cmd)
            diff.check(*cmd)
        for k in KEYS:
            sent.append(["LRANGE", k, "0", "-1"])
            diff.check("LRANGE", k, "0", "-1")
    except AssertionError as e:
        tail = "\n  ".join(" ".join(repr(a)[:50] for a in c) for c in sent[-15:])
        raise AssertionError("%s\nCAIRN_LIST_SEED=%d, after %d commands; last:\n  %s" %
                             (e, SEED, len(sent), tail))
