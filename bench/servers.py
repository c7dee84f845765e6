# Starts stock redis-server and Cairn side by side for the benchmarks: same
# settings, free loopback ports, readiness from the log line, stopped by PID.
import atexit
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
_live = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, binary, extra):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cairn-bench-")
        self.log_path = os.path.join(self.dir, "server.log")
        sub = [] if os.path.basename(binary) == "redis-server" else ["server"]
        args = [binary] + sub + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no"] + list(extra)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        _live.append(self)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                if b"Ready to accept connections" in f.read():
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        with open(self.log_path, "rb") as f:
            raise RuntimeError("%s did not start:\n%s" % (name, f.read().decode(errors="replace")))

    @property
    def pid(self):
        return self.proc.pid

    def rss_bytes(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self in _live:
            _live.remove(self)


@atexit.register
def _stop_all():
    for s in list(_live):
        s.stop()


def default_cairn():
    return os.environ.get("CAIRN_BIN", os.path.join(REPO, "build", "cairn"))


def start_pair(cairn_bin, redis_bin, extra=()):
    """Returns (redis, cairn) started with identical settings."""
    redis = Server("redis", redis_bin, extra)
    try:
        cairn = Server("cairn", cairn_bin, extra)
    except Exception:
        redis.stop()
        raise
    return redis, cairn


def count_replies(sock, total):
    """Starts a thread that reads RESP replies of single-line form (+OK, -ERR ...) from
    `sock` until `total` arrived or the socket ends; returns (thread, counts) where
    counts holds "replies" and "errors"."""
    counts = {"replies": 0, "errors": 0}

    def reader():
        buf = b""
        try:
            while counts["replies"] < total:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                buf += chunk
                lines = buf.split(b"\r\n")
                buf = lines.pop()
                counts["replies"] += len(lines)
                counts["errors"] += sum(1 for ln in lines if ln.startswith(b"-"))
        except OSError:
            pass

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return t, counts
