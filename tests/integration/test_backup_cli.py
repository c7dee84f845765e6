# `cairn snapshot list|create|prune|restore` and `cairn promote` as an operator runs
# them: against a running node over RESP (redis-cli's -h/-p/-a/--user options and
# REDISCLI_AUTH) and offline on a snapshot directory (--dir). Covered: create waits
# for the snapshot and prints its row, or exits 1 with the node's reason when the
# snapshot child is killed or the snapshot cannot start; list matches BACKUP LIST and
# the offline listing of the same directory; prune by the node's snapshot-keep (dry
# run and real); online restore on a master, refused on a backup replica; offline
# restore to a new file that a fresh node loads, refusing a damaged snapshot without
# --force and leaving no file behind; promote of a backup replica from live data and
# from a snapshot (writable, ROLE master); the errors an operator meets: nothing
# listening, a wrong or missing password, an unknown snapshot, an option of the other
# mode.
#
# Nodes come from conftest's start_cairn fixture (stopped by PID at teardown). The
# tool itself is $CAIRN_BIN run as a subprocess; every call has a timeout.
import os
import signal
import socket
import subprocess
import time

import pytest
import redis

from conftest import wait_for

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SYNC_TIMEOUT = 30  # the ASan build is ~3x slower
BASE_ARGS = ("--repl-diskless-sync-delay", "0")


def cairn_bin():
    return os.path.abspath(os.environ.get("CAIRN_BIN", os.path.join(REPO, "build", "cairn")))


def run(*args, env=None):
    full_env = dict(os.environ)
    full_env.pop("REDISCLI_AUTH", None)
    full_env.update(env or {})
    return subprocess.run([cairn_bin(), *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=120, env=full_env)


def snapshot(*args, **kw):
    return run("snapshot", *args, **kw)


def snap_dir(srv, client):
    d = client.info("backup")["snapshot_dir"]
    return d if os.path.isabs(d) else os.path.join(srv.workdir, d)


def load(client, n, prefix="k"):
    p = client.pipeline(transaction=False)
    for i in range(n):
        p.set("%s:%d" % (prefix, i), "v%d" % i)
    p.execute()


def rows(stdout):
    """The snapshot rows of a table: {name: line}."""
    return {l.split()[0]: l for l in stdout.splitlines() if l.startswith("dump-")}


def create(port, **kw):
    """cairn snapshot create; returns (result, name of the snapshot it printed)."""
    r = snapshot("create", "-p", port, **kw)
    assert r.returncode == 0, r.stdout + r.stderr
    made = rows(r.stdout)
    assert len(made) == 1, r.stdout
    return r, next(iter(made))


@pytest.fixture
def pair(start_cairn, tmp_path):
    """A master with 20 keys and a backup replica in sync with it."""
    master = start_cairn(*BASE_ARGS)
    mc = master.client(decode_responses=True)
    load(mc, 20)
    backup = start_cairn(*BASE_ARGS, "--backup-mode", "yes", "--replicaof", "127.0.0.1",
                         str(master.port))
    bc = backup.client(decode_responses=True)
    wait_for(lambda: bc.info("replication").get("master_link_status") == "up" and
             bc.dbsize() == 20, SYNC_TIMEOUT, "the backup replica to sync")
    yield master, mc, backup, bc
    mc.close()
    bc.close()


def test_help_texts():
    r = snapshot("--help")
    assert r.returncode == 0
    for word in ("create", "restore", "--dir", "-h/--host", "REDISCLI_AUTH", "--to"):
        assert word in r.stdout
    r = run("promote", "--help")
    assert r.returncode == 0 and "--snapshot NAME" in r.stdout
    r = run("--help")
    assert r.returncode == 0 and "promote" in r.stdout and "snapshot list|create" in r.stdout
    assert snapshot().returncode == 1  # no action: the help, as a usage error


def test_list_create_prune_online(pair):
    master, mc, backup, bc = pair
    names = [create(backup.port)[1] for _ in range(3)]
    assert len(set(names)) == 3
    r, name = create(backup.port)
    names.append(name)
    line = rows(r.stdout)[name]
    assert line.split()[-1] == "yes" and " 20 " in line  # verified, 20 keys
    assert "started on 127.0.0.1:%d" % backup.port in r.stderr

    r = snapshot("list", "-p", backup.port)
    assert r.returncode == 0, r.stderr
    listed = rows(r.stdout)
    assert sorted(listed) == sorted(names)
    assert "4 snapshot(s)" in r.stdout
    assert [e[1] for e in bc.execute_command("BACKUP", "LIST")] == [n for n in sorted(names)]
    # The offline listing of the same directory prints the same rows.
    off = snapshot("list", "--dir", snap_dir(backup, bc))
    assert off.returncode == 0, off.stderr
    assert rows(off.stdout) == listed

    # The node's snapshot-keep is the rule online; --keep belongs to --dir.
    r = snapshot("prune", "-p", backup.port, "--keep", "last 1")
    assert r.returncode == 1 and "snapshot-keep" in r.stderr
    bc.config_set("snapshot-keep", "last 2")
    d = snap_dir(backup, bc)
    before = sorted(f for f in os.listdir(d) if f.endswith(".rdb"))
    r = snapshot("prune", "--dry-run", "-p", backup.port)
    assert r.returncode == 0, r.stderr
    assert sorted(f for f in os.listdir(d) if f.endswith(".rdb")) == before
    decided = rows(r.stdout)
    newest = sorted(names)[-2:]
    for n in sorted(names)[:2]:
        assert "would remove" in decided[n]
    for n in newest:
        assert "keep" in decided[n] and "last" in decided[n]
    assert "2 kept, 2 would be removed (dry run)" in r.stdout

    r = snapshot("prune", "-p", backup.port)
    assert r.returncode == 0, r.stderr
    assert "2 kept, 2 removed" in r.stdout
    assert sorted(f for f in os.listdir(d) if f.endswith(".rdb")) == newest
    assert sorted(rows(snapshot("list", "-p", backup.port).stdout)) == newest


def test_restore_online_on_master_and_refused_on_backup(start_cairn, pair):
    _, _, backup, bc = pair
    node = start_cairn(*BASE_ARGS)
    c = node.client(decode_responses=True)
    load(c, 10)
    _, name = create(node.port)
    c.flushall()
    c.set("other", "x")
    r = snapshot("restore", name, "-p", node.port)
    assert r.returncode == 0, r.stderr
    assert "OK restored from snapshot %s" % name in r.stdout
    assert c.dbsize() == 10 and c.get("k:3") == "v3" and c.get("other") is None

    r = snapshot("restore", "dump-20200101T000000Z.rdb", "-p", node.port)
    assert r.returncode == 1 and "no snapshot dump-20200101T000000Z.rdb" in r.stderr

    # A backup replica restores by promotion; the node's error says so.
    _, bname = create(backup.port)
    r = snapshot("restore", bname, "-p", backup.port)
    assert r.returncode == 1 and "BACKUP PROMOTE" in r.stderr, r.stderr
    assert "cairn promote --snapshot %s" % bname in r.stderr
    assert bc.info("replication")["role"] == "slave"
    c.close()


def test_restore_offline(start_cairn, pair, tmp_path):
    _, _, backup, bc = pair
    _, name = create(backup.port)
    d = snap_dir(backup, bc)
    out = tmp_path / "restored"
    out.mkdir()
    target = out / "dump.rdb"

    r = snapshot("restore", "--dir", d, name, "--to", out)
    assert r.returncode == 1 and "is a directory" in r.stderr
    r = snapshot("restore", "--dir", d, name, "--to", target)
    assert r.returncode == 0, r.stderr
    assert "20 keys" in r.stdout and "--dbfilename dump.rdb" in r.stdout
    assert target.read_bytes() == open(os.path.join(d, name), "rb").read()
    r = snapshot("restore", "--dir", d, name, "--to", target)
    assert r.returncode == 1 and "exists" in r.stderr  # never replaces a file

    node = start_cairn(*BASE_ARGS, "--dir", str(out), "--dbfilename", "dump.rdb")
    c = node.client(decode_responses=True)
    assert c.dbsize() == 20 and c.get("k:7") == "v7"
    c.close()

    # A damaged snapshot (one byte flipped) is refused and leaves nothing at --to.
    bad = "dump-20300101T000000Z.rdb"
    data = bytearray(open(os.path.join(d, name), "rb").read())
    data[len(data) // 2] ^= 0xFF
    with open(os.path.join(d, bad), "wb") as f:
        f.write(bytes(data))
    target2 = out / "bad.rdb"
    r = snapshot("restore", "--dir", d, bad, "--to", target2)
    assert r.returncode == 1 and "does not verify" in r.stderr and "--force" in r.stderr
    assert not target2.exists()
    assert not [f for f in os.listdir(out) if f.startswith("temp-")]
    r = snapshot("restore", "--dir", d, bad, "--to", target2, "--force")
    assert r.returncode == 0 and "WITHOUT verification" in r.stdout
    assert target2.read_bytes() == bytes(data)

    r = snapshot("restore", "--dir", d, "dump-20200101T000000Z.rdb", "--to", out / "x.rdb")
    assert r.returncode == 1 and "no snapshot" in r.stderr
    r = snapshot("restore", "--dir", d, name)
    assert r.returncode == 1 and "--to" in r.stderr


def test_promote_live_data(pair):
    master, mc, backup, bc = pair
    with pytest.raises(redis.exceptions.ReadOnlyError):
        bc.set("new", "1")
    r = run("promote", "-p", backup.port)
    assert r.returncode == 0, r.stderr
    assert "OK promoted to master" in r.stdout
    assert bc.execute_command("ROLE")[0] == "master"
    assert bc.set("new", "1") and bc.get("new") == "1"
    assert bc.dbsize() == 21
    # Once a master, promote is the node's error, and the exit code says so.
    r = run("promote", "-p", backup.port)
    assert r.returncode == 1 and "already a writable master" in r.stderr


def test_promote_from_snapshot(pair):
    master, mc, backup, bc = pair
    _, name = create(backup.port)
    load(mc, 30, prefix="later")
    wait_for(lambda: bc.dbsize() == 50, SYNC_TIMEOUT, "the replica to apply the new keys")

    r = run("promote", "--snapshot", "dump-20200101T000000Z.rdb", "-p", backup.port)
    assert r.returncode == 1 and "no snapshot" in r.stderr
    assert bc.info("replication")["role"] == "slave"

    r = run("promote", "--snapshot", name, "-p", backup.port)
    assert r.returncode == 0, r.stderr
    assert "from snapshot %s" % name in r.stdout
    assert bc.execute_command("ROLE")[0] == "master"
    assert bc.dbsize() == 20 and bc.get("later:1") is None
    assert bc.set("after", "1")


def test_connection_errors_and_auth(start_cairn):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    for args in (("snapshot", "list"), ("promote",)):
        r = run(*args, "-p", dead)
        assert r.returncode == 1
        assert "could not connect to 127.0.0.1:%d: Connection refused" % dead in r.stderr

    node = start_cairn(*BASE_ARGS, "--requirepass", "s3cret", "--snapshot-dir", "snapshots")
    r = snapshot("list", "-p", node.port, "-a", "wrong")
    assert r.returncode == 1 and "WRONGPASS" in r.stderr, r.stderr
    r = snapshot("list", "-p", node.port)
    assert r.returncode == 1 and "NOAUTH" in r.stderr, r.stderr
    r = run("promote", "-p", node.port, "--pass", "wrong")
    assert r.returncode == 1 and "WRONGPASS" in r.stderr
    r = snapshot("list", "-p", node.port, "-a", "s3cret")
    assert r.returncode == 0 and "0 snapshot(s)" in r.stdout, r.stderr
    r = snapshot("list", "-h", "localhost", "-p", node.port, "--user", "default", "-a", "s3cret")
    assert r.returncode == 0, r.stderr
    r = snapshot("list", "-p", node.port, env={"REDISCLI_AUTH": "s3cret"})
    assert r.returncode == 0, r.stderr
    create(node.port, env={"REDISCLI_AUTH": "s3cret"})
    assert "1 snapshot(s)" in snapshot("list", "-p", node.port, "-a", "s3cret").stdout


def test_mode_errors(tmp_path):
    r = snapshot("create", "--dir", tmp_path)
    assert r.returncode == 1 and "running node" in r.stderr
    r = snapshot("verify", "-p", 1)
    assert r.returncode == 1 and "--dir" in r.stderr
    r = snapshot("list", "--dir", tmp_path, "-p", 6379)
    assert r.returncode == 1 and "one or the other" in r.stderr
    r = snapshot("restore", "-p", 1)
    assert r.returncode == 1 and "one snapshot name" in r.stderr
    r = run("promote", "--snapshot", "force")
    assert r.returncode == 1 and "not a snapshot name" in r.stderr


def child_pids(pid):
    kids = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            kids += [int(k) for k in f.read().split()]
    return kids


def test_create_timeout_busy_and_failed_snapshot(start_cairn, tmp_path):
    node = start_cairn(*BASE_ARGS, "--snapshot-dir", "snapshots")
    c = node.client(decode_responses=True)
    load(c, 400)
    c.config_set("rdb-key-save-delay", 5000)  # the child needs ~2 s for 400 keys

    # --timeout bounds the wait; the node goes on with the snapshot.
    t0 = time.monotonic()
    r = snapshot("create", "-p", node.port, "--timeout", 1)
    assert r.returncode == 1 and "still running after 1 s" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 1.9
    assert c.info("backup")["snapshot_in_progress"] == 1
    # One child at a time: the node's refusal, exit 1.
    r = snapshot("create", "-p", node.port)
    assert r.returncode == 1 and "already in progress" in r.stderr, r.stderr
    for kid in child_pids(node.pid):
        os.kill(kid, signal.SIGKILL)  # the node's snapshot child, not the node
    wait_for(lambda: c.info("backup")["snapshot_in_progress"] == 0, SYNC_TIMEOUT,
             "the killed child to be reaped")

    # A child that dies while create waits: the node's reason, exit 1.
    tool = subprocess.Popen([cairn_bin(), "snapshot", "create", "-p", str(node.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: c.info("backup")["snapshot_in_progress"] == 1, SYNC_TIMEOUT,
                 "the snapshot to start")
        kids = child_pids(node.pid)
        assert len(kids) == 1, kids
        os.kill(kids[0], signal.SIGKILL)
        out, err = tool.communicate(timeout=60)
    finally:
        if tool.poll() is None:
            tool.kill()
            tool.wait()
    assert tool.returncode == 1, out + err
    assert "failed: the snapshot child was killed by signal 9" in err
    assert c.info("backup")["last_snapshot_status"] == "err"

    # A snapshot that cannot even start: the node's error, exit 1.
    c.config_set("snapshot-dir", str(tmp_path / "file" / "snapshots"))
    (tmp_path / "file").write_text("a file where a directory should be")
    r = snapshot("create", "-p", node.port)
    assert r.returncode == 1 and "Not a directory" in r.stderr, r.stderr
    c.close()
