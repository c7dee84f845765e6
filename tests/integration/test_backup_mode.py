# Backup mode, Cairn at both ends (so the ASan+UBSan stage runs it): a backup replica
# fed through the secure channel takes scheduled snapshots that are verified, hold the
# replicated keys and are pruned by snapshot-keep (INFO backup and BACKUP LIST agree
# with the directory); it refuses client writes and the two ways of making itself
# writable (replica-read-only no, REPLICAOF NO ONE) while the master's stream still
# applies; a FLUSHALL/FLUSHDB from the master (not of an empty db, not with
# backup-guard no) and a full resync from another master are preceded by a guard
# snapshot that holds the keys about to go; a master that comes back empty (plain TCP
# or through the channel), or with 1% of the keys, is refused with an alert until the
# operator says otherwise; BACKUP PROMOTE from live data keeps the old master's history
# (another replica continues by partial resync), from a snapshot starts a new one (the
# old master rejoins by full sync; BACKUP RESTORE goes back to it); the disaster drill
# (refuse, promote, refill the emptied master, fail back by partial resync); promotion
# rewrites the config file so a restart keeps the node a master.
#
# Stock redis-server on either side (snapshots loading into Redis 7.0, a Redis master)
# and the faults (killed child, killed node, full disk, corrupted files) are
# tests/interop/test_backup_interop.py.
import os
import shutil
import signal

import pytest

import backuphelp as bh
import securehelp as sh
from test_replication import in_sync, keys_and_expires, nodes, rh, stats  # noqa: F401

SYNC_TIMEOUT = 30  # the ASan build is ~3x slower
Err = rh.Err


@pytest.fixture
def keys():
    d = sh.key_dir()
    return {"master": sh.NodeKey(d, "master"), "backup": sh.NodeKey(d, "backup")}


def backup_of(nodes, master, *extra):
    """A backup replica of `master` over plain TCP."""
    return nodes.replica(master, "--backup-mode", "yes", *extra)


def load(node, n, prefix="k", start=0):
    c = node.client()
    try:
        p = c.pipeline(transaction=False)
        for i in range(start, start + n):
            p.set("%s:%d" % (prefix, i), "v%d" % i)
        p.execute()
    finally:
        c.close()


def dbsize(node):
    return node.call("DBSIZE")


def wait_info(node, pred, what, timeout=SYNC_TIMEOUT):
    """Polls INFO backup until pred(info) holds; returns that INFO."""
    return bh.wait_info(rh, node, pred, what, timeout)


def wait_offset(master, replica, what):
    """The replica has applied everything the master sent (offsets equal)."""
    def caught_up():
        mo = int(master.repl()["master_repl_offset"])
        r = replica.repl()
        return r.get("master_link_status") == "up" and int(r["slave_repl_offset"]) == mo
    rh.wait_for(caught_up, SYNC_TIMEOUT, what, lambda: rh.diag_nodes(master, replica))


def digest_of_file(nodes, path, tmp_path):
    """Loads an RDB file into a fresh Cairn node; returns (node, DEBUG DIGEST)."""
    d = tmp_path / ("load-%s" % os.path.basename(path))
    d.mkdir()
    bh.copy_snapshot(os.path.dirname(path), os.path.basename(path), str(d))
    n = nodes.start("--dir", str(d), "--dbfilename", os.path.basename(path))
    return n, n.digest()


# ---------------------------------------------------------------------------
# Scheduled snapshots through the secure channel, verified, pruned

def test_scheduled_snapshots_over_secure_channel_verified_and_pruned(nodes, keys, tmp_path):
    sport = sh.harness.free_port()
    master = nodes.start(*sh.master_args(keys["master"], sport,
                                         allow=[(keys["backup"], "backup")]))
    load(master, 300)
    backup = nodes.start(*sh.replica_args(keys["backup"], keys["master"], sport),
                         "--backup-mode", "yes", "--snapshot-interval", "1s",
                         "--snapshot-keep", "last 2")
    in_sync(master, backup, "the backup's full sync through the channel")
    assert sh.info_secure(backup.client())["secure_master_link"] == "channel"
    mid = master.repl()["master_replid"]
    d = bh.snap_dir(backup)
    assert d.startswith(backup.workdir), d  # default: <dir>/snapshots

    # Scheduled snapshots of the 300 keys appear, verified, from this master.
    def good_with(n):
        for name in bh.snapshots(d):
            try:
                m = bh.manifest(d, name)
            except OSError:
                continue
            if m.get("keys") == str(n) and m.get("verified") == "yes":
                return name
        return None
    first = rh.wait_for(lambda: good_with(300), SYNC_TIMEOUT, "a verified snapshot of 300 keys",
                        lambda: backup.log_tail(20))
    m = bh.manifest(d, first)
    assert m["kind"] == "scheduled" and m["repl-id"] == mid, m
    assert m["master"] == "127.0.0.1:%d" % sport, m
    assert int(m["size"]) == os.path.getsize(os.path.join(d, first))

    # Writes reach the backup through the channel and the next snapshots hold them.
    load(master, 50, start=300)
    in_sync(master, backup, "the stream through the channel")
    newer = rh.wait_for(lambda: good_with(350), SYNC_TIMEOUT, "a verified snapshot of 350 keys",
                        lambda: backup.log_tail(20))
    assert newer > first
    # Two more scheduled snapshots after that: retention has had work to do.
    taken = int(bh.info_backup(backup)["snapshots_taken"])
    wait_info(backup, lambda i: int(i["snapshots_taken"]) >= taken + 2, "two more snapshots")

    # Stop the schedule so that the directory holds still for the checks below.
    assert backup.must("CONFIG", "SET", "snapshot-interval", "0") == "OK"
    info, names = bh.settled(backup)
    assert info["next_snapshot_time"] == "-1", info
    assert 1 <= len(names) <= 2, names  # snapshot-keep "last 2"
    assert int(info["snapshots_on_disk"]) == len(names), (info, names)
    assert int(info["snapshots_verified"]) == len(names), info
    assert int(info["snapshots_pruned"]) >= int(info["snapshots_taken"]) - 2, info
    assert int(info["snapshots_pruned"]) >= 1, info
    assert first not in names  # the oldest were pruned, manifest and all
    assert not os.path.exists(os.path.join(d, first + ".meta"))
    assert info["last_snapshot_status"] == "ok" and info["last_snapshot_kind"] == "scheduled"
    assert bh.stray_files(d) == [], os.listdir(d)
    for name in names:
        m = bh.manifest(d, name)
        assert m["verified"] == "yes" and m["keys"] == "350" and m["kind"] == "scheduled", m
        assert int(m["size"]) == os.path.getsize(os.path.join(d, name)), m
    # BACKUP LIST says the same as the directory.
    listed = [dict(zip(e[::2], e[1::2])) for e in backup.must("BACKUP", "LIST")]
    listed_names = [e[b"name"].decode() for e in listed]
    assert listed_names == names, (names, listed_names)
    assert all(e[b"verified"] == b"yes" and e[b"keys"] == 350 for e in listed), listed

    # A snapshot's content is the backup's dataset: it loads with the same digest.
    _, dg = digest_of_file(nodes, os.path.join(d, names[-1]), tmp_path)
    assert dg == backup.digest() == master.digest()


# ---------------------------------------------------------------------------
# Read-only until promoted

def test_backup_replica_refuses_writes_and_being_made_writable(nodes):
    master = nodes.start()
    load(master, 100)
    backup = backup_of(nodes, master)
    in_sync(master, backup, "initial sync")
    digest = backup.digest()

    r = backup.call("SET", "k:1", "client")
    assert isinstance(r, Err) and r.startswith("READONLY"), r
    r = backup.call("DEL", "k:2")
    assert isinstance(r, Err) and r.startswith("READONLY"), r
    r = backup.call("CONFIG", "SET", "replica-read-only", "no")
    assert isinstance(r, Err) and "backup-mode yes keeps the node read-only" in r, r
    assert backup.must("CONFIG", "GET", "replica-read-only") == [b"replica-read-only", b"yes"]
    r = backup.call("REPLICAOF", "NO", "ONE")
    assert isinstance(r, Err) and "refused in backup mode" in r, r
    r = backup.call("SLAVEOF", "NO", "ONE")
    assert isinstance(r, Err) and "refused in backup mode" in r, r
    # Still the master's replica, with the master's data, and still following it.
    assert backup.repl()["role"] == "slave"
    assert backup.call("GET", "k:1") == b"v1" and backup.call("EXISTS", "k:2") == 1
    assert backup.digest() == digest
    i = bh.info_backup(backup)
    assert i["backup_mode"] == "yes" and i["backup_writes_refused"] == "1", i
    master.must("SET", "after", "refusals")
    in_sync(master, backup, "the stream after the refused commands")
    assert backup.call("GET", "after") == b"refusals"


def test_backup_replica_write_error_names_backup_mode(nodes):
    master = nodes.start()
    backup = backup_of(nodes, master)
    rh.wait_link_up(backup, SYNC_TIMEOUT)
    r = backup.call("SET", "x", "1")
    assert isinstance(r, Err) and r.startswith(bh.READONLY_BACKUP), r


def test_backup_node_without_master_refuses_writes_with_backup_message(nodes):
    # Backup mode alone (no replicaof): still read-only, with the backup node's error.
    node = nodes.start("--backup-mode", "yes")
    r = node.call("SET", "x", "1")
    assert isinstance(r, Err) and r.startswith(bh.READONLY_BACKUP), r
    r = node.call("CONFIG", "SET", "replica-read-only", "no")
    assert isinstance(r, Err) and "backup-mode yes keeps the node read-only" in r, r
    assert dbsize(node) == 0


# ---------------------------------------------------------------------------
# Guard snapshots before the master's flushes

def test_flushdb_and_flushall_from_master_take_guard_snapshots(nodes, tmp_path):
    master = nodes.start()
    load(master, 100)
    c1 = master.client(db=1)
    for i in range(20):
        c1.set("one:%d" % i, i)
    c1.close()
    backup = backup_of(nodes, master)
    in_sync(master, backup, "initial sync")
    d = bh.snap_dir(backup)

    # FLUSHDB of an empty db: nothing to guard.
    c5 = master.client(db=5)
    assert c5.flushdb()
    c5.close()
    wait_offset(master, backup, "the empty FLUSHDB")
    assert bh.counter(backup, "guard_snapshots") == 0
    assert bh.snapshots(d) == []

    # FLUSHDB of db 1: a guard snapshot of everything the backup held before it.
    before = backup.digest()
    c1 = master.client(db=1)
    assert c1.flushdb()
    c1.close()
    wait_offset(master, backup, "FLUSHDB 1")
    i = wait_info(backup, lambda i: i["guard_snapshots"] == "1" and
                  i["snapshot_in_progress"] == "0", "the guard snapshot before FLUSHDB")
    assert i["last_snapshot_kind"] == "guard" and i["last_snapshot_status"] == "ok", i
    (g1,) = bh.snapshots(d)
    m = bh.manifest(d, g1)
    assert m["kind"] == "guard" and m["keys"] == "120" and m["verified"] == "yes", m
    assert backup.call("SELECT", 1) == "OK" and dbsize(backup) == 0
    assert backup.call("SELECT", 0) == "OK"
    _, dg = digest_of_file(nodes, os.path.join(d, g1), tmp_path)
    assert dg == before, "the guard snapshot does not hold the data from before FLUSHDB"

    # FLUSHALL: a second guard snapshot with the 100 keys of db 0.
    before = backup.digest()
    assert master.must("FLUSHALL") == "OK"
    wait_offset(master, backup, "FLUSHALL")
    i = wait_info(backup, lambda i: i["guard_snapshots"] == "2" and
                  i["snapshot_in_progress"] == "0", "the guard snapshot before FLUSHALL")
    assert dbsize(backup) == 0
    names = bh.snapshots(d)
    assert len(names) == 2 and names[0] == g1, names
    m = bh.manifest(d, names[1])
    assert m["kind"] == "guard" and m["keys"] == "100" and m["verified"] == "yes", m
    _, dg = digest_of_file(nodes, os.path.join(d, names[1]), tmp_path)
    assert dg == before, "the guard snapshot does not hold the data from before FLUSHALL"
    assert "Taking a guard snapshot before a FLUSHALL from the master" in backup.srv.log_text()

    # A FLUSHALL of an empty dataset guards nothing.
    assert master.must("FLUSHALL") == "OK"
    wait_offset(master, backup, "FLUSHALL of nothing")
    assert bh.counter(backup, "guard_snapshots") == 2 and len(bh.snapshots(d)) == 2

    # backup-guard no: the master's FLUSHALL of new data goes unguarded.
    assert backup.must("CONFIG", "SET", "backup-guard", "no") == "OK"
    load(master, 10, prefix="unguarded")
    wait_offset(master, backup, "new data")
    assert master.must("FLUSHALL") == "OK"
    wait_offset(master, backup, "FLUSHALL with backup-guard no")
    assert dbsize(backup) == 0
    assert bh.counter(backup, "guard_snapshots") == 2 and len(bh.snapshots(d)) == 2

    # Guard snapshots are ordinary snapshots for retention: BACKUP PRUNE applies
    # snapshot-keep (DRYRUN only reports).
    assert backup.must("CONFIG", "SET", "snapshot-keep", "last 1") == "OK"
    r = backup.must("BACKUP", "PRUNE", "DRYRUN")
    assert [(e[0].decode(), e[1]) for e in r] == [(names[1], b"keep"), (g1, b"remove")], r
    assert bh.snapshots(d) == names
    r = backup.must("BACKUP", "PRUNE")
    assert [(e[0].decode(), e[1]) for e in r] == [(names[1], b"keep"), (g1, b"remove")], r
    assert bh.snapshots(d) == [names[1]] and not os.path.exists(os.path.join(d, g1 + ".meta"))
    i = bh.info_backup(backup)
    assert i["snapshots_on_disk"] == "1" and i["snapshots_pruned"] == "1", i


# ---------------------------------------------------------------------------
# A master that comes back empty or shrunk

@pytest.mark.parametrize("link", ["tcp", "secure"])
def test_master_restarted_empty_is_refused_until_allowed(nodes, keys, link):
    if link == "secure":
        # The master's secure port and key stay; its RESP port may change.
        sport = sh.harness.free_port()
        margs = sh.master_args(keys["master"], sport, allow=[(keys["backup"], "backup")])
        master = nodes.start(*margs)
        backup = nodes.start(*sh.replica_args(keys["backup"], keys["master"], sport),
                             "--backup-mode", "yes")
    else:
        master = nodes.start()
        backup = backup_of(nodes, master)
    load(master, 200)
    in_sync(master, backup, "initial sync")
    master.must("SET", "k:0", "last write")  # history beyond the full sync
    _, digest = in_sync(master, backup, "stream")
    port = master.port

    # The master dies (no persistence) and comes back on the same port with nothing.
    master.expect_dead = True
    master.close_conn()
    master.srv.stop(sig=signal.SIGKILL)
    empty = nodes.start(*margs) if link == "secure" else nodes.start("--port", port)
    i = wait_info(backup, lambda i: int(i["syncs_refused"]) >= 1, "the refused empty sync")
    assert "EMPTY" in i["backup_alert"], i
    assert i["last_refused_sync_keys"] == "0" and i["last_refused_sync_held_keys"] == "200", i
    assert "BACKUP ALERT" in backup.srv.log_text()
    assert dbsize(backup) == 200 and backup.digest() == digest
    assert backup.call("GET", "k:0") == b"last write"
    assert backup.repl()["role"] == "slave"
    # A guard snapshot was taken before the dataset could be replaced.
    i = wait_info(backup, lambda i: i["guard_snapshots"] == "1" and
                  i["snapshot_in_progress"] == "0", "the guard snapshot before the full sync")
    assert i["last_snapshot_kind"] == "guard" and i["last_snapshot_keys"] == "200", i
    assert empty.stat("sync_full") >= 1  # the new master did send its (empty) dataset

    # The operator accepts the empty master: the next attempt (5 or 10 s later) loads it.
    assert backup.must("CONFIG", "SET", "backup-refuse-empty-sync", "no") == "OK"
    refused = int(bh.info_backup(backup)["syncs_refused"])
    rh.wait_for(lambda: dbsize(backup) == 0 and backup.repl()["master_link_status"] == "up",
                SYNC_TIMEOUT, "the backup to accept the empty dataset",
                lambda: rh.diag_nodes(empty, backup))
    assert int(bh.info_backup(backup)["syncs_refused"]) == refused
    empty.must("SET", "new", "life")
    in_sync(empty, backup, "following the new master")


def test_master_back_with_a_fraction_of_the_keys_is_refused(nodes, tmp_path):
    master = nodes.start("--dir", str(tmp_path))
    load(master, 10, prefix="small")
    assert master.must("SAVE") == "OK"
    small_dir = tmp_path / "small"
    small_dir.mkdir()
    os.rename(tmp_path / "dump.rdb", small_dir / "dump.rdb")
    load(master, 990)
    backup = backup_of(nodes, master, "--backup-sync-min-keys-percent", "10")
    in_sync(master, backup, "initial sync of 1000 keys")
    digest = backup.digest()
    port = master.port

    # The master comes back on the same port with 10 of its 1000 keys (1%).
    master.expect_dead = True
    master.close_conn()
    master.srv.stop(sig=signal.SIGKILL)
    shrunk = nodes.start("--port", port, "--dir", str(small_dir))
    assert dbsize(shrunk) == 10
    i = wait_info(backup, lambda i: int(i["syncs_refused"]) >= 1, "the refused shrunk sync")
    assert "much smaller" in i["backup_alert"], i
    assert i["last_refused_sync_keys"] == "10" and i["last_refused_sync_held_keys"] == "1000", i
    assert "BACKUP ALERT" in backup.srv.log_text()
    assert dbsize(backup) == 1000 and backup.digest() == digest

    i = wait_info(backup, lambda i: i["guard_snapshots"] == "1" and
                  i["snapshot_in_progress"] == "0", "the guard snapshot before the refused sync")
    d = bh.snap_dir(backup)
    (guard,) = bh.snapshots(d)
    assert bh.manifest(d, guard)["keys"] == "1000"

    # 10 keys are 1% of 1000: a threshold of 1% accepts them on the next attempt.
    assert backup.must("CONFIG", "SET", "backup-sync-min-keys-percent", "1") == "OK"
    in_sync(shrunk, backup, "the backup to accept 1% of its keys")
    assert dbsize(backup) == 10
    i = wait_info(backup, lambda i: i["backup_alert"] == "none", "the alert to clear")
    # The guard snapshot already held these 1000 keys at this replication position:
    # the second attempt did not take another.
    assert i["guard_snapshots"] == "1" and bh.snapshots(d) == [guard], i
    assert "not needed: snapshot %s holds this data" % guard in backup.srv.log_text()


def test_repointed_backup_guards_the_old_masters_data(nodes, tmp_path):
    # REPLICAOF host port stays allowed in backup mode; the full sync from the other
    # master (which brings enough keys to be accepted) is preceded by a guard snapshot.
    m1 = nodes.start()
    m2 = nodes.start()
    load(m1, 100, prefix="one")
    load(m2, 150, prefix="two")
    backup = backup_of(nodes, m1)
    _, old_digest = in_sync(m1, backup, "sync from the first master")
    assert backup.must("REPLICAOF", "127.0.0.1", m2.port) == "OK"
    in_sync(m2, backup, "sync from the second master")
    i = wait_info(backup, lambda i: i["guard_snapshots"] == "1" and
                  i["snapshot_in_progress"] == "0", "the guard snapshot before the resync")
    assert i["syncs_refused"] == "0" and i["backup_alert"] == "none", i
    d = bh.snap_dir(backup)
    (g,) = bh.snapshots(d)
    m = bh.manifest(d, g)
    assert m["kind"] == "guard" and m["keys"] == "100" and m["verified"] == "yes", m
    _, dg = digest_of_file(nodes, os.path.join(d, g), tmp_path)
    assert dg == old_digest
    assert backup.call("EXISTS", "one:1") == 0 and backup.call("DBSIZE") == 150


def test_guard_before_a_full_resync_records_the_replication_position(nodes):
    m1 = nodes.start()
    m2 = nodes.start()
    load(m1, 100, prefix="one")
    load(m2, 150, prefix="two")
    backup = backup_of(nodes, m1)
    in_sync(m1, backup, "sync from the first master")
    info = backup.repl()
    assert backup.must("REPLICAOF", "127.0.0.1", m2.port) == "OK"
    in_sync(m2, backup, "sync from the second master")
    wait_info(backup, lambda i: i["guard_snapshots"] == "1" and i["snapshot_in_progress"] == "0",
              "the guard snapshot")
    d = bh.snap_dir(backup)
    m = bh.manifest(d, bh.snapshots(d)[0])
    assert m["repl-id"] == info["master_replid"], m
    assert m["repl-offset"] == info["master_repl_offset"], m
    # It holds the first master's data, so it names that master, not the new one.
    assert m["master"] == "127.0.0.1:%d" % m1.port, m


def test_disaster_drill_promote_after_refused_empty_sync_then_fail_back(nodes):
    # docs/operations.md's drill: the master comes back empty, the backup refuses it and
    # is promoted, the emptied master gets its data back as the promoted node's replica;
    # then the roles go back (the backup resumes backup duty by partial resync).
    master = nodes.start()
    rh.fill(master, seed=8, dbs=(0, 3), per_db=100)
    backup = backup_of(nodes, master)
    in_sync(master, backup, "initial sync")
    master.must("SET", "last", "write")
    _, digest = in_sync(master, backup, "stream")
    port = master.port
    master.expect_dead = True
    master.close_conn()
    master.srv.stop(sig=signal.SIGKILL)
    empty = nodes.start("--port", port)
    wait_info(backup, lambda i: int(i["syncs_refused"]) >= 1, "the refused empty sync")

    r = backup.must("BACKUP", "PROMOTE")
    assert r.startswith("OK promoted to master"), r
    assert backup.digest() == digest
    assert empty.must("REPLICAOF", "127.0.0.1", backup.port) == "OK"
    in_sync(backup, empty, "the emptied master getting its data back")
    assert empty.digest() == digest
    backup.must("SET", "written", "while promoted")
    in_sync(backup, empty, "a write on the promoted node")

    # Fail back: the old master leads again, the backup returns to backup mode.
    assert empty.must("REPLICAOF", "NO", "ONE") == "OK"
    assert backup.must("CONFIG", "SET", "backup-mode", "yes") == "OK"
    r = backup.call("SET", "x", "1")
    assert isinstance(r, Err) and r.startswith(bh.READONLY_BACKUP), r
    assert bh.info_backup(backup)["backup_writes_refused"] == "1"
    before = stats(empty)  # it served the refused full sync earlier
    assert backup.must("REPLICAOF", "127.0.0.1", empty.port) == "OK"
    in_sync(empty, backup, "the backup following the old master again")
    after = stats(empty)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1, (before, after)
    assert after["sync_full"] == before["sync_full"], (before, after)
    empty.must("SET", "after", "fail back")
    in_sync(empty, backup, "stream after the fail back")
    r = backup.call("SET", "x", "1")
    assert isinstance(r, Err) and r.startswith("READONLY"), r
    r = backup.call("REPLICAOF", "NO", "ONE")
    assert isinstance(r, Err) and "refused in backup mode" in r, r


# ---------------------------------------------------------------------------
# Promotion

def test_promote_from_live_data_keeps_history_for_other_replicas(nodes):
    # No PING from the master between the syncs below and its death: both replicas
    # stop at the same offset.
    master = nodes.start("--repl-ping-replica-period", 3600)
    rh.fill(master, seed=3, dbs=(0, 2), per_db=60)
    backup = backup_of(nodes, master)
    other = nodes.replica(master)
    in_sync(master, backup, "backup sync")
    in_sync(master, other, "other replica sync")
    old_id = master.repl()["master_replid"]
    digest = master.digest()
    # The old master is lost.
    master.expect_dead = True
    master.close_conn()
    master.srv.stop(sig=signal.SIGKILL)

    r = backup.must("BACKUP", "PROMOTE")
    assert r.startswith("OK promoted to master"), r
    assert "snapshot" not in r
    role = backup.must("ROLE")
    assert role[0] == b"master", role
    info = backup.repl()
    assert info["master_replid2"] == old_id, info
    assert info["master_replid"] != old_id, info
    assert int(info["second_repl_offset"]) > 0, info
    i = bh.info_backup(backup)
    assert i["backup_promoted"] == "1" and i["backup_writes_refused"] == "0", i
    assert backup.digest() == digest  # live data, unchanged
    assert backup.must("SET", "after:promotion", "yes") == "OK"
    assert "PROMOTED to master" in backup.srv.log_text()

    # The other replica of the old master continues from the promoted node.
    assert other.must("REPLICAOF", "127.0.0.1", backup.port) == "OK"
    in_sync(backup, other, "the other replica following the promoted backup")
    assert stats(backup) == {"sync_full": 0, "sync_partial_ok": 1, "sync_partial_err": 0}
    assert "Successful partial resynchronization with master." in other.srv.log_text()
    assert "Partial resynchronization request from" in backup.srv.log_text()
    assert other.call("GET", "after:promotion") == b"yes"


def test_promote_from_snapshot_then_old_master_rejoins(nodes):
    master = nodes.start()
    rh.fill(master, seed=4, dbs=(0, 1), per_db=80)
    backup = backup_of(nodes, master)
    in_sync(master, backup, "initial sync")
    snap, info = bh.take_snapshot(backup)
    assert info["last_snapshot_status"] == "ok" and info["last_snapshot_kind"] == "manual", info
    at_snapshot = backup.digest()
    keys_at_snapshot = keys_and_expires(backup)

    # Later writes (then a damaging one) reach the backup.
    load(master, 40, prefix="later")
    master.must("DEL", "k0:1", "k0:2")
    in_sync(master, backup, "later writes")
    assert backup.digest() != at_snapshot
    old_id = master.repl()["master_replid"]

    r = backup.must("BACKUP", "PROMOTE", snap)
    assert r.startswith("OK promoted to master from snapshot " + snap), r
    assert backup.must("ROLE")[0] == b"master"
    assert backup.digest() == at_snapshot  # the snapshot's data, not the live data
    assert keys_and_expires(backup) == keys_at_snapshot
    assert backup.call("EXISTS", "later:0") == 0
    info = backup.repl()
    assert old_id not in (info["master_replid"], info["master_replid2"]), info
    assert backup.must("SET", "restored", "1") == "OK"

    # The old master rejoins as a replica of the promoted node: a full sync.
    assert master.must("REPLICAOF", "127.0.0.1", backup.port) == "OK"
    in_sync(backup, master, "the old master following the promoted backup")
    assert master.call("EXISTS", "later:0") == 0 and master.call("GET", "restored") == b"1"
    assert stats(backup)["sync_full"] == 1
    rh.assert_same_data(backup, master)

    # BACKUP RESTORE on the (now ordinary) master: the snapshot again, replicas follow.
    r = backup.must("BACKUP", "RESTORE", snap)
    assert r == "OK restored from snapshot " + snap, r
    assert backup.digest() == at_snapshot and backup.call("EXISTS", "restored") == 0
    in_sync(backup, master, "the replica after BACKUP RESTORE")
    assert master.digest() == at_snapshot

    # 'latest' is the newest snapshot that verified: a newer file without a manifest
    # (copied in by hand, never verified) is passed over.
    backup.must("SET", "second", "snapshot")
    # The replica's full sync after the RESTORE may still have its RDB child running.
    bh.wait_for(lambda: backup.info("persistence")["rdb_bgsave_in_progress"] == "0", 20,
                "the full sync's RDB child to end")
    snap2, _ = bh.take_snapshot(backup)
    at_snap2 = backup.digest()
    d = bh.snap_dir(backup)
    shutil.copy(os.path.join(d, snap2), os.path.join(d, "dump-20991231T235959Z.rdb"))
    backup.must("DEL", "second")
    r = backup.must("BACKUP", "RESTORE", "latest")
    assert r == "OK restored from snapshot " + snap2, r
    assert backup.digest() == at_snap2
    assert "or 'latest'" in str(backup.call("BACKUP", "RESTORE", "dump-nonsense"))


def test_promotion_rewrites_config_file_and_restart_stays_master(nodes, tmp_path):
    master = nodes.start()
    load(master, 50)
    port = sh.harness.free_port()
    data = tmp_path / "data"
    data.mkdir()
    conf = tmp_path / "backup.conf"
    conf.write_text("\n".join([
        "# backup node",
        "port %d" % port,
        "dir %s" % data,
        "save 3600 1",
        "appendonly no",
        "enable-debug-command yes",
        "replicaof 127.0.0.1 %d" % master.port,
        "backup-mode yes",
        "snapshot-keep \"last 5\"",
        ""]))
    srv = bh.start_from_config(nodes._start, str(conf), port, str(tmp_path))
    backup = rh.Node("cairn", srv)
    nodes.all.append(backup)
    in_sync(master, backup, "initial sync")

    r = backup.must("BACKUP", "PROMOTE")
    assert "config file rewritten" in r, r
    text = conf.read_text()
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]
    assert "backup-mode no" in lines, text
    assert not any(l.split()[0] in ("replicaof", "slaveof") for l in lines), text
    assert any(l.startswith("snapshot-keep") and "last 5" in l for l in lines), text
    assert backup.must("SET", "written", "after promotion") == "OK"
    digest = backup.digest()

    # Restart from the rewritten file (SIGTERM saves: save 3600 1).
    backup.expect_dead = True
    backup.close_conn()
    assert srv.stop() == 0
    srv2 = bh.start_from_config(nodes._start, str(conf), port, str(tmp_path))
    again = rh.Node("cairn", srv2)
    nodes.all.append(again)
    assert again.must("ROLE")[0] == b"master"
    assert bh.info_backup(again)["backup_mode"] == "no"
    assert again.must("CONFIG", "GET", "snapshot-keep") == [b"snapshot-keep", b"last 5"]
    assert again.digest() == digest and again.call("GET", "written") == b"after promotion"
    assert again.must("SET", "still", "writable") == "OK"


def test_a_plain_node_lists_nothing_until_its_first_snapshot(nodes):
    # No backup directive at all: the snapshot directory does not exist yet, and BACKUP
    # LIST / PRUNE answer an empty list rather than an error; BACKUP SNAPSHOT creates it.
    node = nodes.start()
    assert node.call("BACKUP", "LIST") == []
    assert node.call("BACKUP", "PRUNE", "DRYRUN") == []
    assert bh.info_backup(node)["snapshot_dir"] == ""
    load(node, 10)
    started = node.must("BACKUP", "SNAPSHOT")
    assert started.startswith("Snapshot started: "), started
    name = started.split(": ", 1)[1]
    wait_info(node, lambda i: i["last_snapshot"] == name and i["snapshot_in_progress"] == "0",
              "the manual snapshot")
    i = bh.info_backup(node)
    assert i["last_snapshot_status"] == "ok" and i["last_snapshot_keys"] == "10", i
    assert i["snapshot_dir"].endswith("/snapshots"), i
    listed = node.call("BACKUP", "LIST")
    assert len(listed) == 1


def test_with_appendonly_a_replaced_dataset_survives_kill_9(nodes, tmp_path):
    # The AOF must follow the dataset when a full sync or a promotion from a snapshot
    # replaces it: otherwise a restart loads the AOF of the old data. No final save
    # here (SIGKILL, no save points): what comes back is what the AOF holds.
    master = nodes.start()
    load(master, 80, prefix="m")
    port = sh.harness.free_port()
    data = tmp_path / "data"
    data.mkdir()
    conf = tmp_path / "backup.conf"
    conf.write_text("\n".join([
        "port %d" % port,
        "dir %s" % data,
        "save \"\"",
        "appendonly yes",
        "appendfsync always",
        "enable-debug-command yes",
        "replicaof 127.0.0.1 %d" % master.port,
        "backup-mode yes",
        ""]))

    def start():
        srv = bh.start_from_config(nodes._start, str(conf), port, str(tmp_path))
        node = rh.Node("cairn", srv)
        nodes.all.append(node)
        return srv, node

    def kill(srv, node):
        node.expect_dead = True
        node.close_conn()
        srv.stop(sig=signal.SIGKILL)

    srv, backup = start()
    _, synced = in_sync(master, backup, "the full sync into an AOF node")
    name = backup.must("BACKUP", "SNAPSHOT").split(": ", 1)[1]
    wait_info(backup, lambda i: i["last_snapshot"] == name and i["snapshot_in_progress"] == "0",
              "the snapshot")
    # 1. After the full sync: the AOF holds the synced data (the master is gone now).
    master.expect_dead = True
    master.close_conn()
    master.srv.stop(sig=signal.SIGKILL)
    kill(srv, backup)
    srv, backup = start()
    assert backup.digest() == synced, "the AOF lost the data of the full sync"
    # 2. Promoted, written to, then restored from the snapshot: after a kill the AOF
    # gives the snapshot's data plus what came after the restore, not the older write.
    r = backup.must("BACKUP", "PROMOTE")
    assert r.startswith("OK promoted"), r
    assert backup.must("SET", "after", "promotion") == "OK"
    assert backup.must("BACKUP", "RESTORE", name).startswith("OK restored"), name
    restored = backup.digest()
    assert restored == synced and backup.call("EXISTS", "after") == 0
    assert backup.must("SET", "after", "restore") == "OK"
    expected = backup.digest()
    kill(srv, backup)
    srv, backup = start()
    assert backup.must("ROLE")[0] == b"master"
    assert backup.digest() == expected, "the AOF brought back the data from before the restore"
    assert backup.call("GET", "after") == b"restore"
