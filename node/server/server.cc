// Server assembly, event loop, cron and eviction.
#include "node/server/server.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/base/memory.h"
#include "node/commands/config_commands.h"
#include "node/commands/propagate.h"
#include "node/commands/transaction.h"
#include "node/store/hash_table.h"

namespace cairn::server {

namespace asio = boost::asio;

namespace {

// A relative path is under `dir`, where Redis (which chdirs there) puts it.
std::string InDir(const config::Values& cfg, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return cfg.dir + "/" + path;
}

std::string RandomHex(size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s(n, '0');
  for (auto& c : s) c = kHex[randombytes_uniform(16)];
  return s;
}

}  // namespace

Server::Server(config::Config config)
    : config_(std::move(config)),
      dispatcher_(state_),
      cron_timer_(io_),
      block_timer_(io_),
      signals_(io_, SIGTERM, SIGINT) {}

Server::~Server() {
  if (persistence_) {
    persistence_->on_rdb_child_done = nullptr;
    persistence_->repl_save_info = nullptr;
    persistence_->serve_while_loading = nullptr;
  }
  backup_.reset();
  replication_.reset();
}

Status Server::Init() {
  if (sodium_init() < 0) return Status::IOError("libsodium failed to initialize");
  store::InitHashSeed();
  const auto& cfg = config_.v();
  log::Server().warn("oO0OoO0OoO0Oo Cairn is starting oO0OoO0OoO0Oo");
  log::Server().warn("Cairn version={}, bits=64, pid={}, just started", CAIRN_VERSION, getpid());
  log::Server().warn(config_.config_file().empty()
                         ? "Warning: no config file specified, using the default config."
                         : "Configuration loaded");

  cmd::RegisterAllCommands(commands_);
  for (const auto& [from, to] : cfg.rename_commands) {
    // Already checked line by line while the config was read (cli.cc).
    if (Status rs = commands_.Rename(from, to); !rs.ok()) {
      return Status::InvalidArgument("rename-command " + from + ": " + rs.message());
    }
  }
  state_.config = &config_;
  state_.commands = &commands_;
  for (int i = 0; i < cfg.databases; i++) state_.dbs.push_back(std::make_unique<store::Db>(i));
  state_.start_time_ms = base::RealWallMs();
  state_.lastsave_s = state_.start_time_ms / 1000;
  state_.run_id = RandomHex(40);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) state_.executable.assign(exe, static_cast<size_t>(n));
  state_.request_shutdown = [this] { return BeginShutdown(); };
  supervisor_ = std::make_unique<Supervisor>(cfg.supervised);
  persistence_ = std::make_unique<PersistenceService>(state_, config_);
  poller_ = std::make_unique<net::Poller>(io_);
  if (Status ps = poller_->Init(); !ps.ok()) return ps;
  secure_ = std::make_unique<SecureService>(io_, *poller_, state_, dispatcher_, config_);
  if (Status ss = secure_->Init(); !ss.ok()) return ss;
  state_.secure_info = [this] { return secure_->InfoFields(); };
  replication_ = std::make_unique<repl::ReplicationService>(
      state_, config_, io_, dispatcher_, *persistence_, *persistence_, secure_->MakeConnector());
  backup_ = std::make_unique<BackupService>(state_, config_, *persistence_, *replication_);
  if (Status bs = backup_->Init(); !bs.ok()) return bs;
  persistence_->repl_save_info = [this](persist::RdbAuxInfo* aux) {
    return replication_->FillSaveInfo(aux);
  };
  persistence_->on_rdb_child_done = [this](bool ok, bool to_pipe) {
    replication_->OnRdbChildDone(ok, to_pipe);
  };
  replication_->on_status = [this](const std::string& text) { supervisor_->Status(text); };
  persistence_->serve_while_loading = [this] {
    replication_->WhileLoading();
    io_.poll();
    return !stopping_;
  };
  dispatcher_.free_memory_if_needed = [this] { return FreeMemoryIfNeeded(); };
  cmd::SetExecDispatcher(&dispatcher_);
  // A key that expires invalidates WATCHers, as a write would.
  store::Hooks().on_expired = [this](int db, std::string_view key) {
    cmd::PropagateDeletion(state_, db, key, config_.v().lazyfree_lazy_expire);
    cmd::TouchWatchedKeyOnExpire(state_, db, key);
  };
  InstallConfigHooks();
  store::Hooks().is_replica = !cfg.replicaof.empty();

  poller_->before_flush = [this] {
    persistence_->BeforeReplies();
    replication_->BeforeReplies();
  };
  listener_ = std::make_unique<net::Listener>(io_, *poller_, state_, dispatcher_);
  Status s = listener_->Listen(cfg.bind, cfg.port);
  if (!s.ok()) return s;
  state_.port = listener_->port();
  if (!cfg.unixsocket.empty()) {
    if (Status us = listener_->ListenUnix(cfg.unixsocket, cfg.unixsocketperm); !us.ok()) return us;
  }
  log::Server().info("Running mode=standalone, port={}.", listener_->port());
  // As Redis: the pid file appears once the listeners are up.
  WritePidFile();
  log::Server().info("Server initialized");
  WaitForSignals();
  ScheduleCron();
  ScheduleBlockTimer();
  state_.startup_memory = base::UsedMemory();
  return Status::Ok();
}

void Server::WritePidFile() {
  const std::string& pidfile = config_.v().pidfile;
  if (pidfile.empty()) return;
  // Best effort, as Redis: a node that cannot write it keeps running (Redis
  // says nothing; Cairn logs why).
  std::string path = InDir(config_.v(), pidfile);
  std::string text = std::to_string(getpid()) + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = ok ? 0 : errno;
  if (fd >= 0 && close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) log::Server().warn("Failed to write PID file {}: {}", path, strerror(err));
}

void Server::RemovePidFile() {
  const std::string& pidfile = config_.v().pidfile;
  if (pidfile.empty()) return;
  log::Server().info("Removing the pid file.");
  unlink(InDir(config_.v(), pidfile).c_str());
}

void Server::WaitForSignals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::Server().warn("Received {} scheduling shutdown...", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    // shutdown-on-sigterm / shutdown-on-sigint: "default" or SHUTDOWN's flags.
    const std::string& how =
        sig == SIGTERM ? config_.v().shutdown_on_sigterm : config_.v().shutdown_on_sigint;
    state_.shutdown_save =
        how.find("save") != std::string::npos && how.find("nosave") == std::string::npos;
    state_.shutdown_nosave = how.find("nosave") != std::string::npos;
    state_.shutdown_force = how.find("force") != std::string::npos;
    if (!BeginShutdown()) WaitForSignals();
  });
}

int Server::Run() {
  auto serve = [this] {
    io_.poll();
    return !stopping_;
  };
  // AOF commands run as Redis's fake AOF client: straight to the handler.
  auto exec = [this](cmd::ClientState& c, const std::vector<std::string_view>& argv) -> Status {
    const cmd::CommandSpec* spec = commands_.Resolve(argv);
    if (spec == nullptr || spec->handler == nullptr)
      return Status::Corruption("Unknown command '" + std::string(argv[0]) + "'");
    if (!spec->CheckArity(argv.size()))
      return Status::Corruption("Wrong number of arguments for '" + spec->name + "'");
    dispatcher_.Call(c, *spec, argv);
    c.out.clear();
    return Status::Ok();
  };
  supervisor_->Status("Loading the dataset");
  Status loaded = persistence_->LoadAtStartup(serve, exec);
  if (!loaded.ok() && !stopping_) {
    log::Server().warn("Fatal error loading the DB: {}. Exiting.", loaded.message());
    return 1;
  }
  if (!stopping_) {
    replication_->Start(persistence_->startup_aux());
    log::Server().info("Ready to accept connections");
    // A replica serves (read-only) before its first sync, as Redis: a backup node
    // waiting for a WAN master must not hold up the boot.
    supervisor_->Ready(replication_->IsReplica() ? "Ready to accept connections in read-only "
                                                   "mode. Waiting for MASTER <-> REPLICA sync"
                                                 : "Ready to accept connections");
  }
  io_.run();
  RemovePidFile();
  log::Server().warn("Cairn is now ready to exit, bye bye...");
  return 0;
}

void Server::InstallConfigHooks() {
  // Directives whose new value must reach running state at once.
  auto relog = [this] { return log::Setup(config_.v().loglevel, config_.v().logfile); };
  for (const char* name : {"secure-allow", "secure-master-public-key", "secure-compression",
                           "secure-compression-level", "secure-max-bandwidth", "secure-keepalive",
                           "secure-timeout", "secure-rekey-interval", "secure-handshake-timeout",
                           "secure-max-pending-handshakes", "secure-handshake-rate"}) {
    config_.OnChange(name, [this] { return secure_->ApplyConfig(); });
  }
  for (const char* name :
       {"backup-mode", "backup-guard", "backup-refuse-empty-sync", "backup-sync-min-keys-percent",
        "snapshot-dir", "snapshot-prefix", "snapshot-interval", "snapshot-at", "snapshot-timezone",
        "snapshot-keep", "replica-read-only"}) {
    config_.OnChange(name, [this] { return backup_->ApplyConfig(); });
  }
  config_.OnChange("loglevel", relog);
  config_.OnChange("logfile", relog);
  config_.OnChange("appendonly",
                   [this] { return persistence_->SetAppendOnly(config_.v().appendonly); });
  config_.OnChange("repl-backlog-size", [this] {
    replication_->OnBacklogSizeChange();
    return Status::Ok();
  });
  config_.OnChange("maxmemory", [this] {
    FreeMemoryIfNeeded();
    return Status::Ok();
  });
  cmd::ClearResetStatsHooks();
  cmd::SetResetStatsHook([] {
    store::Stats() = store::KeyspaceStats{};
    base::ResetPeakMemory();
  });
}

bool Server::BeginShutdown() {
  if (stopping_) return true;
  supervisor_->Stopping();
  if (!persistence_->PrepareForShutdown(state_.shutdown_save, state_.shutdown_nosave,
                                        state_.shutdown_force)) {
    state_.shutdown_save = state_.shutdown_nosave = state_.shutdown_force = false;
    supervisor_->Ready("Ready to accept connections (shutdown refused: the final save failed)");
    return false;
  }
  stopping_ = true;
  state_.shutdown_requested = true;
  replication_->Stop();
  if (listener_) listener_->Stop();
  if (secure_) secure_->Stop();
  crypto::SecureStream::CloseAll("shutting down");
  // Close clients after their pending replies; then stop the loop.
  std::vector<cmd::ClientState*> clients;
  for (auto& [id, c] : state_.clients) clients.push_back(c);
  for (auto* c : clients) {
    if (c->io) c->io->Close(false);
  }
  signals_.cancel();
  cron_timer_.cancel();
  block_timer_.cancel();
  io_.stop();
  return true;
}

void Server::ScheduleCron() {
  int hz = config_.v().hz;
  if (hz < 1) hz = 1;
  if (hz > 500) hz = 500;
  cron_timer_.expires_after(std::chrono::milliseconds(1000 / hz));
  cron_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Cron();
    ScheduleCron();
  });
}

void Server::ScheduleBlockTimer() {
  // Blocked-client deadlines need better than cron precision (BLPOP 0.1).
  block_timer_.expires_after(std::chrono::milliseconds(state_.blocked_clients ? 5 : 50));
  block_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (state_.blocked_clients) dispatcher_.ExpireBlocked(base::RealWallMs());
    ScheduleBlockTimer();
  });
}

void Server::Cron() {
  base::ScopedCommandTime frozen;
  cron_loops_++;
  supervisor_->WatchdogTick(base::NowMs());
  SampleMetrics();
  persistence_->Cron();
  if (state_.loading) return;
  replication_->Cron();
  backup_->Cron();
  if (state_.active_expire_enabled) ActiveExpireCycle();
  // Incremental rehash: a bounded step per db, as Redis's activerehashing.
  for (auto& db : state_.dbs) db->RehashStep(100);
  if (cron_loops_ % 10 == 0) {
    for (auto& db : state_.dbs) db->ShrinkIfSparse();
  }
  CloseIdleClients();
  base::UpdatePeakMemory();
  if (config_.v().maxmemory > 0) FreeMemoryIfNeeded();
}

void Server::ActiveExpireCycle() {
  // Redis's slow cycle: sample keys with a TTL in each db, repeat while more
  // than 10% of a sample was expired, within 25% of a cron period.
  int hz = config_.v().hz > 0 ? config_.v().hz : 10;
  int64_t budget_us = 1000000 / hz / 4;
  int64_t start = base::MonotonicUs();
  size_t ndb = state_.dbs.size();
  for (size_t n = 0; n < ndb; n++) {
    store::Db& db = *state_.dbs[expire_db_];
    expire_db_ = (expire_db_ + 1) % ndb;
    if (db.expires_size() == 0) continue;
    for (int iter = 0; iter < 1000; iter++) {
      size_t expired = db.ActiveExpire(20);
      if (expired < 3) break;  // under ~10% of the sample: this db is clean enough
      if (base::MonotonicUs() - start > budget_us) return;
    }
    if (base::MonotonicUs() - start > budget_us) return;
  }
}

void Server::CloseIdleClients() {
  int timeout = config_.v().timeout;
  if (timeout <= 0) return;
  int64_t now = base::RealWallMs();
  std::vector<cmd::ClientState*> idle;
  for (auto& [id, c] : state_.clients) {
    if (c->has(cmd::kBlocked) || c->has(cmd::kMaster) || c->has(cmd::kReplica) ||
        c->subscriptions() > 0)
      continue;
    if (now - c->last_interaction_ms > static_cast<int64_t>(timeout) * 1000) idle.push_back(c);
  }
  for (auto* c : idle) {
    log::Net().debug("Closing idle client id={} addr={}", c->id, c->addr);
    if (c->io) c->io->Close(false);
  }
}

void Server::SampleMetrics() {
  int64_t now_ms = base::RealWallMs();
  if (now_ms - last_metrics_ms_ < 100) return;
  last_metrics_ms_ = now_ms;
  int64_t now_us = base::MonotonicUs();
  const auto& st = state_.stats;
  if (last_sample_.time_us != 0) {
    double dt = (now_us - last_sample_.time_us) / 1e6;
    if (dt > 0) {
      ops_samples_[sample_idx_] = (st.total_commands_processed - last_sample_.ops) / dt;
      in_samples_[sample_idx_] = (st.net_input_bytes - last_sample_.in) / dt / 1024;
      out_samples_[sample_idx_] = (st.net_output_bytes - last_sample_.out) / dt / 1024;
      sample_idx_ = (sample_idx_ + 1) % 16;
      double a = 0, b = 0, c = 0;
      for (int i = 0; i < 16; i++) {
        a += ops_samples_[i];
        b += in_samples_[i];
        c += out_samples_[i];
      }
      state_.stats.instantaneous_ops_per_sec = a / 16;
      state_.stats.instantaneous_input_kbps = b / 16;
      state_.stats.instantaneous_output_kbps = c / 16;
    }
  }
  last_sample_ = {now_us, st.total_commands_processed, st.net_input_bytes, st.net_output_bytes};
}

bool Server::FreeMemoryIfNeeded() {
  const auto& cfg = config_.v();
  if (cfg.maxmemory <= 0) return true;
  // replica-ignore-maxmemory: a replica stays an exact copy of its master; as
  // Redis, this reports "fine" so that nothing is refused either.
  if (cfg.replica_ignore_maxmemory && replication_ && replication_->IsReplica()) return true;
  if (base::UsedMemory() <= static_cast<size_t>(cfg.maxmemory)) return true;
  const std::string& policy = cfg.maxmemory_policy;
  if (policy == "noeviction") return false;
  bool volatile_only = policy.rfind("volatile", 0) == 0;
  bool by_ttl = policy == "volatile-ttl";
  bool random = policy.find("random") != std::string::npos;
  // Approximated LRU/LFU as Redis: sample keys, evict the best candidate,
  // repeat until under the limit (bounded so a stuck situation cannot spin).
  for (int round = 0; round < 100000; round++) {
    if (base::UsedMemory() <= static_cast<size_t>(cfg.maxmemory)) return true;
    store::Db* best_db = nullptr;
    std::string best_key;
    int64_t best_score = 0;
    for (auto& db : state_.dbs) {
      if (db->size() == 0 || (volatile_only && db->expires_size() == 0)) continue;
      for (int s = 0; s < cfg.maxmemory_samples; s++) {
        store::Entry* e = db->RandomKey();
        if (e == nullptr) break;
        if (volatile_only && !e->has_expire()) continue;
        int64_t score;
        if (random)
          score = static_cast<int64_t>(store::RandomU64() >> 2);
        else if (by_ttl)
          score = -db->GetExpire(e);  // nearest expiry first
        else
          score = static_cast<int64_t>(store::LruClock() - e->lru);  // idle time
        if (best_db == nullptr || score > best_score) {
          best_db = db.get();
          best_key.assign(e->key());
          best_score = score;
        }
      }
    }
    if (best_db == nullptr) return false;
    best_db->Delete(best_key);
    store::Stats().evicted++;
    cmd::PropagateDeletion(state_, best_db->index(), best_key, cfg.lazyfree_lazy_eviction);
    // An evicted key changed under any WATCH on it, as in Redis.
    cmd::TouchWatchedKeyOnExpire(state_, best_db->index(), best_key);
  }
  return base::UsedMemory() <= static_cast<size_t>(cfg.maxmemory);
}

}  // namespace cairn::server
