// Command metadata and the command table: name, arity, flags, key positions,
// the handler, and the documentation COMMAND INFO/DOCS serve (which redis-cli
// uses for its hints). Each command family registers itself through one
// function (Register*Commands), called from RegisterAllCommands: no static
// self-registration.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "node/base/status.h"

namespace cairn::cmd {

class Context;
using Handler = void (*)(Context&);

// Command flags, named as Redis 7.0's COMMAND INFO reports them.
enum CmdFlag : uint32_t {
  kWrite = 1u << 0,                  // "write": modifies data
  kReadonly = 1u << 1,               // "readonly"
  kDenyOom = 1u << 2,                // "denyoom": refused above maxmemory
  kAdmin = 1u << 3,                  // "admin"
  kPubSub = 1u << 4,                 // "pubsub"
  kNoScript = 1u << 5,               // "noscript"
  kBlocking = 1u << 6,               // "blocking"
  kLoading = 1u << 7,                // "loading": allowed while loading
  kStale = 1u << 8,                  // "stale": allowed on a stale replica
  kSkipMonitor = 1u << 9,            // "skip_monitor"
  kFast = 1u << 10,                  // "fast"
  kNoAuth = 1u << 11,                // "no_auth": allowed before AUTH
  kNoMulti = 1u << 12,               // "no_multi": refused inside MULTI
  kAllowBusy = 1u << 13,             // "allow_busy"
  kMayReplicate = 1u << 14,          // "may_replicate"
  kSentinel = 1u << 15,              // "sentinel"
  kNoMandatoryKeys = 1u << 16,       // "no_mandatory_keys"
  kSkipSlowlog = 1u << 17,           // "skip_slowlog"
  kTouchesArbitraryKeys = 1u << 18,  // internal: e.g. FLUSHALL, for WATCH
  kNoAsyncLoading = 1u << 19,        // "no_async_loading"
};

struct CommandSpec {
  std::string name;  // lower case; subcommands: "client|list"
  int arity = 0;     // Redis convention: N exact, -N at least N (command name counts)
  uint32_t flags = 0;
  int first_key = 0;  // 1-based; 0 = no keys
  int last_key = 0;   // -1 = last argument, -2 = second to last ...
  int key_step = 0;
  Handler handler = nullptr;
  std::string group;    // "string", "list", "generic", "server", "connection" ...
  std::string since;    // Redis version that introduced it
  std::string summary;  // one line, Cairn's own wording
  // Argument syntax in Redis documentation style, parsed into COMMAND DOCS
  // argument maps, e.g. "key value [NX | XX] [GET] [EX seconds | PX milliseconds]".
  std::string syntax;
  std::string acl_categories;  // space separated, e.g. "@write @string @slow"
  std::map<std::string, std::unique_ptr<CommandSpec>> subcommands;  // by lower name
  CommandSpec* parent = nullptr;

  // Runtime statistics (INFO commandstats).
  mutable uint64_t calls = 0;
  mutable uint64_t usec = 0;
  mutable uint64_t rejected_calls = 0;
  mutable uint64_t failed_calls = 0;

  bool is(uint32_t f) const { return (flags & f) != 0; }
  bool CheckArity(size_t argc) const {
    return arity > 0 ? static_cast<int>(argc) == arity : static_cast<int>(argc) >= -arity;
  }
  // "client|list" for subcommands, "get" for commands.
  const std::string& fullname() const { return name; }
};

// Builds a spec in one call; families wrap it with their own defaults.
CommandSpec MakeSpec(std::string name, int arity, uint32_t flags, int first_key, int last_key,
                     int key_step, Handler handler, std::string group, std::string since,
                     std::string summary, std::string syntax, std::string acl_categories);

class CommandTable {
 public:
  // Adds a top-level command.
  CommandSpec& Add(CommandSpec spec);
  // Adds a subcommand under an existing container command (spec.name is the
  // subcommand alone, e.g. "list"; it is stored as "client|list").
  CommandSpec& AddSub(std::string_view parent, CommandSpec spec);

  // Redis's `rename-command FROM TO`: the command answers only to TO from now on
  // (every lookup: clients, the master's stream, AOF replay, COMMAND INFO); TO ""
  // removes it. It keeps its own name in COMMAND's output, INFO commandstats and
  // error messages, as in Redis. Errors carry Redis's config reasons.
  Status Rename(std::string_view from, std::string_view to);

  // Finds a command by (case-insensitive) name; nullptr if unknown.
  const CommandSpec* Find(std::string_view name) const;
  // Resolves argv to the command or subcommand spec; nullptr if unknown.
  const CommandSpec* Resolve(const std::vector<std::string_view>& argv) const;
  // The reachable commands by their own names (renamed ones too, removed ones not).
  const std::map<std::string, std::unique_ptr<CommandSpec>>& all() const { return cmds_; }
  size_t size() const { return cmds_.size(); }

 private:
  std::map<std::string, std::unique_ptr<CommandSpec>> cmds_;
  // Hashed index over cmds_ for the per-command lookup: the name each command
  // answers to (its own, or the one rename-command gave it, kept in names_).
  std::unordered_map<std::string_view, const CommandSpec*> index_;
  std::list<std::string> names_;
  // Commands rename-command removed: kept alive, no longer reachable.
  std::vector<std::unique_ptr<CommandSpec>> removed_;
};

// Registers every command family.
void RegisterAllCommands(CommandTable& table);

// Family registration functions (one per file under node/commands/).
void RegisterStringCommands(CommandTable& t);
void RegisterKeyCommands(CommandTable& t);
void RegisterListCommands(CommandTable& t);
void RegisterHashCommands(CommandTable& t);
void RegisterSetCommands(CommandTable& t);
void RegisterZSetCommands(CommandTable& t);
void RegisterConnectionCommands(CommandTable& t);
void RegisterServerCommands(CommandTable& t);
void RegisterTransactionCommands(CommandTable& t);
void RegisterPubSubCommands(CommandTable& t);
void RegisterIntrospectionCommands(CommandTable& t);  // COMMAND (command_docs.cc)
void RegisterConfigCommands(CommandTable& t);         // CONFIG
void RegisterPersistenceCommands(CommandTable& t);    // SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE
void RegisterReplicationCommands(CommandTable& t);    // REPLICAOF, ROLE, PSYNC, WAIT ...
void RegisterBackupCommands(CommandTable& t);         // BACKUP (backup mode, snapshots)

}  // namespace cairn::cmd
