# `cairn snapshot list|verify|prune` on a snapshot directory, offline (--dir; against
# a running node: tests/integration/test_backup_cli.py): RDB files written by stock
# redis-server 7.0 under snapshot names, one of them damaged, one stray file. list
# shows them unverified; verify parses each (CRC64 included), counts keys and records
# the outcome in a manifest, failing on the damaged one; prune --dry-run changes
# nothing; prune removes what the rules drop and never the newest verified snapshot;
# what remains still loads into stock redis-server.
import os
import shutil
import subprocess
import time

import pytest

import replhelp as rh

PREFIX = "dump"


def cairn(*args):
    return subprocess.run([rh.harness.cairn_bin(), "snapshot", *args], capture_output=True,
                          text=True, timeout=120)


def name_at(ts):
    return time.strftime("dump-%Y%m%dT%H%M%SZ.rdb", time.gmtime(ts))


@pytest.fixture
def snapdir(cluster, tmp_path):
    """Five snapshots from a stock Redis (different key counts), one damaged copy."""
    src = cluster.start("redis")
    d = tmp_path / "snapshots"
    d.mkdir()
    base = 1795000000  # 2026-11-18
    names = []
    for i in range(5):
        src.must("SET", "k%d" % i, "v" * 100)
        src.must("SAVE")
        ts = base + i * 86400
        shutil.copy(os.path.join(src.srv.workdir, "dump.rdb"), d / name_at(ts))
        names.append(name_at(ts))
    # The newest one is damaged: a byte in the middle flipped.
    newest = d / names[-1]
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    (d / "notes.txt").write_text("not a snapshot")
    return d, names


def test_list_verify_prune(snapdir, cluster):
    d, names = snapdir
    r = cairn("list", "--dir", str(d))
    assert r.returncode == 0, r.stderr
    for n in names:
        assert n in r.stdout
    assert "notes.txt" not in r.stdout
    assert r.stdout.count("not yet") == 5
    assert "5 snapshot(s)" in r.stdout

    r = cairn("verify", "--dir", str(d))
    assert r.returncode == 1, r.stdout  # the damaged one fails
    assert "5 checked, 4 verified, 1 failed" in r.stdout
    lines = {l.split()[0]: l for l in r.stdout.splitlines() if l.startswith("dump-")}
    assert "FAILED" in lines[names[-1]]
    for i, n in enumerate(names[:-1]):
        assert "yes" in lines[n]
        assert lines[n].split()[6] == str(i + 1)  # keys column (size is "N B")
    meta = (d / (names[0] + ".meta")).read_text()
    assert "verified: yes" in meta and "keys: 1" in meta

    # Dry run: decisions printed, nothing removed.
    before = sorted(os.listdir(d))
    r = cairn("prune", "--dir", str(d), "--keep", "last 2", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(d)) == before
    assert "would remove" in r.stdout

    # keep last 2 keeps the two newest; the damaged newest does not count as the
    # newest verified one, so names[-2] (the newest verified) also stays.
    r = cairn("prune", "--dir", str(d), "--keep", "last 1")
    assert r.returncode == 0, r.stderr
    left = sorted(f for f in os.listdir(d) if f.endswith(".rdb"))
    assert left == sorted([names[-1], names[-2]]), r.stdout
    assert not (d / (names[0] + ".meta")).exists()
    assert "newest verified" in r.stdout

    # The remaining verified snapshot restores into stock Redis.
    restore = cluster.start("redis", "--dbfilename", names[-2], "--dir", str(d), plain=True)
    assert restore.call("DBSIZE") == 4


def test_bad_arguments_are_clear(tmp_path):
    # Without --dir the tool asks a running node; with none there, it points to --dir.
    r = cairn("list", "-p", str(rh.harness.free_port()))
    assert r.returncode != 0 and "Connection refused" in r.stderr and "--dir" in r.stderr
    r = cairn("list", "--dir", str(tmp_path / "missing"))
    assert r.returncode != 0 and "missing" in r.stderr
    r = cairn("prune", "--dir", str(tmp_path), "--keep", "fortnightly 2")
    assert r.returncode != 0 and "unknown rule" in r.stderr
    r = cairn("frobnicate", "--dir", str(tmp_path))
    assert r.returncode != 0 and "unknown action" in r.stderr
    assert cairn("--help").returncode == 0
