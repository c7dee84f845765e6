// ReplBacklog: the last repl-backlog-size bytes of the replication stream, so a
// replica that lost its link can continue from its offset (PSYNC +CONTINUE)
// instead of a full resynchronization.
//
// DESIGN
// - Offsets are Redis's: the stream's first byte has offset 1; end_offset() is
//   master_repl_offset; the backlog holds [first_offset(), end_offset()].
// - A ring buffer that grows on demand up to its capacity, so a 100 MB
//   backlog on a quiet node costs what was written, not 100 MB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::repl {

class ReplBacklog {
 public:
  // An empty backlog whose next byte will have offset end_offset + 1.
  ReplBacklog(size_t capacity, int64_t end_offset);

  void Append(std::string_view data);
  // Bytes from offset `from` (first_offset() <= from <= end_offset() + 1) to
  // the end, appended to *out. Returns false if `from` is out of range.
  bool CopyFrom(int64_t from, std::string* out) const;
  // Keeps the newest min(histlen, capacity) bytes.
  void Resize(size_t capacity);

  size_t capacity() const { return cap_; }
  size_t histlen() const { return len_; }
  int64_t end_offset() const { return end_; }
  int64_t first_offset() const { return end_ - static_cast<int64_t>(len_) + 1; }
  size_t memory() const { return buf_.capacity(); }

 private:
  std::string buf_;  // ring once buf_.size() == cap_
  size_t cap_;
  size_t head_ = 0;  // index of the next byte written (when full)
  size_t len_ = 0;
  int64_t end_;
};

}  // namespace cairn::repl
