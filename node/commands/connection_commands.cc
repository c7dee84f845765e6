// Connection commands (skeleton until this family lands).
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {

void RegisterConnectionCommands(CommandTable& t) {}

}  // namespace cairn::cmd
