// The snapshot schedule: interval boundaries aligned to the epoch, daily times in UTC
// and in a DST zone, both combined (the earlier wins), nothing scheduled.
#include "backup/schedule.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

using cairn::backup::NextDue;
using cairn::backup::Schedule;

namespace {

// 2026-11-23 02:54:56 UTC.
constexpr int64_t kNow = 1795402496;
constexpr int64_t kMidnight = 1795392000;  // 2026-11-23 00:00:00 UTC

struct TzScope {
  explicit TzScope(const char* tz) {
    const char* old = getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~TzScope() {
    if (had_) {
      setenv("TZ", old_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  bool had_ = false;
  std::string old_;
};

}  // namespace

TEST_CASE("nothing scheduled gives -1", "[schedule]") { CHECK(NextDue(Schedule{}, kNow) == -1); }

TEST_CASE("intervals land on multiples since the epoch", "[schedule]") {
  CHECK(NextDue({3600, {}, false}, kNow) == kMidnight + 3 * 3600);
  CHECK(NextDue({86400, {}, false}, kNow) == kMidnight + 86400);
  CHECK(NextDue({2, {}, false}, kNow) == kNow + 2);
  // Exactly on a boundary: the next one, never `now` itself (no double snapshot).
  CHECK(NextDue({3600, {}, false}, kMidnight + 3600) == kMidnight + 7200);
  // Consecutive calls walk the boundaries one by one.
  int64_t t = kNow;
  for (int i = 0; i < 48; i++) {
    int64_t next = NextDue({900, {}, false}, t);
    CHECK(next > t);
    CHECK(next % 900 == 0);
    CHECK(next - t <= 900);
    t = next;
  }
}

TEST_CASE("daily times in UTC", "[schedule]") {
  // 03:00 today is still ahead at 02:54:56.
  CHECK(NextDue({0, {180}, false}, kNow) == kMidnight + 3 * 3600);
  // 02:00 has passed: tomorrow.
  CHECK(NextDue({0, {120}, false}, kNow) == kMidnight + 86400 + 2 * 3600);
  // Several times: the first ahead.
  CHECK(NextDue({0, {60, 175, 1410}, false}, kNow) == kMidnight + 175 * 60);
  CHECK(NextDue({0, {60, 174}, false}, kNow) == kMidnight + 86400 + 3600);
  // At exactly 03:00 the next 03:00 is tomorrow's.
  CHECK(NextDue({0, {180}, false}, kMidnight + 3 * 3600) == kMidnight + 86400 + 3 * 3600);
}

TEST_CASE("interval and daily time combined: the earlier wins", "[schedule]") {
  CHECK(NextDue({6 * 3600, {180}, false}, kNow) == kMidnight + 3 * 3600);
  CHECK(NextDue({3600, {23 * 60}, false}, kNow) == kMidnight + 3 * 3600);
  CHECK(NextDue({86400, {150}, false}, kNow) == kMidnight + 86400);
}

TEST_CASE("daily times in a local zone follow its clock across DST", "[schedule]") {
  TzScope tz("Europe/Berlin");
  // 2026-10-24 12:00 UTC (CEST, UTC+2): 03:00 local tomorrow is after the fall-back
  // (2026-10-25 03:00 CEST -> 02:00 CET), so 03:00 CET = 02:00 UTC.
  const int64_t before_fallback = 1792843200;
  CHECK(NextDue({0, {180}, true}, before_fallback) == 1792893600);  // 2026-10-25 02:00 UTC
  // A day later the same local time is 02:00 UTC again (CET).
  CHECK(NextDue({0, {180}, true}, 1792893600) == 1792893600 + 86400);
  // In summer 03:00 local is 01:00 UTC: 2026-07-01 00:00 UTC -> 01:00 UTC.
  CHECK(NextDue({0, {180}, true}, 1782864000) == 1782864000 + 3600);
}
