// Shared argument handling for HSCAN and SSCAN: Redis 7.0's cursor parsing
// (strtoul rules, "invalid cursor"), MATCH/COUNT options and the empty reply.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "node/base/number.h"
#include "node/commands/context.h"

namespace cairn::cmd {

struct ScanOptions {
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  bool Matches(std::string_view s) const { return !use_pattern || base::GlobMatch(pattern, s); }
};

// As Redis's parseScanCursorOrReply: an unsigned long read by strtoul, no
// leading space, nothing after the digits.
inline bool ParseScanCursor(Context& ctx, std::string_view s, size_t* cursor) {
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(buf.c_str(), &end, 10);
  bool space = !buf.empty() && std::isspace(static_cast<unsigned char>(buf[0]));
  if (space || *end != '\0' || errno == ERANGE) {
    ctx.reply().Error("invalid cursor");
    return false;
  }
  *cursor = v;
  return true;
}

// Parses [MATCH pattern] [COUNT count] from argv[first].
inline bool ParseScanOptions(Context& ctx, size_t first, ScanOptions* opt) {
  for (size_t i = first; i < ctx.argc();) {
    size_t left = ctx.argc() - i;
    if (base::EqualsNoCase(ctx.arg(i), "count") && left >= 2) {
      if (!ctx.ParseInt(ctx.arg(i + 1), &opt->count)) return false;
      if (opt->count < 1) {
        ctx.reply().Error(protocol::err::kSyntax);
        return false;
      }
      i += 2;
    } else if (base::EqualsNoCase(ctx.arg(i), "match") && left >= 2) {
      opt->pattern = ctx.arg(i + 1);
      opt->use_pattern = opt->pattern != "*";
      i += 2;
    } else {
      ctx.reply().Error(protocol::err::kSyntax);
      return false;
    }
  }
  return true;
}

inline void ReplyEmptyScan(Context& ctx) {
  ctx.reply().Array(2);
  ctx.reply().Bulk("0");
  ctx.reply().Array(0);
}

}  // namespace cairn::cmd
