// INFO text generation, shared by the INFO command and internal callers.
#pragma once

#include <string>
#include <vector>

#include "node/commands/server_state.h"

namespace cairn::cmd {

// Sections as Redis 7.0: none = default set; "all", "everything", "default" or
// section names (case-insensitive).
std::string GenerateInfo(ServerState& s, const std::vector<std::string>& sections);

}  // namespace cairn::cmd
