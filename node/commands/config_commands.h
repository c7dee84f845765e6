// CONFIG command hooks the server installs: CONFIG RESETSTAT resets the stats
// kept in ServerState itself and then calls these for state kept elsewhere.
#pragma once

#include <functional>

namespace cairn::cmd {

// Adds a function CONFIG RESETSTAT calls (in installation order).
void SetResetStatsHook(std::function<void()> fn);
// Removes every installed hook (tests; server teardown).
void ClearResetStatsHooks();

}  // namespace cairn::cmd
