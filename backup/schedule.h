// When the next scheduled snapshot falls due: snapshot-interval (aligned to
// multiples of the interval since the Unix epoch, so "1h" lands on the hour in
// UTC) and/or snapshot-at (daily times of day, in UTC or the local zone).
#pragma once

#include <cstdint>
#include <vector>

namespace cairn::backup {

struct Schedule {
  int64_t interval_seconds = 0;    // 0: no interval
  std::vector<int> daily_minutes;  // minutes after midnight
  bool local_time = false;         // daily times in the local zone (DST included)
};

// The first due time strictly after `now` (Unix seconds); -1 when nothing is
// scheduled. A daily time that a DST change skips falls on the same instant
// mktime() normalizes it to.
int64_t NextDue(const Schedule& s, int64_t now);

}  // namespace cairn::backup
