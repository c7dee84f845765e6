# Backup mode against stock redis-server 7.0, and its faults. Every kind of snapshot
# (scheduled, manual, guard) of a dataset of every type with TTLs in several dbs is a
# plain RDB: redis-check-rdb passes it and stock Redis loads it with the same keys,
# values, exact expire times and DEBUG DIGEST as the backup had. A stock Redis master
# feeds a Cairn backup: scheduled snapshots name the master's replication id, a
# FLUSHALL is preceded by a guard snapshot (skipped when the newest snapshot already
# holds that offset). Faults: a snapshot child killed with SIGKILL leaves no snapshot,
# no manifest and no temp file, reports err and keeps older snapshots; a node killed
# during a snapshot removes the leftovers when it starts again; a full disk (a small
# tmpfs) fails the snapshot with ENOSPC and nothing partial while the node keeps
# serving and replicating; a damaged snapshot fails `cairn snapshot verify` and
# BACKUP PROMOTE refuses it without FORCE, and a damaged one whose manifest still says
# verified is refused by the load (CRC64) with the node still a replica.
#
# Cairn-only backup behaviour (secure channel, read-only, refused syncs, promotion)
# is tests/integration/test_backup_mode.py.
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

import replhelp as rh

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import backuphelp as bh  # noqa: E402

SYNC_TIMEOUT = 30
Err = rh.Err
DBS = (0, 1, 9, 15)


def check_rdb_bin():
    return shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"


def cairn_snapshot_cli(*args):
    return subprocess.run([rh.harness.cairn_bin(), "snapshot", *args], capture_output=True,
                          text=True, timeout=120)


def wait_info(node, pred, what, timeout=SYNC_TIMEOUT):
    """Polls INFO backup until pred(info) holds; returns that INFO."""
    return bh.wait_info(rh, node, pred, what, timeout)


def backup_of(cluster, master, *extra, workdir=None):
    return cluster.start("cairn", "--replicaof", "127.0.0.1", master.port, "--backup-mode", "yes",
                         *extra, workdir=workdir)


def load_in_redis(cluster, d, name):
    """A stock redis-server started on a copy of snapshot `name`; checks redis-check-rdb
    first. Returns the node."""
    copy = tempfile.mkdtemp(prefix="cairn-snap-redis-")
    cluster.workdirs.add(copy)
    path = bh.copy_snapshot(d, name, copy)
    r = subprocess.run([check_rdb_bin(), path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "redis-check-rdb %s:\n%s%s" % (name, r.stdout, r.stderr)
    return cluster.start("redis", "--dir", copy, "--dbfilename", name, workdir=copy)


def assert_loads_in_redis_as(cluster, d, name, expected_digest, expected_data):
    red = load_in_redis(cluster, d, name)
    try:
        assert red.digest() == expected_digest, "stock Redis loaded %s with another digest" % name
        got = rh.snapshot(red, sorted(expected_data))
        assert got == expected_data, "stock Redis loaded %s with other content" % name
        assert rh.keyspace_dbs(red) == sorted(expected_data)
    finally:
        cluster.stop(red)


def dataset(node):
    """{db: {key: (type, value, exact expire time)}} of every non-empty db."""
    return rh.snapshot(node, rh.keyspace_dbs(node))


def total_keys(node):
    return sum(int(v.split(",")[0].split("=")[1]) for k, v in node.info("keyspace").items()
               if k.startswith("db"))


def gone(pid):
    """The process ended (no /proc entry, or a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def find_snapshot(d, pred):
    for name in bh.snapshots(d):
        try:
            m = bh.manifest(d, name)
        except OSError:
            continue
        if pred(m):
            return name
    return None


def flip_middle_byte(path):
    with open(path, "r+b") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    assert os.path.getsize(path) == size


def big_values(node, n, size=1000, prefix="big", seed=7):
    """n incompressible string values (LZF cannot shrink them)."""
    rnd = random.Random(seed)
    c = node.client()
    try:
        p = c.pipeline(transaction=False)
        for i in range(n):
            p.set("%s:%d" % (prefix, i), rnd.randbytes(size))
        p.execute()
    finally:
        c.close()


def strings(node, n, prefix="s"):
    c = node.client()
    try:
        p = c.pipeline(transaction=False)
        for i in range(n):
            p.set("%s:%d" % (prefix, i), "value-%d" % i)
        p.execute()
    finally:
        c.close()


# ---------------------------------------------------------------------------
# Snapshots load into stock Redis

def test_every_kind_of_snapshot_loads_into_stock_redis(cluster):
    master = cluster.start("cairn", "--repl-ping-replica-period", 3600)
    rh.fill(master, seed=101, dbs=DBS, per_db=150)
    backup = backup_of(cluster, master, "--snapshot-interval", "1s")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "initial sync")
    d = bh.snap_dir(backup)
    digest, data = backup.digest(), dataset(backup)
    nkeys = sum(len(v) for v in data.values())
    offset = backup.repl()["slave_repl_offset"]

    # A scheduled snapshot of this state.
    sched = rh.wait_for(lambda: find_snapshot(d, lambda m: m["kind"] == "scheduled" and
                                              m["repl-offset"] == offset and
                                              m["verified"] == "yes"),
                        SYNC_TIMEOUT, "a scheduled snapshot at offset %s" % offset,
                        lambda: backup.log_tail(20))
    assert bh.manifest(d, sched)["keys"] == str(nkeys)
    assert_loads_in_redis_as(cluster, d, sched, digest, data)

    # No more schedule; more writes of every kind; a manual snapshot of the new state.
    assert backup.must("CONFIG", "SET", "snapshot-interval", "0") == "OK"
    bh.wait_snapshot_done(backup)
    rh.fill(master, seed=202, dbs=(0, 3), per_db=80, prefix="more")
    c = master.client(db=1)
    c.delete(*[k for k in c.keys("k1:*")][:20])
    c.close()
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "more writes")
    digest2, data2 = backup.digest(), dataset(backup)
    manual, info = bh.take_snapshot(backup)
    assert info["last_snapshot_status"] == "ok" and info["last_snapshot_kind"] == "manual", info
    assert digest2 != digest
    assert_loads_in_redis_as(cluster, d, manual, digest2, data2)

    # One more write, then the master's FLUSHALL: a guard snapshot of what was there.
    master.must("SET", "last", "before flushall")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "last write")
    digest3, data3 = backup.digest(), dataset(backup)
    assert master.must("FLUSHALL") == "OK"
    wait_info(backup, lambda i: i["guard_snapshots"] == "1" and i["snapshot_in_progress"] == "0",
              "the guard snapshot")
    assert backup.call("DBSIZE") == 0
    guard = find_snapshot(d, lambda m: m["kind"] == "guard")
    assert guard and bh.manifest(d, guard)["verified"] == "yes"
    assert_loads_in_redis_as(cluster, d, guard, digest3, data3)


# ---------------------------------------------------------------------------
# A stock Redis master

def test_stock_redis_master_feeds_a_cairn_backup(cluster):
    master = cluster.start("redis", "--repl-ping-replica-period", 3600)
    rh.fill(master, seed=303, dbs=(0, 2), per_db=120)
    backup = backup_of(cluster, master, "--snapshot-interval", "1s", "--snapshot-keep", "last 3")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "initial sync from stock Redis")
    d = bh.snap_dir(backup)
    mid = master.repl()["master_replid"]
    nkeys = total_keys(backup)
    snap = rh.wait_for(lambda: find_snapshot(d, lambda m: m["keys"] == str(nkeys) and
                                             m["verified"] == "yes"),
                       SYNC_TIMEOUT, "a scheduled snapshot", lambda: backup.log_tail(20))
    m = bh.manifest(d, snap)
    assert m["repl-id"] == mid and m["master"] == "127.0.0.1:%d" % master.port, m
    # Writes keep arriving and retention keeps at most three.
    strings(master, 200, prefix="later")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "later writes")
    rh.wait_for(lambda: find_snapshot(d, lambda m: m["keys"] == str(nkeys + 200)),
                SYNC_TIMEOUT, "a snapshot with the later writes")
    info, names = bh.settled(backup)
    assert len(names) <= 3 and int(info["snapshots_on_disk"]) == len(names), (info, names)

    # Stop the schedule; the guard before FLUSHALL needs a state no snapshot holds.
    assert backup.must("CONFIG", "SET", "snapshot-interval", "0") == "OK"
    bh.wait_snapshot_done(backup)
    master.must("SET", "just", "before")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "one more write")
    data = dataset(backup)
    digest = backup.digest()
    assert master.must("FLUSHALL") == "OK"
    i = wait_info(backup, lambda i: i["guard_snapshots"] == "1" and
                  i["snapshot_in_progress"] == "0", "the guard snapshot before FLUSHALL")
    assert i["last_snapshot_kind"] == "guard" and i["last_snapshot_status"] == "ok", i
    guard = i["last_snapshot"]
    assert bh.manifest(d, guard)["keys"] == str(nkeys + 201)
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "the FLUSHALL")
    assert backup.call("DBSIZE") == 0
    assert_loads_in_redis_as(cluster, d, guard, digest, data)

    # New data, a manual snapshot of it, then FLUSHALL: the snapshot already holds this
    # offset, so no second guard is taken -- and that snapshot does hold the data.
    strings(master, 30, prefix="again")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "new data")
    data, digest = dataset(backup), backup.digest()
    manual, _ = bh.take_snapshot(backup)
    assert master.must("FLUSHALL") == "OK"
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "the second FLUSHALL")
    assert bh.counter(backup, "guard_snapshots") == 1
    assert "Guard snapshot before a FLUSHALL from the master not needed: snapshot %s" % manual \
        in backup.srv.log_text()
    assert_loads_in_redis_as(cluster, d, manual, digest, data)


# ---------------------------------------------------------------------------
# Faults: killed child, killed node

def slow_backup(cluster, nkeys=3000):
    """A Cairn master with nkeys keys, its backup in sync and one good manual snapshot.
    Returns (master, backup, snapshot dir, the good snapshot's name)."""
    master = cluster.start("cairn")
    strings(master, nkeys)
    backup = backup_of(cluster, master)
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "initial sync")
    good, info = bh.take_snapshot(backup)
    assert info["last_snapshot_status"] == "ok", info
    return master, backup, bh.snap_dir(backup), good


def start_slow_snapshot(backup, d, delay_us=1000):
    """BACKUP SNAPSHOT with rdb-key-save-delay: returns (name, child pid) once the
    child's temp file exists."""
    assert backup.must("CONFIG", "SET", "rdb-key-save-delay", delay_us) == "OK"
    r = backup.must("BACKUP", "SNAPSHOT")
    name = r[len("Snapshot started: "):]
    kids = rh.wait_for(lambda: rh.child_pids(backup.srv.pid), 10, "the snapshot child")
    assert len(kids) == 1, kids
    child = kids[0]
    rh.wait_for(lambda: any(t.endswith("-%d.rdb" % child) for t in bh.temp_files(d)), 10,
                "the child's temp file", lambda: str(os.listdir(d)))
    assert bh.info_backup(backup)["snapshot_in_progress"] == "1"
    return name, child


def test_killed_snapshot_child_leaves_nothing_and_older_snapshots_stay(cluster):
    master, backup, d, good = slow_backup(cluster)
    good_bytes = open(os.path.join(d, good), "rb").read()
    name, child = start_slow_snapshot(backup, d)
    r = backup.call("BACKUP", "SNAPSHOT")  # one child at a time
    assert isinstance(r, Err) and "already in progress: " + name in r, r
    os.kill(child, signal.SIGKILL)

    i = wait_info(backup, lambda i: i["snapshot_in_progress"] == "0", "the node to reap the child")
    assert i["last_snapshot_status"] == "err" and i["last_snapshot"] == name, i
    assert "signal 9" in i["last_snapshot_error"], i
    assert i["snapshots_failed"] == "1" and i["snapshots_taken"] == "1", i
    assert bh.snapshots(d) == [good], os.listdir(d)
    assert bh.stray_files(d) == [], os.listdir(d)
    assert not os.path.exists(os.path.join(d, name + ".meta"))
    assert open(os.path.join(d, good), "rb").read() == good_bytes
    assert i["snapshots_on_disk"] == "1" and i["snapshots_verified"] == "1", i
    assert "FAILED" in backup.srv.log_text()
    r = cairn_snapshot_cli("verify", "--dir", d)
    assert r.returncode == 0 and "1 checked, 1 verified" in r.stdout, r.stdout + r.stderr

    # The node goes on: it replicates and the next snapshot works.
    assert backup.must("CONFIG", "SET", "rdb-key-save-delay", 0) == "OK"
    master.must("SET", "after", "kill")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "after the killed child")
    nxt, info = bh.take_snapshot(backup)
    assert info["last_snapshot_status"] == "ok" and bh.snapshots(d) == [good, nxt], info
    assert bh.manifest(d, nxt)["keys"] == "3001"


def test_node_killed_during_snapshot_cleans_up_at_restart(cluster):
    master, backup, d, good = slow_backup(cluster)
    name, child = start_slow_snapshot(backup, d)
    # A crash: the node and its child die at once.
    cluster.kill(backup)
    os.kill(child, signal.SIGKILL)
    rh.wait_for(lambda: gone(child), 10, "the child to die")
    left = bh.temp_files(d)
    assert left, "the killed child left no temp file: the test did not interrupt a snapshot"
    # A manifest whose RDB never got its name (a crash between the two renames).
    orphan = "dump-20200101T000000Z.rdb.meta"
    with open(os.path.join(d, orphan), "w") as f:
        f.write("name: dump-20200101T000000Z.rdb\nkind: scheduled\nverified: yes\n")

    again = backup_of(cluster, master, workdir=backup.workdir)
    log = again.srv.log_text()
    assert "Removed %d files left by an interrupted snapshot in " % (len(left) + 1) in log, log
    assert bh.stray_files(d) == [] and bh.temp_files(d) == [], os.listdir(d)
    assert not os.path.exists(os.path.join(d, orphan))
    assert bh.snapshots(d) == [good] and name not in os.listdir(d)
    listed = again.must("BACKUP", "LIST")
    assert [dict(zip(e[::2], e[1::2]))[b"name"] for e in listed] == [good.encode()]
    assert dict(zip(listed[0][::2], listed[0][1::2]))[b"verified"] == b"yes"
    i = bh.info_backup(again)
    assert i["snapshots_on_disk"] == "1" and i["snapshots_verified"] == "1", i
    rh.wait_in_sync(master, again, SYNC_TIMEOUT, "the restarted backup")


def test_guard_while_a_snapshot_child_runs_is_written_in_the_loop(cluster):
    # A FLUSHALL cannot wait for the busy child: the guard is written at once, by the
    # node itself, and both snapshots end up good and holding the data.
    master, backup, d, good = slow_backup(cluster, nkeys=600)
    master.must("SET", "one", "more")  # a state the good snapshot does not hold
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "one more write")
    data, digest = dataset(backup), backup.digest()
    name, child = start_slow_snapshot(backup, d, delay_us=2000)  # ~1.2 s
    assert master.must("FLUSHALL") == "OK"
    i = wait_info(backup, lambda i: i["guard_snapshots"] == "1" and
                  i["snapshot_in_progress"] == "0" and int(i["snapshots_taken"]) == 3,
                  "the guard and the running snapshot")
    assert i["snapshots_failed"] == "0", i
    assert "Taking a guard snapshot before a FLUSHALL" in backup.srv.log_text()
    names = bh.snapshots(d)
    assert len(names) == 3 and good in names and name in names, names
    (guard,) = [n for n in names if bh.manifest(d, n)["kind"] == "guard"]
    assert guard != name
    assert bh.stray_files(d) == [], os.listdir(d)
    for n in (guard, name):
        m = bh.manifest(d, n)
        assert m["verified"] == "yes" and m["keys"] == "601", m
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "the FLUSHALL")
    assert backup.call("DBSIZE") == 0
    assert_loads_in_redis_as(cluster, d, guard, digest, data)
    assert_loads_in_redis_as(cluster, d, name, digest, data)


# ---------------------------------------------------------------------------
# A full disk

@pytest.fixture
def small_fs():
    d = tempfile.mkdtemp(prefix="cairn-snapfs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", d],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): %s" % r.stderr.strip())
    try:
        yield d
    finally:
        if subprocess.run(["umount", d], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", d], capture_output=True)
        try:
            os.rmdir(d)
        except OSError:
            pass


def test_full_disk_fails_the_snapshot_cleanly(cluster, small_fs):
    master = cluster.start("cairn")
    strings(master, 100)
    backup = backup_of(cluster, master, "--snapshot-dir", small_fs)
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "initial sync")
    assert bh.snap_dir(backup) == small_fs
    good, info = bh.take_snapshot(backup)
    assert info["last_snapshot_status"] == "ok", info
    good_bytes = open(os.path.join(small_fs, good), "rb").read()

    # 3 MB of incompressible values: more than the 2 MB file system holds.
    big_values(master, 3000, size=1000)
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "3 MB of values")
    r = backup.must("BACKUP", "SNAPSHOT")
    name = r[len("Snapshot started: "):]
    i = bh.wait_snapshot_done(backup, 1, 0)
    assert i["last_snapshot_status"] == "err" and i["last_snapshot"] == name, i
    assert "No space left on device" in i["last_snapshot_error"], i
    assert bh.snapshots(small_fs) == [good], os.listdir(small_fs)
    assert bh.stray_files(small_fs) == [], os.listdir(small_fs)
    assert open(os.path.join(small_fs, good), "rb").read() == good_bytes
    st = os.statvfs(small_fs)
    assert (st.f_blocks - st.f_bfree) * st.f_frsize < 256 * 1024, "space still taken"

    # The node serves and replicates as before.
    assert backup.repl()["master_link_status"] == "up"
    assert backup.call("GET", "s:5") == b"value-5"
    master.must("SET", "after", "enospc")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "after the failed snapshot")
    assert backup.call("GET", "after") == b"enospc"
    # Room again (the big keys go): the next snapshot works.
    c = master.client()
    c.delete(*["big:%d" % i for i in range(3000)])
    c.close()
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "the big keys deleted")
    nxt, info = bh.take_snapshot(backup)
    assert info["last_snapshot_status"] == "ok", info
    assert bh.snapshots(small_fs) == [good, nxt]
    cluster.stop(backup)  # nothing of the node left on the mount before it goes


# ---------------------------------------------------------------------------
# Damaged snapshots

def test_damaged_snapshots_are_refused(cluster):
    master = cluster.start("cairn")
    rh.fill(master, seed=404, dbs=(0, 1), per_db=200)
    backup = backup_of(cluster, master)
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "initial sync")
    d = bh.snap_dir(backup)
    s1, _ = bh.take_snapshot(backup)
    strings(master, 50, prefix="between")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "between snapshots")
    s2, _ = bh.take_snapshot(backup)
    assert s1 < s2 and bh.manifest(d, s2)["verified"] == "yes"
    strings(master, 50, prefix="after")
    _, digest = rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "after the snapshots")

    # Names that are not snapshots of this directory.
    r = backup.call("BACKUP", "PROMOTE", "../../" + s2)
    assert isinstance(r, Err) and "is not a snapshot name" in r, r
    r = backup.call("BACKUP", "PROMOTE", "dump-20991231T000000Z.rdb")
    assert isinstance(r, Err) and "no snapshot dump-20991231T000000Z.rdb" in r, r
    assert backup.repl()["role"] == "slave" and backup.digest() == digest

    # s1 damaged; `cairn snapshot verify` finds it and records it in the manifest.
    flip_middle_byte(os.path.join(d, s1))
    r = cairn_snapshot_cli("verify", "--dir", d)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 checked, 1 verified, 1 failed" in r.stdout, r.stdout
    line = next(l for l in r.stdout.splitlines() if l.startswith(s1))
    assert "FAILED" in line, r.stdout
    assert bh.manifest(d, s1)["verified"] == "no"
    r = backup.call("BACKUP", "PROMOTE", s1)
    assert isinstance(r, Err) and "not verified" in r and "FORCE" in r, r
    assert backup.repl()["role"] == "slave" and backup.digest() == digest
    assert bh.info_backup(backup)["backup_writes_refused"] == "1"

    # s2 damaged behind the manifest's back (same size, still "verified: yes"): the
    # load itself checks the CRC64 and refuses it; the node stays a replica.
    flip_middle_byte(os.path.join(d, s2))
    assert bh.manifest(d, s2)["verified"] == "yes"
    r = backup.call("BACKUP", "PROMOTE", s2)
    assert isinstance(r, Err) and "loading snapshot %s failed" % s2 in r, r
    assert "dataset is unchanged" in r, r
    assert backup.repl()["role"] == "slave" and backup.digest() == digest
    i = bh.info_backup(backup)
    assert i["backup_promoted"] == "0" and i["backup_writes_refused"] == "1", i
    master.must("SET", "still", "replicating")
    rh.wait_in_sync(master, backup, SYNC_TIMEOUT, "after the refused promotions")
    # Neither damaged file was pruned or renamed by the attempts.
    assert bh.snapshots(d) == [s1, s2]
