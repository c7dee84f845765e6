// Replication backlog ring (see backlog.h).
#include "node/replication/backlog.h"

#include <algorithm>

namespace cairn::repl {

ReplBacklog::ReplBacklog(size_t capacity, int64_t end_offset)
    : cap_(std::max<size_t>(capacity, 1)), end_(end_offset) {}

void ReplBacklog::Append(std::string_view data) {
  end_ += static_cast<int64_t>(data.size());
  if (data.size() >= cap_) data = data.substr(data.size() - cap_);
  // Still growing: bytes are linear in buf_[0, size()).
  if (buf_.size() < cap_) {
    size_t take = std::min(data.size(), cap_ - buf_.size());
    buf_.append(data.data(), take);
    len_ = buf_.size();
    data.remove_prefix(take);
    head_ = buf_.size() == cap_ ? 0 : buf_.size();
    if (data.empty()) return;
  }
  while (!data.empty()) {
    size_t take = std::min(data.size(), cap_ - head_);
    buf_.replace(head_, take, data.data(), take);
    head_ = (head_ + take) % cap_;
    data.remove_prefix(take);
  }
  len_ = cap_;
}

bool ReplBacklog::CopyFrom(int64_t from, std::string* out) const {
  if (from < first_offset() || from > end_ + 1) return false;
  size_t skip = static_cast<size_t>(from - first_offset());
  size_t n = len_ - skip;
  // The oldest byte sits at head_ when full, at 0 while growing.
  size_t start = (buf_.size() == cap_ ? head_ : 0) + skip;
  if (buf_.size() == cap_) start %= cap_;
  size_t first = std::min(n, buf_.size() - start);
  out->append(buf_, start, first);
  out->append(buf_, 0, n - first);
  return true;
}

void ReplBacklog::Resize(size_t capacity) {
  capacity = std::max<size_t>(capacity, 1);
  if (capacity == cap_) return;
  std::string keep;
  int64_t from = end_ - static_cast<int64_t>(std::min(len_, capacity)) + 1;
  CopyFrom(from, &keep);
  buf_.clear();
  buf_.shrink_to_fit();
  cap_ = capacity;
  head_ = 0;
  len_ = 0;
  int64_t end = end_;
  end_ -= static_cast<int64_t>(keep.size());
  Append(keep);
  end_ = end;
}

}  // namespace cairn::repl
