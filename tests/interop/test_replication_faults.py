# Replication under faults, Cairn against stock redis-server 7.0 in both directions and
# Cairn with Cairn: the master SIGKILLed in the middle of a full sync, the replica
# SIGKILLed while it receives/loads the RDB, a link that hangs open (repl-timeout), and
# a link cut at random moments (up to 50 times) through a proxy while a writer keeps
# going. Each test is bounded in time; "equal" means equal DEBUG DIGESTs and offsets,
# and acknowledged writes are counted exactly.
#
# Set CAIRN_REPL_SELFCHECK=1 to also run every scenario with stock Redis on both ends.
import random
import threading
import time

import pytest

import replhelp as rh
from replhelp import PAIR_IDS, PAIRS

BULK_KEYS = 20000       # ~4 MB of strings
KEY_DELAY_US = 100      # rdb-key-save-delay: >= 2 s for the whole transfer
MID_SYNC_BYTES = 100_000


def stats(node):
    s = node.stats()
    return {k: int(s[k]) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")}


def wait_mid_sync(replica, proxy, timeout=20):
    """Returns once MID_SYNC_BYTES of the full sync went through the proxy to the
    replica (of several MB: the transfer is still under way)."""
    base = proxy.bytes_to_replica

    def mid():
        return proxy.bytes_to_replica - base >= MID_SYNC_BYTES
    rh.wait_for(mid, timeout, "%d bytes of the full sync to reach %r" % (MID_SYNC_BYTES, replica),
                lambda: rh.diag_nodes(replica))


def slow_master(cluster, kind):
    m = cluster.start(kind, "--repl-diskless-sync", "yes", "--repl-backlog-size", "16mb")
    rh.fill_bulk(m, BULK_KEYS)
    rh.fill(m, seed=83, dbs=(0, 2), per_db=30)
    assert m.must("CONFIG", "SET", "rdb-key-save-delay", KEY_DELAY_US) == "OK"
    return m


@pytest.mark.parametrize("load", ["disabled", "swapdb"])
@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_master_killed_mid_full_sync(cluster, mkind, rkind, load):
    m = slow_master(cluster, mkind)
    r = cluster.start(rkind, "--repl-diskless-load", load)
    own = rh.fill(r, seed=81, dbs=(0, 4), per_db=40, prefix="own")
    p = cluster.proxy(m.port)
    assert r.must("REPLICAOF", "127.0.0.1", p.port) == "OK"
    wait_mid_sync(r, p)
    kids = cluster.kill(m)
    assert kids, "the master had no fork child sending the RDB"

    # The replica gives the transfer up, stays up, and (as Redis 7.0 does in every
    # load mode) still holds its own dataset: nothing half-loaded, nothing flushed.
    def gave_up():
        info = r.info()
        return (info.get("master_sync_in_progress") == "0" and info.get("loading") == "0"
                and info.get("master_link_status") == "down")
    rh.wait_for(gave_up, 15, "the replica to abandon the interrupted sync",
                lambda: rh.diag_nodes(r))
    assert r.call("PING") == "PONG"
    assert r.repl()["role"] == "slave"
    # The orphaned fork child of the diskless transfer notices that its parent is gone
    # (a write to the closed pipe/socket fails) and exits; it must not hang on forever.
    rh.wait_for(lambda: not rh.running(kids), 10,
                "the killed master's fork child %s to exit" % rh.running(kids))
    d = r.digest()
    if d != own:
        pytest.fail("the replica's dataset changed after an interrupted full sync "
                    "(digest %s, its own dataset %s, master's partial key bulk:0=%r)" %
                    (d, own, r.call("GET", "bulk:0")))

    # A master comes back on that address (with other data): a full sync follows.
    m2 = cluster.start(mkind)
    want = rh.fill(m2, seed=84, per_db=50, prefix="new")
    p.set_target(m2.port)
    _, digest = rh.wait_in_sync(m2, r, timeout=30, what="with the new master")
    assert digest == want
    assert stats(m2)["sync_full"] == 1
    rh.small_writes(m2, "after")
    rh.wait_in_sync(m2, r)
    rh.assert_same_data(m2, r)


@pytest.mark.parametrize("load", ["disabled", "swapdb"])
@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_replica_killed_mid_load(cluster, mkind, rkind, load):
    m = slow_master(cluster, mkind)
    p = cluster.proxy(m.port)
    r = cluster.start(rkind, "--repl-diskless-load", load, "--replicaof", "127.0.0.1", p.port)
    wait_mid_sync(r, p)
    cluster.kill(r)

    # The master notices, keeps serving, and lets go of the dead replica.
    rh.wait_for(lambda: m.repl()["connected_slaves"] == "0", 15,
                "the master to drop the killed replica", lambda: rh.diag_nodes(m))
    assert m.call("PING") == "PONG"
    assert m.must("CONFIG", "SET", "rdb-key-save-delay", 0) == "OK"
    rh.small_writes(m, "while-down")

    r2 = cluster.start(rkind, "--repl-diskless-load", load, "--replicaof", "127.0.0.1", m.port,
                       workdir=r.workdir)
    rh.wait_in_sync(m, r2, timeout=30, what="after the replica restarted")
    rh.assert_same_history(m, r2)
    assert stats(m)["sync_full"] == 2
    rh.small_writes(m, "after")
    rh.wait_in_sync(m, r2)


# ---------------------------------------------------------------------------
# A link that hangs without closing: repl-timeout on both ends

@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_frozen_link_times_out_then_resumes(cluster, mkind, rkind):
    m = cluster.start(mkind, "--repl-timeout", 2, "--repl-ping-replica-period", 1,
                      "--repl-backlog-size", "16mb")
    rh.fill(m, seed=95, per_db=30)
    p = cluster.proxy(m.port)
    r = cluster.start(rkind, "--repl-timeout", 2, "--replicaof", "127.0.0.1", p.port)
    rh.wait_in_sync(m, r, what="initial sync")
    before = stats(m)

    p.freeze(True)
    rh.small_writes(m, "frozen")
    # The replica hears nothing (not even the 1 s pings) and drops the link; the
    # master gets no REPLCONF ACK and drops the replica. Neither waits forever.
    rh.wait_link_down(r, timeout=15)
    rh.wait_for(lambda: m.repl()["connected_slaves"] == "0", 15,
                "the master to time the silent replica out", lambda: rh.diag_nodes(m, r))
    p.freeze(False)

    rh.wait_in_sync(m, r, timeout=20, what="after the link thawed")
    after = stats(m)
    assert after["sync_full"] == before["sync_full"], (before, after)
    assert after["sync_partial_ok"] > before["sync_partial_ok"], (before, after)
    assert r.call("GET", "frozen:s") == b"frozen"
    rh.assert_same_data(m, r)


# ---------------------------------------------------------------------------
# Random cuts under load

CUTS = 50
CUT_LOOP_CAP_S = 25   # a replica that waits ~1 s before reconnecting gets ~20 cuts
MIN_EFFECTIVE_CUTS = 15


class Writer(threading.Thread):
    """Writes to the master directly (never through the proxy) and counts what was
    acknowledged: INCRs per counter, RPUSHed values per list, the last SET per key,
    and MULTI/EXEC blocks of INCR+RPUSH."""

    def __init__(self, master, seed):
        super().__init__(daemon=True)
        self.m = master
        self.rnd = random.Random(seed)
        self.stop_flag = threading.Event()
        self.counts = {}
        self.lists = {}
        self.strings = {}
        self.ops = 0
        self.error = None

    def run(self):
        c = self.m.client()
        try:
            seq = 0
            while not self.stop_flag.is_set() and seq < 200_000:
                seq += 1
                i = self.rnd.randrange(4)
                if seq % 7 == 0:
                    p = c.pipeline(transaction=True)
                    p.incr("cnt:tx")
                    p.rpush("lst:tx", seq)
                    p.execute()
                    self.counts["cnt:tx"] = self.counts.get("cnt:tx", 0) + 1
                    self.lists.setdefault("lst:tx", []).append(b"%d" % seq)
                else:
                    p = c.pipeline(transaction=False)
                    p.incr("cnt:%d" % i)
                    p.rpush("lst:%d" % i, seq)
                    p.set("str:%d" % i, "v%d" % seq)
                    p.execute()
                    self.counts["cnt:%d" % i] = self.counts.get("cnt:%d" % i, 0) + 1
                    self.lists.setdefault("lst:%d" % i, []).append(b"%d" % seq)
                    self.strings["str:%d" % i] = b"v%d" % seq
                self.ops += 1
                time.sleep(0.002)
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            c.close()


def check_writes(node, w):
    for k, n in w.counts.items():
        assert node.call("GET", k) == b"%d" % n, \
            "%r: %s is %r, %d INCRs were acknowledged" % (node, k, node.call("GET", k), n)
    for k, vals in w.lists.items():
        got = node.call("LRANGE", k, 0, -1)
        if got != vals:
            extra = len(got) - len(vals)
            pytest.fail("%r: %s has %d elements, %d RPUSHes were acknowledged (first "
                        "difference at %s)" % (node, k, len(got), len(vals), next(
                            (j for j, (a, b) in enumerate(zip(got, vals)) if a != b),
                            "the end" if extra else "?")))
    for k, v in w.strings.items():
        assert node.call("GET", k) == v, "%r: %s" % (node, k)


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_random_link_cuts_under_writes(cluster, mkind, rkind):
    rnd = random.Random(1234)
    m = cluster.start(mkind, "--repl-backlog-size", "64mb")
    rh.fill(m, seed=91, per_db=30)
    p = cluster.proxy(m.port)
    r = cluster.start(rkind, "--replicaof", "127.0.0.1", p.port)
    rh.wait_in_sync(m, r, what="initial sync")
    before = stats(m)
    assert before["sync_full"] == 1

    w = Writer(m, seed=5)
    w.start()
    effective = 0
    deadline = time.monotonic() + CUT_LOOP_CAP_S
    try:
        for _ in range(CUTS):
            # Each cut lands at a random moment of a live connection (which may still
            # be in its handshake or PSYNC).
            while p.live() == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            if time.monotonic() > deadline or w.error is not None:
                break
            time.sleep(rnd.uniform(0.02, 0.3))
            outage = rnd.random() < 0.2
            if outage:
                p.block(True)  # the replica's reconnections fail for a while
            effective += 1 if p.cut() else 0
            if outage:
                time.sleep(rnd.uniform(0.05, 0.5))
                p.block(False)
    finally:
        w.stop_flag.set()
        w.join(timeout=15)
        p.block(False)
    assert w.error is None, "the writer failed: %r" % (w.error,)
    assert effective >= MIN_EFFECTIVE_CUTS, \
        "only %d of %d cuts found a live link within %d s (slow reconnection?)" % (
            effective, CUTS, CUT_LOOP_CAP_S)

    rh.wait_in_sync(m, r, timeout=30, what="after %d cuts" % effective)
    check_writes(m, w)
    check_writes(r, w)
    after = stats(m)
    assert after["sync_full"] == before["sync_full"], \
        "full resyncs during the cuts (backlog 64mb, %d writes): %s -> %s" % (w.ops, before,
                                                                               after)
    assert after["sync_partial_ok"] > before["sync_partial_ok"], (before, after)
    rh.assert_same_history(m, r)
