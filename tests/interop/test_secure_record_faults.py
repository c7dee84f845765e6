# Damage after the handshake (docs/secure-channel.md): bit flips in transport records
# in either direction and inside a 64 KB record of a full sync, and a full sync cut
# in the middle of a record. The damaged side logs the failure (the record number
# matches the one altered), the link drops, the replica reconnects with a new
# handshake and ends with the master's dataset; the master keeps serving.
import random
import re
import time

import pytest

import replhelp as rh
from securefaults import (  # noqa: F401 (env and start_cairn are fixtures)
    assert_serving,
    counters,
    env,
    secure_info,
    start_cairn,
    wait_log,
    write_some)

# ---------------------------------------------------------------------------
# (f) one bit flipped in a master->replica transport record

FLIPS = {
    # name: (position from the record's first byte (negative: from its end), bit,
    #        record lengths L the flip may hit (min, max), what the replica must report)
    # L one more or one less: the tag check fails (at once, or once the next record's
    # first byte arrived).
    "length-low-bit": (1, 0, (18, 65535), "failed authentication"),
    # L 16384 larger: the replica buffers the following records, then the tag fails.
    "length-high-bit": (0, 6, (18, 1000), "failed authentication"),
    # A keepalive (L = 17) whose length becomes 1: refused before any decryption.
    "keepalive-length-below-tag": (1, 4, (17, 17), "of 1 bytes is shorter than its tag"),
    "type-byte": (2, 5, (17, 65535), "failed authentication"),
    # The ciphertext spans bytes 2 .. L-15 of the record: byte 18 when L >= 40.
    "mid-ciphertext": (18, 3, (40, 65535), "failed authentication"),
    "tag-last-byte": (-1, 7, (17, 65535), "failed authentication"),
}
CHANNEL_FAILURE = re.compile(r"Secure channel with 127\.0\.0\.1:(\d+): secure channel record "
                             r"(?:(\d+) failed authentication|of \d+ bytes is shorter than its "
                             r"tag)")


@pytest.mark.parametrize("where", list(FLIPS))
def test_bit_flip_in_transport_record(env, where):
    pos, bit, lengths, expected = FLIPS[where]
    m = env.master("--repl-backlog-size", "8mb", "--secure-keepalive", "1")
    rh.fill(m, seed=7, dbs=(0, 2), per_db=60)
    p = env.proxy(m.sport)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, what="before the flip")
    stats_before = m.stats()
    done_before = counters(m)["done"]

    p.arm_flip(pos, bit, *lengths)
    # Writes (~500-byte records) keep records flowing until the replica reported the
    # altered record; the keepalive case writes nothing, so that the idle master sends
    # a keepalive (secure-keepalive 1) for the proxy to alter.
    writes = lengths != (17, 17)
    rnd = random.Random(5)
    c = m.client()
    try:
        deadline = time.monotonic() + 15
        i = 0
        while time.monotonic() < deadline and not CHANNEL_FAILURE.search(r.srv.log_text()):
            if writes:
                c.set("flip:%d" % i, rnd.randbytes(500))
                i += 1
            time.sleep(0.02)
    finally:
        c.close()
    assert p.flipped is not None, "the proxy never saw a record to flip"
    found = CHANNEL_FAILURE.search(r.srv.log_text())
    assert found, "the replica did not report the altered record %s:\n%s" % (
        p.flipped, r.log_tail(20))
    assert int(found.group(1)) == p.port
    assert expected in found.group(0), (found.group(0), p.flipped)
    if found.group(2) is not None:
        # Records are counted from 0 on both sides: the log names the altered one.
        assert int(found.group(2)) == p.flipped["record"], (found.group(0), p.flipped)

    # The link drops and comes back through the channel (a new handshake on a new
    # connection), then continues by partial resync with the same data.
    rh.wait_for(lambda: p.connections >= 2, 15, "the replica to reconnect through the proxy",
                lambda: rh.diag_nodes(r, m))
    wait_log(r, "Connection with master lost", nodes=(m,))
    rh.wait_in_sync(m, r, timeout=20, what="after the bit flip %s" % p.flipped)
    assert counters(m)["done"] >= done_before + 1
    stats_after = m.stats()
    assert stats_after["sync_full"] == stats_before["sync_full"], (stats_before, stats_after)
    assert int(stats_after["sync_partial_ok"]) > int(stats_before["sync_partial_ok"]), \
        (stats_before, stats_after)
    rh.assert_same_data(m, r)
    # The broken session is gone on both sides; only the new one is counted.
    rh.wait_for(lambda: secure_info(m)["secure_connected_peers"] == "1", 10,
                "the master to count one connected peer", lambda: str(secure_info(m)))
    assert secure_info(r)["secure_connected_peers"] == "1", secure_info(r)
    if writes:
        assert r.call("EXISTS", "flip:%d" % (i - 1)) == 1
    assert_serving(m)
    assert len(p.initiations) == p.connections


def test_bit_flip_towards_master(env):
    """The other direction: an altered record from the replica (its REPLCONF ACKs,
    sent every second) ends the session on the master's side; the replica reconnects
    and continues."""
    m = env.master("--repl-backlog-size", "8mb")
    rh.fill(m, seed=8, dbs=(0,), per_db=60)
    p = env.proxy(m.sport)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, what="before the flip")
    partial_before = int(m.stats()["sync_partial_ok"])
    p.arm_flip(5, 1, to_replica=False)

    wait_log(m, "failed authentication", timeout=10, nodes=(r,))
    assert p.flipped is not None and not p.flipped["to_replica"], p.flipped
    found = CHANNEL_FAILURE.search(m.srv.log_text())
    assert found and int(found.group(2)) == p.flipped["record"], (p.flipped, m.log_tail(10))
    rh.wait_for(lambda: p.connections >= 2, 15, "the replica to reconnect through the proxy",
                lambda: rh.diag_nodes(r, m))
    write_some(m, "after-flip")
    rh.wait_in_sync(m, r, timeout=20, what="after the flip towards the master")
    assert int(m.stats()["sync_partial_ok"]) > partial_before
    assert int(m.stats()["sync_full"]) == 1
    rh.wait_for(lambda: secure_info(m)["secure_connected_peers"] == "1", 10,
                "the master to count one connected peer", lambda: str(secure_info(m)))
    assert_serving(m)


def test_bit_flip_during_full_sync(env):
    """A flip inside a large record of the RDB transfer: the load is abandoned and a
    new full sync over a new channel delivers the whole dataset."""
    m = env.master()
    rnd = random.Random(11)
    c = m.client()
    try:
        pipe = c.pipeline(transaction=False)
        for i in range(3000):
            pipe.set("rnd:%d" % i, rnd.randbytes(1000))  # incompressible: full records
        pipe.execute()
    finally:
        c.close()
    p = env.proxy(m.sport)
    p.arm_flip(30000, 2, min_len=60000)
    r = env.replica(p.port)
    rh.wait_in_sync(m, r, timeout=30, what="after a flip in the RDB transfer")
    assert p.flipped is not None and p.flipped["conn"] == 1, p.flipped
    found = CHANNEL_FAILURE.search(r.srv.log_text())
    assert found and found.group(2) == str(p.flipped["record"]), (p.flipped, r.log_tail(20))
    assert p.connections >= 2
    assert int(m.stats()["sync_full"]) >= 2
    rh.assert_same_data(m, r)
    assert_serving(m)


# ---------------------------------------------------------------------------
# (g) the peer vanishes inside a record in the middle of a ~20 MB full sync

BIG_KEYS = 200_000
BIG_VALUE = 100
CUT_AFTER = 3_000_000


def test_cut_mid_record_during_big_full_sync(env):
    m = env.master("--repl-backlog-size", "4mb")
    rnd = random.Random(3)
    c = m.client()
    try:
        pipe = c.pipeline(transaction=False)
        batch = {}
        for i in range(BIG_KEYS):
            # Hex: half the entropy of random bytes, so zstd leaves ~10 MB on the wire.
            batch["big:%d" % i] = rnd.randbytes(BIG_VALUE // 2).hex()
            if len(batch) == 1000:
                pipe.mset(batch)
                batch = {}
        pipe.execute()
    finally:
        c.close()
    assert m.call("DBSIZE") == BIG_KEYS

    p = env.proxy(m.sport)
    p.arm_cut(CUT_AFTER)
    r = env.replica(p.port)
    rh.wait_for(lambda: p.cut_done is not None, 30, "the proxy to cut the transfer",
                lambda: rh.diag_nodes(r, m))
    assert p.cut_done["conn"] == 1 and p.cut_done["len"] > 2, p.cut_done
    wait_log(r, "connection ended inside a record", nodes=(m,))
    assert_serving(m)

    rh.wait_in_sync(m, r, timeout=60, what="after the cut transfer")
    assert p.connections >= 2
    assert r.call("DBSIZE") == BIG_KEYS
    for k in ("big:0", "big:99999", "big:199999"):
        assert r.call("GET", k) == m.call("GET", k)
    assert int(m.stats()["sync_full"]) >= 2
    assert_serving(m)
