// CONFIG GET / SET / RESETSTAT / REWRITE / HELP, Redis 7.0's replies over
// config::Config (node/config/config.h), which owns parsing and validation.
#include "node/commands/config_commands.h"

#include <string>
#include <utility>
#include <vector>

#include "node/base/log.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/protocol/errors.h"

namespace cairn::cmd {

namespace {

std::vector<std::function<void()>>& ResetHooks() {
  static std::vector<std::function<void()>> hooks;
  return hooks;
}

// Loopback or unix socket peers count as local (enable-protected-configs local).
bool IsLocalClient(const ClientState& c) {
  const std::string& a = c.addr;
  return a.empty() || a[0] == '/' || a.rfind("127.", 0) == 0 || a.rfind("[::1]", 0) == 0 ||
         a.rfind("::1:", 0) == 0;
}

void CmdConfigGet(Context& ctx) {
  std::vector<std::string_view> patterns(ctx.argv().begin() + 2, ctx.argv().end());
  auto pairs = ctx.server().config->Get(patterns);
  ctx.reply().Map(pairs.size());
  for (const auto& [name, value] : pairs) {
    ctx.reply().Bulk(name);
    ctx.reply().Bulk(value);
  }
}

void CmdConfigSet(Context& ctx) {
  if (ctx.argc() % 2 != 0) {
    ctx.reply().Error(protocol::err::kSyntax);
    return;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    pairs.emplace_back(std::string(ctx.arg(i)), std::string(ctx.arg(i + 1)));
  }
  Status st = ctx.server().config->SetMany(pairs, IsLocalClient(ctx.client()));
  if (!st.ok()) {
    ctx.reply().Error(st.message());
    return;
  }
  ctx.reply().Ok();
}

void CmdConfigResetStat(Context& ctx) {
  ServerState& s = ctx.server();
  s.stats = ServerStats{};
  if (s.commands != nullptr) {
    for (const auto& [name, spec] : s.commands->all()) {
      spec->calls = spec->usec = spec->rejected_calls = spec->failed_calls = 0;
      for (const auto& [sub, subspec] : spec->subcommands) {
        subspec->calls = subspec->usec = subspec->rejected_calls = subspec->failed_calls = 0;
      }
    }
  }
  for (const auto& hook : ResetHooks()) hook();
  ctx.reply().Ok();
}

void CmdConfigRewrite(Context& ctx) {
  config::Config& cfg = *ctx.server().config;
  if (cfg.config_file().empty()) {
    ctx.reply().Error("The server is running without a config file");
    return;
  }
  Status st = cfg.Rewrite();
  if (!st.ok()) {
    log::Server().warn("CONFIG REWRITE failed: {}", st.message());
    ctx.reply().Error("Rewriting config file: " + st.message());
    return;
  }
  log::Server().info("CONFIG REWRITE executed with success.");
  ctx.reply().Ok();
}

void CmdConfigHelp(Context& ctx) {
  static const char* const kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply().StatusLines(kLines);
}

CommandSpec Spec(const char* name, int arity, uint32_t flags, Handler h, const char* since,
                 const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, 0, 0, 0, h, "server", since, summary, syntax, acl);
}

}  // namespace

void SetResetStatsHook(std::function<void()> fn) { ResetHooks().push_back(std::move(fn)); }
void ClearResetStatsHooks() { ResetHooks().clear(); }

void RegisterConfigCommands(CommandTable& t) {
  constexpr uint32_t kAdminFlags = kAdmin | kNoScript | kLoading | kStale;
  constexpr const char* kAdminAcl = "@admin @slow @dangerous";
  t.Add(Spec("config", -2, 0, nullptr, "2.0.0", "Read and change the configuration at run time", "",
             "@slow"));
  t.AddSub("config", Spec("get", -3, kAdminFlags, CmdConfigGet, "2.0.0",
                          "Values of the directives matching one or more glob patterns",
                          "parameter [parameter ...]", kAdminAcl));
  t.AddSub("config", Spec("set", -4, kAdminFlags, CmdConfigSet, "2.0.0",
                          "Change one or more directives at once, all or none",
                          "parameter value [parameter value ...]", kAdminAcl));
  t.AddSub("config", Spec("resetstat", 2, kAdminFlags, CmdConfigResetStat, "2.0.0",
                          "Zero the counters INFO reports", "", kAdminAcl));
  t.AddSub("config",
           Spec("rewrite", 2, kAdminFlags, CmdConfigRewrite, "2.8.0",
                "Write the running configuration back into the loaded file", "", kAdminAcl));
  t.AddSub("config", Spec("help", 2, kLoading | kStale, CmdConfigHelp, "5.0.0",
                          "Describe the CONFIG subcommands", "", "@slow"));
}

}  // namespace cairn::cmd
