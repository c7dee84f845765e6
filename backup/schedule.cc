// Snapshot schedule; see schedule.h.
#include "backup/schedule.h"

#include <ctime>

namespace cairn::backup {
namespace {

// The next time after `now` at which a clock shows one of `minutes`.
int64_t NextDaily(const std::vector<int>& minutes, bool local, int64_t now) {
  int64_t best = -1;
  // Today's times may all have passed; tomorrow's cannot all be before now.
  for (int day = 0; day <= 2 && best < 0; day++) {
    std::time_t t = static_cast<std::time_t>(now + day * 86400);
    std::tm tm{};
    if (local) {
      localtime_r(&t, &tm);
    } else {
      gmtime_r(&t, &tm);
    }
    for (int minute : minutes) {
      std::tm when = tm;
      when.tm_hour = minute / 60;
      when.tm_min = minute % 60;
      when.tm_sec = 0;
      when.tm_isdst = -1;
      int64_t s = local ? static_cast<int64_t>(mktime(&when)) : static_cast<int64_t>(timegm(&when));
      if (s > now && (best < 0 || s < best)) best = s;
    }
  }
  return best;
}

}  // namespace

int64_t NextDue(const Schedule& s, int64_t now) {
  int64_t next = -1;
  if (s.interval_seconds > 0) next = (now / s.interval_seconds + 1) * s.interval_seconds;
  if (!s.daily_minutes.empty()) {
    int64_t daily = NextDaily(s.daily_minutes, s.local_time, now);
    if (daily >= 0 && (next < 0 || daily < next)) next = daily;
  }
  return next;
}

}  // namespace cairn::backup
