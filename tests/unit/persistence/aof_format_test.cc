// The AOF command reader (complete, truncated and corrupt input told apart at
// every cut) and the multi-part manifest (Redis 7.0's text, quoted names,
// malformed lines).
#include "node/persistence/aof_format.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "node/persistence/aof_manifest.h"

using cairn::persist::AofCommandReader;
using Next = AofCommandReader::Next;

namespace {

std::vector<std::vector<std::string>> ReadAll(std::string_view data, Next* last) {
  AofCommandReader r(data);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> argv;
  while ((*last = r.Read(&argv)) == Next::kCommand) out.emplace_back(argv.begin(), argv.end());
  return out;
}

}  // namespace

TEST_CASE("AOF commands round-trip through the writer and reader") {
  std::string buf;
  cairn::persist::AppendAofCommand(&buf, {"SELECT", "0"});
  cairn::persist::AppendAofCommand(
      &buf, std::vector<std::string>{"SET", "k", std::string("a\0\r\nb", 5)});
  cairn::persist::AppendAofCommand(&buf, std::vector<std::string>{"SET", "", ""});
  REQUIRE(buf.substr(0, 23) == "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n");
  Next last;
  auto cmds = ReadAll(buf, &last);
  REQUIRE(last == Next::kEnd);
  REQUIRE(cmds.size() == 3);
  REQUIRE(cmds[1][2] == std::string("a\0\r\nb", 5));
  REQUIRE(cmds[2] == std::vector<std::string>{"SET", "", ""});
}

TEST_CASE("every cut inside the last command reads as truncated, never corrupt") {
  std::string buf;
  cairn::persist::AppendAofCommand(&buf, {"SET", "a", "1"});
  const size_t first = buf.size();
  cairn::persist::AppendAofCommand(&buf, {"RPUSH", "list", "xyz", "longer value"});
  for (size_t cut = first + 1; cut < buf.size(); cut++) {
    AofCommandReader r(std::string_view(buf).substr(0, cut));
    std::vector<std::string_view> argv;
    REQUIRE(r.Read(&argv) == Next::kCommand);
    INFO("cut at " << cut);
    REQUIRE(r.Read(&argv) == Next::kTruncated);
    REQUIRE(r.offset() == first);
  }
}

TEST_CASE("annotations are skipped, garbage is corrupt with its offset") {
  std::string buf = "#TS:1700000000\r\n";
  cairn::persist::AppendAofCommand(&buf, {"SET", "a", "1"});
  Next last;
  REQUIRE(ReadAll(buf, &last).size() == 1);
  REQUIRE(last == Next::kEnd);

  std::string bad = buf + "hello\r\n";
  AofCommandReader r(bad);
  std::vector<std::string_view> argv;
  REQUIRE(r.Read(&argv) == Next::kCommand);
  REQUIRE(r.Read(&argv) == Next::kCorrupt);
  REQUIRE(r.error() == "expected '*' (a command) at offset " + std::to_string(buf.size()));

  for (std::string tail : {"*0\r\n", "*-1\r\n", "*1\r\n:5\r\n", "*1\r\n$-2\r\n",
                           "*1\r\n$1\r\nab\r\n", "*x\r\n", "*1\r\n$99999999999\r\n"}) {
    AofCommandReader t(tail);
    INFO(tail);
    REQUIRE(t.Read(&argv) == Next::kCorrupt);
    REQUIRE(t.offset() == 0);
  }
}

TEST_CASE("a huge argument count with few bytes left is a truncation, not an allocation") {
  std::string data = "*1000000000\r\n$1\r\na\r\n";
  AofCommandReader r(data);
  std::vector<std::string_view> argv;
  REQUIRE(r.Read(&argv) == Next::kTruncated);
  REQUIRE(argv.capacity() < 1000);
}

TEST_CASE("the manifest reads and writes Redis 7.0's text") {
  const std::string text =
      "file appendonly.aof.2.base.rdb seq 2 type b\n"
      "file appendonly.aof.1.incr.aof seq 1 type h\n"
      "file appendonly.aof.2.incr.aof seq 2 type i\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n";
  auto m = cairn::persist::ParseAofManifest(text);
  REQUIRE(m.ok());
  REQUIRE(m->base()->name == "appendonly.aof.2.base.rdb");
  REQUIRE(m->incrs().size() == 2);
  REQUIRE(m->incrs().back()->seq == 3);
  REQUIRE(m->NextBaseSeq() == 3);
  REQUIRE(m->NextIncrSeq() == 4);
  REQUIRE(m->Format() == text);
  // Redis writes the base first whatever order it was read in.
  auto shuffled = cairn::persist::ParseAofManifest(
      "file b.1.incr.aof seq 1 type i\n# comment\n\nfile b.1.base.rdb seq 1 type b\n");
  REQUIRE(shuffled.ok());
  REQUIRE(shuffled->Format() == "file b.1.base.rdb seq 1 type b\nfile b.1.incr.aof seq 1 type i\n");
}

TEST_CASE("manifest names with spaces are quoted and read back") {
  cairn::persist::AofManifest m;
  m.files.push_back({"my aof.1.base.rdb", 1, 'b'});
  std::string text = m.Format();
  REQUIRE(text == "file \"my aof.1.base.rdb\" seq 1 type b\n");
  auto back = cairn::persist::ParseAofManifest(text);
  REQUIRE(back.ok());
  REQUIRE(back->base()->name == "my aof.1.base.rdb");
}

TEST_CASE("malformed manifests are refused naming the line") {
  for (const char* bad : {"file a seq 1\n", "file a seq x type i\n", "file a seq 1 type q\n",
                          "file ../x seq 1 type i\n", "file a seq 1 type b\nfile b seq 2 type b\n",
                          "file \"a seq 1 type i\n"}) {
    auto m = cairn::persist::ParseAofManifest(bad);
    INFO(bad);
    REQUIRE_FALSE(m.ok());
    REQUIRE(m.status().message().find("AOF manifest line") == 0);
  }
}
