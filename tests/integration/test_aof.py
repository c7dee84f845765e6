"""The append-only file: Redis 7's multi-part layout, fsync policies, rewrite,
truncated and corrupt files, crash safety, and stock Redis loading Cairn's AOF
directory (and the reverse)."""
import os
import signal
import subprocess
import time

import pytest
import redis

from conftest import wait_for


AOF = ["--appendonly", "yes", "--appendfsync", "always"]


def aof_dir(srv):
    return os.path.join(srv.workdir, "appendonlydir")


def manifest(srv):
    with open(os.path.join(aof_dir(srv), "appendonly.aof.manifest")) as f:
        return [line.split() for line in f.read().splitlines() if line.strip()]


def incr_path(srv):
    incr = [m[1] for m in manifest(srv) if m[5] == "i"]
    return os.path.join(aof_dir(srv), incr[-1])


def fill(c, n=200):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("s%d" % i, "v%d" % i)
        p.rpush("list", i)
        p.hset("h%d" % (i % 7), "f%d" % i, i)
        p.sadd("set", i)
        p.zadd("z", {"m%d" % i: i / 3})
    p.expire("s1", 1000)
    p.execute()


def restart(start_cairn, srv, *extra):
    # A new port: the log file is per port, and the old one already says "Ready".
    return start_cairn(*(list(srv.start_args[6:]) + list(extra)), workdir=srv.workdir)


def test_creates_redis7_layout_and_reloads_after_kill9(start_cairn):
    srv = start_cairn(*AOF)
    c = srv.client()
    fill(c)
    c.select(3)
    c.set("in-db3", "x")
    digest = c.execute_command("DEBUG", "DIGEST")
    info = c.info("persistence")
    assert info["aof_enabled"] == 1 and info["aof_last_write_status"] == "ok"
    assert info["aof_current_size"] > 0
    m = manifest(srv)
    assert [x[0] for x in m] == ["file", "file"]
    assert m[0][1] == "appendonly.aof.1.base.rdb" and m[0][5] == "b"
    assert m[1][1] == "appendonly.aof.1.incr.aof" and m[1][5] == "i"
    with open(incr_path(srv), "rb") as f:
        text = f.read()
    assert text.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    assert b"SELECT\r\n$1\r\n3\r\n" in text
    # appendfsync always: everything acknowledged is on disk when kill -9 lands.
    srv.stop(sig=signal.SIGKILL)
    again = restart(start_cairn, srv)
    c2 = again.client()
    assert c2.execute_command("DEBUG", "DIGEST") == digest
    assert 900 < c2.ttl("s1") <= 1000
    assert "DB loaded from append only file" in again.log_text()


def test_everysec_persists_within_seconds(start_cairn):
    srv = start_cairn("--appendonly", "yes", "--appendfsync", "everysec")
    c = srv.client()
    fill(c, 50)
    digest = c.execute_command("DEBUG", "DIGEST")
    time.sleep(1.5)
    srv.stop(sig=signal.SIGKILL)
    again = restart(start_cairn, srv)
    assert again.client().execute_command("DEBUG", "DIGEST") == digest


def test_bgrewriteaof_replaces_base_and_keeps_writes_made_during_it(start_cairn):
    srv = start_cairn(*AOF)
    c = srv.client()
    fill(c, 300)
    c.config_set("rdb-key-save-delay", 2000)  # ~2 s of rewrite for ~1000 keys
    assert c.bgrewriteaof() in (True, b"Background append only file rewriting started",
                                "Background append only file rewriting started")
    assert c.info("persistence")["aof_rewrite_in_progress"] == 1
    with pytest.raises(Exception, match="already in progress"):
        c.bgrewriteaof()
    c.set("during", "rewrite")
    c.incr("counter")
    c.config_set("rdb-key-save-delay", 0)
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 30, "rewrite end")
    info = c.info("persistence")
    assert info["aof_last_bgrewrite_status"] == "ok" and info["aof_rewrites"] == 1
    m = manifest(srv)
    assert [(x[1], x[5]) for x in m] == [("appendonly.aof.2.base.rdb", "b"),
                                         ("appendonly.aof.2.incr.aof", "i")]
    assert sorted(os.listdir(aof_dir(srv))) == ["appendonly.aof.2.base.rdb",
                                                "appendonly.aof.2.incr.aof",
                                                "appendonly.aof.manifest"]
    digest = c.execute_command("DEBUG", "DIGEST")
    srv.stop()
    again = restart(start_cairn, srv)
    c2 = again.client()
    assert c2.execute_command("DEBUG", "DIGEST") == digest
    assert c2.get("during") == b"rewrite"


def test_kill9_during_rewrite_loses_nothing(start_cairn):
    srv = start_cairn(*AOF)
    c = srv.client()
    fill(c, 300)
    c.config_set("rdb-key-save-delay", 5000)
    c.bgrewriteaof()
    c.set("after-fork", "1")
    digest = c.execute_command("DEBUG", "DIGEST")
    pid = srv.pid
    srv.stop(sig=signal.SIGKILL)
    # The orphaned child is still writing its temp file; stop it (it is ours).
    for line in srv.log_text().splitlines():
        if "rewriting started by pid" in line:
            try:
                os.kill(int(line.rsplit(" ", 1)[1]), signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert pid
    again = restart(start_cairn, srv)
    assert again.client().execute_command("DEBUG", "DIGEST") == digest


def test_truncated_last_command_is_cut_with_aof_load_truncated(start_cairn):
    srv = start_cairn(*AOF)
    c = srv.client()
    c.set("a", "1")
    c.set("b", "2")
    srv.stop()
    path = incr_path(srv)
    good = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhal")
    again = restart(start_cairn, srv)
    c2 = again.client()
    assert c2.mget("a", "b", "c") == [b"1", b"2", None]
    assert os.path.getsize(path) == good
    assert "Truncating the AOF" in again.log_text()


def test_truncated_file_refused_without_aof_load_truncated(start_cairn):
    srv = start_cairn(*AOF)
    srv.client().set("a", "1")
    srv.stop()
    path = incr_path(srv)
    with open(path, "ab") as f:
        f.write(b"*2\r\n$3\r\nGET")
    size = os.path.getsize(path)
    with pytest.raises(RuntimeError) as e:  # conftest.ServerStartError
        restart(start_cairn, srv, "--aof-load-truncated", "no")
    assert "Unexpected end of file" in str(e.value)
    assert os.path.getsize(path) == size  # nothing cut without permission


def test_corrupt_middle_stops_startup_with_offset(start_cairn):
    srv = start_cairn(*AOF)
    c = srv.client()
    c.set("a", "1")
    srv.stop()
    path = incr_path(srv)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data + b"garbage that is not RESP\r\n" + b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
    with pytest.raises(RuntimeError) as e:  # conftest.ServerStartError
        restart(start_cairn, srv)
    assert "Bad file format" in str(e.value) and "offset %d" % len(data) in str(e.value)


def test_cut_inside_multi_loads_without_the_transaction(start_cairn):
    srv = start_cairn(*AOF)
    c = srv.client()
    c.set("a", "1")
    p = c.pipeline(transaction=True)
    p.set("b", "2")
    p.set("c", "3")
    p.execute()
    srv.stop()
    path = incr_path(srv)
    with open(path, "rb") as f:
        data = f.read()
    assert data.count(b"MULTI") == 1 and data.endswith(b"EXEC\r\n")
    with open(path, "wb") as f:
        f.write(data[:data.rindex(b"*1\r\n$4\r\nEXEC")])
    again = restart(start_cairn, srv)
    assert again.client().mget("a", "b", "c") == [b"1", None, None]


def test_unknown_command_in_aof_stops_startup(start_cairn):
    srv = start_cairn(*AOF)
    srv.client().set("a", "1")
    srv.stop()
    with open(incr_path(srv), "ab") as f:
        f.write(b"*1\r\n$11\r\nNOSUCHTHING\r\n")
    with pytest.raises(RuntimeError) as e:  # conftest.ServerStartError
        restart(start_cairn, srv)
    assert "Unknown command 'NOSUCHTHING'" in str(e.value)


def test_config_set_appendonly_at_runtime(start_cairn):
    srv = start_cairn()
    c = srv.client()
    fill(c, 20)
    assert not os.path.exists(aof_dir(srv))
    c.config_set("appendonly", "yes")
    assert c.info("persistence")["aof_enabled"] == 1
    c.set("after", "on")
    digest = c.execute_command("DEBUG", "DIGEST")
    c.config_set("appendonly", "no")
    assert c.info("persistence")["aof_enabled"] == 0
    c.set("not-in-aof", "x")
    srv.stop(sig=signal.SIGKILL)
    again = restart(start_cairn, srv, "--appendonly", "yes")
    assert again.client().execute_command("DEBUG", "DIGEST") == digest


def test_appendonly_off_then_on_again_keeps_the_writes_made_while_off(start_cairn):
    # The AOF left from before misses what was written while appendonly was off: turning
    # it on again gives it a new base from memory (as Redis's rewrite at that moment).
    srv = start_cairn("--appendonly", "yes", "--appendfsync", "always")
    c = srv.client()
    fill(c, 20)
    c.config_set("appendonly", "no")
    c.set("while", "off")
    c.config_set("appendonly", "yes")
    c.set("after", "on again")
    digest = c.execute_command("DEBUG", "DIGEST")
    srv.stop(sig=signal.SIGKILL)
    again = restart(start_cairn, srv, "--appendonly", "yes")
    a = again.client()
    assert a.get("while") == b"off"
    assert a.execute_command("DEBUG", "DIGEST") == digest


def test_existing_rdb_is_loaded_when_aof_is_first_enabled(start_cairn):
    srv = start_cairn()
    c = srv.client()
    fill(c, 20)
    digest = c.execute_command("DEBUG", "DIGEST")
    c.save()
    srv.stop()
    again = restart(start_cairn, srv, "--appendonly", "yes")
    assert again.client().execute_command("DEBUG", "DIGEST") == digest
    assert os.path.exists(os.path.join(aof_dir(again), "appendonly.aof.manifest"))


def test_stock_redis_loads_cairn_aof_and_back(start_cairn, start_redis):
    srv = start_cairn(*AOF)
    c = srv.client()
    fill(c, 100)
    c.bgrewriteaof()
    wait_for(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 20, "rewrite")
    c.set("tail", "in incr")
    digest = c.execute_command("DEBUG", "DIGEST")
    srv.stop()
    red = start_redis("--appendonly", "yes", "--enable-debug-command", "yes", "--dir",
                      srv.workdir)
    r = red.client()
    assert r.execute_command("DEBUG", "DIGEST") == digest
    r.set("from-redis", "1")
    r.lpush("list", "redis-was-here")
    digest2 = r.execute_command("DEBUG", "DIGEST")
    red.stop()
    back = start_cairn(*AOF, "--dir", srv.workdir, workdir=srv.workdir)
    assert back.client().execute_command("DEBUG", "DIGEST") == digest2


@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MB tmpfs (root only): a disk that fills up on purpose."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.call(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)]) != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        yield str(mnt)
    finally:
        subprocess.call(["umount", "-l", str(mnt)])


def test_full_disk_gives_misconf_then_recovers_losing_nothing(start_cairn, tiny_fs):
    srv = start_cairn(*AOF, "--dir", tiny_fs)
    c = srv.client()
    c.set("before", "1")
    filler = os.path.join(tiny_fs, "filler")
    with open(filler, "wb") as f:
        try:
            f.write(b"x" * (1 << 20))
        except OSError:
            pass
    value = "v" * 2000
    acked = []
    refused = None
    for i in range(2000):
        try:
            c.set("k%d" % i, value)
            acked.append(i)
        except redis.exceptions.ResponseError as e:
            refused = str(e)
            break
    assert refused is not None and refused.startswith("MISCONF Errors writing to the AOF file")
    assert c.info("persistence")["aof_last_write_status"] == "err"
    os.unlink(filler)
    wait_for(lambda: c.info("persistence")["aof_last_write_status"] == "ok", 10, "recovery")
    c.set("after", "1")
    digest = c.execute_command("DEBUG", "DIGEST")
    srv.stop(sig=signal.SIGKILL)
    again = start_cairn(*AOF, "--dir", tiny_fs, workdir=srv.workdir)
    c2 = again.client()
    assert c2.execute_command("DEBUG", "DIGEST") == digest
    assert c2.exists(*["k%d" % i for i in acked]) == len(acked)
