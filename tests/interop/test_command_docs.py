# COMMAND and its subcommands against stock Redis 7.0: COMMAND INFO's arity, flags
# and key positions for every command both servers know, COMMAND DOCS rendered the
# way redis-cli renders it, GETKEYS/LIST/HELP replies, and redis-cli's own `help`.
import re
import shutil
import subprocess

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def s(x):
    return x.decode() if isinstance(x, bytes) else x


def port_of(diff, which):
    srv = diff.cairn_srv if which == "cairn" else diff.redis_srv
    port = getattr(srv, "port", None)
    if port is None:
        client = diff.cairn if which == "cairn" else diff.redis
        port = client.connection_pool.connection_kwargs["port"]
    return port


def pairs(flat):
    return dict(zip((s(k) for k in flat[::2]), flat[1::2]))


def info_table(diff, which):
    """name -> (arity, flags, first, last, step) for commands and subcommands."""
    out = {}

    def add(e):
        name, arity, flags, first, last, step = e[:6]
        out[s(name)] = (arity, sorted(s(f) for f in flags), first, last, step)
        for sub in e[9] or []:
            add(sub)

    for e in diff.send(which, "COMMAND"):
        add(e)
    return out


def render(arg):
    """An argument map as redis-cli prints it in `help` (cliAddArgument)."""
    a = pairs(arg)
    kind, token = s(a["type"]), s(a.get("token", b""))
    flags = [s(f) for f in a.get("flags", [])]
    if kind in ("oneof", "block"):
        rep = ("|" if kind == "oneof" else " ").join(render(x) for x in a["arguments"])
    elif kind == "pure-token":
        rep = ""
    else:
        rep = s(a["name"])
    if token and kind != "pure-token":
        token += " "
    out = "[" if "optional" in flags else ""
    out += token + rep
    if "multiple" in flags:
        out += " [" + (token if "multiple_token" in flags else "") + rep + " ...]"
    return out + ("]" if "optional" in flags else "")


def docs_table(diff, which):
    """name -> (params line, group, since) for commands and subcommands."""
    out = {}

    def add(name, d):
        d = pairs(d)
        params = " ".join(render(x) for x in d.get("arguments", []))
        out[s(name)] = (params, s(d.get("group")), s(d.get("since")))
        subs = d.get("subcommands") or []
        for n, sd in pairs(subs).items():
            add(n, sd)

    for name, d in pairs(diff.send(which, "COMMAND", "DOCS")).items():
        add(name, d)
    return out


def test_command_info_matches_redis_for_every_shared_command(diff):
    cairn, stock = info_table(diff, "cairn"), info_table(diff, "redis")
    assert "get" in cairn and "command|docs" in cairn
    bad = ["%s:\n    cairn (arity, flags, first, last, step) %r\n    redis %r" %
           (name, cairn[name], stock[name])
           for name in sorted(cairn) if name in stock and cairn[name] != stock[name]]
    assert not bad, "COMMAND INFO differs for %d commands:\n  %s" % (len(bad), "\n  ".join(bad))


def test_command_docs_render_like_redis_for_every_shared_command(diff):
    cairn, stock = docs_table(diff, "cairn"), docs_table(diff, "redis")
    bad = ["%s:\n    cairn %r\n    redis %r" % (name, cairn[name], stock[name])
           for name in sorted(cairn) if name in stock and cairn[name] != stock[name]]
    assert not bad, "COMMAND DOCS differ for %d commands:\n  %s" % (len(bad), "\n  ".join(bad))


def test_command_docs_shape_of_set(diff):
    for which in ("cairn", "redis"):
        reply = pairs(diff.send(which, "COMMAND", "DOCS", "set"))
        assert list(reply) == ["set"]
        d = pairs(reply["set"])
        assert s(d["group"]) == "string" and s(d["since"]) == "1.0.0" and d["summary"]
        args = [pairs(a) for a in d["arguments"]]
        assert [s(a["name"]) for a in args[:2]] == ["key", "value"], which
        assert s(args[0]["type"]) == "key" and args[0]["key_spec_index"] == 0
        assert [s(a["type"]) for a in args] == ["key", "string", "oneof", "pure-token", "oneof"]
        # Flags are status replies inside a set: redis-cli asserts exactly that.
        assert args[2]["flags"] == [b"optional"] and type(args[2]["flags"][0]).__name__ == "Simple"
        expiry = [pairs(a) for a in args[4]["arguments"]]
        assert [s(a["token"]) for a in expiry] == ["EX", "PX", "EXAT", "PXAT", "KEEPTTL"]
        assert [s(a["type"]) for a in expiry] == [
            "integer", "integer", "unix-time", "unix-time", "pure-token"]


def test_command_docs_unknown_names_and_resp3(diff):
    diff.check("COMMAND", "DOCS", "nosuchcommand")
    reply = diff.send("cairn", "COMMAND", "DOCS", "get", "nosuch", "client|list")
    assert [s(k) for k in reply[::2]] == ["get", "client|list"]
    r3 = diff.send("cairn", "COMMAND", "DOCS", "get", proto=3)
    assert type(r3).__name__ == "Typed" and r3.kind == "Map"


def test_command_info_unknown_and_subcommands(diff):
    diff.check("COMMAND", "INFO", "nosuchcommand")
    diff.check("COMMAND", "INFO", "get|x")
    got = diff.send("cairn", "COMMAND", "INFO", "get", "nosuch", "command|count")
    assert got[1] is None
    assert got[0][:6] == [b"get", 2, [b"readonly", b"fast"], 1, 1, 1]
    assert got[2][:6] == [b"command|count", 2, [b"loading", b"stale"], 0, 0, 0]
    # Key specs as Redis 7.0 shows a plain range.
    spec = pairs(got[0][8][0])
    assert pairs(spec["begin_search"])["type"] == b"index"
    assert pairs(pairs(spec["begin_search"])["spec"]) == {"index": 1}
    assert pairs(pairs(spec["find_keys"])["spec"]) == {"lastkey": 0, "keystep": 1, "limit": 0}
    assert got[0][7] == [] and got[0][9] == []


def test_command_itself(diff):
    c = info_table(diff, "cairn")
    assert c["command"] == (-1, ["loading", "stale"], 0, 0, 0)
    assert c["command|getkeys"] == (-4, ["loading", "stale"], 0, 0, 0)
    count = diff.send("cairn", "COMMAND", "COUNT")
    assert count == len(diff.send("cairn", "COMMAND"))
    diff.check("COMMAND", "COUNT", "extra")
    diff.check("COMMAND", "NOSUCH")
    diff.check("COMMAND", "INFO", "get", "nosuch", "GET")


def test_command_getkeys(diff):
    diff.check("COMMAND", "GETKEYS", "set", "a", "b")
    diff.check("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2")
    diff.check("COMMAND", "GETKEYS", "GET", "k")
    diff.check("COMMAND", "GETKEYS", "ping")
    diff.check("COMMAND", "GETKEYS", "nosuchcommand", "x")
    diff.check("COMMAND", "GETKEYS", "get")
    diff.check("COMMAND", "GETKEYS", "get", "a", "b")
    diff.check("COMMAND", "GETKEYS", "mset", "a", "1", "b")
    diff.check("COMMAND", "GETKEYS", "lmove", "a", "b", "left", "right")
    diff.check("COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2")
    diff.check("COMMAND", "GETKEYS", "zunionstore", "d", "5", "a")
    diff.check("COMMAND", "GETKEYS", "zunion", "2", "a", "b", "WITHSCORES")
    diff.check("COMMAND", "GETKEYS", "lmpop", "2", "a", "b", "LEFT")
    diff.check("COMMAND", "GETKEYS", "blpop", "a", "b", "0")
    diff.check("COMMAND", "GETKEYS", "client", "list")
    diff.check("COMMAND", "GETKEYS")


def test_command_getkeysandflags(diff):
    for args in (("set", "a", "b"), ("get", "x"), ("mset", "a", "1", "b", "2")):
        rc, rr = diff.both("COMMAND", "GETKEYSANDFLAGS", *args)
        assert [k for k, _ in rc] == [k for k, _ in rr]
        for k, flags in rc:
            assert set(flags) & {b"RO", b"RW", b"OW", b"RM"}, flags
    rc = diff.send("cairn", "COMMAND", "GETKEYSANDFLAGS", "get", "x")
    assert rc == [[b"x", [b"RO", b"access"]]]
    diff.check("COMMAND", "GETKEYSANDFLAGS", "ping")
    diff.check("COMMAND", "GETKEYSANDFLAGS", "get")


def test_command_list(diff):
    cairn = set(diff.send("cairn", "COMMAND", "LIST"))
    stock = set(diff.send("redis", "COMMAND", "LIST"))
    assert {b"get", b"command", b"command|docs"} <= cairn
    assert len(cairn) == diff.send("cairn", "COMMAND", "COUNT") + sum(
        len(e[9]) for e in diff.send("cairn", "COMMAND"))
    for args in (("PATTERN", "z*"), ("PATTERN", "command|*"), ("ACLCAT", "string"),
                 ("ACLCAT", "nosuchcategory"), ("MODULE", "nosuchmodule")):
        got = set(diff.send("cairn", "COMMAND", "LIST", "FILTERBY", *args))
        want = set(diff.send("redis", "COMMAND", "LIST", "FILTERBY", *args))
        assert got == want & cairn, args
    assert set(diff.send("cairn", "COMMAND", "LIST", "FILTERBY", "ACLCAT", "string")) and (
        b"get" in set(diff.send("cairn", "COMMAND", "LIST", "FILTERBY", "aclcat", "STRING")))
    assert stock  # both answered
    diff.check("COMMAND", "LIST", "FILTERBY")
    diff.check("COMMAND", "LIST", "FILTERBY", "pattern")
    diff.check("COMMAND", "LIST", "FILTERBY", "nosuch", "x")
    diff.check("COMMAND", "LIST", "nosuch")
    diff.check("COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "extra")


def test_command_help(diff):
    rc, rr = diff.both("COMMAND", "HELP")
    assert rc[0] == rr[0]
    assert rc[-2:] == rr[-2:]
    words = [bytes(line).split(b" ")[0] for line in rc if not line.startswith(b" ")]
    assert {b"COUNT", b"LIST", b"INFO", b"DOCS", b"GETKEYS", b"GETKEYSANDFLAGS"} <= set(words)


# --- redis-cli ---------------------------------------------------------------

def cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), "--no-raw", *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return ANSI.sub("", out.stdout).replace("\r", "")


def command_lines(text):
    """The '  NAME params' lines of redis-cli's help output."""
    return [line.strip() for line in text.splitlines()
            if line.startswith("  ") and not line.strip().startswith(("summary:", "since:",
                                                                       "group:"))]


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_help_for_a_command(diff):
    cport, rport = port_of(diff, "cairn"), port_of(diff, "redis")
    for cmd in (["set"], ["zadd"], ["lpos"], ["command", "info"]):
        got, want = cli(cport, "help", *cmd), cli(rport, "help", *cmd)
        assert command_lines(got) == command_lines(want), cmd
        assert "summary:" in got and "since:" in got and "group:" in got
    got = command_lines(cli(cport, "help", "set"))
    assert got[0].startswith("SET key value [NX|XX] [GET] [EX seconds|PX milliseconds")


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_help_for_a_group(diff):
    cport, rport = port_of(diff, "cairn"), port_of(diff, "redis")
    got = command_lines(cli(cport, "help", "@string"))
    want = set(command_lines(cli(rport, "help", "@string")))
    assert "SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|" \
           "PXAT unix-time-milliseconds|KEEPTTL]" in got
    assert "GET key" in got
    missing = [line for line in got if line not in want]
    assert not missing, "lines redis-cli prints for Cairn but not for Redis: %r" % missing


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_command_count(diff):
    cport = port_of(diff, "cairn")
    out = cli(cport, "COMMAND", "COUNT").strip()
    assert re.fullmatch(r"\(integer\) \d+", out), out
    assert int(out.split()[1]) == diff.send("cairn", "COMMAND", "COUNT")
