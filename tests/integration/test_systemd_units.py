# The unit files in systemd/ pass `systemd-analyze verify` (with ExecStart pointed at
# this build's binary, since /usr/bin/cairn is where a package puts it), declare
# Type=notify with `--supervised systemd` (test_supervised.py checks the node's side of
# that protocol), and a deliberately broken copy fails the same check, so the check can
# fail. Skips where systemd-analyze is not installed.
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, cairn_bin

UNITS = ["cairn.service", "cairn@.service", "cairn-snapshot.service", "cairn-snapshot.timer"]


def verify(directory, names):
    paths = []
    for n in names:
        # A template is verified through an instance of it.
        p = os.path.join(directory, n.replace("@.", "@test."))
        if p != os.path.join(directory, n):
            shutil.copy(os.path.join(directory, n), p)
        paths.append(p)
    return subprocess.run(["systemd-analyze", "verify"] + paths, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def units(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for n in UNITS:
        text = open(os.path.join(REPO, "systemd", n)).read()
        (tmp_path / n).write_text(text.replace("/usr/bin/cairn", cairn_bin()))
    return tmp_path


def test_units_verify(units):
    r = verify(str(units), UNITS)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_nodes_are_notify_units_with_supervision_on(units):
    for n in ("cairn.service", "cairn@.service"):
        text = (units / n).read_text()
        assert re.search(r"^Type=notify$", text, re.M), n
        exec_start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
        assert "--supervised systemd" in exec_start, exec_start
        for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                          "ProtectHome=yes", "CapabilityBoundingSet=\n",
                          "MemoryDenyWriteExecute=yes"):
            assert hardening in text, (n, hardening)
    assert "/etc/cairn/%i.conf" in (units / "cairn@.service").read_text()


def test_a_broken_unit_fails_verification(units):
    text = (units / "cairn.service").read_text()
    (units / "cairn.service").write_text(text.replace("Type=notify", "Type=notifyish"))
    r = verify(str(units), ["cairn.service"])
    assert r.returncode != 0 or "notifyish" in r.stderr, r
