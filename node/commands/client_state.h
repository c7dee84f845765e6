// ClientState: everything the command layer knows about one connected client —
// selected db, protocol version, auth, MULTI queue, WATCHed keys, subscriptions,
// blocking state and the pending reply bytes. The network layer owns the socket
// and reaches it through ClientIo.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/protocol/reply.h"

namespace cairn::net {
class ByteStream;
}

namespace cairn::cmd {

struct CommandSpec;

// Implemented by the network layer for each connection.
class ClientIo {
 public:
  virtual ~ClientIo() = default;
  // Schedules a write of ClientState::out (replies produced outside the
  // client's own command, e.g. pub/sub messages or an unblocked BLPOP).
  virtual void RequestFlush() = 0;
  // Closes the connection once pending output is written (or at once).
  virtual void Close(bool after_reply) = 0;
  // Bytes queued for writing that have not reached the socket.
  virtual size_t PendingOutput() const = 0;
  // Query buffer length/free for CLIENT LIST qbuf/qbuf-free.
  virtual size_t QueryBufferLength() const = 0;
  virtual size_t QueryBufferFree() const = 0;
  virtual int Fd() const = 0;
};

enum ClientFlag : uint32_t {
  kInMulti = 1u << 0,          // between MULTI and EXEC
  kDirtyCas = 1u << 1,         // a WATCHed key changed: EXEC fails
  kDirtyExec = 1u << 2,        // a queued command was rejected: EXEC aborts
  kBlocked = 1u << 3,          // waiting in BLPOP & co.
  kCloseAfterReply = 1u << 4,  // QUIT / protocol error
  kNoEvict = 1u << 5,          // CLIENT NO-EVICT on
  kReplica = 1u << 6,          // a replica connection (later issues)
  kMaster = 1u << 7,           // the link to our master (later issues)
  kPubSubResp2 = 1u << 8,      // RESP2 client with subscriptions: restricted commands
  kCloseAsap = 1u << 9,        // output limit hit: close without flushing
  kUnixSocket = 1u << 10,
};

// What a blocked client waits for.
struct BlockState {
  int db = 0;
  std::vector<std::string> keys;
  int64_t deadline_ms = 0;        // 0 = wait forever
  std::vector<std::string> argv;  // the command to run again when a key is ready
  const CommandSpec* cmd = nullptr;
};

struct ClientState {
  uint64_t id = 0;
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our end
  // Came through the secure port on a channel that compresses what this node sends.
  bool secure_compressed = false;
  int db_index = 0;
  int resp = 2;
  bool authenticated = false;
  std::string user = "default";
  uint32_t flags = 0;
  int64_t ctime_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string last_cmd = "NULL";
  uint64_t commands_processed = 0;

  // MULTI: queued commands (argv copies with their resolved spec).
  std::vector<std::pair<const CommandSpec*, std::vector<std::string>>> multi_queue;
  // WATCH: (db, key) pairs.
  std::vector<std::pair<int, std::string>> watched;
  // The subset of `watched` that was already expired when WATCHed (Redis's
  // watchedKey.expired); same type as DbKey (server_state.h), which cannot be
  // named here. Cleared with `watched` by UnwatchAll.
  std::set<std::pair<int, std::string>> watched_expired;
  // Pub/Sub
  std::set<std::string> channels;
  std::set<std::string> patterns;
  std::set<std::string> shard_channels;  // SSUBSCRIBE
  BlockState block;

  // Pending reply bytes; `reply` writes here.
  std::string out;
  protocol::Reply reply{&out, 2};
  ClientIo* io = nullptr;
  // Set by PSYNC/SYNC: once the command returns, the connection stops being a
  // client and hands its transport to replication, with the input it read
  // past the command and any reply bytes not yet written.
  std::function<void(std::unique_ptr<net::ByteStream>, std::string unread, std::string unsent)>
      handoff;
  // Replication offset right after this client's last propagated write (WAIT).
  int64_t repl_write_offset = 0;
  // REPLCONF from a replica-to-be (before its PSYNC).
  int repl_listening_port = 0;
  std::string repl_announced_ip;
  bool repl_capa_eof = false;
  bool repl_capa_psync2 = false;
  // Time the output first exceeded the soft limit (0 = under it).
  int64_t obuf_soft_since_ms = 0;

  bool has(uint32_t f) const { return (flags & f) != 0; }
  size_t subscriptions() const { return channels.size() + patterns.size(); }
};

}  // namespace cairn::cmd
