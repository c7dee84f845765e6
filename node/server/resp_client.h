// A small blocking RESP client for the command-line tools (`cairn snapshot`, `cairn
// promote`): connect to a running node by TCP or unix socket, AUTH, send one command
// as an argument vector and get the reply back as a tree. Built on hiredis, so it
// behaves as redis-cli does (same connection and error texts).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "node/base/status.h"

struct redisContext;

namespace cairn::server {

struct ConnectOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string socket;    // a unix socket path; used instead of host:port when set
  std::string user;      // AUTH user pass when set, AUTH pass otherwise
  std::string password;  // no AUTH when empty
  int connect_timeout_ms = 10000;
  int command_timeout_ms = 0;  // 0: wait for a reply as long as it takes (as redis-cli)
};

// One reply. A top-level error reply comes back as a Status instead; kError only
// appears nested (inside an array).
struct RespReply {
  enum class Type {
    kString,   // bulk string
    kStatus,   // simple string (+OK)
    kInteger,  // :123
    kNil,      // null bulk or null array
    kArray,    // elements (RESP2 also sends maps this way: key, value, key, value ...)
    kError,    // a nested -ERR (text in str)
  };
  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<RespReply> elements;

  bool IsText() const { return type == Type::kString || type == Type::kStatus; }
};

class RespClient {
 public:
  // Connects and authenticates. Errors read "could not connect to HOST:PORT: why";
  // an AUTH refusal is the server's text (WRONGPASS ...) after "HOST:PORT: ".
  static Result<std::unique_ptr<RespClient>> Connect(const ConnectOptions& options);
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  // Sends `argv` and waits for the reply. A server error reply is a kRefused Status
  // carrying the server's text unchanged (NOAUTH ..., ERR ...); a broken connection
  // or timeout is a kIOError Status naming the endpoint.
  Result<RespReply> Command(const std::vector<std::string>& argv);

  // "127.0.0.1:6379" or the socket path, for messages.
  const std::string& endpoint() const { return endpoint_; }

 private:
  RespClient(redisContext* ctx, std::string endpoint) : ctx_(ctx), endpoint_(std::move(endpoint)) {}

  redisContext* ctx_;
  std::string endpoint_;
};

}  // namespace cairn::server
