// PersistenceService: RDB load/save orchestration (see the header).
#include "node/server/persistence_service.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/base/memory.h"

namespace cairn::server {

namespace {

// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait
// this long before trying again.
constexpr int64_t kBgsaveRetryDelayS = 5;

int64_t NowS() { return base::RealWallMs() / 1000; }

double Mb(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

PersistenceService::PersistenceService(cmd::ServerState& state, config::Config& config)
    : state_(state), config_(config), aof_(std::make_unique<AofManager>(state, config)) {
  state_.persistence = this;
}

PersistenceService::~PersistenceService() {
  KillChild();
  if (state_.persistence == this) state_.persistence = nullptr;
}

std::string PersistenceService::RdbPath() const {
  const auto& cfg = config_.v();
  return cfg.dir + "/" + cfg.dbfilename;
}

persist::RdbWriteOptions PersistenceService::WriteOptions(bool aof_base) const {
  const auto& cfg = config_.v();
  persist::RdbWriteOptions o;
  o.compression = cfg.rdbcompression;
  o.checksum = cfg.rdbchecksum;
  o.key_save_delay_us = cfg.rdb_key_save_delay;
  persist::RdbAuxInfo aux;
  aux.ctime = NowS();
  aux.used_mem = base::UsedMemory();
  aux.aof_base = aof_base;
  if (repl_save_info && !aof_base && !repl_save_info(&aux)) aux.repl_id.clear();
  o.aux = persist::StandardAuxFields(aux);
  o.aux.emplace_back(persist::kRdbCairnVersionField, CAIRN_VERSION);
  return o;
}

persist::RdbLoadOptions PersistenceService::LoadOptions() const {
  const auto& cfg = config_.v();
  persist::RdbLoadOptions o;
  // A replica keeps keys whose TTL passed; its master will send the DELs.
  o.keep_expired = !cfg.replicaof.empty();
  o.databases = state_.dbs.size();
  o.list_fill = cfg.list_max_listpack_size;
  o.hash = {static_cast<size_t>(cfg.hash_max_listpack_entries),
            static_cast<size_t>(cfg.hash_max_listpack_value)};
  o.zset = {static_cast<size_t>(cfg.zset_max_listpack_entries),
            static_cast<size_t>(cfg.zset_max_listpack_value)};
  o.set = {static_cast<size_t>(cfg.set_max_intset_entries),
           static_cast<size_t>(cfg.set_max_listpack_entries),
           static_cast<size_t>(cfg.set_max_listpack_value)};
  return o;
}

// --- loading ----------------------------------------------------------------

Status PersistenceService::LoadAtStartup(const std::function<bool()>& serve,
                                         const AofManager::Executor& exec) {
  const bool aof = config_.v().appendonly;
  std::string path = RdbPath();
  int64_t start = base::MonotonicUs();
  if (aof && aof_->Exists()) {
    Status s = aof_->Load(exec, serve, LoadOptions());
    if (!s.ok()) return s;
    log::Persist().info("DB loaded from append only file: {:.3f} seconds",
                        (base::MonotonicUs() - start) / 1e6);
  } else {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
      // With appendonly on and no AOF yet, Redis starts empty and ignores the
      // RDB; Cairn loads it and builds the AOF from it, so nothing is hidden.
      if (aof) log::Persist().warn("No AOF found; loading {} and creating the AOF from it", path);
      Status s = LoadRdb(path, serve);
      if (!s.ok()) return s;
      log::Persist().info("DB loaded from disk: {:.3f} seconds",
                          (base::MonotonicUs() - start) / 1e6);
    } else if (errno != ENOENT) {
      return Status::IOError(path + ": " + strerror(errno));
    }
  }
  if (aof) {
    if (Status s = aof_->Start([this](const std::string& p) { return WriteAofBase(p); }); !s.ok())
      return s;
  }
  return Status::Ok();
}

Status PersistenceService::WriteAofBase(const std::string& path) {
  return persist::SaveRdbFile(path, state_.dbs, WriteOptions(true));
}

Status PersistenceService::SetAppendOnly(bool on) {
  if (on == aof_->active()) return Status::Ok();
  if (!on) {
    if (state_.persist.child == cmd::ChildKind::kAof) KillChild();
    aof_->Stop();
    log::Persist().info("Append only file disabled");
    return Status::Ok();
  }
  // Start from the current dataset: a fresh base written now, then appends. An AOF
  // left from before appendonly was turned off misses every write since: it gets a
  // new base from memory too.
  const bool resumed = aof_->Exists();
  Status s = aof_->Start([this](const std::string& p) { return WriteAofBase(p); });
  if (s.ok() && resumed) RebaseAof("the AOF left from before misses the writes since");
  if (s.ok()) log::Persist().info("Append only file enabled");
  return s;
}

Status PersistenceService::LoadRdb(const std::string& path, const std::function<bool()>& serve) {
  struct stat st;
  uint64_t total = stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  persist::RdbLoadInfo info;
  Status s = LoadWithProgress(total, serve, [&](persist::RdbLoadOptions& opts) {
    return persist::LoadRdbFile(path, state_.dbs, opts, &info);
  });
  if (!s.ok()) return s;
  LogLoaded(info);
  startup_aux_ = info.aux;
  return Status::Ok();
}

Status PersistenceService::LoadWithProgress(
    uint64_t total_bytes, const std::function<bool()>& serve,
    const std::function<Status(persist::RdbLoadOptions&)>& load) {
  auto& ps = state_.persist;
  ps.loading_total_bytes = total_bytes;
  ps.loading_loaded_bytes = 0;
  ps.loading_start_s = NowS();
  state_.loading = true;
  persist::RdbLoadOptions opts = LoadOptions();
  int64_t last_serve = base::MonotonicUs(), last_log = last_serve;
  bool aborted = false;
  uint64_t keys = 0;
  const int key_load_delay = config_.v().key_load_delay;
  opts.progress = [&](size_t done, size_t total) {
    ps.loading_loaded_bytes = done;
    keys += 1024;
    // As Redis's key-load-delay (tests make a load slow with it): the progress runs
    // every 1024 keys, so the delay is taken for them at once.
    if (key_load_delay > 0) usleep(static_cast<useconds_t>(key_load_delay) * 1024);
    int64_t now = base::MonotonicUs();
    if (now - last_log >= 2000000) {
      last_log = now;
      log::Persist().info("Loading RDB: {:.1f}% ({:.1f} MB of {:.1f} MB), ~{} keys",
                          100.0 * done / total, Mb(done), Mb(total), keys);
    }
    if (serve && now - last_serve >= 100000) {
      last_serve = now;
      if (!serve()) aborted = true;
    }
    return !aborted;
  };
  Status s = load(opts);
  state_.loading = false;
  ps.loading_loaded_bytes = ps.loading_total_bytes;
  if (aborted) return Status::Aborted("loading stopped by shutdown");
  return s;
}

void PersistenceService::LogLoaded(const persist::RdbLoadInfo& info) {
  auto& ps = state_.persist;
  auto aux = [&](const char* k) {
    auto it = info.aux.find(k);
    return it == info.aux.end() ? std::string() : it->second;
  };
  if (std::string v = aux("redis-ver"); !v.empty())
    log::Persist().info("Loading RDB produced by version {}", v);
  if (std::string v = aux("ctime"); !v.empty())
    log::Persist().info("RDB age {} seconds", NowS() - atoll(v.c_str()));
  if (std::string v = aux("used-mem"); !v.empty())
    log::Persist().info("RDB memory usage when created {:.2f} Mb",
                        Mb(strtoull(v.c_str(), nullptr, 10)));
  if (!info.functions.empty())
    log::Persist().warn(
        "The RDB holds {} function libraries; Cairn has no scripting and skipped them",
        info.functions.size());
  log::Persist().info("Done loading RDB, keys loaded: {}, keys expired: {}.", info.keys_loaded,
                      info.keys_expired);
  ps.rdb_last_load_keys_loaded = info.keys_loaded;
  ps.rdb_last_load_keys_expired = info.keys_expired;
}

Status PersistenceService::LoadReplicationRdb(
    const std::string& path, std::string_view data, bool swap, persist::RdbLoadInfo* info,
    const std::function<bool(const persist::RdbLoadInfo&)>& accept) {
  uint64_t total = data.size();
  if (!path.empty()) {
    struct stat st;
    total = stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  std::vector<std::unique_ptr<store::Db>> fresh;
  if (!swap) log::Repl().info("MASTER <-> REPLICA sync: Flushing old data");
  log::Repl().info("MASTER <-> REPLICA sync: Loading DB in memory");
  if (!swap) {
    // As Redis with repl-diskless-load disabled: the old data goes first, so
    // memory never holds both.
    for (auto& db : state_.dbs) db = std::make_unique<store::Db>(db->index());
  }
  auto& target = swap ? fresh : state_.dbs;
  Status s = LoadWithProgress(total, serve_while_loading, [&](persist::RdbLoadOptions& opts) {
    if (swap) opts.databases = state_.dbs.size();
    return path.empty() ? persist::LoadRdbBytes(data, target, opts, info)
                        : persist::LoadRdbFile(path, target, opts, info);
  });
  if (!s.ok()) {
    if (!swap) {
      for (auto& db : state_.dbs) db = std::make_unique<store::Db>(db->index());
    }
    return s;
  }
  if (swap && accept && !accept(*info)) {
    return Status::Refused("the dataset from the master was refused (backup-refuse-empty-sync)");
  }
  if (swap) state_.dbs.swap(fresh);
  LogLoaded(*info);
  RebaseAof("the master's dataset replaced the old one");
  return Status::Ok();
}

void PersistenceService::RebaseAof(const char* why) {
  if (!aof_->active()) return;
  // The AOF describes the previous dataset: a restart would bring it back. A new
  // base from the data now in memory replaces it (through the manifest, atomically;
  // writes from here on go to the new incr file). In the foreground, as a SAVE.
  if (state_.persist.child == cmd::ChildKind::kAof) KillChild();
  log::Persist().info("Rewriting the AOF from memory: {}", why);
  Status s = aof_->BeginRewrite();
  std::string temp = aof_->RewriteTempPath(getpid());
  if (s.ok()) s = WriteAofBase(temp);
  if (s.ok()) s = aof_->FinishRewrite(temp);
  if (!s.ok()) {
    unlink(temp.c_str());
    state_.persist.aof_last_bgrewrite_ok = false;
    state_.persist.aof_rewrite_scheduled = true;  // the cron tries again in a child
    log::Persist().warn(
        "The AOF could not be rewritten from memory ({}); a background rewrite is scheduled",
        s.message());
  }
}

Status PersistenceService::ReplaceDataset(const std::string& path, bool verify_checksum,
                                          persist::RdbLoadInfo* info) {
  std::vector<std::unique_ptr<store::Db>> fresh;
  persist::RdbLoadOptions opts = LoadOptions();
  opts.verify_checksum = verify_checksum;
  Status s = persist::LoadRdbFile(path, fresh, opts, info);
  if (!s.ok()) return s;
  if (state_.persist.child == cmd::ChildKind::kRdb) KillChild();  // it saves the old data
  state_.dbs.swap(fresh);
  state_.dirty++;
  LogLoaded(*info);
  RebaseAof("a snapshot replaced the dataset");
  return Status::Ok();
}

Status PersistenceService::StartSnapshotChild(const std::string& target,
                                              const std::function<int(persist::ChildReport*)>& body,
                                              std::function<void(const persist::ChildExit&)> done) {
  auto& ps = state_.persist;
  if (child_) return Status::Aborted("another child process is active");
  int64_t fork_us = 0;
  auto child = persist::ForkedChild::Start(body, &fork_us);
  if (!child.ok()) return child.status();
  child_ = std::move(child.value());
  child_target_ = target;
  child_to_pipe_ = false;
  snapshot_done_ = std::move(done);
  ps.child = cmd::ChildKind::kSnapshot;
  ps.child_start_ms = base::RealWallMs();
  ps.total_forks++;
  ps.latest_fork_usec = fork_us;
  return Status::Ok();
}

// --- saving -----------------------------------------------------------------

Status PersistenceService::Save() {
  auto& ps = state_.persist;
  if (ps.child == cmd::ChildKind::kRdb)
    return Status::Aborted("Background save already in progress");
  ps.rdb_saves++;
  return SaveInForeground();
}

Status PersistenceService::SaveInForeground() {
  Status s = persist::SaveRdbFile(RdbPath(), state_.dbs, WriteOptions());
  if (!s.ok()) {
    log::Persist().warn("Write error saving DB on disk: {}", s.message());
    return s;
  }
  log::Persist().info("DB saved on disk");
  state_.dirty = 0;
  state_.lastsave_s = NowS();
  state_.persist.last_bgsave_ok = true;
  return Status::Ok();
}

void PersistenceService::AfterFlushAll() {
  if (state_.persist.child == cmd::ChildKind::kRdb) KillChild();
  if (!config_.v().save_points.empty()) (void)SaveInForeground();
}

Result<std::string> PersistenceService::BackgroundSave(bool schedule) {
  auto& ps = state_.persist;
  if (ps.child == cmd::ChildKind::kRdb)
    return Status::Aborted("Background save already in progress");
  // Inside EXEC (a nested call) Redis schedules the save rather than fork there.
  if (ps.child != cmd::ChildKind::kNone || state_.call_depth > 1) {
    if (schedule || state_.call_depth > 1) {
      ps.bgsave_scheduled = true;
      return std::string("Background saving scheduled");
    }
    return Status::Aborted(
        "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in "
        "order to schedule a BGSAVE whenever possible.");
  }
  if (Status s = StartBackgroundSave(); !s.ok()) return s;
  return std::string("Background saving started");
}

Status PersistenceService::ForkSaver(cmd::ChildKind kind,
                                     const std::function<std::string(pid_t)>& target,
                                     const persist::RdbWriteOptions& opts) {
  auto& ps = state_.persist;
  const bool rdb = kind == cmd::ChildKind::kRdb;
  const auto& dbs = state_.dbs;
  int64_t fork_us = 0;
  auto child = persist::ForkedChild::Start(
      [&](persist::ChildReport* report) {
        const std::string path = target(getpid());
        Status s = persist::SaveRdbFile(path, dbs, opts);
        if (!s.ok()) {
          log::Persist().warn("Write error saving {} on disk: {}", rdb ? "DB" : "the AOF base",
                              s.message());
          return 1;
        }
        if (rdb) {
          log::Persist().info("DB saved on disk");
        } else {
          log::Persist().info("Successfully created the temporary AOF base file {}", path);
        }
        report->cow_bytes = persist::PrivateDirtyBytes();
        log::Persist().info("Fork CoW for {}: current {} MB, peak {} MB, average {} MB",
                            rdb ? "RDB" : "AOF rewrite", report->cow_bytes >> 20,
                            report->cow_bytes >> 20, report->cow_bytes >> 20);
        return 0;
      },
      &fork_us);
  if (!child.ok()) return child.status();
  child_ = std::move(child.value());
  child_target_ = target(child_->pid());
  child_to_pipe_ = false;
  ps.child = kind;
  ps.child_start_ms = base::RealWallMs();
  ps.total_forks++;
  ps.latest_fork_usec = fork_us;
  return Status::Ok();
}

namespace {

// The child's end of a diskless transfer: blocking writes to the pipe.
class PipeSink : public persist::RdbSink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  Status Write(const void* data, size_t len) override {
    const char* p = static_cast<const char*>(data);
    while (len > 0) {
      ssize_t n = ::write(fd_, p, len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return ErrnoStatus("write to the replication pipe", errno);
      p += n;
      len -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

 private:
  int fd_;
};

}  // namespace

Status PersistenceService::StartReplicationSave(int pipe_fd, int read_fd,
                                                const std::string& eof_mark, bool lzf) {
  if (pipe_fd < 0) {
    if (Status s = StartBackgroundSave(); !s.ok()) return s;
    return Status::Ok();
  }
  auto& ps = state_.persist;
  const auto& dbs = state_.dbs;
  persist::RdbWriteOptions opts = WriteOptions();
  opts.compression = lzf;
  int64_t fork_us = 0;
  auto child = persist::ForkedChild::Start(
      [&](persist::ChildReport* report) {
        // Only the parent reads: with our copy open the writer would never
        // see the reader go away.
        ::close(read_fd);
        PipeSink sink(pipe_fd);
        std::string head = "$EOF:" + eof_mark + "\r\n";
        Status s = sink.Write(head.data(), head.size());
        if (s.ok()) s = persist::WriteRdb(dbs, opts, &sink);
        if (s.ok()) s = sink.Write(eof_mark.data(), eof_mark.size());
        if (!s.ok()) {
          log::Persist().warn("Diskless replication transfer failed: {}", s.message());
          return 1;
        }
        report->cow_bytes = persist::PrivateDirtyBytes();
        log::Persist().info("Fork CoW for RDB: current {} MB, peak {} MB, average {} MB",
                            report->cow_bytes >> 20, report->cow_bytes >> 20,
                            report->cow_bytes >> 20);
        return 0;
      },
      &fork_us);
  ::close(pipe_fd);
  if (!child.ok()) return child.status();
  child_ = std::move(child.value());
  child_target_.clear();
  child_to_pipe_ = true;
  ps.child = cmd::ChildKind::kRdb;
  ps.child_start_ms = base::RealWallMs();
  ps.total_forks++;
  ps.latest_fork_usec = fork_us;
  log::Persist().info("Starting BGSAVE for SYNC with target: replicas sockets");
  log::Persist().info("Background RDB transfer started by pid {}", child_->pid());
  return Status::Ok();
}

Status PersistenceService::StartBackgroundSave() {
  auto& ps = state_.persist;
  ps.rdb_saves++;
  dirty_before_bgsave_ = state_.dirty;
  lastbgsave_try_s_ = NowS();
  const std::string path = RdbPath();
  const persist::RdbWriteOptions opts = WriteOptions();
  if (Status s = ForkSaver(
          cmd::ChildKind::kRdb, [path](pid_t) { return path; }, opts);
      !s.ok()) {
    ps.last_bgsave_ok = false;
    log::Persist().warn("Can't save in background: {}", s.message());
    return s;
  }
  log::Persist().info("Background saving started by pid {}", child_->pid());
  return Status::Ok();
}

void PersistenceService::ChildFinished(const persist::ChildExit& e) {
  auto& ps = state_.persist;
  pid_t pid = child_->pid();
  int64_t took_s = (base::RealWallMs() - ps.child_start_ms) / 1000;
  if (ps.child == cmd::ChildKind::kRdb && child_to_pipe_) {
    // A diskless transfer is not a save: dump.rdb and lastsave stay as they are.
    if (e.ok())
      log::Persist().info("Background RDB transfer terminated with success");
    else
      log::Persist().warn(
          "Background transfer {}",
          e.signal ? "terminated by signal " + std::to_string(e.signal) : std::string("error"));
    ps.child = cmd::ChildKind::kNone;
    child_.reset();
    child_to_pipe_ = false;
    if (on_rdb_child_done) on_rdb_child_done(e.ok(), true);
    return;
  }
  if (ps.child == cmd::ChildKind::kSnapshot) {
    if (!e.ok()) RemoveChildFiles(pid);
    SnapshotChildEnded(e);
    return;
  }
  const bool rdb_child = ps.child == cmd::ChildKind::kRdb;
  if (ps.child == cmd::ChildKind::kRdb) {
    ps.rdb_last_bgsave_time_sec = took_s;
    if (e.ok()) {
      log::Persist().info("Background saving terminated with success");
      state_.dirty -= dirty_before_bgsave_;
      state_.lastsave_s = NowS();
      ps.last_bgsave_ok = true;
      ps.rdb_last_cow_size = e.report.cow_bytes;
    } else if (e.signal == 0) {
      log::Persist().warn("Background saving error");
      ps.last_bgsave_ok = false;
    } else {
      log::Persist().warn("Background saving terminated by signal {}", e.signal);
      RemoveChildFiles(pid);
      // SIGUSR1 is how the node itself stops a child: not an error.
      if (e.signal != SIGUSR1) ps.last_bgsave_ok = false;
    }
  }
  if (ps.child == cmd::ChildKind::kAof) {
    ps.aof_last_rewrite_time_sec = took_s;
    Status s = e.ok()
                   ? aof_->FinishRewrite(child_target_)
                   : Status::IOError(e.signal ? "terminated by signal " + std::to_string(e.signal)
                                              : "child exited with an error");
    if (s.ok()) {
      log::Persist().info("Background AOF rewrite terminated with success");
      log::Persist().info("Background AOF rewrite finished successfully");
      ps.aof_last_bgrewrite_ok = true;
      ps.aof_rewrites_consecutive_failures = 0;
      ps.aof_last_cow_size = e.report.cow_bytes;
    } else {
      log::Persist().warn("Background AOF rewrite failed: {}", s.message());
      RemoveChildFiles(pid);
      if (e.signal != SIGUSR1) {
        ps.aof_last_bgrewrite_ok = false;
        ps.aof_rewrites_consecutive_failures++;
      }
    }
  }
  ps.child = cmd::ChildKind::kNone;
  child_.reset();
  if (rdb_child && on_rdb_child_done) on_rdb_child_done(e.ok(), false);
}

void PersistenceService::RemoveChildFiles(pid_t pid) {
  // The child writes through a FileSink, whose temp file it leaves when killed.
  unlink(persist::FileSink::TempPathFor(child_target_, pid).c_str());
  // A rewrite's own output is a temp file too (an RDB child's is dump.rdb).
  if (state_.persist.child == cmd::ChildKind::kAof) unlink(child_target_.c_str());
  // A snapshot child also writes its manifest through a FileSink.
  if (state_.persist.child == cmd::ChildKind::kSnapshot)
    unlink(persist::FileSink::TempPathFor(child_target_ + ".meta", pid).c_str());
}

void PersistenceService::SnapshotChildEnded(const persist::ChildExit& e) {
  state_.persist.child = cmd::ChildKind::kNone;
  child_.reset();
  if (auto done = std::move(snapshot_done_)) done(e);
}

void PersistenceService::KillChild() {
  if (!child_) return;
  const auto kind = state_.persist.child;
  log::Persist().warn(kind == cmd::ChildKind::kRdb ? "There is a child saving an .rdb. Killing it!"
                      : kind == cmd::ChildKind::kSnapshot
                          ? "There is a child writing a snapshot. Killing it!"
                          : "There is a child rewriting the AOF. Killing it!");
  child_->Kill();
  if (!child_to_pipe_) RemoveChildFiles(child_->pid());
  if (kind == cmd::ChildKind::kSnapshot) {
    persist::ChildExit killed;
    killed.signal = SIGUSR1;
    SnapshotChildEnded(killed);
    return;
  }
  const bool rdb_child = state_.persist.child == cmd::ChildKind::kRdb;
  const bool to_pipe = child_to_pipe_;
  state_.persist.child = cmd::ChildKind::kNone;
  child_.reset();
  child_to_pipe_ = false;
  if (rdb_child && on_rdb_child_done) on_rdb_child_done(false, to_pipe);
}

void PersistenceService::Cron() {
  auto& ps = state_.persist;
  aof_->Cron();
  if (child_) {
    persist::ChildExit e;
    if (child_->Poll(&e)) ChildFinished(e);
    return;
  }
  if (state_.loading) return;
  if (ps.bgsave_scheduled) {
    ps.bgsave_scheduled = false;
    (void)StartBackgroundSave();
    return;
  }
  if (ps.aof_rewrite_scheduled && aof_->active()) {
    (void)StartAofRewrite();
    return;
  }
  if (aof_->RewriteDue() && ps.aof_rewrites_consecutive_failures < 3) {
    log::Persist().info("Starting automatic rewriting of AOF on {}% growth",
                        config_.v().auto_aof_rewrite_percentage);
    if (!StartAofRewrite().ok()) ps.aof_rewrites_consecutive_failures++;
    return;
  }
  int64_t now = NowS();
  for (const auto& sp : config_.v().save_points) {
    if (state_.dirty >= sp.changes && now - state_.lastsave_s > sp.seconds &&
        (now - lastbgsave_try_s_ > kBgsaveRetryDelayS || ps.last_bgsave_ok)) {
      log::Persist().info("{} changes in {} seconds. Saving...", sp.changes, sp.seconds);
      (void)StartBackgroundSave();
      break;
    }
  }
}

bool PersistenceService::PrepareForShutdown(bool force_save, bool nosave, bool force) {
  if (state_.loading) {
    force_save = false;
    nosave = true;
  }
  KillChild();
  if (aof_->active()) {
    log::Persist().info("Calling fsync() on the AOF file.");
    aof_->Flush(true);
  }
  if (nosave || (config_.v().save_points.empty() && !force_save)) return true;
  log::Persist().info("Saving the final RDB snapshot before exiting.");
  if (!SaveInForeground().ok()) {
    if (force) {
      log::Persist().warn("Error trying to save the DB. Exit anyway.");
      return true;
    }
    log::Persist().warn("Error trying to save the DB, can't exit.");
    return false;
  }
  return true;
}

Result<std::string> PersistenceService::RewriteAof() {
  auto& ps = state_.persist;
  if (!aof_->active())
    return Status::Aborted(
        "Background AOF rewrite needs appendonly yes (CONFIG SET appendonly yes)");
  if (ps.child == cmd::ChildKind::kAof)
    return Status::Aborted("Background append only file rewriting already in progress");
  if (ps.child != cmd::ChildKind::kNone || state_.call_depth > 1) {
    ps.aof_rewrite_scheduled = true;
    ps.aof_rewrites_consecutive_failures = 0;
    return std::string("Background append only file rewriting scheduled");
  }
  if (!StartAofRewrite().ok())
    return Status::Aborted(
        "Can't execute an AOF background rewriting. Please check the server logs for more "
        "information.");
  return std::string("Background append only file rewriting started");
}

Status PersistenceService::StartAofRewrite() {
  auto& ps = state_.persist;
  if (Status s = aof_->BeginRewrite(); !s.ok()) {
    ps.aof_last_bgrewrite_ok = false;
    log::Persist().warn("Can't rewrite append only file in background: {}", s.message());
    return s;
  }
  ps.aof_rewrites++;
  const persist::RdbWriteOptions opts = WriteOptions(true);
  AofManager* aof = aof_.get();
  if (Status s = ForkSaver(
          cmd::ChildKind::kAof, [aof](pid_t pid) { return aof->RewriteTempPath(pid); }, opts);
      !s.ok()) {
    ps.aof_last_bgrewrite_ok = false;
    log::Persist().warn("Can't rewrite append only file in background: {}", s.message());
    return s;
  }
  ps.aof_rewrite_scheduled = false;
  log::Persist().info("Background append only file rewriting started by pid {}", child_->pid());
  return Status::Ok();
}

Status PersistenceService::DebugReload(bool save, bool flush) {
  if (save) {
    if (Status s = SaveInForeground(); !s.ok()) return s;
  }
  if (!flush) return Status::NotSupported("DEBUG RELOAD NOFLUSH/MERGE are not supported");
  // Load into fresh databases and swap only on success: a bad file loses nothing.
  std::vector<std::unique_ptr<store::Db>> fresh;
  persist::RdbLoadOptions opts = LoadOptions();
  persist::RdbLoadInfo info;
  Status s = persist::LoadRdbFile(RdbPath(), fresh, opts, &info);
  if (!s.ok()) {
    log::Persist().warn("Error trying to load the RDB dump: {}", s.message());
    return Status::Corruption("Error trying to load the RDB dump, check server logs.");
  }
  state_.dbs.swap(fresh);
  log::Persist().info("DB reloaded by DEBUG RELOAD");
  return Status::Ok();
}

}  // namespace cairn::server
