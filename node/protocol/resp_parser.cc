// RESP request parser; see resp_parser.h. Limits and messages follow Redis 7.0's
// processMultibulkBuffer/processInlineBuffer.
#include "node/protocol/resp_parser.h"

#include <climits>
#include <cstring>

#include "node/base/number.h"

namespace cairn::protocol {
namespace {

constexpr size_t kInlineMax = 64 * 1024;  // PROTO_INLINE_MAX_SIZE

ParseResult Error(std::string msg) {
  ParseResult r;
  r.status = ParseStatus::kError;
  r.error = std::move(msg);
  return r;
}

ParseResult NeedMore(size_t hint = 0) {
  ParseResult r;
  r.status = ParseStatus::kNeedMore;
  r.needed_hint = hint;
  return r;
}

bool IsHexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

ParseResult ParseInline(const char* data, size_t len, std::vector<std::string_view>* argv,
                        std::string* scratch) {
  const char* nl = static_cast<const char*>(std::memchr(data, '\n', len));
  if (nl == nullptr) {
    if (len > kInlineMax) return Error("Protocol error: too big inline request");
    return NeedMore();
  }
  size_t line_len = nl - data;
  size_t consumed = line_len + 1;
  if (line_len > 0 && data[line_len - 1] == '\r') line_len--;
  std::vector<std::string> words;
  if (!SplitArgs(std::string_view(data, line_len), &words)) {
    return Error("Protocol error: unbalanced quotes in request");
  }
  ParseResult r;
  r.consumed = consumed;
  if (words.empty()) {
    r.status = ParseStatus::kEmpty;
    return r;
  }
  scratch->clear();
  size_t total = 0;
  for (const auto& w : words) total += w.size();
  scratch->reserve(total);
  for (const auto& w : words) scratch->append(w);
  size_t off = 0;
  for (const auto& w : words) {
    argv->emplace_back(scratch->data() + off, w.size());
    off += w.size();
  }
  r.status = ParseStatus::kCommand;
  return r;
}

// Reads a "<prefix><int>\r\n" line starting at data[pos]. Returns false if the
// line is not complete yet; sets *crlf to the position of '\r'.
bool FindLine(const char* data, size_t len, size_t pos, size_t* crlf) {
  const char* cr = static_cast<const char*>(std::memchr(data + pos, '\r', len - pos));
  if (cr == nullptr) return false;
  size_t at = cr - data;
  if (at + 1 >= len) return false;  // the '\n' has not arrived yet
  *crlf = at;
  return true;
}

}  // namespace

ParseResult ParseCommand(const char* data, size_t len, const ParseLimits& limits,
                         std::vector<std::string_view>* argv, std::string* scratch) {
  argv->clear();
  if (len == 0) return NeedMore();
  if (data[0] != '*') return ParseInline(data, len, argv, scratch);

  size_t crlf;
  if (!FindLine(data, len, 0, &crlf)) {
    if (len > kInlineMax) return Error("Protocol error: too big mbulk count string");
    return NeedMore();
  }
  int64_t count;
  if (!base::ParseInt64(std::string_view(data + 1, crlf - 1), &count) || count > INT_MAX) {
    return Error("Protocol error: invalid multibulk length");
  }
  if (count > 10 && !limits.authenticated) {
    return Error("Protocol error: unauthenticated multibulk length");
  }
  size_t pos = crlf + 2;
  if (count <= 0) {
    ParseResult r;
    r.status = ParseStatus::kEmpty;
    r.consumed = pos;
    return r;
  }
  argv->reserve(count < 1024 ? count : 1024);
  for (int64_t i = 0; i < count; i++) {
    if (pos >= len) return NeedMore();
    if (!FindLine(data, len, pos, &crlf)) {
      if (len - pos > kInlineMax) return Error("Protocol error: too big bulk count string");
      return NeedMore();
    }
    if (data[pos] != '$') {
      std::string msg = "Protocol error: expected '$', got '";
      msg += data[pos];
      msg += "'";
      return Error(std::move(msg));
    }
    int64_t blen;
    if (!base::ParseInt64(std::string_view(data + pos + 1, crlf - pos - 1), &blen) || blen < 0 ||
        (!limits.from_master && blen > limits.max_bulk_len)) {
      return Error("Protocol error: invalid bulk length");
    }
    if (blen > 16384 && !limits.authenticated) {
      return Error("Protocol error: unauthenticated bulk length");
    }
    pos = crlf + 2;
    if (len - pos < static_cast<size_t>(blen) + 2) {
      return NeedMore(pos + static_cast<size_t>(blen) + 2);
    }
    // As Redis, the two bytes after the payload are skipped, not checked.
    argv->emplace_back(data + pos, static_cast<size_t>(blen));
    pos += static_cast<size_t>(blen) + 2;
  }
  ParseResult r;
  r.status = ParseStatus::kCommand;
  r.consumed = pos;
  return r;
}

bool SplitArgs(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0, n = line.size();
  while (true) {
    while (i < n && std::isspace(static_cast<unsigned char>(line[i]))) i++;
    if (i >= n) return true;
    bool in_dq = false, in_sq = false, done = false;
    std::string cur;
    while (!done) {
      if (in_dq) {
        if (i >= n) return false;  // unterminated quotes
        char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && IsHexDigit(line[i + 2]) &&
            IsHexDigit(line[i + 3])) {
          cur.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          i++;
          switch (line[i]) {
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case 'b':
              c = '\b';
              break;
            case 'a':
              c = '\a';
              break;
            default:
              c = line[i];
          }
          cur.push_back(c);
        } else if (c == '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !std::isspace(static_cast<unsigned char>(line[i + 1]))) return false;
          done = true;
        } else {
          cur.push_back(c);
        }
      } else if (in_sq) {
        if (i >= n) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          i++;
          cur.push_back('\'');
        } else if (c == '\'') {
          if (i + 1 < n && !std::isspace(static_cast<unsigned char>(line[i + 1]))) return false;
          done = true;
        } else {
          cur.push_back(c);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        char c = line[i];
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_dq = true;
            break;
          case '\'':
            in_sq = true;
            break;
          default:
            cur.push_back(c);
        }
      }
      if (i < n) i++;
    }
    out->push_back(std::move(cur));
  }
}

}  // namespace cairn::protocol
