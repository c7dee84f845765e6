// Tests of the COMMAND DOCS syntax parser and the key specs derived from a
// CommandSpec: argument trees for nested oneof/block/token/multiple forms, the
// line redis-cli would print from them, and GETKEYS positions.
#include "node/commands/command_docs.h"

#include <catch2/catch.hpp>

namespace docs = cairn::cmd::docs;
using cairn::cmd::CommandSpec;
using docs::Arg;
using docs::ArgType;

namespace {

std::vector<Arg> Parse(std::string_view s) {
  std::vector<Arg> out;
  std::string err;
  INFO(s);
  REQUIRE(docs::ParseSyntax(s, &out, &err));
  CHECK(err.empty());
  return out;
}

std::string Round(std::string_view s) { return docs::RenderArgs(Parse(s)); }

CommandSpec Spec(std::string name, int arity, uint32_t flags, int first, int last, int step,
                 std::string syntax) {
  CommandSpec c;
  c.name = std::move(name);
  c.arity = arity;
  c.flags = flags;
  c.first_key = first;
  c.last_key = last;
  c.key_step = step;
  c.syntax = std::move(syntax);
  return c;
}

std::vector<std::string> Keys(const CommandSpec& c, std::vector<std::string_view> argv, bool* ok) {
  docs::CommandDocs d = docs::BuildDocs(c);
  std::vector<docs::KeyRef> refs;
  *ok = docs::FindKeys(d, argv, &refs);
  std::vector<std::string> out;
  for (const auto& r : refs) out.emplace_back(argv[r.pos]);
  return out;
}

}  // namespace

TEST_CASE("SET's syntax becomes Redis's argument tree", "[command_docs]") {
  auto a = Parse(
      "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT "
      "unix-time-milliseconds | KEEPTTL]");
  REQUIRE(a.size() == 5);
  CHECK(a[0].name == "key");
  CHECK(a[0].type == ArgType::kKey);
  CHECK(a[0].flags == 0);
  CHECK(a[1].name == "value");
  CHECK(a[1].type == ArgType::kString);
  CHECK(a[2].type == ArgType::kOneOf);
  CHECK(a[2].flags == docs::kArgOptional);
  REQUIRE(a[2].args.size() == 2);
  CHECK(a[2].args[0].type == ArgType::kPureToken);
  CHECK(a[2].args[0].token == "NX");
  CHECK(a[2].args[0].name == "nx");
  CHECK(a[3].type == ArgType::kPureToken);
  CHECK(a[3].token == "GET");
  CHECK(a[3].flags == docs::kArgOptional);
  const Arg& exp = a[4];
  CHECK(exp.type == ArgType::kOneOf);
  REQUIRE(exp.args.size() == 5);
  CHECK(exp.args[0].name == "seconds");
  CHECK(exp.args[0].type == ArgType::kInteger);
  CHECK(exp.args[0].token == "EX");
  CHECK(exp.args[2].type == ArgType::kUnixTime);
  CHECK(exp.args[2].token == "EXAT");
  CHECK(exp.args[4].type == ArgType::kPureToken);
  CHECK(exp.args[4].token == "KEEPTTL");
}

TEST_CASE("rendering matches redis-cli's parameter lines", "[command_docs]") {
  CHECK(Round("key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL]") ==
        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]");
  CHECK(Round("key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]") ==
        "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]");
  CHECK(Round("key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]") ==
        "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]");
  CHECK(Round("key element [RANK rank] [COUNT num-matches] [MAXLEN len]") ==
        "key element [RANK rank] [COUNT num-matches] [MAXLEN len]");
  CHECK(Round("cursor [MATCH pattern] [COUNT count] [TYPE type]") ==
        "cursor [MATCH pattern] [COUNT count] [TYPE type]");
  // Old redis-cli style with tight bars parses the same way.
  CHECK(Round("key value [NX|XX] [GET]") == "key value [NX|XX] [GET]");
}

TEST_CASE("LIMIT offset count is a block with a token", "[command_docs]") {
  auto a = Parse("key start stop [LIMIT offset count]");
  REQUIRE(a.size() == 4);
  const Arg& lim = a[3];
  CHECK(lim.type == ArgType::kBlock);
  CHECK(lim.token == "LIMIT");
  CHECK(lim.flags == docs::kArgOptional);
  REQUIRE(lim.args.size() == 2);
  CHECK(lim.args[0].name == "offset");
  CHECK(lim.args[0].type == ArgType::kInteger);
  CHECK(lim.args[1].name == "count");
}

TEST_CASE("repetitions become multiple arguments", "[command_docs]") {
  auto del = Parse("key [key ...]");
  REQUIRE(del.size() == 1);
  CHECK(del[0].type == ArgType::kKey);
  CHECK(del[0].flags == docs::kArgMultiple);

  auto hset = Parse("key field value [field value ...]");
  REQUIRE(hset.size() == 2);
  CHECK(hset[1].type == ArgType::kBlock);
  CHECK(hset[1].flags == docs::kArgMultiple);
  REQUIRE(hset[1].args.size() == 2);
  CHECK(hset[1].args[0].name == "field");
  CHECK(hset[1].args[1].name == "value");

  auto weights = Parse("destination numkeys key [key ...] [WEIGHTS weight [weight ...]]");
  REQUIRE(weights.size() == 4);
  CHECK(weights[3].token == "WEIGHTS");
  CHECK(weights[3].type == ArgType::kInteger);
  CHECK(weights[3].flags == (docs::kArgOptional | docs::kArgMultiple));

  auto sort = Parse("key [BY pattern] [GET pattern [GET pattern ...]] [ASC | DESC]");
  REQUIRE(sort.size() == 4);
  CHECK(sort[1].type == ArgType::kPattern);
  CHECK(sort[1].token == "BY");
  CHECK(sort[2].token == "GET");
  CHECK(sort[2].type == ArgType::kPattern);
  CHECK(sort[2].flags == (docs::kArgOptional | docs::kArgMultiple | docs::kArgMultipleToken));
  CHECK(docs::RenderArgs(sort) == "key [BY pattern] [GET pattern [GET pattern ...]] [ASC|DESC]");

  auto eval = Parse("script numkeys [key [key ...]] [arg [arg ...]]");
  REQUIRE(eval.size() == 4);
  CHECK(eval[2].type == ArgType::kKey);
  CHECK(eval[2].flags == (docs::kArgOptional | docs::kArgMultiple));
  CHECK(docs::RenderArgs(eval) == "script numkeys [key [key ...]] [arg [arg ...]]");
}

TEST_CASE("nested oneof and block forms", "[command_docs]") {
  // Required choice in angle brackets, a token in front of a choice.
  auto lmpop = Parse("numkeys key [key ...] <LEFT | RIGHT> [COUNT count]");
  REQUIRE(lmpop.size() == 4);
  CHECK(lmpop[2].type == ArgType::kOneOf);
  CHECK(lmpop[2].flags == 0);
  CHECK(docs::RenderArgs(lmpop) == "numkeys key [key ...] LEFT|RIGHT [COUNT count]");

  // Outside brackets a spaced bar still chooses between single items.
  auto zmpop = Parse("numkeys key [key ...] MIN | MAX [COUNT count]");
  REQUIRE(zmpop.size() == 4);
  CHECK(zmpop[1].type == ArgType::kKey);
  CHECK(zmpop[2].type == ArgType::kOneOf);
  CHECK(zmpop[2].args.size() == 2);
  CHECK(zmpop[3].token == "COUNT");
  auto bitop = Parse("AND | OR | XOR | NOT destkey key [key ...]");
  REQUIRE(bitop.size() == 3);
  CHECK(bitop[0].args.size() == 4);

  auto zunion = Parse("numkeys key [key ...] [AGGREGATE <SUM | MIN | MAX>]");
  CHECK(zunion[2].type == ArgType::kOneOf);
  CHECK(zunion[2].token == "AGGREGATE");
  CHECK(zunion[2].args.size() == 3);

  // XADD: an optional block whose members are a choice, an optional choice of
  // symbols, a value and an optional token argument; then "*|id".
  auto xadd = Parse(
      "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value "
      "[field value ...]");
  REQUIRE(xadd.size() == 5);
  const Arg& trim = xadd[2];
  CHECK(trim.type == ArgType::kBlock);
  CHECK(trim.token.empty());
  REQUIRE(trim.args.size() == 4);
  CHECK(trim.args[0].type == ArgType::kOneOf);
  CHECK(trim.args[1].flags == docs::kArgOptional);
  CHECK(trim.args[1].args[0].token == "=");
  CHECK(trim.args[3].token == "LIMIT");
  CHECK(xadd[3].type == ArgType::kOneOf);
  CHECK(xadd[3].args[0].type == ArgType::kPureToken);
  CHECK(xadd[3].args[0].token == "*");
  CHECK(docs::RenderArgs(xadd) ==
        "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value "
        "[field value ...]");

  auto migrate = Parse(
      "host port key|\"\" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 "
      "username password] [KEYS key [key ...]]");
  REQUIRE(migrate.size() == 9);
  CHECK(migrate[7].type == ArgType::kOneOf);
  CHECK(migrate[7].args[1].type == ArgType::kBlock);
  CHECK(migrate[7].args[1].token == "AUTH2");
  CHECK(migrate[8].token == "KEYS");
  CHECK(migrate[8].flags == (docs::kArgOptional | docs::kArgMultiple));
}

TEST_CASE("CLIENT KILL's repeated filter choice, in both spellings", "[command_docs]") {
  const std::string expect =
      "ip:port|[ID client-id]|[TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]|[USER username]|[ADDR "
      "ip:port]|[LADDR ip:port]|[SKIPME yes/no] [[ID client-id]|[TYPE "
      "NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]|[USER username]|[ADDR ip:port]|[LADDR "
      "ip:port]|[SKIPME yes/no] ...]";
  // The redis-cli spelling.
  auto cli = Parse(expect);
  REQUIRE(cli.size() == 1);
  CHECK(cli[0].type == ArgType::kOneOf);
  REQUIRE(cli[0].args.size() == 2);
  CHECK(cli[0].args[0].name == "ip:port");
  CHECK(cli[0].args[1].type == ArgType::kOneOf);
  CHECK(cli[0].args[1].flags == docs::kArgMultiple);
  CHECK(cli[0].args[1].args.size() == 6);
  CHECK(docs::RenderArgs(cli) == expect);
  // The documentation-site spelling.
  auto site = Parse(
      "<ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER "
      "username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no] [[ID client-id] | [TYPE "
      "<NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR "
      "ip:port] | [SKIPME yes/no] ...]>>");
  CHECK(docs::RenderArgs(site) == expect);
  REQUIRE(site.size() == 1);
  CHECK(site[0].args[1].args[1].token == "TYPE");
  CHECK(site[0].args[1].args[1].type == ArgType::kOneOf);
}

TEST_CASE("malformed lines fail cleanly", "[command_docs]") {
  const std::string deep = std::string(40, '[') + "x" + std::string(40, ']');
  for (std::string_view bad :
       std::vector<std::string_view>{"key [value", "key value]", "[", "|", "key | ", "[]", "<a | b",
                                     "key (x]", "a ||| b", deep}) {
    std::vector<Arg> out;
    std::string err;
    INFO(bad);
    CHECK_FALSE(docs::ParseSyntax(bad, &out, &err));
    CHECK_FALSE(err.empty());
    CHECK(out.empty());
  }
  std::vector<Arg> out;
  std::string err;
  CHECK(docs::ParseSyntax("", &out, &err));
  CHECK(out.empty());
  // A malformed spec yields no arguments but still its key spec.
  auto c = Spec("get", 2, cairn::cmd::kReadonly, 1, 1, 1, "key [");
  docs::CommandDocs d = docs::BuildDocs(c);
  CHECK(d.args.empty());
  CHECK(d.key_specs.size() == 1);
}

TEST_CASE("a syntax that repeats the command name is tolerated", "[command_docs]") {
  auto c = Spec("client|kill", -3, 0, 0, 0, 0, "CLIENT KILL ip:port");
  docs::CommandDocs d = docs::BuildDocs(c);
  REQUIRE(d.args.size() == 1);
  CHECK(d.args[0].name == "ip:port");
  // An argument named like the command is not the command's name.
  auto load = Spec("script|load", 3, 0, 0, 0, 0, "script");
  REQUIRE(docs::BuildDocs(load).args.size() == 1);
  CHECK(docs::BuildDocs(load).args[0].name == "script");
  auto half = Spec("client|kill", -3, 0, 0, 0, 0, "CLIENT ip:port");
  REQUIRE(docs::BuildDocs(half).args.size() == 1);
  CHECK(docs::BuildDocs(half).args[0].token == "CLIENT");
}

TEST_CASE("key specs from first/last/step and from the syntax", "[command_docs]") {
  bool ok = false;
  auto mset = Spec("mset", -3, cairn::cmd::kWrite, 1, -1, 2, "key value [key value ...]");
  docs::CommandDocs d = docs::BuildDocs(mset);
  REQUIRE(d.key_specs.size() == 1);
  CHECK(d.key_specs[0].index == 1);
  CHECK(d.key_specs[0].lastkey == -1);
  CHECK(d.key_specs[0].keystep == 2);
  CHECK(d.key_specs[0].flags == std::vector<std::string>{"RW", "update"});
  CHECK_FALSE(d.movable_keys);
  CHECK(Keys(mset, {"mset", "a", "1", "b", "2"}, &ok) == std::vector<std::string>{"a", "b"});
  CHECK(ok);

  auto lmove = Spec("lmove", 5, cairn::cmd::kWrite, 1, 2, 1,
                    "source destination <LEFT | RIGHT> <LEFT | RIGHT>");
  d = docs::BuildDocs(lmove);
  CHECK(d.key_specs[0].lastkey == 1);
  CHECK(d.args[0].key_spec_index == 0);
  CHECK(d.args[1].key_spec_index == 0);
  CHECK(Keys(lmove, {"lmove", "a", "b", "LEFT", "RIGHT"}, &ok) ==
        std::vector<std::string>{"a", "b"});

  auto zus = Spec("zunionstore", -4, cairn::cmd::kWrite, 1, 1, 1,
                  "destination numkeys key [key ...] [WEIGHTS weight [weight ...]]");
  d = docs::BuildDocs(zus);
  REQUIRE(d.key_specs.size() == 2);
  CHECK(d.key_specs[1].find == docs::KeySpec::Find::kKeynum);
  CHECK(d.key_specs[1].index == 2);
  CHECK(d.movable_keys);
  CHECK(Keys(zus, {"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, &ok) ==
        std::vector<std::string>{"d", "a", "b"});
  CHECK(ok);
  Keys(zus, {"zunionstore", "d", "5", "a"}, &ok);
  CHECK_FALSE(ok);
  Keys(zus, {"zunionstore", "d", "x", "a"}, &ok);
  CHECK_FALSE(ok);

  auto xread = Spec("xread", -4, cairn::cmd::kReadonly, 0, 0, 0,
                    "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]");
  d = docs::BuildDocs(xread);
  REQUIRE(d.key_specs.size() == 1);
  CHECK(d.key_specs[0].begin == docs::KeySpec::Begin::kKeyword);
  CHECK(d.key_specs[0].keyword == "STREAMS");
  CHECK(d.key_specs[0].limit == 2);
  CHECK(Keys(xread, {"xread", "COUNT", "2", "streams", "s1", "s2", "0", "0"}, &ok) ==
        std::vector<std::string>{"s1", "s2"});

  auto get = Spec("get", 2, cairn::cmd::kReadonly, 1, 1, 1, "key");
  CHECK(docs::BuildDocs(get).key_specs[0].flags == std::vector<std::string>{"RO", "access"});
  auto ping = Spec("ping", -1, 0, 0, 0, 0, "[message]");
  CHECK(docs::BuildDocs(ping).key_specs.empty());
}

TEST_CASE("DocsFor caches per spec and notices a changed spec", "[command_docs]") {
  auto c = Spec("get", 2, cairn::cmd::kReadonly, 1, 1, 1, "key");
  const docs::CommandDocs& a = docs::DocsFor(c);
  const docs::CommandDocs& b = docs::DocsFor(c);
  CHECK(&a == &b);
  c.syntax = "key extra";
  CHECK(docs::DocsFor(c).args.size() == 2);
}

TEST_CASE("random lines never crash the parser", "[command_docs]") {
  static const char* const kPieces[] = {"[", "]",   "<",   ">",   "(",     ")",  "|", " | ",
                                        " ", "...", "key", "KEY", "value", "NX", "*", "\"\""};
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  int parsed = 0;
  for (int i = 0; i < 3000; i++) {
    std::string line;
    int n = 1 + static_cast<int>(next() % 12);
    for (int j = 0; j < n; j++) line += kPieces[next() % std::size(kPieces)];
    std::vector<Arg> out;
    std::string err;
    bool ok = docs::ParseSyntax(line, &out, &err);
    INFO(line);
    CHECK(ok == err.empty());
    if (ok) {
      parsed++;
      docs::RenderArgs(out);
    } else {
      CHECK(out.empty());
    }
  }
  CHECK(parsed > 100);
}
