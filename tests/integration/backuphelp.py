# Shared pieces of the backup-mode suites (tests/integration/test_backup_mode.py and
# tests/interop/test_backup_interop.py): INFO backup, the snapshot directory as the
# files on disk say it (snapshot names, manifests, temp files), a listing taken while
# no snapshot child runs, and starting a node from a config file through the
# integration harness (stopped by PID like every other server).
#
# Nodes are rh.Node objects (tests/interop/replhelp.py); both suites load that module
# their own way, so nothing here depends on which copy made the node.
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import securehelp as sh  # noqa: E402  (loads integration/conftest.py as the harness)

harness = sh.harness

PREFIX = "dump"
SNAPSHOT_RE = re.compile(r"^%s-\d{8}T\d{6}Z\.rdb$" % PREFIX)
READONLY_BACKUP = "READONLY You can't write against a backup node"


def info_backup(node):
    return node.info("backup")


def wait_info(rh, node, pred, what, timeout):
    """Polls INFO backup until pred(info) holds; returns that INFO (rh: the suite's
    replhelp module, whose wait_for reports the node's log on a timeout)."""
    seen = {}

    def check():
        seen["i"] = info_backup(node)
        return seen["i"] if pred(seen["i"]) else None
    return rh.wait_for(check, timeout, what,
                       lambda: "INFO backup: %s\n%r log:\n%s" % (seen.get("i"), node,
                                                                node.log_tail(20)))


def counter(node, field):
    return int(info_backup(node)[field])


def snap_dir(node):
    d = info_backup(node)["snapshot_dir"]
    assert d, "%r has no snapshot_dir in INFO backup" % (node,)
    return d if os.path.isabs(d) else os.path.join(node.workdir, d)


def snapshots(d):
    """Names of the snapshot files in d, oldest first (what a listing would show)."""
    try:
        return sorted(n for n in os.listdir(d) if SNAPSHOT_RE.match(n))
    except FileNotFoundError:
        return []


def temp_files(d):
    try:
        return sorted(n for n in os.listdir(d) if n.startswith("temp-"))
    except FileNotFoundError:
        return []


def stray_files(d):
    """Files that are neither a snapshot nor its manifest (temp files, half-written
    manifests): what an atomic writer must never leave behind."""
    names = set(snapshots(d))
    out = []
    for n in sorted(os.listdir(d)):
        if n in names or (n.endswith(".meta") and n[:-5] in names):
            continue
        out.append(n)
    return out


def manifest(d, name):
    with open(os.path.join(d, name + ".meta")) as f:
        text = f.read()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out


def settled(node, timeout=20):
    """(INFO backup, snapshot names on disk) taken while no snapshot child runs, with
    the counters unchanged around the directory listing, so that both describe one
    state (a child renames its file before the node reaps it and prunes)."""
    result = {}

    def once():
        a = info_backup(node)
        if a["snapshot_in_progress"] != "0":
            return False
        names = snapshots(snap_dir(node))
        b = info_backup(node)
        keys = ("snapshot_in_progress", "snapshots_taken", "snapshots_failed", "snapshots_pruned",
                "snapshots_on_disk")
        if any(a[k] != b[k] for k in keys):
            return False
        result["v"] = (b, names)
        return True

    wait_for(once, timeout, "a moment without a snapshot child on %r" % (node,))
    return result["v"]


wait_for = sh.harness.wait_for


def wait_snapshot_done(node, previous_taken=None, previous_failed=None, timeout=30):
    """Waits until the snapshot child is reaped and the counters moved past the given
    values; returns INFO backup."""
    def done():
        i = info_backup(node)
        if i["snapshot_in_progress"] != "0":
            return None
        if previous_taken is not None and previous_failed is not None:
            if int(i["snapshots_taken"]) + int(i["snapshots_failed"]) <= \
                    previous_taken + previous_failed:
                return None
        return i
    return wait_for(done, timeout, "%r to finish its snapshot" % (node,),
                    lambda: "%r log:\n%s" % (node, node.log_tail(20)))


def take_snapshot(node, timeout=30):
    """BACKUP SNAPSHOT and wait for its outcome; returns (name, INFO backup)."""
    before = info_backup(node)
    r = node.call("BACKUP", "SNAPSHOT")
    assert isinstance(r, str) and r.startswith("Snapshot started: "), r
    name = r[len("Snapshot started: "):]
    info = wait_snapshot_done(node, int(before["snapshots_taken"]),
                              int(before["snapshots_failed"]), timeout)
    return name, info


def start_from_config(starter, conf_path, port, workdir):
    """`cairn server <conf_path>` through the harness (no extra command-line directives:
    a CONFIG REWRITE then writes exactly what the file and runtime changes say).
    `starter` is the start_cairn fixture (or anything with a .servers list) so that
    teardown stops it by PID."""
    import time
    # A log of its own per start: the harness waits for the ready line in it.
    log_path = os.path.join(workdir, "server-%d-conf-%d.log" % (port, time.monotonic_ns()))
    srv = harness.Server(harness.cairn_bin(), [conf_path], log_path, port, workdir)
    starter.servers.append(srv)
    return srv.start()


def copy_snapshot(d, name, dest_dir):
    """Copies a snapshot (its RDB only) into dest_dir; returns the copy's path."""
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, name)
    shutil.copyfile(os.path.join(d, name), dest)
    return dest
