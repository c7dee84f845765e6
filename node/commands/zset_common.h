// Helpers shared by the sorted-set command files (zset_commands.cc for the
// member/pop/blocking commands, zset_range_commands.cc for ranges and set
// algebra): limits from the config, Redis's ranged integer parsing, score
// replies and the registration of the range half.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/store/zset_type.h"

namespace cairn::cmd {

inline store::ZSetLimits ZLimits(Context& ctx) {
  store::ZSetLimits lim;
  lim.max_entries = static_cast<size_t>(std::max<int64_t>(0, ctx.cfg().zset_max_listpack_entries));
  lim.max_value = static_cast<size_t>(std::max<int64_t>(0, ctx.cfg().zset_max_listpack_value));
  return lim;
}

// Redis's getRangeLongFromObjectOrReply: with a message, both a non-integer
// and an out-of-range value reply it; without, the generic messages.
inline bool ZParseRangeLong(Context& ctx, std::string_view s, int64_t min, int64_t max,
                            std::string_view msg, int64_t* out) {
  int64_t v;
  if (!base::ParseInt64(s, &v)) {
    ctx.reply().Error(msg.empty() ? protocol::err::kNotInteger : msg);
    return false;
  }
  if (v < min || v > max) {
    if (!msg.empty()) {
      ctx.reply().Error(msg);
    } else {
      char buf[128];
      std::snprintf(buf, sizeof(buf), "value is out of range, value must between %lld and %lld",
                    static_cast<long long>(min), static_cast<long long>(max));
      ctx.reply().Error(buf);
    }
    return false;
  }
  *out = v;
  return true;
}

// getPositiveLongFromObjectOrReply.
inline bool ZParsePositive(Context& ctx, std::string_view s, std::string_view msg, int64_t* out) {
  return ZParseRangeLong(ctx, s, 0, INT64_MAX,
                         msg.empty() ? "value is out of range, must be positive" : msg, out);
}

// One member (and score) of a range reply: flat in RESP2, [member, score]
// pairs in RESP3, as Redis 7.0 sends ZRANGE WITHSCORES.
inline void ZReplyMember(Context& ctx, std::string_view member, double score, bool withscores) {
  if (withscores && ctx.reply().proto() >= 3) ctx.reply().Array(2);
  ctx.reply().Bulk(member);
  if (withscores) ctx.reply().Double(score);
}
inline void ZReplyArrayLen(Context& ctx, size_t n, bool withscores) {
  ctx.reply().Array(withscores && ctx.reply().proto() < 3 ? n * 2 : n);
}

inline CommandSpec ZSpec(const char* name, int arity, uint32_t flags, int first, int last, int step,
                         Handler h, const char* since, const char* summary, const char* syntax) {
  std::string acl = (flags & kWrite) ? "@write @sortedset" : "@read @sortedset";
  acl += (flags & kFast) ? " @fast" : " @slow";
  if (flags & kBlocking) acl += " @blocking";
  return MakeSpec(name, arity, flags, first, last, step, h, "sorted-set", since, summary, syntax,
                  acl);
}

// Defined in zset_range_commands.cc, called by RegisterZSetCommands.
void RegisterZSetRangeCommands(CommandTable& t);

}  // namespace cairn::cmd
