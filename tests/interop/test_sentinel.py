# Stock redis-sentinel 7.0 in front of Cairn nodes: three sentinels (quorum 2) monitor a
# Cairn master with two Cairn replicas and a Cairn backup node (backup-mode yes,
# which reports slave_priority:0 by itself). They must discover the replicas from the master's INFO and each
# other through the __sentinel__:hello channel, fail over when the master is killed
# (MULTI / SLAVEOF NO ONE / CONFIG REWRITE / CLIENT KILL / EXEC on the chosen replica,
# SLAVEOF <new> on the others), turn the restarted old master into a replica, and run a
# manual SENTINEL FAILOVER; the backup node must never be chosen. A differential test
# sends Sentinel's failover transaction and its other commands to stock redis-server
# and to Cairn and compares the replies. Every node starts from a config file in tmp,
# as an operator runs one, so CONFIG REWRITE has a file to rewrite.
#
# Timings as in Redis's own sentinel tests (down-after-milliseconds 2000, parallel-syncs
# 10, SENTINEL DEBUG tilt-period 5000), with failover-timeout 6000 and SENTINEL DEBUG
# info-period 1000 / publish-period 500 so that a restarted node is seen and converted
# in about 2 s instead of 10 s: the module runs in about 15 s. A shorter
# down-after-milliseconds than 2000 is not safe: the CLIENT KILL of a failover drops
# the other sentinels' links, they reconnect after 1 s, and a ping left unanswered
# across that gap could mark the healthy new master down.
import os
import re
import tempfile

import pytest

import replhelp as rh

SENTINEL_BIN = os.environ.get("REDIS_SENTINEL_BIN", "/usr/bin/redis-sentinel")
NAME = "mymaster"
PASSWORD = "sentinel-s3cret"
FAILOVER_TIMEOUT = 30  # seconds a failover may take here, from the kill to a stable setup

pytestmark = pytest.mark.skipif(not os.path.exists(SENTINEL_BIN),
                                reason="stock redis-sentinel not installed (%s); "
                                       "scripts/install-deps.sh installs it" % SENTINEL_BIN)


# ---------------------------------------------------------------------------
# Nodes and sentinels

def write_conf(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def start_node(cluster, kind="cairn", replicaof=None, extra=()):
    """A node started from `<tmp>/node.conf`, with requirepass/masterauth."""
    workdir = tempfile.mkdtemp(prefix="cairn-sentinel-node-")
    port = rh.harness.free_port()
    conf = os.path.join(workdir, "node.conf")
    lines = ["port %d" % port, "bind 127.0.0.1", 'dir "%s"' % workdir, 'save ""',
             "appendonly no", "enable-debug-command yes", "repl-diskless-sync-delay 0",
             "requirepass %s" % PASSWORD, "masterauth %s" % PASSWORD]
    if replicaof is not None:
        lines.append("replicaof 127.0.0.1 %d" % replicaof.port)
    write_conf(conf, lines + list(extra))
    node = cluster.start_conf(kind, conf, port, password=PASSWORD)
    node.conf = conf
    return node


def restart_node(cluster, node):
    """Starts a stopped node again from the same config file."""
    again = cluster.start_conf(node.kind, node.conf, node.port, password=PASSWORD)
    again.conf = node.conf
    return again


def conf_directives(node):
    with open(node.conf) as f:
        return [line.split() for line in f if line.strip() and not line.startswith("#")]


def replicaof_lines(node):
    return [d for d in conf_directives(node) if d[0] in ("replicaof", "slaveof")]


class Sentinel:
    def __init__(self, srv):
        self.srv = srv
        self.port = srv.port
        self.conn = None

    def call(self, *args):
        if self.conn is None:
            self.conn = rh.RawConn(self.port, timeout=5)
        try:
            return self.conn.call(*args)
        except (OSError, rh.Closed):
            self.conn.close()
            self.conn = None
            raise

    def master_addr(self):
        r = self.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME)
        return None if not isinstance(r, list) else (r[0].decode(), int(r[1]))

    def master_flags(self):
        r = self.call("SENTINEL", "MASTER", NAME)
        return dict(zip(r[::2], r[1::2]))[b"flags"].decode()

    def table(self, what):
        """SENTINEL REPLICAS/SENTINELS as a list of dicts."""
        r = self.call("SENTINEL", what, NAME)
        assert isinstance(r, list), "SENTINEL %s: %r" % (what, r)
        return [{row[i].decode(): row[i + 1].decode() for i in range(0, len(row), 2)}
                for row in r]

    def log_tail(self, lines=25):
        return self.srv.log_tail(lines)


def start_sentinels(cluster, master, n=3, quorum=2):
    sentinels = []
    for _ in range(n):
        workdir = tempfile.mkdtemp(prefix="cairn-sentinel-")
        port = rh.harness.free_port()
        conf = os.path.join(workdir, "sentinel.conf")  # sentinel rewrites it
        write_conf(conf, [
            "port %d" % port, "bind 127.0.0.1", 'dir "%s"' % workdir,
            "sentinel resolve-hostnames no",
            "sentinel monitor %s 127.0.0.1 %d %d" % (NAME, master.port, quorum),
            "sentinel auth-pass %s %s" % (NAME, PASSWORD),
            "sentinel down-after-milliseconds %s 2000" % NAME,
            "sentinel failover-timeout %s 6000" % NAME,
            "sentinel parallel-syncs %s 10" % NAME])
        srv = cluster.start_peer(SENTINEL_BIN, [conf], port, workdir, ready=b"+monitor master")
        s = Sentinel(srv)
        r = s.call("SENTINEL", "DEBUG", "info-period", 1000, "publish-period", 500,
                   "tilt-period", 5000)
        assert r == "OK", "SENTINEL DEBUG: %r" % (r,)
        sentinels.append(s)
    return sentinels


def diag(sentinels, nodes):
    out = []
    for s in sentinels:
        try:
            out.append("sentinel %d: master %s" % (s.port, s.master_addr()))
        except Exception as e:
            out.append("sentinel %d: %r" % (s.port, e))
        out.append("--- sentinel %d log ---\n%s" % (s.port, s.log_tail(20)))
    out.append(rh.diag_nodes(*nodes))
    return "\n".join(out)


def wait(pred, what, sentinels, nodes, timeout=FAILOVER_TIMEOUT):
    return rh.wait_for(pred, timeout, what, lambda: diag(sentinels, nodes))


def agreed_master(sentinels):
    """The master address every sentinel reports, or None while they disagree."""
    addrs = {s.master_addr() for s in sentinels}
    return addrs.pop() if len(addrs) == 1 else None


def follows(replica, master):
    """The replica's INFO says it replicates from `master` with the link up."""
    r = replica.repl()
    return (r.get("role") == "slave" and r.get("master_host") == "127.0.0.1" and
            r.get("master_port") == str(master.port) and
            r.get("master_link_status") == "up" and r.get("master_sync_in_progress") == "0")


def healthy_replicas(sentinel, master):
    """Ports SENTINEL REPLICAS lists as healthy replicas of `master`: flags just
    "slave", role-reported slave, master-link-status ok (from the replica's INFO)."""
    return {int(row["port"]) for row in sentinel.table("REPLICAS")
            if row["flags"] == "slave" and row["role-reported"] == "slave"
            and row["master-link-status"] == "ok" and row["master-port"] == str(master.port)}


def wait_topology(sentinels, nodes, master, what):
    """Waits until the setup is at rest around `master`: it says role:master, every
    other node follows it, and every sentinel names it, runs no failover on it and
    lists the others as healthy replicas. (A failover started before the sentinels
    agree on the replicas' roles can race with their conversions; Sentinel's own
    tests wait the same way.)"""
    others = [n for n in nodes if n is not master]
    ports = {n.port for n in others}

    def settled():
        if master.call("ROLE")[0] != b"master" or not all(follows(n, master) for n in others):
            return False
        for s in sentinels:
            if s.master_addr() != ("127.0.0.1", master.port):
                return False
            if s.master_flags() != "master" or not ports <= healthy_replicas(s, master):
                return False
        return True

    wait(settled, what, sentinels, nodes)


def wait_key(node, key, value, sentinels, nodes):
    wait(lambda: node.call("GET", key) == value.encode(),
         "%s=%s on %r" % (key, value, node), sentinels, nodes, timeout=10)


# ---------------------------------------------------------------------------

def test_sentinel_discovers_fails_over_and_reconfigures(cluster):
    master = start_node(cluster)
    r1 = start_node(cluster, replicaof=master)
    r2 = start_node(cluster, replicaof=master)
    # A backup node refuses REPLICAOF NO ONE; backup mode reports slave_priority:0 by
    # itself (no replica-priority line here), which keeps Sentinel from ever choosing
    # it (docs/ecosystem.md).
    backup = start_node(cluster, replicaof=master, extra=["backup-mode yes"])
    nodes = [master, r1, r2, backup]
    for r in (r1, r2, backup):
        rh.wait_link_up(r, nodes=(master,))
    master.must("SET", "before", "1")

    sentinels = start_sentinels(cluster, master)

    # a. Replicas from the master's INFO (slaveN lines, then each replica's own INFO:
    #    role, master_link_status, slave_priority); the other sentinels through hello
    #    messages published and received on the nodes.
    wait_topology(sentinels, nodes, master, "every sentinel to see 3 healthy replicas")
    wait(lambda: all(len(s.table("SENTINELS")) == len(sentinels) - 1 for s in sentinels),
         "every sentinel to see the 2 others", sentinels, nodes, timeout=15)
    prio = {int(row["port"]): row["slave-priority"] for row in sentinels[0].table("REPLICAS")}
    assert prio == {r1.port: "100", r2.port: "100", backup.port: "0"}, prio

    # b. The master's address, and a quorum that can authorize a failover.
    for s in sentinels:
        assert s.master_addr() == ("127.0.0.1", master.port)
        r = s.call("SENTINEL", "CKQUORUM", NAME)
        assert r.startswith("OK 3 usable Sentinels"), r

    # c. The master dies: a replica (never the backup) is promoted and the others follow.
    cluster.kill(master)

    def promoted():
        addr = agreed_master(sentinels)
        return addr if addr and addr[1] != master.port else None

    addr = wait(promoted, "the sentinels to agree on a new master", sentinels, nodes)
    assert addr[1] in (r1.port, r2.port), \
        "Sentinel chose %s (backup node is %d)" % (addr, backup.port)
    new, other = (r1, r2) if addr[1] == r1.port else (r2, r1)
    wait_topology(sentinels, [new, other, backup], new, "the replicas to follow %r" % new)
    assert replicaof_lines(new) == [], \
        "the promoted node's config still has %s" % replicaof_lines(new)
    for r in (other, backup):
        assert replicaof_lines(r) == [["replicaof", "127.0.0.1", str(new.port)]], \
            "%r config: %s" % (r, replicaof_lines(r))
    new.must("SET", "after-failover", "2")
    for r in (other, backup):
        wait_key(r, "after-failover", "2", sentinels, nodes)
        assert r.call("GET", "before") == b"1"

    # d. The old master comes back (same file, no data: no persistence): Sentinel
    #    makes it a replica of the new master, and it syncs the data.
    old = restart_node(cluster, master)
    nodes = [new, other, backup, old]
    wait_topology(sentinels, nodes, new, "the restarted old master to follow %r" % new)
    assert old.call("ROLE")[0] == b"slave"
    wait_key(old, "after-failover", "2", sentinels, nodes)
    assert old.call("GET", "before") == b"1"
    assert replicaof_lines(old) == [["replicaof", "127.0.0.1", str(new.port)]]

    # e. A manual failover on a healthy setup: again never the backup node.
    r = sentinels[0].call("SENTINEL", "FAILOVER", NAME)
    assert r == "OK", r

    def switched():
        a = agreed_master(sentinels)
        return a if a and a[1] != new.port else None

    addr = wait(switched, "a manual failover away from %r" % new, sentinels, nodes)
    assert addr[1] in (other.port, old.port), \
        "Sentinel chose %s (backup node is %d)" % (addr, backup.port)
    chosen = other if addr[1] == other.port else old
    wait_topology(sentinels, nodes, chosen, "every node to follow %r" % chosen)
    chosen.must("SET", "after-manual", "3")
    for n in nodes:
        if n is not chosen:
            wait_key(n, "after-manual", "3", sentinels, nodes)
    assert backup.info("backup")["backup_mode"] == "yes"

    # replica-announced no (INFO replica_announced:0) hides a replica from
    # SENTINEL REPLICAS, the list clients discover replicas from.
    backup.must("CONFIG", "SET", "replica-announced", "no")
    wait(lambda: backup.port not in {int(row["port"]) for row in sentinels[0].table("REPLICAS")},
         "SENTINEL REPLICAS to hide the unannounced backup node", sentinels, nodes, timeout=10)


# ---------------------------------------------------------------------------
# What Sentinel sends, against stock redis-server and Cairn side by side.

def failover_transaction(node, target):
    """Sentinel's sentinelSendSlaveOf: one transaction whose replies Sentinel does not
    check. Another normal client and a subscriber are connected. Returns the replies,
    then PUBLISH's count (the subscriber is gone), then whether the other client and
    the subscriber still read."""
    node.close_conn()  # only the three connections below exist
    other, sub, me = node.raw(), node.raw(), node.raw()
    try:
        assert sub.call("SUBSCRIBE", "__sentinel__:hello")[0] == b"subscribe"
        out = [me.call("MULTI"), me.call("SLAVEOF", *target), me.call("CONFIG", "REWRITE"),
               me.call("CLIENT", "KILL", "TYPE", "normal"),
               me.call("CLIENT", "KILL", "TYPE", "pubsub"), me.call("EXEC"),
               me.call("PUBLISH", "__sentinel__:hello", "x")]
        for c in (other, sub):
            try:
                out.append(c.call("PING"))
            except (OSError, rh.Closed) as e:
                out.append(type(e).__name__)
        return out
    finally:
        for c in (other, sub, me):
            c.close()


def test_sentinel_commands_match_redis(cluster):
    # Replicas of a master each, so SLAVEOF NO ONE promotes and SLAVEOF <host> <port>
    # re-points, as in a failover; started from config files CONFIG REWRITE rewrites.
    masters = {k: start_node(cluster, kind=k) for k in ("redis", "cairn")}
    pair = {k: start_node(cluster, kind=k, replicaof=masters[k]) for k in ("redis", "cairn")}
    for k in pair:
        rh.wait_link_up(pair[k], nodes=(masters[k],))

    def both(*args):
        out = {k: pair[k].call(*args) for k in pair}
        assert out["cairn"] == out["redis"] and type(out["cairn"]) is type(out["redis"]), \
            "%s: cairn %r, redis %r" % (rh.fmt(args), out["cairn"], out["redis"])
        return out["redis"]

    # What Sentinel sends on every link, and SCRIPT KILL to a master that says -BUSY.
    both("CLIENT", "SETNAME", "sentinel-0123abcd-cmd")
    both("CLIENT", "GETNAME")
    assert both("SCRIPT", "KILL") == "NOTBUSY No scripts in execution right now."
    both("FUNCTION", "KILL")
    both("PUBLISH", "__sentinel__:hello", "127.0.0.1,26379,abc,0,mymaster,127.0.0.1,6379,0")
    both("CONFIG", "GET", "replica-priority")
    both("CONFIG", "GET", "slave-priority")
    both("CONFIG", "GET", "replica-announced")

    # INFO: the fields Sentinel parses, on a replica and on a master.
    fields = ("role", "master_host", "master_link_status", "slave_priority",
              "replica_announced", "slave_read_only", "connected_slaves")
    infos = {k: pair[k].info() for k in pair}
    for f in fields:
        assert infos["cairn"].get(f) == infos["redis"].get(f), \
            "INFO %s: cairn %r, redis %r" % (f, infos["cairn"].get(f), infos["redis"].get(f))
    for k in pair:
        assert infos[k]["master_port"] == str(masters[k].port), (k, infos[k]["master_port"])
        assert re.fullmatch(r"[0-9a-f]{40}", infos[k]["run_id"]), (k, infos[k]["run_id"])
        assert re.fullmatch(r"\d+", infos[k]["slave_repl_offset"]), (k, infos)
        line = masters[k].info("replication")["slave0"]
        assert set(rh.parse_slave_line(line)) == {"ip", "port", "state", "offset", "lag"}, line

    # The promotion transaction, then the re-pointing one (to a port nobody serves).
    for target in (("NO", "ONE"), ("127.0.0.1", str(rh.harness.free_port()))):
        out = {k: failover_transaction(pair[k], target) for k in pair}
        assert out["cairn"] == out["redis"], "SLAVEOF %s transaction:\n cairn %r\n redis %r" % (
            " ".join(target), out["cairn"], out["redis"])
        assert out["redis"][5:] == [["OK", "OK", 1, 1], 0, "Closed", "Closed"], out
        lines = {k: replicaof_lines(pair[k]) for k in pair}
        want = [] if target[0] == "NO" else [["replicaof"] + list(target)]
        assert lines["cairn"] == lines["redis"] == want, lines
    assert pair["cairn"].call("ROLE")[0] == b"slave"
