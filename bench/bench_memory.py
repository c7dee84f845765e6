#!/usr/bin/env python3
# Memory per dataset shape, Cairn against stock redis-server 7.0: loads N keys of
# one shape (short strings, 5-field hashes, 5-member sets, 5-member zsets) into a
# fresh pair of servers through pipelined writes, then prints used_memory (INFO
# memory) and RSS (/proc/<pid>/status) for both and the Cairn/Redis ratio.
import argparse
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

SHAPES = ["string", "hash", "set", "zset"]


def command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def shape_command(shape, i):
    key = "key:%d" % i
    if shape == "string":
        return command(["SET", key, "value:%d" % i])
    if shape == "hash":
        return command(["HSET", key] + sum((["field%d" % j, "v%d" % (i + j)] for j in range(5)), []))
    if shape == "set":
        return command(["SADD", key] + ["member:%d" % (i + j) for j in range(5)])
    return command(["ZADD", key] + sum(([str(j + 1), "member:%d" % (i + j)] for j in range(5)), []))


def load(port, n, make_command, batch=2000):
    """n pipelined writes make_command(0..n-1); a reader thread drains replies while we send."""
    sock = socket.create_connection(("127.0.0.1", port))
    counts = {"replies": 0, "errors": 0}

    def reader():
        buf = b""
        while counts["replies"] < n:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
            lines = buf.split(b"\r\n")
            buf = lines.pop()
            for line in lines:
                counts["replies"] += 1
                if line.startswith(b"-"):
                    counts["errors"] += 1

    t = threading.Thread(target=reader)
    t.start()
    for start in range(0, n, batch):
        sock.sendall(b"".join(make_command(i) for i in range(start, min(n, start + batch))))
    t.join()
    sock.close()
    if counts["replies"] != n or counts["errors"]:
        raise RuntimeError("port %d: %d replies, %d errors for %d commands" %
                           (port, counts["replies"], counts["errors"], n))


def info_memory(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(command(["INFO", "memory"]))
    data = b""
    while True:
        data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n")
        if head.startswith(b"$") and len(rest) >= int(head[1:]):
            break
    sock.close()
    fields = {}
    for line in rest.decode().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v
    return int(fields["used_memory"])


def human(n):
    return "%.1fM" % (n / 1e6)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", "-n", type=int, default=1000000)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--cairn-bin", default=servers.default_cairn())
    ap.add_argument("--redis-bin", default="/usr/bin/redis-server")
    args = ap.parse_args()
    header = "%-7s %10s %10s %6s  %10s %10s %6s" % (
        "shape", "redis used", "cairn used", "ratio", "redis rss", "cairn rss", "ratio")
    print("%d keys per shape, a fresh server pair per shape" % args.keys)
    print(header)
    print("-" * len(header))
    worst = 0.0
    for shape in args.shapes.split(","):
        redis, cairn = servers.start_pair(args.cairn_bin, args.redis_bin)
        try:
            base = {s.name: info_memory(s.port) for s in (redis, cairn)}
            for s in (redis, cairn):
                load(s.port, args.keys, lambda i: shape_command(shape, i))
            used = {s.name: info_memory(s.port) - base[s.name] for s in (redis, cairn)}
            rss = {s.name: s.rss_bytes() for s in (redis, cairn)}
        finally:
            redis.stop()
            cairn.stop()
        ur = used["cairn"] / used["redis"] if used["redis"] else 0.0
        rr = rss["cairn"] / rss["redis"] if rss["redis"] else 0.0
        worst = max(worst, ur)
        print("%-7s %10s %10s %6.2f  %10s %10s %6.2f" % (
            shape, human(used["redis"]), human(used["cairn"]), ur, human(rss["redis"]),
            human(rss["cairn"]), rr), flush=True)
    print("worst used_memory ratio cairn/redis: %.2f (target <= 1.0)" % worst)


if __name__ == "__main__":
    main()
