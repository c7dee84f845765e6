# Differential test of what writes propagate: Cairn and stock redis-server 7.0
# both run with appendonly on; the same seeded sequence of writes of every family
# (plus scripted transactions, lazy expiry and served blocked pops) goes to both,
# and their incremental AOF files must match command by command. Absolute times
# computed from "now" (PEXPIREAT / SET ... PXAT) are compared within a tolerance.
import glob
import os
import random
import time

import pytest

from conftest import RespConn, RespError, canon, encode_command, fmt_cmd, harness

AOF_ARGS = ["--appendonly", "yes", "--appendfsync", "always", "--aof-timestamp-enabled", "no",
            "--enable-debug-command", "yes"]
TIME_TOLERANCE_MS = 5000
FAR_FUTURE_S = 4102444800  # 2100-01-01
PAST_S = 1000000000        # 2001


class AofPair:
    def __init__(self):
        self.srv = {}
        self.conn = {}
        self.mismatches = []
        for which in ("cairn", "redis"):
            binary = harness.redis_bin() if which == "redis" else None
            self.srv[which] = harness.start_server(args=AOF_ARGS, binary=binary)
            self.conn[which] = RespConn(self.srv[which].port)
            # Only lazy expiry, which happens at the same command on both sides.
            r = self.conn[which].call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
            assert not isinstance(r, RespError), "%s: %r" % (which, r)

    def both(self, *args):
        rc = self.conn["cairn"].call(*args)
        rr = self.conn["redis"].call(*args)
        if canon(rc) != canon(rr):
            self.mismatches.append("%s\n    cairn: %r\n    redis: %r" % (fmt_cmd(args), rc, rr))
        return rc, rr

    def aof_commands(self, which):
        files = glob.glob(os.path.join(self.srv[which].workdir, "appendonlydir", "*.incr.aof"))
        assert files, "%s wrote no incremental AOF in %s" % (which, self.srv[which].workdir)
        files.sort(key=lambda p: int(os.path.basename(p).split(".")[-3]))
        with open(files[-1], "rb") as f:
            return parse_aof(f.read())

    def close(self):
        for c in self.conn.values():
            c.close()
        for s in self.srv.values():
            s.stop()


def parse_aof(data):
    cmds, i = [], 0
    while i < len(data):
        assert data[i:i + 1] == b"*", "unexpected AOF byte at %d: %r" % (i, data[i:i + 20])
        eol = data.index(b"\r\n", i)
        n = int(data[i + 1:eol])
        i = eol + 2
        argv = []
        for _ in range(n):
            eol = data.index(b"\r\n", i)
            ln = int(data[i + 1:eol])
            argv.append(data[eol + 2:eol + 2 + ln])
            i = eol + 2 + ln + 2
        cmds.append(argv)
    return cmds


def time_positions(argv):
    """Indexes of arguments that are absolute times derived from the clock."""
    name = argv[0].upper()
    if name == b"PEXPIREAT" and len(argv) > 2:
        return {2}
    if name == b"SET":
        return {j + 1 for j in range(3, len(argv) - 1) if argv[j].upper() == b"PXAT"}
    return set()


def same_op(a, b):
    if len(a) != len(b):
        return False
    times = time_positions(a)
    for j, (x, y) in enumerate(zip(a, b)):
        if j in times:
            try:
                if abs(int(x) - int(y)) > TIME_TOLERANCE_MS:
                    return False
            except ValueError:
                return False
        elif x != y:
            return False
    return True


@pytest.fixture(scope="module")
def pair():
    try:
        p = AofPair()
    except harness.ServerStartError as e:
        pytest.fail(str(e))
    yield p
    p.close()


# --- the random write sequence ----------------------------------------------

def gen_command(rng):
    k = lambda prefix: "%s%d" % (prefix, rng.randrange(4))
    s, h, l, st, z = k("s"), k("h"), k("l"), k("set"), k("z")
    member = lambda: rng.choice("abcdefg")
    num = lambda: str(rng.randrange(-5, 50))
    fl = lambda: rng.choice(["1.5", "-0.25", "3e2", "0.1", "10", "1.0e-3"])
    rel_s = lambda: str(rng.randrange(1000, 100000))
    rel_ms = lambda: str(rng.randrange(1000000, 100000000))
    future_s = lambda: str(FAR_FUTURE_S + rng.randrange(1000))
    past_s = lambda: str(PAST_S + rng.randrange(1000))
    choices = [
        lambda: ["SET", s, member()] + rng.choice([
            [], ["EX", rel_s()], ["PX", rel_ms()], ["EXAT", future_s()], ["EXAT", past_s()],
            ["PXAT", future_s() + "123"], ["KEEPTTL"]]) + rng.choice([[], ["NX"], ["XX"]]) +
        rng.choice([[], ["GET"]]),
        lambda: ["SETEX", s, rel_s(), member()],
        lambda: ["PSETEX", s, rel_ms(), member()],
        lambda: ["SETNX", s, member()],
        lambda: ["GETSET", s, num()],
        lambda: ["GETDEL", s],
        lambda: ["GETEX", s] + rng.choice([
            [], ["EX", rel_s()], ["PX", rel_ms()], ["EXAT", future_s()], ["PXAT", past_s() + "000"],
            ["PERSIST"]]),
        lambda: [rng.choice(["INCR", "DECR"]), s],
        lambda: [rng.choice(["INCRBY", "DECRBY"]), s, num()],
        lambda: ["INCRBYFLOAT", s, fl()],
        lambda: ["APPEND", s, member()],
        lambda: ["SETRANGE", s, str(rng.randrange(4)), member()],
        lambda: ["MSET", s, num(), k("s"), num()],
        lambda: ["MSETNX", s, num(), k("s"), num()],
        lambda: [rng.choice(["EXPIRE", "EXPIREAT", "PEXPIRE", "PEXPIREAT"]),
                 rng.choice([s, h, l, st, z])] + [None] +
        rng.choice([[], ["NX"], ["XX"], ["GT"], ["LT"]]),
        lambda: ["PERSIST", rng.choice([s, h, l, st, z])],
        lambda: ["HSET", h, member(), num(), member(), num()],
        lambda: ["HSETNX", h, member(), num()],
        lambda: ["HDEL", h, member(), member()],
        lambda: ["HINCRBY", h, member(), num()],
        lambda: ["HINCRBYFLOAT", h, member(), fl()],
        lambda: [rng.choice(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), l, member(), member()],
        lambda: [rng.choice(["LPOP", "RPOP"]), l] + rng.choice([[], [str(rng.randrange(4))]]),
        lambda: ["LMOVE", l, k("l"), rng.choice(["LEFT", "right"]), rng.choice(["left", "RIGHT"])],
        lambda: ["RPOPLPUSH", l, k("l")],
        lambda: ["LMPOP", "2", l, k("l"), rng.choice(["LEFT", "RIGHT"]), "COUNT",
                 str(rng.randrange(1, 5))],
        lambda: [rng.choice(["BLPOP", "BRPOP"]), l, k("l"), "0.01"],
        lambda: ["BLMOVE", l, k("l"), "LEFT", "RIGHT", "0.01"],
        lambda: ["BRPOPLPUSH", l, k("l"), "0.01"],
        lambda: ["BLMPOP", "0.01", "1", l, "RIGHT", "COUNT", "3"],
        lambda: ["LSET", l, str(rng.randrange(-2, 3)), member()],
        lambda: ["LINSERT", l, "BEFORE", member(), member()],
        lambda: ["LREM", l, str(rng.randrange(-2, 3)), member()],
        lambda: ["LTRIM", l, "0", str(rng.randrange(5))],
        lambda: ["SADD", st, member(), member(), member()],
        lambda: ["SREM", st, member()],
        lambda: ["SMOVE", st, k("set"), member()],
        lambda: [rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k("set"), st, k("set")],
        lambda: ["SPOP", st, "100"],
        lambda: ["ZADD", z] + rng.choice([[], ["NX"], ["XX"], ["GT"], ["CH"]]) +
        [num(), member(), num(), member()],
        lambda: ["ZINCRBY", z, fl(), member()],
        lambda: ["ZREM", z, member()],
        lambda: [rng.choice(["ZPOPMIN", "ZPOPMAX"]), z] + rng.choice([[], ["2"]]),
        lambda: [rng.choice(["BZPOPMIN", "BZPOPMAX"]), z, k("z"), "0.01"],
        lambda: ["ZMPOP", "2", z, k("z"), rng.choice(["MIN", "MAX"]), "COUNT", "2"],
        lambda: ["BZMPOP", "0.01", "1", z, "MAX"],
        lambda: ["ZREMRANGEBYSCORE", z, "0", "10"],
        lambda: ["ZREMRANGEBYRANK", z, "0", "0"],
        lambda: [rng.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), k("z"), "2", z,
                 k("z")],
        lambda: ["ZRANGESTORE", k("z"), z, "0", "-1"],
        lambda: [rng.choice(["DEL", "UNLINK"]), rng.choice([s, h, l, st, z]), k("s")],
        lambda: [rng.choice(["RENAME", "RENAMENX"]), s, k("s")],
        lambda: ["COPY", rng.choice([h, l, st, z]), k("x"), "REPLACE"],
        lambda: ["MOVE", s, "1"],
        lambda: ["GET", s],
        lambda: ["EXISTS", s, h],
    ]
    cmd = rng.choice(choices)()
    if None in cmd:  # the EXPIRE family's time: future, past, relative
        name = cmd[0]
        if name == "EXPIRE":
            t = rng.choice([rel_s(), "-5"])
        elif name == "PEXPIRE":
            t = rng.choice([rel_ms(), "-5"])
        elif name == "EXPIREAT":
            t = rng.choice([future_s(), past_s()])
        else:
            t = rng.choice([future_s() + "999", past_s() + "000"])
        cmd[cmd.index(None)] = t
    return cmd


def run_sequence(pair, seed, n):
    rng = random.Random(seed)
    i = 0
    while i < n:
        if rng.random() < 0.08:
            pair.both("MULTI")
            for _ in range(rng.randrange(1, 5)):
                pair.both(*gen_command(rng))
            pair.both("EXEC")
        else:
            pair.both(*gen_command(rng))
        i += 1


def scripted(pair):
    # Lazy expiry: the expired key goes out as DEL before the write that found it.
    pair.both("SET", "lazy", "5", "PX", "100")
    time.sleep(0.3)
    pair.both("INCR", "lazy")
    # Blocked clients served by a later push pop in their non-blocking form.
    for block, push in [
        (["BLPOP", "bl", "0"], ["RPUSH", "bl", "a", "b"]),
        (["BLMOVE", "bm", "bm2", "LEFT", "RIGHT", "0"], ["LPUSH", "bm", "x"]),
        (["BRPOPLPUSH", "br", "br2", "0"], ["LPUSH", "br", "x"]),
        (["BLMPOP", "0", "1", "bmp", "LEFT", "COUNT", "5"], ["RPUSH", "bmp", "1", "2"]),
        (["BZPOPMIN", "bz", "0"], ["ZADD", "bz", "1", "a", "2", "b"]),
        (["BZMPOP", "0", "1", "bzm", "MAX", "COUNT", "3"], ["ZADD", "bzm", "1", "a"]),
    ]:
        waiters = {}
        for which in ("cairn", "redis"):
            w = RespConn(pair.srv[which].port)
            w.send_raw(encode_command(block))
            waiters[which] = w
        time.sleep(0.1)
        pair.both(*push)
        got = {which: w.read() for which, w in waiters.items()}
        for w in waiters.values():
            w.close()
        if canon(got["cairn"]) != canon(got["redis"]):
            pair.mismatches.append("%s (served)\n    cairn: %r\n    redis: %r" %
                                   (fmt_cmd(block), got["cairn"], got["redis"]))
    # SPOP whose choice is forced, a transaction and the flushes.
    pair.both("SADD", "one", "only")
    pair.both("SPOP", "one")
    pair.both("MULTI")
    pair.both("SET", "t", "1")
    pair.both("EXPIRE", "t", "1000")
    pair.both("INCRBYFLOAT", "t", "0.5")
    pair.both("EXEC")
    pair.both("SELECT", "2")
    pair.both("SET", "in2", "v", "EX", "1000")
    pair.both("FLUSHDB")
    pair.both("SELECT", "0")
    pair.both("FLUSHALL")


def test_aof_matches_redis(pair):
    scripted(pair)
    for seed in range(3):
        run_sequence(pair, seed, 400)
    cairn_ops = pair.aof_commands("cairn")
    redis_ops = pair.aof_commands("redis")
    context = ""
    if pair.mismatches:
        context = "\nreplies that already differed (first 5):\n  " + "\n  ".join(
            pair.mismatches[:5])
    for i, (c, r) in enumerate(zip(cairn_ops, redis_ops)):
        if not same_op(c, r):
            around = lambda ops: "\n      ".join(
                fmt_cmd(op) for op in ops[max(0, i - 4):i + 3])
            pytest.fail("AOF command %d differs\n  cairn: %s\n  redis: %s\n"
                        "  cairn around:\n      %s\n  redis around:\n      %s%s" %
                        (i, fmt_cmd(c), fmt_cmd(r), around(cairn_ops), around(redis_ops),
                         context))
    assert len(cairn_ops) == len(redis_ops), (
        "AOF lengths differ: cairn %d, redis %d; extra: %s%s" %
        (len(cairn_ops), len(redis_ops),
         fmt_cmd((cairn_ops if len(cairn_ops) > len(redis_ops) else redis_ops)[
             min(len(cairn_ops), len(redis_ops))]), context))
    assert len(redis_ops) > 500
