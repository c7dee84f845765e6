// Tests of CommandTable::Rename, Redis's rename-command: which names resolve,
// what the table lists, and Redis's error reasons.
#include <catch2/catch.hpp>

#include "node/commands/command.h"

using cairn::cmd::CommandSpec;
using cairn::cmd::CommandTable;
using cairn::cmd::MakeSpec;

namespace {

void Nop(cairn::cmd::Context&) {}

CommandTable Table() {
  CommandTable t;
  for (const char* n : {"get", "set", "flushall", "object"}) {
    t.Add(MakeSpec(n, -1, 0, 0, 0, 0, Nop, "generic", "1.0.0", "", "", ""));
  }
  t.AddSub("object", MakeSpec("encoding", 3, 0, 2, 2, 1, Nop, "", "", "", "key", ""));
  return t;
}

}  // namespace

TEST_CASE("rename-command moves a command to its new name", "[command]") {
  CommandTable t = Table();
  const CommandSpec* flushall = t.Find("flushall");
  REQUIRE(t.Rename("FLUSHALL", "MyFlush").ok());
  CHECK(t.Find("flushall") == nullptr);
  CHECK(t.Find("MYFLUSH") == flushall);
  CHECK(flushall->name == "flushall");  // keeps its own name
  CHECK(t.all().count("flushall") == 1);
  CHECK(t.size() == 4);

  SECTION("a later line uses the new name") {
    REQUIRE(t.Rename("myflush", "f2").ok());
    CHECK(t.Find("myflush") == nullptr);
    CHECK(t.Find("f2") == flushall);
  }
  SECTION("a long new name resolves too") {
    std::string name(100, 'x');
    REQUIRE(t.Rename("myflush", name).ok());
    CHECK(t.Find(std::string(100, 'X')) == flushall);
  }
}

TEST_CASE("rename-command with \"\" removes the command", "[command]") {
  CommandTable t = Table();
  REQUIRE(t.Rename("get", "").ok());
  CHECK(t.Find("get") == nullptr);
  CHECK(t.all().count("get") == 0);
  CHECK(t.size() == 3);
  CHECK(t.Rename("get", "x").message() == "No such command in rename-command");
}

TEST_CASE("rename-command errors are Redis's", "[command]") {
  CommandTable t = Table();
  CHECK(t.Rename("nosuch", "x").message() == "No such command in rename-command");
  CHECK(t.Rename("get", "SET").message() == "Target command name already exists");
  CommandTable same = Table();
  CHECK(same.Rename("get", "get").ok());  // Redis drops the name, then adds it back
}

TEST_CASE("a renamed container resolves its subcommands", "[command]") {
  CommandTable t = Table();
  REQUIRE(t.Rename("object", "obj").ok());
  const CommandSpec* enc = t.Resolve({"OBJ", "encoding", "k"});
  REQUIRE(enc != nullptr);
  CHECK(enc->name == "object|encoding");
  CHECK(t.Resolve({"object", "encoding", "k"}) == nullptr);
}
