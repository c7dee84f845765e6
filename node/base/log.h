// Logging: one spdlog logger per subsystem, all writing Redis's line format
//   <pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>
// with Redis's level marks ('.' debug, '-' verbose, '*' notice, '#' warning), so
// operators' greps keep working. Loggers are synchronous: no thread a fork()ed
// child could need.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "node/base/status.h"

namespace cairn::log {

// Redis loglevel names map onto spdlog levels: debug=trace, verbose=debug,
// notice=info, warning=warn, nothing=off.
Result<spdlog::level::level_enum> ParseLevel(std::string_view name);

// Points every logger at `logfile` ("" = stdout) with the given level.
Status Setup(std::string_view level, const std::string& logfile);

// Role mark in each line: 'M' master, 'S' replica, 'C' forked child.
void SetRole(char role);

spdlog::logger& Server();
spdlog::logger& Net();
spdlog::logger& Cmd();
spdlog::logger& Repl();
spdlog::logger& Persist();
spdlog::logger& Backup();
spdlog::logger& Crypto();

}  // namespace cairn::log
