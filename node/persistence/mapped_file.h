// MappedFile: a whole file mapped read-only for one forward scan (RDB and AOF
// loading). The kernel pages it in as the reader advances; nothing is copied
// onto the heap.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "node/base/status.h"

namespace cairn::persist {

class MappedFile {
 public:
  // Errors read "can't open|stat|map '<path>': <reason>".
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // The bytes (empty for an empty file); valid while this object lives.
  std::string_view view() const { return {data_ ? data_ : "", size_}; }
  // The scan passed `upto`: the pages before it leave memory (they would be
  // read again from the file if touched), so a load's RSS does not grow by
  // the file's size on top of the dataset it builds.
  void Release(size_t upto);

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}

  const char* data_;
  size_t size_;
  size_t released_ = 0;
};

}  // namespace cairn::persist
