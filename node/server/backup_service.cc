// Backup mode on a running node (see backup_service.h).
#include "node/server/backup_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "backup/schedule.h"
#include "backup/snapshot_writer.h"
#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/commands/info.h"
#include "node/persistence/fork_child.h"
#include "node/persistence/rdb_writer.h"

namespace cairn::server {

namespace {

int64_t NowS() { return base::RealWallMs() / 1000; }

std::string Plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

BackupService::BackupService(cmd::ServerState& state, config::Config& config,
                             PersistenceService& persistence, repl::ReplicationService& replication)
    : state_(state), config_(config), persistence_(persistence), replication_(replication) {
  state_.backup = this;
  replication_.set_sync_guard(this);
}

BackupService::~BackupService() {
  replication_.set_sync_guard(nullptr);
  if (state_.backup == this) state_.backup = nullptr;
}

std::string BackupService::Dir() const {
  const auto& v = config_.v();
  if (v.snapshot_dir.empty()) return v.dir + "/snapshots";
  if (v.snapshot_dir[0] == '/') return v.snapshot_dir;
  return v.dir + "/" + v.snapshot_dir;
}

bool BackupService::Active() const {
  const auto& v = config_.v();
  return v.backup_mode || promoted_ || v.snapshot_interval > 0 || !v.snapshot_at.empty() ||
         !v.snapshot_dir.empty();
}

Status BackupService::EnsureDir() {
  const std::string dir = Dir();
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    return ErrnoStatus("creating snapshot-dir " + dir, errno);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::InvalidArgument("snapshot-dir " + dir + " is not a directory");
  return Status::Ok();
}

Status BackupService::Init() {
  if (Status s = ApplyConfig(); !s.ok()) return s;
  data_master_ = config_.v().replicaof;  // what a restarted replica's data came from
  std::replace(data_master_.begin(), data_master_.end(), ' ', ':');
  if (!Active()) return Status::Ok();
  if (Status s = EnsureDir(); !s.ok()) return s;
  auto removed = backup::RemoveLeftovers(Dir(), config_.v().snapshot_prefix);
  if (removed.ok() && *removed > 0)
    log::Backup().warn("Removed {} left by an interrupted snapshot in {}", Plural(*removed, "file"),
                       Dir());
  RefreshListing();
  if (config_.v().backup_mode)
    log::Backup().info("Backup mode: read-only until promoted; snapshots in {}", Dir());
  return Status::Ok();
}

Status BackupService::ApplyConfig() {
  const auto& v = config_.v();
  if (v.backup_mode && !v.replica_read_only)
    return Status::InvalidArgument(
        "backup-mode yes keeps the node read-only: replica-read-only no is refused until the node "
        "is promoted (BACKUP PROMOTE)");
  if (v.snapshot_prefix.empty() || v.snapshot_prefix.find('/') != std::string::npos)
    return Status::InvalidArgument("snapshot-prefix must be a non-empty file name prefix");
  if (v.backup_mode) promoted_ = false;  // back to backup duty (failing back)
  next_due_s_ = NextDue(NowS());
  return Status::Ok();
}

int64_t BackupService::NextDue(int64_t now) const {
  const auto& v = config_.v();
  return backup::NextDue({v.snapshot_interval, v.snapshot_at, v.snapshot_local_time}, now);
}

bool BackupService::WritesRefused() const { return config_.v().backup_mode; }

// --- snapshots -------------------------------------------------------------------

backup::SnapshotMeta BackupService::NewMeta(const std::string& kind) {
  const std::string& prefix = config_.v().snapshot_prefix;
  backup::SnapshotMeta m;
  m.kind = kind;
  // Two snapshots in one second (a guard right after a scheduled one) get
  // consecutive seconds: names stay unique and sorted. The running child's file
  // has no final name yet, so FreeSnapshotName cannot see it.
  for (int64_t t = NowS();; t = m.unix_seconds + 1) {
    m.name = backup::FreeSnapshotName(Dir(), prefix, t);
    m.unix_seconds = backup::ParseSnapshotName(prefix, m.name).value_or(t);
    if (m.name != running_name_) break;
  }
  if (state_.replication && state_.replication->IsReplica()) m.master = data_master_;
  return m;
}

Status BackupService::Take(const std::string& kind, bool foreground, std::string* name) {
  if (Status s = EnsureDir(); !s.ok()) {
    Finished({.name = "", .kind = kind, .error = s.message(), .unix_seconds = NowS()});
    return s;
  }
  backup::SnapshotMeta meta = NewMeta(kind);
  *name = meta.name;
  const std::string dir = Dir();
  const persist::RdbWriteOptions opts = persistence_.WriteOptions();
  const auto& dbs = state_.dbs;
  auto write = [&dbs, opts](persist::RdbSink* sink) { return persist::WriteRdb(dbs, opts, sink); };
  const std::string repl_id = replication_.ids().replid;
  const int64_t repl_offset = replication_.ids().offset;
  const int64_t start = base::RealWallMs();
  if (foreground) {
    auto r = backup::WriteSnapshot(dir, meta, write);
    Outcome o{.name = meta.name, .kind = kind, .error = "", .unix_seconds = meta.unix_seconds};
    o.duration_ms = base::RealWallMs() - start;
    o.ok = r.ok();
    if (r.ok()) {
      o.size = r->size;
      o.keys = r->keys;
      last_repl_id_ = repl_id;
      last_repl_offset_ = repl_offset;
    } else {
      o.error = r.status().message();
    }
    Finished(std::move(o));
    return r.ok() ? Status::Ok() : r.status();
  }
  auto body = [dir, meta, write](persist::ChildReport* report) {
    auto r = backup::WriteSnapshot(dir, meta, write);
    if (!r.ok()) {
      log::Backup().warn("Snapshot {} failed: {}", meta.name, r.status().message());
      report->SetError(r.status().message());
      return 1;
    }
    report->items = r->keys;
    report->cow_bytes = persist::PrivateDirtyBytes();
    log::Backup().info("Snapshot {} written and verified ({} keys, {} bytes)", meta.name, r->keys,
                       r->size);
    return 0;
  };
  const std::string final_path = dir + "/" + meta.name;
  Status s =
      persistence_.StartSnapshotChild(final_path, body, [this, meta](const persist::ChildExit& e) {
        Outcome o{
            .name = meta.name, .kind = meta.kind, .error = "", .unix_seconds = meta.unix_seconds};
        o.duration_ms = base::RealWallMs() - running_start_ms_;
        o.ok = e.ok();
        if (e.ok()) {
          o.keys = e.report.items;
          struct stat st;
          if (stat((Dir() + "/" + meta.name).c_str(), &st) == 0)
            o.size = static_cast<uint64_t>(st.st_size);
          last_repl_id_ = running_repl_id_;
          last_repl_offset_ = running_repl_offset_;
        } else if (e.signal != 0) {
          o.error = "the snapshot child was killed by signal " + std::to_string(e.signal);
        } else {
          o.error = e.report.error[0] ? std::string(e.report.error)
                                      : "the snapshot child exited with an error";
        }
        running_name_.clear();
        Finished(std::move(o));
      });
  if (!s.ok()) {
    Finished({.name = meta.name, .kind = kind, .error = s.message(), .unix_seconds = NowS()});
    return s;
  }
  running_name_ = meta.name;
  running_start_ms_ = start;
  running_repl_id_ = repl_id;
  running_repl_offset_ = repl_offset;
  log::Backup().info("Snapshot {} ({}) started", meta.name, kind);
  return Status::Ok();
}

void BackupService::Finished(Outcome o) {
  if (o.ok) {
    taken_++;
    if (o.kind == "guard") guards_++;
    log::Backup().info("Snapshot {} ({}) done in {:.3f} s: {} keys, {} bytes", o.name, o.kind,
                       o.duration_ms / 1000.0, o.keys, o.size);
  } else {
    failed_++;
    log::Backup().warn("Snapshot {} ({}) FAILED: {}. Older snapshots are kept as they are.",
                       o.name.empty() ? "-" : o.name, o.kind, o.error);
  }
  last_ = std::move(o);
  if (last_.ok) PruneAfterSnapshot();
  RefreshListing();
}

void BackupService::PruneAfterSnapshot() {
  if (config_.v().snapshot_keep.empty()) return;
  auto decisions = Prune(false);
  if (!decisions.ok())
    log::Backup().warn("Pruning {} failed: {}", Dir(), decisions.status().message());
}

void BackupService::RefreshListing() {
  disk_count_ = disk_bytes_ = disk_verified_ = 0;
  auto list = backup::ListSnapshots(Dir(), config_.v().snapshot_prefix);
  if (!list.ok()) return;
  for (const auto& m : *list) {
    disk_count_++;
    disk_bytes_ += m.size;
    if (m.verified) disk_verified_++;
  }
}

void BackupService::Cron() {
  if (next_due_s_ < 0) return;
  const int64_t now = NowS();
  if (now < next_due_s_ && !due_waiting_) return;
  if (state_.loading) return;
  if (persistence_.ChildActive()) {
    if (!due_waiting_)
      log::Backup().info("Scheduled snapshot waits for the running child process to end");
    due_waiting_ = true;
    next_due_s_ = NextDue(now);
    return;
  }
  due_waiting_ = false;
  next_due_s_ = NextDue(now);
  if (state_.KeyCount() == 0) {
    log::Backup().info("Scheduled snapshot skipped: the dataset is empty");
    return;
  }
  std::string name;
  (void)Take("scheduled", false, &name);
}

Result<std::string> BackupService::Snapshot() {
  if (persistence_.ChildActive())
    return Status::Aborted(running_name_.empty()
                               ? "Another child process is active (BGSAVE or AOF rewrite): try "
                                 "again when it ends"
                               : "A snapshot is already in progress: " + running_name_);
  std::string name;
  if (Status s = Take("manual", false, &name); !s.ok()) return s;
  return name;
}

bool BackupService::DirMissing() const {
  struct stat st;
  return stat(Dir().c_str(), &st) != 0 && errno == ENOENT;
}

Result<std::vector<backup::SnapshotMeta>> BackupService::List() {
  // No directory yet (nothing configured, no snapshot taken): nothing to list.
  if (DirMissing()) return std::vector<backup::SnapshotMeta>{};
  return backup::ListSnapshots(Dir(), config_.v().snapshot_prefix);
}

Result<std::vector<backup::RetentionDecision>> BackupService::Prune(bool dry_run) {
  const auto& v = config_.v();
  auto policy = backup::ParsePolicy(v.snapshot_keep);
  if (!policy.ok()) return policy.status();
  policy->local_time = v.snapshot_local_time;
  if (DirMissing()) return std::vector<backup::RetentionDecision>{};
  // Never the snapshot a child is still writing, nor the one being restored.
  std::set<std::string> protect;
  for (const std::string* n : {&running_name_, &protected_}) {
    if (!n->empty()) protect.insert(*n);
  }
  auto decisions = backup::PruneSnapshots(Dir(), v.snapshot_prefix, *policy, dry_run, protect);
  if (decisions.ok() && !dry_run) {
    for (const auto& d : *decisions) {
      if (d.keep) continue;
      pruned_++;
      log::Backup().info("Pruned snapshot {} (snapshot-keep {})", d.snapshot.name, v.snapshot_keep);
    }
    RefreshListing();
  }
  return decisions;
}

// --- guard snapshots and refused syncs ----------------------------------------------

void BackupService::Guard(const char* why) {
  const auto& v = config_.v();
  if (!v.backup_mode || !v.backup_guard || state_.KeyCount() == 0) return;
  if (!last_repl_id_.empty() && last_repl_id_ == replication_.ids().replid &&
      last_repl_offset_ == replication_.ids().offset) {
    log::Backup().info("Guard snapshot before {} not needed: snapshot {} holds this data", why,
                       last_.name);
    return;
  }
  log::Backup().warn("Taking a guard snapshot before {}", why);
  std::string name;
  // A busy child cannot be waited for: the data goes when this returns.
  (void)Take("guard", persistence_.ChildActive(), &name);
}

void BackupService::BeforeReplicatedFlush(int db) {
  if (db >= 0 && db < state_.db_count() && state_.db(db).size() == 0) return;
  Guard(db < 0 ? "a FLUSHALL from the master" : "a FLUSHDB from the master");
}

void BackupService::BeforeReplace(uint64_t) { Guard("a full resync replaces the dataset"); }

void BackupService::Synced(bool full) {
  data_master_ = config_.v().replicaof;
  std::replace(data_master_.begin(), data_master_.end(), ' ', ':');
  if (full && !alert_.empty()) {
    log::Backup().info("A full sync from the master was accepted; backup alert cleared");
    alert_.clear();
  }
}

bool BackupService::MayRefuse(uint64_t held) const {
  const auto& v = config_.v();
  return v.backup_mode && v.backup_refuse_empty_sync && held > 0;
}

bool BackupService::Accept(uint64_t held, uint64_t incoming) {
  const int percent = config_.v().backup_sync_min_keys_percent;
  const bool empty = incoming == 0;
  const bool shrunk = percent > 0 && incoming * 100 < held * static_cast<uint64_t>(percent);
  if (!empty && !shrunk) {
    if (!alert_.empty())
      log::Backup().info("The master's dataset is accepted again; alert cleared");
    alert_.clear();
    return true;
  }
  refused_++;
  last_refused_s_ = NowS();
  last_refused_held_ = held;
  last_refused_incoming_ = incoming;
  alert_ = empty ? "the master sent an EMPTY dataset" : "the master sent a much smaller dataset";
  alert_ += " (" + std::to_string(incoming) + " keys, this node holds " + std::to_string(held) +
            "); sync refused";
  log::Backup().warn(
      "BACKUP ALERT: {}. This backup keeps its data (backup-refuse-empty-sync yes). If the master "
      "lost its data, restore it from here (BACKUP PROMOTE, docs/operations.md); if the change is "
      "intended, CONFIG SET backup-refuse-empty-sync no",
      alert_);
  return false;
}

int BackupService::RetryDelaySeconds(int refusals) const {
  // 5 s, 10 s, 20 s ... at most 5 minutes: a master that stays empty is not
  // asked for a full sync every second.
  int delay = 5;
  for (int i = 1; i < refusals && delay < 300; i++) delay *= 2;
  return std::min(delay, 300);
}

// --- promotion and restore ------------------------------------------------------------

Status BackupService::LoadSnapshot(std::string& snapshot, bool force) {
  const bool latest = snapshot == "latest";
  if (!latest && (snapshot.find('/') != std::string::npos ||
                  !backup::ParseSnapshotName(config_.v().snapshot_prefix, snapshot)))
    return Status::InvalidArgument("'" + snapshot +
                                   "' is not a snapshot name or 'latest' (see BACKUP LIST)");
  auto list = List();
  if (!list.ok()) return list.status();
  const backup::SnapshotMeta* it = backup::FindSnapshot(*list, snapshot);
  if (it == nullptr)
    return Status::NotFound(latest ? "no verified snapshot in " + Dir()
                                   : "no snapshot " + snapshot + " in " + Dir());
  snapshot = it->name;
  if (!it->verified && !force)
    return Status::Refused(
        "snapshot " + snapshot + " is not verified (" +
        (it->verify_error.empty() ? std::string("no manifest") : it->verify_error) +
        "); add FORCE to load it anyway");
  protected_ = snapshot;
  log::Backup().warn("Loading snapshot {}{}", snapshot, force ? " (FORCE)" : "");
  persist::RdbLoadInfo info;
  Status s = persistence_.ReplaceDataset(Dir() + "/" + snapshot, !force, &info);
  protected_.clear();
  if (!s.ok()) {
    log::Backup().warn("Loading snapshot {} failed: {}. The dataset is unchanged.", snapshot,
                       s.message());
    return Status::Corruption("loading snapshot " + snapshot + " failed: " + s.message() +
                              " (the dataset is unchanged)");
  }
  return Status::Ok();
}

Result<std::string> BackupService::Promote(const std::string& requested, bool force) {
  std::string snapshot = requested;  // "latest" becomes the name it stands for
  const bool replica = state_.replication && state_.replication->IsReplica();
  if (!replica && !WritesRefused())
    return Status::InvalidArgument(
        "this node is already a writable master (BACKUP RESTORE replaces its dataset)");
  if (persistence_.ChildActive() && !snapshot.empty() && running_name_ == snapshot)
    return Status::Aborted("snapshot " + snapshot + " is still being written");
  if (!snapshot.empty()) {
    if (Status s = LoadSnapshot(snapshot, force); !s.ok()) return s;
  }
  const std::string was = config_.v().replicaof;
  promoted_ = true;
  alert_.clear();
  state_.replication->Promote(!snapshot.empty());
  config_.v().backup_mode = false;
  std::string reply = "OK promoted to master";
  if (!snapshot.empty()) reply += " from snapshot " + snapshot;
  Status rw = config_.Rewrite();
  if (rw.ok()) {
    reply += "; config file rewritten (backup-mode no, no replicaof)";
  } else if (rw.code() != StatusCode::kNotFound) {
    log::Backup().warn("Promotion could not rewrite the config file: {}", rw.message());
    reply += "; WARNING: the config file could not be rewritten (" + rw.message() + ")";
  }
  log::Backup().warn("PROMOTED to master{}{}: writes are allowed, snapshots continue",
                     was.empty() ? "" : " (was a replica of " + was + ")",
                     snapshot.empty() ? " from live data" : " from snapshot " + snapshot);
  next_due_s_ = NextDue(NowS());
  return reply;
}

Result<std::string> BackupService::Restore(const std::string& requested, bool force) {
  std::string snapshot = requested;
  if (state_.replication && state_.replication->IsReplica())
    return Status::InvalidArgument(
        "this node is a replica: BACKUP PROMOTE <snapshot> restores a snapshot and promotes it");
  if (WritesRefused())
    return Status::InvalidArgument("this node is in backup mode: use BACKUP PROMOTE <snapshot>");
  if (Status s = LoadSnapshot(snapshot, force); !s.ok()) return s;
  state_.replication->Promote(true);
  log::Backup().warn("Dataset restored from snapshot {}", snapshot);
  return "OK restored from snapshot " + snapshot;
}

// --- INFO backup ------------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> BackupService::InfoFields() {
  cmd::InfoFieldList out;
  auto add = [&out](const char* k, const auto& v) { cmd::AddInfoField(out, k, v); };
  const auto& v = config_.v();
  const int64_t now = NowS();
  add("backup_mode", v.backup_mode ? "yes" : "no");
  add("backup_promoted", promoted_ ? 1 : 0);
  add("backup_writes_refused", WritesRefused() ? 1 : 0);
  add("snapshot_dir", Active() || !DirMissing() ? Dir() : "");
  add("snapshot_in_progress", running_name_.empty() ? 0 : 1);
  add("snapshot_current", running_name_);
  add("snapshot_current_seconds",
      running_name_.empty() ? -1 : (base::RealWallMs() - running_start_ms_) / 1000);
  add("last_snapshot", last_.name);
  add("last_snapshot_kind", last_.kind);
  add("last_snapshot_time", last_.unix_seconds ? last_.unix_seconds : -1);
  add("last_snapshot_status", last_.unix_seconds == 0 ? "none" : last_.ok ? "ok" : "err");
  add("last_snapshot_error", last_.error);
  add("last_snapshot_duration_ms", last_.unix_seconds ? last_.duration_ms : -1);
  add("last_snapshot_size", last_.size);
  add("last_snapshot_keys", last_.keys);
  add("next_snapshot_time", next_due_s_);
  add("next_snapshot_in_seconds", next_due_s_ < 0 ? -1 : std::max<int64_t>(0, next_due_s_ - now));
  add("snapshots_on_disk", disk_count_);
  add("snapshots_verified", disk_verified_);
  add("snapshots_bytes", disk_bytes_);
  add("snapshots_taken", taken_);
  add("snapshots_failed", failed_);
  add("snapshots_pruned", pruned_);
  add("guard_snapshots", guards_);
  add("syncs_refused", refused_);
  add("last_refused_sync_time", last_refused_s_ ? last_refused_s_ : -1);
  add("last_refused_sync_keys", last_refused_incoming_);
  add("last_refused_sync_held_keys", last_refused_held_);
  add("backup_alert", alert_.empty() ? "none" : alert_);
  return out;
}

}  // namespace cairn::server
