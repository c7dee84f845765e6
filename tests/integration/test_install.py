# `cmake --install` of the build that made CAIRN_BIN, staged with DESTDIR into a temp
# directory: the layout (exactly the expected files, so nothing from tests/ or Catch2
# leaks in), units that name the installed binary and config, and the example config
# packaging/cairn.conf as the installed binary loads it. The example must keep up with
# the directive table: every name CONFIG GET * reports needs a line in it, every line
# in it must be a directive the node accepts, and its commented-out values must be the
# real defaults (uncommenting them all changes no CONFIG GET value).
#
# DESTDIR, not --prefix: the units and the config directory are fixed when CMake
# configures (cmake/install.cmake), so `--prefix` at install time would move the files
# without the paths written in them. The build dir is the directory of CAIRN_BIN.
import collections
import os
import re
import shlex
import shutil
import stat
import subprocess

import pytest

from conftest import REPO, Server, _Starter, cairn_bin, free_port

UNITS = ["cairn.service", "cairn@.service", "cairn-snapshot.service", "cairn-snapshot.timer"]
EXAMPLE = os.path.join(REPO, "packaging", "cairn.conf")
# Accepted in a file but not directives CONFIG knows: kept for the server, or ignored
# leftovers of older Redis versions (node/config/config.cc, Config::ApplyLine).
FILE_ONLY = {"include", "rename-command", "user"}
IGNORED = {"list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"}
# Hidden directives: absent from CONFIG GET *, answered by their exact name.
HIDDEN = {"rdb-key-save-delay", "key-load-delay", "loading-process-events-interval-bytes",
          "watchdog-period", "use-exit-on-panic"}
# What the test changes on the shipped config (see shipped_node).
OVERRIDDEN = {"port", "dir"}

# `name value` (active) or `# name value` (commented out; exactly one space after #).
LINE = re.compile(r"^(# )?([a-z][a-z0-9_-]*)(?:[ \t]+(.*))?$")
OLD_NAMES = re.compile(r"^# Old names?, still accepted: (.*)$")


def cache_value(build_dir, name):
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^%s:[A-Z]+=(.*)$" % re.escape(name), line.rstrip("\n"))
            if m:
                return m.group(1)
    return None


def sysconfdir(prefix, rel):
    """CMAKE_INSTALL_FULL_SYSCONFDIR as GNUInstallDirs computes it."""
    if os.path.isabs(rel):
        return rel
    if prefix in ("/", "/usr"):
        return "/" + rel
    if prefix.startswith("/opt/"):
        return "/" + rel + prefix
    return os.path.join(prefix, rel)


def under(prefix, rel):
    return rel if os.path.isabs(rel) else os.path.join(prefix, rel)


class Install:
    def __init__(self, root, build_dir):
        self.root = root
        prefix = cache_value(build_dir, "CMAKE_INSTALL_PREFIX")
        self.prefix = prefix
        self.binary = os.path.join(under(prefix, cache_value(build_dir, "CMAKE_INSTALL_BINDIR")),
                                   "cairn")
        self.confdir = os.path.join(
            sysconfdir(prefix, cache_value(build_dir, "CMAKE_INSTALL_SYSCONFDIR")), "cairn")
        self.conf = os.path.join(self.confdir, "cairn.conf")
        self.unitdir = under(prefix, cache_value(build_dir, "CAIRN_SYSTEMD_UNITDIR"))
        self.docdir = under(prefix, cache_value(build_dir, "CMAKE_INSTALL_DOCDIR"))
        self.sysusers = os.path.join(prefix, "lib", "sysusers.d", "cairn.conf")
        self.tmpfiles = os.path.join(prefix, "lib", "tmpfiles.d", "cairn.conf")

    def path(self, p):
        """Where the final path p is in the staged tree."""
        return self.root + p

    def files(self):
        out = set()
        for d, _, names in os.walk(self.root):
            for n in names:
                out.add(os.path.join(d, n)[len(self.root):])
        return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    build_dir = os.path.dirname(cairn_bin())
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        pytest.skip("CAIRN_BIN is not in a CMake build directory")
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    root = str(tmp_path_factory.mktemp("destdir"))
    r = subprocess.run(["cmake", "--install", build_dir], env=dict(os.environ, DESTDIR=root),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return Install(root, build_dir)


def test_the_install_tree_holds_exactly_the_packaged_files(installed):
    i = installed
    docs = sorted(n for n in os.listdir(os.path.join(REPO, "docs")) if n.endswith(".md"))
    expected = {i.binary, i.conf, i.sysusers, i.tmpfiles,
                os.path.join(i.docdir, "README.md")}
    expected |= {os.path.join(i.unitdir, u) for u in UNITS}
    expected |= {os.path.join(i.docdir, "docs", d) for d in docs}
    got = i.files()
    # Test binaries, Catch2 or anything else showing up here fails with its path.
    assert got == expected, {"unexpected": sorted(got - expected),
                             "missing": sorted(expected - got)}

    st = os.stat(i.path(i.binary))
    assert stat.S_ISREG(st.st_mode) and st.st_mode & 0o111
    # The config may come to hold passwords: never world-readable.
    assert stat.S_IMODE(os.stat(i.path(i.conf)).st_mode) == 0o640
    assert open(i.path(i.conf)).read() == open(EXAMPLE).read()
    for d in docs:
        assert open(i.path(os.path.join(i.docdir, "docs", d))).read() == \
            open(os.path.join(REPO, "docs", d)).read()


def test_installed_units_name_the_installed_binary_and_config(installed):
    i = installed
    for u in UNITS:
        text = open(i.path(os.path.join(i.unitdir, u))).read()
        if u.endswith(".service"):
            exec_start = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
            assert exec_start == i.binary, (u, exec_start)
        if i.prefix != "/usr":
            # Only the Debian layout may name /usr/bin or /etc/cairn.
            assert "/usr/bin/cairn" not in text and "/etc/cairn" not in text.replace(
                i.confdir, ""), u
    assert re.search(r"^ExecStart=\S+ server %s " % re.escape(i.conf),
                     open(i.path(os.path.join(i.unitdir, "cairn.service"))).read(), re.M)
    assert "%s/%%i.conf" % i.confdir in open(
        i.path(os.path.join(i.unitdir, "cairn@.service"))).read()
    sysusers = open(i.path(i.sysusers)).read()
    assert re.search(r"^u cairn - .* /var/lib/cairn$", sysusers, re.M), sysusers
    tmpfiles = open(i.path(i.tmpfiles)).read()
    assert re.search(r"^d /var/lib/cairn +0750 cairn +cairn", tmpfiles, re.M), tmpfiles
    assert re.search(r"^d %s +0750 cairn +cairn" % re.escape(i.confdir), tmpfiles, re.M), tmpfiles


def test_installed_units_verify(installed, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    i = installed
    # As test_systemd_units.py: copies whose ExecStart names the staged binary (the
    # final path does not exist on this machine), a template through an instance.
    paths = []
    for u in UNITS:
        text = open(i.path(os.path.join(i.unitdir, u))).read()
        p = tmp_path / u.replace("@.", "@test.")
        p.write_text(text.replace(i.binary, i.path(i.binary)))
        paths.append(str(p))
    r = subprocess.run(["systemd-analyze", "verify"] + paths, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


# --- the example config ------------------------------------------------------------


def parse_example(text, known):
    """(active, commented, old_names): active and commented are lists of
    (name, value, line index). A commented `# word ...` line is a directive when the
    word is a known name or looks like one (has a '-' or '_'); other such lines are
    prose. Indented `#   name value` lines are examples, never directives."""
    active, commented, old = [], [], set()
    for n, line in enumerate(text.splitlines()):
        m = OLD_NAMES.match(line)
        if m:
            old |= set(re.findall(r"`([a-z0-9_-]+)`", m.group(1)))
            continue
        m = LINE.match(line)
        if not m:
            continue
        hashed, name, value = m.group(1), m.group(2), m.group(3) or ""
        if not hashed:
            active.append((name, value, n))
        elif name in known or re.search(r"[-_]", name):
            commented.append((name, value, n))
    return active, commented, old


def config_map(client, pattern="*"):
    raw = client.execute_command("CONFIG", "GET", pattern)
    if isinstance(raw, dict):
        items = raw.items()
    else:
        items = zip(raw[0::2], raw[1::2])
    return {k.decode(): v.decode() for k, v in items}


@pytest.fixture(scope="module")
def nodes(installed, tmp_path_factory):
    """Starts the installed binary with a copy of the installed config; returns a
    function so the tests can start one with other text. All are stopped (by PID) at
    the end of the module."""
    starter = _Starter()
    workdir = str(tmp_path_factory.mktemp("nodes"))

    def start(text, name):
        data = os.path.join(workdir, name)
        os.makedirs(data)
        # `dir` is checked as the file loads (Redis does the same), so the one active
        # dir line must point at a directory that exists; everything else stays.
        lines = text.splitlines()
        dirs = [n for n, l in enumerate(lines) if l.startswith("dir ")]
        assert len(dirs) == 1, "expected one active dir line"
        lines[dirs[0]] = "dir " + data
        conf = os.path.join(workdir, name + ".conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        port = free_port()
        srv = Server(installed.path(installed.binary), [conf, "--port", str(port)],
                     os.path.join(workdir, name + ".log"), port, workdir)
        starter.servers.append(srv)
        return srv.start()

    yield start
    reports = starter.stop_all()
    if reports:
        pytest.fail("sanitizer report in server log:\n" + "\n".join(reports))


@pytest.fixture(scope="module")
def shipped(installed, nodes):
    text = open(installed.path(installed.conf)).read()
    srv = nodes(text, "shipped")
    c = srv.client()
    yield text, c, config_map(c)
    c.close()


def test_the_shipped_config_loads_and_serves(shipped):
    text, c, cfg = shipped
    assert c.ping() is True
    active, _, _ = parse_example(text, set(cfg))
    names = [a[0] for a in active]
    for must in ("bind", "protected-mode", "port", "daemonize", "supervised", "logfile", "dir"):
        assert must in names, must
    for name, value, _ in active:
        if name in OVERRIDDEN:
            continue
        assert cfg[name] == " ".join(shlex.split(value)), (name, value, cfg[name])
    assert cfg["bind"] == "127.0.0.1 -::1" and cfg["protected-mode"] == "yes"
    assert cfg["logfile"] == "" and cfg["daemonize"] == "no"


def test_every_directive_has_a_line_and_every_line_is_a_directive(shipped):
    text, c, cfg = shipped
    hidden = {h for h in HIDDEN if h in config_map(c, h)}
    assert hidden == HIDDEN, "hidden directives the node no longer answers: %s" % (
        HIDDEN - hidden)
    accepted = set(cfg) | HIDDEN | FILE_ONLY | IGNORED
    active, commented, old = parse_example(text, accepted)
    written = {name for name, _, _ in active + commented}

    unknown = sorted((written | old) - accepted)
    assert not unknown, "packaging/cairn.conf has lines for names the node refuses: %s" % unknown
    missing = sorted(set(cfg) - written - old)
    assert not missing, ("directives without a line in packaging/cairn.conf (add one, "
                         "commented out at its default): %s" % missing)
    assert not (HIDDEN | FILE_ONLY | IGNORED) - written
    # An alias goes in an "Old name" comment, not on a line of its own.
    assert not written & old, sorted(written & old)
    # One line per directive; client-output-buffer-limit has one per client class.
    counts = collections.Counter(name for name, _, _ in active + commented)
    twice = sorted(n for n, k in counts.items() if k > 1 and n != "client-output-buffer-limit")
    assert not twice, "directives written more than once: %s" % twice


def test_uncommenting_the_defaults_changes_nothing(shipped, nodes):
    # Every `# name value` line claims to be the default: a node started with all of
    # them uncommented (placeholders like <password> left out) must report the same
    # values as the shipped file. This also proves each of those lines parses.
    text, c, cfg = shipped
    accepted = set(cfg) | HIDDEN | FILE_ONLY | IGNORED
    _, commented, _ = parse_example(text, accepted)
    lines = text.splitlines()
    uncommented = []
    for name, value, n in commented:
        if "<" in value:
            continue
        lines[n] = lines[n][2:]
        uncommented.append(name)
    assert len(uncommented) > 150, uncommented
    srv = nodes("\n".join(lines), "uncommented")
    c2 = srv.client()
    cfg2 = config_map(c2)
    diff = {k: (cfg[k], cfg2.get(k)) for k in cfg if k not in OVERRIDDEN and cfg[k] != cfg2.get(k)}
    assert not diff, "commented-out values that are not the defaults: %s" % diff
    for h in HIDDEN:
        assert config_map(c, h) == config_map(c2, h), h
    c2.close()
