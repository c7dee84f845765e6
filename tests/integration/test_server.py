# Server-level behaviour of build/cairn: CLI, config errors, AUTH and protected mode,
# connection limits, idle timeout, INFO, CLIENT, eviction, DEBUG DIGEST, shutdown.
import os
import signal
import socket
import subprocess
import time

import pytest
import redis



def cairn_bin():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    return os.path.abspath(os.environ.get("CAIRN_BIN", os.path.join(repo, "build", "cairn")))


def raw(port, payload, src=None, timeout=5.0):
    """Sends bytes (if any), returns what the server answers until it closes or goes quiet.

    Rejections (protected mode, maxclients) are read without sending first: the server
    closes at once, and unread input would turn its close into a reset."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    if payload:
        s.sendall(payload)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            s.settimeout(0.3)
    except socket.timeout:
        pass
    s.close()
    return out


def wait_until(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_help_and_version():
    out = subprocess.run([cairn_bin(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "server [CONFIG]" in out.stdout
    out = subprocess.run([cairn_bin(), "server", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--directive value" in out.stdout
    out = subprocess.run([cairn_bin(), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("Cairn server v=")
    out = subprocess.run([cairn_bin(), "frobnicate"], capture_output=True, text=True)
    assert out.returncode != 0 and "unknown command" in out.stderr


def test_bad_config_stops_startup_with_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("# a comment\nport 7000\nmaxclients lots\n")
    out = subprocess.run([cairn_bin(), "server", str(conf)], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode != 0
    assert "bad.conf:3:" in out.stderr


def test_bad_command_line_directive_fails():
    out = subprocess.run([cairn_bin(), "server", "--no-such-directive", "1"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode != 0


def test_requirepass_and_auth(start_cairn):
    srv = start_cairn("--requirepass", "s3cret")
    c = srv.client()
    with pytest.raises(redis.exceptions.AuthenticationError):
        c.ping()
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGPASS"):
        c.execute_command("AUTH", "wrong")
    assert c.execute_command("AUTH", "s3cret") is True
    assert c.ping() is True
    # AUTH default <pass> form, and other users are refused.
    c2 = srv.client()
    assert c2.execute_command("AUTH", "default", "s3cret") is True
    c3 = srv.client()
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGPASS"):
        c3.execute_command("AUTH", "admin", "s3cret")
    # Before AUTH a client may not send a long multibulk.
    reply = raw(srv.port, b"*20\r\n")
    assert reply.startswith(b"-ERR Protocol error: unauthenticated multibulk length")


def test_auth_without_password_configured(cairn):
    with pytest.raises(redis.exceptions.ResponseError, match="without any password configured"):
        cairn.execute_command("AUTH", "x")


def test_protected_mode_refuses_non_loopback_source(start_cairn):
    srv = start_cairn("--bind", "127.0.0.1", "--protected-mode", "yes")
    reply = raw(srv.port, b"", src="127.0.0.2")
    assert reply.startswith(b"-DENIED Redis is running in protected mode")
    # From 127.0.0.1 it answers.
    assert raw(srv.port, b"PING\r\n") == b"+PONG\r\n"
    srv2 = start_cairn("--bind", "127.0.0.1", "--protected-mode", "no")
    assert raw(srv2.port, b"PING\r\n", src="127.0.0.2") == b"+PONG\r\n"


def test_maxclients(start_cairn):
    srv = start_cairn("--maxclients", "2")
    a, b = srv.client(), srv.client()
    assert a.ping() and b.ping()
    reply = raw(srv.port, b"")
    assert reply == b"-ERR max number of clients reached\r\n"
    info = a.info("stats")
    assert info["rejected_connections"] >= 1


def test_idle_timeout_closes_client(start_cairn):
    srv = start_cairn("--timeout", "1")
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"PING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    s.settimeout(5)
    start = time.monotonic()
    assert s.recv(100) == b""  # closed by the server
    assert time.monotonic() - start < 4.5
    s.close()


def test_info_has_redis_fields(cairn):
    cairn.set("a", "1")
    cairn.expire("a", 100)
    info = cairn.info("everything")
    for field in ("redis_version", "tcp_port", "uptime_in_seconds", "connected_clients",
                  "used_memory", "used_memory_rss", "maxmemory_policy", "loading",
                  "rdb_changes_since_last_save", "total_commands_processed", "keyspace_hits",
                  "role", "master_replid", "used_cpu_sys", "rdb_bgsave_in_progress",
                  "rdb_last_bgsave_status", "aof_enabled"):
        assert field in info, field
    assert info["role"] == "master"
    assert info["tcp_port"] == cairn.port
    assert info["db0"] == {"keys": 1, "expires": 1, "avg_ttl": info["db0"]["avg_ttl"]}
    assert info["rdb_bgsave_in_progress"] == 0 and info["rdb_last_bgsave_status"] == "ok"
    assert "cmdstat_set" in info
    assert info["cmdstat_set"]["calls"] == 1


def test_info_sections_filter(cairn_server):
    text = raw(cairn_server.port, b"INFO clients keyspace\r\n").decode()
    assert "# Clients" in text and "# Keyspace" in text and "# Server" not in text


def test_errorstats_and_commandstats_counts(cairn):
    cairn.set("s", "x")
    with pytest.raises(redis.exceptions.ResponseError):
        cairn.lpush("s", "y")
    with pytest.raises(redis.exceptions.ResponseError):
        cairn.execute_command("NOSUCHCMD")
    text = raw(cairn.port, b"INFO errorstats\r\n").decode()
    assert "errorstat_WRONGTYPE:count=1\r\n" in text
    assert "errorstat_ERR:count=1\r\n" in text


def test_client_commands(cairn_factory, cairn_server):
    a = cairn_factory()
    b = socket.create_connection(("127.0.0.1", cairn_server.port))
    b.settimeout(5)
    assert a.execute_command("CLIENT", "SETNAME", "alpha") in (True, b"OK")
    assert a.execute_command("CLIENT", "GETNAME") == b"alpha"
    with pytest.raises(redis.exceptions.ResponseError, match="cannot contain spaces"):
        a.execute_command("CLIENT", "SETNAME", "a b")
    b.sendall(b"CLIENT ID\r\n")
    bid = int(b.recv(100)[1:].strip())
    listing = a.execute_command("CLIENT", "LIST").decode()
    lines = [l for l in listing.splitlines() if l]
    assert len(lines) == 2
    assert any("name=alpha" in l and "cmd=client|list" in l for l in lines)
    assert all(l.startswith("id=") and " resp=2" in l for l in lines)
    assert a.execute_command("CLIENT", "KILL", "ID", bid) == 1
    assert b.recv(100) == b""  # the server closed it
    b.close()
    with pytest.raises(redis.exceptions.ResponseError, match="unknown subcommand"):
        a.execute_command("CLIENT", "NOPE")


def test_hello3_and_reset(cairn_server):
    reply = raw(cairn_server.port, b"HELLO 3\r\nPING\r\nRESET\r\nHELLO 4\r\n")
    assert reply.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
    assert b"$5\r\nproto\r\n:3\r\n" in reply
    assert b"+PONG\r\n+RESET\r\n-NOPROTO unsupported protocol version\r\n" in reply


def test_maxmemory_noeviction_refuses_writes(start_cairn):
    srv = start_cairn("--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    c = srv.client()
    with pytest.raises(redis.exceptions.ResponseError, match="OOM command not allowed"):
        for i in range(200000):
            c.set("key:%d" % i, "x" * 100)
    assert c.get("key:0") == b"x" * 100  # reads still work
    assert c.delete("key:0") == 1        # and deletes


def test_maxmemory_allkeys_lru_evicts(start_cairn):
    srv = start_cairn("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
    c = srv.client()
    p = c.pipeline(transaction=False)
    for i in range(60000):
        p.set("key:%d" % i, "x" * 100)
    p.execute()
    info = c.info()
    assert info["evicted_keys"] > 0
    assert info["used_memory"] <= 4 * 1024 * 1024 * 1.1
    assert c.dbsize() < 60000


def test_debug_digest_matches_stock_redis(cairn, start_redis):
    r = start_redis("--enable-debug-command", "yes").client()
    for cl in (cairn, r):
        cl.set("s", "hello")
        cl.set("n", 12345)
        cl.rpush("l", "a", "b", "c")
        cl.hset("h", mapping={"f1": "v1", "f2": "v2"})
        cl.sadd("set", "x", "y", 7)
        cl.zadd("z", {"m1": 1.5, "m2": 2})
        cl.expire("s", 1000)
    assert cairn.execute_command("DEBUG", "DIGEST") == r.execute_command("DEBUG", "DIGEST")
    assert cairn.execute_command("DEBUG", "DIGEST-VALUE", "l", "h") == \
        r.execute_command("DEBUG", "DIGEST-VALUE", "l", "h")
    cairn.set("extra", "1")
    assert cairn.execute_command("DEBUG", "DIGEST") != r.execute_command("DEBUG", "DIGEST")


def test_scripting_answers_like_empty_redis(cairn):
    assert cairn.execute_command("FUNCTION", "LIST") == []
    assert cairn.execute_command("SCRIPT", "EXISTS", "a" * 40) == [0]
    assert cairn.execute_command("SCRIPT", "FLUSH") in (True, b"OK")
    with pytest.raises(redis.exceptions.ResponseError, match="Lua"):
        cairn.execute_command("EVAL", "return 1", 0)
    with pytest.raises(redis.exceptions.NoScriptError):
        cairn.execute_command("EVALSHA", "a" * 40, 0)


def test_shutdown_command_exits_cleanly(start_cairn):
    srv = start_cairn()
    c = srv.client()
    try:
        c.execute_command("SHUTDOWN", "NOSAVE")
    except redis.exceptions.ConnectionError:
        pass
    assert wait_until(lambda: not srv.alive())
    assert srv.proc.returncode == 0
    assert "ready to exit" in srv.log_text()


def test_sigterm_exits_cleanly(start_cairn):
    srv = start_cairn()
    code = srv.stop(sig=signal.SIGTERM)
    assert code == 0
    assert "Received SIGTERM scheduling shutdown" in srv.log_text()


def test_log_format_is_redis_like(cairn_server):
    first = cairn_server.log_text().splitlines()[0]
    # "<pid>:M 23 Nov 2026 06:24:44.808 # message"
    pid, rest = first.split(":", 1)
    assert pid == str(cairn_server.pid)
    assert rest[0] == "M" and rest[1] == " "
    assert rest.split(" ")[5] in (".", "-", "*", "#")


def test_logfile_and_loglevel_are_honoured(tmp_path):
    # Started by hand: with a logfile the harness's stdout readiness line is absent.
    logfile = tmp_path / "cairn.log"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([cairn_bin(), "server", "--port", str(port), "--save", "",
                             "--logfile", str(logfile), "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        c = redis.Redis(port=port, socket_timeout=5)

        def up():
            try:
                return c.ping()
            except redis.exceptions.ConnectionError:
                return False

        assert wait_until(up)
        text = logfile.read_text()
        # warning keeps '#' lines and drops notice ('*') lines such as "Server initialized".
        assert "Cairn is starting" in text
        assert "Server initialized" not in text and "Ready to accept" not in text
        c.config_set("loglevel", "notice")
        # As in Redis 7.0, logfile cannot change at runtime.
        with pytest.raises(redis.exceptions.ResponseError, match="immutable"):
            c.config_set("logfile", str(logfile))
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert "ready to exit" in logfile.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_pubsub_output_buffer_limit_disconnects_slow_subscriber(start_cairn):
    srv = start_cairn("--client-output-buffer-limit", "pubsub", "64kb", "0", "0")
    sub = socket.create_connection(("127.0.0.1", srv.port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub.sendall(b"SUBSCRIBE news\r\n")
    sub.settimeout(5)
    assert b"subscribe" in sub.recv(1000)
    pub = srv.client()
    payload = b"x" * 4096
    # The subscriber never reads: once the kernel buffers are full, pending
    # output passes the 64kb hard limit and the server drops the client.
    for _ in range(4000):
        if pub.publish("news", payload) == 0:
            break
    assert wait_until(lambda: pub.execute_command("PUBSUB", "NUMSUB", "news")[1] == 0)
    stats = pub.info("stats")
    assert stats["client_output_buffer_limit_disconnections"] >= 1
    sub.close()


def test_oom_inside_multi_aborts_exec(start_cairn, start_redis):
    replies = []
    for start in (start_cairn, start_redis):
        srv = start("--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
        c = srv.client()
        with pytest.raises(redis.exceptions.ResponseError, match="OOM"):
            for i in range(100000):
                c.set("k%d" % i, "v" * 100)
        # Over the limit: queueing inside MULTI is refused, and EXEC then aborts.
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.settimeout(5)
        s.sendall(b"MULTI\r\nGET k1\r\nEXEC\r\n")
        reply = b""
        while reply.count(b"\r\n") < 3:
            reply += s.recv(4096)
        s.close()
        replies.append(reply)
    assert replies[0].startswith(b"+OK\r\n-OOM command not allowed")
    assert b"-EXECABORT Transaction discarded because of previous errors." in replies[0]
    assert replies[0] == replies[1]
