#!/usr/bin/env python3
# Throughput and latency of Cairn against stock redis-server 7.0 with
# redis-benchmark: the same tests, client count and pipelining against both
# servers in alternation; prints ops/s, p50 and p99 and the Cairn/Redis ratio.
import argparse
import csv
import io
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

TESTS = "set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100"


def run_benchmark(port, test, requests, clients, pipeline):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", test,
                          "-n", str(requests), "-c", str(clients), "-P", str(pipeline),
                          "--csv"], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError("redis-benchmark failed on port %d:\n%s" % (port, out.stderr))
    rows = {}
    for row in csv.DictReader(io.StringIO(out.stdout)):
        rows[row["test"]] = row
    # lrange_100 also reports the LPUSH that fills the list; keep the named test.
    for name, row in rows.items():
        if name.split(" ")[0].lower() == test:
            return row
    raise RuntimeError("no %s row in:\n%s" % (test, out.stdout))


def cpu_seconds(pid):
    """User+system CPU time the process has used (from /proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", "-n", type=int, default=1000000)
    ap.add_argument("--clients", "-c", type=int, default=50)
    ap.add_argument("--pipelines", default="1,16", help="comma list of -P values")
    ap.add_argument("--tests", default=TESTS)
    ap.add_argument("--rounds", type=int, default=1, help="alternating runs per test (median)")
    ap.add_argument("--cairn-bin", default=servers.default_cairn())
    ap.add_argument("--redis-bin", default="/usr/bin/redis-server")
    args = ap.parse_args()

    redis, cairn = servers.start_pair(args.cairn_bin, args.redis_bin)
    print("redis-server pid %d port %d; cairn pid %d port %d; -n %d -c %d" %
          (redis.pid, redis.port, cairn.pid, cairn.port, args.requests, args.clients))
    # With one redis-benchmark process on a small machine, -P 1 is bound by the
    # client; the server CPU time per request (us/op) shows the servers' own cost.
    header = "%-11s %3s %12s %12s %6s  %13s %13s  %13s %6s" % (
        "test", "-P", "redis ops/s", "cairn ops/s", "ratio", "p50 r/c ms", "p99 r/c ms",
        "cpu us/op r/c", "ratio")
    print(header)
    print("-" * len(header))
    worst = None
    try:
        for p in [int(x) for x in args.pipelines.split(",")]:
            for test in args.tests.split(","):
                res = {"redis": [], "cairn": []}
                cpu = {"redis": 0.0, "cairn": 0.0}
                for i in range(args.rounds):
                    # Alternate who goes first so neither always gets the warm cache.
                    order = [("redis", redis), ("cairn", cairn)]
                    if i % 2:
                        order.reverse()
                    for name, srv in order:
                        before = cpu_seconds(srv.pid)
                        res[name].append(run_benchmark(srv.port, test, args.requests,
                                                       args.clients, p))
                        cpu[name] += cpu_seconds(srv.pid) - before

                def med(name, field):
                    vals = sorted(float(r[field]) for r in res[name])
                    return vals[len(vals) // 2]

                rr, cr = med("redis", "rps"), med("cairn", "rps")
                ratio = cr / rr if rr else 0.0
                worst = ratio if worst is None else min(worst, ratio)
                ops = args.requests * args.rounds
                rc, cc = cpu["redis"] * 1e6 / ops, cpu["cairn"] * 1e6 / ops
                print("%-11s %3d %12.0f %12.0f %6.2f  %6.3f/%-6.3f %6.3f/%-6.3f  %6.2f/%-6.2f %6.2f" % (
                    test, p, rr, cr, ratio, med("redis", "p50_latency_ms"),
                    med("cairn", "p50_latency_ms"), med("redis", "p99_latency_ms"),
                    med("cairn", "p99_latency_ms"), rc, cc, cc / rc if rc else 0.0), flush=True)
    finally:
        redis.stop()
        cairn.stop()
    print("worst throughput ratio cairn/redis: %.2f (target >= 1.0)" % worst)


if __name__ == "__main__":
    main()
