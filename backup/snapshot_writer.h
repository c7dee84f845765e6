// Writing one snapshot into the snapshot directory, so that it only counts once it
// is whole and checked:
//
//   1. the RDB goes to a temp file beside its final name (temp-<name>-<pid>.rdb),
//      flushed and fsynced;
//   2. the temp file is read back and parsed in full (CRC64 included);
//   3. the manifest (<name>.meta, verified: yes) is written atomically;
//   4. the RDB is renamed to its final name and the directory fsynced.
//
// A failure at any step removes the temp file and leaves every other snapshot as it
// was; a crash leaves at most a temp file or a manifest without its RDB, which
// RemoveLeftovers() clears (a node calls it at startup). A child whose node was
// killed keeps writing and names its snapshot when done, as Redis's BGSAVE child. Listing reads .rdb names,
// so neither leftover is ever taken for a snapshot.
#pragma once

#include <functional>
#include <string>

#include "backup/snapshot_store.h"
#include "node/base/status.h"
#include "node/persistence/rdb_write_sink.h"

namespace cairn::backup {

// Writes `meta.name` in `dir` with `write` (which streams the RDB into the sink) and
// returns the manifest written for it. Runs in a forked child or, for a guard
// snapshot that cannot wait, in the node's loop.
Result<SnapshotMeta> WriteSnapshot(const std::string& dir, SnapshotMeta meta,
                                   const std::function<Status(persist::RdbSink*)>& write);

// Removes what interrupted snapshots left in `dir`: temp files of `prefix` snapshots
// whose writer is dead (a child outliving its killed node finishes its own) and
// manifests whose RDB is missing. Returns how many files went.
Result<int> RemoveLeftovers(const std::string& dir, const std::string& prefix);

// The name for a snapshot taken at `unix_seconds` that no file in `dir` has yet:
// the next free second when two snapshots fall in the same one.
std::string FreeSnapshotName(const std::string& dir, const std::string& prefix,
                             int64_t unix_seconds);

}  // namespace cairn::backup
