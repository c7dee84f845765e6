# supervised systemd: a fake NOTIFY_SOCKET (a datagram socket of the test's own, as
# systemd's) receives the node's notifications — STATUS while loading, READY=1 only
# once the node answers, the replica's sync status, WATCHDOG=1 pings at half the
# WATCHDOG_USEC period, STOPPING=1 at SIGTERM; `supervised no` sends nothing, and
# `supervised systemd` without NOTIFY_SOCKET says so in the log.
import os
import signal
import socket
import subprocess
import tempfile
import time

import redis

from conftest import cairn_bin, free_port


class FakeSystemd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def collect(self, until, timeout=15.0):
        """Reads datagrams until until(messages) holds; returns the messages."""
        deadline = time.monotonic() + timeout
        while not until(self.messages):
            left = deadline - time.monotonic()
            assert left > 0, "no such notification in time; got %r" % self.messages
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return self.messages

    def close(self):
        self.sock.close()


def start(args, env_extra, workdir):
    port = free_port()
    env = dict(os.environ, **env_extra)
    log = open(os.path.join(workdir, "node-%d.log" % port), "wb")
    p = subprocess.Popen([cairn_bin(), "server", "--port", str(port), "--bind", "127.0.0.1",
                          "--dir", workdir] + list(args), stdout=log, stderr=subprocess.STDOUT,
                         env=env, cwd=workdir)
    return p, port, log.name


def wait_serving(port, timeout=10.0):
    """A redis-py client once the node answers PING (bounded polling)."""
    c = redis.Redis(port=port, socket_timeout=5)
    deadline = time.monotonic() + timeout
    while True:
        try:
            c.ping()
            return c
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "node on port %d did not serve" % port
            time.sleep(0.05)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def has(prefix):
    return lambda msgs: any(line.startswith(prefix) for m in msgs for line in m.split("\n"))


def test_notify_sequence_ready_watchdog_stopping(tmp_path):
    fake = FakeSystemd()
    p = None
    try:
        # 3000 keys in the dump so that "loading" is a real phase.
        seed, port0, _ = start(["--save", ""], {}, str(tmp_path))
        try:
            c = wait_serving(port0)
            pipe = c.pipeline(transaction=False)
            for i in range(3000):
                pipe.set("key:%d" % i, "value:%d" % i)
            pipe.execute()
            c.save()
        finally:
            stop(seed)
        p, port, _ = start(["--supervised", "systemd", "--save", ""],
                           {"NOTIFY_SOCKET": fake.path, "WATCHDOG_USEC": "400000"},
                           str(tmp_path))
        msgs = fake.collect(has("READY=1"))
        assert msgs[0] == "STATUS=Loading the dataset", msgs
        ready = [m for m in msgs if m.startswith("READY=1")]
        assert ready == ["READY=1\nSTATUS=Ready to accept connections"], msgs
        c = redis.Redis(port=port, socket_timeout=5)
        assert c.ping() and c.dbsize() == 3000  # READY came after the load
        before = sum(m == "WATCHDOG=1" for m in fake.messages)
        fake.collect(lambda ms: sum(m == "WATCHDOG=1" for m in ms) >= before + 3, timeout=5)
        p.send_signal(signal.SIGTERM)
        fake.collect(has("STOPPING=1"))
        assert p.wait(timeout=10) == 0
    finally:
        if p:
            stop(p)
        fake.close()


def test_replica_reports_its_sync(tmp_path):
    fake = FakeSystemd()
    m = r = None
    try:
        m, mport, _ = start(["--save", ""], {}, str(tmp_path))
        rdir = tmp_path / "replica"
        rdir.mkdir()
        r, _, _ = start(["--supervised", "auto", "--save", "", "--replicaof", "127.0.0.1",
                         str(mport), "--repl-diskless-sync-delay", "0"],
                        {"NOTIFY_SOCKET": fake.path}, str(rdir))
        msgs = fake.collect(has("READY=1"))
        assert any("Waiting for MASTER <-> REPLICA sync" in x for x in msgs), msgs
        fake.collect(has("STATUS=MASTER <-> REPLICA sync: Finished with success"))
    finally:
        for p in (r, m):
            if p:
                stop(p)
        fake.close()


def test_supervised_no_is_silent_and_systemd_without_socket_warns(tmp_path):
    fake = FakeSystemd()
    p = q = None
    try:
        p, port, _ = start(["--supervised", "no", "--save", ""], {"NOTIFY_SOCKET": fake.path},
                           str(tmp_path))
        wait_serving(port)
        fake.sock.settimeout(0.5)
        try:
            got = fake.sock.recv(4096)
        except socket.timeout:
            got = None
        assert got is None, got
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        qport = free_port()
        log = tmp_path / "nosock.log"
        with open(log, "wb") as f:
            q = subprocess.Popen([cairn_bin(), "server", "--port", str(qport), "--supervised",
                                  "systemd", "--save", ""], env=env, stdout=f,
                                 stderr=subprocess.STDOUT, cwd=str(tmp_path))
        deadline = time.monotonic() + 10
        while b"NOTIFY_SOCKET" not in log.read_bytes():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        for proc in (p, q):
            if proc:
                stop(proc)
        fake.close()
