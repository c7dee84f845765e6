# The commands in README.md and docs/*.md do what the pages say (mdrun.py has the
# rules): every console block runs in a sandbox and its output is compared with the
# page, every configuration fragment names directives the node accepts, host-only
# commands are at least the tools the page claims, and every fenced block is labelled
# so nothing slips past unchecked.
import glob
import os
import re
import shlex
import subprocess

import pytest

import mdrun
from conftest import REPO, Server, cairn_bin, free_port

DOCS = ["README.md"] + sorted(os.path.relpath(p, REPO)
                              for p in glob.glob(os.path.join(REPO, "docs", "*.md")))
KINDS = ("console", "conf", "sh") + mdrun.UNCHECKED
# Directives a file may hold that CONFIG GET * does not list (as in Redis).
NOT_IN_CONFIG_GET = {"include", "rename-command", "user", "loadmodule", "replicaof", "slaveof",
                     "secure-allow"}


def blocks(doc):
    with open(os.path.join(REPO, doc)) as f:
        return mdrun.parse(f.read())


@pytest.mark.parametrize("doc", DOCS)
def test_every_block_says_what_it_is(doc):
    for b in blocks(doc):
        assert b.kind in KINDS + ("hidden",), \
            "%s:%d: a ``` block without a known label (%s): %r" % (doc, b.line_no, "/".join(KINDS),
                                                                   b.kind)


def run_doc(doc, tmp_path):
    session = mdrun.Session(tmp_path, cairn_bin(), free_port)
    ran = 0
    try:
        for b in blocks(doc):
            if b.kind == "conf" and "file" in b.attrs:
                session.write_file(b.attrs["file"], b.lines)
            if b.kind not in ("console", "hidden"):
                continue
            for command, expected in mdrun.commands(b):
                error = session.run(command, expected)
                ran += 1
                assert error is None, "%s:%d: %s" % (doc, b.line_no, error)
    finally:
        logs = session.close()
    for log in logs:
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in log, log[-4000:]
    return ran


RUNNABLE = [d for d in DOCS if any(b.kind in ("console", "hidden") for b in blocks(d))]


@pytest.mark.parametrize("doc", RUNNABLE)
def test_console_blocks_run_as_written(doc, tmp_path):
    assert run_doc(doc, tmp_path) > 0


def test_the_readme_walkthrough_is_run():
    # The walk-through (keys, master, backup, snapshot, FLUSHALL, promotion) is the
    # README's promise; make sure it stays a console block the runner executes.
    commands = [c for b in blocks("README.md") if b.kind == "console" for c, _ in mdrun.commands(b)]
    text = "\n".join(commands)
    for needle in ("cairn genkey", "--backup-mode yes", "cairn snapshot create", "flushall",
                   "cairn promote -p 6382 --snapshot latest"):
        assert needle in text, needle


def test_the_runner_catches_a_wrong_output(tmp_path):
    session = mdrun.Session(tmp_path, cairn_bin(), free_port)
    mdrun.RETRY_SECONDS, saved = 0.5, mdrun.RETRY_SECONDS
    try:
        assert session.run("echo hello", ["hello"]) is None
        assert session.run("echo hello", ["hel...o"]) is None
        assert session.run("printf 'a\\nb\\nc\\n'", ["a", "...", "c"]) is None
        assert "expected" in session.run("echo hello", ["goodbye"])
        assert "exit status 1" in session.run("false", [])
        # Paths and ports are mapped in the command and in the written output alike.
        assert session.run("echo /tmp/x 6379", ["/tmp/x 6379"]) is None
        assert str(tmp_path) + "/tmp/x %d" % session.ports[6379] in session.transcript[-1]
    finally:
        mdrun.RETRY_SECONDS = saved
        session.close()


def directives_accepted(start_cairn):
    node = start_cairn()
    c = node.client()
    names = set(c.config_get("*").keys())
    c.close()
    return names | NOT_IN_CONFIG_GET


def test_configuration_fragments_name_real_directives(start_cairn):
    known = directives_accepted(start_cairn)
    checked = 0
    for doc in DOCS:
        for b in blocks(doc):
            if b.kind != "conf":
                continue
            for line in b.lines:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                name = line.split()[0].lower()
                checked += 1
                assert name in known, "%s:%d: '%s' is not a directive" % (doc, b.line_no, name)
    assert checked > 20


def test_host_commands_use_the_tools_they_claim():
    for doc in DOCS:
        for b in blocks(doc):
            if b.kind != "sh":
                continue
            # Lines ending in a backslash continue the command.
            text = "\n".join(b.lines).replace("\\\n", " ")
            for line in text.split("\n"):
                words = shlex.split(line, comments=True)
                while len(words) > 1 and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                    words = words[1:]  # VAR=value before the command
                if words:
                    assert words[0] in mdrun.HOST_TOOLS, \
                        "%s:%d: `%s` belongs in a console block, where it is run" % (
                            doc, b.line_no, line.strip())


def test_scripts_run_sh_serves(tmp_path):
    # The README's first command. It builds build/, so it runs only where the binary
    # under test is build/cairn (the release stage), not against another build.
    if os.path.realpath(cairn_bin()) != os.path.realpath(os.path.join(REPO, "build", "cairn")):
        pytest.skip("CAIRN_BIN is not build/cairn")
    port = free_port()
    run_sh = Server(os.path.join(REPO, "scripts", "run.sh"),
                    ["--port", str(port), "--save", "", "--dir", str(tmp_path)],
                    str(tmp_path / "run.log"), port, str(tmp_path), cairn=False)
    try:
        run_sh.start(timeout=120)  # it may have to finish a build first
        out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True,
                             timeout=10)
        assert out.stdout.strip() == "PONG", run_sh.log_tail()
    finally:
        run_sh.stop()
