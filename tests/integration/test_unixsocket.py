# unixsocket / unixsocketperm: the node listens on a unix socket as well as TCP, with
# the permissions asked for, replacing a stale socket file and removing it at shutdown;
# clients on it are named "<path>:0" (as stock Redis 7.0 names them), skip protected
# mode (local by construction) and count toward maxclients. A path it cannot bind
# stops startup with Redis's message.
import os
import socket
import stat
import subprocess
import tempfile

import redis


def unix_client(path):
    return redis.Redis(unix_socket_path=path, socket_timeout=5)


def test_serves_on_the_socket_with_its_permissions(start_cairn):
    d = tempfile.mkdtemp(prefix="cairn-unix-")
    path = os.path.join(d, "cairn.sock")
    srv = start_cairn("--unixsocket", path, "--unixsocketperm", "700")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert mode == 0o700, oct(mode)
    c = unix_client(path)
    try:
        assert c.ping()
        c.set("through", "unix")
        assert srv.client().get("through") == b"unix"  # the same node over TCP
        me = [x for x in c.client_list() if x["cmd"] == "client|list"]
        assert me and me[0]["addr"] == path + ":0" and me[0]["laddr"] == path + ":0", me
    finally:
        c.close()
    srv.stop()
    assert not os.path.exists(path), "the socket file outlived the node"


def test_protected_mode_does_not_apply_and_maxclients_does(start_cairn):
    d = tempfile.mkdtemp(prefix="cairn-unix-")
    path = os.path.join(d, "cairn.sock")
    start_cairn("--unixsocket", path, "--protected-mode", "yes", "--maxclients", "2")
    a, b = unix_client(path), unix_client(path)
    try:
        assert a.ping() and b.ping()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(path)
        assert s.recv(100).startswith(b"-ERR max number of clients reached")
        s.close()
    finally:
        a.close()
        b.close()


def test_a_stale_socket_file_is_replaced(start_cairn):
    d = tempfile.mkdtemp(prefix="cairn-unix-")
    path = os.path.join(d, "cairn.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a socket file nobody listens on, as a killed node leaves
    stale.close()
    start_cairn("--unixsocket", path)
    c = unix_client(path)
    try:
        assert c.ping()
    finally:
        c.close()


def test_an_unusable_path_stops_startup(tmp_path):
    path = str(tmp_path / "missing-dir" / "cairn.sock")
    binary = os.environ.get("CAIRN_BIN", os.path.join(os.path.dirname(__file__), "..", "..",
                                                      "build", "cairn"))
    p = subprocess.run([binary, "server", "--port", "0", "--unixsocket", path], timeout=20,
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert "Failed opening Unix socket " + path in p.stdout + p.stderr
