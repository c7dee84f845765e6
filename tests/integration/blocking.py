# Helpers for tests of blocking commands: run a command in a thread, wait until
# the server reports the client blocked (INFO blocked_clients, never a fixed
# sleep), and collect the reply.
import threading
import time

import pytest


def call_in_thread(client, *args):
    """Runs one command on `client` in a thread; returns (thread, result dict)."""
    out = {}

    def run():
        try:
            out["reply"] = client.execute_command(*args)
        except Exception as e:  # reported by the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def wait_blocked(client, n, timeout=5.0):
    """Waits until INFO reports at least `n` blocked clients."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.info("clients").get("blocked_clients", 0) >= n:
            return
        time.sleep(0.01)
    pytest.fail("server never reported %d blocked client(s)" % n)


def finish(t, out):
    """Joins a call_in_thread thread and returns its reply."""
    t.join(10)
    assert not t.is_alive(), "blocked command never returned"
    assert "error" not in out, out.get("error")
    return out["reply"]
