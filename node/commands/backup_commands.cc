// BACKUP SNAPSHOT | LIST | PRUNE [DRYRUN] | PROMOTE [snapshot] [FORCE] |
// RESTORE snapshot [FORCE] | HELP: backup mode's operations over RESP, so that
// `cairn snapshot ...`, `cairn promote` and redis-cli drive a running node. The
// work is the server's BackupControl (node/commands/backup.h).
#include <string>

#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;

BackupControl* Control(Context& ctx) {
  BackupControl* b = ctx.server().backup;
  if (b == nullptr) ctx.reply().Error("backup mode is not available in this process");
  return b;
}

void ReplyResult(Context& ctx, const Result<std::string>& r) {
  if (r.ok()) {
    ctx.reply().Simple(r.value());
  } else {
    ctx.reply().Error(r.status().message());
  }
}

void CmdBackupSnapshot(Context& ctx) {
  if (BackupControl* b = Control(ctx)) {
    auto r = b->Snapshot();
    ReplyResult(ctx, r.ok() ? Result<std::string>("Snapshot started: " + r.value()) : r);
  }
}

// One map per snapshot (a flat array of pairs in RESP2), oldest first.
void CmdBackupList(Context& ctx) {
  BackupControl* b = Control(ctx);
  if (b == nullptr) return;
  auto list = b->List();
  if (!list.ok()) {
    ctx.reply().Error(list.status().message());
    return;
  }
  auto& r = ctx.reply();
  r.Array(list->size());
  for (const auto& m : *list) {
    r.Map(10);
    r.Bulk("name");
    r.Bulk(m.name);
    r.Bulk("time");
    r.Int(m.unix_seconds);
    r.Bulk("kind");
    r.Bulk(m.kind);
    r.Bulk("size");
    r.Int(static_cast<int64_t>(m.size));
    r.Bulk("keys");
    r.Int(static_cast<int64_t>(m.keys));
    r.Bulk("verified");
    r.Bulk(m.verified ? "yes" : "no");
    r.Bulk("verify-error");
    r.Bulk(m.verify_error);
    r.Bulk("repl-id");
    r.Bulk(m.repl_id);
    r.Bulk("repl-offset");
    r.Int(m.repl_offset);
    r.Bulk("master");
    r.Bulk(m.master);
  }
}

// [name, keep|remove, "reason,reason"] per snapshot, newest first.
void CmdBackupPrune(Context& ctx) {
  bool dry_run = false;
  if (ctx.argc() == 3 && base::EqualsNoCase(ctx.arg(2), "dryrun")) {
    dry_run = true;
  } else if (ctx.argc() != 2) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  BackupControl* b = Control(ctx);
  if (b == nullptr) return;
  auto decisions = b->Prune(dry_run);
  if (!decisions.ok()) {
    ctx.reply().Error(decisions.status().message());
    return;
  }
  auto& r = ctx.reply();
  r.Array(decisions->size());
  for (const auto& d : *decisions) {
    std::string reasons;
    for (const auto& why : d.reasons) reasons += (reasons.empty() ? "" : ",") + why;
    r.Array(3);
    r.Bulk(d.snapshot.name);
    r.Bulk(d.keep ? "keep" : "remove");
    r.Bulk(reasons);
  }
}

// [snapshot] [FORCE] from argument 2 on; false (and a syntax error) otherwise.
bool SnapshotArgs(Context& ctx, bool need_name, std::string* name, bool* force) {
  size_t i = 2;
  if (i < ctx.argc() && !base::EqualsNoCase(ctx.arg(i), "force")) name->assign(ctx.arg(i++));
  if (i < ctx.argc() && base::EqualsNoCase(ctx.arg(i), "force")) {
    *force = true;
    i++;
  }
  if (i != ctx.argc() || (need_name && name->empty())) {
    ctx.reply().Error(err::kSyntax);
    return false;
  }
  return true;
}

void CmdBackupPromote(Context& ctx) {
  std::string name;
  bool force = false;
  if (!SnapshotArgs(ctx, false, &name, &force)) return;
  if (BackupControl* b = Control(ctx)) ReplyResult(ctx, b->Promote(name, force));
}

void CmdBackupRestore(Context& ctx) {
  std::string name;
  bool force = false;
  if (!SnapshotArgs(ctx, true, &name, &force)) return;
  if (BackupControl* b = Control(ctx)) ReplyResult(ctx, b->Restore(name, force));
}

void CmdBackupHelp(Context& ctx) {
  static const char* const kLines[] = {
      "BACKUP <subcommand> [<arg> ...]. Subcommands are:",
      "SNAPSHOT",
      "    Take a snapshot into snapshot-dir now (a forked child writes and verifies it).",
      "LIST",
      "    List the snapshots in snapshot-dir, oldest first.",
      "PRUNE [DRYRUN]",
      "    Apply snapshot-keep; with DRYRUN only report what would be removed and why.",
      "PROMOTE [<snapshot>] [FORCE]",
      "    Turn this backup replica into a writable master, optionally from a snapshot",
      "    first ('latest': the newest verified one); FORCE loads a snapshot that did",
      "    not verify.",
      "RESTORE <snapshot> [FORCE]",
      "    Replace a master's dataset with a snapshot or 'latest' (its replicas resync).",
      "HELP",
      "    Print this help.",
  };
  ctx.reply().StatusLines(kLines);
}

CommandSpec Spec(const char* name, int arity, uint32_t flags, Handler h, const char* summary,
                 const char* syntax) {
  // Cairn's own command: "since" is the Cairn version that added it.
  return MakeSpec(name, arity, flags, 0, 0, 0, h, "server", CAIRN_VERSION, summary, syntax,
                  "@admin @slow @dangerous");
}

}  // namespace

void RegisterBackupCommands(CommandTable& t) {
  constexpr uint32_t kFlags = kAdmin | kNoScript | kNoMulti | kStale;
  t.Add(Spec("backup", -2, 0, nullptr, "Backup mode: snapshots, retention, promotion", ""));
  t.AddSub("backup", Spec("snapshot", 2, kFlags, CmdBackupSnapshot,
                          "Take a snapshot into snapshot-dir now", ""));
  t.AddSub("backup", Spec("list", 2, kFlags | kLoading, CmdBackupList,
                          "List the snapshots in snapshot-dir", ""));
  t.AddSub("backup", Spec("prune", -2, kFlags, CmdBackupPrune,
                          "Apply the snapshot-keep retention policy", "[DRYRUN]"));
  t.AddSub("backup", Spec("promote", -2, kFlags, CmdBackupPromote,
                          "Turn a backup replica into a writable master", "[snapshot] [FORCE]"));
  t.AddSub("backup", Spec("restore", -3, kFlags, CmdBackupRestore,
                          "Replace a master's dataset with a snapshot", "snapshot [FORCE]"));
  t.AddSub("backup", Spec("help", 2, kLoading | kStale, CmdBackupHelp,
                          "Describe the BACKUP subcommands", ""));
}

}  // namespace cairn::cmd
