# Replication between Cairn and stock redis-server 7.0 over plain TCP (PSYNC2), in both
# directions and Cairn with Cairn: full sync (disk-based and diskless framings, every
# replica load mode) of a dataset of every type, streaming writes of every family,
# expiry, partial resync after a cut link, a killed replica client, a killed master
# client and a replica restart, authentication, read-only replicas, failover by
# REPLICAOF NO ONE with PSYNC2 continuation, chains, WAIT, min-replicas-to-write and
# ROLE. "Equal" always means the same DEBUG DIGEST on both nodes and the replica's
# slave_repl_offset equal to the master's master_repl_offset.
#
# Set CAIRN_REPL_SELFCHECK=1 to also run every scenario with stock Redis on both ends
# (that validates the tests themselves).
import os
import random

import pytest

import replhelp as rh
from replhelp import Err, PAIR_IDS, PAIRS

SELFCHECK = os.environ.get("CAIRN_REPL_SELFCHECK") == "1"


def replicaof_args(master, port=None):
    args = ["--replicaof", "127.0.0.1", port or master.port]
    if master.password is not None:
        args += ["--masterauth", master.password]
    return args


def stats(node):
    s = node.stats()
    return {k: int(s[k]) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")}


# ---------------------------------------------------------------------------
# Full sync, then streaming

SYNC_MODES = {
    # name: (master's repl-diskless-sync, replica's repl-diskless-load)
    "disk": ("no", "disabled"),
    "diskless": ("yes", "disabled"),
    "diskless-swapdb": ("yes", "swapdb"),
}


@pytest.mark.parametrize("mode", list(SYNC_MODES))
@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_full_sync_then_stream(cluster, mkind, rkind, mode):
    diskless, load = SYNC_MODES[mode]
    m = cluster.start(mkind, "--repl-diskless-sync", diskless)
    want = rh.fill(m, seed=11)
    # The replica starts with a dataset of its own, which the full sync must replace.
    r = cluster.start(rkind, "--repl-diskless-load", load)
    rh.fill(r, seed=99, dbs=(0, 2), per_db=30, prefix="stale")
    assert r.must("REPLICAOF", "127.0.0.1", m.port) == "OK"
    off, digest = rh.wait_in_sync(m, r, what="after the full sync")
    assert digest == want
    rh.assert_same_history(m, r)
    s = stats(m)
    assert s["sync_full"] == 1 and s["sync_partial_ok"] == 0, s
    assert r.call("EXISTS", "stale0:1") == 0
    rh.assert_same_data(m, r)

    # Streaming writes of every family.
    rh.stream_writes(m, random.Random(5))
    rh.wait_in_sync(m, r, what="after the streamed writes")
    rh.assert_same_data(m, r)
    for db in (0, 3, 5, 6, 7, 9):
        r.must("SELECT", db)
        m.must("SELECT", db)
        assert r.call("DBSIZE") == m.call("DBSIZE"), "db %d" % db
    r.must("SELECT", 0)
    m.must("SELECT", 0)

    # Active expiry on the master: its DELs reach the replica.
    c = m.raw()
    try:
        base = {}
        for db in (0, 1):
            c.call("SELECT", db)
            base[db] = c.call("DBSIZE")
            for i in range(5):
                assert c.call("SET", "short:%d:%d" % (db, i), "v", "PX", 100) == "OK"
            assert c.call("PEXPIRE", "k%d:0" % db, 100) == 1
        rh.wait_in_sync(m, r, what="with the short TTLs set")

        def expired():
            for db in (0, 1):
                c.call("SELECT", db)
                if c.call("DBSIZE") != base[db] - 1:
                    return False
            return True
        rh.wait_for(expired, 15, "the master's active expiry to delete the short keys")
    finally:
        c.close()
    rh.wait_in_sync(m, r, what="after active expiry")
    for db in (0, 1):
        r.must("SELECT", db)
        assert r.call("DBSIZE") == base[db] - 1, "db %d on the replica" % db
        assert r.call("EXISTS", "short:%d:0" % db) == 0
    r.must("SELECT", 0)

    # Lazy expiry: with the master's active cycle off, the replica reports the key as
    # gone once its time passes but keeps it until the master's DEL arrives.
    m.must("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    n0 = m.call("DBSIZE")
    assert m.must("SET", "lazy", "v", "PX", 150) == "OK"
    rh.wait_in_sync(m, r, what="with the lazy key set")
    rh.wait_for(lambda: r.call("GET", "lazy") is None, 10,
                "the replica to report the expired key as missing")
    assert r.call("DBSIZE") == n0 + 1, \
        "the replica deleted an expired key by itself (Redis replicas wait for the master's DEL)"
    assert m.call("GET", "lazy") is None  # lazy expiry on the master propagates a DEL
    rh.wait_in_sync(m, r, what="after the lazy expiry DEL")
    assert r.call("DBSIZE") == n0
    m.must("DEBUG", "SET-ACTIVE-EXPIRE", "1")

    # FLUSHALL empties every database on the replica.
    m.must("FLUSHALL")
    m.must("SET", "after-flushall", "1")
    rh.wait_in_sync(m, r, what="after FLUSHALL")
    assert rh.keyspace_dbs(r) == [0]
    assert r.call("DBSIZE") == 1
    assert stats(m)["sync_full"] == 1


# ---------------------------------------------------------------------------
# Partial resynchronisation

def _big_backlog():
    return ["--repl-backlog-size", "16mb"]


@pytest.mark.parametrize("how", ["proxy-cut", "kill-replica-client", "kill-master-client"])
@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_partial_resync_after_link_loss(cluster, mkind, rkind, how):
    m = cluster.start(mkind, *_big_backlog())
    rh.fill(m, seed=21, per_db=40)
    p = cluster.proxy(m.port)
    r = cluster.start(rkind, *replicaof_args(m, p.port))
    rh.wait_in_sync(m, r, what="initial sync")
    before = stats(m)
    assert before["sync_full"] == 1

    if how == "proxy-cut":
        p.block(True)  # the replica's reconnections fail until we let them through
        assert p.cut() == 1, "the proxy had no live replication link to cut"
        rh.wait_link_down(r)
        rh.small_writes(m, "gap")  # written while the link is down
        rh.stream_writes(m, random.Random(2), tag="gapw")
        p.block(False)
    elif how == "kill-replica-client":
        assert m.call("CLIENT", "KILL", "TYPE", "replica") == 1
        rh.small_writes(m, "gap")
    else:
        assert r.call("CLIENT", "KILL", "TYPE", "master") == 1
        rh.small_writes(m, "gap")

    rh.wait_in_sync(m, r, timeout=20, what="after the link came back")
    after = stats(m)
    assert after["sync_full"] == before["sync_full"], \
        "the replica needed a full sync after %s (stats %s -> %s)" % (how, before, after)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1, (before, after)
    rh.assert_same_history(m, r)
    rh.assert_same_data(m, r)
    if how == "proxy-cut":
        assert p.forwarded >= 2

    # The resumed link keeps streaming.
    rh.small_writes(m, "later")
    rh.wait_in_sync(m, r, what="writes after the partial resync")


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_replica_restart_resumes_with_partial_resync(cluster, mkind, rkind):
    m = cluster.start(mkind, *_big_backlog())
    rh.fill(m, seed=31, per_db=40)
    r = cluster.start(rkind, *replicaof_args(m))
    rh.wait_in_sync(m, r, what="initial sync")
    rh.small_writes(m, "pre")
    rh.wait_in_sync(m, r)
    before = stats(m)

    # With save points, SIGTERM makes the replica save an RDB that records its
    # replication id and offset.
    assert r.must("CONFIG", "SET", "save", "3600 1") == "OK"
    code = cluster.stop(r)
    assert code == 0, "replica exited with %s on SIGTERM:\n%s" % (code, r.log_tail())
    dump = os.path.join(r.workdir, "dump.rdb")
    assert os.path.exists(dump), "the replica wrote no dump.rdb on SIGTERM"
    with open(dump, "rb") as f:
        data = f.read()
    replid = m.repl()["master_replid"].encode()
    # AUX fields: repl-id is the master's id (a 40-byte string), repl-offset follows.
    assert b"\x07repl-id\x28" + replid in data and b"\x0brepl-offset" in data, \
        "the replica's dump.rdb lacks the repl-id %s / repl-offset AUX fields" % replid
    rh.small_writes(m, "missed")  # the restarted replica must fetch these from the backlog

    r2 = cluster.start(rkind, *replicaof_args(m), workdir=r.workdir)
    rh.wait_in_sync(m, r2, what="after the replica restarted")
    after = stats(m)
    assert after["sync_full"] == before["sync_full"], \
        "the restarted replica needed a full sync (%s -> %s)" % (before, after)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1, (before, after)
    rh.assert_same_history(m, r2)
    assert r2.call("GET", "missed:s") == b"missed"
    rh.assert_same_data(m, r2)


# ---------------------------------------------------------------------------
# Authentication

@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_masterauth(cluster, mkind, rkind):
    m = cluster.start(mkind, password="s3cret-pw")
    rh.fill(m, seed=41, per_db=30)
    r = cluster.start(rkind, *replicaof_args(m))
    rh.wait_in_sync(m, r, what="with requirepass/masterauth")
    rh.small_writes(m, "auth")
    rh.wait_in_sync(m, r)
    # masteruser: the replica authenticates as AUTH <user> <password>.
    before = stats(m)
    assert r.must("CONFIG", "SET", "masteruser", "default") == "OK"
    assert r.call("CLIENT", "KILL", "TYPE", "master") == 1
    rh.small_writes(m, "auth2")
    rh.wait_in_sync(m, r, what="after reconnecting with masteruser")
    after = stats(m)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1, (before, after)
    assert after["sync_full"] == before["sync_full"]


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_wrong_masterauth_keeps_link_down_until_fixed(cluster, mkind, rkind):
    m = cluster.start(mkind, password="s3cret-pw")
    rh.fill(m, seed=42, per_db=30)
    p = cluster.proxy(m.port)
    r = cluster.start(rkind, "--replicaof", "127.0.0.1", p.port, "--masterauth", "wrong")

    def refused_again():
        info = r.repl()
        assert info["master_link_status"] == "down", info
        assert m.repl()["connected_slaves"] == "0"
        return p.forwarded >= 2
    # The replica keeps retrying (Redis: about once a second) and never gets a link.
    rh.wait_for(refused_again, 15, "the replica to retry its handshake",
                lambda: rh.diag_nodes(m, r))
    assert stats(m)["sync_full"] == 0
    assert r.must("CONFIG", "SET", "masterauth", "s3cret-pw") == "OK"
    rh.wait_in_sync(m, r, what="after CONFIG SET masterauth")
    rh.assert_same_history(m, r)


# ---------------------------------------------------------------------------
# A steady pair shared by the tests that do not disturb it

@pytest.fixture(scope="module", params=PAIRS, ids=PAIR_IDS)
def steady(request):
    mkind, rkind = request.param
    c = rh.Cluster()
    try:
        m = c.start(mkind)
        rh.fill(m, seed=51, per_db=30)
        r = c.start(rkind, *replicaof_args(m))
        rh.wait_in_sync(m, r, what="steady pair")
    except BaseException:
        c.close()
        raise
    yield m, r
    problems = c.close()
    if problems:
        pytest.fail("\n\n".join(problems))


def test_replica_is_read_only(steady):
    m, r = steady
    assert r.repl()["slave_read_only"] == "1"
    for args in (("SET", "ro:k", "x"), ("INCR", "ro:c"), ("LPUSH", "ro:l", "a"),
                 ("DEL", "k0:10"), ("EXPIRE", "k0:10", 5), ("HSET", "ro:h", "f", "v")):
        rep = r.call(*args)
        assert rep == Err(rh.READONLY_ERR), "%s on the replica -> %r" % (rh.fmt(args), rep)
    # Queued inside MULTI: refused at queue time, EXEC aborts.
    c = r.raw()
    try:
        assert c.call("MULTI") == "OK"
        assert c.call("SET", "ro:tx", "1") == Err(rh.READONLY_ERR)
        assert c.call("EXEC") == Err("EXECABORT Transaction discarded because of previous "
                                     "errors.")
    finally:
        c.close()
    # Reads work and see the master's data; nothing leaked to the master.
    assert r.call("GET", "k0:10") == m.call("GET", "k0:10") is not None
    assert m.call("EXISTS", "ro:k", "ro:c", "ro:l", "ro:h", "ro:tx") == 0
    rh.wait_in_sync(m, r)


def test_role(steady):
    m, r = steady
    rh.small_writes(m, "role")
    off, _ = rh.wait_in_sync(m, r)

    def master_role_acked():
        role = m.call("ROLE")
        return role if role[2] and role[2][0][2] == str(m.offset()).encode() else None
    role = rh.wait_for(master_role_acked, 10, "the master's ROLE to show the replica's ACK")
    moff = m.offset()
    assert role == [b"master", moff, [[b"127.0.0.1", str(r.port).encode(),
                                       str(moff).encode()]]], role
    # (Polled: a master ping may move the offset between ROLE and INFO.)
    rh.wait_for(lambda: r.call("ROLE") == [b"slave", b"127.0.0.1", m.port, b"connected",
                                           r.offset()], 5,
                "the replica's ROLE reply", lambda: "ROLE: %r" % (r.call("ROLE"),))
    line = rh.parse_slave_line(m.repl()["slave0"])
    assert (line["ip"], line["port"], line["state"]) == ("127.0.0.1", str(r.port), "online")
    assert int(line["offset"]) <= m.offset() and int(line["lag"]) >= 0


@pytest.mark.parametrize("kind", ["redis", "cairn"] if SELFCHECK else ["cairn"])
def test_role_of_unlinked_replica_and_promotion(cluster, kind):
    n = cluster.start(kind)
    n.must("SET", "x", "1")
    dead_port = rh.harness.free_port()
    assert n.must("REPLICAOF", "127.0.0.1", dead_port) == "OK"
    role = n.call("ROLE")
    assert role[:3] == [b"slave", b"127.0.0.1", dead_port], role
    assert role[3] in (b"connect", b"connecting") and role[4] == -1, role
    info = n.repl()
    assert (info["role"], info["master_link_status"]) == ("slave", "down"), info
    assert n.call("SET", "y", "1") == Err(rh.READONLY_ERR)
    assert n.must("REPLICAOF", "NO", "ONE") == "OK"
    assert n.call("ROLE") == [b"master", n.offset(), []]
    assert n.must("SET", "y", "1") == "OK"


def test_wait_and_min_replicas(steady, cluster):
    m, r = steady
    c = m.raw()
    try:
        assert c.call("SET", "wait:k", "1") == "OK"
        assert c.call("WAIT", 1, 5000) == 1
        assert c.call("INCR", "wait:c") == 1
        assert c.call("WAIT", 2, 200) == 1  # only one replica: times out, reports 1
    finally:
        c.close()
    assert r.call("GET", "wait:k") == b"1"
    w = r.call("WAIT", 1, 100)
    assert isinstance(w, Err) and w.startswith("ERR WAIT cannot be used with replica"), w

    # min-replicas-to-write counts replicas whose last ACK is within min-replicas-max-lag.
    try:
        assert m.must("CONFIG", "SET", "min-replicas-to-write", "2") == "OK"
        assert m.call("SET", "mr:k", "1") == Err(rh.NOREPLICAS_ERR)
        assert m.call("GET", "k0:1") is not None  # reads are still served
        assert m.must("CONFIG", "SET", "min-replicas-to-write", "1") == "OK"
        rh.wait_for(lambda: m.call("SET", "mr:k", "2") == "OK", 10,
                    "a write to succeed with one good replica")
    finally:
        m.must("CONFIG", "SET", "min-replicas-to-write", "0")
    rh.wait_in_sync(m, r)
    assert r.call("GET", "mr:k") == b"2"

    # A master with no replica at all refuses writes under min-replicas-to-write 1.
    alone = cluster.start(m.kind, "--min-replicas-to-write", 1)
    assert alone.call("SET", "k", "v") == Err(rh.NOREPLICAS_ERR)
    assert alone.call("GET", "k") is None


# ---------------------------------------------------------------------------
# Failover: REPLICAOF NO ONE and PSYNC2 continuation

@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_promotion_then_repoint(cluster, mkind, rkind):
    # M and R2 are of the master kind, R1 (promoted) of the replica kind, so each
    # pair has Cairn both promoting/serving and following.
    other = mkind
    m = cluster.start(mkind, *_big_backlog())
    rh.fill(m, seed=61, per_db=40)
    r1 = cluster.start(rkind, *_big_backlog(), *replicaof_args(m))
    r2 = cluster.start(other, *_big_backlog(), *replicaof_args(m))
    rh.wait_in_sync(m, r1)
    rh.wait_in_sync(m, r2)
    rh.small_writes(m, "pre")
    rh.wait_in_sync(m, r1)
    rh.wait_in_sync(m, r2)
    old_id = m.repl()["master_replid"]
    assert m.repl()["connected_slaves"] == "2"

    cluster.stop(m)
    rh.wait_link_down(r1)
    rh.wait_link_down(r2)
    # Both got every byte the old master sent before it went away.
    rh.wait_for(lambda: r1.offset() == r2.offset(), 10, "R1 and R2 at the same offset",
                lambda: rh.diag_nodes(r1, r2))
    o1 = r1.offset()
    assert r1.repl()["master_replid"] == old_id

    assert r1.must("REPLICAOF", "NO", "ONE") == "OK"
    info = r1.repl()
    assert info["role"] == "master", info
    assert info["master_replid"] != old_id, info
    assert info["master_replid2"] == old_id, info
    assert int(info["second_repl_offset"]) == o1 + 1, info
    assert int(info["master_repl_offset"]) == o1, info
    new_id = info["master_replid"]

    rh.small_writes(r1, "promoted")  # the promoted node takes writes
    assert r2.must("REPLICAOF", "127.0.0.1", r1.port) == "OK"
    rh.wait_in_sync(r1, r2, what="R2 following the promoted R1")
    s = stats(r1)
    assert s["sync_partial_ok"] == 1 and s["sync_full"] == 0, s
    info2 = r2.repl()
    assert info2["master_replid"] == new_id, info2
    assert info2["master_replid2"] == old_id, info2
    assert int(info2["second_repl_offset"]) == o1 + 1, info2
    assert r2.call("GET", "promoted:s") == b"promoted"

    rh.stream_writes(r1, random.Random(6))
    rh.wait_in_sync(r1, r2, what="writes on the promoted master")
    rh.assert_same_data(r1, r2)
    assert r1.call("ROLE")[2][0][1] == str(r2.port).encode()


# ---------------------------------------------------------------------------
# Chains: master -> replica -> sub-replica

CHAINS = [("cairn", "cairn", "cairn"), ("redis", "cairn", "redis")]
if SELFCHECK:
    CHAINS.insert(0, ("redis", "redis", "redis"))


@pytest.mark.parametrize("kinds", CHAINS, ids=["->".join(k) for k in CHAINS])
def test_chained_replication(cluster, kinds):
    a = cluster.start(kinds[0])
    want = rh.fill(a, seed=71, per_db=60)
    b = cluster.start(kinds[1], *replicaof_args(a))
    rh.wait_in_sync(a, b, what="first link")
    c = cluster.start(kinds[2], *replicaof_args(b))
    rh.wait_in_sync(b, c, what="second link")
    assert c.digest() == want

    rh.stream_writes(a, random.Random(7))
    rh.small_writes(a, "chain")
    off_ab, d_ab = rh.wait_in_sync(a, b, what="first link after writes")
    off_bc, d_bc = rh.wait_in_sync(b, c, what="second link after writes")
    assert (off_ab, d_ab) == (off_bc, d_bc)
    rh.assert_same_data(a, c)
    assert a.offset() == b.offset() == c.offset() == off_ab
    ids = {n.repl()["master_replid"] for n in (a, b, c)}
    assert len(ids) == 1, "replication ids along the chain differ: %s" % ids
    assert b.repl()["connected_slaves"] == "1"
    assert b.call("SET", "x", "1") == Err(rh.READONLY_ERR)
    assert c.call("ROLE")[:4] == [b"slave", b"127.0.0.1", b.port, b"connected"]
