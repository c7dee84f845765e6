// The online half of `cairn snapshot` and `cairn promote`: the same actions as on a
// snapshot directory, done by a running node over RESP (BACKUP LIST | SNAPSHOT |
// PRUNE | RESTORE | PROMOTE), with redis-cli's connection options (-h -p -s -a
// --user, REDISCLI_AUTH).
#pragma once

#include <cxxopts.hpp>
#include <string>
#include <vector>

#include "node/server/resp_client.h"

namespace cairn::server {

// -h/--host, -p/--port, -s/--socket, -a/--pass, --user (help stays --help only).
void AddConnectionOptions(cxxopts::Options& opts);
// Whether any of them was given on the command line.
bool ConnectionOptionsGiven(const cxxopts::ParseResult& r);
// The options as given; the password falls back to $REDISCLI_AUTH as in redis-cli.
ConnectOptions ConnectionFrom(const cxxopts::ParseResult& r);

struct RemoteSnapshotRequest {
  std::string action;              // list | create | prune | restore
  std::vector<std::string> names;  // restore: the one snapshot
  bool dry_run = false;            // prune
  bool force = false;              // restore: load a snapshot that did not verify
  int timeout_seconds = 3600;      // create: how long to wait for the snapshot
  ConnectOptions connection;
};

// Runs `cairn snapshot ACTION` against the node; returns the exit code.
int RemoteSnapshot(const RemoteSnapshotRequest& request);

}  // namespace cairn::server
