# Directives that act on the running node beyond a stored value: pidfile,
# rename-command and replica-ignore-maxmemory, each checked side by side with stock
# redis-server 7.0 started with the same lines.
import os
import subprocess
import time

import pytest
import redis

import conftest
from conftest import Server, cairn_bin, free_port, wait_for


def start_with_conf(starter, binary, conf_text, workdir, *extra):
    """`<server> FILE [extra ...]` on a free port through the harness (stopped at
    teardown by `starter`, a start_cairn/start_redis fixture's starter)."""
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    conf = os.path.join(workdir, "node.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    args = [conf, "--port", str(port), "--save", "", "--dir", workdir] + list(extra)
    log = os.path.join(workdir, "server-%d-%d.log" % (port, time.monotonic_ns()))
    srv = Server(binary, args, log, port, workdir)
    starter.servers.append(srv)
    return srv.start()


@pytest.fixture
def starter():
    s = conftest._Starter()
    yield s
    reports = s.stop_all()
    if reports:
        pytest.fail("sanitizer report in server log:\n" + "\n".join(reports))


def both(redis_server_bin):
    return [("cairn", cairn_bin()), ("redis", redis_server_bin)]


def reply(c, *args):
    """The reply, or ("error", message) for an error reply."""
    try:
        return c.execute_command(*args)
    except redis.exceptions.ResponseError as e:
        return ("error", str(e))


def raw(c, *args):
    """The reply without redis-py's per-command parsing (COMMAND's chokes on nil)."""
    conn = c.connection_pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        c.connection_pool.release(conn)


# --- pidfile ----------------------------------------------------------------------


def test_pidfile_written_at_start_and_removed_at_shutdown(starter, tmp_path, redis_server_bin):
    for kind, binary in both(redis_server_bin):
        d = str(tmp_path / kind)
        srv = start_with_conf(starter, binary, "pidfile node.pid\n", d)
        # A relative path lands in `dir` (Redis chdirs there).
        path = os.path.join(d, "node.pid")
        assert open(path).read() == "%d\n" % srv.pid, kind
        srv.client().shutdown(nosave=True)
        srv.proc.wait(timeout=10)
        assert not os.path.exists(path), kind
        assert "Removing the pid file." in srv.log_text(), kind


def test_pidfile_unwritable_keeps_running(starter, tmp_path, redis_server_bin):
    for kind, binary in both(redis_server_bin):
        srv = start_with_conf(starter, binary, "pidfile /nonexistent-cairn-dir/x.pid\n",
                              str(tmp_path / kind))
        assert srv.client().ping(), kind
    # Redis says nothing; Cairn tells the operator why there is no pid file.
    assert "Failed to write PID file /nonexistent-cairn-dir/x.pid" in starter.servers[0].log_text()


def test_no_pidfile_by_default(starter, tmp_path):
    d = str(tmp_path / "n")
    start_with_conf(starter, cairn_bin(), "", d)
    assert not [f for f in os.listdir(d) if f.endswith(".pid")]


# --- rename-command ---------------------------------------------------------------

RENAMES = ("rename-command FLUSHALL MYFLUSH\n"
           "rename-command debug \"\"\n"
           "rename-command OBJECT obj\n")


def rename_probe(c):
    """Replies a client sees from a node started with RENAMES."""
    c.set("a", "1")
    out = [
        reply(c, "FLUSHALL"),
        reply(c, "flushall", "x"),
        reply(c, "DEBUG", "sleep", "0"),
        reply(c, "obj", "encoding", "a"),
        reply(c, "OBJECT", "encoding", "a"),
        reply(c, "obj", "nosuch"),
        reply(c, "myflush", "x", "y"),
        c.dbsize(),
        reply(c, "MYFLUSH"),
        c.dbsize(),
    ]
    info = raw(c, "COMMAND", "INFO", "flushall", "myflush", "obj|encoding")
    out.append([None if i is None else i[0] for i in info])
    docs = raw(c, "COMMAND", "DOCS", "flushall", "myflush")
    out.append(sorted(docs) if isinstance(docs, dict) else docs[::2])
    names = raw(c, "COMMAND", "LIST")
    out.append([n in names for n in (b"flushall", b"myflush", b"debug", b"object")])
    cmds = [i[0] for i in raw(c, "COMMAND")]
    out.append([n in cmds for n in (b"flushall", b"myflush", b"debug")])
    out.append("cmdstat_flushall" in c.info("commandstats"))
    # MULTI/EXEC queues under the new name; the old one aborts the transaction.
    out += [reply(c, "MULTI"), reply(c, "myflush"), reply(c, "EXEC")]
    out += [reply(c, "MULTI"), reply(c, "flushall"), reply(c, "EXEC")]
    return out


def test_rename_command_as_redis(starter, tmp_path, redis_server_bin):
    seen = {}
    for kind, binary in both(redis_server_bin):
        plain = start_with_conf(starter, binary, "", str(tmp_path / (kind + "-plain")))
        srv = start_with_conf(starter, binary, RENAMES, str(tmp_path / kind))
        c = srv.client()
        seen[kind] = rename_probe(c)
        # DEBUG is gone from the table, the others only changed names.
        assert raw(plain.client(), "COMMAND", "COUNT") - 1 == raw(c, "COMMAND", "COUNT"), kind
    assert seen["cairn"] == seen["redis"]
    assert seen["cairn"][0] == ("error", "unknown command 'FLUSHALL', with args beginning with: ")
    assert seen["cairn"][8] == b"OK" and seen["cairn"][9] == 0


@pytest.mark.parametrize("line,reason", [
    ("rename-command NOSUCH other", "No such command in rename-command"),
    ("rename-command get set", "Target command name already exists"),
    ("rename-command get \"\"\nrename-command get x", "No such command in rename-command"),
])
def test_rename_command_errors_stop_startup(tmp_path, redis_server_bin, line, reason):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\n" + line + "\n")
    for binary, args in ((cairn_bin(), ["server"]), (redis_server_bin, [])):
        out = subprocess.run([binary] + args + [str(conf)], capture_output=True, text=True,
                             timeout=10, cwd=str(tmp_path))
        assert out.returncode == 1, (binary, out)
        assert reason in out.stdout + out.stderr, (binary, out)


def test_rename_command_error_names_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\nrename-command flushall f1\nrename-command flushall f2\n")
    out = subprocess.run([cairn_bin(), "server", str(conf)], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 1
    assert "bad.conf:3: No such command in rename-command" in out.stderr
    assert ">>> 'rename-command flushall f2'" in out.stderr


def test_rename_command_aof_replay_and_rewrite(starter, tmp_path):
    # The AOF holds the name the client used, as Redis's does; the same rename
    # lines read it back. CONFIG REWRITE keeps them.
    d = str(tmp_path / "n")
    srv = start_with_conf(starter, cairn_bin(), RENAMES + "appendonly yes\nappendfsync always\n", d)
    c = srv.client()
    c.set("gone", "1")
    assert c.execute_command("MYFLUSH") == b"OK"
    c.set("kept", "2")
    c.config_set("maxmemory-samples", "7")
    c.config_rewrite()
    text = open(os.path.join(d, "node.conf")).read()
    assert "rename-command FLUSHALL MYFLUSH" in text and "rename-command OBJECT obj" in text
    srv.stop()
    srv2 = start_with_conf(starter, cairn_bin(), text, d)
    c2 = srv2.client()
    assert c2.keys("*") == [b"kept"]
    assert reply(c2, "OBJ", "ENCODING", "kept") == b"int"
    assert reply(c2, "FLUSHALL")[0] == "error"


def test_rename_command_replication_as_redis(starter, tmp_path, redis_server_bin):
    # Redis sends the master's stream as clients typed it and the replica looks
    # each command up in its own (renamed) table: replicas need the same lines.
    for kind, binary in both(redis_server_bin):
        m = start_with_conf(starter, binary, "rename-command FLUSHALL MYFLUSH\n",
                            str(tmp_path / (kind + "-m")))
        same = start_with_conf(starter, binary,
                               "rename-command FLUSHALL MYFLUSH\nreplicaof 127.0.0.1 %d\n" % m.port,
                               str(tmp_path / (kind + "-r1")))
        other = start_with_conf(starter, binary, "replicaof 127.0.0.1 %d\n" % m.port,
                                str(tmp_path / (kind + "-r2")))
        mc, sc, oc = m.client(), same.client(), other.client()
        mc.set("a", "1")
        for r in (sc, oc):
            wait_for(lambda: r.get("a") == b"1", what=kind + " sync")
        mc.execute_command("MYFLUSH")
        mc.set("b", "1")
        for r in (sc, oc):
            wait_for(lambda: r.get("b") == b"1", what=kind + " stream")
        assert sorted(sc.keys("*")) == [b"b"], kind
        # Unknown to this replica: it logs the error and keeps the key.
        assert sorted(oc.keys("*")) == [b"a", b"b"], kind


# --- replica-ignore-maxmemory -----------------------------------------------------


def fill(c, n=3000, size=1000):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("key:%d" % i, "x" * size)
    p.execute()
    return n


def replica_with_maxmemory(starter, binary, workdir, master, extra_conf):
    r = start_with_conf(starter, binary, extra_conf, workdir)
    rc = r.client()
    # A limit well below the master's dataset (about 3 MB of values).
    rc.config_set("maxmemory", str(int(rc.info("memory")["used_memory"]) + 1000000))
    rc.replicaof("127.0.0.1", master.port)
    return rc


@pytest.mark.parametrize("kind", ["cairn", "redis"])
def test_replica_ignores_maxmemory_by_default(starter, tmp_path, redis_server_bin, kind):
    binary = cairn_bin() if kind == "cairn" else redis_server_bin
    m = start_with_conf(starter, binary, "", str(tmp_path / "m"))
    mc = m.client()
    n = fill(mc)
    rc = replica_with_maxmemory(starter, binary, str(tmp_path / "r"), m,
                                "maxmemory-policy allkeys-random\n")
    wait_for(lambda: rc.dbsize() == n, what="full sync")
    mc.set("after", "1")  # the master's writes still apply above the limit
    wait_for(lambda: rc.get("after") == b"1", what="stream")
    time.sleep(0.5)  # several cron runs, each of which would evict
    assert rc.dbsize() == n + 1
    assert rc.info("stats")["evicted_keys"] == 0
    assert int(rc.info("memory")["used_memory"]) > int(rc.config_get("maxmemory")["maxmemory"])


@pytest.mark.parametrize("kind", ["cairn", "redis"])
def test_replica_evicts_with_ignore_maxmemory_no(starter, tmp_path, redis_server_bin, kind):
    binary = cairn_bin() if kind == "cairn" else redis_server_bin
    m = start_with_conf(starter, binary, "", str(tmp_path / "m"))
    mc = m.client()
    n = fill(mc)
    rc = replica_with_maxmemory(starter, binary, str(tmp_path / "r"), m,
                                "maxmemory-policy allkeys-random\nreplica-ignore-maxmemory no\n")
    wait_for(lambda: rc.info("replication")["master_link_status"] == "up", what="link")
    mc.set("after", "1")
    wait_for(lambda: rc.info("stats")["evicted_keys"] > 0, what="eviction")
    assert 0 < rc.dbsize() < n
