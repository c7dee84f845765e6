// Loads an RDB file (versions 1..10, as Redis 7.0 writes and reads them) into Cairn's
// databases. Files are memory-mapped and parsed in place (no heap copy of the file).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/base/status.h"
#include "node/store/db.h"
#include "node/store/hash_type.h"
#include "node/store/set_type.h"
#include "node/store/zset_type.h"

namespace cairn::persist {

struct RdbLoadOptions {
  bool keep_expired = false;    // replicas keep keys whose TTL already passed
  bool verify_checksum = true;  // a stored checksum of zero is never verified
  int64_t now_ms = 0;           // 0: base::NowMs()
  bool skip_streams = false;    // pass over stream keys instead of refusing the file
  // Verification: every key is parsed and built, counted, then dropped, so
  // memory stays at one value (duplicate keys go unnoticed in this mode).
  bool discard_keys = false;
  size_t databases = 16;  // used when `dbs` is passed empty
  int64_t list_fill = -2;
  store::HashLimits hash{512, 64};
  store::ZSetLimits zset{128, 64};
  store::SetLimits set{512, 128, 64};
  // Called every 1024 keys with (bytes parsed, file size): the server serves
  // clients (-LOADING) and logs progress from it. Returning false stops the
  // load with an Aborted status.
  std::function<bool(size_t, size_t)> progress;
};

struct RdbLoadInfo {
  int version = 0;
  std::map<std::string, std::string> aux;  // redis-ver, ctime, used-mem, repl-id ...
  std::vector<std::string> functions;      // FUNCTION2 library sources
  uint64_t keys_loaded = 0;
  uint64_t keys_expired = 0;  // dropped because their TTL had passed
  uint64_t empty_keys_skipped = 0;
  uint64_t streams_skipped = 0;  // with RdbLoadOptions::skip_streams
  bool checksum_verified = false;
};

// Parses `data` (a whole RDB image). Keys go into `dbs` (created when empty); a key
// already present is an error. On error the databases may hold a partial load.
Status LoadRdbBytes(std::string_view data, std::vector<std::unique_ptr<store::Db>>& dbs,
                    const RdbLoadOptions& opts, RdbLoadInfo* info);

// Maps the file at `path` read-only and calls LoadRdbBytes on it.
Status LoadRdbFile(const std::string& path, std::vector<std::unique_ptr<store::Db>>& dbs,
                   const RdbLoadOptions& opts, RdbLoadInfo* info);

}  // namespace cairn::persist
