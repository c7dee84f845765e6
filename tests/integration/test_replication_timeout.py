# repl-timeout on the master side after a diskless full sync: a replica that takes the
# RDB and then never sends REPLCONF ACK is dropped after repl-timeout (Redis 7.0 starts
# the clock when the transfer ends), while one that keeps sending bare newlines (what a
# replica loading a large RDB does) is kept. The replica here is a raw socket that
# speaks just enough of the protocol.
import socket
import time

import pytest


def command(sock, *args):
    sock.sendall(("*%d\r\n" % len(args) +
                  "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())


def take_full_sync(port):
    """A replica socket that has read the whole diskless RDB and said nothing since."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    for args in (("PING",), ("REPLCONF", "listening-port", "1"),
                 ("REPLCONF", "capa", "eof", "capa", "psync2")):
        command(s, *args)
        assert f.readline().startswith((b"+PONG", b"+OK"))
    command(s, "PSYNC", "?", "-1")
    line = f.readline()
    while line == b"\n":
        line = f.readline()
    assert line.startswith(b"+FULLRESYNC"), line
    header = f.readline()
    while header == b"\n":
        header = f.readline()
    assert header.startswith(b"$EOF:"), header
    mark = header.strip()[5:]
    data = b""
    deadline = time.monotonic() + 10
    while not data.endswith(mark) and time.monotonic() < deadline:
        data += f.read1(65536)
    assert data.endswith(mark)
    return s


def connected_replicas(client):
    return int(client.info("replication")["connected_slaves"])


@pytest.mark.parametrize("newlines", [False, True], ids=["silent", "newlines"])
def test_replica_without_ack_after_diskless_sync(start_cairn, newlines):
    master = start_cairn("--repl-timeout", "2", "--repl-diskless-sync", "yes",
                         "--repl-diskless-sync-delay", "0")
    c = master.client()
    c.set("k", "v")
    replica = take_full_sync(master.port)
    try:
        assert connected_replicas(c) == 1
        deadline = time.monotonic() + 5  # repl-timeout 2 plus the cron's granularity
        while time.monotonic() < deadline:
            if newlines:
                replica.sendall(b"\n")
            if connected_replicas(c) == 0:
                break
            time.sleep(0.25)
        if newlines:
            assert connected_replicas(c) == 1
        else:
            assert connected_replicas(c) == 0
            assert "Disconnecting timedout replica" in master.log_text()
    finally:
        replica.close()
        c.close()


def test_a_replica_loading_a_large_dataset_is_not_timed_out(start_cairn, start_redis, tmp_path):
    # The replica's load (100k keys slowed by key-load-delay to about 3 s) takes longer
    # than the master's repl-timeout of 1 s; its newlines while it loads keep the link.
    # Without them the master drops it and the replica starts over, forever, whenever a
    # dataset takes longer to load than repl-timeout. The dataset is made by stock
    # Redis's DEBUG POPULATE and loaded by the master.
    keys = 100000
    maker = start_redis("--enable-debug-command", "yes", "--dir", str(tmp_path))
    m = maker.client()
    m.execute_command("DEBUG", "POPULATE", str(keys), "key", "16")
    m.save()
    m.close()
    maker.stop()
    master = start_cairn("--repl-timeout", "1", "--repl-diskless-sync-delay", "0", "--dir",
                         str(tmp_path))
    c = master.client()
    assert c.dbsize() == keys
    replica = start_cairn("--replicaof", "127.0.0.1", str(master.port), "--key-load-delay", "30")
    r = replica.client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if r.info("replication")["master_link_status"] == "up" and r.dbsize() == keys:
            break
        time.sleep(0.2)
    assert r.dbsize() == keys
    time.sleep(1.5)  # a cron turn on the master after the load
    log = replica.log_text()
    assert log.count("MASTER <-> REPLICA sync: Finished with success") == 1, log[-3000:]
    assert int(c.info("stats")["sync_full"]) == 1
    assert "Disconnecting timedout replica" not in master.log_text()
    assert r.info("replication")["master_link_status"] == "up"
    c.close()
    r.close()
