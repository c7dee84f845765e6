# The tutorials' replication disaster: a master without persistence restarts empty
# and its replica, which still holds the data, fully resyncs from the empty dataset.
# Redis does this silently; Cairn must say it loudly on both sides (backup mode adds
# a guard snapshot on top). The replica's behaviour itself stays Redis's.
from conftest import wait_for


def link_up(client):
    info = client.info("replication")
    return info.get("master_link_status") == "up" and info.get("master_sync_in_progress") == 0


def test_master_restarted_empty_is_reported_loudly_on_both_sides(start_cairn):
    master = start_cairn("--repl-diskless-sync-delay", "0")
    m = master.client()
    for i in range(200):
        m.set("k%d" % i, "v%d" % i)
    replica = start_cairn("--replicaof", "127.0.0.1", str(master.port))
    r = replica.client()
    wait_for(lambda: link_up(r) and r.dbsize() == 200, 20, "the replica to sync 200 keys")
    # A write after the sync gives the replica history beyond offset 1 (a history that
    # ends at offset 1 is what a fresh node offers: the master does not warn for it).
    m.set("k199", "v199")
    wait_for(lambda: r.info("replication")["slave_repl_offset"] > 1, 20, "the stream")

    # The master dies and comes back on the same port with nothing (save "" and no AOF).
    port = master.port
    master.stop()
    master2 = start_cairn("--port", str(port), "--repl-diskless-sync-delay", "0")
    wait_for(lambda: link_up(r) and r.dbsize() == 0, 20, "the replica to resync from the empty master")

    assert "WARNING: the master sent an EMPTY dataset and this replica held 200 keys" in \
        replica.log_text()
    assert "has replication history" in master2.log_text()
    assert "EMPTY dataset and no persistence" in master2.log_text()
    # A replica without history (PSYNC ? -1) is an ordinary first sync: no warning.
    fresh = start_cairn("--replicaof", "127.0.0.1", str(port))
    wait_for(lambda: link_up(fresh.client()), 20, "a fresh replica to sync")
    assert master2.log_text().count("has replication history") == 1
