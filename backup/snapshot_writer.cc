// Atomic, verified snapshot files; see snapshot_writer.h.
#include "backup/snapshot_writer.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string_view>

namespace cairn::backup {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// The process that writes a FileSink temp file is alive (not a zombie).
bool WriterAlive(const std::string& temp_name) {
  const pid_t pid = persist::FileSink::TempFileWriter(temp_name);
  if (pid <= 0 || pid == getpid()) return false;
  // A killed writer nobody reaped yet (a zombie) still answers kill(pid, 0): ask
  // /proc for its state instead ("pid (comm) S ...", the state after the last ')').
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

}  // namespace

Result<SnapshotMeta> WriteSnapshot(const std::string& dir, SnapshotMeta meta,
                                   const std::function<Status(persist::RdbSink*)>& write) {
  auto sink = persist::FileSink::Create(dir + "/" + meta.name);
  if (!sink.ok()) return sink.status();
  if (Status st = write(sink->get()); !st.ok()) return st;
  if (Status st = (*sink)->Sync(); !st.ok()) return st;
  meta = VerifySnapshotFile((*sink)->temp_path(), std::move(meta));
  if (!meta.verified)
    return Status::Corruption("the snapshot did not read back: " + meta.verify_error);
  if (Status st = WriteManifest(dir, meta); !st.ok()) return st;
  if (Status st = (*sink)->Commit(); !st.ok()) {
    unlink((dir + "/" + meta.name + ".meta").c_str());
    return st;
  }
  return meta;
}

Result<int> RemoveLeftovers(const std::string& dir, const std::string& prefix) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("snapshot directory " + dir, errno);
  std::vector<std::string> doomed;
  const std::string temp_head = "temp-" + prefix + "-";
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.compare(0, temp_head.size(), temp_head) == 0 && EndsWith(name, ".rdb")) {
      // temp-<name>-<pid>.rdb: a child that outlived its killed node may still be
      // writing it (and will name it when done); only a dead writer's file goes.
      if (!WriterAlive(name)) doomed.push_back(name);
    } else if (EndsWith(name, ".rdb.meta")) {
      std::string rdb = name.substr(0, name.size() - 5);
      if (ParseSnapshotName(prefix, rdb) && !Exists(dir + "/" + rdb)) doomed.push_back(name);
    }
  }
  closedir(d);
  int removed = 0;
  for (const auto& name : doomed) {
    if (unlink((dir + "/" + name).c_str()) == 0) removed++;
  }
  return removed;
}

std::string FreeSnapshotName(const std::string& dir, const std::string& prefix,
                             int64_t unix_seconds) {
  for (int i = 0; i < 3600; i++) {
    std::string name = SnapshotName(prefix, unix_seconds + i);
    if (!Exists(dir + "/" + name)) return name;
  }
  return SnapshotName(prefix, unix_seconds);
}

}  // namespace cairn::backup
