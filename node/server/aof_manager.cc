// AofManager: loading, appending, fsync policies and the rewrite's file
// shuffle of the multi-part AOF (see the header).
#include "node/server/aof_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/persistence/aof_format.h"
#include "node/persistence/mapped_file.h"
#include "node/persistence/rdb_reader.h"
#include "node/persistence/rdb_write_sink.h"

namespace cairn::server {

namespace {

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

AofManager::AofManager(cmd::ServerState& state, config::Config& config)
    : state_(state), config_(config) {
  fsync_thread_ = std::thread([this] { FsyncThread(); });
}

AofManager::~AofManager() {
  Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_thread_ = true;
  }
  cv_.notify_all();
  fsync_thread_.join();
}

std::string AofManager::Dir() const {
  const auto& cfg = config_.v();
  return cfg.dir + "/" + cfg.appenddirname;
}

bool AofManager::Exists() const {
  return access((Dir() + "/" + persist::AofManifestName(config_.v().appendfilename)).c_str(),
                F_OK) == 0;
}

// --- loading ----------------------------------------------------------------

Status AofManager::Load(const Executor& exec, const std::function<bool()>& serve,
                        persist::RdbLoadOptions rdb_opts) {
  const std::string dir = Dir();
  auto m = persist::LoadAofManifest(dir, config_.v().appendfilename);
  if (!m.ok()) return m.status();
  manifest_ = std::move(m.value());
  cmd::ClientState client;
  client.authenticated = true;
  client.name = "aof-loader";
  // A blocking command read from a file must not block: as inside MULTI, it
  // answers at once.
  client.flags |= cmd::kInMulti;
  rdb_opts.progress = [&](size_t, size_t) { return !serve || serve(); };
  std::vector<const persist::AofFile*> files;
  if (const auto* b = manifest_.base()) files.push_back(b);
  for (const auto* f : manifest_.incrs()) files.push_back(f);
  state_.loading = true;
  Status s;
  for (size_t i = 0; i < files.size() && s.ok(); i++) {
    const std::string path = dir + "/" + files[i]->name;
    auto file = persist::MappedFile::Open(path);
    if (!file.ok()) {
      s = Status::IOError("the append only file listed in the manifest: " +
                          file.status().message());
      break;
    }
    std::string_view data = file.value()->view();
    if (data.substr(0, 5) == "REDIS") {
      log::Persist().info("Reading RDB base file on AOF loading...");
      persist::RdbLoadInfo info;
      s = persist::LoadRdbBytes(data, state_.dbs, rdb_opts, &info);
      if (!s.ok())
        s = Status::Corruption("Error reading the RDB base file " + path + ": " + s.message());
    } else {
      // An empty INCR file reads as no commands: nothing happened after it was opened.
      s = LoadCommands(data, path, i + 1 == files.size(), exec, serve, client);
    }
  }
  state_.loading = false;
  return s;
}

Status AofManager::LoadCommands(std::string_view data, const std::string& path, bool last,
                                const Executor& exec, const std::function<bool()>& serve,
                                cmd::ClientState& client) {
  persist::AofCommandReader reader(data);
  std::vector<std::string_view> argv;
  // Commands between MULTI and EXEC run only once EXEC is read: a file cut
  // inside a transaction loads as if the transaction never started.
  std::vector<std::vector<std::string>> multi;
  bool in_multi = false;
  size_t multi_start = 0;
  uint64_t n = 0;
  // A file cut short (the last command, or a MULTI without its EXEC): with
  // aof-load-truncated, cut it back to the last complete unit and go on.
  auto cut_at = [&](size_t keep) {
    if (!last)
      return Status::Corruption("the AOF file " + path + " is truncated but is not the last file");
    if (!config_.v().aof_load_truncated) {
      return Status::Corruption("Unexpected end of file reading the append only file " + path +
                                " at offset " + std::to_string(keep) +
                                ". Set aof-load-truncated yes to load it up to the last "
                                "complete command (the rest is cut off)");
    }
    log::Persist().warn("!!! Warning: short read while loading the AOF file {}!!!", path);
    log::Persist().warn("!!! Truncating the AOF {} at offset {} !!!", path, keep);
    if (truncate(path.c_str(), static_cast<off_t>(keep)) != 0)
      return Status::IOError("Error truncating the AOF file " + path + ": " + strerror(errno));
    log::Persist().warn("AOF {} loaded anyway because aof-load-truncated is enabled", path);
    return Status::Ok();
  };
  while (true) {
    size_t before = reader.offset();
    auto next = reader.Read(&argv);
    if (next == persist::AofCommandReader::Next::kEnd) break;
    if (next == persist::AofCommandReader::Next::kCorrupt) {
      return Status::Corruption("Bad file format reading the append only file " + path + " (" +
                                reader.error() + ")");
    }
    if (next == persist::AofCommandReader::Next::kTruncated)
      return cut_at(in_multi ? multi_start : before);
    if (base::EqualsNoCase(argv[0], "multi")) {
      in_multi = true;
      multi_start = before;
      multi.clear();
      continue;
    }
    if (base::EqualsNoCase(argv[0], "exec") && in_multi) {
      in_multi = false;
      for (const auto& q : multi) {
        std::vector<std::string_view> qv(q.begin(), q.end());
        if (Status s = exec(client, qv); !s.ok())
          return Status::Corruption(s.message() + " reading the append only file " + path);
      }
      multi.clear();
      continue;
    }
    if (in_multi) {
      multi.emplace_back(argv.begin(), argv.end());
      continue;
    }
    if (Status s = exec(client, argv); !s.ok())
      return Status::Corruption(s.message() + " reading the append only file " + path);
    if (++n % 1024 == 0 && serve && !serve()) return Status::Aborted("loading stopped by shutdown");
  }
  return in_multi ? cut_at(multi_start) : Status::Ok();
}

// --- appending ----------------------------------------------------------------

Status AofManager::OpenIncr(const std::string& name) {
  std::string path = Dir() + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::IOError("can't open the append-only file " + path + ": " + strerror(errno));
  if (Status s = persist::FsyncDirOf(path); !s.ok()) {
    close(fd);
    return s;
  }
  CloseFd();
  fd_ = fd;
  incr_path_ = path;
  written_ = FileSize(path);
  selected_db_ = -1;
  return Status::Ok();
}

void AofManager::CloseFd() {
  if (fd_ < 0) return;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !fsync_running_ && fsync_fd_ < 0; });
  close(fd_);
  fd_ = -1;
}

Status AofManager::Start(const std::function<Status(const std::string& path)>& write_base) {
  const std::string dir = Dir();
  const std::string& name = config_.v().appendfilename;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::IOError("can't create the AOF directory " + dir + ": " + strerror(errno));
  if (manifest_.files.empty()) {
    auto m = persist::LoadAofManifest(dir, name);
    if (m.ok()) manifest_ = std::move(m.value());
  }
  if (manifest_.base() == nullptr && manifest_.incrs().empty()) {
    persist::AofFile base{persist::AofBaseName(name, manifest_.NextBaseSeq(), true),
                          manifest_.NextBaseSeq(), 'b'};
    log::Persist().info("Creating AOF base file {} on server start", base.name);
    if (Status s = write_base(dir + "/" + base.name); !s.ok()) return s;
    manifest_.files.push_back(base);
  }
  auto incrs = manifest_.incrs();
  std::string incr_name;
  if (incrs.empty()) {
    persist::AofFile incr{persist::AofIncrName(name, manifest_.NextIncrSeq()),
                          manifest_.NextIncrSeq(), 'i'};
    log::Persist().info("Creating AOF incr file {} on server start", incr.name);
    manifest_.files.push_back(incr);
    incr_name = incr.name;
  } else {
    incr_name = incrs.back()->name;
  }
  if (Status s = OpenIncr(incr_name); !s.ok()) return s;
  if (Status s = persist::SaveAofManifest(dir, name, manifest_); !s.ok()) return s;
  MeasureFiles();
  rewrite_base_size_ = state_.persist.aof_current_size;
  state_.persist.aof_enabled = true;
  auto& sinks = state_.propagation_sinks;
  if (std::find(sinks.begin(), sinks.end(), this) == sinks.end()) sinks.push_back(this);
  return Status::Ok();
}

void AofManager::Stop() {
  auto& sinks = state_.propagation_sinks;
  sinks.erase(std::remove(sinks.begin(), sinks.end(), this), sinks.end());
  if (fd_ >= 0) {
    Flush(true);
    CloseFd();
  }
  state_.persist.aof_enabled = false;
}

void AofManager::Feed(int db, const std::vector<std::string>& argv) {
  if (fd_ < 0) return;
  if (db != selected_db_) {
    persist::AppendAofCommand(&buf_, {"SELECT", std::to_string(db)});
    selected_db_ = db;
  }
  persist::AppendAofCommand(&buf_, argv);
  state_.persist.aof_buffer_length = buf_.size();
}

void AofManager::Flush(bool force) {
  if (fd_ < 0) return;
  auto& ps = state_.persist;
  const std::string& policy = config_.v().appendfsync;
  if (!buf_.empty()) {
    size_t off = 0;
    int err = 0;
    while (off < buf_.size()) {
      ssize_t n = write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err = n < 0 ? errno : ENOSPC;
        break;
      }
      off += static_cast<size_t>(n);
    }
    if (err != 0) {
      // Drop the partial command from the file; the buffer keeps all of it.
      if (off > 0 && ftruncate(fd_, static_cast<off_t>(written_)) != 0) {
        // The partial bytes stay; keep what was written and the rest.
        written_ += off;
        buf_.erase(0, off);
      }
      int64_t now = base::RealWallMs();
      if (now - last_error_log_ms_ > 30000) {
        last_error_log_ms_ = now;
        log::Persist().warn("Error writing to the AOF file: {}", strerror(err));
      }
      ps.aof_last_write_errno = err;
      ps.aof_buffer_length = buf_.size();
      return;
    }
    written_ += buf_.size();
    unsynced_ = true;
    buf_.clear();
    ps.aof_buffer_length = 0;
    if (ps.aof_last_write_errno != 0) {
      log::Persist().warn("AOF write error looks solved, Cairn can write again.");
      ps.aof_last_write_errno = 0;
    }
    ps.aof_current_size = base_and_history_ + written_;
    if (policy == "always") {
      if (fdatasync(fd_) != 0) {
        ps.aof_last_write_errno = errno;
        log::Persist().warn("Can't persist the AOF on disk (fdatasync): {}", strerror(errno));
      }
      last_fsync_ms_ = base::RealWallMs();
      return;
    }
  }
  if (force) {
    if (fsync(fd_) != 0) log::Persist().warn("fsync of the AOF failed: {}", strerror(errno));
    last_fsync_ms_ = base::RealWallMs();
    unsynced_ = false;
  } else if (policy == "everysec" && unsynced_ && base::RealWallMs() - last_fsync_ms_ >= 1000) {
    RequestFsync();
  }
}

void AofManager::RequestFsync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fsync_running_ || fsync_fd_ >= 0) {
    state_.persist.aof_delayed_fsync++;
    return;
  }
  if (fsync_errno_ != 0) {
    state_.persist.aof_last_write_errno = fsync_errno_;
    fsync_errno_ = 0;
  }
  fsync_fd_ = dup(fd_);
  unsynced_ = false;
  last_fsync_ms_ = base::RealWallMs();
  cv_.notify_all();
}

void AofManager::FsyncThread() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_thread_ || fsync_fd_ >= 0; });
    if (fsync_fd_ >= 0) {
      int fd = fsync_fd_;
      fsync_running_ = true;
      lock.unlock();
      int r = fdatasync(fd);
      int e = errno;
      close(fd);
      lock.lock();
      if (r != 0) fsync_errno_ = e;
      fsync_fd_ = -1;
      fsync_running_ = false;
      cv_.notify_all();
      continue;
    }
    if (stop_thread_) return;
  }
}

void AofManager::Cron() {
  if (fd_ < 0) return;
  Flush(false);
  std::lock_guard<std::mutex> lock(mu_);
  state_.persist.aof_pending_fsync = fsync_running_ || fsync_fd_ >= 0;
}

void AofManager::MeasureFiles() {
  if (const auto* b = manifest_.base())
    state_.persist.aof_base_size = FileSize(Dir() + "/" + b->name);
  base_and_history_ = 0;
  for (const auto& f : manifest_.files) {
    if (f.type == 'h') continue;
    std::string p = Dir() + "/" + f.name;
    if (p != incr_path_) base_and_history_ += FileSize(p);
  }
  state_.persist.aof_current_size = base_and_history_ + written_;
}

// --- rewrite ------------------------------------------------------------------

Status AofManager::BeginRewrite() {
  Flush(true);
  const std::string& name = config_.v().appendfilename;
  persist::AofFile incr{persist::AofIncrName(name, manifest_.NextIncrSeq()),
                        manifest_.NextIncrSeq(), 'i'};
  log::Persist().info("Creating AOF incr file {} on background rewrite", incr.name);
  if (Status s = OpenIncr(incr.name); !s.ok()) return s;
  manifest_.files.push_back(incr);
  if (Status s = persist::SaveAofManifest(Dir(), name, manifest_); !s.ok()) {
    manifest_.files.pop_back();
    return s;
  }
  MeasureFiles();
  return Status::Ok();
}

std::string AofManager::RewriteTempPath(int pid) const {
  return Dir() + "/temp-rewriteaof-bg-" + std::to_string(pid) + ".aof";
}

Status AofManager::FinishRewrite(const std::string& temp_path) {
  const std::string dir = Dir();
  const std::string& name = config_.v().appendfilename;
  persist::AofManifest next;
  int64_t seq = manifest_.NextBaseSeq();
  persist::AofFile base{persist::AofBaseName(name, seq, true), seq, 'b'};
  next.files.push_back(base);
  // Only the INCR file opened when the rewrite began (the current one)
  // survives; everything before it is in the new base.
  auto incrs = manifest_.incrs();
  std::vector<std::string> old;
  for (const auto& f : manifest_.files) {
    bool current = !incrs.empty() && &f == incrs.back();
    if (current) {
      next.files.push_back(f);
    } else {
      old.push_back(f.name);
    }
  }
  if (rename(temp_path.c_str(), (dir + "/" + base.name).c_str()) != 0)
    return Status::IOError("rename " + temp_path + ": " + strerror(errno));
  if (Status s = persist::SaveAofManifest(dir, name, next); !s.ok()) {
    unlink((dir + "/" + base.name).c_str());
    return s;
  }
  log::Persist().info("Successfully renamed the temporary AOF base file {} into {}", temp_path,
                      base.name);
  manifest_ = std::move(next);
  for (const auto& f : old) unlink((dir + "/" + f).c_str());
  (void)persist::FsyncDirOf(dir + "/" + base.name);
  MeasureFiles();
  rewrite_base_size_ = state_.persist.aof_current_size;
  return Status::Ok();
}

bool AofManager::RewriteDue() const {
  const auto& cfg = config_.v();
  if (fd_ < 0 || cfg.auto_aof_rewrite_percentage <= 0) return false;
  uint64_t size = state_.persist.aof_current_size;
  if (size < static_cast<uint64_t>(cfg.auto_aof_rewrite_min_size)) return false;
  uint64_t base = rewrite_base_size_ ? rewrite_base_size_ : 1;
  uint64_t growth = (size - std::min(size, base)) * 100 / base;
  return growth >= static_cast<uint64_t>(cfg.auto_aof_rewrite_percentage);
}

}  // namespace cairn::server
