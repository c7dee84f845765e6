// AOF command encoding and the strict reader (see aof_format.h).
#include "node/persistence/aof_format.h"

#include "node/base/number.h"

namespace cairn::persist {

namespace {

void AppendArg(std::string* out, std::string_view a) {
  *out += '$';
  *out += std::to_string(a.size());
  *out += "\r\n";
  out->append(a.data(), a.size());
  *out += "\r\n";
}

// Redis's limits for the fake AOF client: bulk lengths beyond 512 MB and
// absurd argument counts are corruption, not data.
constexpr int64_t kMaxBulk = 512LL * 1024 * 1024;
constexpr int64_t kMaxArgs = 1024LL * 1024 * 1024;

}  // namespace

void AppendAofCommand(std::string* out, const std::vector<std::string>& argv) {
  *out += '*';
  *out += std::to_string(argv.size());
  *out += "\r\n";
  for (const auto& a : argv) AppendArg(out, a);
}

void AppendAofCommand(std::string* out, std::initializer_list<std::string_view> argv) {
  *out += '*';
  *out += std::to_string(argv.size());
  *out += "\r\n";
  for (auto a : argv) AppendArg(out, a);
}

bool AofCommandReader::Line(size_t* pos, std::string_view* line) const {
  size_t nl = d_.find('\n', *pos);
  if (nl == std::string_view::npos) return false;
  size_t end = nl > *pos && d_[nl - 1] == '\r' ? nl - 1 : nl;
  *line = d_.substr(*pos, end - *pos);
  *pos = nl + 1;
  return true;
}

AofCommandReader::Next AofCommandReader::Fail(size_t at, const std::string& what) {
  error_ = what + " at offset " + std::to_string(at);
  return Next::kCorrupt;
}

AofCommandReader::Next AofCommandReader::Read(std::vector<std::string_view>* argv) {
  argv->clear();
  size_t pos = good_;
  // Annotations ("#TS:..." lines) between commands.
  while (pos < d_.size() && d_[pos] == '#') {
    std::string_view skip;
    if (!Line(&pos, &skip)) return Next::kTruncated;
    good_ = pos;
  }
  if (pos >= d_.size()) return Next::kEnd;
  const size_t start = pos;
  if (d_[pos] != '*') return Fail(pos, "expected '*' (a command)");
  std::string_view line;
  if (!Line(&pos, &line)) return Next::kTruncated;
  int64_t argc;
  if (!base::ParseInt64(line.substr(1), &argc) || argc < 1 || argc > kMaxArgs)
    return Fail(start, "invalid argument count");
  // Every argument needs at least "$0\r\n\r\n"; more than the bytes left can
  // hold means the file was cut short.
  if (static_cast<uint64_t>(argc) > (d_.size() - pos) / 6 + 1) return Next::kTruncated;
  argv->reserve(static_cast<size_t>(argc));
  for (int64_t i = 0; i < argc; i++) {
    if (pos >= d_.size()) return Next::kTruncated;
    size_t at = pos;
    if (d_[pos] != '$') return Fail(at, "expected '$' (an argument)");
    if (!Line(&pos, &line)) return Next::kTruncated;
    int64_t len;
    if (!base::ParseInt64(line.substr(1), &len) || len < 0 || len > kMaxBulk)
      return Fail(at, "invalid bulk length");
    if (d_.size() - pos < static_cast<uint64_t>(len) + 2) return Next::kTruncated;
    if (d_[pos + len] != '\r' || d_[pos + len + 1] != '\n')
      return Fail(pos + len, "argument not followed by CRLF");
    argv->push_back(d_.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len) + 2;
  }
  good_ = pos;
  return Next::kCommand;
}

}  // namespace cairn::persist
