// RespClient over hiredis (see resp_client.h).
#include "node/server/resp_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace cairn::server {
namespace {

timeval Millis(int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

RespReply Convert(const redisReply* r) {
  RespReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RespReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RespReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RespReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RespReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RespReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = RespReply::Type::kNil;
      break;
  }
  return out;
}

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

}  // namespace

Result<std::unique_ptr<RespClient>> RespClient::Connect(const ConnectOptions& o) {
  // hiredis writes with write(2): a node that closes the connection first would kill
  // the tool with SIGPIPE and no message. As redis-cli does, take EPIPE as an error.
  std::signal(SIGPIPE, SIG_IGN);
  const bool unix_socket = !o.socket.empty();
  std::string endpoint = unix_socket ? o.socket : o.host + ":" + std::to_string(o.port);
  if (!unix_socket && (o.port <= 0 || o.port > 65535))
    return Status::InvalidArgument("bad port " + std::to_string(o.port) + " (1-65535)");
  const timeval connect_tv = Millis(o.connect_timeout_ms);
  redisContext* ctx = unix_socket ? redisConnectUnixWithTimeout(o.socket.c_str(), connect_tv)
                                  : redisConnectWithTimeout(o.host.c_str(), o.port, connect_tv);
  if (ctx == nullptr)
    return Status::IOError("could not connect to " + endpoint + ": out of memory");
  if (ctx->err != 0) {
    std::string why = ctx->errstr;
    redisFree(ctx);
    return Status::IOError("could not connect to " + endpoint + ": " + why);
  }
  // The connect timeout also became the socket's read timeout: replace it with the
  // command timeout (0 blocks until the reply comes, as redis-cli does).
  if (redisSetTimeout(ctx, Millis(o.command_timeout_ms)) != REDIS_OK) {
    std::string why = ctx->errstr;
    redisFree(ctx);
    return Status::IOError("could not connect to " + endpoint + ": " + why);
  }
  std::unique_ptr<RespClient> client(new RespClient(ctx, endpoint));
  if (!o.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!o.user.empty()) auth.push_back(o.user);
    auth.push_back(o.password);
    auto r = client->Command(auth);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kRefused)
        return Status::Refused(endpoint + ": " + r.status().message());
      return r.status();
    }
  }
  return client;
}

RespClient::~RespClient() { redisFree(ctx_); }

Result<RespReply> RespClient::Command(const std::vector<std::string>& argv) {
  if (ctx_->err != 0)
    return Status::IOError("connection to " + endpoint_ + " is broken: " + ctx_->errstr);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  errno = 0;
  std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
  if (reply == nullptr) {
    if (ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
      return Status::IOError("no reply from " + endpoint_ + " in time (" + argv[0] + ")");
    if (ctx_->err == REDIS_ERR_EOF)
      return Status::IOError("connection to " + endpoint_ + " closed by the server");
    return Status::IOError("connection to " + endpoint_ + " lost: " + ctx_->errstr);
  }
  if (reply->type == REDIS_REPLY_ERROR) return Status::Refused(std::string(reply->str, reply->len));
  return Convert(reply.get());
}

}  // namespace cairn::server
