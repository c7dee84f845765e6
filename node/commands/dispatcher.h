// Dispatcher: runs one parsed command for a client, applying Redis 7.0's checks
// in Redis's order (unknown command, arity, auth, OOM, read-only replica,
// pub/sub context, loading, MULTI queueing), then the handler, statistics and
// the serving of clients blocked on keys the command made ready.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "node/commands/client_state.h"
#include "node/commands/server_state.h"

namespace cairn::cmd {

class Dispatcher {
 public:
  explicit Dispatcher(ServerState& server) : server_(server) {}

  // Runs argv (argv[0] = command name) for client c; replies go to c.out.
  void Execute(ClientState& c, const std::vector<std::string_view>& argv);
  // Runs a resolved command now, bypassing queueing (EXEC uses it).
  void Call(ClientState& c, const CommandSpec& cmd, const std::vector<std::string_view>& argv,
            bool is_retry = false);

  // Serves clients blocked on keys made ready since the last call.
  void ServeReadyKeys();
  // Replies to blocked clients whose deadline passed; returns how many.
  size_t ExpireBlocked(int64_t now_ms);
  // Earliest blocked-client deadline (0 = none).
  int64_t NextBlockDeadline() const;

  // A client is going away: unwatch, unsubscribe, unblock.
  void ClientGone(ClientState& c);

  // Hook to evict keys when above maxmemory; returns false if still over.
  std::function<bool()> free_memory_if_needed;

 private:
  bool Reject(ClientState& c, const CommandSpec* cmd, std::string_view msg);
  ServerState& server_;
};

// Removes a blocked client from the blocking registry (no reply).
void UnblockClient(ServerState& s, ClientState& c);
// Removes every WATCH of a client.
void UnwatchAll(ServerState& s, ClientState& c);
// Removes every subscription of a client; returns how many there were.
size_t UnsubscribeAll(ServerState& s, ClientState& c);

}  // namespace cairn::cmd
