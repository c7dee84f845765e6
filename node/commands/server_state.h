// ServerState: the node's shared state as the command layer sees it — the
// databases, config, connected clients, pub/sub, WATCH and blocking registries,
// statistics. Owned by the event-loop thread; the server module builds it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "node/commands/backup.h"
#include "node/commands/client_state.h"
#include "node/commands/command.h"
#include "node/commands/persistence.h"
#include "node/commands/propagate.h"
#include "node/commands/replication.h"
#include "node/config/config.h"
#include "node/store/db.h"

namespace cairn::cmd {

struct ServerStats {
  uint64_t total_connections_received = 0;
  uint64_t total_commands_processed = 0;
  uint64_t rejected_connections = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  uint64_t total_error_replies = 0;
  uint64_t unexpected_error_replies = 0;
  uint64_t client_qbuf_limit_disconnections = 0;
  uint64_t client_outbuf_limit_disconnections = 0;
  uint64_t pubsub_channels_hits = 0;
  uint64_t total_blocking_keys = 0;
  std::map<std::string, uint64_t> errorstats;  // "ERR" -> count
  // Instantaneous metrics, sampled by the cron (samples per metric).
  double instantaneous_ops_per_sec = 0;
  double instantaneous_input_kbps = 0;
  double instantaneous_output_kbps = 0;
};

// (db, key) as a map key.
using DbKey = std::pair<int, std::string>;

struct ServerState {
  config::Config* config = nullptr;
  CommandTable* commands = nullptr;
  std::vector<std::unique_ptr<store::Db>> dbs;
  ServerStats stats;
  int64_t start_time_ms = 0;
  std::string run_id;         // 40 hex chars
  int port = 0;               // the TCP port actually bound
  size_t startup_memory = 0;  // used_memory right after startup
  std::string executable;
  int64_t dirty = 0;  // changes since the last save
  int64_t lastsave_s = 0;
  bool loading = false;
  PersistStats persist;
  // Propagation (propagate.h): where writes go (AOF, replicas), the ops of the
  // running top-level call, and how deep the dispatcher's calls are nested.
  std::vector<PropagationSink*> propagation_sinks;
  std::vector<PropagatedOp> pending_ops;
  int call_depth = 0;
  PersistenceControl* persistence = nullptr;  // set by the server module
  ReplicationControl* replication = nullptr;  // set by the server module
  BackupControl* backup = nullptr;            // set by the server module
  const int64_t* repl_offset = nullptr;       // master_repl_offset, owned by replication
  ReplStats repl_stats;
  bool active_expire_enabled = true;  // DEBUG SET-ACTIVE-EXPIRE

  // Clients by id (CLIENT LIST order).
  std::map<uint64_t, ClientState*> clients;
  uint64_t next_client_id = 1;
  uint64_t blocked_clients = 0;

  // Pub/Sub: channel -> subscribers, pattern -> subscribers.
  std::unordered_map<std::string, std::set<ClientState*>> channels;
  std::map<std::string, std::set<ClientState*>> patterns;
  // Sharded Pub/Sub: shard channel -> subscribers (SSUBSCRIBE).
  std::unordered_map<std::string, std::set<ClientState*>> shard_channels;

  // WATCH: (db,key) -> clients watching it.
  std::map<DbKey, std::set<ClientState*>> watched_keys;
  // Blocking: (db,key) -> clients in arrival order; keys made ready by the
  // current command, served after it.
  std::map<DbKey, std::deque<ClientState*>> blocking_keys;
  std::vector<DbKey> ready_keys;

  // Set by SHUTDOWN; the server stops its loop when it sees it.
  bool shutdown_requested = false;
  bool shutdown_save = false;
  bool shutdown_nosave = false;
  bool shutdown_force = false;  // exit even if the final save fails
  // Hooks the server module installs. request_shutdown returns false when the
  // shutdown cannot proceed (the final save failed); the node keeps serving.
  std::function<bool()> request_shutdown;
  // INFO secure's fields (the secure channel service fills them).
  std::function<std::vector<std::pair<std::string, std::string>>()> secure_info;

  store::Db& db(int i) { return *dbs[static_cast<size_t>(i)]; }
  int db_count() const { return static_cast<int>(dbs.size()); }
  uint64_t KeyCount() const {
    uint64_t n = 0;
    for (const auto& d : dbs) n += d->size();
    return n;
  }
};

}  // namespace cairn::cmd
