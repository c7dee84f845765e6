// Backup mode's directives: durations, daily times, time zones and retention
// policies parse, normalize and refuse bad values with the reason; a rewrite
// keeps them loadable.
#include <catch2/catch.hpp>

#include "node/config/config.h"

using cairn::config::Config;
using cairn::config::ParseDuration;

namespace {

std::string GetOne(const Config& c, std::string_view name) {
  auto r = c.Get({name});
  REQUIRE(r.size() == 1);
  return r[0].second;
}

}  // namespace

TEST_CASE("ParseDuration: seconds and s/m/h/d/w units") {
  int64_t s = -1;
  CHECK(ParseDuration("90", &s));
  CHECK(s == 90);
  CHECK(ParseDuration("30s", &s));
  CHECK(s == 30);
  CHECK(ParseDuration("15m", &s));
  CHECK(s == 900);
  CHECK(ParseDuration("1H", &s));
  CHECK(s == 3600);
  CHECK(ParseDuration("2d", &s));
  CHECK(s == 172800);
  CHECK(ParseDuration("1w", &s));
  CHECK(s == 604800);
  CHECK(ParseDuration("0", &s));
  CHECK(s == 0);
  for (const char* bad : {"", "h", "1.5h", "-1h", "1 h", "1y", "10x", "99999999999999"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad, &s));
  }
}

TEST_CASE("snapshot directives load, normalize and answer CONFIG GET") {
  Config c;
  REQUIRE(c.LoadString("backup-mode yes\n"
                       "snapshot-dir /var/lib/cairn/snapshots\n"
                       "snapshot-interval 1h\n"
                       "snapshot-at 15:30 03:00 03:00\n"
                       "snapshot-timezone local\n"
                       "snapshot-keep daily 7 last 3 monthly 12\n"
                       "backup-sync-min-keys-percent 25\n",
                       "cairn.conf")
              .ok());
  const auto& v = c.v();
  CHECK(v.backup_mode);
  CHECK(v.snapshot_interval == 3600);
  CHECK(v.snapshot_at == std::vector<int>{180, 930});  // sorted, duplicates dropped
  CHECK(v.snapshot_local_time);
  CHECK(GetOne(c, "snapshot-interval") == "1h");
  CHECK(GetOne(c, "snapshot-at") == "03:00 15:30");
  CHECK(GetOne(c, "snapshot-timezone") == "local");
  CHECK(GetOne(c, "snapshot-keep") == "last 3 daily 7 monthly 12");
  CHECK(GetOne(c, "backup-sync-min-keys-percent") == "25");
  CHECK(GetOne(c, "backup-guard") == "yes");
  CHECK(GetOne(c, "backup-refuse-empty-sync") == "yes");
  // CONFIG SET of an empty list clears.
  REQUIRE(c.Set("snapshot-at", "").ok());
  CHECK(c.v().snapshot_at.empty());
  REQUIRE(c.Set("snapshot-keep", "").ok());
  CHECK(GetOne(c, "snapshot-keep").empty());
}

TEST_CASE("bad snapshot values are refused with the reason, the old value stays") {
  Config c;
  REQUIRE(c.Set("snapshot-interval", "30m").ok());
  struct Case {
    const char* name;
    const char* value;
    const char* reason;
  } cases[] = {
      {"snapshot-interval", "soon", "duration"},
      {"snapshot-at", "25:00", "HH:MM"},
      {"snapshot-at", "3:00", "HH:MM"},
      {"snapshot-at", "03:00x", "HH:MM"},
      {"snapshot-timezone", "Europe/Berlin", "utc or local"},
      {"snapshot-keep", "last three", "snapshot-keep"},
      {"snapshot-keep", "forever 3", "snapshot-keep"},
      {"backup-sync-min-keys-percent", "101", "argument"},
  };
  for (const auto& k : cases) {
    INFO(k.name << " " << k.value);
    cairn::Status st = c.Set(k.name, k.value);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find(k.reason) != std::string::npos);
  }
  CHECK(c.v().snapshot_interval == 1800);
  CHECK(c.v().snapshot_at.empty());
}
