// The tables `cairn snapshot` prints, the same whether the snapshots were read from
// a directory (offline) or from a running node's BACKUP LIST / BACKUP PRUNE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/retention.h"
#include "backup/snapshot_store.h"

namespace cairn::server {

std::string HumanSize(uint64_t bytes);

// The header line and one line per snapshot: name, time (UTC), kind, size, keys,
// verification.
void PrintSnapshotHeader();
void PrintSnapshotRow(const backup::SnapshotMeta& m);
// Header, a row each and "N snapshot(s), SIZE".
void PrintSnapshotList(const std::vector<backup::SnapshotMeta>& list);

// Prune decisions (newest first) as NAME, TAKEN, ACTION, WHY and a summary line.
void PrintPruneDecisions(const std::vector<backup::RetentionDecision>& decisions, bool dry_run);

}  // namespace cairn::server
