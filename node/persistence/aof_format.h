// The AOF's command format: RESP multibulk arrays ("*<n>\r\n$<len>\r\n<arg>\r\n
// ..."), with Redis's "#..." annotation lines (aof-timestamp-enabled) skipped on
// read. The reader tells a file cut short (the last command incomplete: what
// aof-load-truncated forgives) from bytes that are not a command at all.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::persist {

// Appends one command in AOF/RESP form.
void AppendAofCommand(std::string* out, const std::vector<std::string>& argv);
void AppendAofCommand(std::string* out, std::initializer_list<std::string_view> argv);

class AofCommandReader {
 public:
  enum class Next { kCommand, kEnd, kTruncated, kCorrupt };

  explicit AofCommandReader(std::string_view data) : d_(data) {}
  // Reads the next command into *argv (views into the data).
  Next Read(std::vector<std::string_view>* argv);
  // Where the next command starts: after a kTruncated/kCorrupt result, the end
  // of the last complete command.
  size_t offset() const { return good_; }
  // For kCorrupt: what is wrong and at which byte.
  const std::string& error() const { return error_; }

 private:
  bool Line(size_t* pos, std::string_view* line) const;
  Next Fail(size_t at, const std::string& what);

  std::string_view d_;
  size_t good_ = 0;
  std::string error_;
};

}  // namespace cairn::persist
