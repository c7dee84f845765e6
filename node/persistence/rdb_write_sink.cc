// FileSink: buffered writes to a temp file that replaces the target only once
// everything reached the disk (see rdb_write_sink.h).
#include "node/persistence/rdb_write_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <utility>

namespace cairn::persist {
namespace {

constexpr size_t kBufferSize = 64 * 1024;

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  std::string temp = TempPathFor(path, getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open " + temp, errno);
  return std::unique_ptr<FileSink>(new FileSink(path, std::move(temp), fd));
}

std::string FileSink::TempPathFor(const std::string& path, pid_t pid) {
  return DirOf(path) + "/temp-" + BaseOf(path) + "-" + std::to_string(pid) + ".rdb";
}

pid_t FileSink::TempFileWriter(const std::string& file_name) {
  constexpr std::string_view kHead = "temp-", kTail = ".rdb";
  const std::string_view n = file_name;
  if (n.size() <= kHead.size() + kTail.size() || n.substr(0, kHead.size()) != kHead ||
      n.substr(n.size() - kTail.size()) != kTail)
    return -1;
  const size_t end = n.size() - kTail.size();
  const size_t dash = n.rfind('-', end);
  if (dash == std::string_view::npos || dash < kHead.size() || dash + 1 >= end) return -1;
  pid_t pid = 0;
  for (size_t i = dash + 1; i < end; i++) {
    if (n[i] < '0' || n[i] > '9' || pid > 100000000) return -1;
    pid = pid * 10 + (n[i] - '0');
  }
  return pid;
}

FileSink::FileSink(std::string path, std::string temp_path, int fd)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {
  buf_.reserve(kBufferSize);
}

FileSink::~FileSink() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(temp_path_.c_str());
}

Status FileSink::Write(const void* data, size_t len) {
  if (fd_ < 0) return Status::Aborted("write after the file sink was closed");
  if (buf_.size() + len > kBufferSize) {
    Status s = Flush();
    if (!s.ok()) return s;
  }
  if (len >= kBufferSize) {
    buf_.assign(static_cast<const char*>(data), len);
    return Flush();
  }
  buf_.append(static_cast<const char*>(data), len);
  return Status::Ok();
}

Status FileSink::Flush() {
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + temp_path_, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buf_.clear();
  return Status::Ok();
}

Status FileSink::Sync() {
  if (fd_ < 0) return Status::Aborted("file sink already closed");
  if (Status s = Flush(); !s.ok()) return s;
  if (fsync(fd_) != 0) return ErrnoStatus("fsync " + temp_path_, errno);
  return Status::Ok();
}

Status FileSink::Commit() {
  if (Status s = Sync(); !s.ok()) return s;
  int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return ErrnoStatus("close " + temp_path_, errno);
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return ErrnoStatus("rename " + temp_path_ + " to " + path_, errno);
  }
  committed_ = true;
  return FsyncDirOf(path_);
}

Status FsyncDirOf(const std::string& path) {
  std::string dir = DirOf(path);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open dir " + dir, errno);
  int rc = fsync(dfd);
  int err = errno;
  close(dfd);
  if (rc != 0) return ErrnoStatus("fsync dir " + dir, err);
  return Status::Ok();
}

}  // namespace cairn::persist
