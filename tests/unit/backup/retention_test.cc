// Retention (restic `forget` semantics) over synthetic timestamps: years of hourly
// snapshots, every rule alone and together, DST changes and month ends in a local
// zone, and properties over random sets — the newest verified snapshot is never
// removed, protected ones stay, applying the policy to what it kept keeps all of it,
// and the result equals an independent reference (newest snapshot per calendar
// period from strftime, the N most recent periods per rule).
#include "backup/retention.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <string>

namespace {

using namespace cairn::backup;  // NOLINT: test file

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t k2026 = 1767225600;  // 2026-01-01T00:00:00Z

std::vector<SnapshotRef> Every(int64_t start, int64_t step, int count) {
  std::vector<SnapshotRef> v;
  for (int i = 0; i < count; ++i) {
    int64_t t = start + step * i;
    v.push_back({"dump-" + std::to_string(t) + ".rdb", t, true});
  }
  return v;
}

std::set<std::string> Kept(const std::vector<RetentionDecision>& d) {
  std::set<std::string> s;
  for (const auto& x : d) {
    if (x.keep) s.insert(x.snapshot.name);
  }
  return s;
}

// The reference: per rule, the newest snapshot of each period, for the N newest periods.
std::set<std::string> Reference(std::vector<SnapshotRef> snaps, const RetentionPolicy& p) {
  std::sort(snaps.begin(), snaps.end(), [](const SnapshotRef& a, const SnapshotRef& b) {
    return a.unix_seconds != b.unix_seconds ? a.unix_seconds > b.unix_seconds : a.name > b.name;
  });
  std::set<std::string> keep;
  for (int i = 0; i < p.last && i < static_cast<int>(snaps.size()); ++i) keep.insert(snaps[i].name);
  const std::pair<int, const char*> rules[] = {{p.hourly, "%Y%m%d%H"},
                                               {p.daily, "%Y%m%d"},
                                               {p.weekly, "%G-%V"},
                                               {p.monthly, "%Y%m"},
                                               {p.yearly, "%Y"}};
  for (auto [n, fmt] : rules) {
    std::vector<std::string> periods;
    std::set<std::string> seen;
    for (const auto& s : snaps) {
      std::time_t t = static_cast<std::time_t>(s.unix_seconds);
      std::tm tm{};
      if (p.local_time) {
        localtime_r(&t, &tm);
      } else {
        gmtime_r(&t, &tm);
      }
      char buf[32];
      std::strftime(buf, sizeof buf, fmt, &tm);
      if (seen.insert(buf).second && static_cast<int>(periods.size()) < n) {
        periods.push_back(buf);
        keep.insert(s.name);
      }
    }
  }
  bool newest_verified = false;
  for (const auto& s : snaps) {
    if (s.verified && !newest_verified) {
      keep.insert(s.name);
      newest_verified = true;
    }
  }
  return keep;
}

struct TzScope {
  std::string old;
  bool had;
  explicit TzScope(const char* tz) {
    const char* o = std::getenv("TZ");
    had = o != nullptr;
    if (had) old = o;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~TzScope() {
    if (had) {
      setenv("TZ", old.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
};

}  // namespace

TEST_CASE("snapshot-keep parses and prints", "[retention]") {
  auto p = ParsePolicy("last 3 hourly 24 daily 7 weekly 4 monthly 12 yearly 2");
  REQUIRE(p.ok());
  CHECK(p->last == 3);
  CHECK(p->yearly == 2);
  CHECK(FormatPolicy(*p) == "last 3 hourly 24 daily 7 weekly 4 monthly 12 yearly 2");
  CHECK(FormatPolicy(*ParsePolicy("  daily   7 ")) == "daily 7");
  CHECK(ParsePolicy("")->KeepsEverything());
  CHECK_FALSE(ParsePolicy("daily").ok());
  CHECK_FALSE(ParsePolicy("daily seven").ok());
  CHECK_FALSE(ParsePolicy("fortnightly 2").ok());
  CHECK_FALSE(ParsePolicy("daily -1").ok());
}

TEST_CASE("three years of hourly snapshots under the full policy", "[retention]") {
  auto snaps = Every(k2026, kHour, 3 * 365 * 24);
  RetentionPolicy p = *ParsePolicy("last 3 hourly 24 daily 7 weekly 4 monthly 12 yearly 2");
  auto d = ApplyPolicy(snaps, p);
  auto kept = Kept(d);
  CHECK(kept == Reference(snaps, p));
  // The newest 24 hours, then one per day, week, month, year: the union is small.
  CHECK(kept.size() < 24 + 7 + 4 + 12 + 2);
  CHECK(kept.size() >= 24 + 12);
  CHECK(d.front().keep);
  CHECK(d.front().reasons.front() == "last");
  // The oldest kept is the last snapshot of the previous year (yearly 2).
  int64_t oldest = INT64_MAX;
  for (const auto& x : d) {
    if (x.keep) oldest = std::min(oldest, x.snapshot.unix_seconds);
  }
  std::time_t t = static_cast<std::time_t>(oldest);
  std::tm tm{};
  gmtime_r(&t, &tm);
  CHECK(tm.tm_year + 1900 == 2027);
  CHECK(tm.tm_mon == 11);
  CHECK(tm.tm_mday == 31);
  CHECK(tm.tm_hour == 23);
}

TEST_CASE("each rule alone", "[retention]") {
  auto snaps = Every(k2026, 6 * kHour, 4 * 400);  // four a day for 400 days
  for (const char* text :
       {"last 5", "hourly 10", "daily 10", "weekly 10", "monthly 10", "yearly 10"}) {
    INFO(text);
    RetentionPolicy p = *ParsePolicy(text);
    auto kept = Kept(ApplyPolicy(snaps, p));
    CHECK(kept == Reference(snaps, p));
  }
  CHECK(Kept(ApplyPolicy(snaps, *ParsePolicy("daily 10"))).size() == 10);
  CHECK(Kept(ApplyPolicy(snaps, *ParsePolicy("yearly 10"))).size() == 2);  // 2026 and 2027
}

TEST_CASE("ISO weeks: the week-numbering year at new year", "[retention]") {
  // 2026-12-28 (Mon) .. 2027-01-10: ISO weeks 2026-53 and 2027-01.
  auto snaps = Every(1798416000, kDay, 14);
  RetentionPolicy p = *ParsePolicy("weekly 3");
  auto kept = Kept(ApplyPolicy(snaps, p));
  CHECK(kept == Reference(snaps, p));
  CHECK(kept.size() == 2);
}

TEST_CASE("local time: DST changes and month ends", "[retention]") {
  TzScope tz("Europe/Berlin");
  RetentionPolicy p = *ParsePolicy("hourly 100 daily 40 monthly 3");
  p.local_time = true;
  // Every 20 minutes across the October 2026 fall-back (25 October, 03:00 CEST ->
  // 02:00 CET) and the month end that follows.
  auto snaps = Every(1792540800, 20 * 60, 3 * 24 * 12);
  auto kept = Kept(ApplyPolicy(snaps, p));
  CHECK(kept == Reference(snaps, p));
  // The repeated local hour 02:00-03:00 is one period: hours of 25 October local kept
  // are 24 distinct clock hours over 25 real hours.
  RetentionPolicy utc = p;
  utc.local_time = false;
  CHECK(Kept(ApplyPolicy(snaps, utc)) == Reference(snaps, utc));
  CHECK(Kept(ApplyPolicy(snaps, utc)) != kept);
  TzScope ny("America/New_York");
  // Spring forward 8 March 2026 and the end of February.
  auto spring = Every(1772236800, 30 * 60, 12 * 24 * 2);
  CHECK(Kept(ApplyPolicy(spring, p)) == Reference(spring, p));
}

TEST_CASE("properties over random snapshot sets", "[retention]") {
  std::mt19937_64 rng(20261123);
  for (int round = 0; round < 300; ++round) {
    std::vector<SnapshotRef> snaps;
    int n = std::uniform_int_distribution<int>(0, 300)(rng);
    int64_t span = std::uniform_int_distribution<int64_t>(kHour, 4 * 365 * kDay)(rng);
    for (int i = 0; i < n; ++i) {
      int64_t t = k2026 + std::uniform_int_distribution<int64_t>(0, span)(rng);
      snaps.push_back({"s" + std::to_string(i), t, rng() % 10 != 0});
    }
    RetentionPolicy p;
    p.last = static_cast<int>(rng() % 4);
    p.hourly = static_cast<int>(rng() % 30);
    p.daily = static_cast<int>(rng() % 10);
    p.weekly = static_cast<int>(rng() % 6);
    p.monthly = static_cast<int>(rng() % 14);
    p.yearly = static_cast<int>(rng() % 3);
    std::set<std::string> protect;
    if (n > 0 && rng() % 2) protect.insert("s" + std::to_string(rng() % n));
    auto d = ApplyPolicy(snaps, p, protect);
    REQUIRE(d.size() == snaps.size());
    auto kept = Kept(d);
    if (p.KeepsEverything()) {
      CHECK(kept.size() == snaps.size());
      continue;
    }
    auto ref = Reference(snaps, p);
    ref.insert(protect.begin(), protect.end());
    CHECK(kept == ref);
    // The newest verified snapshot always stays.
    for (const auto& x : d) {
      if (x.snapshot.verified) {
        CHECK(x.keep);
        break;
      }
    }
    for (const auto& name : protect) CHECK(kept.count(name) == 1);
    // Idempotent: the policy applied to what it kept keeps all of it.
    std::vector<SnapshotRef> rest;
    for (const auto& x : d) {
      if (x.keep) rest.push_back(x.snapshot);
    }
    CHECK(Kept(ApplyPolicy(rest, p, protect)).size() == rest.size());
    // Every removed snapshot has no reason; every kept one has at least one.
    for (const auto& x : d) CHECK(x.keep == !x.reasons.empty());
  }
}
