// Set commands (skeleton until this family lands).
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {

void RegisterSetCommands(CommandTable& t) {}

}  // namespace cairn::cmd
