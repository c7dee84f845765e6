# Shared pieces of the secure channel suites: node keys made with `cairn genkey` /
# `cairn pubkey`, the arguments of a master with a secure port and of a replica that
# reaches it through the channel, and `cairn tunnel` processes (started and stopped
# by PID, readiness from their log line).
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time


def _load_harness():
    # integration/conftest.py under the name replhelp uses, so that suites in
    # tests/interop (whose own conftest is "conftest") can use this module too.
    name = "cairn_repl_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


harness = _load_harness()


class NodeKey:
    """A private key file (mode 0600) and its public key."""

    def __init__(self, directory, name):
        self.path = os.path.join(directory, name + ".key")
        binary = harness.cairn_bin()
        private = subprocess.run([binary, "genkey"], check=True, capture_output=True,
                                 text=True).stdout
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(private)
        self.public = subprocess.run([binary, "pubkey"], input=private, check=True,
                                     capture_output=True, text=True).stdout.strip()


def key_dir():
    return tempfile.mkdtemp(prefix="cairn-test-keys-")


def master_args(key, secure_port, allow=(), extra=()):
    """A master whose secure port (on 127.0.0.1) allows `allow`: [(NodeKey, label)]."""
    args = ["--secure-port", str(secure_port), "--secure-bind", "127.0.0.1",
            "--secure-private-key", key.path]
    for peer, label in allow:
        args += ["--secure-allow", peer.public, label]
    return args + list(extra)


def replica_args(key, master_key, secure_port, extra=()):
    """A replica of the master's secure port on 127.0.0.1, through the channel."""
    return ["--replicaof", "127.0.0.1", str(secure_port), "--secure-master-public-key",
            master_key.public, "--secure-private-key", key.path] + list(extra)


def info_secure(client):
    return client.info("secure")


class Tunnel:
    """`cairn tunnel ...` as a child process; ready once it logged its banner."""

    def __init__(self, args, log_dir):
        self.log_path = os.path.join(log_dir, "tunnel-%d.log" % time.monotonic_ns())
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([harness.cairn_bin(), "tunnel"] + list(args),
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if b"Tunnel client:" in self.log() or b"Tunnel server:" in self.log():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("cairn tunnel did not start:\n" + self.log().decode(errors="replace"))

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
