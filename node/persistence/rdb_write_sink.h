// Where an RDB byte stream goes: the RdbSink interface, an in-memory sink and a
// FileSink that replaces a file atomically (temp file, fsync, rename, fsync dir).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "node/base/status.h"

namespace cairn::persist {

// A byte consumer. Write either takes all `len` bytes or fails.
class RdbSink {
 public:
  virtual ~RdbSink() = default;
  virtual Status Write(const void* data, size_t len) = 0;
};

// Collects the stream in memory (replication buffers, tests).
class StringSink : public RdbSink {
 public:
  Status Write(const void* data, size_t len) override {
    buf_.append(static_cast<const char*>(data), len);
    return Status::Ok();
  }
  const std::string& data() const { return buf_; }
  std::string& data() { return buf_; }

 private:
  std::string buf_;
};

// Writes to "<dir>/temp-<name>-<pid>.rdb" next to `path`; Commit() flushes,
// fsyncs, renames it over `path` and fsyncs the directory. Destroying an
// uncommitted sink removes the temp file, so `path` keeps its old content
// whenever anything fails.
class FileSink : public RdbSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path);
  // The temp file a process `pid` writes while replacing `path` (a parent
  // removes a killed child's leftover with it).
  static std::string TempPathFor(const std::string& path, pid_t pid);
  // The pid in a temp file's name ("temp-<name>-<pid>.rdb", no directory), or -1
  // when `file_name` is not one.
  static pid_t TempFileWriter(const std::string& file_name);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  Status Write(const void* data, size_t len) override;
  // Flushes and fsyncs the temp file without renaming it (to read it back
  // before Commit).
  Status Sync();
  Status Commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  FileSink(std::string path, std::string temp_path, int fd);
  Status Flush();

  std::string path_;
  std::string temp_path_;
  int fd_;
  bool committed_ = false;
  std::string buf_;
};

// fsync of the directory holding `path`, so a rename or create in it is durable.
Status FsyncDirOf(const std::string& path);

}  // namespace cairn::persist
