// CONFIG command (skeleton until the config module lands).
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {

void RegisterConfigCommands(CommandTable& t) {}

}  // namespace cairn::cmd
