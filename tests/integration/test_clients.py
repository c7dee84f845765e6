# Real clients against Cairn: redis-py (commands, pipelines, transactions, pub/sub),
# a hiredis C program compiled at test time, and redis-cli (arguments and stdin).
import os
import shutil
import subprocess
import threading

import pytest
import redis


def test_redis_py_basic(cairn):
    assert cairn.ping() is True
    assert cairn.set("k", "v") is True
    assert cairn.get("k") == b"v"
    assert cairn.incr("n") == 1
    assert cairn.incrby("n", 41) == 42
    assert cairn.mset({"a": "1", "b": "2"}) is True
    assert cairn.mget("a", "b", "nope") == [b"1", b"2", None]
    assert cairn.delete("a", "b", "nope") == 2
    assert cairn.exists("k") == 1
    assert cairn.expire("k", 100) is True
    assert 0 < cairn.ttl("k") <= 100
    with pytest.raises(redis.ResponseError, match="wrong kind of value"):
        cairn.rpush("list", "x")
        cairn.get("list")


def test_redis_py_pipeline(cairn):
    p = cairn.pipeline(transaction=False)
    for i in range(100):
        p.set("p%d" % i, i)
    for i in range(100):
        p.get("p%d" % i)
    res = p.execute()
    assert res[:100] == [True] * 100
    assert res[100:] == [str(i).encode() for i in range(100)]


def test_redis_py_transaction(cairn):
    p = cairn.pipeline(transaction=True)
    p.set("t", "1").incr("t").get("t")
    assert p.execute() == [True, 2, b"2"]


def test_redis_py_pubsub(cairn, cairn_factory):
    sub = cairn_factory().pubsub()
    sub.subscribe("chan")
    msg = sub.get_message(timeout=5)
    assert msg["type"] == "subscribe" and msg["channel"] == b"chan"
    assert cairn.publish("chan", "hello") == 1
    msg = sub.get_message(timeout=5)
    assert msg == {"type": "message", "pattern": None, "channel": b"chan", "data": b"hello"}
    sub.psubscribe("ch*")
    assert sub.get_message(timeout=5)["type"] == "psubscribe"
    assert cairn.publish("chan", "again") == 2
    got = [sub.get_message(timeout=5) for _ in range(2)]
    assert sorted(m["type"] for m in got) == ["message", "pmessage"]
    sub.close()


def test_redis_py_blocking_pop_wakes(cairn, cairn_factory):
    other = cairn_factory()
    result = {}

    def pop():
        result["v"] = other.blpop("q", timeout=10)

    t = threading.Thread(target=pop)
    t.start()
    # BLPOP has to be waiting before the push for this test to mean anything; the
    # server's own client list says so (no sleeping on a guess).
    for _ in range(500):
        if any(c.get("cmd") == "blpop" for c in cairn.client_list()):
            break
        threading.Event().wait(0.01)
    cairn.rpush("q", "x")
    t.join(15)
    assert result.get("v") == (b"q", b"x")


HIREDIS_PROGRAM = r"""
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char* what) { fprintf(stderr, "FAIL %s\n", what); return 1; }

int main(int argc, char** argv) {
  redisContext* c = redisConnect("127.0.0.1", atoi(argv[1]));
  if (c == NULL || c->err) return fail("connect");
  redisReply* r = redisCommand(c, "SET %s %b", "hk", "a\0b", (size_t)3);
  if (!r || r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK")) return fail("set");
  freeReplyObject(r);
  r = redisCommand(c, "GET hk");
  if (!r || r->type != REDIS_REPLY_STRING || r->len != 3 || memcmp(r->str, "a\0b", 3))
    return fail("get");
  freeReplyObject(r);
  for (int i = 0; i < 100; i++) redisAppendCommand(c, "INCR counter");
  for (int i = 0; i < 100; i++) {
    if (redisGetReply(c, (void**)&r) != REDIS_OK || r->type != REDIS_REPLY_INTEGER ||
        r->integer != i + 1)
      return fail("pipelined incr");
    freeReplyObject(r);
  }
  r = redisCommand(c, "NOSUCHCOMMAND");
  if (!r || r->type != REDIS_REPLY_ERROR) return fail("error reply");
  freeReplyObject(r);
  r = redisCommand(c, "RPUSH l a b c");
  freeReplyObject(r);
  r = redisCommand(c, "LRANGE l 0 -1");
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || strcmp(r->element[2]->str, "c"))
    return fail("lrange");
  freeReplyObject(r);
  redisFree(c);
  printf("hiredis ok\n");
  return 0;
}
"""


def test_hiredis_client(cairn_server, tmp_path):
    if not os.path.exists("/usr/include/hiredis/hiredis.h"):
        pytest.skip("libhiredis-dev is not installed (scripts/install-deps.sh installs it)")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "hiredis_client.c"
    src.write_text(HIREDIS_PROGRAM)
    exe = tmp_path / "hiredis_client"
    subprocess.run([cc, "-O1", "-o", str(exe), str(src), "-lhiredis"], check=True)
    out = subprocess.run([str(exe), str(cairn_server.port)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hiredis ok"


def redis_cli(port, *args, stdin=None):
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli not installed")
    return subprocess.run(["redis-cli", "-p", str(port)] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=30)


def test_redis_cli_args(cairn_server):
    assert redis_cli(cairn_server.port, "PING").stdout == "PONG\n"
    assert redis_cli(cairn_server.port, "SET", "k", "hello world").stdout == "OK\n"
    assert redis_cli(cairn_server.port, "GET", "k").stdout == "hello world\n"
    assert redis_cli(cairn_server.port, "INCR", "n").stdout == "1\n"
    assert redis_cli(cairn_server.port, "GET", "missing").stdout == "\n"
    out = redis_cli(cairn_server.port, "NOSUCH")
    assert out.stdout.startswith("ERR unknown command")


def test_redis_cli_stdin(cairn_server):
    script = 'SET a 1\nINCR a\nSET b "two words"\nGET b\nRPUSH l x y\nLRANGE l 0 -1\n'
    out = redis_cli(cairn_server.port, stdin=script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["OK", "2", "OK", "two words", "2", "x", "y"]


def test_redis_cli_pipe_mode(cairn_server):
    payload = "".join("*3\r\n$3\r\nSET\r\n$2\r\nk%d\r\n$1\r\n%d\r\n" % (i % 10, i % 10)
                      for i in range(1000))
    out = redis_cli(cairn_server.port, "--pipe", stdin=payload)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "errors: 0, replies: 1000" in out.stdout
