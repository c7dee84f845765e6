// AofManifest: Redis 7's multi-part AOF layout — a directory (appenddirname)
// holding one BASE file (an RDB preamble, "<name>.<seq>.base.rdb"), INCR files
// of commands ("<name>.<seq>.incr.aof"), HISTORY files awaiting deletion, and
// the manifest "<name>.manifest" listing them with lines
//   file <filename> seq <n> type <b|i|h>
// Cairn reads and writes exactly this format, so stock Redis 7.0 loads a
// Cairn AOF directory and Cairn loads Redis's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "node/base/status.h"

namespace cairn::persist {

struct AofFile {
  std::string name;  // inside the AOF directory
  int64_t seq = 0;
  char type = 'i';  // 'b' base, 'i' incr, 'h' history
};

struct AofManifest {
  std::vector<AofFile> files;  // base first, then history, then incr (in order)

  const AofFile* base() const;
  std::vector<const AofFile*> incrs() const;
  int64_t NextBaseSeq() const;
  int64_t NextIncrSeq() const;
  // The manifest text, in Redis's order.
  std::string Format() const;
};

// Parses manifest text; errors name the line.
Result<AofManifest> ParseAofManifest(const std::string& text);
// Reads "<dir>/<name>.manifest"; NotFound when it does not exist.
Result<AofManifest> LoadAofManifest(const std::string& aof_dir, const std::string& appendfilename);
// Writes the manifest atomically (temp file, fsync, rename, fsync dir).
Status SaveAofManifest(const std::string& aof_dir, const std::string& appendfilename,
                       const AofManifest& m);

std::string AofBaseName(const std::string& appendfilename, int64_t seq, bool rdb_preamble);
std::string AofIncrName(const std::string& appendfilename, int64_t seq);
std::string AofManifestName(const std::string& appendfilename);

}  // namespace cairn::persist
