// Status and Result<T>: how persistence, replication, config and crypto report
// operational errors (a code plus human context), in the LevelDB manner.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

enum class StatusCode {
  kOk,               // success
  kInvalidArgument,  // the caller passed something unusable (bad config value, bad key)
  kNotFound,         // a file or object that should exist does not
  kCorruption,       // bytes on disk or on the wire violate their format
  kIOError,          // the OS refused an operation (errno carried in the message)
  kNotSupported,     // valid input that Cairn deliberately does not handle
  kAborted,          // stopped on purpose (shutdown, peer went away)
  kRefused,          // well-formed, but a policy says no (a backup node refusing a sync)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(StatusCode::kIOError, std::move(msg)); }
  static Status NotSupported(std::string msg) {
    return Status(StatusCode::kNotSupported, std::move(msg));
  }
  static Status Aborted(std::string msg) { return Status(StatusCode::kAborted, std::move(msg)); }
  static Status Refused(std::string msg) { return Status(StatusCode::kRefused, std::move(msg)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return msg_; }
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string msg_;
};

// The one place errno becomes a Status: "context: strerror(err)".
Status ErrnoStatus(std::string_view context, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cairn
