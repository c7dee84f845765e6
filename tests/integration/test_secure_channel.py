# Replication through the secure channel, Cairn at both ends (so the ASan+UBSan stage
# runs the channel too): a replica with secure-master-public-key reaches the master's
# secure-port only, full sync of every type and then the stream arrive intact, a cut
# link resumes by partial resync over a new handshake, INFO secure counts what
# happened, secure-allow follows CONFIG SET (a revoked key is refused and named in the
# log), the RDB of a sync through a compressing channel skips LZF, and the startup
# errors a user meets (loose key file, secure-port without a key) are clear.
# Bad input of every kind is tests/interop/test_secure_{handshake,record}_faults.py; stock Redis through
# `cairn tunnel` is tests/interop/test_secure_tunnel.py.
import json
import os
import random
import subprocess

import pytest

import securehelp as sh
from test_replication import BASE_ARGS, in_sync, nodes, rh, stats  # noqa: F401 (fixture)

SYNC_TIMEOUT = 30


def json_value(rnd, i):
    return json.dumps({"user_id": i, "name": "user-%d" % rnd.randrange(10**6),
                       "email": "u%d@example.org" % i, "tags": ["redis", "backup", "offsite"],
                       "created": "2026-11-%02dT03:00:00Z" % (1 + i % 28), "active": i % 3 == 0})


@pytest.fixture
def keys():
    d = sh.key_dir()
    return {"master": sh.NodeKey(d, "master"), "replica": sh.NodeKey(d, "replica"),
            "other": sh.NodeKey(d, "other"), "dir": d}


def start_pair(nodes, keys, master_extra=(), replica_extra=()):
    sport = sh.harness.free_port()
    master = nodes.start(*sh.master_args(keys["master"], sport, allow=[(keys["replica"], "offsite")],
                                         extra=master_extra))
    return master, sport


def start_replica(nodes, keys, sport, *extra):
    return nodes.start(*sh.replica_args(keys["replica"], keys["master"], sport), *extra)


def load(master, n, seed=1):
    rnd = random.Random(seed)
    c = master.client()
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("user:%d" % i, json_value(rnd, i))
    for cmd in rh.every_type_commands(rnd, "t", 200, 600000):
        p.execute_command(*cmd)
    p.execute()


def test_full_sync_stream_and_stats_through_the_channel(nodes, keys):
    master, sport = start_pair(nodes, keys)
    load(master, 20000)
    replica = start_replica(nodes, keys, sport)
    in_sync(master, replica, "full sync through the channel")
    # The stream follows, through the same channel.
    c = master.client()
    for i in range(200):
        c.set("after:%d" % i, json_value(random.Random(i), i))
    c.hset("h", mapping={"a": "1", "b": "2"})
    in_sync(master, replica, "stream through the channel")
    assert replica.client().get("after:199") == c.get("after:199")

    rs = sh.info_secure(replica.client())
    assert rs["secure_master_link"] == "channel"
    assert rs["secure_handshakes_done"] == 1
    ms = sh.info_secure(master.client())
    assert ms["secure_handshakes_done"] == 1
    assert ms["secure_connected_peers"] == 1
    assert ms["peer0"]["label"] == "offsite"
    # JSON compresses: the master sent far fewer bytes than it replicated.
    assert float(ms["secure_compression_ratio"]) > 2.0, ms
    assert ms["secure_bytes_sent_before_compression"] > 2 * ms["secure_bytes_sent_on_wire"]
    # Both sides count the same bytes from their own end.
    assert rs["secure_bytes_received_on_wire"] <= ms["secure_bytes_sent_on_wire"]
    assert "RDB strings go without LZF" in master.log_tail(200)
    # The replica's own link is the channel: the master's plain port saw no PSYNC.
    assert stats(master)["sync_full"] == 1


def test_partial_resync_after_a_cut_reconnects_through_a_new_handshake(nodes, keys):
    master, sport = start_pair(nodes, keys)
    load(master, 2000)
    replica = start_replica(nodes, keys, sport)
    in_sync(master, replica, "first sync")
    before = stats(master)
    assert replica.client().execute_command("CLIENT", "KILL", "TYPE", "master") >= 1
    master.client().set("during", "the cut")
    in_sync(master, replica, "after the cut")
    after = stats(master)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
    assert after["sync_full"] == before["sync_full"]
    assert replica.client().get("during") == b"the cut"
    rh.wait_for(lambda: sh.info_secure(master.client())["secure_handshakes_done"] == 2, 10,
                "second handshake counted")


def test_secure_allow_follows_config_set(nodes, keys):
    master, sport = start_pair(nodes, keys)
    replica = start_replica(nodes, keys, sport)
    rh.wait_link_up(replica, timeout=SYNC_TIMEOUT)
    mc = master.client()
    # Revoke: later handshakes are refused, and the log names the key.
    mc.config_set("secure-allow", keys["other"].public + " someone-else")
    assert mc.config_get("secure-allow")["secure-allow"] == \
        keys["other"].public + " someone-else"
    mc.execute_command("CLIENT", "KILL", "TYPE", "replica")
    rh.wait_for(lambda: "public key %s is not in secure-allow" % keys["replica"].public
                in master.log_tail(100), 15, "refusal logged with the key")
    assert replica.repl()["master_link_status"] == "down"
    assert sh.info_secure(mc)["secure_handshakes_rejected"] >= 1
    # Allow it again: the replica comes back by itself.
    mc.config_set("secure-allow", keys["replica"].public + " offsite")
    rh.wait_link_up(replica, timeout=SYNC_TIMEOUT)
    mc.set("back", "1")
    in_sync(master, replica, "after re-allowing")


def test_bad_directive_values_are_refused(nodes, keys):
    master, _ = start_pair(nodes, keys)
    c = master.client()
    with pytest.raises(Exception, match="not a public key"):
        c.config_set("secure-allow", "not-a-key label")
    with pytest.raises(Exception, match="secure-max-bandwidth"):
        c.config_set("secure-max-bandwidth", "fast")
    c.config_set("secure-max-bandwidth", "8mbit")
    assert c.config_get("secure-max-bandwidth")["secure-max-bandwidth"] == "8mbit"
    assert sh.info_secure(c)["secure_max_bandwidth_bytes"] == 1000000
    with pytest.raises(Exception, match="immutable|can't set"):
        c.config_set("secure-port", "1")


def run_cairn(*args):
    return subprocess.run([sh.harness.cairn_bin(), "server", "--port", "0", "--save", "",
                           *args], capture_output=True, text=True, timeout=30)


def test_startup_refuses_loose_key_files_and_missing_keys(keys, tmp_path):
    loose = tmp_path / "loose.key"
    loose.write_text(open(keys["master"].path).read())
    os.chmod(loose, 0o644)
    r = run_cairn("--secure-port", "0", "--secure-private-key", str(loose))
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert str(loose) in out and "chmod 600" in out, out
    r = run_cairn("--secure-port", str(sh.harness.free_port()))
    assert r.returncode != 0
    assert "secure-private-key" in r.stdout + r.stderr
    r = run_cairn("--replicaof", "127.0.0.1", "1", "--secure-master-public-key",
                  keys["master"].public)
    assert r.returncode != 0
    assert "secure-private-key" in r.stdout + r.stderr


def test_genkey_and_pubkey_are_wg_compatible_text():
    b = sh.harness.cairn_bin()
    priv = subprocess.run([b, "genkey"], capture_output=True, text=True, check=True).stdout
    assert len(priv.strip()) == 44 and priv.strip().endswith("=")
    pub1 = subprocess.run([b, "pubkey"], input=priv, capture_output=True, text=True, check=True)
    pub2 = subprocess.run([b, "pubkey"], input=priv, capture_output=True, text=True, check=True)
    assert pub1.stdout == pub2.stdout and len(pub1.stdout.strip()) == 44
    assert pub1.stdout.strip() != priv.strip()
    # RFC 7748 section 6.1: Alice's key pair, as `wg pubkey` prints it.
    alice = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
    r = subprocess.run([b, "pubkey"], input=alice + "\n", capture_output=True, text=True)
    assert r.stdout.strip() == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
    bad = subprocess.run([b, "pubkey"], input="garbage\n", capture_output=True, text=True)
    assert bad.returncode != 0 and "key" in bad.stderr
