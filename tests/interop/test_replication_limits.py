# The master's protection against a replica that stops reading: everything queued for
# it counts against `client-output-buffer-limit replica`, and over the hard limit the
# master drops the link instead of buffering without bound (what a slow WAN link or a
# hung peer must hit). The replica then comes back with a partial resync from the
# backlog. Cairn is the master here: stock Redis 7.0 as master did not drop the
# frozen replica within 20 s in this setup (its replica buffers are shared with a
# 64 MB backlog), so it is not an oracle for the timing; both kinds of replica are.
import pytest

import replhelp as rh

VALUE = b"x" * 100_000
WRITES = 400  # 40 MB: more than the socket and proxy buffers can hide


@pytest.mark.parametrize("rkind", ["cairn", "redis"])
def test_replica_over_its_output_limit_is_dropped_then_resyncs(cluster, rkind):
    m = cluster.start("cairn", "--client-output-buffer-limit", "replica 1mb 0 0",
                      "--repl-backlog-size", "64mb")
    p = cluster.proxy(m.port)
    r = cluster.start(rkind, "--replicaof", "127.0.0.1", p.port)
    rh.wait_in_sync(m, r, what="before the link hangs")

    p.freeze(True)
    c = m.client()
    for i in range(WRITES):
        c.set("big:%d" % (i % 50), VALUE)
    # While frozen the replica cannot get back (its new handshake stalls in the
    # proxy), so a master without replicas is a master that dropped this one.
    rh.wait_for(lambda: m.repl()["connected_slaves"] == "0", 20,
                "the master to drop the replica over its output limit",
                lambda: rh.diag_nodes(m, r))
    assert "overcoming of output buffer limits" in m.srv.log_text()
    assert m.call("PING") == "PONG"
    p.freeze(False)

    rh.wait_in_sync(m, r, timeout=30, what="after the replica came back")
    rh.assert_same_history(m, r)
