# Differential tests of CONFIG GET/SET/REWRITE/HELP: Cairn and stock redis-server
# 7.0 (both started with `--save "" --appendonly no --port N`) must give identical
# replies, values and errors. Every test restores what it changed.
import pytest

# Directives whose defaults do not depend on the start command line.
STABLE = [
    "maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-clients", "timeout",
    "tcp-keepalive", "hz", "databases", "appendfsync", "hash-max-listpack-entries",
    "hash-max-ziplist-value", "zset-max-listpack-entries", "list-max-listpack-size",
    "set-max-intset-entries", "slave-read-only", "replica-serve-stale-data",
    "repl-ping-slave-period", "repl-backlog-size", "client-output-buffer-limit",
    "client-query-buffer-limit", "proto-max-bulk-len", "notify-keyspace-events",
    "slaveof", "replicaof", "masterauth", "requirepass", "protected-mode", "bind",
    "unixsocketperm", "oom-score-adj-values", "latency-tracking-info-percentiles",
    "shutdown-on-sigterm", "lua-time-limit", "loglevel", "supervised", "daemonize",
    "watchdog-period", "rdb-key-save-delay", "appendonly", "save",
]


@pytest.mark.parametrize("name", STABLE)
def test_get_default(diff, name):
    diff.check("CONFIG", "GET", name)


@pytest.mark.parametrize("pattern", ["maxmemory*", "*slave*", "hash-max-*", "repl-*",
                                     "cluster-*", "tls-*", "lazyfree*", "?z", "nosuch*"])
def test_get_patterns(diff, pattern):
    diff.check("CONFIG", "GET", pattern, unordered=True)


def test_get_several_and_case(diff):
    diff.check("CONFIG", "GET", "MAXMEMORY", "timeout", "maxmemory", "hz", unordered=True)
    diff.check("CONFIG", "GET", "nosuch")
    diff.check3("CONFIG", "GET", "timeout")
    diff.check("CONFIG", "GET")


SET_ERRORS = [
    ["CONFIG", "SET", "nosuch", "1"],
    ["CONFIG", "SET", "maxmemory", "1", "nosuch", "2"],
    ["CONFIG", "SET", "databases", "3"],
    ["CONFIG", "SET", "daemonize", "yes"],
    ["CONFIG", "SET", "dir", "/tmp"],
    ["CONFIG", "SET", "dbfilename", "x.rdb"],
    ["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"],
    ["CONFIG", "SET", "maxmemory", "1xb"],
    ["CONFIG", "SET", "timeout", "abc"],
    ["CONFIG", "SET", "port", "70000"],
    ["CONFIG", "SET", "slave-read-only", "maybe"],
    ["CONFIG", "SET", "maxmemory-policy", "lru"],
    ["CONFIG", "SET", "save", "10"],
    ["CONFIG", "SET", "save", "0 1"],
    ["CONFIG", "SET", "client-output-buffer-limit", "master 1 1 1"],
    ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 1"],
    ["CONFIG", "SET", "client-output-buffer-limit", "normal 1x 1 1"],
    ["CONFIG", "SET", "notify-keyspace-events", "KQ"],
    ["CONFIG", "SET", "maxmemory-clients", "200%"],
    ["CONFIG", "SET", "shutdown-on-sigint", "save nosave"],
    ["CONFIG", "SET", "oom-score-adj-values", "0 1"],
    ["CONFIG", "SET", "replicaof", "127.0.0.1 1"],
    ["CONFIG", "SET", "proto-max-bulk-len", "1000"],
    ["CONFIG", "SET", "maxmemory", "1", "timeout"],
    ["CONFIG", "SET", "maxmemory"],
    ["CONFIG", "FOO"],
    ["CONFIG"],
    ["CONFIG", "RESETSTAT", "x"],
]


@pytest.mark.parametrize("cmd", SET_ERRORS, ids=lambda c: " ".join(c[1:])[:40])
def test_set_errors(diff, cmd):
    diff.check(*cmd)
    diff.check("CONFIG", "GET", "maxmemory")  # nothing half-applied


@pytest.mark.parametrize("name,values", [
    ("maxmemory", ["10mb", "1gb", "123", "0"]),
    ("maxmemory-clients", ["10%", "1kb", "0"]),
    ("timeout", ["30", "0"]),
    ("hz", ["1000", "0", "10"]),
    ("maxmemory-policy", ["ALLKEYS-LRU", "noeviction"]),
    ("slave-read-only", ["no", "YES"]),
    ("notify-keyspace-events", ["KEA", "Ex$", "gKm", "AKEmn", ""]),
    ("client-output-buffer-limit", ["normal 1mb 2mb 3 pubsub 1k 2k 3",
                                    "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"]),
    ("save", ["", "3600 1 300 100", ""]),
    ("hash-max-ziplist-entries", ["7", "512"]),
    ("list-max-listpack-size", ["-5", "100", "-2"]),
    ("shutdown-on-sigterm", ["now save", "force", "default"]),
    ("latency-tracking-info-percentiles", ["50 99.99", "", "50 99 99.9"]),
    ("requirepass", ["", ""]),
])
def test_set_then_get(diff, name, values):
    before = diff.check("CONFIG", "GET", name)
    for v in values:
        diff.check("CONFIG", "SET", name, v)
        diff.check("CONFIG", "GET", name)
    diff.check("CONFIG", "SET", name, before[1].decode())


def test_set_many_is_atomic(diff):
    diff.check("CONFIG", "SET", "timeout", "5", "maxmemory", "bad")
    diff.check("CONFIG", "GET", "timeout")
    diff.check("CONFIG", "SET", "timeout", "5", "maxmemory", "5mb")
    diff.check("CONFIG", "GET", "timeout", "maxmemory", unordered=True)
    diff.check("CONFIG", "SET", "timeout", "0", "maxmemory", "0")


def test_help_resetstat_rewrite(diff):
    diff.check("CONFIG", "HELP")
    diff.check("CONFIG", "RESETSTAT")
    diff.check("CONFIG", "REWRITE")  # neither was started with a file
