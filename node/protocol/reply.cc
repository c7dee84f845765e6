// Reply writer; see reply.h.
#include "node/protocol/reply.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "node/base/number.h"

namespace cairn::protocol {

void Reply::Header(char c, int64_t n) {
  char tmp[32];
  tmp[0] = c;
  size_t len = 1 + base::FormatInt64(tmp + 1, n);
  tmp[len++] = '\r';
  tmp[len++] = '\n';
  buf_->append(tmp, len);
}

void Reply::InsertHeader(size_t at, char c, size_t n) {
  char tmp[32];
  tmp[0] = c;
  size_t len = 1 + base::FormatInt64(tmp + 1, static_cast<int64_t>(n));
  tmp[len++] = '\r';
  tmp[len++] = '\n';
  buf_->insert(at, tmp, len);
}

void Reply::Simple(std::string_view s) {
  buf_->push_back('+');
  buf_->append(s);
  buf_->append("\r\n");
}

void Reply::Error(std::string_view msg) {
  errors_++;
  size_t start = buf_->size();
  if (msg.empty() || msg[0] != '-') buf_->append("-ERR ");
  size_t body = buf_->size();
  buf_->append(msg);
  for (size_t i = body; i < buf_->size(); i++) {
    if ((*buf_)[i] == '\r' || (*buf_)[i] == '\n') (*buf_)[i] = ' ';
  }
  last_error_.assign(buf_->data() + start + 1, buf_->size() - start - 1);
  buf_->append("\r\n");
}

void Reply::ErrorFormat(std::string_view fmt, std::string_view arg) {
  std::string msg;
  size_t p = fmt.find("%s");
  if (p == std::string_view::npos) {
    msg.assign(fmt);
  } else {
    msg.assign(fmt.substr(0, p));
    msg.append(arg);
    msg.append(fmt.substr(p + 2));
  }
  Error(msg);
}

void Reply::Int(int64_t v) { Header(':', v); }

void Reply::Bulk(std::string_view s) {
  // Short values (most replies) are framed on the stack and appended once.
  char tmp[256];
  if (s.size() <= sizeof(tmp) - 32) {
    size_t len = 0;
    tmp[len++] = '$';
    len += base::FormatInt64(tmp + len, static_cast<int64_t>(s.size()));
    tmp[len++] = '\r';
    tmp[len++] = '\n';
    std::memcpy(tmp + len, s.data(), s.size());
    len += s.size();
    tmp[len++] = '\r';
    tmp[len++] = '\n';
    buf_->append(tmp, len);
    return;
  }
  Header('$', static_cast<int64_t>(s.size()));
  buf_->append(s);
  buf_->append("\r\n");
}

void Reply::BulkInt(int64_t v) {
  char tmp[24];
  size_t n = base::FormatInt64(tmp, v);
  Bulk(std::string_view(tmp, n));
}

void Reply::BulkDouble(double d) { Bulk(base::FormatDouble(d)); }

void Reply::Null() { Raw(proto_ >= 3 ? "_\r\n" : "$-1\r\n"); }
void Reply::NullArray() { Raw(proto_ >= 3 ? "_\r\n" : "*-1\r\n"); }
void Reply::Array(size_t n) { Header('*', static_cast<int64_t>(n)); }

void Reply::Map(size_t pairs) {
  if (proto_ >= 3)
    Header('%', static_cast<int64_t>(pairs));
  else
    Header('*', static_cast<int64_t>(pairs * 2));
}

void Reply::Set(size_t n) { Header(proto_ >= 3 ? '~' : '*', static_cast<int64_t>(n)); }
void Reply::Push(size_t n) { Header(proto_ >= 3 ? '>' : '*', static_cast<int64_t>(n)); }

void Reply::Double(double d) {
  if (proto_ >= 3) {
    buf_->push_back(',');
    buf_->append(base::FormatDouble(d));
    buf_->append("\r\n");
  } else {
    Bulk(base::FormatDouble(d));
  }
}

void Reply::Bool(bool b) {
  if (proto_ >= 3)
    Raw(b ? "#t\r\n" : "#f\r\n");
  else
    Raw(b ? ":1\r\n" : ":0\r\n");
}

void Reply::Verbatim(std::string_view s, std::string_view ext) {
  if (proto_ >= 3) {
    Header('=', static_cast<int64_t>(s.size() + 4));
    buf_->append(ext.substr(0, 3));
    buf_->push_back(':');
    buf_->append(s);
    buf_->append("\r\n");
  } else {
    Bulk(s);
  }
}

}  // namespace cairn::protocol
