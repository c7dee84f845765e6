// Config: redis.conf directives — parsing files (include, quotes, units, old
// aliases), command-line overrides as redis-server takes them, CONFIG GET/SET/
// REWRITE semantics — and the typed values the server reads.
//
// DESIGN
// - One table of directives (config_table.cc) maps each name (and aliases) to a
//   field of Values with its type, bounds and default; everything else (GET,
//   SET, REWRITE, the file parser) is generic over that table.
// - Directives Redis accepts but Cairn has no use for (e.g. encoding tunables
//   whose effect differs) are still accepted, stored and reported.
// - Owned by the event loop; CONFIG SET applies immediately and runs the
//   directive's apply hook (e.g. loglevel).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/base/status.h"

namespace cairn::config {

struct OutputBufferLimit {
  int64_t hard = 0;     // bytes; 0 = none
  int64_t soft = 0;     // bytes; 0 = none
  int64_t soft_seconds = 0;
};

struct Values {
  // Network
  std::vector<std::string> bind = {"*", "-::*"};
  bool bind_explicit = false;  // set when a config/CLI gave `bind` (protected-mode)
  int port = 6379;
  std::string unixsocket;
  int tcp_backlog = 511;
  int timeout = 0;  // client idle timeout, seconds
  int tcp_keepalive = 300;
  bool protected_mode = true;
  int maxclients = 10000;
  // Security
  std::string requirepass;
  std::string masteruser;
  std::string masterauth;
  // General
  std::string loglevel = "notice";
  std::string logfile;
  std::string pidfile;
  std::string supervised = "no";
  bool daemonize = false;
  int databases = 16;
  int hz = 10;
  bool dynamic_hz = true;
  std::string dir = ".";
  // Memory
  int64_t maxmemory = 0;
  std::string maxmemory_policy = "noeviction";
  int maxmemory_samples = 5;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  OutputBufferLimit obuf_normal{0, 0, 0};
  OutputBufferLimit obuf_replica{256LL << 20, 64LL << 20, 60};
  OutputBufferLimit obuf_pubsub{32LL << 20, 8LL << 20, 60};
  // Encodings (as Redis 7.0 names them)
  int64_t hash_max_listpack_entries = 128;
  int64_t hash_max_listpack_value = 64;
  int64_t set_max_intset_entries = 512;
  int64_t set_max_listpack_entries = 128;  // Cairn's packed small sets (as Redis 7.2)
  int64_t set_max_listpack_value = 64;
  int64_t zset_max_listpack_entries = 128;
  int64_t zset_max_listpack_value = 64;
  int64_t list_max_listpack_size = -2;
  int64_t list_compress_depth = 0;
  // Persistence (used by later issues; accepted and reported now)
  std::string save = "3600 1 300 100 60 10000";
  std::string dbfilename = "dump.rdb";
  bool appendonly = false;
  std::string appendfilename = "appendonly.aof";
  std::string appendfsync = "everysec";
  bool rdbcompression = true;
  bool rdbchecksum = true;
  bool stop_writes_on_bgsave_error = true;
  // Replication
  std::string replicaof;  // "host port" or ""
  bool replica_read_only = true;
  bool replica_serve_stale_data = true;
  int64_t repl_backlog_size = 1024 * 1024;
  int repl_ping_replica_period = 10;
  int repl_timeout = 60;
  // Misc
  bool lazyfree_lazy_user_del = false;
  int64_t slowlog_log_slower_than = 10000;
  int64_t slowlog_max_len = 128;
  std::string notify_keyspace_events;
};

class Config {
 public:
  Config();
  Values& v() { return v_; }
  const Values& v() const { return v_; }

  // Reads a redis.conf file (with `include`). Errors: "file:line: reason".
  Status LoadFile(const std::string& path);
  // Applies directives given as text (the CLI overrides, newline-separated).
  Status LoadString(std::string_view text, std::string_view origin);
  // Turns redis-server style argv overrides ("--port", "7000", "--save", "")
  // into config text: each "--name" starts a directive, later words join it.
  static Result<std::string> ArgsToConfigText(const std::vector<std::string>& args);

  // CONFIG GET: (name, value) pairs for every directive matching any pattern.
  std::vector<std::pair<std::string, std::string>> Get(
      const std::vector<std::string_view>& patterns) const;
  // CONFIG SET name value: validated as Redis validates (error text as Redis's).
  Status Set(std::string_view name, std::string_view value);
  // CONFIG REWRITE: rewrites the loaded file keeping comments and order.
  Status Rewrite();
  const std::string& config_file() const { return file_; }
  void set_config_file(std::string f) { file_ = std::move(f); }

  // Hooks run after a directive changes (e.g. "loglevel" -> log::Setup).
  void OnChange(std::string name, std::function<Status()> fn);

 private:
  Status ApplyLine(const std::vector<std::string>& words, std::string_view origin, int line,
                   int depth);
  Values v_;
  std::string file_;
  std::map<std::string, std::function<Status()>> hooks_;
};

}  // namespace cairn::config
