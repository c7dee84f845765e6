// Server commands: INFO, TIME, LASTSAVE, ROLE, SHUTDOWN, DEBUG, MEMORY, SLOWLOG,
// and the scripting/function commands answered as Redis 7.0 does with nothing
// loaded (Cairn has no Lua engine).
#include <unistd.h>

#include <chrono>
#include <thread>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/base/memory.h"
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/commands/info.h"
#include "node/store/digest.h"
#include "node/store/value_ops.h"

namespace cairn::cmd {
namespace {

namespace err = protocol::err;

constexpr std::string_view kNoLua =
    "Cairn does not run Lua scripts or functions (EVAL, EVALSHA, FCALL and SCRIPT LOAD are not "
    "supported)";

void CmdInfo(Context& ctx) {
  std::vector<std::string> sections;
  for (size_t i = 1; i < ctx.argc(); i++) sections.emplace_back(ctx.arg(i));
  ctx.reply().Verbatim(GenerateInfo(ctx.server(), sections));
}

void CmdTime(Context& ctx) {
  int64_t us = base::RealWallUs();
  ctx.reply().Array(2);
  ctx.reply().BulkInt(us / 1000000);
  ctx.reply().BulkInt(us % 1000000);
}

void CmdShutdown(Context& ctx) {
  bool nosave = false, save = false, abort = false, force = false;
  for (size_t i = 1; i < ctx.argc(); i++) {
    std::string_view a = ctx.arg(i);
    if (base::EqualsNoCase(a, "nosave")) {
      nosave = true;
    } else if (base::EqualsNoCase(a, "save")) {
      save = true;
    } else if (base::EqualsNoCase(a, "force")) {
      force = true;
    } else if (base::EqualsNoCase(a, "now")) {
      // Nothing to wait for until replicas exist (the replication issue).
    } else if (base::EqualsNoCase(a, "abort")) {
      abort = true;
    } else {
      ctx.reply().Error(err::kSyntax);
      return;
    }
  }
  if ((abort && ctx.argc() != 2) || (nosave && save)) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  if (abort) {
    ctx.reply().Error("No shutdown in progress.");
    return;
  }
  ctx.server().shutdown_save = save;
  ctx.server().shutdown_nosave = nosave;
  ctx.server().shutdown_force = force;
  log::Server().warn("User requested shutdown...");
  if (ctx.server().request_shutdown && !ctx.server().request_shutdown())
    ctx.reply().Error("Errors trying to SHUTDOWN. Check logs.");
}

size_t ValueMemory(const store::Entry* e) {
  size_t n = sizeof(store::Entry) + e->key_len + e->inline_len;
  if (e->type == store::ObjType::kString) {
    if (e->enc == store::Enc::kRaw) n += sizeof(store::StrBuf) + e->as<store::StrBuf>()->cap;
  } else {
    n += store::ContainerMemory(e->type, e->enc, e->v.ptr);
  }
  return n;
}

void CmdDebug(Context& ctx) {
  std::string_view sub = ctx.arg(1);
  auto& s = ctx.server();
  if (base::EqualsNoCase(sub, "digest") && ctx.argc() == 2) {
    std::vector<store::Db*> dbs;
    for (auto& d : s.dbs) dbs.push_back(d.get());
    ctx.reply().Simple(store::DatasetDigestHex(dbs.data(), dbs.size()));
  } else if (base::EqualsNoCase(sub, "digest-value")) {
    ctx.reply().Array(ctx.argc() - 2);
    for (size_t i = 2; i < ctx.argc(); i++) {
      unsigned char d[20] = {0};
      store::Entry* e = ctx.db().LookupNoTouch(ctx.arg(i));
      if (e) store::ValueDigest(ctx.db(), e, d);
      ctx.reply().Simple(store::DigestHex(d));
    }
  } else if (base::EqualsNoCase(sub, "sleep") && ctx.argc() == 3) {
    double secs;
    if (!ctx.ParseDouble(ctx.arg(2), &secs)) return;
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
    ctx.reply().Ok();
  } else if (base::EqualsNoCase(sub, "object") && ctx.argc() == 3) {
    store::Entry* e = ctx.db().LookupNoTouch(ctx.arg(2));
    if (e == nullptr) {
      ctx.reply().Error(err::kNoSuchKey);
      return;
    }
    std::string line = "Value at:0x0 refcount:1 encoding:";
    line += store::EncodingName(e->type, e->enc, e->inline_len);
    line += " serializedlength:" + std::to_string(store::Db::ValueLength(e));
    line += " lru:" + std::to_string(e->lru & ((1 << 24) - 1));
    line += " lru_seconds_idle:" + std::to_string(store::LruClock() - e->lru);
    ctx.reply().Simple(line);
  } else if (base::EqualsNoCase(sub, "reload")) {
    bool save = true, flush = true;
    for (size_t i = 2; i < ctx.argc(); i++) {
      if (base::EqualsNoCase(ctx.arg(i), "nosave")) {
        save = false;
      } else if (base::EqualsNoCase(ctx.arg(i), "noflush") ||
                 base::EqualsNoCase(ctx.arg(i), "merge")) {
        flush = false;
      } else {
        ctx.reply().Error("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
        return;
      }
    }
    if (s.persistence == nullptr) {
      ctx.reply().Error("persistence is not available in this process");
      return;
    }
    Status st = s.persistence->DebugReload(save, flush);
    if (st.ok()) {
      ctx.reply().Ok();
    } else {
      ctx.reply().Error(st.message());
    }
  } else if (base::EqualsNoCase(sub, "set-active-expire") && ctx.argc() == 3) {
    s.active_expire_enabled = ctx.arg(2) != "0";
    ctx.reply().Ok();
  } else if (base::EqualsNoCase(sub, "help")) {
    static const char* kLines[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "OBJECT <key>",
        "    Show low level info about the key and associated value.",
        "RELOAD [NOSAVE]",
        "    Save the RDB on disk and reload it back to memory. With NOSAVE the file",
        "    on disk is loaded as it is.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not accessed.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Print this help.",
    };
    ctx.reply().StatusLines(kLines);
  } else {
    ctx.reply().Error("unknown subcommand or wrong number of arguments for '" + std::string(sub) +
                      "'. Try DEBUG HELP.");
  }
}

void CmdMemoryUsage(Context& ctx) {
  if (ctx.argc() != 3 && !(ctx.argc() == 5 && base::EqualsNoCase(ctx.arg(3), "samples"))) {
    ctx.reply().Error(err::kSyntax);
    return;
  }
  if (ctx.argc() == 5) {
    int64_t n;
    if (!ctx.ParseInt(ctx.arg(4), &n)) return;
  }
  store::Entry* e = ctx.db().LookupNoTouch(ctx.arg(2));
  if (e == nullptr) {
    ctx.reply().Null();
    return;
  }
  ctx.reply().Int(static_cast<int64_t>(ValueMemory(e)));
}

void CmdMemoryStats(Context& ctx) {
  auto& s = ctx.server();
  size_t used = base::UsedMemory();
  size_t overhead = 0;
  size_t keys = 0;
  for (auto& db : s.dbs) {
    overhead += db->OverheadBytes();
    keys += db->size();
  }
  auto& r = ctx.reply();
  r.Map(8);
  r.Bulk("peak.allocated");
  r.Int(static_cast<int64_t>(std::max(base::PeakMemory(), used)));
  r.Bulk("total.allocated");
  r.Int(static_cast<int64_t>(used));
  r.Bulk("startup.allocated");
  r.Int(static_cast<int64_t>(s.startup_memory));
  r.Bulk("overhead.total");
  r.Int(static_cast<int64_t>(overhead + s.startup_memory));
  r.Bulk("keys.count");
  r.Int(static_cast<int64_t>(keys));
  r.Bulk("keys.bytes-per-key");
  r.Int(keys ? static_cast<int64_t>((used - s.startup_memory) / keys) : 0);
  r.Bulk("dataset.bytes");
  r.Int(static_cast<int64_t>(used > overhead + s.startup_memory ? used - overhead - s.startup_memory
                                                                : 0));
  r.Bulk("fragmentation");
  r.Double(used ? static_cast<double>(base::ProcessRss()) / static_cast<double>(used) : 0);
}

void CmdMemoryDoctor(Context& ctx) {
  ctx.reply().Verbatim(
      "Hi Sam, I can't find any memory issue in your instance. I can only account "
      "for what occurs on this base.\n");
}

void CmdMemoryPurge(Context& ctx) { ctx.reply().Ok(); }
void CmdMemoryMallocStats(Context& ctx) {
  ctx.reply().Verbatim("Stats not supported for the current allocator\n");
}

void CmdSlowlogGet(Context& ctx) { ctx.reply().Array(0); }
void CmdSlowlogLen(Context& ctx) { ctx.reply().Int(0); }
void CmdSlowlogReset(Context& ctx) { ctx.reply().Ok(); }

void CmdNoLua(Context& ctx) { ctx.reply().Error(kNoLua); }
void CmdEvalSha(Context& ctx) { ctx.reply().Error(err::kNoScript); }
// Nothing ever runs, so there is nothing to kill. Redis Sentinel sends SCRIPT KILL
// to a master that answers -BUSY and reads this reply as "not busy".
void CmdNotBusy(Context& ctx) { ctx.reply().Error(err::kNotBusy); }
void CmdOk(Context& ctx) { ctx.reply().Ok(); }
void CmdEmptyArray(Context& ctx) { ctx.reply().Array(0); }

void CmdScriptExists(Context& ctx) {
  ctx.reply().Array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); i++) ctx.reply().Int(0);
}

void CmdFunctionStats(Context& ctx) {
  auto& r = ctx.reply();
  r.Map(2);
  r.Bulk("running_script");
  r.Null();
  r.Bulk("engines");
  r.Map(1);
  r.Bulk("LUA");
  r.Map(2);
  r.Bulk("libraries_count");
  r.Int(0);
  r.Bulk("functions_count");
  r.Int(0);
}

CommandSpec Make(const char* name, int arity, uint32_t flags, Handler h, const char* group,
                 const char* since, const char* summary, const char* syntax, const char* acl,
                 int first = 0, int last = 0, int step = 0) {
  return MakeSpec(name, arity, flags, first, last, step, h, group, since, summary, syntax, acl);
}

}  // namespace

void RegisterServerCommands(CommandTable& t) {
  t.Add(Make("info", -1, kLoading | kStale | kSentinel, CmdInfo, "server", "1.0.0",
             "Returns information and statistics about the server.", "[section [section ...]]",
             "@slow @dangerous"));
  t.Add(Make("time", 1, kLoading | kStale | kFast, CmdTime, "server", "2.6.0",
             "Returns the server time.", "", "@fast"));
  t.Add(Make("shutdown", -1,
             kAdmin | kNoScript | kLoading | kStale | kNoMulti | kSentinel | kAllowBusy,
             CmdShutdown, "server", "1.0.0", "Stops the server.",
             "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]", "@admin @slow @dangerous"));
  t.Add(Make("debug", -2, kAdmin | kNoScript | kLoading | kStale, CmdDebug, "server", "1.0.0",
             "Debugging and testing helpers (DIGEST, SLEEP, OBJECT ...).", "",
             "@admin @slow @dangerous"));
  t.Add(Make("memory", -2, 0, nullptr, "server", "4.0.0", "Memory introspection.", "", "@slow"));
  t.AddSub("memory", Make("usage", -3, kReadonly, CmdMemoryUsage, "server", "4.0.0",
                          "Estimates the memory a key and its value use.", "key [SAMPLES count]",
                          "@read @slow", 2, 2, 1));
  t.AddSub("memory", Make("stats", 2, 0, CmdMemoryStats, "server", "4.0.0",
                          "Reports memory usage details.", "", "@slow"));
  t.AddSub("memory", Make("doctor", 2, 0, CmdMemoryDoctor, "server", "4.0.0",
                          "Reports memory problems.", "", "@slow"));
  t.AddSub("memory", Make("purge", 2, 0, CmdMemoryPurge, "server", "4.0.0",
                          "Asks the allocator to release memory.", "", "@slow"));
  t.AddSub("memory", Make("malloc-stats", 2, 0, CmdMemoryMallocStats, "server", "4.0.0",
                          "Returns allocator statistics.", "", "@slow"));
  t.Add(Make("slowlog", -2, 0, nullptr, "server", "2.2.12", "The slow log.", "", "@slow"));
  t.AddSub("slowlog", Make("get", -2, kAdmin | kLoading | kStale, CmdSlowlogGet, "server", "2.2.12",
                           "Returns slow log entries (Cairn keeps none yet).", "[count]",
                           "@admin @slow @dangerous"));
  t.AddSub("slowlog",
           Make("len", 2, kAdmin | kLoading | kStale, CmdSlowlogLen, "server", "2.2.12",
                "Returns the number of slow log entries.", "", "@admin @slow @dangerous"));
  t.AddSub("slowlog", Make("reset", 2, kAdmin | kLoading | kStale, CmdSlowlogReset, "server",
                           "2.2.12", "Clears the slow log.", "", "@admin @slow @dangerous"));
  // Scripting: nothing can be loaded, so answer as an empty Redis 7.0 would and
  // refuse execution with a clear message.
  constexpr uint32_t kScript = kNoScript | kSkipMonitor | kMayReplicate | kNoMandatoryKeys | kStale;
  t.Add(Make("eval", -3, kScript, CmdNoLua, "scripting", "2.6.0",
             "Runs a Lua script (not supported by Cairn).",
             "script numkeys [key [key ...]] [arg [arg ...]]", "@slow @scripting"));
  t.Add(Make("eval_ro", -3, kScript | kReadonly, CmdNoLua, "scripting", "7.0.0",
             "Runs a read-only Lua script (not supported by Cairn).",
             "script numkeys [key [key ...]] [arg [arg ...]]", "@slow @scripting"));
  t.Add(Make("evalsha", -3, kScript, CmdEvalSha, "scripting", "2.6.0",
             "Runs a cached Lua script (none can be cached in Cairn).",
             "sha1 numkeys [key [key ...]] [arg [arg ...]]", "@slow @scripting"));
  t.Add(Make("evalsha_ro", -3, kScript | kReadonly, CmdEvalSha, "scripting", "7.0.0",
             "Runs a cached read-only Lua script (none can be cached in Cairn).",
             "sha1 numkeys [key [key ...]] [arg [arg ...]]", "@slow @scripting"));
  t.Add(Make("fcall", -3, kScript, CmdNoLua, "scripting", "7.0.0",
             "Calls a function (not supported by Cairn).",
             "function numkeys [key [key ...]] [arg [arg ...]]", "@slow @scripting"));
  t.Add(Make("fcall_ro", -3, kScript | kReadonly, CmdNoLua, "scripting", "7.0.0",
             "Calls a read-only function (not supported by Cairn).",
             "function numkeys [key [key ...]] [arg [arg ...]]", "@slow @scripting"));
  t.Add(
      Make("script", -2, 0, nullptr, "scripting", "2.6.0", "Script cache commands.", "", "@slow"));
  t.AddSub("script", Make("exists", -3, kNoScript, CmdScriptExists, "scripting", "2.6.0",
                          "Tells which scripts are cached (none are).", "sha1 [sha1 ...]",
                          "@slow @scripting"));
  t.AddSub("script", Make("flush", -2, kNoScript, CmdOk, "scripting", "2.6.0",
                          "Empties the script cache.", "[ASYNC | SYNC]", "@slow @scripting"));
  t.AddSub("script", Make("kill", 2, kNoScript | kAllowBusy, CmdNotBusy, "scripting", "2.6.0",
                          "Kills the running script (none ever runs).", "", "@slow @scripting"));
  t.AddSub("script",
           Make("load", 3, kNoScript | kStale, CmdNoLua, "scripting", "2.6.0",
                "Caches a script (not supported by Cairn).", "script", "@slow @scripting"));
  t.Add(Make("function", -2, 0, nullptr, "scripting", "7.0.0", "Function library commands.", "",
             "@slow"));
  t.AddSub("function",
           Make("kill", 2, kNoScript | kAllowBusy, CmdNotBusy, "scripting", "7.0.0",
                "Kills the running function (none ever runs).", "", "@slow @scripting"));
  t.AddSub("function", Make("list", -2, kNoScript, CmdEmptyArray, "scripting", "7.0.0",
                            "Lists function libraries (there are none).",
                            "[LIBRARYNAME library-name-pattern] [WITHCODE]", "@slow @scripting"));
  t.AddSub("function",
           Make("flush", -2, kWrite | kNoScript, CmdOk, "scripting", "7.0.0",
                "Deletes every function library.", "[ASYNC | SYNC]", "@write @slow @scripting"));
  t.AddSub("function",
           Make("stats", 2, kNoScript | kAllowBusy, CmdFunctionStats, "scripting", "7.0.0",
                "Reports the running function and engines.", "", "@slow @scripting"));
  t.AddSub("function", Make("load", -3, kWrite | kDenyOom | kNoScript, CmdNoLua, "scripting",
                            "7.0.0", "Loads a function library (not supported by Cairn).",
                            "[REPLACE] function-code", "@write @slow @scripting"));
}

}  // namespace cairn::cmd
