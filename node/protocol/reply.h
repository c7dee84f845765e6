// Reply: writes RESP2 or RESP3 replies into an output buffer, choosing the wire form
// per protocol version exactly as Redis 7.0 does (a RESP3 map is a flat array in
// RESP2, a double is a bulk string, a null is $-1 or *-1 ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cairn::protocol {

class Reply {
 public:
  explicit Reply(std::string* buf, int proto = 2) : buf_(buf), proto_(proto) {}

  int proto() const { return proto_; }
  void set_proto(int v) { proto_ = v; }
  std::string* buffer() { return buf_; }
  void set_buffer(std::string* buf) { buf_ = buf; }
  // Number of error replies written so far (INFO total_error_replies).
  uint64_t errors() const { return errors_; }
  std::string_view last_error() const { return last_error_; }

  void Ok() { Raw("+OK\r\n"); }
  void Simple(std::string_view s);
  // An error. Without a leading '-' the message is prefixed "-ERR ". CR/LF in the
  // message become spaces so user input cannot break the protocol.
  void Error(std::string_view msg);
  void ErrorFormat(std::string_view fmt, std::string_view arg);  // one "%s"
  void Int(int64_t v);
  void Bulk(std::string_view s);
  void BulkInt(int64_t v);
  void BulkDouble(double d);  // bulk "%.17g" (RESP2 and RESP3): where Redis uses a string
  void Null();                // $-1 / _
  void NullArray();           // *-1 / _
  void Array(size_t n);
  void Map(size_t pairs);                                           // %n / *2n
  void Set(size_t n);                                               // ~n / *n
  void Push(size_t n);                                              // >n / *n
  void Double(double d);                                            // ,d / bulk "%.17g"
  void Bool(bool b);                                                // #t / :1
  void Verbatim(std::string_view s, std::string_view ext = "txt");  // =len\r\ntxt:s / bulk
  void Raw(std::string_view s) { buf_->append(s); }
  // An array of status lines: the shape of every HELP reply (Redis's addReplyHelp).
  void StatusLines(std::span<const char* const> lines) {
    Array(lines.size());
    for (const char* l : lines) Simple(l);
  }

  // Deferred lengths, for replies whose element count is known only at the end.
  size_t BeginDeferred() { return buf_->size(); }
  void EndDeferredArray(size_t handle, size_t n) { InsertHeader(handle, '*', n); }
  void EndDeferredMap(size_t handle, size_t pairs) {
    if (proto_ >= 3)
      InsertHeader(handle, '%', pairs);
    else
      InsertHeader(handle, '*', pairs * 2);
  }
  void EndDeferredSet(size_t handle, size_t n) { InsertHeader(handle, proto_ >= 3 ? '~' : '*', n); }

 private:
  void Header(char c, int64_t n);
  void InsertHeader(size_t at, char c, size_t n);

  std::string* buf_;
  int proto_;
  uint64_t errors_ = 0;
  std::string last_error_;
};

}  // namespace cairn::protocol
