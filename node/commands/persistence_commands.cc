// Persistence commands: SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF, LASTSAVE. They
// ask the server's PersistenceControl (node/commands/persistence.h) and reply
// as Redis 7.0 does.
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;

PersistenceControl* Control(Context& ctx) {
  PersistenceControl* p = ctx.server().persistence;
  if (p == nullptr) ctx.reply().Error("persistence is not available in this process");
  return p;
}

void CmdSave(Context& ctx) {
  PersistenceControl* p = Control(ctx);
  if (p == nullptr) return;
  Status s = p->Save();
  if (s.ok()) {
    ctx.reply().Ok();
  } else if (s.code() == StatusCode::kAborted) {
    ctx.reply().Error(s.message());
  } else {
    ctx.reply().Error("Failed saving the DB: " + s.message());
  }
}

void CmdBgSave(Context& ctx) {
  bool schedule = false;
  if (ctx.argc() > 1) {
    if (ctx.argc() == 2 && base::EqualsNoCase(ctx.arg(1), "schedule")) {
      schedule = true;
    } else {
      ctx.reply().Error(err::kSyntax);
      return;
    }
  }
  PersistenceControl* p = Control(ctx);
  if (p == nullptr) return;
  auto r = p->BackgroundSave(schedule);
  if (r.ok()) {
    ctx.reply().Simple(r.value());
  } else {
    ctx.reply().Error(r.status().message());
  }
}

void CmdBgRewriteAof(Context& ctx) {
  PersistenceControl* p = Control(ctx);
  if (p == nullptr) return;
  auto r = p->RewriteAof();
  if (r.ok()) {
    ctx.reply().Simple(r.value());
  } else {
    ctx.reply().Error(r.status().message());
  }
}

void CmdLastSave(Context& ctx) { ctx.reply().Int(ctx.server().lastsave_s); }

}  // namespace

void RegisterPersistenceCommands(CommandTable& t) {
  t.Add(MakeSpec("save", 1, kAdmin | kNoScript | kNoMulti | kNoAsyncLoading, 0, 0, 0, CmdSave,
                 "server", "1.0.0", "Synchronously saves the dataset to disk.", "",
                 "@admin @slow @dangerous"));
  t.Add(MakeSpec("bgsave", -1, kAdmin | kNoScript | kNoAsyncLoading, 0, 0, 0, CmdBgSave, "server",
                 "1.0.0", "Asynchronously saves the dataset to disk in a forked child.",
                 "[SCHEDULE]", "@admin @slow @dangerous"));
  t.Add(MakeSpec("bgrewriteaof", 1, kAdmin | kNoScript | kNoAsyncLoading, 0, 0, 0, CmdBgRewriteAof,
                 "server", "1.0.0",
                 "Asynchronously rewrites the append-only file to its smallest form.", "",
                 "@admin @slow @dangerous"));
  t.Add(MakeSpec("lastsave", 1, kLoading | kStale | kFast, 0, 0, 0, CmdLastSave, "server", "1.0.0",
                 "Returns the unix time of the last successful save.", "",
                 "@admin @fast @dangerous"));
}

}  // namespace cairn::cmd
