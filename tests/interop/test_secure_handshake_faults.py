# Bad input at the secure port's handshake (docs/secure-channel.md): port-scanner
# garbage, a replica with the wrong master key, an unknown replica key, a replayed
# initiation, stalled handshakes and the pending-handshake caps, a PSK mismatch and
# group-readable key files. Every case checks that the connection is closed without a
# reply, that the right counter (INFO secure) or log line moves, and that the node
# keeps serving: PING on the plain port and a legitimate replica that syncs (or keeps
# replicating) afterwards.
import os
import random
import re
import socket
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import replhelp as rh
from securefaults import (  # noqa: F401 (env and start_cairn are fixtures)
    INITIATION_LEN,
    REPLICA_DOWN_LOG,
    Stall,
    VALID_LOOKING_HEADER,
    assert_never_synced,
    assert_serving,
    counters,
    env,
    harness,
    probe,
    secure_info,
    sh,
    start_cairn,
    vm_rss_kb,
    wait_log,
    write_some)

# ---------------------------------------------------------------------------
# (a) port-scanner garbage

SCAN_SEED = 20240611
SCAN_RANDOM = 500
SCAN_HEADER = 50
SCAN_ABRUPT = 30
SCAN_WORKERS = 8
SCAN_DEADLINE_S = 40
RSS_SLACK_KB = 8 * 1024


def test_port_scanner_garbage(env):
    m = env.master()
    write_some(m, "before")
    rnd = random.Random(SCAN_SEED)
    payloads = [rnd.randbytes(rnd.randint(0, 4000)) for _ in range(SCAN_RANDOM)]
    payloads += [VALID_LOOKING_HEADER + rnd.randbytes(INITIATION_LEN - 4)
                 for _ in range(SCAN_HEADER)]
    rnd.shuffle(payloads)
    short = sum(1 for p in payloads if len(p) < INITIATION_LEN)

    # Warm-up (first allocations of the acceptor), then the baseline.
    for _ in range(10):
        assert probe(m.sport, b"x" * 10)[0] == b""
    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 5,
                "no pending handshakes after the warm-up")
    before = counters(m)
    rss_before = vm_rss_kb(m.srv.pid)

    # Each worker has its own source address (all of 127/8 is loopback) and runs its
    # share of the probes one after another, so the cap of 4 pending handshakes per
    # address never decides: every probe reaches the 128-byte read.
    deadline = time.monotonic() + SCAN_DEADLINE_S

    def worker(w):
        src = "127.0.0.%d" % (20 + w)
        out = []
        for i in range(w, len(payloads), SCAN_WORKERS):
            if time.monotonic() > deadline:
                raise AssertionError("the scan took longer than %d s" % SCAN_DEADLINE_S)
            out.append((i, probe(m.sport, payloads[i], src_ip=src)[0]))
        return out

    with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
        replies = [x for part in pool.map(worker, range(SCAN_WORKERS)) for x in part]
    assert len(replies) == len(payloads)
    answered = [(i, len(payloads[i]), got[:16]) for i, got in replies if got]
    assert not answered, "the secure port sent bytes back to garbage: %r" % answered[:5]

    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 5,
                "the pending handshakes to drain", lambda: rh.diag_nodes(m))
    after = counters(m)
    # Fewer than 128 bytes then EOF: a failed handshake ("left during the handshake").
    # 128 bytes or more: the first 128 fail mac1 (rejected), whatever the header says.
    assert after["failed"] - before["failed"] == short, (before, after, short)
    assert after["rejected"] - before["rejected"] == len(payloads) - short, \
        (before, after, len(payloads) - short)
    assert after["done"] == before["done"]
    assert "is not a peer (bad mac1)" in m.srv.log_text()
    assert "left during the handshake" in m.srv.log_text()

    # Abrupt closes (RST right after the bytes): no reply possible, nothing leaks.
    for i in range(SCAN_ABRUPT):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(("127.0.0.1", m.sport))
            s.sendall(rnd.randbytes(rnd.choice((5, 127, 128, 300))))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            s.close()
    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 10,
                "the aborted handshakes to drain", lambda: rh.diag_nodes(m))

    rss_after = vm_rss_kb(m.srv.pid)
    assert rss_after - rss_before < RSS_SLACK_KB, \
        "master RSS grew by %d kB over %d garbage connections (%d -> %d kB)" % (
            rss_after - rss_before, len(payloads) + SCAN_ABRUPT, rss_before, rss_after)
    assert_serving(m)
    assert secure_info(m)["secure_connected_peers"] == "0"

    # A real replica still gets in and syncs.
    r = env.replica(m.sport)
    rh.wait_in_sync(m, r, what="after the scan")
    write_some(m, "after")
    rh.wait_in_sync(m, r)
    assert r.call("GET", "after:7") == b"value-after-7"
    assert counters(m)["done"] == after["done"] + 1


# ---------------------------------------------------------------------------
# (b) the replica pins a wrong master key

def test_wrong_master_key_on_replica(env):
    m = env.master()
    write_some(m, "secret")
    other = sh.NodeKey(env.dir, "not-the-master")
    before = counters(m)
    r = env.replica(m.sport, master_key=other)

    needle = REPLICA_DOWN_LOG % m.sport
    assert_never_synced(m, r, needle)
    # mac1 is computed with the wrong key: the master drops it before any DH.
    rh.wait_for(lambda: counters(m)["rejected"] >= before["rejected"] + 2, 5,
                "the master to reject the initiations", lambda: rh.diag_nodes(m))
    after = counters(m)
    assert after["done"] == before["done"], (before, after)
    assert "is not a peer (bad mac1)" in m.srv.log_text()
    assert int(secure_info(r)["secure_handshakes_failed"]) >= 2
    line = next(l for l in r.srv.log_text().splitlines() if needle in l)
    assert "secure-master-public-key" in line, line  # the hint names what to check

    # The right key (CONFIG SET applies at the next connection): it syncs.
    assert r.must("CONFIG", "SET", "secure-master-public-key", env.mkey.public) == "OK"
    rh.wait_in_sync(m, r, timeout=20, what="with the right master key")
    assert r.call("GET", "secret:3") == b"value-secret-3"
    assert_serving(m)


# ---------------------------------------------------------------------------
# (c) the replica's key is not in secure-allow

def test_unknown_replica_key(env):
    m = env.master()
    write_some(m, "secret")
    stranger = sh.NodeKey(env.dir, "stranger")
    before = counters(m)
    r = env.replica(m.sport, key=stranger)

    wait_log(m, "public key %s is not in secure-allow" % stranger.public, nodes=(r,))
    line = next(l for l in m.srv.log_text().splitlines() if stranger.public in l)
    assert re.search(r"Secure handshake from 127\.0\.0\.1:\d+ refused: public key %s is not "
                     r"in secure-allow" % re.escape(stranger.public), line), line
    assert_never_synced(m, r, REPLICA_DOWN_LOG % m.sport)
    after = counters(m)
    assert after["rejected"] >= before["rejected"] + 2, (before, after)
    assert after["done"] == before["done"], (before, after)

    # The key the log printed, pasted into secure-allow: the same replica gets in.
    assert m.must("CONFIG", "SET", "secure-allow",
                  "%s offsite %s newcomer" % (env.rkey.public, stranger.public)) == "OK"
    rh.wait_in_sync(m, r, timeout=20, what="once its key is allowed")
    wait_log(m, "Secure channel established with newcomer (127.0.0.1:")
    assert r.call("GET", "secret:9") == b"value-secret-9"
    assert_serving(m)


# ---------------------------------------------------------------------------
# (d) a recorded initiation replayed to the running master

REPLAYS = 300


def test_replayed_initiation(env):
    m = env.master()
    write_some(m, "base")
    p = env.proxy(m.sport)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, what="through the recording proxy")
    assert len(p.initiations) == 1, p.initiations
    captured = p.initiations[0]
    assert captured[:4] == VALID_LOOKING_HEADER
    before = counters(m)
    peers_before = secure_info(m)["secure_connected_peers"]
    assert peers_before == "1"

    got, _ = probe(m.sport, captured)
    assert got == b"", "the master answered a replayed initiation with %r" % got[:64]
    wait_log(m, "refused: replayed or old initiation")
    line = next(l for l in m.srv.log_text().splitlines() if "replayed or old" in l)
    assert re.search(r"Secure handshake from 127\.0\.0\.1:\d+ refused: replayed or old "
                     r"initiation", line), line
    rh.wait_for(lambda: counters(m)["rejected"] == before["rejected"] + 1, 5,
                "the rejected counter to count the replay")
    after = counters(m)
    assert after["done"] == before["done"] and after["failed"] == before["failed"], \
        (before, after)

    # CONFIG SET of a list that keeps the key keeps its replay state.
    assert m.must("CONFIG", "SET", "secure-allow", "%s offsite" % env.rkey.public) == "OK"
    got, _ = probe(m.sport, captured)
    assert got == b"", "replay answered after CONFIG SET secure-allow: %r" % got[:64]
    wait_log(m, "refused: replayed or old initiation", count=2)
    rh.wait_for(lambda: counters(m)["rejected"] == after["rejected"] + 1, 5,
                "the rejected counter to count the second replay")
    before = counters(m)

    # A flood of the same initiation: each one passes mac1 and costs Diffie-Hellman,
    # so past the DH budget (secure-handshake-rate 100 per second, as a burst of 100)
    # they are refused by the rate limit instead. Either way: no reply, rejected, and
    # the master's memory stays flat.
    rss_before = vm_rss_kb(m.srv.pid)
    t0 = time.monotonic()
    for i in range(REPLAYS):
        got, _ = probe(m.sport, captured, src_ip="127.0.0.%d" % (50 + i % 8))
        assert got == b"", "reply to replay %d: %r" % (i, got[:64])
    took = time.monotonic() - t0
    rh.wait_for(lambda: counters(m)["rejected"] == before["rejected"] + REPLAYS, 5,
                "every replay to be counted as rejected",
                lambda: "%s" % counters(m))
    if took < 1.9:
        # More replays than the bucket can hold (100 + 100 per second).
        assert "handshake rate limit reached" in m.srv.log_text(), took
    assert vm_rss_kb(m.srv.pid) - rss_before < RSS_SLACK_KB
    after = counters(m)
    assert after["done"] == before["done"] and after["failed"] == before["failed"], \
        (before, after)

    # The live replica did not notice: same channel, same link, new writes arrive.
    assert secure_info(m)["secure_connected_peers"] == "1"
    assert p.connections == 1
    m.must("SET", "after-replay", "still-here")
    rh.wait_in_sync(m, r, what="after the replay")
    assert r.call("GET", "after-replay") == b"still-here"
    assert r.repl()["master_link_status"] == "up"
    assert int(m.stats()["sync_full"]) == 1
    assert_serving(m)


# ---------------------------------------------------------------------------
# (e) stalled handshakes and the pending-handshake cap

def test_stalled_handshakes_and_pending_cap(env):
    m = env.master("--secure-handshake-timeout", "1", "--secure-max-pending-handshakes", "4")
    write_some(m, "base")
    before = counters(m)

    one = Stall(m.sport, 50)
    try:
        rh.wait_for(one.closed, 5, "a stalled handshake to be closed")
    finally:
        one.close()
    assert one.received == b""
    # Not before the 1 s secure-handshake-timeout (the timer starts at accept, after
    # connect began), and not long after it.
    assert 0.9 <= one.closed_after < 3.5, one.closed_after
    rh.wait_for(lambda: counters(m)["failed"] == before["failed"] + 1, 5,
                "the failed counter to count the stall")
    wait_log(m, "sent no complete handshake within 1000 ms")

    # Four stalls from four addresses fill the pending table (cap 4)...
    before = counters(m)
    stalls = [Stall(m.sport, 50, src_ip="127.0.0.%d" % (31 + i)) for i in range(4)]
    try:
        rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "4", 2,
                    "four pending handshakes", lambda: rh.diag_nodes(m))
        # ...so a fifth, from yet another address, is closed at once without a byte
        # (a pending one would be held for the 1 s timeout) and counted as rejected.
        fifth = Stall(m.sport, 50, src_ip="127.0.0.40")
        try:
            rh.wait_for(fifth.closed, 5, "the fifth connection to be closed")
        finally:
            fifth.close()
        assert fifth.received == b""
        assert fifth.closed_after < 0.9, \
            "the fifth connection lasted %.2f s: it was not refused at once" % fifth.closed_after
        mid = counters(m)
        assert mid["rejected"] == before["rejected"] + 1, (before, mid)
        assert mid["failed"] == before["failed"], (before, mid)
        assert "too many pending handshakes, dropping 127.0.0.40:" in m.srv.log_text()

        # The stalls time out after their 1 s.
        rh.wait_for(lambda: all(s.closed() for s in stalls), 5, "the four stalls to close")
        assert all(s.received == b"" for s in stalls)
        assert all(0.9 <= s.closed_after < 3.5 for s in stalls), \
            [s.closed_after for s in stalls]
    finally:
        for s in stalls:
            s.close()
    rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "0", 5,
                "the pending table to empty")
    after = counters(m)
    assert after["failed"] == before["failed"] + 4, (before, after)

    # A real replica now gets a slot and syncs.
    r = env.replica(m.sport)
    rh.wait_in_sync(m, r, what="after the stalls timed out")
    assert r.call("GET", "base:1") == b"value-base-1"
    assert counters(m)["done"] == after["done"] + 1
    assert_serving(m)


def test_pending_cap_per_address(env):
    """At most 4 pending handshakes from one source address (the global cap is 64)."""
    m = env.master("--secure-handshake-timeout", "1")
    before = counters(m)
    stalls = [Stall(m.sport, 50, src_ip="127.0.0.61") for _ in range(4)]
    try:
        rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "4", 2,
                    "four pending handshakes from 127.0.0.61", lambda: rh.diag_nodes(m))
        same = Stall(m.sport, 50, src_ip="127.0.0.61")
        other = Stall(m.sport, 50, src_ip="127.0.0.62")
        try:
            rh.wait_for(same.closed, 5, "a fifth connection from 127.0.0.61 to be closed")
            # The one from another address was let in: it is held until its timeout.
            rh.wait_for(lambda: secure_info(m)["secure_pending_handshakes"] == "5", 2,
                        "127.0.0.62 to be pending")
            assert not other.closed()
            assert same.closed_after < 0.9, same.closed_after
            assert same.received == b""
            assert counters(m)["rejected"] == before["rejected"] + 1
            assert "too many pending handshakes, dropping 127.0.0.61:" in m.srv.log_text()
            rh.wait_for(other.closed, 5, "the stall from 127.0.0.62 to time out")
            assert other.closed_after >= 0.9, other.closed_after
        finally:
            same.close()
            other.close()
        rh.wait_for(lambda: all(s.closed() for s in stalls), 5, "the four stalls to close")
    finally:
        for s in stalls:
            s.close()
    rh.wait_for(lambda: counters(m)["failed"] == before["failed"] + 5, 5,
                "five timed-out handshakes", lambda: str(counters(m)))
    assert_serving(m)


# ---------------------------------------------------------------------------
# (h) PSK mismatch; key files readable by the group

def psk_file(directory, name, mode=0o600):
    path = os.path.join(directory, name)
    text = subprocess.run([harness.cairn_bin(), "genkey"], check=True, capture_output=True,
                          text=True).stdout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def test_psk_mismatch(env):
    psk_a = psk_file(env.dir, "a.psk")
    psk_b = psk_file(env.dir, "b.psk")
    m = env.master("--secure-psk-file", psk_a)
    write_some(m, "secret")
    before = counters(m)
    r = env.replica(m.sport, "--secure-psk-file", psk_b)

    needle = REPLICA_DOWN_LOG % m.sport
    assert_never_synced(m, r, needle)
    line = next(l for l in r.srv.log_text().splitlines() if needle in l)
    assert "failed authentication (the two sides' secure-psk-file differ)" in line, line
    # IKpsk2 mixes the PSK in only in the response: the master completes its side,
    # but counts a handshake done only once the initiator's first record opens, which
    # never happens here; each attempt ends as failed, with a log line saying why.
    rh.wait_for(lambda: counters(m)["failed"] >= before["failed"] + 2, 10,
                "the master to count the unconfirmed sessions as failed")
    after = counters(m)
    assert after["done"] == before["done"], (before, after)
    assert "ended before its first record" in m.srv.log_text()
    assert int(secure_info(r)["secure_handshakes_failed"]) >= 2
    assert int(secure_info(r)["secure_handshakes_done"]) == 0

    # Each of those sessions ended with the replica's close: none stays counted as a
    # connected peer or a client on the master.
    r.close_conn()
    r.srv.stop()
    rh.wait_for(lambda: secure_info(m)["secure_connected_peers"] == "0", 10,
                "the master to let go of the half-made sessions",
                lambda: "%s\n%s" % (secure_info(m), rh.diag_nodes(m)))
    rh.wait_for(lambda: m.info("clients")["connected_clients"] == "1", 10,
                "only this test's client to remain on the master",
                lambda: m.call("CLIENT", "LIST").decode(errors="replace"))

    # The same replica key with the master's PSK: a new replica process syncs.
    r2 = env.replica(m.sport, "--secure-psk-file", psk_a)
    rh.wait_in_sync(m, r2, what="with the matching PSK")
    assert r2.call("GET", "secret:0") == b"value-secret-0"
    assert_serving(m)


def start_expecting_failure(args, cwd):
    """Runs `cairn server ARGS` directly; returns (exit code, output). A process that
    is still running after 10 s is killed and fails the test."""
    cmd = [harness.cairn_bin(), "server", "--port", str(harness.free_port()), "--save", "",
           "--appendonly", "no"] + list(args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=cwd)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("%s kept running with a group-readable key file:\n%s" %
                             (" ".join(cmd), out.decode(errors="replace")[-2000:]))
    return proc.returncode, out.decode(errors="replace")


@pytest.mark.parametrize("which", ["psk", "private-key"])
def test_group_readable_key_file_stops_startup(env, which):
    if which == "psk":
        path = psk_file(env.dir, "loose.psk", mode=0o640)
        args = ["--secure-psk-file", path]
    else:
        path = os.path.join(env.dir, "loose.key")
        with open(env.mkey.path) as src, open(path, "w") as dst:
            dst.write(src.read())
        os.chmod(path, 0o640)
        args = ["--secure-port", str(harness.free_port()), "--secure-bind", "127.0.0.1",
                "--secure-private-key", path]
    code, out = start_expecting_failure(args, env.dir)
    assert code != 0, out
    assert "Ready to accept connections" not in out, out
    fix = "chmod 600 %s" % path
    lines = [l for l in out.splitlines() if path in l and fix in l]
    assert lines, "no line names %s and '%s':\n%s" % (path, fix, out)
    assert "0640" in lines[0], lines[0]

    # Also through the harness: it raises ServerStartError, the log says why.
    with pytest.raises(harness.ServerStartError) as e:
        harness.start_server(args, workdir=env.dir)
    assert fix in str(e.value)

    # chmod 600, as the message says: the same command starts.
    os.chmod(path, 0o600)
    srv = env.start(*args)
    assert srv.client().ping()
