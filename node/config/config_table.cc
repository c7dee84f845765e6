// The directive table: every redis.conf directive Redis 7.0 knows (plus Cairn's
// own), with its aliases, type, bounds, flags and storage; the generic
// validate / format / rewrite rules per type; and the handlers of the few
// multi-word directives (bind, save, client-output-buffer-limit, replicaof ...).
// config.cc parses files and serves CONFIG on top of this table.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "backup/retention.h"
#include "node/base/number.h"
#include "node/config/config.h"

namespace cairn::config {

// Bytes as CONFIG REWRITE writes them: "1gb", "64mb", "3kb" when exact.
std::string FormatMemory(int64_t bytes);

namespace {

constexpr int64_t kIntMax = INT_MAX;
constexpr int64_t kIntMin = INT_MIN;
constexpr int64_t kUintMax = UINT_MAX;
constexpr int64_t kLongMax = INT64_MAX;

// Fluent builder so each table row reads as one line.
struct B {
  Directive d;
  B(std::string_view name, Kind k, Field f = {}) {
    d.name = name;
    d.kind = k;
    d.field = f;
  }
  B& Alias(std::string_view a) {
    d.alias = a;
    return *this;
  }
  B& Flags(uint32_t f) {
    d.flags |= f;
    return *this;
  }
  B& Range(int64_t lo, int64_t hi) {
    d.min = lo;
    d.max = hi;
    return *this;
  }
  B& Def(std::string_view v) {
    d.default_value = v;
    return *this;
  }
  B& Words(std::vector<std::string_view> w) {
    d.words = std::move(w);
    return *this;
  }
  B& Special(Status (*set)(Values&, const std::vector<std::string>&, LoadState*),
             std::string (*get)(const Values&),
             std::vector<std::string> (*rw)(const Values&) = nullptr) {
    d.set = set;
    d.get = get;
    d.rewrite = rw;
    return *this;
  }
  operator Directive() const { return d; }  // NOLINT: builder
};

B Bool(std::string_view n, Field f = {}) { return B(n, Kind::kBool, f); }
B Int(std::string_view n, int64_t lo, int64_t hi, Field f = {}) {
  return B(n, Kind::kInt, f).Range(lo, hi);
}
B Mem(std::string_view n, int64_t lo, int64_t hi, Field f = {}) {
  return B(n, Kind::kMemory, f).Range(lo, hi);
}
B Enum(std::string_view n, std::vector<std::string_view> w, Field f = {}) {
  return B(n, Kind::kEnum, f).Words(std::move(w));
}
B Str(std::string_view n, Field f = {}) { return B(n, Kind::kString, f); }

const std::vector<std::string_view> kYesNoLocal = {"no", "yes", "local"};

// --- special directives ------------------------------------------------------

std::string JoinWords(const std::vector<std::string>& w) {
  std::string out;
  for (size_t i = 0; i < w.size(); i++) {
    if (i) out += ' ';
    out += w[i];
  }
  return out;
}

bool IsEmptyArgs(const std::vector<std::string>& a) {
  return a.empty() || (a.size() == 1 && a[0].empty());
}

Status SetBind(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() > 16) return Status::InvalidArgument("Too many bind addresses specified.");
  v.bind.clear();
  if (!IsEmptyArgs(a)) v.bind = a;
  v.bind_explicit = true;
  return Status::Ok();
}
std::string GetBind(const Values& v) { return JoinWords(v.bind); }
std::vector<std::string> RewriteBind(const Values& v) {
  return {v.bind.empty() ? "bind \"\"" : "bind " + JoinWords(v.bind)};
}

Status SetSecureBind(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() > 16) return Status::InvalidArgument("Too many bind addresses specified.");
  v.secure_bind.clear();
  if (!IsEmptyArgs(a)) v.secure_bind = a;
  return Status::Ok();
}
std::string GetSecureBind(const Values& v) { return JoinWords(v.secure_bind); }
std::vector<std::string> RewriteSecureBind(const Values& v) {
  return {v.secure_bind.empty() ? "secure-bind \"\"" : "secure-bind " + JoinWords(v.secure_bind)};
}

// A base64 X25519 key: 44 characters, the last one '='.
bool LooksLikeKey(const std::string& w) {
  return w.size() == 44 && w.back() == '=' &&
         w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
             std::string::npos;
}

// secure-allow KEY [LABEL...]: in a file each line adds a peer; CONFIG SET gives the
// whole list as "KEY [LABEL] KEY [LABEL] ..." (a key is recognisable by its form).
Status SetSecureAllow(Values& v, const std::vector<std::string>& a, LoadState* load) {
  std::vector<std::pair<std::string, std::string>> peers;
  if (!IsEmptyArgs(a)) {
    for (const auto& w : a) {
      if (LooksLikeKey(w)) {
        peers.emplace_back(w, "");
      } else if (peers.empty()) {
        return Status::InvalidArgument("secure-allow: '" + w +
                                       "' is not a public key (base64 of 32 bytes, as cairn "
                                       "pubkey prints)");
      } else {
        auto& label = peers.back().second;
        label += (label.empty() ? "" : " ") + w;
      }
    }
  }
  bool file_line = load != nullptr && load->from_file;
  if (file_line && load->secure_allow_seen) {
    v.secure_allow.insert(v.secure_allow.end(), peers.begin(), peers.end());
  } else {
    v.secure_allow = std::move(peers);
  }
  if (file_line) load->secure_allow_seen = true;
  return Status::Ok();
}
std::string GetSecureAllow(const Values& v) {
  std::string out;
  for (const auto& [key, label] : v.secure_allow) {
    if (!out.empty()) out += ' ';
    out += key;
    if (!label.empty()) out += " " + label;
  }
  return out;
}
std::vector<std::string> RewriteSecureAllow(const Values& v) {
  std::vector<std::string> lines;
  for (const auto& [key, label] : v.secure_allow) {
    lines.push_back("secure-allow " + key + (label.empty() ? "" : " " + QuoteArg(label)));
  }
  return lines;
}

Status SetBandwidth(Values& v, const std::vector<std::string>& a, LoadState*) {
  int64_t rate = 0;
  if (a.size() != 1 || !ParseRate(a[0], &rate)) {
    return Status::InvalidArgument(
        "secure-max-bandwidth must be a rate such as 8mbit, 500kbit, 2mbps or 0 (no cap)");
  }
  v.secure_max_bandwidth = rate;
  v.secure_max_bandwidth_text = a[0];
  return Status::Ok();
}
std::string GetBandwidth(const Values& v) { return v.secure_max_bandwidth_text; }

Status SetSnapshotInterval(Values& v, const std::vector<std::string>& a, LoadState*) {
  int64_t secs = 0;
  if (a.size() != 1 || !ParseDuration(a[0], &secs))
    return Status::InvalidArgument(
        "snapshot-interval must be a duration such as 1h, 30m, 90s, 1d or 0 (no interval)");
  v.snapshot_interval = secs;
  v.snapshot_interval_text = a[0];
  return Status::Ok();
}
std::string GetSnapshotInterval(const Values& v) { return v.snapshot_interval_text; }

// snapshot-at HH:MM [HH:MM ...]: daily times ("" = none).
Status SetSnapshotAt(Values& v, const std::vector<std::string>& a, LoadState*) {
  std::vector<int> times;
  if (!IsEmptyArgs(a)) {
    for (const auto& w : a) {
      int h = -1, m = -1;
      char tail = 0;
      if (w.size() != 5 || sscanf(w.c_str(), "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 ||
          m < 0 || m > 59)
        return Status::InvalidArgument("snapshot-at takes times of day as HH:MM (24-hour), got '" +
                                       w + "'");
      times.push_back(h * 60 + m);
    }
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  v.snapshot_at = std::move(times);
  return Status::Ok();
}
std::string GetSnapshotAt(const Values& v) {
  std::string out;
  for (int t : v.snapshot_at) {
    char buf[8];
    snprintf(buf, sizeof buf, "%02d:%02d", t / 60, t % 60);
    if (!out.empty()) out += ' ';
    out += buf;
  }
  return out;
}
std::vector<std::string> RewriteSnapshotAt(const Values& v) {
  return {v.snapshot_at.empty() ? "snapshot-at \"\"" : "snapshot-at " + GetSnapshotAt(v)};
}

Status SetSnapshotTimezone(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() == 1 && (a[0] == "utc" || a[0] == "UTC")) {
    v.snapshot_local_time = false;
  } else if (a.size() == 1 && a[0] == "local") {
    v.snapshot_local_time = true;
  } else {
    return Status::InvalidArgument("snapshot-timezone must be utc or local");
  }
  return Status::Ok();
}
std::string GetSnapshotTimezone(const Values& v) { return v.snapshot_local_time ? "local" : "utc"; }

// snapshot-keep last N hourly N ... (backup/retention.h; "" keeps everything).
Status SetSnapshotKeep(Values& v, const std::vector<std::string>& a, LoadState*) {
  std::string text = IsEmptyArgs(a) ? "" : JoinWords(a);
  auto policy = backup::ParsePolicy(text);
  if (!policy.ok()) return Status::InvalidArgument("snapshot-keep: " + policy.status().message());
  v.snapshot_keep = backup::FormatPolicy(*policy);
  return Status::Ok();
}
std::string GetSnapshotKeep(const Values& v) { return v.snapshot_keep; }
std::vector<std::string> RewriteSnapshotKeep(const Values& v) {
  return {v.snapshot_keep.empty() ? "snapshot-keep \"\"" : "snapshot-keep " + v.snapshot_keep};
}

// strtoll-style: optional sign, digits, nothing after (as Redis's save parser).
bool ParseLooseInt(const std::string& s, int64_t* out) {
  if (s.empty()) {
    *out = 0;
    return true;
  }
  char* end = nullptr;
  *out = std::strtoll(s.c_str(), &end, 10);
  return *end == '\0';
}

Status SetSave(Values& v, const std::vector<std::string>& args, LoadState* load) {
  std::vector<std::string> a = args;
  if (a.size() == 1 && a[0].empty()) a.clear();
  if (a.size() % 2 != 0) return Status::InvalidArgument("Invalid save parameters");
  std::vector<SavePoint> points;
  for (size_t j = 0; j < a.size(); j += 2) {
    int64_t secs, changes;
    if (!ParseLooseInt(a[j], &secs) || !ParseLooseInt(a[j + 1], &changes) || secs < 1 ||
        changes < 0) {
      return Status::InvalidArgument("Invalid save parameters");
    }
    points.push_back({secs, changes});
  }
  // While loading, the first save line replaces the defaults, later ones add.
  if (load != nullptr && load->from_file && load->save_seen) {
    v.save_points.insert(v.save_points.end(), points.begin(), points.end());
  } else {
    v.save_points = std::move(points);
  }
  if (load != nullptr && load->from_file) load->save_seen = true;
  v.save.clear();
  for (const auto& p : v.save_points) {
    if (!v.save.empty()) v.save += ' ';
    v.save += std::to_string(p.seconds) + " " + std::to_string(p.changes);
  }
  return Status::Ok();
}
std::string GetSave(const Values& v) { return v.save; }
std::vector<std::string> RewriteSave(const Values& v) {
  if (v.save_points.empty()) return {"save \"\""};
  std::vector<std::string> lines;
  for (const auto& p : v.save_points) {
    lines.push_back("save " + std::to_string(p.seconds) + " " + std::to_string(p.changes));
  }
  return lines;
}

OutputBufferLimit* ObufClass(Values& v, std::string_view name) {
  if (base::EqualsNoCase(name, "normal")) return &v.obuf_normal;
  if (base::EqualsNoCase(name, "slave") || base::EqualsNoCase(name, "replica")) {
    return &v.obuf_replica;
  }
  if (base::EqualsNoCase(name, "pubsub")) return &v.obuf_pubsub;
  return nullptr;
}

Status SetObuf(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() % 4 != 0) {
    return Status::InvalidArgument("Wrong number of arguments in buffer limit configuration.");
  }
  Values staged = v;  // all classes or none
  for (size_t j = 0; j < a.size(); j += 4) {
    OutputBufferLimit* l = ObufClass(staged, a[j]);
    if (l == nullptr) {
      return Status::InvalidArgument(
          "Invalid client class specified in buffer limit configuration.");
    }
    int64_t hard, soft, secs;
    char* end = nullptr;
    secs = std::strtoll(a[j + 3].c_str(), &end, 10);
    if (!base::ParseMemory(a[j + 1], &hard) || !base::ParseMemory(a[j + 2], &soft) || secs < 0 ||
        *end != '\0') {
      return Status::InvalidArgument(
          "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    }
    *l = {hard, soft, secs};
  }
  v.obuf_normal = staged.obuf_normal;
  v.obuf_replica = staged.obuf_replica;
  v.obuf_pubsub = staged.obuf_pubsub;
  return Status::Ok();
}
std::string ObufText(const char* cls, const OutputBufferLimit& l) {
  return std::string(cls) + " " + std::to_string(l.hard) + " " + std::to_string(l.soft) + " " +
         std::to_string(l.soft_seconds);
}
std::string GetObuf(const Values& v) {
  return ObufText("normal", v.obuf_normal) + " " + ObufText("slave", v.obuf_replica) + " " +
         ObufText("pubsub", v.obuf_pubsub);
}
std::vector<std::string> RewriteObuf(const Values& v) {
  std::vector<std::string> lines;
  const Values defaults;
  auto line = [&](const char* cls, const OutputBufferLimit& l, const OutputBufferLimit& d) {
    if (l.hard == d.hard && l.soft == d.soft && l.soft_seconds == d.soft_seconds) return;
    lines.push_back(std::string("client-output-buffer-limit ") + cls + " " + FormatMemory(l.hard) +
                    " " + FormatMemory(l.soft) + " " + std::to_string(l.soft_seconds));
  };
  line("normal", v.obuf_normal, defaults.obuf_normal);
  line("replica", v.obuf_replica, defaults.obuf_replica);
  line("pubsub", v.obuf_pubsub, defaults.obuf_pubsub);
  return lines;
}

Status SetReplicaOf(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() != 2) return Status::InvalidArgument("wrong number of arguments");
  if (base::EqualsNoCase(a[0], "no") && base::EqualsNoCase(a[1], "one")) {
    v.replicaof.clear();
    v.master_host.clear();
    v.master_port = 0;
    return Status::Ok();
  }
  char* end = nullptr;
  long port = std::strtol(a[1].c_str(), &end, 10);
  if (port < 0 || port > 65535 || *end != '\0') {
    return Status::InvalidArgument("Invalid master port");
  }
  v.master_host = a[0];
  v.master_port = static_cast<int>(port);
  v.replicaof = v.master_host + " " + std::to_string(port);
  return Status::Ok();
}
std::string GetReplicaOf(const Values& v) { return v.replicaof; }
std::vector<std::string> RewriteReplicaOf(const Values& v) {
  if (v.master_host.empty()) return {};
  return {"replicaof " + QuoteArg(v.master_host) + " " + std::to_string(v.master_port)};
}

Status SetNotify(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() != 1) return Status::InvalidArgument("wrong number of arguments");
  int flags = 0;
  for (char c : a[0]) {
    switch (c) {
      case 'A':
        flags |= kNotifyAll;
        break;
      case 'g':
        flags |= kNotifyGeneric;
        break;
      case '$':
        flags |= kNotifyString;
        break;
      case 'l':
        flags |= kNotifyList;
        break;
      case 's':
        flags |= kNotifySet;
        break;
      case 'h':
        flags |= kNotifyHash;
        break;
      case 'z':
        flags |= kNotifyZset;
        break;
      case 'x':
        flags |= kNotifyExpired;
        break;
      case 'e':
        flags |= kNotifyEvicted;
        break;
      case 'K':
        flags |= kNotifyKeyspace;
        break;
      case 'E':
        flags |= kNotifyKeyevent;
        break;
      case 't':
        flags |= kNotifyStream;
        break;
      case 'm':
        flags |= kNotifyKeyMiss;
        break;
      case 'd':
        flags |= kNotifyModule;
        break;
      case 'n':
        flags |= kNotifyNew;
        break;
      default:
        return Status::InvalidArgument("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
  }
  // Printed in Redis's canonical order, "A" standing for all data classes.
  std::string s;
  if ((flags & kNotifyAll) == kNotifyAll) {
    s += 'A';
  } else {
    static const std::pair<int, char> kOrder[] = {
        {kNotifyGeneric, 'g'}, {kNotifyString, '$'}, {kNotifyList, 'l'},    {kNotifySet, 's'},
        {kNotifyHash, 'h'},    {kNotifyZset, 'z'},   {kNotifyExpired, 'x'}, {kNotifyEvicted, 'e'},
        {kNotifyStream, 't'},  {kNotifyModule, 'd'}, {kNotifyNew, 'n'}};
    for (const auto& [bit, ch] : kOrder) {
      if (flags & bit) s += ch;
    }
  }
  if (flags & kNotifyKeyspace) s += 'K';
  if (flags & kNotifyKeyevent) s += 'E';
  if (flags & kNotifyKeyMiss) s += 'm';
  v.notify_keyspace_flags = flags;
  v.notify_keyspace_events = s;
  return Status::Ok();
}
std::string GetNotify(const Values& v) { return v.notify_keyspace_events; }
std::vector<std::string> RewriteNotify(const Values& v) {
  return {"notify-keyspace-events " + ReprArg(v.notify_keyspace_events)};
}

Status SetDir(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() != 1) return Status::InvalidArgument("wrong number of arguments");
  char* real = realpath(a[0].c_str(), nullptr);
  if (real == nullptr) return Status::InvalidArgument(strerror(errno));
  std::string path(real);
  free(real);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::InvalidArgument(strerror(errno));
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(strerror(ENOTDIR));
  v.dir = path;
  return Status::Ok();
}
std::string GetDir(const Values& v) {
  if (!v.dir.empty() && v.dir[0] == '/') return v.dir;
  char* real = realpath(v.dir.c_str(), nullptr);
  if (real == nullptr) return v.dir;
  std::string out(real);
  free(real);
  return out;
}
std::vector<std::string> RewriteDir(const Values& v) { return {"dir " + ReprArg(GetDir(v))}; }

Status SetOomValues(Values& v, const std::vector<std::string>& a, LoadState*) {
  if (a.size() != 3) return Status::InvalidArgument("wrong number of arguments");
  std::string out;
  for (const auto& w : a) {
    char* end = nullptr;
    long long x = std::strtoll(w.c_str(), &end, 10);
    if (*end != '\0' || x < -2000 || x > 2000) {
      return Status::InvalidArgument(
          "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
    }
    if (!out.empty()) out += ' ';
    out += std::to_string(x);
  }
  v.other["oom-score-adj-values"] = out;
  return Status::Ok();
}
std::string GetOomValues(const Values& v) {
  auto it = v.other.find("oom-score-adj-values");
  return it == v.other.end() ? "0 200 800" : it->second;
}

Status SetPercentiles(Values& v, const std::vector<std::string>& a, LoadState*) {
  std::string out;
  if (!IsEmptyArgs(a)) {
    for (const auto& w : a) {
      double d;
      if (!base::ParseDouble(w, &d)) {
        return Status::InvalidArgument("Invalid latency-tracking-info-percentiles parameters");
      }
      if (d > 100.0 || d < 0.0) {
        return Status::InvalidArgument(
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
      }
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof(buf), d);
      if (!out.empty()) out += ' ';
      out.append(buf, r.ptr);
    }
  }
  v.other["latency-tracking-info-percentiles"] = out;
  return Status::Ok();
}
std::string GetPercentiles(const Values& v) {
  auto it = v.other.find("latency-tracking-info-percentiles");
  return it == v.other.end() ? "50 99 99.9" : it->second;
}
std::vector<std::string> RewritePercentiles(const Values& v) {
  std::string p = GetPercentiles(v);
  return {"latency-tracking-info-percentiles " + (p.empty() ? std::string("\"\"") : p)};
}

// --- the table ----------------------------------------------------------------

std::vector<Directive> BuildTable() {
  using V = Values;
  const std::vector<std::string_view> kShutdown = {"default", "save", "nosave", "now", "force"};
  return {
      // Network
      B("bind", Kind::kSpecial).Flags(kMultiArg).Special(SetBind, GetBind, RewriteBind),
      Str("bind-source-addr"),
      Int("port", 0, 65535, &V::port),
      Int("tcp-backlog", 0, kIntMax, &V::tcp_backlog).Flags(kImmutable),
      Str("unixsocket", &V::unixsocket).Flags(kImmutable),
      Int("unixsocketperm", 0, 0777, &V::unixsocketperm).Flags(kImmutable | kOctal),
      Int("socket-mark-id", 0, kUintMax).Flags(kImmutable).Def("0"),
      Int("timeout", 0, kIntMax, &V::timeout),
      Int("tcp-keepalive", 0, kIntMax, &V::tcp_keepalive),
      Bool("protected-mode", &V::protected_mode),
      Int("maxclients", 1, kUintMax, &V::maxclients),
      // TLS (Cairn speaks no TLS: accepted for compatibility)
      Int("tls-port", 0, 65535).Def("0"),
      Str("tls-cert-file"),
      Str("tls-key-file"),
      Str("tls-key-file-pass"),
      Str("tls-client-cert-file"),
      Str("tls-client-key-file"),
      Str("tls-client-key-file-pass"),
      Str("tls-dh-params-file"),
      Str("tls-ca-cert-file"),
      Str("tls-ca-cert-dir"),
      Enum("tls-auth-clients", {"no", "yes", "optional"}).Def("yes"),
      Bool("tls-replication").Def("no"),
      Bool("tls-cluster").Def("no"),
      Str("tls-protocols"),
      Str("tls-ciphers"),
      Str("tls-ciphersuites"),
      Bool("tls-prefer-server-ciphers").Def("no"),
      Bool("tls-session-caching").Def("yes"),
      Int("tls-session-cache-size", 0, kIntMax).Def("20480"),
      Int("tls-session-cache-timeout", 0, kIntMax).Def("300"),
      // General
      Bool("daemonize", &V::daemonize).Flags(kImmutable),
      Enum("supervised", {"upstart", "systemd", "auto", "no"}, &V::supervised).Flags(kImmutable),
      Str("pidfile", &V::pidfile).Flags(kImmutable),
      Enum("loglevel", {"debug", "verbose", "notice", "warning"}, &V::loglevel),
      Str("logfile", &V::logfile).Flags(kImmutable),
      Bool("syslog-enabled").Flags(kImmutable).Def("no"),
      Str("syslog-ident").Flags(kImmutable).Def("redis"),
      Enum("syslog-facility",
           {"user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"})
          .Flags(kImmutable)
          .Def("local0"),
      Bool("crash-log-enabled", &V::crash_log_enabled),
      Bool("crash-memcheck-enabled").Def("yes"),
      Int("databases", 1, kIntMax, &V::databases).Flags(kImmutable),
      Bool("always-show-logo", &V::always_show_logo).Flags(kImmutable),
      Bool("set-proc-title").Flags(kImmutable).Def("yes"),
      Str("proc-title-template").Def("{title} {listen-addr} {server-mode}"),
      Str("ignore-warnings"),
      Int("hz", 0, kIntMax, &V::hz),
      Bool("dynamic-hz", &V::dynamic_hz),
      Str("dir", &V::dir).Flags(kProtected),
      Enum("enable-protected-configs", kYesNoLocal, &V::enable_protected_configs).Flags(kImmutable),
      Enum("enable-debug-command", kYesNoLocal, &V::enable_debug_command).Flags(kImmutable),
      Enum("enable-module-command", kYesNoLocal, &V::enable_module_command).Flags(kImmutable),
      Enum("shutdown-on-sigint", kShutdown, &V::shutdown_on_sigint).Flags(kMultiArg),
      Enum("shutdown-on-sigterm", kShutdown, &V::shutdown_on_sigterm).Flags(kMultiArg),
      Int("shutdown-timeout", 0, kIntMax, &V::shutdown_timeout),
      // Snapshotting
      B("save", Kind::kSpecial).Flags(kMultiArg).Special(SetSave, GetSave, RewriteSave),
      Bool("stop-writes-on-bgsave-error", &V::stop_writes_on_bgsave_error),
      Bool("rdbcompression", &V::rdbcompression),
      Bool("rdbchecksum", &V::rdbchecksum).Flags(kImmutable),
      Enum("sanitize-dump-payload", {"no", "yes", "clients"}).Def("no"),
      Str("dbfilename", &V::dbfilename).Flags(kProtected),
      Bool("rdb-del-sync-files", &V::rdb_del_sync_files),
      Bool("rdb-save-incremental-fsync").Def("yes"),
      Int("rdb-key-save-delay", kIntMin, kIntMax, &V::rdb_key_save_delay).Flags(kHidden),
      Int("key-load-delay", kIntMin, kIntMax, &V::key_load_delay).Flags(kHidden),
      Int("loading-process-events-interval-bytes", 1024, kIntMax).Flags(kHidden).Def("2097152"),
      // Replication
      B("replicaof", Kind::kSpecial)
          .Alias("slaveof")
          .Flags(kImmutable | kMultiArg)
          .Special(SetReplicaOf, GetReplicaOf, RewriteReplicaOf),
      Str("masterauth", &V::masterauth).Flags(kSensitive),
      Str("masteruser", &V::masteruser).Flags(kSensitive),
      Bool("replica-serve-stale-data", &V::replica_serve_stale_data)
          .Alias("slave-serve-stale-data"),
      Bool("replica-read-only", &V::replica_read_only).Alias("slave-read-only"),
      Bool("repl-diskless-sync", &V::repl_diskless_sync),
      Int("repl-diskless-sync-delay", 0, kIntMax, &V::repl_diskless_sync_delay),
      Int("repl-diskless-sync-max-replicas", 0, kIntMax, &V::repl_diskless_sync_max_replicas),
      Enum("repl-diskless-load", {"disabled", "on-empty-db", "swapdb"}, &V::repl_diskless_load),
      Int("repl-ping-replica-period", 1, kIntMax, &V::repl_ping_replica_period)
          .Alias("repl-ping-slave-period"),
      Int("repl-timeout", 1, kIntMax, &V::repl_timeout),
      Bool("repl-disable-tcp-nodelay", &V::repl_disable_tcp_nodelay),
      Mem("repl-backlog-size", 1, kLongMax, &V::repl_backlog_size),
      Int("repl-backlog-ttl", 0, kLongMax, &V::repl_backlog_ttl),
      Int("replica-priority", 0, kIntMax, &V::replica_priority).Alias("slave-priority"),
      Bool("replica-announced", &V::replica_announced),
      Int("min-replicas-to-write", 0, kIntMax, &V::min_replicas_to_write)
          .Alias("min-slaves-to-write"),
      Int("min-replicas-max-lag", 0, kIntMax, &V::min_replicas_max_lag).Alias("min-slaves-max-lag"),
      Str("replica-announce-ip", &V::replica_announce_ip).Alias("slave-announce-ip"),
      Int("replica-announce-port", 0, 65535, &V::replica_announce_port)
          .Alias("slave-announce-port"),
      Bool("replica-lazy-flush", &V::replica_lazy_flush).Alias("slave-lazy-flush"),
      Bool("replica-ignore-maxmemory", &V::replica_ignore_maxmemory)
          .Alias("slave-ignore-maxmemory"),
      Bool("replica-ignore-disk-write-errors").Def("no"),
      Enum("propagation-error-behavior", {"ignore", "panic", "panic-on-replicas"}).Def("ignore"),
      // Keys tracking
      Int("tracking-table-max-keys", 0, kLongMax, &V::tracking_table_max_keys),
      // Security
      Str("requirepass", &V::requirepass).Flags(kSensitive),
      Str("aclfile", &V::aclfile).Flags(kImmutable),
      Int("acllog-max-len", 0, kLongMax, &V::acllog_max_len),
      Enum("acl-pubsub-default", {"allchannels", "resetchannels"}).Def("resetchannels"),
      // Memory management
      Mem("maxmemory", 0, kLongMax, &V::maxmemory),
      Enum("maxmemory-policy",
           {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
            "allkeys-lfu", "allkeys-random", "noeviction"},
           &V::maxmemory_policy),
      Int("maxmemory-samples", 1, kIntMax, &V::maxmemory_samples),
      Int("maxmemory-eviction-tenacity", 0, 100, &V::maxmemory_eviction_tenacity),
      Mem("maxmemory-clients", -100, kLongMax).Flags(kPercent).Def("0"),
      Int("lfu-log-factor", 0, kIntMax, &V::lfu_log_factor),
      Int("lfu-decay-time", 0, kIntMax, &V::lfu_decay_time),
      // Lazy freeing
      Bool("lazyfree-lazy-eviction", &V::lazyfree_lazy_eviction),
      Bool("lazyfree-lazy-expire", &V::lazyfree_lazy_expire),
      Bool("lazyfree-lazy-server-del", &V::lazyfree_lazy_server_del),
      Bool("lazyfree-lazy-user-del", &V::lazyfree_lazy_user_del),
      Bool("lazyfree-lazy-user-flush", &V::lazyfree_lazy_user_flush),
      // Threads, kernel and CPU
      Int("io-threads", 1, 128).Flags(kImmutable).Def("1"),
      Bool("io-threads-do-reads").Flags(kImmutable).Def("no"),
      Enum("oom-score-adj", {"no", "yes", "relative", "absolute"}).Def("no"),
      B("oom-score-adj-values", Kind::kSpecial)
          .Flags(kMultiArg)
          .Special(SetOomValues, GetOomValues),
      Bool("disable-thp").Flags(kImmutable).Def("yes"),
      Str("server_cpulist").Flags(kImmutable),
      Str("bio_cpulist").Flags(kImmutable),
      Str("aof_rewrite_cpulist").Flags(kImmutable),
      Str("bgsave_cpulist").Flags(kImmutable),
      Bool("jemalloc-bg-thread").Def("yes"),
      // Append only file
      Bool("appendonly", &V::appendonly),
      Str("appendfilename", &V::appendfilename).Flags(kImmutable),
      Str("appenddirname", &V::appenddirname).Flags(kImmutable),
      Enum("appendfsync", {"everysec", "always", "no"}, &V::appendfsync),
      Bool("no-appendfsync-on-rewrite", &V::no_appendfsync_on_rewrite),
      Int("auto-aof-rewrite-percentage", 0, kIntMax, &V::auto_aof_rewrite_percentage),
      Mem("auto-aof-rewrite-min-size", 0, kLongMax, &V::auto_aof_rewrite_min_size),
      Bool("aof-load-truncated", &V::aof_load_truncated),
      Bool("aof-use-rdb-preamble", &V::aof_use_rdb_preamble),
      Bool("aof-timestamp-enabled", &V::aof_timestamp_enabled),
      Bool("aof-rewrite-incremental-fsync").Def("yes"),
      Bool("aof-disable-auto-gc").Def("no"),
      // Scripting
      Int("busy-reply-threshold", 0, kLongMax, &V::busy_reply_threshold).Alias("lua-time-limit"),
      // Cluster (Cairn has no cluster mode: accepted for compatibility)
      Bool("cluster-enabled").Flags(kImmutable).Def("no"),
      Str("cluster-config-file").Flags(kImmutable).Def("nodes.conf"),
      Int("cluster-node-timeout", 0, kLongMax).Def("15000"),
      Int("cluster-port", 0, 65535).Flags(kImmutable).Def("0"),
      Int("cluster-replica-validity-factor", 0, kIntMax)
          .Alias("cluster-slave-validity-factor")
          .Def("10"),
      Int("cluster-migration-barrier", 0, kIntMax).Def("1"),
      Bool("cluster-allow-replica-migration").Def("yes"),
      Bool("cluster-require-full-coverage").Def("yes"),
      Bool("cluster-replica-no-failover").Alias("cluster-slave-no-failover").Def("no"),
      Bool("cluster-allow-reads-when-down").Def("no"),
      Bool("cluster-allow-pubsubshard-when-down").Def("yes"),
      Mem("cluster-link-sendbuf-limit", 0, kLongMax).Def("0"),
      Str("cluster-announce-hostname"),
      Enum("cluster-preferred-endpoint-type", {"ip", "hostname", "unknown-endpoint"}).Def("ip"),
      Str("cluster-announce-ip"),
      Int("cluster-announce-port", 0, 65535).Def("0"),
      Int("cluster-announce-tls-port", 0, 65535).Def("0"),
      Int("cluster-announce-bus-port", 0, 65535).Def("0"),
      // Slow log, latency
      Int("slowlog-log-slower-than", -1, kLongMax, &V::slowlog_log_slower_than),
      Int("slowlog-max-len", 0, kLongMax, &V::slowlog_max_len),
      Int("latency-monitor-threshold", 0, kLongMax, &V::latency_monitor_threshold),
      Bool("latency-tracking").Def("yes"),
      B("latency-tracking-info-percentiles", Kind::kSpecial)
          .Flags(kMultiArg)
          .Special(SetPercentiles, GetPercentiles, RewritePercentiles),
      // Event notification
      B("notify-keyspace-events", Kind::kSpecial).Special(SetNotify, GetNotify, RewriteNotify),
      // Advanced config: encodings
      Int("hash-max-listpack-entries", 0, kLongMax, &V::hash_max_listpack_entries)
          .Alias("hash-max-ziplist-entries"),
      Mem("hash-max-listpack-value", 0, kLongMax, &V::hash_max_listpack_value)
          .Alias("hash-max-ziplist-value"),
      Int("list-max-listpack-size", kIntMin, kIntMax, &V::list_max_listpack_size)
          .Alias("list-max-ziplist-size"),
      Int("list-compress-depth", 0, kIntMax, &V::list_compress_depth),
      Int("set-max-intset-entries", 0, kLongMax, &V::set_max_intset_entries),
      Int("set-max-listpack-entries", 0, kLongMax, &V::set_max_listpack_entries).Flags(kCairn),
      Mem("set-max-listpack-value", 0, kLongMax, &V::set_max_listpack_value).Flags(kCairn),
      Int("zset-max-listpack-entries", 0, kLongMax, &V::zset_max_listpack_entries)
          .Alias("zset-max-ziplist-entries"),
      Mem("zset-max-listpack-value", 0, kLongMax, &V::zset_max_listpack_value)
          .Alias("zset-max-ziplist-value"),
      Mem("hll-sparse-max-bytes", 0, kLongMax, &V::hll_sparse_max_bytes),
      Mem("stream-node-max-bytes", 0, kLongMax, &V::stream_node_max_bytes),
      Int("stream-node-max-entries", 0, kLongMax, &V::stream_node_max_entries),
      Bool("activerehashing", &V::activerehashing),
      B("client-output-buffer-limit", Kind::kSpecial)
          .Flags(kMultiArg)
          .Special(SetObuf, GetObuf, RewriteObuf),
      Mem("client-query-buffer-limit", 1024 * 1024, kLongMax, &V::client_query_buffer_limit),
      Mem("proto-max-bulk-len", 1024 * 1024, kLongMax, &V::proto_max_bulk_len),
      Int("active-expire-effort", 1, 10, &V::active_expire_effort),
      // Active defragmentation
      Bool("activedefrag").Def("no"),
      Mem("active-defrag-ignore-bytes", 1, kLongMax).Def("104857600"),
      Int("active-defrag-threshold-lower", 0, 1000).Def("10"),
      Int("active-defrag-threshold-upper", 0, 1000).Def("100"),
      Int("active-defrag-cycle-min", 1, 99).Def("1"),
      Int("active-defrag-cycle-max", 1, 99).Def("25"),
      Int("active-defrag-max-scan-fields", 1, kLongMax).Def("1000"),
      // Secure channel (Cairn)
      Int("secure-port", 0, 65535, &V::secure_port).Flags(kCairn | kImmutable),
      B("secure-bind", Kind::kSpecial)
          .Flags(kCairn | kImmutable | kMultiArg)
          .Special(SetSecureBind, GetSecureBind, RewriteSecureBind),
      Str("secure-private-key", &V::secure_private_key).Flags(kCairn | kImmutable),
      B("secure-allow", Kind::kSpecial)
          .Flags(kCairn | kMultiArg)
          .Special(SetSecureAllow, GetSecureAllow, RewriteSecureAllow),
      Str("secure-master-public-key", &V::secure_master_public_key).Flags(kCairn),
      Str("secure-psk-file", &V::secure_psk_file).Flags(kCairn | kImmutable),
      Bool("secure-compression", &V::secure_compression).Flags(kCairn),
      Int("secure-compression-level", 1, 19, &V::secure_compression_level).Flags(kCairn),
      B("secure-max-bandwidth", Kind::kSpecial).Flags(kCairn).Special(SetBandwidth, GetBandwidth),
      Int("secure-keepalive", 0, 3600, &V::secure_keepalive).Flags(kCairn),
      Int("secure-timeout", 0, kIntMax, &V::secure_timeout).Flags(kCairn),
      Int("secure-rekey-interval", 0, kIntMax, &V::secure_rekey_interval).Flags(kCairn),
      Int("secure-handshake-timeout", 1, 300, &V::secure_handshake_timeout).Flags(kCairn),
      Int("secure-max-pending-handshakes", 1, 100000, &V::secure_max_pending_handshakes)
          .Flags(kCairn | kImmutable),
      Int("secure-handshake-rate", 1, 1000000, &V::secure_handshake_rate)
          .Flags(kCairn | kImmutable),
      // Backup mode and snapshots (Cairn)
      Bool("backup-mode", &V::backup_mode).Flags(kCairn),
      Bool("backup-guard", &V::backup_guard).Flags(kCairn),
      Bool("backup-refuse-empty-sync", &V::backup_refuse_empty_sync).Flags(kCairn),
      Int("backup-sync-min-keys-percent", 0, 100, &V::backup_sync_min_keys_percent).Flags(kCairn),
      Str("snapshot-dir", &V::snapshot_dir).Flags(kCairn),
      Str("snapshot-prefix", &V::snapshot_prefix).Flags(kCairn),
      B("snapshot-interval", Kind::kSpecial)
          .Flags(kCairn)
          .Special(SetSnapshotInterval, GetSnapshotInterval),
      B("snapshot-at", Kind::kSpecial)
          .Flags(kCairn | kMultiArg)
          .Special(SetSnapshotAt, GetSnapshotAt, RewriteSnapshotAt),
      B("snapshot-timezone", Kind::kSpecial)
          .Flags(kCairn)
          .Special(SetSnapshotTimezone, GetSnapshotTimezone),
      B("snapshot-keep", Kind::kSpecial)
          .Flags(kCairn | kMultiArg)
          .Special(SetSnapshotKeep, GetSnapshotKeep, RewriteSnapshotKeep),
      // Debugging knobs Redis hides
      Int("watchdog-period", 0, kIntMax).Flags(kHidden).Def("0"),
      Bool("use-exit-on-panic").Flags(kHidden).Def("no"),
  };
}

// --- generic value handling -----------------------------------------------------

std::string OtherValue(const Values& v, const Directive& d) {
  auto it = v.other.find(std::string(d.name));
  return it == v.other.end() ? std::string(d.default_value) : it->second;
}

int64_t ReadNumber(const Values& v, const Directive& d) {
  if (auto p = std::get_if<int Values::*>(&d.field)) return v.**p;
  if (auto p = std::get_if<int64_t Values::*>(&d.field)) return v.**p;
  int64_t x = 0;
  std::string s = OtherValue(v, d);
  if (!s.empty() && s.back() == '%') return -std::strtoll(s.c_str(), nullptr, 10);
  base::ParseInt64(s, &x);
  return x;
}

std::string FormatNumber(const Directive& d, int64_t x) {
  if (d.is(kOctal)) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%llo", static_cast<unsigned long long>(x));
    return buf;
  }
  if (d.is(kPercent) && x < 0) return std::to_string(-x) + "%";
  return std::to_string(x);
}

Status ParseNumber(const Directive& d, const std::string& s, int64_t* out) {
  if (d.kind == Kind::kMemory) {
    if (base::ParseMemory(s, out)) return Status::Ok();
    if (d.is(kPercent) && s.size() > 1 && s.back() == '%' &&
        base::ParseInt64(std::string_view(s).substr(0, s.size() - 1), out) && *out >= 0) {
      *out = -*out;
      return Status::Ok();
    }
    return Status::InvalidArgument(d.is(kPercent) ? "argument must be a memory or percent value"
                                                  : "argument must be a memory value");
  }
  if (d.is(kOctal)) {
    char* end = nullptr;
    errno = 0;
    *out = std::strtoll(s.c_str(), &end, 8);
    if (errno == 0 && !s.empty() && *end == '\0') return Status::Ok();
    return Status::InvalidArgument("argument couldn't be parsed as an octal number");
  }
  if (base::ParseInt64(s, out)) return Status::Ok();
  return Status::InvalidArgument("argument couldn't be parsed into an integer");
}

Status CheckBounds(const Directive& d, int64_t x) {
  if (d.is(kPercent) && x < 0) {
    if (x < d.min) {
      return Status::InvalidArgument("percentage argument must be less or equal to " +
                                     std::to_string(-d.min));
    }
    return Status::Ok();
  }
  if (x < d.min || x > d.max) {
    char buf[128];
    if (d.is(kOctal)) {
      snprintf(buf, sizeof(buf), "argument must be between %llo and %llo inclusive",
               static_cast<unsigned long long>(d.min), static_cast<unsigned long long>(d.max));
    } else {
      snprintf(buf, sizeof(buf), "argument must be between %lld and %lld inclusive",
               static_cast<long long>(d.min), static_cast<long long>(d.max));
    }
    return Status::InvalidArgument(buf);
  }
  return Status::Ok();
}

Status ValidateString(const Directive& d, const std::string& s) {
  bool has_slash = s.find('/') != std::string::npos;
  if (d.name == "dbfilename" && has_slash) {
    return Status::InvalidArgument("dbfilename can't be a path, just a filename");
  }
  if (d.name == "appendfilename" || d.name == "appenddirname") {
    bool dir = d.name == "appenddirname";
    if (s.empty()) return Status::InvalidArgument(std::string(d.name) + " can't be empty");
    if (has_slash) {
      return Status::InvalidArgument(std::string(d.name) + " can't be a path, just a " +
                                     (dir ? "dirname" : "filename"));
    }
  }
  return Status::Ok();
}

Status SetEnum(Values& v, const Directive& d, const std::vector<std::string>& args) {
  std::vector<size_t> picked;
  bool ok = d.is(kMultiArg) ? !args.empty() : args.size() == 1;
  for (const auto& a : args) {
    size_t i = 0;
    while (i < d.words.size() && !base::EqualsNoCase(d.words[i], a)) i++;
    if (i == d.words.size()) ok = false;
    picked.push_back(i);
  }
  if (!ok) {
    std::string msg = "argument(s) must be one of the following: ";
    for (size_t i = 0; i < d.words.size(); i++) {
      if (i) msg += ", ";
      msg += d.words[i];
    }
    return Status::InvalidArgument(msg);
  }
  std::string out;
  if (d.is(kMultiArg)) {
    // Flags: printed once each, in table order; "default" only alone.
    bool save = false, nosave = false;
    for (size_t i = 0; i < d.words.size(); i++) {
      if (std::find(picked.begin(), picked.end(), i) == picked.end()) continue;
      if (d.words[i] == "default") continue;
      save |= d.words[i] == "save";
      nosave |= d.words[i] == "nosave";
      if (!out.empty()) out += ' ';
      out += d.words[i];
    }
    if (save && nosave) {
      return Status::InvalidArgument(
          "shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
    if (out.empty()) out = d.words[0];
  } else {
    out = std::string(d.words[picked[0]]);
  }
  if (auto p = std::get_if<std::string Values::*>(&d.field)) {
    v.** p = out;
  } else {
    v.other[std::string(d.name)] = out;
  }
  return Status::Ok();
}

}  // namespace

bool ParseDuration(const std::string& text, int64_t* seconds) {
  std::string t = base::ToLower(text);
  size_t digits = t.find_first_not_of("0123456789");
  if (digits == 0 || t.empty()) return false;
  std::string unit = digits == std::string::npos ? "" : t.substr(digits);
  int64_t n = 0;
  if (!base::ParseInt64(t.substr(0, digits), &n) || n < 0 || n > 100LL * 365 * 86400) return false;
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"", 1}, {"s", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      *seconds = n * factor;
      return true;
    }
  }
  return false;
}

bool ParseRate(std::string_view text, int64_t* bytes_per_second) {
  std::string t = base::ToLower(text);
  size_t digits = t.find_first_not_of("0123456789.");
  std::string num = t.substr(0, digits), unit = digits == std::string::npos ? "" : t.substr(digits);
  if (num.empty()) return false;
  char* end = nullptr;
  double value = std::strtod(num.c_str(), &end);
  if (end == nullptr || *end != '\0' || value < 0) return false;
  static const std::pair<std::string_view, double> kUnits[] = {
      {"", 1},           {"bps", 1},       {"kbps", 1e3},     {"mbps", 1e6},
      {"gbps", 1e9},     {"bit", 1.0 / 8}, {"kbit", 1e3 / 8}, {"mbit", 1e6 / 8},
      {"gbit", 1e9 / 8}, {"k", 1e3 / 8},   {"m", 1e6 / 8},    {"g", 1e9 / 8}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      double bytes = value * factor;
      if (bytes > 1e15) return false;
      *bytes_per_second = static_cast<int64_t>(bytes);
      // A tiny non-zero rate would stall the channel: at least one byte a second.
      if (value > 0 && *bytes_per_second == 0) *bytes_per_second = 1;
      return true;
    }
  }
  return false;
}

std::string FormatMemory(int64_t bytes) {
  constexpr int64_t kGb = 1024LL * 1024 * 1024, kMb = 1024 * 1024, kKb = 1024;
  if (bytes != 0 && bytes % kGb == 0) return std::to_string(bytes / kGb) + "gb";
  if (bytes != 0 && bytes % kMb == 0) return std::to_string(bytes / kMb) + "mb";
  if (bytes != 0 && bytes % kKb == 0) return std::to_string(bytes / kKb) + "kb";
  return std::to_string(bytes);
}

const std::vector<Directive>& Directives() {
  static const std::vector<Directive> kTable = BuildTable();
  return kTable;
}

const Directive* FindDirective(std::string_view name) {
  static const auto* kIndex = [] {
    auto* m = new std::unordered_map<std::string, const Directive*>();
    for (const auto& d : Directives()) {
      (*m)[std::string(d.name)] = &d;
      if (!d.alias.empty()) (*m)[std::string(d.alias)] = &d;
    }
    return m;
  }();
  auto it = kIndex->find(base::ToLower(name));
  return it == kIndex->end() ? nullptr : it->second;
}

Status SetDirective(Values& v, const Directive& d, const std::vector<std::string>& args,
                    LoadState* load) {
  if (d.kind == Kind::kSpecial) return d.set(v, args, load);
  if (d.kind == Kind::kEnum) return SetEnum(v, d, args);
  if (args.size() != 1) return Status::InvalidArgument("wrong number of arguments");
  const std::string& s = args[0];
  std::string key(d.name);
  switch (d.kind) {
    case Kind::kBool: {
      bool b;
      if (base::EqualsNoCase(s, "yes")) {
        b = true;
      } else if (base::EqualsNoCase(s, "no")) {
        b = false;
      } else {
        return Status::InvalidArgument("argument must be 'yes' or 'no'");
      }
      if (auto p = std::get_if<bool Values::*>(&d.field)) {
        v.** p = b;
      } else {
        v.other[key] = b ? "yes" : "no";
      }
      return Status::Ok();
    }
    case Kind::kInt:
    case Kind::kMemory: {
      int64_t x;
      Status st = ParseNumber(d, s, &x);
      if (!st.ok()) return st;
      st = CheckBounds(d, x);
      if (!st.ok()) return st;
      if (d.name == "hz") x = std::clamp<int64_t>(x, 1, 500);  // as Redis's CONFIG_MIN/MAX_HZ
      if (auto p = std::get_if<int Values::*>(&d.field)) {
        v.** p = static_cast<int>(std::min<int64_t>(x, kIntMax));
      } else if (auto q = std::get_if<int64_t Values::*>(&d.field)) {
        v.** q = x;
      } else {
        v.other[key] = FormatNumber(d, x);
      }
      return Status::Ok();
    }
    case Kind::kString: {
      Status st = ValidateString(d, s);
      if (!st.ok()) return st;
      if (d.name == "dir") return SetDir(v, args, load);
      if (auto p = std::get_if<std::string Values::*>(&d.field)) {
        v.** p = s;
      } else {
        v.other[key] = s;
      }
      return Status::Ok();
    }
    default:
      return Status::InvalidArgument("unsupported directive type");
  }
}

std::string GetDirective(const Values& v, const Directive& d) {
  switch (d.kind) {
    case Kind::kSpecial:
      return d.get(v);
    case Kind::kBool:
      if (auto p = std::get_if<bool Values::*>(&d.field)) return v.**p ? "yes" : "no";
      return OtherValue(v, d);
    case Kind::kInt:
    case Kind::kMemory:
      return FormatNumber(d, ReadNumber(v, d));
    case Kind::kEnum:
    case Kind::kString:
      if (d.name == "dir") return GetDir(v);
      if (auto p = std::get_if<std::string Values::*>(&d.field)) return v.**p;
      return OtherValue(v, d);
  }
  return std::string();
}

std::vector<std::string> RewriteLines(const Values& v, const Directive& d) {
  std::string name(d.name);
  if (d.rewrite != nullptr) return d.rewrite(v);
  switch (d.kind) {
    case Kind::kMemory: {
      int64_t x = ReadNumber(v, d);
      return {name + " " + (x < 0 ? FormatNumber(d, x) : FormatMemory(x))};
    }
    case Kind::kString:
      if (d.name == "dir") return RewriteDir(v);
      return {name + " " + ReprArg(GetDirective(v, d))};
    default:
      return {name + " " + GetDirective(v, d)};
  }
}

std::string QuoteArg(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 127 || c == '"' || c == '\'' || c == '\\') plain = false;
  }
  return plain ? std::string(s) : ReprArg(s);
}

std::string ReprArg(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default:
        if (u < 32 || u >= 127) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace cairn::config
