# The secure channel over a real (if small) network: two network namespaces made for
# this run, joined by a veth pair whose both ends are shaped with tbf (20 Mbit/s,
# 400 ms of queue). A Cairn master runs in namespace A (plain and secure port bound to
# its veth address), a Cairn replica in namespace B reaches it through the channel.
# The tests talk to the servers with redis-cli run inside the namespaces.
#
#  - ~10 MB of JSON-like values sync through the channel, arrive identical, and the
#    master's INFO secure shows that zstd compressed them;
#  - CONFIG SET secure-max-bandwidth 1mbit caps what the master sends during a new full
#    sync, measured over a window of about 3 seconds.
#
# Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) for `ip netns add`; the module is
# skipped otherwise. Servers are stopped by PID and the namespaces (with the veth pair
# inside them) deleted in teardown, even when a test fails.
import importlib.util
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import replhelp as rh

harness = rh.harness


def _load_securehelp():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration",
                        "securehelp.py")
    spec = importlib.util.spec_from_file_location("cairn_securehelp", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


sh = _load_securehelp()  # NodeKey: key files made with `cairn genkey` / `cairn pubkey`

# Unique per run: the PID plus a random tag (a namespace left by a killed run whose PID
# came back must not collide).
RUN_TAG = "%d-%s" % (os.getpid(), secrets.token_hex(2))
NS_A = "cairn-t-%s-a" % RUN_TAG
NS_B = "cairn-t-%s-b" % RUN_TAG
SUBNET = "10.213.%d" % (os.getpid() % 250 + 1)
ADDR_A = SUBNET + ".1"
ADDR_B = SUBNET + ".2"
# Interface names (15 characters at most) live only inside the two namespaces.
VETH_A = "cairn-veth-a"
VETH_B = "cairn-veth-b"
TBF = ["root", "tbf", "rate", "20mbit", "burst", "32kbit", "latency", "400ms"]
PLAIN_PORT = 6390
SECURE_PORT = 7390
READY_LINE = b"Ready to accept connections"
CMD_TIMEOUT = 30


def run(*cmd, timeout=CMD_TIMEOUT, input=None, check=True):
    p = subprocess.run(list(cmd), capture_output=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                     (p.stderr or p.stdout).decode(
                                                         errors="replace")[-2000:]))
    return p


def _delete_namespaces():
    # Deleting one end of a veth pair deletes both; deleting a namespace deletes what
    # it holds. Both are done, and both are harmless when already gone.
    subprocess.run(["ip", "-n", NS_A, "link", "del", VETH_A], capture_output=True,
                   timeout=CMD_TIMEOUT)
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=CMD_TIMEOUT)


@pytest.fixture(scope="module")
def network():
    if shutil.which("ip") is None or shutil.which("tc") is None:
        pytest.skip("iproute2 (ip, tc) is not installed")
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli is not installed")
    try:
        made = subprocess.run(["ip", "netns", "add", NS_A], capture_output=True,
                              timeout=CMD_TIMEOUT)
        if made.returncode != 0:
            pytest.skip("cannot create a network namespace (needs root or CAP_SYS_ADMIN): "
                        "`ip netns add` said: %s" % made.stderr.decode(errors="replace").strip())
        run("ip", "netns", "add", NS_B)
        # Both ends are created inside their namespaces: no interface ever appears in
        # the host's namespace.
        run("ip", "link", "add", VETH_A, "netns", NS_A, "type", "veth", "peer", "name",
            VETH_B, "netns", NS_B)
        for ns, dev, addr in ((NS_A, VETH_A, ADDR_A), (NS_B, VETH_B, ADDR_B)):
            run("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", dev, "up")
            shaped = subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev",
                                     dev] + TBF, capture_output=True, timeout=CMD_TIMEOUT)
            if shaped.returncode != 0:
                pytest.skip("tc cannot add a tbf qdisc here: %s" %
                            shaped.stderr.decode(errors="replace").strip())
        yield
    finally:
        _delete_namespaces()
    left = run("ip", "netns", "list").stdout.decode()
    assert NS_A not in left and NS_B not in left, "namespaces left behind:\n" + left


def cli(ns, addr, port, *args, timeout=CMD_TIMEOUT, input=None):
    """One command through redis-cli inside namespace `ns`; returns stdout (text)."""
    p = run("ip", "netns", "exec", ns, "redis-cli", "-h", addr, "-p", str(port),
            *[str(a) for a in args], timeout=timeout, input=input)
    out = p.stdout.decode(errors="replace")
    if out.startswith("ERR") or out.startswith("(error)"):
        raise AssertionError("%s on %s:%d: %s" % (" ".join(map(str, args)), addr, port, out))
    return out


class NsServer:
    """`cairn server ...` inside a network namespace. `ip netns exec` execs the command
    (no fork), so the child's PID is Cairn's own, and that PID is what stop() signals."""

    def __init__(self, ns, addr, args, name):
        self.ns = ns
        self.addr = addr
        self.port = PLAIN_PORT
        self.workdir = tempfile.mkdtemp(prefix="cairn-netns-")
        self.log_path = os.path.join(self.workdir, name + ".log")
        self.proc = None
        cmd = ["ip", "netns", "exec", ns, harness.cairn_bin(), "server",
               "--port", str(PLAIN_PORT), "--bind", addr, "127.0.0.1",
               "--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
               "--repl-diskless-sync-delay", "0"] + [str(a) for a in args]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
        try:
            deadline = time.monotonic() + 10
            while True:
                if READY_LINE in self.log_bytes():
                    break
                if self.proc.poll() is not None:
                    raise AssertionError("%s exited with %s before it was ready:\n%s" % (
                        " ".join(cmd), self.proc.returncode, self.log_tail()))
                if time.monotonic() > deadline:
                    raise AssertionError("%s not ready after 10 s:\n%s" % (
                        " ".join(cmd), self.log_tail()))
                time.sleep(0.02)
            exe = os.path.realpath("/proc/%d/exe" % self.proc.pid)
            assert exe == os.path.realpath(harness.cairn_bin()), \
                "PID %d runs %s, not Cairn: `ip netns exec` forked?" % (self.proc.pid, exe)
        except BaseException:
            self.stop()
            raise

    def log_bytes(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def log_tail(self, n=30):
        return "\n".join(self.log_bytes().decode(errors="replace").splitlines()[-n:])

    def __call__(self, *args, **kw):
        return cli(self.ns, "127.0.0.1", self.port, *args, **kw)

    def info(self, section):
        return rh.parse_info(self("INFO", section))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture
def pair(network, tmp_path):
    """(start_master, start_replica): the master in ns A allows the replica's key, the
    replica in ns B pins the master's; every server is stopped at teardown."""
    keys = {name: sh.NodeKey(str(tmp_path), name) for name in ("master", "replica")}
    servers = []

    def master(*extra):
        srv = NsServer(NS_A, ADDR_A, [
            "--secure-port", SECURE_PORT, "--secure-bind", ADDR_A,
            "--secure-private-key", keys["master"].path,
            "--secure-allow", keys["replica"].public, "offsite"] + list(extra), "master")
        servers.append(srv)
        return srv

    def replica(*extra):
        srv = NsServer(NS_B, ADDR_B, [
            "--replicaof", ADDR_A, SECURE_PORT,
            "--secure-master-public-key", keys["master"].public,
            "--secure-private-key", keys["replica"].path] + list(extra), "replica")
        servers.append(srv)
        return srv

    yield master, replica
    crashed = [s for s in servers if s.proc is not None and not s.alive()]
    reports = ["%s in %s exited with %s:\n%s" % (os.path.basename(s.log_path), s.ns,
                                                s.proc.returncode, s.log_tail())
               for s in crashed]
    for s in servers:
        s.stop()
    if reports:
        pytest.fail("\n".join(reports))


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def load(master, payload, count):
    """Sends RESP commands through `redis-cli --pipe` inside the master's namespace."""
    out = master("--pipe", input=payload, timeout=60)
    assert "errors: 0, replies: %d" % count in out, out


def wait(pred, timeout, what, diag=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except AssertionError as e:  # a redis-cli call that failed: retry until deadline
            last = e
        time.sleep(0.1)
    msg = "timed out after %.0f s waiting for %s" % (timeout, what)
    if last is not None:
        msg += " (last error: %s)" % last
    if diag is not None:
        msg += "\n" + diag()
    raise AssertionError(msg)


def in_sync(m, r):
    rep = r.info("replication")
    if rep.get("master_link_status") != "up" or rep.get("master_sync_in_progress") != "0":
        return False
    if rep.get("slave_repl_offset") != m.info("replication").get("master_repl_offset"):
        return False
    return m("DEBUG", "DIGEST").strip() == r("DEBUG", "DIGEST").strip()


def qdisc_stats(ns, dev):
    """(bytes sent, overlimits) of the tbf qdisc on `dev`."""
    out = run("ip", "netns", "exec", ns, "tc", "-s", "qdisc", "show", "dev", dev).stdout.decode()
    found = re.search(r"Sent (\d+) bytes .*overlimits (\d+)", out)
    assert found and "tbf" in out, out
    return int(found.group(1)), int(found.group(2))


def diag(*servers):
    return "\n".join("--- %s log ---\n%s" % (s.log_path, s.log_tail(15)) for s in servers)


# ---------------------------------------------------------------------------

DOCS = 20_000  # ~10 MB of JSON


def json_docs(seed):
    rnd = random.Random(seed)
    words = ["alpha", "backup", "cairn", "delta", "replica", "stream", "offsite", "garden",
             "mountain", "river", "ledger", "invoice", "customer", "shipping", "pending"]
    docs = []
    for i in range(DOCS):
        doc = {
            "id": i,
            "user": "user-%06d" % rnd.randrange(10 ** 6),
            "email": "u%d@example.org" % rnd.randrange(10 ** 5),
            "created": "2024-%02d-%02dT%02d:%02d:00Z" % (rnd.randint(1, 12), rnd.randint(1, 28),
                                                        rnd.randint(0, 23), rnd.randint(0, 59)),
            "tags": rnd.sample(words, 4),
            "score": round(rnd.uniform(0, 1000), 3),
            "active": rnd.random() < 0.5,
            "address": {"street": "%d %s street" % (rnd.randrange(999), rnd.choice(words)),
                        "city": rnd.choice(words).title(), "zip": "%05d" % rnd.randrange(99999)},
            "notes": " ".join(rnd.choice(words) for _ in range(40)),
        }
        docs.append(json.dumps(doc).encode())
    return docs


def test_json_dataset_syncs_compressed_over_shaped_link(pair):
    start_master, start_replica = pair
    m = start_master()
    docs = json_docs(seed=42)
    total = sum(len(d) for d in docs)
    assert 9_000_000 < total < 14_000_000, total
    load(m, b"".join(resp("SET", "doc:%d" % i, d) for i, d in enumerate(docs)), len(docs))
    assert m("DBSIZE").strip() == str(DOCS)

    t0 = time.monotonic()
    r = start_replica()
    wait(lambda: in_sync(m, r), 60, "the replica in ns B to sync ~10 MB through the channel",
         lambda: diag(m, r))
    took = time.monotonic() - t0

    # Identical content: key count, whole-dataset digest, value digests and values.
    assert r("DBSIZE").strip() == str(DOCS)
    assert r("DEBUG", "DIGEST") == m("DEBUG", "DIGEST")
    sample = ["doc:%d" % i for i in random.Random(1).sample(range(DOCS), 200)]
    assert r("DEBUG", "DIGEST-VALUE", *sample) == m("DEBUG", "DIGEST-VALUE", *sample)
    for k in sample[:5]:
        assert r("GET", k).rstrip("\n").encode() == docs[int(k.split(":")[1])]

    # The link went through the channel, and zstd shrank what crossed the wire.
    ms, rs = m.info("secure"), r.info("secure")
    assert ms["secure_connected_peers"] == "1" and ms["secure_handshakes_done"] == "1", ms
    assert rs["secure_master_link"] == "channel", rs
    assert ms["peer0"].startswith("label=offsite,addr=%s:" % ADDR_B), ms["peer0"]
    ratio = float(ms["secure_compression_ratio"])
    assert ratio > 1.5, "master's secure_compression_ratio %s for JSON documents" % ratio
    wire_in = int(rs["secure_bytes_received_on_wire"])
    app_in = int(rs["secure_bytes_received_after_decompression"])
    assert app_in > total and app_in / wire_in > 1.5, (app_in, wire_in)
    # Compressed, ~10 MB needs far less than the 4+ s the 20 Mbit/s link would take raw.
    assert wire_in < total / 1.5, (wire_in, total)
    print("synced %d bytes of JSON in %.1f s, %d bytes on the wire, ratio %.2f" %
          (total, took, wire_in, ratio))

    # The bytes really crossed the shaped veth, and tbf had to hold them back.
    sent, overlimits = qdisc_stats(NS_A, VETH_A)
    assert sent >= wire_in and overlimits > 0, (sent, overlimits, wire_in)

    # Replication continues through the channel.
    m("SET", "after", "sync")
    wait(lambda: r("GET", "after").strip() == "sync", 15, "a new write to arrive",
         lambda: diag(m, r))


RATE = 1_000_000 // 8  # 1mbit in bytes per second
WINDOW_S = 3.0
RANDOM_KEYS = 2000       # 2000 x 1000 random bytes: ~2 MB that zstd cannot shrink


def test_max_bandwidth_caps_a_full_sync(pair):
    start_master, start_replica = pair
    m = start_master()
    rnd = random.Random(7)
    load(m, b"".join(resp("SET", "rnd:%d" % i, rnd.randbytes(1000))
                     for i in range(RANDOM_KEYS)), RANDOM_KEYS)
    assert m("CONFIG", "SET", "secure-max-bandwidth", "1mbit").strip() == "OK"
    assert m.info("secure")["secure_max_bandwidth_bytes"] == str(RATE)

    r = start_replica()

    def sent():
        return int(m.info("secure")["secure_bytes_sent_on_wire"])

    # The full sync is under way (the RDB is streaming) before the window opens.
    wait(lambda: sent() > 100_000, 20, "the full sync to start", lambda: diag(m, r))
    assert r.info("replication")["master_sync_in_progress"] == "1"

    t_start = time.monotonic()
    b0 = sent()
    t_first = time.monotonic()
    while time.monotonic() - t_first < WINDOW_S:
        time.sleep(0.05)
    t_last = time.monotonic()
    b1 = sent()
    t_end = time.monotonic()
    still_syncing = r.info("replication")["master_sync_in_progress"] == "1"

    # The master read its counter somewhere inside each INFO call: the window it saw is
    # at most t_end - t_start and at least t_last - t_first.
    longest, shortest = t_end - t_start, t_last - t_first
    bytes_in_window = b1 - b0
    limit = 1.5 * RATE * longest + RATE / 20  # 1.5x the rate, plus the bucket's burst
    assert bytes_in_window < limit, \
        "the master sent %d bytes in <= %.2f s with secure-max-bandwidth 1mbit (%.0f B/s, " \
        "cap %d B/s)" % (bytes_in_window, longest, bytes_in_window / shortest, RATE)
    # Not a window of silence: the sync was moving, at a good fraction of the cap.
    assert bytes_in_window > 0.5 * RATE * shortest, (bytes_in_window, shortest)
    # Uncapped, 2 MB crosses the 20 Mbit/s link in about a second; capped it needs ~16.
    assert still_syncing, "the full sync finished inside the window: no cap?"
    print("capped full sync: %d bytes in %.2f-%.2f s (%.0f B/s, cap %d B/s)" %
          (bytes_in_window, shortest, longest, bytes_in_window / shortest, RATE))

    # Lifting the cap (it applies at once) lets the sync finish; the data is intact.
    assert m("CONFIG", "SET", "secure-max-bandwidth", "0").strip() == "OK"
    wait(lambda: in_sync(m, r), 30, "the sync to finish once the cap is lifted",
         lambda: diag(m, r))
    assert r("DBSIZE").strip() == str(RANDOM_KEYS)
