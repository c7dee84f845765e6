// `cairn snapshot list|create|verify|prune|restore` and `cairn promote`: a backup
// node's snapshots, either through the running node over RESP (BACKUP ..., with
// redis-cli's connection options) or offline on its snapshot directory (--dir).
// Output is a table for people; exit codes say whether the action went through.
#pragma once

#include <string>
#include <vector>

namespace cairn::server {

int RunSnapshot(const std::vector<std::string>& args);
// Runs on a live node only: promotion changes a running process (snapshot_remote.cc).
int RunPromote(const std::vector<std::string>& args);

}  // namespace cairn::server
