# Stock Redis tools as Cairn clients: redis-benchmark must run every listed test to
# the end and report a rate for each (speed itself is measured in bench/, not here).
import re
import shutil
import subprocess

import pytest

TESTS = ["set", "get", "incr", "lpush", "rpop", "sadd", "hset", "zadd", "lrange_100"]
# redis-benchmark -q prints e.g. "SET: 41666.67 requests per second, p50=0.375 msec".
EXPECTED = {"set": "SET", "get": "GET", "incr": "INCR", "lpush": "LPUSH", "rpop": "RPOP",
            "sadd": "SADD", "hset": "HSET", "zadd": "ZADD",
            "lrange_100": "LRANGE_100 (first 100 elements)"}


@pytest.fixture
def cairn_port(cairn_harness):
    srv = cairn_harness.start_server()
    yield srv.port
    alive = srv.alive()
    srv.stop()
    assert alive, "Cairn died under redis-benchmark:\n" + srv.log_tail()


def test_redis_benchmark(cairn_port):
    if shutil.which("redis-benchmark") is None:
        pytest.skip("redis-benchmark not installed")
    out = subprocess.run(["redis-benchmark", "-p", str(cairn_port), "-t", ",".join(TESTS),
                          "-n", "2000", "-q"], capture_output=True, text=True, timeout=300)
    text = out.stdout.replace("\r", "\n")
    assert out.returncode == 0, text + out.stderr
    for t in TESTS:
        m = re.search(r"^%s: ([0-9.]+) requests per second" % re.escape(EXPECTED[t]), text, re.M)
        assert m, "no result line for %s in:\n%s" % (t, text[-2000:])
        assert float(m.group(1)) > 0


def test_redis_benchmark_pipelined(cairn_port):
    if shutil.which("redis-benchmark") is None:
        pytest.skip("redis-benchmark not installed")
    out = subprocess.run(["redis-benchmark", "-p", str(cairn_port), "-t", "set,get,lpush",
                          "-n", "5000", "-P", "16", "-q"], capture_output=True, text=True,
                         timeout=300)
    text = out.stdout.replace("\r", "\n")
    assert out.returncode == 0, text + out.stderr
    for name in ("SET", "GET", "LPUSH"):
        assert re.search(r"^%s: [0-9.]+ requests per second" % name, text, re.M), text[-2000:]


def test_redis_cli_info_fields(cairn_port):
    """Tools that scrape INFO (HAProxy checks, sentinel) need these fields."""
    out = subprocess.run(["redis-cli", "-p", str(cairn_port), "INFO", "replication"],
                         capture_output=True, text=True, timeout=30)
    assert "role:master" in out.stdout
