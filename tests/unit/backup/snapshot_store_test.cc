// Snapshot names and manifests: names sort as times and parse back (nonexistent dates
// and strays refused); a manifest round-trips every field and refuses bad numbers.
#include "backup/snapshot_store.h"

#include <catch2/catch.hpp>

using namespace cairn::backup;  // NOLINT: test file

TEST_CASE("snapshot names are sortable UTC stamps that parse back", "[snapshots]") {
  CHECK(SnapshotName("dump", 1795392000) == "dump-20261123T000000Z.rdb");
  CHECK(SnapshotName("dump", 1795402496) == "dump-20261123T025456Z.rdb");
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{1795402496}, int64_t{4102444799}}) {
    auto back = ParseSnapshotName("dump", SnapshotName("dump", t));
    REQUIRE(back.has_value());
    CHECK(*back == t);
  }
  CHECK(SnapshotName("dump", 1795401600) < SnapshotName("dump", 1795401601));
  CHECK(SnapshotName("dump", 999999999) < SnapshotName("dump", 1000000000));
  CHECK_FALSE(ParseSnapshotName("dump", "dump-20260230T000000Z.rdb"));  // 30 February
  CHECK_FALSE(ParseSnapshotName("dump", "dump-20261123T000000Z.rdb.meta"));
  CHECK_FALSE(ParseSnapshotName("dump", "dump-20261123T000000.rdb"));
  CHECK_FALSE(ParseSnapshotName("dump", "dump-2026112XT000000Z.rdb"));
  CHECK_FALSE(ParseSnapshotName("dump", "other-20261123T000000Z.rdb"));
  CHECK_FALSE(ParseSnapshotName("dump", "dump.rdb"));
  CHECK(ParseSnapshotName("nightly", "nightly-20261123T030000Z.rdb").has_value());
}

TEST_CASE("manifests round-trip", "[snapshots]") {
  SnapshotMeta m;
  m.name = "dump-20261123T030000Z.rdb";
  m.unix_seconds = 1795402800;
  m.kind = "guard";
  m.size = 123456;
  m.checksum = "00ff00ff00ff00ff";
  m.repl_id = std::string(40, 'a');
  m.repl_offset = 987654321;
  m.master = "home.example.org:16379";
  m.keys = 42;
  m.verified = true;
  m.verified_unix_seconds = 1795417300;
  auto back = ParseManifest(ManifestText(m));
  REQUIRE(back.ok());
  CHECK(back->name == m.name);
  CHECK(back->unix_seconds == m.unix_seconds);
  CHECK(back->kind == "guard");
  CHECK(back->size == m.size);
  CHECK(back->checksum == m.checksum);
  CHECK(back->repl_id == m.repl_id);
  CHECK(back->repl_offset == m.repl_offset);
  CHECK(back->master == m.master);
  CHECK(back->keys == 42);
  CHECK(back->verified);
  CHECK(back->verify_error.empty());
  CHECK(back->verified_unix_seconds == m.verified_unix_seconds);
  m.verified = false;
  m.verify_error = "RDB checksum mismatch";
  back = ParseManifest(ManifestText(m));
  REQUIRE(back.ok());
  CHECK_FALSE(back->verified);
  CHECK(back->verify_error == "RDB checksum mismatch");
  CHECK_FALSE(ParseManifest("name: x\nsize: lots\n").ok());
  CHECK_FALSE(ParseManifest("kind: manual\n").ok());
  CHECK(ParseManifest("name: x\nfuture-field: 1\n").ok());
}

TEST_CASE("'latest' finds the newest verified snapshot, a name finds itself", "[snapshots]") {
  std::vector<SnapshotMeta> list(4);
  for (size_t i = 0; i < list.size(); i++) list[i].name = SnapshotName("dump", 1795392000 + i);
  list[0].verified = list[1].verified = true;  // [2] failed, [3] has no manifest yet
  const SnapshotMeta* latest = FindSnapshot(list, "latest");
  REQUIRE(latest != nullptr);
  CHECK(latest->name == list[1].name);
  REQUIRE(FindSnapshot(list, list[3].name) != nullptr);
  CHECK(FindSnapshot(list, list[3].name)->name == list[3].name);
  CHECK(FindSnapshot(list, "dump-20991231T000000Z.rdb") == nullptr);
  list[0].verified = list[1].verified = false;
  CHECK(FindSnapshot(list, "latest") == nullptr);
  CHECK(FindSnapshot({}, "latest") == nullptr);
}
