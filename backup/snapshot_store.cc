// The snapshot directory; see snapshot_store.h.
#include "backup/snapshot_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>

#include "node/base/number.h"
#include "node/persistence/rdb_reader.h"
#include "node/persistence/rdb_write_sink.h"

namespace cairn::backup {
namespace {

constexpr const char* kRdbSuffix = ".rdb";
constexpr const char* kMetaSuffix = ".meta";

bool ReadWhole(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string SnapshotName(const std::string& prefix, int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return prefix + "-" + buf + kRdbSuffix;
}

std::optional<int64_t> ParseSnapshotName(const std::string& prefix, const std::string& name) {
  // prefix-YYYYMMDDTHHMMSSZ.rdb
  const size_t stamp_len = 16;
  if (name.size() != prefix.size() + 1 + stamp_len + 4 ||
      name.compare(0, prefix.size(), prefix) != 0 || name[prefix.size()] != '-' ||
      name.compare(name.size() - 4, 4, kRdbSuffix) != 0) {
    return std::nullopt;
  }
  std::string s = name.substr(prefix.size() + 1, stamp_len);
  if (s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(6, 2));
  tm.tm_hour = std::stoi(s.substr(9, 2));
  tm.tm_min = std::stoi(s.substr(11, 2));
  tm.tm_sec = std::stoi(s.substr(13, 2));
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  int64_t t = static_cast<int64_t>(timegm(&tm));
  // Round trip: refuses dates that do not exist (2026-02-30).
  if (SnapshotName(prefix, t) != name) return std::nullopt;
  return t;
}

std::string ManifestText(const SnapshotMeta& m) {
  std::string out = "# Cairn snapshot manifest\n";
  auto line = [&out](const char* k, const std::string& v) {
    out += std::string(k) + ": " + v + "\n";
  };
  line("name", m.name);
  line("time", std::to_string(m.unix_seconds));
  line("kind", m.kind);
  line("size", std::to_string(m.size));
  line("checksum", m.checksum);
  line("repl-id", m.repl_id);
  line("repl-offset", std::to_string(m.repl_offset));
  line("master", m.master);
  line("keys", std::to_string(m.keys));
  line("verified", m.verified ? "yes" : "no");
  line("verify-error", m.verify_error);
  line("verified-at", std::to_string(m.verified_unix_seconds));
  return out;
}

Result<SnapshotMeta> ParseManifest(const std::string& text) {
  SnapshotMeta m;
  std::istringstream in(text);
  std::string l;
  int n = 0;
  while (std::getline(in, l)) {
    ++n;
    if (l.empty() || l[0] == '#') continue;
    size_t colon = l.find(": ");
    std::string k = colon == std::string::npos ? l : l.substr(0, colon);
    std::string v = colon == std::string::npos ? "" : l.substr(colon + 2);
    if (!v.empty() && v.back() == ':') v.clear();
    if (colon == std::string::npos && !k.empty() && k.back() == ':') k.pop_back();
    auto num = [&](int64_t* out) {
      if (!base::ParseInt64(v, out)) {
        return Status::Corruption("manifest line " + std::to_string(n) + ": '" + v +
                                  "' is not a number");
      }
      return Status::Ok();
    };
    int64_t x = 0;
    Status st;
    if (k == "name") {
      m.name = v;
    } else if (k == "time") {
      st = num(&m.unix_seconds);
    } else if (k == "kind") {
      m.kind = v;
    } else if (k == "size") {
      st = num(&x);
      m.size = static_cast<uint64_t>(x);
    } else if (k == "checksum") {
      m.checksum = v;
    } else if (k == "repl-id") {
      m.repl_id = v;
    } else if (k == "repl-offset") {
      st = num(&m.repl_offset);
    } else if (k == "master") {
      m.master = v;
    } else if (k == "keys") {
      st = num(&x);
      m.keys = static_cast<uint64_t>(x);
    } else if (k == "verified") {
      m.verified = v == "yes";
    } else if (k == "verify-error") {
      m.verify_error = v;
    } else if (k == "verified-at") {
      st = num(&m.verified_unix_seconds);
    }  // unknown keys: a newer version's, ignored
    if (!st.ok()) return st;
  }
  if (m.name.empty()) return Status::Corruption("manifest has no name");
  return m;
}

Result<std::vector<SnapshotMeta>> ListSnapshots(const std::string& dir, const std::string& prefix) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("snapshot directory " + dir, errno);
  std::vector<SnapshotMeta> out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    auto t = ParseSnapshotName(prefix, name);
    if (!t) continue;
    SnapshotMeta m;
    std::string text;
    if (ReadWhole(dir + "/" + name + kMetaSuffix, &text)) {
      auto parsed = ParseManifest(text);
      if (parsed.ok() && parsed->name == name) {
        m = *parsed;
      } else {
        m.verify_error = "unreadable manifest";
      }
    }
    m.name = name;
    m.unix_seconds = *t;
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) == 0) {
      // A file that changed size since it was verified is not the verified file.
      if (m.verified && m.size != static_cast<uint64_t>(st.st_size)) {
        m.verified = false;
        m.verify_error = "size differs from the manifest";
      }
      m.size = static_cast<uint64_t>(st.st_size);
    }
    out.push_back(std::move(m));
  }
  closedir(d);
  std::sort(out.begin(), out.end(),
            [](const SnapshotMeta& a, const SnapshotMeta& b) { return a.name < b.name; });
  return out;
}

const SnapshotMeta* FindSnapshot(const std::vector<SnapshotMeta>& list, const std::string& name) {
  if (name == "latest") {
    auto newest =
        std::find_if(list.rbegin(), list.rend(), [](const SnapshotMeta& m) { return m.verified; });
    return newest == list.rend() ? nullptr : &*newest;
  }
  auto it =
      std::find_if(list.begin(), list.end(), [&](const SnapshotMeta& m) { return m.name == name; });
  return it == list.end() ? nullptr : &*it;
}

SnapshotMeta VerifySnapshotFile(const std::string& path, SnapshotMeta meta) {
  std::vector<std::unique_ptr<store::Db>> dbs;
  persist::RdbLoadOptions opts;
  opts.keep_expired = true;  // a snapshot's keys as they were, not as of now
  opts.databases = 16;
  opts.discard_keys = true;  // memory stays at one value, whatever the file's size
  persist::RdbLoadInfo info;
  Status st = persist::LoadRdbFile(path, dbs, opts, &info);
  meta.verified_unix_seconds = static_cast<int64_t>(std::time(nullptr));
  struct stat sb;
  if (stat(path.c_str(), &sb) == 0) meta.size = static_cast<uint64_t>(sb.st_size);
  if (!st.ok()) {
    meta.verified = false;
    meta.verify_error = st.message();
    return meta;
  }
  meta.verified = true;
  meta.verify_error.clear();
  meta.keys = info.keys_loaded;
  if (auto it = info.aux.find("repl-id"); it != info.aux.end()) meta.repl_id = it->second;
  if (auto it = info.aux.find("repl-offset"); it != info.aux.end()) {
    base::ParseInt64(it->second, &meta.repl_offset);
  }
  meta.checksum.clear();
  if (info.checksum_verified) {
    std::ifstream f(path, std::ios::binary);
    f.seekg(-8, std::ios::end);
    uint64_t crc = 0;
    unsigned char b[8];
    if (f.read(reinterpret_cast<char*>(b), 8)) {
      for (int i = 7; i >= 0; --i) crc = crc << 8 | b[i];
      meta.checksum = Hex64(crc);
    }
  }
  return meta;
}

Status WriteManifest(const std::string& dir, const SnapshotMeta& meta) {
  auto sink = persist::FileSink::Create(dir + "/" + meta.name + kMetaSuffix);
  if (!sink.ok()) return sink.status();
  std::string text = ManifestText(meta);
  if (Status st = (*sink)->Write(text.data(), text.size()); !st.ok()) return st;
  return (*sink)->Commit();
}

Result<std::vector<RetentionDecision>> PruneSnapshots(const std::string& dir,
                                                      const std::string& prefix,
                                                      const RetentionPolicy& policy, bool dry_run,
                                                      const std::set<std::string>& protect) {
  auto list = ListSnapshots(dir, prefix);
  if (!list.ok()) return list.status();
  std::vector<SnapshotRef> refs;
  for (const auto& m : *list) refs.push_back({m.name, m.unix_seconds, m.verified});
  auto decisions = ApplyPolicy(refs, policy, protect);
  if (dry_run) return decisions;
  bool removed = false;
  for (const auto& d : decisions) {
    if (d.keep) continue;
    std::string path = dir + "/" + d.snapshot.name;
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("removing " + path, errno);
    unlink((path + kMetaSuffix).c_str());
    removed = true;
  }
  if (removed) {
    if (Status st = persist::FsyncDirOf(dir + "/x"); !st.ok()) return st;
  }
  return decisions;
}

}  // namespace cairn::backup
