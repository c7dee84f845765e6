# Integration-test harness: starts the real Cairn binary on free ports, waits for its
# "Ready to accept connections" log line, hands out redis-py clients and kills every
# process it started by PID, even when a test fails.
#
# The binary comes from $CAIRN_BIN (default build/cairn). Pointing CAIRN_BIN at a
# stock redis-server also works (no `server` subcommand is passed then), which keeps
# the harness itself testable while Cairn is incomplete. The interop suite loads this
# file as a module to reuse Server/start_server.
import atexit
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
READY_LINE = b"Ready to accept connections"
READY_TIMEOUT = 10.0

_live = {}  # pid -> Server, for the atexit safety net
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def cairn_bin():
    path = os.environ.get("CAIRN_BIN", os.path.join(REPO, "build", "cairn"))
    return os.path.abspath(path)


def redis_bin():
    return os.environ.get("REDIS_SERVER_BIN", "/usr/bin/redis-server")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


POLL_INTERVAL = 0.02


def wait_for(pred, timeout=10.0, what="condition", diag=None):
    """Polls pred() until it returns a true value (returned) or `timeout` seconds pass.

    Connection and Redis errors count as "not yet" (a node restarting or loading). On
    a timeout: AssertionError naming `what`, the last error and diag()'s text.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (OSError, ConnectionError, redis.exceptions.RedisError) as e:
            last_exc = e
        if time.monotonic() > deadline:
            msg = "timed out after %.0f s waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            if diag is not None:
                try:
                    msg += "\n" + diag()
                except Exception as e:  # diagnostics must not hide the timeout
                    msg += "\n(diagnostics failed: %r)" % (e,)
            raise AssertionError(msg)
        time.sleep(POLL_INTERVAL)


class ServerStartError(RuntimeError):
    pass


class Server:
    """One started server process (Cairn or redis-server; also a stock peer such as
    redis-sentinel or haproxy: `cairn=False`, and `ready` names what says it is up)."""

    def __init__(self, binary, args, log_path, port, workdir, ready=READY_LINE, cairn=None):
        self.binary = binary
        self.start_args = list(args)
        self.log_path = log_path
        self.port = port
        self.workdir = workdir
        self.proc = None
        # A log line (bytes) or a callable that returns True once the process serves.
        self.ready = ready
        self.cairn = cairn

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def is_cairn(self):
        if self.cairn is not None:
            return self.cairn
        return os.path.basename(self.binary) != "redis-server"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        """The sanitizer report in the log (ASan/UBSan builds), or None."""
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            i = text.find(marker)
            if i >= 0:
                return text[max(0, i - 200):i + 4000]
        return None

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def start(self, timeout=READY_TIMEOUT):
        cmd = [self.binary] + (["server"] if self.is_cairn() else []) + self.start_args
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
        finally:
            log.close()
        _live[self.proc.pid] = self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(self.ready):
                if self.ready():
                    return self
            else:
                with open(self.log_path, "rb") as f:
                    if self.ready in f.read():
                        return self
            if self.proc.poll() is not None:
                raise ServerStartError("%s exited with %s before it was ready:\n%s" %
                                       (" ".join(cmd), self.proc.returncode, self.log_tail()))
            time.sleep(0.02)
        self.stop()
        raise ServerStartError("%s not ready after %.0fs:\n%s" %
                               (" ".join(cmd), timeout, self.log_tail()))

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Stops the process by PID; escalates to SIGKILL. Returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        _live.pop(self.proc.pid, None)
        return self.proc.returncode

    def client(self, **kw):
        kw.setdefault("socket_timeout", 30)
        c = redis.Redis(host="127.0.0.1", port=self.port, **kw)
        c.port = self.port
        return c


def start_server(args=(), binary=None, workdir=None, attempts=3):
    """Starts a server on a free port with `--save "" --appendonly no` plus `args`.

    `args` may contain its own --port (then no free port is chosen). Retries with
    another port if the chosen one was taken in between.
    """
    binary = binary or cairn_bin()
    if not os.path.exists(binary):
        raise ServerStartError("server binary %s not found (set CAIRN_BIN)" % binary)
    workdir = workdir or tempfile.mkdtemp(prefix="cairn-test-")
    args = list(args)
    last = None
    for _ in range(attempts):
        if "--port" in args:
            port = int(args[args.index("--port") + 1])
            full = list(args)
        else:
            port = free_port()
            full = ["--port", str(port)] + args
        # The working directory is a fresh temp dir, so nothing lands in the repo.
        full = ["--save", "", "--appendonly", "no"] + full
        log_path = os.path.join(workdir, "server-%d.log" % port)
        srv = Server(binary, full, log_path, port, workdir)
        try:
            return srv.start()
        except ServerStartError as e:
            last = e
            srv.stop()
            if "--port" in args or "in use" not in srv.log_text():
                break
    raise last


def _kill_leftovers():
    for srv in list(_live.values()):
        try:
            srv.stop(sig=signal.SIGKILL, timeout=2)
        except Exception:
            pass


atexit.register(_kill_leftovers)


class _Starter:
    """Starts servers for one test and stops all of them at teardown."""

    def __init__(self):
        self.servers = []

    def __call__(self, *args, binary=None, workdir=None):
        srv = start_server(args, binary=binary, workdir=workdir)
        self.servers.append(srv)
        return srv

    def stop_all(self):
        """Stops every server; returns the sanitizer reports found in their logs."""
        reports = []
        for srv in self.servers:
            srv.stop()
            rep = srv.sanitizer_report()
            if rep:
                reports.append("%s (port %d):\n%s" % (srv.binary, srv.port, rep))
        return reports


@pytest.fixture
def start_cairn():
    """start_cairn("--maxmemory", "1mb", ...) -> Server; stopped at teardown."""
    starter = _Starter()
    yield starter
    reports = starter.stop_all()
    if reports:
        pytest.fail("sanitizer report in server log:\n" + "\n".join(reports))


@pytest.fixture
def cairn_server(start_cairn):
    srv = start_cairn()
    yield srv
    crashed = not srv.alive()
    srv.stop()
    if crashed:
        pytest.fail("server exited during the test (code %s):\n%s" %
                    (srv.proc.returncode, srv.log_tail()))


@pytest.fixture
def cairn_factory(cairn_server):
    clients = []

    def make(**kw):
        c = cairn_server.client(**kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def cairn(cairn_factory):
    return cairn_factory()


@pytest.fixture(scope="session")
def redis_server_bin():
    if not os.path.exists(redis_bin()):
        pytest.skip("stock redis-server not installed")
    return redis_bin()


@pytest.fixture
def start_redis(redis_server_bin):
    """Stock redis-server with the same defaults, for side-by-side checks."""
    starter = _Starter()

    def start(*args):
        return starter(*args, binary=redis_server_bin)

    yield start
    starter.stop_all()
