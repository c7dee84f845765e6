// RDB writer: exact bytes of the primitive encodings, then whole datasets of
// every type/encoding checked by stock redis-check-rdb and loaded by a stock
// redis-server whose DEBUG DIGEST must equal Cairn's; plus FileSink atomicity.
#include "node/persistence/rdb_writer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "node/base/clock.h"
#include "node/persistence/crc64.h"
#include "node/persistence/rdb_reader.h"
#include "node/store/digest.h"
#include "node/store/hash_type.h"
#include "node/store/list_type.h"
#include "node/store/quicklist.h"
#include "node/store/set_type.h"
#include "node/store/zset_type.h"

namespace fs = std::filesystem;
using namespace cairn;
using namespace cairn::persist;
using store::Db;
using store::Enc;
using store::ObjType;

namespace {

std::string Encoded(std::string_view s, bool compression = true) {
  StringSink sink;
  RdbWriteOptions opts;
  opts.compression = compression;
  RdbWriter w(&sink, opts);
  w.PutString(s);
  REQUIRE(w.Finish().ok());
  return sink.data().substr(0, sink.data().size() - 9);  // drop EOF + checksum
}

std::string EncodedLen(uint64_t len) {
  StringSink sink;
  RdbWriter w(&sink, RdbWriteOptions{});
  w.PutLen(len);
  REQUIRE(w.Finish().ok());
  return sink.data().substr(0, sink.data().size() - 9);
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/cairn-rdbw-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A stock redis-server loading `dir/file`; killed by PID when destroyed.
class RedisServer {
 public:
  RedisServer(const fs::path& dir, const std::string& file,
              const std::vector<std::string>& extra = {})
      : port_(FreePort()) {
    std::vector<std::string> args = {"redis-server", "--port",     std::to_string(port_),
                                     "--dir",        dir.string(), "--dbfilename",
                                     file,           "--save",     "",
                                     "--appendonly", "no",         "--enable-debug-command",
                                     "yes",          "--logfile",  (dir / "redis.log").string(),
                                     "--daemonize",  "no"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      execvp("redis-server", argv.data());
      _exit(127);
    }
  }
  int port() const { return port_; }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Waits (at most 10 s) until PING answers.
  bool WaitReady() {
    for (int i = 0; i < 100; i++) {
      if (Cli("PING") == "PONG") return true;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::string Cli(const std::string& args) {
    return Run("redis-cli -p " + std::to_string(port_) + " " + args + " 2>/dev/null");
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

store::Entry* AddList(Db& db, const std::string& key, const std::vector<std::string>& items) {
  auto* q = new store::QuickList(-2);
  for (const auto& v : items) q->Push(store::QuickList::Where::kTail, v);
  return db.AddContainer(key, ObjType::kList, Enc::kQuickList, q);
}

store::Entry* AddSet(Db& db, const std::string& key, const std::vector<std::string>& members) {
  Enc enc;
  void* p = store::SetCreateFor(members.front(), &enc);
  store::Entry* e = db.AddContainer(key, ObjType::kSet, enc, p);
  for (const auto& m : members) store::SetAdd(e, m, store::SetLimits{});
  return e;
}

store::Entry* AddHash(Db& db, const std::string& key,
                      const std::vector<std::pair<std::string, std::string>>& pairs) {
  store::Entry* e = db.AddContainer(key, ObjType::kHash, Enc::kPacked, store::HashCreate());
  for (const auto& [f, v] : pairs) store::HashSet(e, f, v, store::HashLimits{});
  return e;
}

store::Entry* AddZSet(Db& db, const std::string& key,
                      const std::vector<std::pair<double, std::string>>& items) {
  store::ZSetLimits lim;
  Enc enc;
  void* p = store::ZSetCreate(1, 1, lim, &enc);
  store::Entry* e = db.AddContainer(key, ObjType::kZSet, enc, p);
  for (const auto& [score, m] : items) {
    int out = 0;
    double ns;
    store::ZSetAdd(e->enc, e->v.ptr, score, m, store::kZAddNone, &out, &ns, lim);
  }
  return e;
}

// Four dbs (index 2 stays empty) holding every type in every encoding.
std::vector<std::unique_ptr<Db>> BuildDataset() {
  std::vector<std::unique_ptr<Db>> dbs;
  for (int i = 0; i < 4; i++) dbs.push_back(std::make_unique<Db>(i));
  Db& d0 = *dbs[0];
  int64_t later = base::NowMs() + 3600 * 1000;

  // Strings: integer-like (each encoding width and beyond), non-canonical
  // integers, empty, long compressible, long incompressible, binary.
  const char* ints[] = {"0",
                        "-1",
                        "127",
                        "-128",
                        "128",
                        "-32768",
                        "32768",
                        "2147483647",
                        "-2147483648",
                        "2147483648",
                        "-9223372036854775808",
                        "9223372036854775807"};
  for (const char* v : ints) d0.SetString(std::string("int:") + v, v);
  d0.SetString("noncanon:lead0", "007", false, false);
  d0.SetString("noncanon:plus", "+5", false, false);
  d0.SetString("noncanon:space", " 5", false, false);
  d0.SetString("noncanon:minus0", "-0", false, false);
  d0.SetString("empty", "");
  d0.SetString("short", "hello");
  d0.SetString("twenty", std::string(20, 'a'));
  d0.SetString("twentyone", std::string(21, 'a'));
  d0.SetString("compressible", std::string(5000, 'x') + "tail");
  d0.SetString("incompressible", RandomBytes(3000, 1));
  d0.SetString("binary", std::string("a\0b\r\n\xff\x00z", 8));
  d0.SetString(std::string("bin\0key", 7), "v");
  d0.SetString("ttl:string", "expires later");
  d0.SetExpire(d0.FindRaw("ttl:string"), later);

  // Lists: small, large with long and plain-node elements.
  AddList(d0, "list:small", {"a", "1", "-5", "", "xyz"});
  std::vector<std::string> big;
  for (int i = 0; i < 3000; i++) big.push_back("item-" + std::to_string(i));
  big.push_back(std::string(20000, 'p'));
  big.push_back(RandomBytes(9000, 2));
  big.push_back("12345");
  store::Entry* l = AddList(d0, "list:large", big);
  d0.SetExpire(l, later + 5);

  // Sets: intset (16, 32 and 64-bit widths), packed strings, big table.
  AddSet(d0, "set:int16", {"1", "2", "3", "-7"});
  AddSet(d0, "set:int64", {"1", "9223372036854775807", "-9223372036854775808", "70000"});
  AddSet(d0, "set:packed", {"a", "b", "12", "hello world"});
  std::vector<std::string> members;
  for (int i = 0; i < 1000; i++) members.push_back("m" + std::to_string(i));
  members.push_back(std::string(300, 'q'));
  store::Entry* s = AddSet(d0, "set:table", members);
  d0.SetExpire(s, later + 10);
  std::vector<std::string> many_ints;
  for (int i = 0; i < 600; i++) many_ints.push_back(std::to_string(i * 3));
  AddSet(d0, "set:bigints", many_ints);  // past set-max-intset-entries: a table of integers

  // Hashes: packed and table (many fields, one long value).
  AddHash(d0, "hash:small", {{"f1", "v1"}, {"n", "42"}, {"e", ""}});
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < 500; i++) pairs.emplace_back("field" + std::to_string(i), std::to_string(i));
  pairs.emplace_back("long", std::string(1000, 'L'));
  AddHash(d0, "hash:large", pairs);

  // Sorted sets: packed and skiplist, with infinities and fractions.
  AddZSet(d0, "zset:small", {{1, "a"}, {2.5, "b"}, {-3, "c"}});
  std::vector<std::pair<double, std::string>> zitems;
  for (int i = 0; i < 400; i++) zitems.emplace_back(i * 0.1, "z" + std::to_string(i));
  zitems.emplace_back(std::numeric_limits<double>::infinity(), "inf");
  zitems.emplace_back(-std::numeric_limits<double>::infinity(), "-inf");
  zitems.emplace_back(1e300, "huge");
  store::Entry* z = AddZSet(d0, "zset:large", zitems);
  d0.SetExpire(z, later + 20);

  Db& d1 = *dbs[1];
  d1.SetString("k", "v1");
  AddList(d1, "l", {"x"});
  Db& d3 = *dbs[3];
  d3.SetString("k", "in db 3");
  d3.SetExpire(d3.FindRaw("k"), later);
  return dbs;
}

std::string Digest(const std::vector<std::unique_ptr<Db>>& dbs) {
  std::vector<Db*> raw;
  for (const auto& d : dbs) raw.push_back(d.get());
  return store::DatasetDigestHex(raw.data(), raw.size());
}

}  // namespace

TEST_CASE("rdb length encoding") {
  REQUIRE(EncodedLen(0) == std::string("\x00", 1));
  REQUIRE(EncodedLen(63) == "\x3f");
  REQUIRE(EncodedLen(64) == "\x40\x40");
  REQUIRE(EncodedLen(16383) == "\x7f\xff");
  REQUIRE(EncodedLen(16384) == std::string("\x80\x00\x00\x40\x00", 5));
  REQUIRE(EncodedLen(0x100000000ULL) == std::string("\x81\x00\x00\x00\x01\x00\x00\x00\x00", 9));
}

TEST_CASE("rdb string encodings follow rdbSaveRawString") {
  REQUIRE(Encoded("5") == "\xc0\x05");
  REQUIRE(Encoded("-1") == "\xc0\xff");
  REQUIRE(Encoded("128") == std::string("\xc1\x80\x00", 3));
  REQUIRE(Encoded("-32768") == std::string("\xc1\x00\x80", 3));
  REQUIRE(Encoded("2147483647") == "\xc2\xff\xff\xff\x7f");
  REQUIRE(Encoded("-2147483648") == std::string("\xc2\x00\x00\x00\x80", 5));
  // Too wide or not canonical: verbatim.
  REQUIRE(Encoded("2147483648") ==
          "\x0a"
          "2147483648");
  REQUIRE(Encoded("007") ==
          "\x03"
          "007");
  REQUIRE(Encoded("+5") == "\x02+5");
  REQUIRE(Encoded("-0") == "\x02-0");
  REQUIRE(Encoded("") == std::string("\x00", 1));
  // LZF only past 20 bytes and only when it saves space.
  REQUIRE(Encoded(std::string(20, 'a')) == "\x14" + std::string(20, 'a'));
  std::string lzf = Encoded(std::string(21, 'a'));
  REQUIRE(static_cast<uint8_t>(lzf[0]) == 0xc3);
  REQUIRE(static_cast<uint8_t>(lzf[2]) == 21);
  REQUIRE(static_cast<uint8_t>(lzf[1]) + 3 == lzf.size());
  REQUIRE(Encoded(std::string(21, 'a'), false) == "\x15" + std::string(21, 'a'));
  std::string noise = RandomBytes(100, 7);
  REQUIRE(Encoded(noise) == "\x40\x64" + noise);
}

TEST_CASE("rdb stream layout: header, aux, checksum") {
  std::vector<std::unique_ptr<Db>> dbs;
  dbs.push_back(std::make_unique<Db>(0));
  dbs[0]->SetString("a", "b");
  RdbWriteOptions opts;
  opts.aux = {{"redis-ver", "7.0.15"}};
  StringSink sink;
  REQUIRE(WriteRdb(dbs, opts, &sink).ok());
  const std::string& s = sink.data();
  std::string expect = std::string(
                           "REDIS0010\xfa\x09redis-ver\x06"
                           "7.0.15") +
                       std::string(
                           "\xfe\x00\xfb\x01\x00\x00\x01"
                           "a\x01"
                           "b\xff",
                           11);
  REQUIRE(s.substr(0, s.size() - 8) == expect);
  uint64_t crc = Crc64(0, s.data(), s.size() - 8);
  uint64_t stored = 0;
  for (int i = 0; i < 8; i++)
    stored |= uint64_t{static_cast<uint8_t>(s[s.size() - 8 + i])} << (8 * i);
  REQUIRE(stored == crc);

  opts.checksum = false;
  StringSink plain;
  REQUIRE(WriteRdb(dbs, opts, &plain).ok());
  REQUIRE(plain.data().substr(plain.data().size() - 8) == std::string(8, '\0'));
}

TEST_CASE("rdb aux fields in Redis's order") {
  RdbAuxInfo info;
  info.ctime = 1700000000;
  info.used_mem = 12345;
  auto aux = StandardAuxFields(info);
  REQUIRE(aux.size() == 5);
  REQUIRE(aux[0] == std::make_pair(std::string("redis-ver"), std::string("7.0.15")));
  REQUIRE(aux[4].first == "aof-base");
  info.repl_id = std::string(40, 'a');
  info.repl_offset = 99;
  aux = StandardAuxFields(info);
  REQUIRE(aux.size() == 8);
  REQUIRE(aux[5].first == "repl-id");
  REQUIRE(aux[6] == std::make_pair(std::string("repl-offset"), std::string("99")));
}

TEST_CASE("stock redis-check-rdb and redis-server accept what we write") {
  auto dbs = BuildDataset();
  std::string want = Digest(dbs);
  REQUIRE(want != std::string(40, '0'));

  for (int mode = 0; mode < 8; mode++) {
    bool compression = mode & 1, checksum = mode & 2, listpacks = mode & 4;
    {
      DYNAMIC_SECTION("compression " << compression << " checksum " << checksum << " listpacks "
                                     << listpacks) {
        TempDir dir;
        RdbWriteOptions opts;
        opts.compression = compression;
        opts.checksum = checksum;
        opts.listpacks = listpacks;
        RdbAuxInfo info;
        info.ctime = time(nullptr);
        info.used_mem = 1 << 20;
        opts.aux = StandardAuxFields(info);
        opts.aux.emplace_back(kRdbCairnVersionField, "0.1");
        std::string path = (dir.path / "dump.rdb").string();
        Status st = SaveRdbFile(path, dbs, opts);
        INFO(st.ToString());
        REQUIRE(st.ok());

        std::string check =
            "redis-check-rdb " + path + " >" + (dir.path / "check.log").string() + " 2>&1";
        int rc = std::system(check.c_str());
        INFO(Run("cat " + (dir.path / "check.log").string()));
        REQUIRE(WIFEXITED(rc));
        REQUIRE(WEXITSTATUS(rc) == 0);

        RedisServer server(dir.path, "dump.rdb", {"--sanitize-dump-payload", "yes"});
        bool ready = server.WaitReady();
        INFO(Run("tail -20 " + (dir.path / "redis.log").string()));
        REQUIRE(ready);
        REQUIRE(server.Cli("DEBUG DIGEST") == want);
        REQUIRE(server.Cli("DBSIZE") == std::to_string(dbs[0]->size()));
        REQUIRE(server.Cli("-n 3 GET k") == "in db 3");
        REQUIRE(std::stoll(server.Cli("PTTL set:table")) > 0);
      }
    }
  }
}

TEST_CASE("an empty dataset is a valid rdb") {
  std::vector<std::unique_ptr<Db>> dbs;
  dbs.push_back(std::make_unique<Db>(0));
  TempDir dir;
  std::string path = (dir.path / "empty.rdb").string();
  REQUIRE(SaveRdbFile(path, dbs, RdbWriteOptions{}).ok());
  REQUIRE(std::system(("redis-check-rdb " + path + " >/dev/null 2>&1").c_str()) == 0);
}

TEST_CASE("FileSink replaces the file only on commit") {
  TempDir dir;
  std::string path = (dir.path / "dump.rdb").string();
  { std::ofstream(path) << "old"; }
  auto read = [&] {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };

  SECTION("missing directory") {
    auto sink = FileSink::Create((dir.path / "nope" / "dump.rdb").string());
    REQUIRE_FALSE(sink.ok());
    REQUIRE(sink.status().code() == StatusCode::kIOError);
    REQUIRE(sink.status().message().find("No such file or directory") != std::string::npos);
  }
  SECTION("parent is a file") {
    std::vector<std::unique_ptr<Db>> dbs;
    Status s = SaveRdbFile(path + "/dump.rdb", dbs, RdbWriteOptions{});
    REQUIRE_FALSE(s.ok());
    REQUIRE(s.code() == StatusCode::kIOError);
    REQUIRE(read() == "old");
  }
  SECTION("abandoned sink leaves the old file and no temp") {
    std::string temp;
    {
      auto sink = FileSink::Create(path);
      REQUIRE(sink.ok());
      temp = (*sink)->temp_path();
      REQUIRE((*sink)->Write("new", 3).ok());
      REQUIRE(fs::exists(temp));
    }
    REQUIRE(read() == "old");
    REQUIRE_FALSE(fs::exists(temp));
  }
  SECTION("commit replaces") {
    auto sink = FileSink::Create(path);
    REQUIRE(sink.ok());
    std::string big(200000, 'n');
    REQUIRE((*sink)->Write("x", 1).ok());
    REQUIRE((*sink)->Write(big.data(), big.size()).ok());
    REQUIRE((*sink)->Commit().ok());
    REQUIRE(read() == "x" + big);
    REQUIRE_FALSE(fs::exists((*sink)->temp_path()));
  }
}

namespace {
class FailingSink : public RdbSink {
 public:
  Status Write(const void*, size_t len) override {
    if (written_ + len > 1000) return Status::IOError("disk full");
    written_ += len;
    return Status::Ok();
  }

 private:
  size_t written_ = 0;
};
}  // namespace

TEST_CASE("a failing sink stops the writer with its error") {
  auto dbs = BuildDataset();
  FailingSink sink;
  Status s = WriteRdb(dbs, RdbWriteOptions{}, &sink);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.message() == "disk full");
}

TEST_CASE("Cairn's reader loads what the writer wrote, digest unchanged") {
  auto dbs = BuildDataset();
  for (int mode = 0; mode < 4; mode++) {
    RdbWriteOptions opts;
    opts.compression = mode & 1;
    opts.listpacks = mode & 2;
    RdbAuxInfo info;
    info.ctime = 1700000000;
    info.repl_id = std::string(40, 'f');
    info.repl_offset = 1234;
    opts.aux = StandardAuxFields(info);
    opts.aux.emplace_back(kRdbCairnVersionField, "0.1");
    StringSink sink;
    REQUIRE(WriteRdb(dbs, opts, &sink).ok());

    std::vector<std::unique_ptr<Db>> loaded;
    RdbLoadInfo li;
    Status s = LoadRdbBytes(sink.data(), loaded, RdbLoadOptions{}, &li);
    INFO(s.ToString());
    REQUIRE(s.ok());
    REQUIRE(li.version == 10);
    REQUIRE(li.checksum_verified);
    REQUIRE(li.aux["redis-ver"] == "7.0.15");
    REQUIRE(li.aux["repl-offset"] == "1234");
    REQUIRE(li.aux["cairn-ver"] == "0.1");
    loaded.resize(dbs.size());
    for (size_t i = 0; i < loaded.size(); i++) {
      if (!loaded[i]) loaded[i] = std::make_unique<Db>(static_cast<int>(i));
    }
    REQUIRE(Digest(loaded) == Digest(dbs));
    REQUIRE(loaded[0]->GetExpire("ttl:string") == dbs[0]->GetExpire("ttl:string"));
  }
}

namespace {
// Type byte + value bytes of one key as the writer encodes it (DUMP's layout
// without the version and CRC trailer).
std::string ValueBytes(const Db& db, const std::string& key, const RdbWriteOptions& opts) {
  StringSink sink;
  RdbWriter w(&sink, opts);
  const store::Entry* e = const_cast<Db&>(db).FindRaw(key);
  REQUIRE(e != nullptr);
  w.WriteKey("", e, -1);
  REQUIRE(w.Finish().ok());
  const std::string& s = sink.data();
  return s.substr(0, 1) + s.substr(2, s.size() - 2 - 9);
}

std::string DumpPayload(RedisServer& server, const std::string& key) {
  std::string cmd = "redis-cli -p " + std::to_string(server.port()) + " --raw DUMP " + key;
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  pclose(p);
  REQUIRE(out.size() > 10);
  out.pop_back();                         // redis-cli's newline
  return out.substr(0, out.size() - 10);  // RDB version and CRC
}
}  // namespace

TEST_CASE("listpack values are byte-identical to Redis's DUMP") {
  TempDir dir;
  RedisServer server(dir.path, "none.rdb", {"--rdbcompression", "no"});
  REQUIRE(server.WaitReady());
  std::vector<std::string> items = {"a",
                                    "-1",
                                    "127",
                                    "128",
                                    "4095",
                                    "-4096",
                                    "4096",
                                    "32767",
                                    "-32768",
                                    "8388607",
                                    "-8388608",
                                    "8388608",
                                    "2147483647",
                                    "-2147483648",
                                    "2147483648",
                                    "9223372036854775807",
                                    "-9223372036854775808",
                                    "007",
                                    "+1",
                                    std::string(63, 'x'),
                                    std::string(64, 'y'),
                                    std::string(4095, 'z'),
                                    std::string(4096, 'w')};
  Db db(0);
  AddList(db, "l", items);
  std::string rpush = "RPUSH l";
  for (const auto& v : items) rpush += " " + v;
  REQUIRE(server.Cli(rpush) == std::to_string(items.size()));

  std::vector<std::pair<std::string, std::string>> pairs = {
      {"f1", "v1"}, {"n", "42"}, {"neg", "-70000"}, {"big", "9223372036854775807"}, {"e", "x"}};
  AddHash(db, "h", pairs);
  std::string hset = "HSET h";
  for (const auto& [f, v] : pairs) hset += " " + f + " " + v;
  REQUIRE(server.Cli(hset) == std::to_string(pairs.size()));

  std::vector<std::pair<double, std::string>> zitems = {{1, "a"},    {2.5, "b"}, {-3, "c"},
                                                        {1e20, "d"}, {0.1, "e"}, {-70000, "f"}};
  AddZSet(db, "z", zitems);
  std::string zadd = "ZADD z 1 a 2.5 b -3 c 1e20 d 0.1 e -70000 f";
  REQUIRE(server.Cli(zadd) == "6");
  REQUIRE(server.Cli("OBJECT ENCODING h") == "listpack");
  REQUIRE(server.Cli("OBJECT ENCODING z") == "listpack");

  RdbWriteOptions opts;
  opts.compression = false;
  for (const char* key : {"l", "h", "z"}) {
    INFO(key);
    REQUIRE(ValueBytes(db, key, opts) == DumpPayload(server, key));
  }
}

TEST_CASE("redis-check-rdb notices a flipped byte (the check is not vacuous)") {
  auto dbs = BuildDataset();
  TempDir dir;
  std::string path = (dir.path / "dump.rdb").string();
  REQUIRE(SaveRdbFile(path, dbs, RdbWriteOptions{}).ok());
  std::string cmd = "redis-check-rdb " + path + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x5a;
  { std::ofstream(path, std::ios::binary) << bytes; }
  REQUIRE(std::system(cmd.c_str()) != 0);
}

TEST_CASE("FileSink temp names give back the pid that writes them") {
  for (pid_t pid : {1, 4242, 4194304}) {
    const std::string temp = FileSink::TempPathFor("/var/lib/cairn/dump-20261123T030000Z.rdb", pid);
    const std::string name = temp.substr(temp.rfind('/') + 1);
    CHECK(FileSink::TempFileWriter(name) == pid);
  }
  CHECK(FileSink::TempFileWriter("dump-20261123T030000Z.rdb") == -1);
  CHECK(FileSink::TempFileWriter("temp-dump.rdb-12x.rdb") == -1);
  CHECK(FileSink::TempFileWriter("temp-dump.rdb-.rdb") == -1);
  CHECK(FileSink::TempFileWriter("temp-.rdb") == -1);
  CHECK(FileSink::TempFileWriter("temp-rewriteaof-bg-77.aof") == -1);
}
