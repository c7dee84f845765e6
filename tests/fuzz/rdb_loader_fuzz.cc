// libFuzzer target for the RDB loader: arbitrary bytes are loaded with checksum checks
// off (so mutations reach every decoder); a file that loads is written back with
// WriteRdb and must load again to the same DEBUG DIGEST (round-trip oracle).
// Run: build-fuzz/tests/fuzz/rdb_loader_fuzz <scratch dir> tests/fuzz/corpus/rdb -max_len=65536
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/persistence/rdb_reader.h"
#include "node/persistence/rdb_write_sink.h"
#include "node/persistence/rdb_writer.h"
#include "node/store/db.h"
#include "node/store/digest.h"

namespace {

using cairn::Status;
using cairn::persist::RdbLoadInfo;
using cairn::persist::RdbLoadOptions;
using Dbs = std::vector<std::unique_ptr<cairn::store::Db>>;

void Require(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "rdb_loader_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

std::string Digest(Dbs& dbs) {
  std::vector<cairn::store::Db*> raw;
  for (auto& d : dbs) raw.push_back(d.get());
  return cairn::store::DatasetDigestHex(raw.data(), raw.size());
}

RdbLoadOptions Options(bool verify) {
  RdbLoadOptions opts;
  opts.verify_checksum = verify;
  opts.keep_expired = true;  // no wall clock: every TTL survives both loads
  opts.now_ms = 1;
  opts.skip_streams = true;  // walk stream values too instead of stopping at them
  return opts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Dbs dbs;
  RdbLoadInfo info;
  Status s = cairn::persist::LoadRdbBytes(in, dbs, Options(false), &info);
  if (!s.ok()) {
    Require(!s.message().empty(), "error without a message");
    return 0;
  }
  // With verification on, the same bytes load too unless the stored CRC is wrong.
  {
    Dbs checked;
    RdbLoadInfo checked_info;
    Status v = cairn::persist::LoadRdbBytes(in, checked, Options(true), &checked_info);
    Require(v.ok() || v.message().find("checksum mismatch") != std::string::npos,
            "verified load failed differently:", v.message());
  }
  // Writer modes picked from the input so every combination is exercised.
  cairn::persist::RdbWriteOptions wopts;
  wopts.compression = (size & 1) != 0;
  wopts.listpacks = (size & 2) != 0;
  cairn::persist::StringSink sink;
  Status w = cairn::persist::WriteRdb(dbs, wopts, &sink);
  Require(w.ok(), "WriteRdb failed:", w.message());
  Dbs again;
  RdbLoadInfo again_info;
  Status r = cairn::persist::LoadRdbBytes(sink.data(), again, Options(true), &again_info);
  Require(r.ok(), "reloading Cairn's own output failed:", r.message());
  Require(again_info.checksum_verified, "written file's checksum was not verified");
  Require(Digest(dbs) == Digest(again), "digest changed across the round trip");
  return 0;
}
