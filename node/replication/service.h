// ReplicationService: the node's replication role — master of its replicas,
// replica of its master, or both (a chained replica) — behind
// cmd::ReplicationControl. It owns the replication ids, the master side
// (ReplicationMaster) and the link to this node's master (MasterConnection).
//
// DESIGN
// - The ids follow Redis 7.0's PSYNC2 rules: a replica adopts its master's id
//   and offset; REPLICAOF NO ONE shifts the id into replid2 (valid up to
//   second_repl_offset) so replicas of the old master continue by partial
//   resync; becoming a replica keeps the node's own history as a "cached
//   master"; every RDB carries repl-id/repl-offset so a restart can continue.
// - A replica proxies its master's stream verbatim to its backlog and
//   sub-replicas, so offsets agree along a chain.
// - The config's replicaof stays in step with REPLICAOF, so CONFIG GET/REWRITE
//   and every check of "am I a replica" see the runtime role.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "node/commands/dispatcher.h"
#include "node/commands/replication.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/net/asio.h"
#include "node/net/byte_stream.h"
#include "node/persistence/rdb_reader.h"
#include "node/persistence/rdb_writer.h"
#include "node/replication/master.h"
#include "node/replication/replica.h"

namespace cairn::repl {

// How a replica loads what its master sent (PersistenceService implements it).
class DatasetLoader {
 public:
  virtual ~DatasetLoader() = default;
  // With `swap`, `accept` (when set) sees what was loaded before it replaces
  // the old data; false drops it and returns Status::Refused.
  virtual Status LoadReplicationRdb(
      const std::string& path, std::string_view data, bool swap, persist::RdbLoadInfo* info,
      const std::function<bool(const persist::RdbLoadInfo&)>& accept = nullptr) = 0;
};

// What a backup node adds to a full sync (BackupService implements it).
class SyncGuard {
 public:
  virtual ~SyncGuard() = default;
  // A full sync is about to replace a dataset of `held` keys (guard snapshot);
  // the replication history still describes the data at this point.
  virtual void BeforeReplace(uint64_t held) = 0;
  // The data now follows the configured master: after a full sync (`full`) or
  // an accepted partial resync.
  virtual void Synced(bool full) = 0;
  // Whether a dataset of `held` keys may be checked against what arrives
  // before it is dropped (the load then goes into fresh databases).
  virtual bool MayRefuse(uint64_t held) const = 0;
  // Whether to take `incoming` keys in place of `held`; false refuses the sync
  // (the guard logs and counts it) and keeps the data.
  virtual bool Accept(uint64_t held, uint64_t incoming) = 0;
  // Seconds before the replica asks its master again after the n-th refusal.
  virtual int RetryDelaySeconds(int refusals) const = 0;
};

class ReplicationService : public cmd::ReplicationControl, public ReplicaHost {
 public:
  ReplicationService(cmd::ServerState& state, config::Config& config, boost::asio::io_context& io,
                     cmd::Dispatcher& dispatcher, SnapshotSource& snapshots, DatasetLoader& loader,
                     std::unique_ptr<net::Connector> connector);
  ~ReplicationService() override;

  // After the dataset was loaded at startup: restores the history the RDB
  // carried (repl-id/repl-offset) and connects to a configured master.
  void Start(const std::map<std::string, std::string>& startup_aux);
  // Every server cron tick.
  void Cron();
  // rdbPopulateSaveInfo: the replication aux fields for an RDB being written.
  bool FillSaveInfo(persist::RdbAuxInfo* aux);
  void OnRdbChildDone(bool ok, bool to_pipe) { master_.OnRdbChildDone(ok, to_pipe); }
  // Called from the loop's turns while a dataset loads: while it is the master's,
  // a newline a second tells the master this replica is alive (as Redis's replicas
  // do), so its repl-timeout does not drop a replica busy loading a large RDB.
  void WhileLoading();
  void OnBacklogSizeChange();
  // End of an event batch: the stream fed by its commands leaves now.
  void BeforeReplies() { master_.FlushLinks(); }
  // Shutdown: close links.
  void Stop();

  // cmd::ReplicationControl
  bool IsReplica() const override { return !master_host_.empty(); }
  bool MasterLinkUp() const override;
  int GoodReplicas() const override { return master_.GoodReplicas(); }
  Result<std::string> ReplicaOf(cmd::ClientState& c, const std::string& host, int port) override;
  bool Sync(cmd::ClientState& c, const std::vector<std::string>& argv) override;
  void Wait(cmd::ClientState& c, int64_t numreplicas, int64_t timeout_ms) override;
  void Role(cmd::ClientState& c) override;
  void InfoFields(std::vector<std::pair<std::string, std::string>>* out) override;
  uint64_t BacklogMemory() const override;
  void Promote(bool dataset_replaced) override;
  void set_sync_guard(SyncGuard* g) { guard_ = g; }

  // ReplicaHost
  std::pair<std::string, int64_t> PsyncArgs() override;
  void FullSyncStarted() override;
  Status LoadFromMaster(const std::string& path, std::string_view data, bool swap) override;
  void FullSyncDone(const std::string& replid, int64_t offset, int stream_db) override;
  void PartialSyncAccepted(const std::string& replid) override;
  void Execute(cmd::ClientState& master, const std::vector<std::string_view>& argv) override;
  void Applied(std::string_view bytes) override;
  int64_t Offset() const override { return ids_.offset; }
  void LinkLost(bool was_connected, bool reconnect_now) override;
  bool DatasetEmpty() const override;
  void AccountTransfer(size_t n) override;

  const ReplIds& ids() const { return ids_; }
  // Where the link to the master stands, in a line (the supervisor's STATUS=).
  std::function<void(const std::string&)> on_status;

 private:
  enum class Link { kNone, kConnect, kConnecting, kUp };
  void SetMaster(const std::string& host, int port, bool at_runtime);
  void UnsetMaster();
  void Connect();
  void DropConnection();
  void SyncConfig();

  cmd::ServerState& state_;
  config::Config& config_;
  boost::asio::io_context& io_;
  cmd::Dispatcher& dispatcher_;
  DatasetLoader& loader_;
  std::unique_ptr<net::Connector> connector_;
  ReplIds ids_;
  ReplicationMaster master_;
  std::string master_host_;
  int master_port_ = 0;
  Link link_ = Link::kNone;
  std::shared_ptr<MasterConnection> conn_;
  uint64_t connect_generation_ = 0;
  int64_t last_connect_ms_ = 0;
  int64_t link_down_since_ms_ = 0;  // 0: never had a link
  int64_t last_ack_ms_ = 0;
  bool have_history_ = false;  // Redis's cached master: PSYNC <replid> <offset+1>
  int cached_db_ = 0;
  SyncGuard* guard_ = nullptr;
  int refusals_ = 0;           // consecutive refused syncs
  int64_t hold_until_ms_ = 0;  // no reconnect before (after a refused sync)
  bool loading_from_master_ = false;
  int64_t last_loading_newline_ms_ = 0;
};

}  // namespace cairn::repl
