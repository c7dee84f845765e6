// Status formatting and errno translation.
#include "node/base/status.h"

#include <cstring>

namespace cairn {

std::string Status::ToString() const {
  switch (code_) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "invalid argument: " + msg_;
    case StatusCode::kNotFound:
      return "not found: " + msg_;
    case StatusCode::kCorruption:
      return "corruption: " + msg_;
    case StatusCode::kIOError:
      return "I/O error: " + msg_;
    case StatusCode::kNotSupported:
      return "not supported: " + msg_;
    case StatusCode::kAborted:
      return "aborted: " + msg_;
    case StatusCode::kRefused:
      return "refused: " + msg_;
  }
  return msg_;
}

Status ErrnoStatus(std::string_view context, int err) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  return Status::IOError(std::move(msg));
}

}  // namespace cairn
