#!/usr/bin/python3
# Regenerates the RDB seed corpus (tests/fuzz/corpus/rdb): small dump.rdb files saved
# by a stock redis-server 7.0 (one per type/encoding family), plus hand-built files in
# the pre-7.0 encodings (zipmap, ziplists, intset, quicklist v1, text-score zsets).
# Usage: /usr/bin/python3 tests/fuzz/gen_rdb_seeds.py [out_dir]
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import redis

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "rdb")
MAX_SEED = 4096


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throwaway redis-server with no persistence of its own."""

    def __init__(self, extra=()):
        self.dir = tempfile.mkdtemp(prefix="cairn-seed-")
        self.port = free_port()
        args = ["redis-server", "--port", str(self.port), "--save", "", "--dir", self.dir,
                "--daemonize", "no", "--enable-debug-command", "yes", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.r = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.r.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def dump(self):
        self.r.save()
        with open(os.path.join(self.dir, "dump.rdb"), "rb") as f:
            return f.read()

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def from_redis(build, extra=()):
    s = Server(extra)
    try:
        build(s.r)
        return s.dump()
    finally:
        s.close()


# --- stock Redis 7.0 files -------------------------------------------------------

def strings(r):
    for i, v in enumerate([b"0", b"-128", b"127", b"32767", b"-32768", b"2147483647",
                           b"-2147483648", b"2147483648", b"007", b"", b"\x00\xff\r\n", b"1.5"]):
        r.set(b"s%d" % i, v)
    r.set(12345, "int key")
    r.set("lzf", "abc" * 40)
    r.set("raw21", "x" * 21)


def lists(r):
    r.rpush("l", "a", "", 5, 100, 1000, 70000, 2**31, 2**40, -1, "x" * 70)
    r.rpush("nums", *range(0, 300, 7))


def list_plain(r):
    r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "10")
    r.rpush("pl", "short", "a fairly long element over the threshold", "b")


def list_nodes(r):
    r.rpush("ql", *["e%03d" % i for i in range(120)])


def list_compressed(r):
    r.rpush("cl", *["compressible-element-%d" % (i % 5) for i in range(160)])


def sets_intset(r):
    r.sadd("i16", 1, 2, 3, -7)
    r.sadd("i32", 1, 100000, -100000)
    r.sadd("i64", 1, 2**40, -(2**40))


def sets_table(r):
    r.sadd("st", "a", "b", "c", "\x00bin")
    r.sadd("mixed", 1, "two", 3)


def hash_lp(r):
    r.hset("h", mapping={"f1": "v1", "f2": "2", "n": "-5", "big": "x" * 60})


def hash_table(r):
    r.hset("ht", mapping={"f%d" % i: "v%d" % i for i in range(6)})
    r.hset("long", "k", "y" * 80)


def zset_lp(r):
    r.zadd("z", {"a": 1, "b": 2.5, "c": -3, "inf": float("inf"), "ninf": float("-inf")})


def zset_skiplist(r):
    r.zadd("zs", {"m%d" % i: i * 0.5 for i in range(8)})
    r.zadd("zl", {"m" * 70: 1})


def streams(r):
    r.xadd("st", {"f": "v"}, id="1-1")
    r.xadd("st", {"f": "w", "g": "x"}, id="2-1")
    r.xadd("st", {"a": "b"}, id="3-0")
    r.xdel("st", "2-1")
    r.xgroup_create("st", "grp", id="0")
    r.xreadgroup("grp", "alice", {"st": ">"}, count=1)
    r.execute_command("XGROUP", "CREATECONSUMER", "st", "grp", "bob")
    r.xgroup_create("empty", "g2", id="$", mkstream=True)
    r.set("after", "stream")


def expires(r):
    r.set("k", "v", pxat=4102444800000)
    r.rpush("l", "a")
    r.pexpireat("l", 4102444800123)
    r.sadd("s", 1)
    r.expireat("s", 4102444800)


def multidb(r):
    for db in (0, 1, 9, 15):
        r.execute_command("SELECT", db)
        r.set("k", "db%d" % db)
        r.hset("h", "f", db)


def lru(r):
    r.set("a", 1)
    r.rpush("b", 1)


def lfu(r):
    r.set("a", 1)
    for _ in range(5):
        r.get("a")
    r.sadd("b", "x")


def functions(r):
    r.execute_command("FUNCTION", "LOAD",
                      "#!lua name=seedlib\nredis.register_function('f', function() return 1 end)")
    r.set("k", "v")


def empty(r):
    pass


def everything(r):
    r.set("str", "v")
    r.set("n", 42)
    r.rpush("list", 1, "b")
    r.sadd("iset", 1, 2, 3)
    r.sadd("sset", "a")
    r.hset("hash", mapping={"f": "v", "g": "w", "h": "x"})
    r.zadd("zset", {"m": 1, "n": 2, "o": 3})
    r.xadd("strm", {"f": "v"}, id="5-5")


SMALL = ["hash-max-listpack-entries", "2", "zset-max-listpack-entries", "2",
         "set-max-intset-entries", "2"]

STOCK = [
    ("strings", strings, ()),
    ("strings_nocompress", strings, ("--rdbcompression", "no")),
    ("strings_nochecksum", strings, ("--rdbchecksum", "no")),
    ("lists", lists, ()),
    ("list_plain", list_plain, ()),
    ("list_nodes", list_nodes, ("--list-max-listpack-size", "16")),
    ("list_compressed", list_compressed,
     ("--list-max-listpack-size", "32", "--list-compress-depth", "1")),
    ("sets_intset", sets_intset, ()),
    ("sets_table", sets_table, ()),
    ("hash_listpack", hash_lp, ()),
    ("hash_table", hash_table, ("--hash-max-listpack-entries", "4")),
    ("zset_listpack", zset_lp, ()),
    ("zset_skiplist", zset_skiplist, ("--zset-max-listpack-entries", "4")),
    ("streams", streams, ()),
    ("expires", expires, ()),
    ("multidb", multidb, ()),
    ("lru_idle", lru, ("--maxmemory-policy", "allkeys-lru")),
    ("lfu_freq", lfu, ("--maxmemory-policy", "allkeys-lfu")),
    ("functions", functions, ()),
    ("empty", empty, ()),
    ("everything", everything, ()),
    ("everything_small_limits", everything, tuple("--" + a if i % 2 == 0 else a
                                                  for i, a in enumerate(SMALL))),
]

# --- hand-built files in the encodings Redis 7.0 only reads ----------------------

CRC_POLY = 0x95AC9329AC4BC9B5  # reflected 0xad93d23594c935a9


def crc64(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (CRC_POLY if crc & 1 else 0)
    return crc


def rlen(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def rstr(s):
    s = s.encode() if isinstance(s, str) else s
    return rlen(len(s)) + s


def rdb(version, body, checksum=True):
    data = b"REDIS%04d" % version + body + b"\xff"
    if version >= 5:
        data += struct.pack("<Q", crc64(data) if checksum else 0)
    return data


def ziplist(items):
    entries = b""
    prev = 0
    last = 10
    for it in items:
        start = 10 + len(entries)
        pl = bytes([prev]) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        if isinstance(it, int):
            if 0 <= it <= 12:
                enc = bytes([0xF1 + it])
            elif -128 <= it <= 127:
                enc = b"\xfe" + struct.pack("<b", it)
            elif -32768 <= it <= 32767:
                enc = b"\xc0" + struct.pack("<h", it)
            else:
                enc = b"\xe0" + struct.pack("<q", it)
        else:
            b = it.encode()
            assert len(b) < 64
            enc = bytes([len(b)]) + b
        e = pl + enc
        entries += e
        prev = len(e)
        last = start
    total = 10 + len(entries) + 1
    return struct.pack("<IIH", total, last, len(items)) + entries + b"\xff"


def zipmap(pairs):
    out = bytes([len(pairs)])
    for k, v in pairs:
        out += rstr(k) + rlen(len(v)) + b"\x00" + v.encode()
    return out + b"\xff"


def intset(width, values):
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.pack("<II", width, len(values)) + b"".join(struct.pack(fmt, v) for v in values)


def legacy():
    db0 = b"\xfe\x00"
    return [
        ("legacy_zipmap_v3", rdb(3, db0 + b"\x09" + rstr("hash") +
                                 rstr(zipmap([("f1", "v1"), ("f2", "v2")])))),
        ("legacy_ziplists_v7", rdb(7, db0 +
                                   b"\x0a" + rstr("lz") + rstr(ziplist(["a", 7, -100, 1000, 2**40])) +
                                   b"\x0c" + rstr("zz") + rstr(ziplist(["one", 1, "two", "2.5"])) +
                                   b"\x0d" + rstr("hz") + rstr(ziplist(["f", "v", "g", 12])))),
        ("legacy_quicklist_v8", rdb(8, db0 + b"\x0e" + rstr("q") + rlen(2) +
                                    rstr(ziplist(["a", "b"])) + rstr(ziplist([3, 4])))),
        ("legacy_intsets_v6", rdb(6, db0 +
                                  b"\x0b" + rstr("i2") + rstr(intset(2, [-3, 4])) +
                                  b"\x0b" + rstr("i4") + rstr(intset(4, [-70000, 70000])) +
                                  b"\x0b" + rstr("i8") + rstr(intset(8, [-(2**40), 2**40])))),
        ("legacy_plain_types_v4", rdb(4, db0 +
                                      b"\x01" + rstr("list") + rlen(2) + rstr("x") + rstr("y") +
                                      b"\x03" + rstr("zset") + rlen(2) + rstr("a") + b"\x031.5" +
                                      rstr("b") + b"\xfe" +
                                      b"\xfd" + struct.pack("<i", 2000000000) +
                                      b"\x04" + rstr("hash") + rlen(1) + rstr("f") + rstr("v"))),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = [(name, from_redis(fn, extra)) for name, fn, extra in STOCK] + legacy()
    for name, data in seeds:
        assert len(data) < MAX_SEED, (name, len(data))
        with open(os.path.join(OUT, name + ".rdb"), "wb") as f:
            f.write(data)
        print("%-28s %5d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
