// Command table: registration and name resolution (case-insensitive, with
// container commands resolving their subcommand from argv[1]).
#include "node/commands/command.h"

#include "node/base/number.h"

namespace cairn::cmd {

CommandSpec MakeSpec(std::string name, int arity, uint32_t flags, int first_key, int last_key,
                     int key_step, Handler handler, std::string group, std::string since,
                     std::string summary, std::string syntax, std::string acl_categories) {
  return CommandSpec{.name = std::move(name),
                     .arity = arity,
                     .flags = flags,
                     .first_key = first_key,
                     .last_key = last_key,
                     .key_step = key_step,
                     .handler = handler,
                     .group = std::move(group),
                     .since = std::move(since),
                     .summary = std::move(summary),
                     .syntax = std::move(syntax),
                     .acl_categories = std::move(acl_categories)};
}

CommandSpec& CommandTable::Add(CommandSpec spec) {
  std::string key = base::ToLower(spec.name);
  spec.name = key;
  auto p = std::make_unique<CommandSpec>(std::move(spec));
  CommandSpec& ref = *p;
  cmds_[key] = std::move(p);
  index_[ref.name] = &ref;
  return ref;
}

CommandSpec& CommandTable::AddSub(std::string_view parent, CommandSpec spec) {
  CommandSpec& par = *cmds_.at(base::ToLower(parent));
  std::string sub = base::ToLower(spec.name);
  spec.name = par.name + "|" + sub;
  spec.parent = &par;
  if (spec.group.empty()) spec.group = par.group;
  if (spec.since.empty()) spec.since = par.since;
  auto p = std::make_unique<CommandSpec>(std::move(spec));
  CommandSpec& ref = *p;
  par.subcommands[sub] = std::move(p);
  return ref;
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char buf[64];
  if (name.size() >= sizeof(buf)) {
    // Longer than any built-in name; only a rename-command target can be.
    auto it = index_.find(base::ToLower(name));
    return it == index_.end() ? nullptr : it->second;
  }
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  auto it = index_.find(std::string_view(buf, name.size()));
  return it == index_.end() ? nullptr : it->second;
}

Status CommandTable::Rename(std::string_view from, std::string_view to) {
  // As Redis's config.c: look FROM up among the current names (an earlier
  // rename counts), drop that name, then add TO unless it is empty.
  auto it = index_.find(base::ToLower(from));
  if (it == index_.end()) return Status::InvalidArgument("No such command in rename-command");
  const CommandSpec* spec = it->second;
  index_.erase(it);
  if (to.empty()) {
    auto owned = cmds_.find(spec->name);
    removed_.push_back(std::move(owned->second));
    cmds_.erase(owned);
    return Status::Ok();
  }
  std::string name = base::ToLower(to);
  if (index_.count(name) != 0) {
    return Status::InvalidArgument("Target command name already exists");
  }
  names_.push_back(std::move(name));
  index_[names_.back()] = spec;
  return Status::Ok();
}

const CommandSpec* CommandTable::Resolve(const std::vector<std::string_view>& argv) const {
  if (argv.empty()) return nullptr;
  const CommandSpec* c = Find(argv[0]);
  if (c == nullptr || c->subcommands.empty() || argv.size() < 2) return c;
  auto it = c->subcommands.find(base::ToLower(argv[1]));
  return it == c->subcommands.end() ? nullptr : it->second.get();
}

void RegisterAllCommands(CommandTable& t) {
  RegisterStringCommands(t);
  RegisterKeyCommands(t);
  RegisterListCommands(t);
  RegisterHashCommands(t);
  RegisterSetCommands(t);
  RegisterZSetCommands(t);
  RegisterConnectionCommands(t);
  RegisterServerCommands(t);
  RegisterTransactionCommands(t);
  RegisterPubSubCommands(t);
  RegisterIntrospectionCommands(t);
  RegisterConfigCommands(t);
  RegisterPersistenceCommands(t);
  RegisterReplicationCommands(t);
  RegisterBackupCommands(t);
}

}  // namespace cairn::cmd
