// RESP request parsing: multibulk (`*N\r\n$len\r\n...`) and inline (telnet style)
// commands, with Redis 7.0's limits and exact protocol error messages. No I/O and
// no server dependency: it parses a byte range and says what it found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::protocol {

enum class ParseStatus {
  kCommand,   // one full command parsed into argv; `consumed` bytes used
  kEmpty,     // an empty command (blank inline line, `*0`): skip `consumed` bytes
  kNeedMore,  // the buffer holds only part of a command
  kError,     // protocol error: reply `error` and close the connection
};

struct ParseLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  bool authenticated = true;  // unauthenticated clients get tight limits, as in Redis
  bool from_master = false;   // the master link may exceed proto-max-bulk-len
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;
  // With kNeedMore: total bytes the current command needs if known (lets the
  // connection size its buffer for a large bulk), else 0.
  size_t needed_hint = 0;
  std::string error;  // with kError: the message for Reply::Error
};

// Parses one command from data[0, len). argv entries point into `data` (multibulk)
// or into `scratch` (inline, which may unescape quotes); they stay valid until the
// buffer or scratch is modified. Stateless: a partial command is parsed again from
// its start when more bytes arrive, which costs O(arguments) per read, not O(bytes).
ParseResult ParseCommand(const char* data, size_t len, const ParseLimits& limits,
                         std::vector<std::string_view>* argv, std::string* scratch);

// Splits an inline line into words as Redis's sdssplitargs: spaces separate,
// "double quotes" with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \'.
// Returns false on unbalanced quotes. Also used by the config file parser.
bool SplitArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace cairn::protocol
