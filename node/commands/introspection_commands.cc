// COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
// GETKEYSANDFLAGS, HELP): the command table as Redis 7.0 reports it, which
// redis-cli reads for its help and hints and client libraries for key routing.
#include <string>
#include <vector>

#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/command_docs.h"
#include "node/commands/context.h"

namespace cairn::cmd {

namespace {

using docs::Arg;
using docs::ArgType;
using docs::KeySpec;
using protocol::Reply;

constexpr std::string_view kNoSuchCommand = "Invalid command specified";
constexpr std::string_view kNoKeys = "The command has no key arguments";
constexpr std::string_view kBadArity = "Invalid number of arguments specified for command";
constexpr std::string_view kBadArgs = "Invalid arguments specified for command";

// Flag names in the order Redis 7.0 lists them; may_replicate and sentinel are
// internal there and stay hidden here too.
struct FlagName {
  uint32_t flag;
  const char* name;
};
constexpr FlagName kFlagNames[] = {
    {kWrite, "write"},
    {kReadonly, "readonly"},
    {kDenyOom, "denyoom"},
    {kAdmin, "admin"},
    {kPubSub, "pubsub"},
    {kNoScript, "noscript"},
    {kBlocking, "blocking"},
    {kLoading, "loading"},
    {kStale, "stale"},
    {kSkipMonitor, "skip_monitor"},
    {kSkipSlowlog, "skip_slowlog"},
    {kFast, "fast"},
    {kNoAuth, "no_auth"},
    {kNoMandatoryKeys, "no_mandatory_keys"},
    {kNoAsyncLoading, "no_async_loading"},
    {kNoMulti, "no_multi"},
};

std::vector<std::string> FlagList(const CommandSpec& c, const docs::CommandDocs& d) {
  std::vector<std::string> out;
  for (const FlagName& f : kFlagNames) {
    if (c.is(f.flag)) out.emplace_back(f.name);
    if (f.flag == kNoMulti && d.movable_keys) out.emplace_back("movablekeys");
  }
  if (c.is(kAllowBusy)) out.emplace_back("allow_busy");
  return out;
}

std::vector<std::string> AclCategories(const CommandSpec& c) {
  std::vector<std::string> out;
  size_t i = 0;
  const std::string& s = c.acl_categories;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) {
      std::string cat = s.substr(i, j - i);
      if (cat[0] != '@') cat.insert(cat.begin(), '@');
      out.push_back(std::move(cat));
    }
    i = j + 1;
  }
  return out;
}

void StatusSet(Reply& r, const std::vector<std::string>& items) {
  r.Set(items.size());
  for (const std::string& s : items) r.Simple(s);
}

void ReplyKeySpec(Reply& r, const KeySpec& ks) {
  r.Map(3);
  r.Bulk("flags");
  StatusSet(r, ks.flags);
  r.Bulk("begin_search");
  r.Map(2);
  r.Bulk("type");
  if (ks.begin == KeySpec::Begin::kIndex) {
    r.Bulk("index");
    r.Bulk("spec");
    r.Map(1);
    r.Bulk("index");
    r.Int(ks.index);
  } else {
    r.Bulk("keyword");
    r.Bulk("spec");
    r.Map(2);
    r.Bulk("keyword");
    r.Bulk(ks.keyword);
    r.Bulk("startfrom");
    r.Int(ks.startfrom);
  }
  r.Bulk("find_keys");
  r.Map(2);
  r.Bulk("type");
  if (ks.find == KeySpec::Find::kRange) {
    r.Bulk("range");
    r.Bulk("spec");
    r.Map(3);
    r.Bulk("lastkey");
    r.Int(ks.lastkey);
    r.Bulk("keystep");
    r.Int(ks.keystep);
    r.Bulk("limit");
    r.Int(ks.limit);
  } else {
    r.Bulk("keynum");
    r.Bulk("spec");
    r.Map(3);
    r.Bulk("keynumidx");
    r.Int(ks.keynumidx);
    r.Bulk("firstkey");
    r.Int(ks.firstkey);
    r.Bulk("keystep");
    r.Int(ks.keystep);
  }
}

// One 10-element COMMAND / COMMAND INFO entry (null for an unknown name).
void ReplyInfo(Reply& r, const CommandSpec* c) {
  if (c == nullptr) {
    r.Null();
    return;
  }
  const docs::CommandDocs& d = docs::DocsFor(*c);
  r.Array(10);
  r.Bulk(c->name);
  r.Int(c->arity);
  StatusSet(r, FlagList(*c, d));
  r.Int(c->first_key);
  r.Int(c->last_key);
  r.Int(c->key_step);
  StatusSet(r, AclCategories(*c));
  r.Set(0);  // tips
  r.Set(d.key_specs.size());
  for (const KeySpec& ks : d.key_specs) ReplyKeySpec(r, ks);
  if (c->subcommands.empty()) {
    r.Set(0);
    return;
  }
  r.Array(c->subcommands.size());
  for (const auto& [name, sub] : c->subcommands) ReplyInfo(r, sub.get());
}

void ReplyArgs(Reply& r, const std::vector<Arg>& args) {
  r.Array(args.size());
  for (const Arg& a : args) {
    bool nested = a.type == ArgType::kOneOf || a.type == ArgType::kBlock;
    size_t pairs = 2 + (a.key_spec_index >= 0) + !a.token.empty() + (a.flags != 0) + nested;
    r.Map(pairs);
    r.Bulk("name");
    r.Bulk(a.name);
    r.Bulk("type");
    r.Bulk(docs::ArgTypeName(a.type));
    if (a.key_spec_index >= 0) {
      r.Bulk("key_spec_index");
      r.Int(a.key_spec_index);
    }
    if (!a.token.empty()) {
      r.Bulk("token");
      r.Bulk(a.token);
    }
    if (a.flags != 0) {
      std::vector<std::string> flags;
      if (a.flags & docs::kArgOptional) flags.emplace_back("optional");
      if (a.flags & docs::kArgMultiple) flags.emplace_back("multiple");
      if (a.flags & docs::kArgMultipleToken) flags.emplace_back("multiple_token");
      r.Bulk("flags");
      StatusSet(r, flags);
    }
    if (nested) {
      r.Bulk("arguments");
      ReplyArgs(r, a.args);
    }
  }
}

// One COMMAND DOCS value: summary, since, group, arguments, subcommands.
void ReplyDocs(Reply& r, const CommandSpec& c) {
  const docs::CommandDocs& d = docs::DocsFor(c);
  size_t pairs =
      1 + !c.summary.empty() + !c.since.empty() + !d.args.empty() + !c.subcommands.empty();
  r.Map(pairs);
  if (!c.summary.empty()) {
    r.Bulk("summary");
    r.Bulk(c.summary);
  }
  if (!c.since.empty()) {
    r.Bulk("since");
    r.Bulk(c.since);
  }
  r.Bulk("group");  // redis-cli relies on every command having one
  r.Bulk(c.group);
  if (!d.args.empty()) {
    r.Bulk("arguments");
    ReplyArgs(r, d.args);
  }
  if (!c.subcommands.empty()) {
    r.Bulk("subcommands");
    r.Map(c.subcommands.size());
    for (const auto& [name, sub] : c.subcommands) {
      r.Bulk(sub->name);
      ReplyDocs(r, *sub);
    }
  }
}

// A command by full name: "get", or "client|kill" for a subcommand.
const CommandSpec* LookupFullName(const CommandTable& t, std::string_view name) {
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return t.Find(name);
  std::string_view sub = name.substr(bar + 1);
  if (sub.find('|') != std::string_view::npos) return nullptr;
  const CommandSpec* parent = t.Find(name.substr(0, bar));
  if (parent == nullptr) return nullptr;
  auto it = parent->subcommands.find(base::ToLower(sub));
  return it == parent->subcommands.end() ? nullptr : it->second.get();
}

void CmdCommand(Context& ctx) {
  const CommandTable& t = *ctx.server().commands;
  ctx.reply().Array(t.size());
  for (const auto& [name, c] : t.all()) ReplyInfo(ctx.reply(), c.get());
}

void CmdCommandCount(Context& ctx) {
  ctx.reply().Int(static_cast<int64_t>(ctx.server().commands->size()));
}

void CmdCommandInfo(Context& ctx) {
  if (ctx.argc() == 2) {
    CmdCommand(ctx);
    return;
  }
  const CommandTable& t = *ctx.server().commands;
  ctx.reply().Array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); i++) ReplyInfo(ctx.reply(), LookupFullName(t, ctx.arg(i)));
}

void CmdCommandDocs(Context& ctx) {
  const CommandTable& t = *ctx.server().commands;
  Reply& r = ctx.reply();
  if (ctx.argc() == 2) {
    r.Map(t.size());
    for (const auto& [name, c] : t.all()) {
      r.Bulk(c->name);
      ReplyDocs(r, *c);
    }
    return;
  }
  size_t handle = r.BeginDeferred();
  size_t found = 0;
  for (size_t i = 2; i < ctx.argc(); i++) {
    const CommandSpec* c = LookupFullName(t, ctx.arg(i));
    if (c == nullptr) continue;
    r.Bulk(c->name);
    ReplyDocs(r, *c);
    found++;
  }
  r.EndDeferredMap(handle, found);
}

enum class ListFilter { kNone, kModule, kAclCat, kPattern };

bool ListMatches(const CommandSpec& c, ListFilter f, std::string_view arg) {
  switch (f) {
    case ListFilter::kNone:
      return true;
    case ListFilter::kModule:
      return false;  // Cairn loads no modules
    case ListFilter::kAclCat:
      for (const std::string& cat : AclCategories(c)) {
        if (base::EqualsNoCase(std::string_view(cat).substr(1), arg)) return true;
      }
      return false;
    case ListFilter::kPattern:
      return base::GlobMatch(arg, c.name, true);
  }
  return false;
}

void ListNames(const std::map<std::string, std::unique_ptr<CommandSpec>>& cmds, ListFilter f,
               std::string_view arg, Reply& r, size_t* n) {
  for (const auto& [name, c] : cmds) {
    if (ListMatches(*c, f, arg)) {
      r.Bulk(c->name);
      (*n)++;
    }
    ListNames(c->subcommands, f, arg, r, n);
  }
}

void CmdCommandList(Context& ctx) {
  ListFilter filter = ListFilter::kNone;
  std::string_view arg;
  for (size_t i = 2; i < ctx.argc(); i++) {
    size_t more = ctx.argc() - 1 - i;
    if (!base::EqualsNoCase(ctx.arg(i), "filterby") || more != 2) {
      ctx.reply().Error(protocol::err::kSyntax);
      return;
    }
    std::string_view type = ctx.arg(i + 1);
    if (base::EqualsNoCase(type, "module")) {
      filter = ListFilter::kModule;
    } else if (base::EqualsNoCase(type, "aclcat")) {
      filter = ListFilter::kAclCat;
    } else if (base::EqualsNoCase(type, "pattern")) {
      filter = ListFilter::kPattern;
    } else {
      ctx.reply().Error(protocol::err::kSyntax);
      return;
    }
    arg = ctx.arg(i + 2);
    i += 2;
  }
  size_t handle = ctx.reply().BeginDeferred();
  size_t n = 0;
  ListNames(ctx.server().commands->all(), filter, arg, ctx.reply(), &n);
  ctx.reply().EndDeferredArray(handle, n);
}

void GetKeysGeneric(Context& ctx, bool with_flags) {
  std::vector<std::string_view> argv(ctx.argv().begin() + 2, ctx.argv().end());
  const CommandSpec* c = ctx.server().commands->Resolve(argv);
  if (c == nullptr) {
    ctx.reply().Error(kNoSuchCommand);
    return;
  }
  const docs::CommandDocs& d = docs::DocsFor(*c);
  if (d.key_specs.empty()) {
    ctx.reply().Error(kNoKeys);
    return;
  }
  if (!c->CheckArity(argv.size())) {
    ctx.reply().Error(kBadArity);
    return;
  }
  std::vector<docs::KeyRef> keys;
  if (!docs::FindKeys(d, argv, &keys)) {
    if (c->is(kNoMandatoryKeys)) {
      ctx.reply().Array(0);
    } else {
      ctx.reply().Error(kBadArgs);
    }
    return;
  }
  Reply& r = ctx.reply();
  r.Array(keys.size());
  for (const docs::KeyRef& k : keys) {
    if (!with_flags) {
      r.Bulk(argv[k.pos]);
      continue;
    }
    r.Array(2);
    r.Bulk(argv[k.pos]);
    StatusSet(r, *k.flags);
  }
}

void CmdCommandGetKeys(Context& ctx) { GetKeysGeneric(ctx, false); }
void CmdCommandGetKeysAndFlags(Context& ctx) { GetKeysGeneric(ctx, true); }

void CmdCommandHelp(Context& ctx) {
  static const char* const kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Describe every command of this server.",
      "COUNT",
      "    Number of commands this server knows.",
      "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
      "    Names of the commands, optionally filtered.",
      "INFO [<command-name> ...]",
      "    Describe the named commands (all of them when none is named).",
      "DOCS [<command-name> ...]",
      "    Documentation of the named commands (all of them when none is named).",
      "GETKEYS <full-command>",
      "    Which arguments of a complete command line are keys.",
      "GETKEYSANDFLAGS <full-command>",
      "    Keys of a complete command line, with how the command accesses them.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply().StatusLines(kLines);
}

CommandSpec Sub(const char* name, int arity, Handler h, const char* since, const char* summary,
                const char* syntax) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = kLoading | kStale | kSentinel,
                     .handler = h,
                     .group = "server",
                     .since = since,
                     .summary = summary,
                     .syntax = syntax,
                     .acl_categories = "@slow @connection"};
}

}  // namespace

void RegisterIntrospectionCommands(CommandTable& t) {
  t.Add(Sub("command", -1, CmdCommand, "2.8.13", "Describe every command of the server", ""));
  t.AddSub("command",
           Sub("count", 2, CmdCommandCount, "2.8.13", "Count the commands the server knows", ""));
  t.AddSub("command",
           Sub("docs", -2, CmdCommandDocs, "7.0.0", "Documentation of one, several or all commands",
               "[command-name [command-name ...]]"));
  t.AddSub("command", Sub("getkeys", -4, CmdCommandGetKeys, "2.8.13",
                          "Extract the key names from a complete command line", ""));
  t.AddSub("command", Sub("getkeysandflags", -4, CmdCommandGetKeysAndFlags, "7.0.0",
                          "Extract the key names and their access flags from a command line", ""));
  t.AddSub("command",
           Sub("help", 2, CmdCommandHelp, "5.0.0", "Describe the COMMAND subcommands", ""));
  t.AddSub("command", Sub("info", -2, CmdCommandInfo, "2.8.13",
                          "Arity, flags and key positions of one, several or all commands",
                          "[command-name [command-name ...]]"));
  t.AddSub("command",
           Sub("list", -2, CmdCommandList, "7.0.0", "Names of the commands, optionally filtered",
               "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"));
}

}  // namespace cairn::cmd
