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

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}

  const char* data_;
  size_t size_;
};

}  // namespace cairn::persist
