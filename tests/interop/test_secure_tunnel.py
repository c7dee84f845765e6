# Cairn's channel with stock Redis 7.0 peers: `cairn tunnel` carries a stock
# replica's link to a stock master (as spiped would), and the tunnel and the node's
# built-in channel speak the same protocol in both directions — a Cairn replica with
# secure-master-public-key reaches a stock master behind `cairn tunnel`'s server side,
# and a stock replica behind the tunnel's client side reaches a Cairn master's
# secure-port. Each case: full sync, streamed writes, and partial resync after the
# channel is cut (the tunnel process killed and restarted), datasets identical
# (DEBUG DIGEST, replication offsets and ids).
import os
import random
import sys

import pytest

import replhelp as rh

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import securehelp as sh  # noqa: E402

SYNC_TIMEOUT = 30


@pytest.fixture
def tunnels():
    started = []
    d = sh.key_dir()

    class Tunnels:
        keydir = d

        def start(self, *args):
            t = sh.Tunnel([str(a) for a in args], d)
            started.append(t)
            return t

    yield Tunnels()
    for t in started:
        t.stop()


def load(node, seed, n=300):
    rnd = random.Random(seed)
    for cmd in rh.every_type_commands(rnd, "k%d" % seed, n, 3600000):
        node.must(*cmd)


def server_side(tunnels, client_key, server_key, target_port, port=None):
    port = port or sh.harness.free_port()
    t = tunnels.start("--secure-listen", "127.0.0.1:%d" % port, "--forward",
                      "127.0.0.1:%d" % target_port, "--private-key", server_key.path, "--allow",
                      client_key.public + ":offsite")
    return t, port


def client_side(tunnels, client_key, server_key, secure_port, listen_port=None):
    port = listen_port or sh.harness.free_port()
    t = tunnels.start("--listen", "127.0.0.1:%d" % port, "--connect",
                      "127.0.0.1:%d" % secure_port, "--private-key", client_key.path,
                      "--peer-key", server_key.public)
    return t, port


def cut_and_resume(master, replica, tunnel, restart):
    """Cuts the channel (stops `tunnel`), writes meanwhile, calls restart(); the replica
    must come back by partial resync with the write and the master's history."""
    partial_before = int(master.stats()["sync_partial_ok"])
    tunnel.stop()
    rh.wait_link_down(replica)
    master.must("SET", "during", "the cut")
    restarted = restart()
    assert restarted.proc.poll() is None
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="after the cut")
    assert int(master.stats()["sync_partial_ok"]) == partial_before + 1
    assert replica.call("GET", "during") == b"the cut"
    rh.assert_same_history(master, replica)


def test_stock_redis_through_cairn_tunnel(cluster, tunnels):
    ck, sk = sh.NodeKey(tunnels.keydir, "client"), sh.NodeKey(tunnels.keydir, "server")
    master = cluster.start("redis")
    load(master, 1)
    _, secure_port = server_side(tunnels, ck, sk, master.port)
    client, plain_port = client_side(tunnels, ck, sk, secure_port)
    replica = cluster.start("redis", "--replicaof", "127.0.0.1", plain_port)
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="full sync through the tunnel")
    load(master, 2, 50)
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="stream through the tunnel")
    cut_and_resume(master, replica, client,
                   lambda: client_side(tunnels, ck, sk, secure_port, listen_port=plain_port)[0])


def test_cairn_replica_reaches_stock_master_behind_the_tunnel(cluster, tunnels):
    rk, sk = sh.NodeKey(tunnels.keydir, "replica"), sh.NodeKey(tunnels.keydir, "server")
    master = cluster.start("redis")
    load(master, 3)
    server, secure_port = server_side(tunnels, rk, sk, master.port)
    replica = cluster.start("cairn", *sh.replica_args(rk, sk, secure_port))
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="cairn replica via the tunnel")
    load(master, 4, 50)
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="stream")
    assert replica.info("secure")["secure_master_link"] == "channel"
    cut_and_resume(master, replica, server,
                   lambda: server_side(tunnels, rk, sk, master.port, port=secure_port)[0])


def test_stock_replica_reaches_cairn_secure_port_through_the_tunnel(cluster, tunnels):
    ck, mk = sh.NodeKey(tunnels.keydir, "client"), sh.NodeKey(tunnels.keydir, "master")
    secure_port = sh.harness.free_port()
    master = cluster.start("cairn", *sh.master_args(mk, secure_port, allow=[(ck, "stock")]))
    load(master, 5)
    client, plain_port = client_side(tunnels, ck, mk, secure_port)
    replica = cluster.start("redis", "--replicaof", "127.0.0.1", plain_port)
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="stock replica via the channel")
    load(master, 6, 50)
    rh.wait_in_sync(master, replica, timeout=SYNC_TIMEOUT, what="stream")
    sec = master.info("secure")
    assert "label=stock" in sec["peer0"], sec
    cut_and_resume(master, replica, client,
                   lambda: client_side(tunnels, ck, mk, secure_port, listen_port=plain_port)[0])
