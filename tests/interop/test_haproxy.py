# Debian's HAProxy in front of a Cairn master and a Cairn replica, with the health check
# of the common Redis + HAProxy tutorials (AUTH, PING, INFO replication expecting
# role:master, QUIT): clients that connect through HAProxy reach the master, and after
# a manual failover (REPLICAOF NO ONE on the replica, REPLICAOF <it> on the old master)
# they reach the promoted node within a few check intervals. The check results are
# read from HAProxy's stats socket (`show stat`).
import os
import shutil
import socket
import tempfile

import pytest

import replhelp as rh

HAPROXY_BIN = shutil.which("haproxy") or "/usr/sbin/haproxy"
PASSWORD = "haproxy-s3cret"
SWITCH_TIMEOUT = 10  # seconds; the checks run every 200 ms

pytestmark = pytest.mark.skipif(not os.path.exists(HAPROXY_BIN),
                                reason="haproxy not installed (%s); scripts/install-deps.sh "
                                       "installs it" % HAPROXY_BIN)

# The tutorials' backend, with a check every 200 ms instead of 1 s so the test is short.
HAPROXY_CFG = r"""
global
    log stderr format short local0 info
    stats socket {stats} mode 600 level admin

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s

frontend redis_front
    bind 127.0.0.1:{port}
    default_backend redis

backend redis
    option tcp-check
    tcp-check send AUTH\ {password}\r\n
    tcp-check expect string +OK
    tcp-check send PING\r\n
    tcp-check expect string +PONG
    tcp-check send info\ replication\r\n
    tcp-check expect string role:master
    tcp-check send QUIT\r\n
    tcp-check expect string +OK
    server redis-01 127.0.0.1:{p1} check inter 200ms fall 2 rise 1
    server redis-02 127.0.0.1:{p2} check inter 200ms fall 2 rise 1
"""


def stats_command(path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(5)
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk
    finally:
        s.close()


def server_status(path):
    """{server name: "UP" / "DOWN" / ...} of backend `redis`, from `show stat`."""
    lines = stats_command(path, "show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname") == "redis" and row.get("svname") not in ("BACKEND", None):
            out[row["svname"]] = row["status"]
    return out


def stats_ready(path):
    def ready():
        try:
            return bool(server_status(path))
        except OSError:
            return False
    return ready


def test_haproxy_routes_to_the_master_and_follows_a_failover(cluster):
    a = cluster.start("cairn", "--masterauth", PASSWORD, password=PASSWORD)
    b = cluster.start("cairn", "--masterauth", PASSWORD, "--replicaof", "127.0.0.1", a.port,
                      password=PASSWORD)
    rh.wait_link_up(b, nodes=(a,))

    workdir = tempfile.mkdtemp(prefix="cairn-haproxy-")
    stats = os.path.join(workdir, "stats.sock")
    port = rh.harness.free_port()
    cfg = os.path.join(workdir, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(HAPROXY_CFG.format(stats=stats, port=port, password=PASSWORD,
                                   p1=a.port, p2=b.port))
    # -db: foreground, no daemon, so the harness holds its PID.
    hap = cluster.start_peer(HAPROXY_BIN, ["-db", "-f", cfg], port, workdir,
                             ready=stats_ready(stats))

    def diag():
        try:
            st = server_status(stats)
        except OSError as e:
            st = repr(e)
        return "haproxy servers: %s\n--- haproxy log ---\n%s\n%s" % (
            st, hap.log_tail(20), rh.diag_nodes(a, b))

    def wait_status(want, what):
        rh.wait_for(lambda: server_status(stats) == want, SWITCH_TIMEOUT, what, diag)

    wait_status({"redis-01": "UP", "redis-02": "DOWN"}, "the check to find the master")
    front = rh.Node("haproxy", hap, password=PASSWORD)  # a connection through the frontend

    def via_front():
        c = rh.RawConn(port, password=PASSWORD)
        try:
            server = rh.parse_info(c.call("INFO", "server"))
            role = rh.parse_info(c.call("INFO", "replication"))["role"]
            return server["run_id"], int(server["tcp_port"]), role
        finally:
            c.close()

    assert via_front() == (a.info("server")["run_id"], a.port, "master")
    assert front.must("SET", "k1", "v1") == "OK"
    assert a.call("GET", "k1") == b"v1"
    rh.wait_for(lambda: b.call("GET", "k1") == b"v1", 10, "k1 on the replica", diag)

    # Manual failover: promote the replica, demote the old master. The connection
    # opened before stays with the old master (HAProxy does not move established
    # sessions) and is refused writes there.
    assert b.must("REPLICAOF", "NO", "ONE") == "OK"
    assert a.must("REPLICAOF", "127.0.0.1", b.port) == "OK"
    wait_status({"redis-01": "DOWN", "redis-02": "UP"}, "HAProxy to route to the promoted node")
    assert front.call("SET", "k2", "stale") == rh.READONLY_ERR

    front.close_conn()
    assert via_front() == (b.info("server")["run_id"], b.port, "master")
    assert front.must("SET", "k2", "v2") == "OK"
    assert b.call("GET", "k2") == b"v2"
    rh.wait_for(lambda: a.call("GET", "k2") == b"v2", 10, "k2 on the demoted node", diag)
    front.close_conn()
