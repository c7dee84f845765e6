// Retention rules; see retention.h.
#include "backup/retention.h"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace cairn::backup {
namespace {

struct Rule {
  const char* name;
  int RetentionPolicy::*count;
};

constexpr Rule kRules[] = {
    {"last", &RetentionPolicy::last},       {"hourly", &RetentionPolicy::hourly},
    {"daily", &RetentionPolicy::daily},     {"weekly", &RetentionPolicy::weekly},
    {"monthly", &RetentionPolicy::monthly}, {"yearly", &RetentionPolicy::yearly}};

// ISO 8601 week-numbering year and week of a broken-down date.
int64_t IsoWeek(const std::tm& t) {
  int wday = (t.tm_wday + 6) % 7;  // Monday = 0
  // The Thursday of this week decides the year.
  int yday_thursday = t.tm_yday - wday + 3;
  int year = t.tm_year + 1900;
  auto days_in = [](int y) { return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365; };
  if (yday_thursday < 0) {
    --year;
    yday_thursday += days_in(year);
  } else if (yday_thursday >= days_in(year)) {
    yday_thursday -= days_in(year);
    ++year;
  }
  return int64_t{year} * 100 + yday_thursday / 7 + 1;
}

// The period a snapshot falls in for rule `i` (kRules order); for "last", its index.
int64_t Bucket(size_t rule, const std::tm& t, size_t index) {
  int64_t y = t.tm_year + 1900, m = t.tm_mon + 1, d = t.tm_mday, h = t.tm_hour;
  switch (rule) {
    case 0:
      return static_cast<int64_t>(index);
    case 1:
      return ((y * 100 + m) * 100 + d) * 100 + h;
    case 2:
      return (y * 100 + m) * 100 + d;
    case 3:
      return IsoWeek(t);
    case 4:
      return y * 100 + m;
    default:
      return y;
  }
}

}  // namespace

Result<RetentionPolicy> ParsePolicy(std::string_view text) {
  RetentionPolicy p;
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j;
  }
  if (words.size() % 2 != 0) {
    return Status::InvalidArgument("snapshot-keep takes pairs: RULE COUNT (e.g. last 3 daily 7)");
  }
  for (size_t w = 0; w < words.size(); w += 2) {
    const Rule* rule = nullptr;
    for (const Rule& r : kRules) {
      if (words[w] == r.name) rule = &r;
    }
    if (rule == nullptr) {
      return Status::InvalidArgument("snapshot-keep: unknown rule '" + std::string(words[w]) +
                                     "' (last, hourly, daily, weekly, monthly, yearly)");
    }
    int n = -1;
    auto [end, ec] =
        std::from_chars(words[w + 1].data(), words[w + 1].data() + words[w + 1].size(), n);
    if (ec != std::errc() || end != words[w + 1].data() + words[w + 1].size() || n < 0 ||
        n > 1000000) {
      return Status::InvalidArgument("snapshot-keep: '" + std::string(words[w + 1]) +
                                     "' is not a count for " + rule->name);
    }
    p.*(rule->count) = n;
  }
  return p;
}

std::string FormatPolicy(const RetentionPolicy& p) {
  std::string out;
  for (const Rule& r : kRules) {
    if (p.*(r.count) == 0) continue;
    if (!out.empty()) out += ' ';
    out += std::string(r.name) + " " + std::to_string(p.*(r.count));
  }
  return out;
}

std::vector<RetentionDecision> ApplyPolicy(std::vector<SnapshotRef> snapshots,
                                           const RetentionPolicy& policy,
                                           const std::set<std::string>& protect) {
  // Newest first; equal times by name, so the order (and the result) is total.
  std::sort(snapshots.begin(), snapshots.end(), [](const SnapshotRef& a, const SnapshotRef& b) {
    return a.unix_seconds != b.unix_seconds ? a.unix_seconds > b.unix_seconds : a.name > b.name;
  });
  std::vector<RetentionDecision> out;
  out.reserve(snapshots.size());
  int left[6];
  int64_t last_bucket[6];
  for (size_t r = 0; r < 6; ++r) {
    left[r] = policy.*(kRules[r].count);
    last_bucket[r] = INT64_MIN;
  }
  bool newest_verified_seen = false;
  for (size_t i = 0; i < snapshots.size(); ++i) {
    RetentionDecision d;
    d.snapshot = snapshots[i];
    std::time_t secs = static_cast<std::time_t>(d.snapshot.unix_seconds);
    std::tm t{};
    if (policy.local_time) {
      localtime_r(&secs, &t);
    } else {
      gmtime_r(&secs, &t);
    }
    for (size_t r = 0; r < 6; ++r) {
      if (left[r] <= 0) continue;
      int64_t b = Bucket(r, t, i);
      if (b == last_bucket[r]) continue;
      last_bucket[r] = b;
      --left[r];
      d.keep = true;
      d.reasons.push_back(kRules[r].name);
    }
    if (policy.KeepsEverything()) {
      d.keep = true;
      d.reasons.push_back("no policy");
    }
    if (d.snapshot.verified && !newest_verified_seen) {
      newest_verified_seen = true;
      if (!d.keep) d.keep = true;
      d.reasons.push_back("newest verified");
    }
    if (protect.count(d.snapshot.name) > 0) {
      d.keep = true;
      d.reasons.push_back("protected");
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace cairn::backup
