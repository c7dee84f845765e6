# Runs the commands written in README.md and docs/*.md, so the docs cannot rot.
#
# Every fenced block in a document must say what it is:
#   ```console  commands to run here: `$ ` lines (a trailing `\` continues a line), each
#               followed by the output it must print. A line `...` stands for any number
#               of lines, `...` inside a line for any text. Every command must exit 0
#               (show a failure as `cmd || echo "exit status $?"`). A command ending in ` &` runs in the background
#               (a `cairn server` or `redis-server` is waited for until it is ready) and
#               is stopped when the document ends. A command whose output does not
#               match yet is run again for up to RETRY_SECONDS (replication and
#               snapshots are asynchronous), so write only commands that may repeat.
#   ```conf     a configuration fragment: every directive must be one Cairn accepts.
#               ```conf file=PATH also writes it to PATH (mapped) when the document's
#               console lines reach it, for a later line to start a node with.
#   ```sh       commands for a real host (systemctl, apt, a firewall ...): not run
#               here, but each must start with one of HOST_TOOLS.
#   ```text, ```ini, ```diff, ```cpp   illustrations, not checked.
# An HTML comment `<!-- console` ... `-->` holds console lines that run in order with
# the visible blocks but are not shown (the setup a reader already has).
#
# Commands run in a sandbox: `build/cairn` and `cairn` are the binary under test, the
# ports used in the docs map to free ports, /tmp, /etc/cairn and /var/lib/cairn map to
# directories under the test's tmp_path, and the example host names to 127.0.0.1.
# Outputs are read through a pseudo-terminal, so redis-cli prints what a reader sees
# at a terminal ("hello" in quotes, (integer) 1).
import os
import pty
import re
import select
import signal
import subprocess
import time

RETRY_SECONDS = 20.0
COMMAND_TIMEOUT = 60.0
READY_TIMEOUT = 30.0
DOC_PORTS = (6379, 6380, 6381, 6382, 6383, 16379, 16380, 16381, 16382, 26379)
HOSTS = ("home.example.org", "offsite.example.org")
HOST_TOOLS = ("systemctl", "journalctl", "apt", "apt-get", "dpkg", "sudo", "ufw", "nft",
              "iptables", "scripts/run.sh", "scripts/test.sh", "scripts/build-deb.sh",
              "scripts/cross-arm64.sh", "cmake", "ninja", "git", "cd", "cpack",
              "ssh", "scp", "wg", "wg-quick", "redis-server", "crontab", "cp", "rsync",
              "haproxy", "redis-sentinel", "install", "chown", "systemd-sysusers",
              "systemd-tmpfiles", "sysctl", "echo", "scripts/test-deb-systemd.sh")
UNCHECKED = ("text", "ini", "diff", "cpp")


class Block:
    def __init__(self, kind, lines, line_no, attrs=None):
        self.kind = kind  # console, conf, sh, text ... or "hidden" (an HTML comment)
        self.lines = lines
        self.line_no = line_no  # 1-based line of the opening fence in the file
        self.attrs = attrs or {}  # name=value words after the kind


def parse(text):
    """The fenced blocks and hidden console comments of a markdown text, in order."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^(\s*)```(\S*)((?:\s+\w+=\S+)*)\s*$", line)
        if fence:
            indent, kind = len(fence.group(1)), fence.group(2)
            attrs = dict(w.split("=", 1) for w in fence.group(3).split())
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            if i == len(lines):
                raise ValueError("line %d: the block never closes" % (i - len(body)))
            blocks.append(Block(kind, body, i - len(body), attrs))
        elif line.strip() == "<!-- console":
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                body.append(lines[i].strip())
                i += 1
            blocks.append(Block("hidden", body, start))
        i += 1
    return blocks


def commands(block):
    """[(command, [expected output lines])] of a console block."""
    out = []
    pending = None
    for line in block.lines:
        if pending is not None and pending.endswith("\\"):
            pending = pending[:-1] + " " + line.strip()
            out[-1] = (pending, [])
            continue
        if line.startswith("$ "):
            pending = line[2:]
            out.append((pending, []))
        elif out:
            out[-1][1].append(line)
            pending = None
        elif line.strip():
            raise ValueError("output before any `$ ` command: %r" % line)
    return [(c, exp) for c, exp in out]


def expected_regex(line):
    return "^" + ".*".join(re.escape(part) for part in line.rstrip().split("...")) + "$"


def matches(expected, actual):
    """Whether the output lines match the written ones (`...` lines and parts are wild)."""

    def walk(e, a):
        if e == len(expected):
            return a == len(actual)
        if expected[e].strip() == "...":
            return any(walk(e + 1, k) for k in range(a, len(actual) + 1))
        return a < len(actual) and re.match(expected_regex(expected[e]), actual[a]) is not None \
            and walk(e + 1, a + 1)

    return walk(0, 0)


class Session:
    """One document's sandbox: substitutions, background processes, a log of what ran."""

    def __init__(self, root, binary, free_port):
        self.root = str(root)
        self.binary = binary
        self.ports = {p: free_port() for p in DOC_PORTS}
        self.background = []  # (Popen, log path)
        self.transcript = []
        bindir = os.path.join(self.root, "bin")
        os.makedirs(bindir, exist_ok=True)
        os.symlink(binary, os.path.join(bindir, "cairn"))
        for d in ("tmp", "etc/cairn", "var/lib/cairn"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        self.env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
                        HOME=self.root, TERM="dumb")

    def substitute(self, text):
        text = re.sub(r"(?<![\w/.-])build/cairn\b", "cairn", text)
        for port, mapped in self.ports.items():
            text = re.sub(r"(?<![\w.])%d\b" % port, str(mapped), text)
        for path in ("/tmp", "/etc/cairn", "/var/lib/cairn"):
            text = re.sub(r"(?<![\w.])%s(?=/|\b)" % re.escape(path), self.root + path, text)
        for host in HOSTS:
            text = text.replace(host, "127.0.0.1")
        return text

    def write_file(self, path, lines):
        """A ```conf file=PATH block: its text, mapped, written to PATH (mapped)."""
        with open(self.substitute(path), "w") as f:
            f.write(self.substitute("\n".join(lines)) + "\n")
        self.transcript.append("(wrote %s)" % self.substitute(path))

    def run(self, command, expected):
        """Runs one `$` line; returns an error message, or None when it did what it says."""
        cmd = self.substitute(command)
        expected = [self.substitute(e) for e in expected]
        if cmd.rstrip().endswith("&"):
            return self._background(cmd.rstrip()[:-1])
        deadline = time.monotonic() + RETRY_SECONDS
        first = None
        while True:
            status, output = self._foreground(cmd)
            first = first or (status, output)
            self.transcript.append("$ %s\n%s" % (cmd, "\n".join(output)))
            if status == 0 and matches(expected, output) if expected else status == 0:
                return None
            if time.monotonic() > deadline:
                break
            time.sleep(0.3)
        want = "\n".join(expected) if expected else "(exit status 0)"
        again = "" if first == (status, output) else "\nthe first run: exit status %s:\n%s" % (
            first[0], "\n".join(first[1]))
        return "`%s` (ran as `%s`)\nexit status %s, output:\n%s\nexpected:\n%s%s" % (
            command, cmd, status, "\n".join(output), want, again)

    def _foreground(self, cmd):
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(["bash", "-c", cmd], stdin=subprocess.DEVNULL, stdout=slave,
                                    stderr=slave, cwd=self.root, env=self.env,
                                    start_new_session=True)
        finally:
            os.close(slave)
        chunks = []
        deadline = time.monotonic() + COMMAND_TIMEOUT
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: every writer closed the terminal
                        data = b""
                    if not data:
                        break
                    chunks.append(data)
                elif proc.poll() is not None:
                    continue  # drain what is left, then EIO ends the loop
            else:
                os.killpg(proc.pid, signal.SIGKILL)
        finally:
            os.close(master)
        status = proc.wait()
        text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
        # Blank lines around the output are not written in the docs.
        return status, [l.rstrip() for l in text.strip("\n").split("\n")] if text.strip() else []

    def _background(self, cmd):
        log_path = os.path.join(self.root, "background-%d.log" % len(self.background))
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(["bash", "-c", "exec " + cmd], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
                                    env=self.env, start_new_session=True)
        finally:
            log.close()
        self.background.append((proc, log_path))
        self.transcript.append("$ %s &" % cmd)
        if not re.search(r"\b(cairn server|redis-server)\b", cmd):
            return None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            with open(log_path, "rb") as f:
                if b"Ready to accept connections" in f.read():
                    return None
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        with open(log_path, "rb") as f:
            tail = f.read().decode("utf-8", "replace")[-3000:]
        return "`%s` did not become ready:\n%s" % (cmd, tail)

    def close(self):
        """Stops every background process by its process group; returns their logs."""
        logs = []
        for proc, log_path in self.background:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                except ProcessLookupError:
                    pass
            with open(log_path, "rb") as f:
                logs.append(f.read().decode("utf-8", "replace"))
        return logs
