// RESP request parser: multibulk and inline commands, every split position of a
// pipelined stream, Redis 7.0's exact protocol errors and its size limits.
#include "node/protocol/resp_parser.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/resp_fuzz_body.h"

using cairn::protocol::ParseCommand;
using cairn::protocol::ParseLimits;
using cairn::protocol::ParseResult;
using cairn::protocol::ParseStatus;
using cairn::protocol::SplitArgs;

namespace {

struct Parsed {
  ParseResult r;
  std::vector<std::string> argv;
};

Parsed Parse(const std::string& data, const ParseLimits& limits = {}) {
  std::vector<std::string_view> argv;
  std::string scratch;
  Parsed p;
  p.r = ParseCommand(data.data(), data.size(), limits, &argv, &scratch);
  for (auto a : argv) p.argv.emplace_back(a);
  return p;
}

std::string Multibulk(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// Feeds `stream` to the parser the way a connection does (buffer grows, parsed
// commands are consumed from the front) and returns every argv it produced.
std::vector<std::vector<std::string>> Drain(std::string* buf) {
  std::vector<std::vector<std::string>> out;
  while (true) {
    std::vector<std::string_view> argv;
    std::string scratch;
    ParseResult r = ParseCommand(buf->data(), buf->size(), {}, &argv, &scratch);
    if (r.status == ParseStatus::kNeedMore) break;
    REQUIRE(r.status != ParseStatus::kError);
    REQUIRE(r.consumed > 0);
    if (r.status == ParseStatus::kCommand) {
      std::vector<std::string> a;
      for (auto s : argv) a.emplace_back(s);
      out.push_back(std::move(a));
    }
    buf->erase(0, r.consumed);
  }
  return out;
}

}  // namespace

TEST_CASE("multibulk command parses into argv", "[resp]") {
  std::string data = Multibulk({"SET", "key", std::string("a\0\r\nb", 5)});
  auto p = Parse(data);
  REQUIRE(p.r.status == ParseStatus::kCommand);
  CHECK(p.r.consumed == data.size());
  CHECK(p.argv == std::vector<std::string>{"SET", "key", std::string("a\0\r\nb", 5)});
}

TEST_CASE("only the first of two pipelined commands is consumed", "[resp]") {
  std::string first = Multibulk({"PING"});
  auto p = Parse(first + Multibulk({"GET", "x"}));
  REQUIRE(p.r.status == ParseStatus::kCommand);
  CHECK(p.r.consumed == first.size());
  CHECK(p.argv == std::vector<std::string>{"PING"});
}

TEST_CASE("empty bulk strings and empty multibulks", "[resp]") {
  auto p = Parse("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
  REQUIRE(p.r.status == ParseStatus::kCommand);
  CHECK(p.argv == std::vector<std::string>{"ECHO", ""});
  for (std::string s : {"*0\r\n", "*-1\r\n", "*-5\r\n"}) {
    auto e = Parse(s + "PING\r\n");
    CHECK(e.r.status == ParseStatus::kEmpty);
    CHECK(e.r.consumed == s.size());
  }
}

TEST_CASE("a stream split at every byte position yields the same commands", "[resp]") {
  std::vector<std::vector<std::string>> cmds = {
      {"SET", "k", "hello\r\nworld"}, {"GET", "k"}, {"PING"}, {"ECHO", ""}, {"DEL", "a", "b"}};
  std::string stream;
  for (const auto& c : cmds) stream += Multibulk(c);
  stream += "SET inline \"quoted value\"\r\n";
  stream += "\r\n";  // blank inline line: ignored
  stream += "PING\n";
  auto expected = cmds;
  expected.push_back({"SET", "inline", "quoted value"});
  expected.push_back({"PING"});

  for (size_t cut = 0; cut <= stream.size(); cut++) {
    std::string buf = stream.substr(0, cut);
    auto got = Drain(&buf);
    buf += stream.substr(cut);
    auto rest = Drain(&buf);
    got.insert(got.end(), rest.begin(), rest.end());
    INFO("cut at " << cut);
    REQUIRE(got == expected);
    REQUIRE(buf.empty());
  }
}

TEST_CASE("byte-by-byte feeding never over-reads", "[resp]") {
  std::string stream = Multibulk({"SET", "key", std::string(300, 'v')}) + Multibulk({"GET", "key"});
  std::string buf;
  std::vector<std::vector<std::string>> got;
  for (char c : stream) {
    buf.push_back(c);
    auto more = Drain(&buf);
    got.insert(got.end(), more.begin(), more.end());
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0][2] == std::string(300, 'v'));
  CHECK(got[1] == std::vector<std::string>{"GET", "key"});
}

TEST_CASE("needed_hint announces a large bulk's total size", "[resp]") {
  std::string head = "*2\r\n$3\r\nSET\r\n$100000\r\n";
  auto p = Parse(head + "abc");
  REQUIRE(p.r.status == ParseStatus::kNeedMore);
  CHECK(p.r.needed_hint == head.size() + 100000 + 2);
}

TEST_CASE("protocol errors carry Redis's exact messages", "[resp]") {
  struct Case {
    std::string in, msg;
  };
  std::vector<Case> cases = {
      {"*abc\r\n", "Protocol error: invalid multibulk length"},
      {"*1x\r\n", "Protocol error: invalid multibulk length"},
      {"*3000000000\r\n", "Protocol error: invalid multibulk length"},
      {"*+1\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"},
      {"*2\r\n$4\r\nECHO\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$999999999999\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"},
      {"SET k \"abc\r\n", "Protocol error: unbalanced quotes in request"},
      {"SET k 'abc\r\n", "Protocol error: unbalanced quotes in request"},
      {"SET k \"abc\"def\r\n", "Protocol error: unbalanced quotes in request"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto p = Parse(c.in);
    REQUIRE(p.r.status == ParseStatus::kError);
    CHECK(p.r.error == c.msg);
  }
}

TEST_CASE("size limits", "[resp]") {
  SECTION("an inline request without newline over 64KB") {
    auto p = Parse(std::string(64 * 1024 + 1, 'a'));
    REQUIRE(p.r.status == ParseStatus::kError);
    CHECK(p.r.error == "Protocol error: too big inline request");
    CHECK(Parse(std::string(64 * 1024, 'a')).r.status == ParseStatus::kNeedMore);
  }
  SECTION("a multibulk count line over 64KB") {
    auto p = Parse("*" + std::string(70000, '1'));
    REQUIRE(p.r.status == ParseStatus::kError);
    CHECK(p.r.error == "Protocol error: too big mbulk count string");
  }
  SECTION("a bulk count line over 64KB") {
    auto p = Parse("*1\r\n$" + std::string(70000, '1'));
    REQUIRE(p.r.status == ParseStatus::kError);
    CHECK(p.r.error == "Protocol error: too big bulk count string");
  }
  SECTION("proto-max-bulk-len is configurable and exempt for the master link") {
    ParseLimits lim;
    lim.max_bulk_len = 10;
    CHECK(Parse("*1\r\n$11\r\n", lim).r.status == ParseStatus::kError);
    CHECK(Parse("*1\r\n$10\r\n", lim).r.status == ParseStatus::kNeedMore);
    lim.from_master = true;
    CHECK(Parse("*1\r\n$11\r\n", lim).r.status == ParseStatus::kNeedMore);
  }
  SECTION("unauthenticated clients get tight limits") {
    ParseLimits lim;
    lim.authenticated = false;
    auto a = Parse("*11\r\n", lim);
    REQUIRE(a.r.status == ParseStatus::kError);
    CHECK(a.r.error == "Protocol error: unauthenticated multibulk length");
    auto b = Parse("*1\r\n$16385\r\n", lim);
    REQUIRE(b.r.status == ParseStatus::kError);
    CHECK(b.r.error == "Protocol error: unauthenticated bulk length");
    CHECK(Parse("*10\r\n", lim).r.status == ParseStatus::kNeedMore);
    CHECK(Parse("*1\r\n$16384\r\n", lim).r.status == ParseStatus::kNeedMore);
  }
}

TEST_CASE("inline commands", "[resp]") {
  auto p = Parse("  SET   key   value  \r\n");
  REQUIRE(p.r.status == ParseStatus::kCommand);
  CHECK(p.argv == std::vector<std::string>{"SET", "key", "value"});
  CHECK(Parse("PING\n").argv == std::vector<std::string>{"PING"});
  CHECK(Parse("   \r\n").r.status == ParseStatus::kEmpty);
  CHECK(Parse("\n").r.status == ParseStatus::kEmpty);
  CHECK(Parse("PING").r.status == ParseStatus::kNeedMore);
  CHECK(Parse("ECHO \"a b\" 'c d'\r\n").argv == std::vector<std::string>{"ECHO", "a b", "c d"});
  CHECK(Parse("ECHO \"\"\r\n").argv == std::vector<std::string>{"ECHO", ""});
}

TEST_CASE("SplitArgs follows sdssplitargs", "[resp]") {
  std::vector<std::string> out;
  REQUIRE(SplitArgs("a \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\" 'it\\'s' \"\\q\"", &out));
  CHECK(out == std::vector<std::string>{"a", "AJ\n\r\t\b\a\\\"", "it's", "q"});
  REQUIRE(SplitArgs("\"\\xZZ\"", &out));
  CHECK(out == std::vector<std::string>{"xZZ"});
  REQUIRE(SplitArgs("'a\\nb'", &out));
  CHECK(out == std::vector<std::string>{"a\\nb"});  // no escapes in single quotes
  REQUIRE(SplitArgs("", &out));
  CHECK(out.empty());
  CHECK_FALSE(SplitArgs("\"abc", &out));
  CHECK_FALSE(SplitArgs("'abc", &out));
  CHECK_FALSE(SplitArgs("\"a\"b", &out));
  CHECK_FALSE(SplitArgs("'a'b", &out));
  REQUIRE(SplitArgs("a\"b\"", &out));  // a quote inside a bare word starts a quoted part
  CHECK(out == std::vector<std::string>{"ab"});
}

TEST_CASE("garbage never crashes and always makes progress or waits", "[resp]") {
  uint64_t x = 0x12345678;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const char alphabet[] = "*$\r\n0123456789-+ \"'\\xabc";
  for (int round = 0; round < 3000; round++) {
    std::string buf;
    size_t n = next() % 40;
    for (size_t i = 0; i < n; i++) {
      buf.push_back(next() % 4 ? alphabet[next() % (sizeof(alphabet) - 1)]
                               : static_cast<char>(next()));
    }
    std::vector<std::string_view> argv;
    std::string scratch;
    for (int guard = 0; guard < 100 && !buf.empty(); guard++) {
      ParseResult r = ParseCommand(buf.data(), buf.size(), {}, &argv, &scratch);
      if (r.status == ParseStatus::kNeedMore || r.status == ParseStatus::kError) break;
      REQUIRE(r.consumed > 0);
      REQUIRE(r.consumed <= buf.size());
      buf.erase(0, r.consumed);
    }
  }
}

TEST_CASE("the fuzz target's seed corpus replays cleanly", "[resp][fuzz]") {
  namespace fs = std::filesystem;
  fs::path dir =
      fs::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" / "corpus" / "resp";
  REQUIRE(fs::is_directory(dir));
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(entry.path().string());
    // FuzzRespOnce aborts on a broken invariant; Catch reports the crash.
    cairn::fuzz::FuzzRespOnce(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    files++;
  }
  CHECK(files >= 10);
  // The corpus's pipelined seed really parses into two commands.
  std::ifstream in(dir / "set_get_pipeline", std::ios::binary);
  std::string stream((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(Drain(&stream).size() == 2);
}
