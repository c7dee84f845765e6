# RDB files across implementations: a seeded random dataset of every type Cairn
# stores (ints, binary and long strings, small and large lists, hashes, int and
# plain sets, sorted sets, TTLs, several dbs) saved by Cairn must pass
# redis-check-rdb and load into stock redis-server 7.0 with the same DEBUG DIGEST
# and the same keys; saved by stock Redis it must load into Cairn the same way.
# Set RDB_ROUNDTRIP_SEED=<n> to replay one seed.
import os
import random
import shutil
import subprocess
import tempfile
import time

import pytest

DBS = (0, 1, 7, 15)
KEYS_PER_DB = 700
SEEDS = [int(os.environ["RDB_ROUNDTRIP_SEED"])] if os.environ.get("RDB_ROUNDTRIP_SEED") else \
    [1, int(time.time()) % 1_000_000]


def check_rdb_bin():
    return shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"


def rand_bytes(rnd, n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


def rand_string(rnd):
    r = rnd.random()
    if r < 0.15:
        return str(rnd.randint(0, 10000)).encode()  # shared-integer range
    if r < 0.3:
        return str(rnd.choice((-1, 1)) * rnd.getrandbits(rnd.randint(8, 63))).encode()
    if r < 0.35:
        return rnd.choice((b"", b"-0", b"007", b"1e3", b"9223372036854775808",
                           b"-9223372036854775808", b" 1", b"3.14"))
    if r < 0.55:
        return rand_bytes(rnd, rnd.randint(1, 50))
    if r < 0.6:
        # Long and compressible: LZF in the file.
        return (b"cairn-%d-" % rnd.randint(0, 99)) * rnd.randint(10, 3000)
    return b"v%d" % rnd.randint(0, 10**9)


def rand_member(rnd, ints):
    if ints:
        return str(rnd.randint(-(1 << 40), 1 << 40)).encode()
    if rnd.random() < 0.02:
        return rand_bytes(rnd, rnd.randint(65, 120))  # too long for a listpack entry
    return b"m%d" % rnd.randint(0, 10**6)


def rand_score(rnd):
    r = rnd.random()
    if r < 0.05:
        return rnd.choice((float("inf"), float("-inf"), 0.0, -0.0))
    if r < 0.4:
        return float(rnd.randint(-1000, 1000))
    if r < 0.5:
        return rnd.uniform(-1e-300, 1e-300)
    return rnd.uniform(-1e9, 1e9)


def dataset(seed):
    """[(db, command args...)] for one seed; the same list feeds both servers."""
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)
    cmds = []
    for db in DBS:
        for i in range(KEYS_PER_DB):
            key = b"%d:%d:%s" % (db, i, rand_bytes(rnd, rnd.randint(0, 6)).hex().encode())
            big = rnd.random() < 0.2
            t = rnd.choice(("string", "string", "list", "hash", "intset", "set", "zset"))
            if t == "string":
                cmds.append((db, "SET", key, rand_string(rnd)))
            elif t == "list":
                n = rnd.randint(129, 700) if big else rnd.randint(1, 20)
                vals = [rand_member(rnd, rnd.random() < 0.5) for _ in range(n)]
                for j in range(0, n, 200):
                    cmds.append((db, "RPUSH", key) + tuple(vals[j:j + 200]))
            elif t == "hash":
                n = rnd.randint(129, 400) if big else rnd.randint(1, 30)
                fields = []
                for j in range(n):
                    fields += [b"f%d" % j, rand_member(rnd, rnd.random() < 0.3)]
                cmds.append((db, "HSET", key) + tuple(fields))
            elif t in ("intset", "set"):
                ints = t == "intset"
                n = rnd.randint(513, 900) if big else rnd.randint(1, 40)
                cmds.append((db, "SADD", key) + tuple(rand_member(rnd, ints) for _ in range(n)))
            else:
                n = rnd.randint(129, 400) if big else rnd.randint(1, 30)
                args = []
                for _ in range(n):
                    args += [repr(rand_score(rnd)).encode(), rand_member(rnd, rnd.random() < 0.2)]
                cmds.append((db, "ZADD", key) + tuple(args))
            r = rnd.random()
            if r < 0.15:
                cmds.append((db, "PEXPIREAT", key, now_ms + rnd.randint(3_600_000, 10**10)))
            elif r < 0.2:
                cmds.append((db, "EXPIRE", key, rnd.randint(3600, 10**6)))
    return cmds


def apply(srv, cmds):
    clients = {}
    try:
        for db in DBS:
            clients[db] = srv.client(db=db)
        pipes = {db: c.pipeline(transaction=False) for db, c in clients.items()}
        for db, *args in cmds:
            pipes[db].execute_command(*args)
        for p in pipes.values():
            for r in p.execute(raise_on_error=True):
                assert not isinstance(r, Exception), r
    finally:
        for c in clients.values():
            c.close()


def snapshot(srv):
    """{db: {key: (type, value, pexpiretime)}} through ordinary read commands."""
    out = {}
    for db in DBS:
        c = srv.client(db=db)
        try:
            keys = c.keys("*")
            p = c.pipeline(transaction=False)
            for k in keys:
                p.type(k)
            types = p.execute()
            p = c.pipeline(transaction=False)
            for k, t in zip(keys, types):
                t = t.decode()
                if t == "string":
                    p.get(k)
                elif t == "list":
                    p.lrange(k, 0, -1)
                elif t == "hash":
                    p.hgetall(k)
                elif t == "set":
                    p.smembers(k)
                elif t == "zset":
                    p.zrange(k, 0, -1, withscores=True)
                else:
                    raise AssertionError("unexpected type %s for %r" % (t, k))
                p.execute_command("PEXPIRETIME", k)
            res = p.execute()
            out[db] = {k: (t, res[2 * i], res[2 * i + 1])
                       for i, (k, t) in enumerate(zip(keys, types))}
        finally:
            c.close()
    return out


def digest(srv):
    c = srv.client()
    try:
        return c.execute_command("DEBUG", "DIGEST")
    finally:
        c.close()


def compare_snapshots(a, b, seed):
    for db in DBS:
        ka, kb = set(a[db]), set(b[db])
        assert ka == kb, "seed %d db %d: keys differ: only cairn %r, only redis %r" % (
            seed, db, sorted(ka - kb)[:5], sorted(kb - ka)[:5])
        for k in ka:
            assert a[db][k] == b[db][k], "seed %d db %d key %r:\n cairn %r\n redis %r" % (
                seed, db, k, a[db][k], b[db][k])


def save(srv):
    c = srv.client()
    try:
        assert c.execute_command("SAVE") in (b"OK", "OK", True)
    finally:
        c.close()


@pytest.fixture
def servers(cairn_harness):
    """start(binary, dir) -> Server; every server is stopped at teardown."""
    started = []
    dirs = []

    def start(which, data_dir, *extra):
        binary = cairn_harness.redis_bin() if which == "redis" else None
        args = ["--dir", data_dir, "--enable-debug-command", "yes"] + list(extra)
        srv = cairn_harness.start_server(args, binary=binary)
        started.append(srv)
        return srv

    def mkdir():
        d = tempfile.mkdtemp(prefix="cairn-rdbrt-")
        dirs.append(d)
        return d

    start.mkdir = mkdir
    yield start
    for srv in started:
        srv.stop()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_cairn_rdb_loads_in_stock_redis(servers, seed):
    cmds = dataset(seed)
    d = servers.mkdir()
    cairn = servers("cairn", d)
    apply(cairn, cmds)
    want_digest = digest(cairn)
    want = snapshot(cairn)
    save(cairn)
    cairn.stop()
    dump = os.path.join(d, "dump.rdb")
    out = subprocess.run([check_rdb_bin(), dump], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "RDB looks OK" in out.stdout, \
        "seed %d: redis-check-rdb failed:\n%s%s" % (seed, out.stdout[-3000:], out.stderr)

    # Deep listpack/ziplist checks on load, so a subtly wrong blob is refused.
    redis_srv = servers("redis", d, "--dbfilename", "dump.rdb", "--sanitize-dump-payload", "yes")
    assert digest(redis_srv) == want_digest, "seed %d: DEBUG DIGEST differs" % seed
    compare_snapshots(want, snapshot(redis_srv), seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_stock_redis_rdb_loads_in_cairn(servers, seed):
    cmds = dataset(seed)
    d = servers.mkdir()
    redis_srv = servers("redis", d)
    apply(redis_srv, cmds)
    want_digest = digest(redis_srv)
    want = snapshot(redis_srv)
    save(redis_srv)
    redis_srv.stop()

    cairn = servers("cairn", d, "--dbfilename", "dump.rdb")
    assert digest(cairn) == want_digest, "seed %d: DEBUG DIGEST differs" % seed
    compare_snapshots(snapshot(cairn), want, seed)
    # And back: Cairn's re-save of Redis's file still loads in Redis alike.
    save(cairn)
    cairn.stop()
    redis2 = servers("redis", d, "--sanitize-dump-payload", "yes")
    assert digest(redis2) == want_digest, "seed %d: digest differs after Cairn re-saved" % seed
