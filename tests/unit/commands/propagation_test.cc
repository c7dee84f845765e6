// What each write sends to the AOF and replicas: commands run through the
// real Dispatcher with a capturing PropagationSink, asserting the exact
// (db, argv) ops Redis 7.0 would propagate, including the per-command rewrites
// (EXPIRE -> PEXPIREAT, SET EX -> SET PXAT, SPOP -> SREM, BLPOP -> LPOP ...).
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/base/clock.h"
#include "node/commands/client_state.h"
#include "node/commands/command.h"
#include "node/commands/dispatcher.h"
#include "node/commands/propagate.h"
#include "node/commands/server_state.h"
#include "node/commands/transaction.h"
#include "node/config/config.h"
#include "node/store/db.h"

namespace cmd = cairn::cmd;
namespace base = cairn::base;
namespace store = cairn::store;

namespace {

constexpr int64_t kNow = 1700000000123;  // the frozen wall clock, unix ms

// One fed op as "db|arg0|arg1|...", easy to compare and to read in a failure.
using Ops = std::vector<std::string>;

class CapturingSink : public cmd::PropagationSink {
 public:
  void Feed(int db, const std::vector<std::string>& argv) override {
    std::string op = std::to_string(db);
    for (const auto& a : argv) op += "|" + a;
    ops.push_back(std::move(op));
  }
  Ops ops;
};

class Node {
 public:
  Node() {
    cmd::RegisterAllCommands(table_);
    state_.config = &config_;
    state_.commands = &table_;
    for (int i = 0; i < config_.v().databases; i++)
      state_.dbs.push_back(std::make_unique<store::Db>(i));
    cmd::SetExecDispatcher(&dispatcher_);
    store::Hooks().on_expired = [this](int db, std::string_view key) {
      cmd::PropagateDeletion(state_, db, key, config_.v().lazyfree_lazy_expire);
    };
    state_.propagation_sinks.push_back(&sink_);
    base::SetFakeWallMs(kNow);
    main_ = NewClient();
  }
  ~Node() {
    base::SetFakeWallMs(std::nullopt);
    store::Hooks().on_expired = nullptr;
    cmd::SetExecDispatcher(nullptr);
  }

  cmd::ClientState* NewClient() {
    auto c = std::make_unique<cmd::ClientState>();
    c->id = state_.next_client_id++;
    c->authenticated = true;
    state_.clients[c->id] = c.get();
    clients_.push_back(std::move(c));
    return clients_.back().get();
  }

  // Runs one command for `c` and returns its raw reply bytes.
  std::string Run(cmd::ClientState* c, std::vector<std::string> args) {
    std::vector<std::string_view> argv(args.begin(), args.end());
    dispatcher_.Execute(*c, argv);
    std::string out;
    out.swap(c->out);
    return out;
  }
  std::string Run(std::vector<std::string> args) { return Run(main_, std::move(args)); }

  // Ops fed since the last call.
  Ops Take() {
    Ops out;
    out.swap(sink_.ops);
    return out;
  }

  cmd::ClientState* main() { return main_; }
  cairn::config::Config& config() { return config_; }

 private:
  cairn::config::Config config_;
  cmd::CommandTable table_;
  cmd::ServerState state_;
  cmd::Dispatcher dispatcher_{state_};
  CapturingSink sink_;
  std::vector<std::unique_ptr<cmd::ClientState>> clients_;
  cmd::ClientState* main_ = nullptr;
};

std::string Ms(int64_t v) { return std::to_string(v); }

// Bulk strings of a flat RESP2 array (or a single bulk) reply.
std::vector<std::string> Bulks(const std::string& resp) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = resp.find('$', i)) != std::string::npos) {
    size_t eol = resp.find("\r\n", i);
    long len = std::stol(resp.substr(i + 1, eol - i - 1));
    if (len < 0) {
      i = eol;
      continue;
    }
    out.push_back(resp.substr(eol + 2, static_cast<size_t>(len)));
    i = eol + 2 + static_cast<size_t>(len);
  }
  return out;
}

}  // namespace

TEST_CASE("propagation: reads and no-op writes send nothing, writes their argv", "[propagate]") {
  Node n;
  n.Run({"SET", "k", "v"});
  CHECK(n.Take() == Ops{"0|SET|k|v"});
  n.Run({"GET", "k"});
  n.Run({"EXISTS", "k", "nope"});
  n.Run({"TTL", "k"});
  CHECK(n.Take().empty());
  n.Run({"DEL", "missing"});
  n.Run({"EXPIRE", "missing", "10"});
  n.Run({"SET", "k", "w", "NX"});
  n.Run({"LPOP", "missing"});
  n.Run({"SREM", "missing", "a"});
  n.Run({"GETEX", "k"});
  n.Run({"PERSIST", "k"});
  CHECK(n.Take().empty());
  n.Run({"del", "k", "missing"});
  CHECK(n.Take() == Ops{"0|del|k|missing"});
  n.Run({"SELECT", "3"});
  n.Run({"SETNX", "x", "1"});
  CHECK(n.Take() == Ops{"3|SETNX|x|1"});
}

TEST_CASE("propagation: MULTI/EXEC wraps several writes, a single write goes alone",
          "[propagate]") {
  Node n;
  n.Run({"MULTI"});
  n.Run({"SET", "a", "1"});
  n.Run({"INCR", "a"});
  n.Run({"GET", "a"});
  n.Run({"EXEC"});
  CHECK(n.Take() == Ops{"0|MULTI", "0|SET|a|1", "0|INCR|a", "0|EXEC"});

  n.Run({"MULTI"});
  n.Run({"GET", "a"});
  n.Run({"SET", "b", "2"});
  n.Run({"EXEC"});
  CHECK(n.Take() == Ops{"0|SET|b|2"});

  // Rewrites apply inside a transaction too.
  n.Run({"MULTI"});
  n.Run({"SET", "c", "1"});
  n.Run({"EXPIRE", "c", "10"});
  n.Run({"EXEC"});
  CHECK(n.Take() == Ops{"0|MULTI", "0|SET|c|1", "0|PEXPIREAT|c|" + Ms(kNow + 10000), "0|EXEC"});
}

TEST_CASE("propagation: a lazily expired key goes out as DEL before the write", "[propagate]") {
  Node n;
  n.Run({"SET", "k", "5", "PX", "100"});
  n.Take();
  base::SetFakeWallMs(kNow + 200);
  n.Run({"INCR", "k"});
  CHECK(n.Take() == Ops{"0|MULTI", "0|DEL|k", "0|INCR|k", "0|EXEC"});
}

TEST_CASE("propagation: EXPIRE family becomes PEXPIREAT with an absolute time", "[propagate]") {
  Node n;
  n.Run({"SET", "k", "v"});
  n.Take();
  n.Run({"EXPIRE", "k", "100"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|" + Ms(kNow + 100000)});
  n.Run({"pexpire", "k", "500"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|" + Ms(kNow + 500)});
  n.Run({"EXPIREAT", "k", "1800000000"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|1800000000000"});
  // PEXPIREAT is already absolute: it goes out as typed.
  n.Run({"pexpireat", "k", "1800000000999"});
  CHECK(n.Take() == Ops{"0|pexpireat|k|1800000000999"});
  // Options are kept.
  n.Run({"EXPIRE", "k", "7", "lt"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|" + Ms(kNow + 7000) + "|lt"});
  // A refused condition changes nothing and sends nothing.
  n.Run({"EXPIRE", "k", "9999", "NX"});
  CHECK(n.Take().empty());

  SECTION("a time in the past deletes the key: DEL") {
    n.Run({"EXPIRE", "k", "-1"});
    CHECK(n.Take() == Ops{"0|DEL|k"});
    n.Run({"SET", "k2", "v"});
    n.Take();
    n.Run({"PEXPIREAT", "k2", Ms(kNow)});
    CHECK(n.Take() == Ops{"0|DEL|k2"});
  }
  SECTION("with lazyfree-lazy-expire: UNLINK") {
    REQUIRE(n.config().Set("lazyfree-lazy-expire", "yes").ok());
    n.Run({"EXPIREAT", "k", "1"});
    CHECK(n.Take() == Ops{"0|UNLINK|k"});
  }
}

TEST_CASE("propagation: SET with an expiry becomes SET key value PXAT", "[propagate]") {
  Node n;
  n.Run({"SET", "a", "v", "EX", "10"});
  CHECK(n.Take() == Ops{"0|SET|a|v|PXAT|" + Ms(kNow + 10000)});
  n.Run({"set", "b", "v", "px", "5", "nx"});
  CHECK(n.Take() == Ops{"0|SET|b|v|PXAT|" + Ms(kNow + 5)});
  n.Run({"SET", "a", "w", "XX", "EXAT", "1800000000", "GET"});
  CHECK(n.Take() == Ops{"0|SET|a|w|PXAT|1800000000000"});
  n.Run({"SET", "a", "x", "PXAT", "1800000000001"});
  CHECK(n.Take() == Ops{"0|SET|a|x|PXAT|1800000000001"});
  n.Run({"SETEX", "c", "20", "v"});
  CHECK(n.Take() == Ops{"0|SET|c|v|PXAT|" + Ms(kNow + 20000)});
  n.Run({"PSETEX", "c", "20", "v"});
  CHECK(n.Take() == Ops{"0|SET|c|v|PXAT|" + Ms(kNow + 20)});
  // KEEPTTL and the conditions go out as typed; GET is dropped.
  n.Run({"SET", "a", "y", "KEEPTTL"});
  CHECK(n.Take() == Ops{"0|SET|a|y|KEEPTTL"});
  n.Run({"SET", "a", "get", "get", "XX", "GET"});
  CHECK(n.Take() == Ops{"0|SET|a|get|XX"});
  // SET NX failing (with GET): nothing.
  n.Run({"SET", "a", "z", "NX", "GET", "EX", "5"});
  CHECK(n.Take().empty());
}

TEST_CASE("propagation: GETSET, GETDEL, GETEX", "[propagate]") {
  Node n;
  n.Run({"SET", "k", "v"});
  n.Take();
  n.Run({"getset", "k", "w"});
  CHECK(n.Take() == Ops{"0|SET|k|w"});
  n.Run({"GETEX", "k", "EX", "10"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|" + Ms(kNow + 10000)});
  n.Run({"GETEX", "k", "PX", "10"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|" + Ms(kNow + 10)});
  n.Run({"GETEX", "k", "EXAT", "1800000000"});
  CHECK(n.Take() == Ops{"0|PEXPIREAT|k|1800000000000"});
  n.Run({"GETEX", "k", "PERSIST"});
  CHECK(n.Take() == Ops{"0|PERSIST|k"});
  n.Run({"GETEX", "k", "PERSIST"});  // no TTL left: nothing changed
  CHECK(n.Take().empty());
  n.Run({"GETEX", "k", "PXAT", Ms(kNow - 1)});
  CHECK(n.Take() == Ops{"0|DEL|k"});
  CHECK(n.Run({"EXISTS", "k"}) == ":0\r\n");

  n.Run({"SET", "k", "v"});
  n.Take();
  n.Run({"getdel", "k"});
  CHECK(n.Take() == Ops{"0|DEL|k"});
  n.Run({"GETDEL", "k"});
  CHECK(n.Take().empty());
  REQUIRE(n.config().Set("lazyfree-lazy-user-del", "yes").ok());
  n.Run({"SET", "k", "v"});
  n.Take();
  n.Run({"GETDEL", "k"});
  CHECK(n.Take() == Ops{"0|UNLINK|k"});
}

TEST_CASE("propagation: INCRBYFLOAT and HINCRBYFLOAT send the result", "[propagate]") {
  Node n;
  n.Run({"SET", "f", "10.5"});
  n.Take();
  CHECK(n.Run({"INCRBYFLOAT", "f", "0.1"}) == "$4\r\n10.6\r\n");
  CHECK(n.Take() == Ops{"0|SET|f|10.6|KEEPTTL"});
  n.Run({"INCRBYFLOAT", "g", "3.0e3"});
  CHECK(n.Take() == Ops{"0|SET|g|3000|KEEPTTL"});
  n.Run({"INCRBYFLOAT", "f", "abc"});  // error: nothing
  CHECK(n.Take().empty());
  CHECK(n.Run({"HINCRBYFLOAT", "h", "fld", "10.50"}) == "$4\r\n10.5\r\n");
  CHECK(n.Take() == Ops{"0|HSET|h|fld|10.5"});
  n.Run({"hincrbyfloat", "h", "fld", "-0.5"});
  CHECK(n.Take() == Ops{"0|HSET|h|fld|10"});
}

TEST_CASE("propagation: SPOP becomes SREM (or DEL when the set goes)", "[propagate]") {
  Node n;
  n.Run({"SADD", "s", "a", "b", "c", "d", "e"});
  n.Take();
  std::vector<std::string> one = Bulks(n.Run({"SPOP", "s"}));
  REQUIRE(one.size() == 1);
  CHECK(n.Take() == Ops{"0|SREM|s|" + one[0]});

  std::vector<std::string> two = Bulks(n.Run({"SPOP", "s", "2"}));
  REQUIRE(two.size() == 2);
  CHECK(n.Take() == Ops{"0|MULTI", "0|SREM|s|" + two[0], "0|SREM|s|" + two[1], "0|EXEC"});
  CHECK(n.Run({"SCARD", "s"}) == ":2\r\n");

  n.Run({"SPOP", "s", "0"});
  CHECK(n.Take().empty());
  n.Run({"SPOP", "s", "10"});
  CHECK(n.Take() == Ops{"0|DEL|s"});

  // The last member popped singly: just the SREM.
  n.Run({"SADD", "t", "only"});
  n.Take();
  n.Run({"SPOP", "t"});
  CHECK(n.Take() == Ops{"0|SREM|t|only"});
}

TEST_CASE("propagation: blocking and multi-key pops served at once", "[propagate]") {
  Node n;
  n.Run({"RPUSH", "l", "1", "2", "3", "4"});
  n.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  n.Take();
  n.Run({"BLPOP", "nope", "l", "0"});
  CHECK(n.Take() == Ops{"0|LPOP|l"});
  n.Run({"brpop", "l", "0"});
  CHECK(n.Take() == Ops{"0|RPOP|l"});
  n.Run({"BLMOVE", "l", "dst", "LEFT", "right", "0"});
  CHECK(n.Take() == Ops{"0|LMOVE|l|dst|LEFT|right"});
  n.Run({"BRPOPLPUSH", "dst", "l", "0"});
  CHECK(n.Take() == Ops{"0|RPOPLPUSH|dst|l"});
  n.Run({"BLMPOP", "0", "2", "nope", "l", "RIGHT", "COUNT", "10"});
  CHECK(n.Take() == Ops{"0|RPOP|l|2"});
  n.Run({"RPUSH", "l", "1", "2", "3"});
  n.Take();
  n.Run({"LMPOP", "1", "l", "LEFT"});
  CHECK(n.Take() == Ops{"0|LPOP|l|1"});
  n.Run({"lmpop", "2", "nope", "l", "left", "count", "1"});
  CHECK(n.Take() == Ops{"0|LPOP|l|1"});
  // LPOP with a count larger than the list goes out as typed.
  n.Run({"LPOP", "l", "5"});
  CHECK(n.Take() == Ops{"0|LPOP|l|5"});

  n.Run({"BZPOPMIN", "z", "0"});
  CHECK(n.Take() == Ops{"0|ZPOPMIN|z"});
  n.Run({"BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"});
  CHECK(n.Take() == Ops{"0|ZPOPMAX|z|2"});
  n.Run({"ZADD", "z", "1", "a", "2", "b"});
  n.Take();
  n.Run({"ZMPOP", "2", "nope", "z", "MIN"});
  CHECK(n.Take() == Ops{"0|ZPOPMIN|z|1"});
  n.Run({"bzpopmax", "z", "0"});
  CHECK(n.Take() == Ops{"0|ZPOPMAX|z"});
  // Nothing to pop (inside MULTI they cannot block): nothing sent.
  n.Run({"MULTI"});
  n.Run({"BLPOP", "l", "0"});
  n.Run({"EXEC"});
  CHECK(n.Take().empty());
}

TEST_CASE("propagation: blocked pops served later send the non-blocking form", "[propagate]") {
  Node n;
  cmd::ClientState* waiter = n.NewClient();

  n.Run(waiter, {"BLPOP", "l", "0"});
  CHECK(n.Take().empty());
  n.Run({"RPUSH", "l", "x"});
  CHECK(n.Take() == Ops{"0|RPUSH|l|x", "0|LPOP|l"});
  CHECK(Bulks(waiter->out) == std::vector<std::string>{"l", "x"});
  waiter->out.clear();

  n.Run(waiter, {"BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"});
  n.Run({"LPUSH", "src", "y"});
  CHECK(n.Take() == Ops{"0|LPUSH|src|y", "0|LMOVE|src|dst|left|right"});

  n.Run(waiter, {"BRPOPLPUSH", "src2", "dst", "0"});
  n.Run({"LPUSH", "src2", "y"});
  CHECK(n.Take() == Ops{"0|LPUSH|src2|y", "0|RPOPLPUSH|src2|dst"});

  n.Run(waiter, {"BLMPOP", "0", "1", "m", "LEFT", "COUNT", "5"});
  n.Run({"RPUSH", "m", "1", "2"});
  CHECK(n.Take() == Ops{"0|RPUSH|m|1|2", "0|LPOP|m|2"});

  n.Run(waiter, {"BZPOPMAX", "z", "0"});
  n.Run({"ZADD", "z", "1", "a", "2", "b"});
  CHECK(n.Take() == Ops{"0|ZADD|z|1|a|2|b", "0|ZPOPMAX|z"});

  n.Run(waiter, {"BZMPOP", "0", "1", "z2", "MIN", "COUNT", "3"});
  n.Run({"ZADD", "z2", "1", "a"});
  CHECK(n.Take() == Ops{"0|ZADD|z2|1|a", "0|ZPOPMIN|z2|1"});

  // A waiter in another db pops in its own db.
  n.Run(waiter, {"SELECT", "2"});
  n.Run(waiter, {"BRPOP", "q", "0"});
  n.Run({"SELECT", "2"});
  n.Run({"RPUSH", "q", "v"});
  CHECK(n.Take() == Ops{"2|RPUSH|q|v", "2|RPOP|q"});
}

TEST_CASE("propagation: FLUSHDB and FLUSHALL go out even on empty dbs", "[propagate]") {
  Node n;
  n.Run({"FLUSHALL"});
  CHECK(n.Take() == Ops{"0|FLUSHALL"});
  n.Run({"SELECT", "1"});
  n.Run({"flushdb", "async"});
  CHECK(n.Take() == Ops{"1|flushdb|async"});
  n.Run({"SET", "k", "v"});
  n.Take();
  n.Run({"FLUSHDB"});
  CHECK(n.Take() == Ops{"1|FLUSHDB"});
}

TEST_CASE("propagation: plain writes of every family go out as typed", "[propagate]") {
  Node n;
  n.Run({"MSET", "a", "1", "b", "2"});
  n.Run({"APPEND", "a", "x"});
  n.Run({"SETRANGE", "b", "3", "yy"});
  n.Run({"MSETNX", "c", "1", "d", "2"});
  n.Run({"HSET", "h", "f", "1"});
  n.Run({"HINCRBY", "h", "f", "2"});
  n.Run({"ZINCRBY", "z", "1.5", "m"});
  n.Run({"SMOVE", "s", "t", "x"});  // missing source: nothing
  n.Run({"RENAME", "a", "a2"});
  n.Run({"COPY", "a2", "a3"});
  n.Run({"MOVE", "a3", "4"});
  n.Run({"SWAPDB", "0", "4"});
  CHECK(n.Take() == Ops{"0|MSET|a|1|b|2", "0|APPEND|a|x", "0|SETRANGE|b|3|yy", "0|MSETNX|c|1|d|2",
                        "0|HSET|h|f|1", "0|HINCRBY|h|f|2", "0|ZINCRBY|z|1.5|m", "0|RENAME|a|a2",
                        "0|COPY|a2|a3", "0|MOVE|a3|4", "0|SWAPDB|0|4"});
}
