// Server: assembles a node — config, databases, command table, dispatcher,
// listeners — and runs the event loop with its periodic cron.
//
// DESIGN
// - One thread runs the io_context; it owns every piece of state here.
// - The cron (server.hz times a second) does Redis's background chores:
//   active expiry, incremental rehash, idle-client timeouts, instantaneous
//   metrics. A fast timer serves blocked-client deadlines while any exist.
// - SIGTERM/SIGINT and SHUTDOWN run BeginShutdown: the final save (when save
//   points exist or SHUTDOWN SAVE; a failed save keeps the node up, as Redis),
//   then listeners and clients close and the loop stops.
// - Run() loads the dataset before serving; while it loads, the loop answers
//   clients with -LOADING between chunks of the file.
#pragma once

#include <memory>
#include <string>

#include "node/base/status.h"
#include "node/commands/command.h"
#include "node/commands/dispatcher.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/net/asio.h"
#include "node/net/listener.h"
#include "node/net/poller.h"
#include "node/replication/service.h"
#include "node/server/backup_service.h"
#include "node/server/persistence_service.h"
#include "node/server/secure_service.h"
#include "node/server/supervisor.h"

namespace cairn::server {

class Server {
 public:
  explicit Server(config::Config config);
  ~Server();

  // Binds listeners and prepares state; logs Redis's startup lines.
  Status Init();
  // Runs the loop until shutdown; returns the process exit code.
  int Run();

  cmd::ServerState& state() { return state_; }

 private:
  void ScheduleCron();
  void Cron();
  void ScheduleBlockTimer();
  void ActiveExpireCycle();
  void CloseIdleClients();
  void SampleMetrics();
  bool FreeMemoryIfNeeded();
  // Saves (per config and SHUTDOWN flags), closes clients and stops the loop;
  // false when the final save failed and the node keeps serving.
  bool BeginShutdown();
  void WaitForSignals();
  void InstallConfigHooks();
  // `pidfile`: written once the listeners are up, removed at a clean exit.
  void WritePidFile();
  void RemovePidFile();

  boost::asio::io_context io_;
  config::Config config_;
  cmd::CommandTable commands_;
  cmd::ServerState state_;
  cmd::Dispatcher dispatcher_;
  std::unique_ptr<net::Poller> poller_;
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<PersistenceService> persistence_;
  std::unique_ptr<SecureService> secure_;
  std::unique_ptr<repl::ReplicationService> replication_;
  std::unique_ptr<BackupService> backup_;
  std::unique_ptr<Supervisor> supervisor_;
  bool stopping_ = false;
  boost::asio::steady_timer cron_timer_;
  boost::asio::steady_timer block_timer_;
  boost::asio::signal_set signals_;
  int cron_loops_ = 0;
  size_t expire_db_ = 0;
  // Instantaneous metrics ring (as Redis's STATS_METRIC_SAMPLES = 16).
  struct Sample {
    int64_t time_us = 0;
    uint64_t ops = 0, in = 0, out = 0;
  } last_sample_;
  double ops_samples_[16] = {0}, in_samples_[16] = {0}, out_samples_[16] = {0};
  int sample_idx_ = 0;
  int64_t last_metrics_ms_ = 0;
};

}  // namespace cairn::server
