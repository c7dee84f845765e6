// Writing a snapshot: a good one appears with its manifest (verified, key count,
// CRC); a writer that fails or produces a damaged RDB leaves nothing behind and
// never touches older snapshots; leftovers of interrupted snapshots are removed (not
// those a live process still writes);
// names stay unique within one second.
#include "backup/snapshot_writer.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "node/persistence/rdb_writer.h"
#include "node/store/db.h"

using namespace cairn;          // NOLINT: test file
using namespace cairn::backup;  // NOLINT: test file

namespace {

// A fresh directory, removed with everything in it when the test ends.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/cairn-snapwriter-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  operator const std::string&() const { return path; }  // NOLINT: test convenience
  std::string operator+(const char* tail) const { return path + tail; }
  std::string path;
};

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.insert(n);
  }
  closedir(d);
  return out;
}

void Touch(const std::string& path, const std::string& text = "x") {
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::unique_ptr<store::Db>> Dataset(int keys) {
  std::vector<std::unique_ptr<store::Db>> dbs;
  for (int i = 0; i < 16; i++) dbs.push_back(std::make_unique<store::Db>(i));
  for (int i = 0; i < keys; i++)
    dbs[static_cast<size_t>(i % 3)]->AddString("key:" + std::to_string(i),
                                               "value-" + std::to_string(i * 7));
  return dbs;
}

SnapshotMeta Meta(const std::string& name, const std::string& kind) {
  SnapshotMeta m;
  m.name = name;
  m.kind = kind;
  m.unix_seconds = *ParseSnapshotName("dump", name);
  m.master = "home.example.org:16379";
  return m;
}

}  // namespace

TEST_CASE("a written snapshot is verified and listed with its manifest", "[writer]") {
  const TempDir dir;
  auto dbs = Dataset(500);
  persist::RdbWriteOptions opts;
  auto r = WriteSnapshot(dir, Meta("dump-20261123T030000Z.rdb", "scheduled"),
                         [&](persist::RdbSink* s) { return persist::WriteRdb(dbs, opts, s); });
  REQUIRE(r.ok());
  CHECK(r->verified);
  CHECK(r->keys == 500);
  CHECK(r->checksum.size() == 16);
  CHECK(Files(dir) ==
        std::set<std::string>{"dump-20261123T030000Z.rdb", "dump-20261123T030000Z.rdb.meta"});
  auto list = ListSnapshots(dir, "dump");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  const auto& m = list->front();
  CHECK(m.verified);
  CHECK(m.kind == "scheduled");
  CHECK(m.keys == 500);
  CHECK(m.master == "home.example.org:16379");
  struct stat st;
  REQUIRE(stat((dir.path + "/" + m.name).c_str(), &st) == 0);
  CHECK(m.size == static_cast<uint64_t>(st.st_size));
}

TEST_CASE("a failed or damaged snapshot leaves nothing and keeps the older ones", "[writer]") {
  const TempDir dir;
  auto dbs = Dataset(50);
  persist::RdbWriteOptions opts;
  auto write = [&](persist::RdbSink* s) { return persist::WriteRdb(dbs, opts, s); };
  REQUIRE(WriteSnapshot(dir, Meta("dump-20261123T020000Z.rdb", "scheduled"), write).ok());
  const auto before = Files(dir);

  SECTION("the writer fails (a full disk)") {
    auto r =
        WriteSnapshot(dir, Meta("dump-20261123T030000Z.rdb", "manual"), [&](persist::RdbSink* s) {
          Status st = persist::WriteRdb(dbs, opts, s);
          REQUIRE(st.ok());
          return Status::IOError("write: No space left on device");
        });
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("No space left") != std::string::npos);
  }
  SECTION("the bytes do not read back as an RDB") {
    auto r =
        WriteSnapshot(dir, Meta("dump-20261123T030000Z.rdb", "manual"), [&](persist::RdbSink* s) {
          persist::StringSink good;
          REQUIRE(persist::WriteRdb(dbs, opts, &good).ok());
          std::string bytes = good.data();
          bytes[bytes.size() / 2] ^= 0x5a;  // damaged on its way to disk
          return s->Write(bytes.data(), bytes.size());
        });
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("did not read back") != std::string::npos);
  }
  CHECK(Files(dir) == before);
  auto list = ListSnapshots(dir, "dump");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->front().verified);
}

TEST_CASE("leftovers of interrupted snapshots are removed, snapshots are not", "[writer]") {
  const TempDir dir;
  // Writers that are gone (no process has a pid above pid_max) ...
  Touch(dir + "/temp-dump-20261123T030000Z.rdb-2147483646.rdb");
  Touch(dir + "/temp-dump-20261123T030000Z.rdb.meta-2147483646.rdb");
  // ... and one still running (the parent of this test): a child that outlived its
  // killed node finishes and names its snapshot itself.
  const std::string live = "temp-dump-20261123T070000Z.rdb-" + std::to_string(getppid()) + ".rdb";
  Touch(dir + "/" + live);
  // A writer killed with its node but not reaped yet (a zombie) is gone too.
  pid_t zombie = fork();
  REQUIRE(zombie >= 0);
  if (zombie == 0) _exit(0);
  for (int i = 0; i < 200; i++) {  // until it has exited (at most 2 s)
    std::ifstream st("/proc/" + std::to_string(zombie) + "/stat");
    std::string line;
    std::getline(st, line);
    if (line.find(") Z") != std::string::npos) break;
    usleep(10000);
  }
  Touch(dir + "/temp-dump-20261123T080000Z.rdb-" + std::to_string(zombie) + ".rdb");
  Touch(dir + "/dump-20261123T040000Z.rdb.meta");  // manifest without its RDB
  Touch(dir + "/dump-20261123T050000Z.rdb");       // a snapshot copied in by hand
  Touch(dir + "/dump-20261123T060000Z.rdb");
  Touch(dir + "/dump-20261123T060000Z.rdb.meta");
  Touch(dir + "/temp-other-20261123T030000Z.rdb-1.rdb");  // another prefix's
  Touch(dir + "/notes.txt");
  auto removed = RemoveLeftovers(dir, "dump");
  waitpid(zombie, nullptr, 0);
  REQUIRE(removed.ok());
  CHECK(*removed == 4);
  CHECK(Files(dir) ==
        std::set<std::string>{"dump-20261123T050000Z.rdb", "dump-20261123T060000Z.rdb",
                              "dump-20261123T060000Z.rdb.meta",
                              "temp-other-20261123T030000Z.rdb-1.rdb", "notes.txt", live});
  CHECK_FALSE(RemoveLeftovers(dir + "/missing", "dump").ok());
}

TEST_CASE("two snapshots in one second get consecutive names", "[writer]") {
  const TempDir dir;
  const int64_t t = 1795402800;  // 2026-11-23 03:00:00 UTC
  CHECK(FreeSnapshotName(dir, "dump", t) == "dump-20261123T030000Z.rdb");
  Touch(dir + "/dump-20261123T030000Z.rdb");
  CHECK(FreeSnapshotName(dir, "dump", t) == "dump-20261123T030001Z.rdb");
  Touch(dir + "/dump-20261123T030001Z.rdb");
  CHECK(FreeSnapshotName(dir, "dump", t) == "dump-20261123T030002Z.rdb");
  CHECK(FreeSnapshotName(dir, "nightly", t) == "nightly-20261123T030000Z.rdb");
}
