// CLIENT LIST / CLIENT INFO line formatting (Redis 7.0's field order), shared by
// the CLIENT command and INFO.
#pragma once

#include <string>

#include "node/commands/client_state.h"

namespace cairn::cmd {

// One "id=... addr=... resp=2" line, without the trailing newline.
std::string ClientInfoLine(const ClientState& c, int64_t now_ms);

}  // namespace cairn::cmd
