// Blocking operations (BLPOP & co.): the registry of clients waiting on keys,
// serving them when a key becomes ready, and deadlines.
//
// DESIGN
// - A blocked client sits in server.blocking_keys[(db,key)] for each key, in
//   arrival order (FIFO, as Redis serves them).
// - Commands that add elements call Context::KeyReady; after the current
//   command, ServeReadyKeys re-runs each waiting client's command in order with
//   is_retry set. A handler that still finds nothing calls BlockOnKeys again,
//   which on a retry only reports "still blocked", so the client keeps its place.
// - A deadline passing replies a null array, as Redis does on timeout.
#include <algorithm>

#include "node/base/clock.h"
#include "node/commands/context.h"
#include "node/commands/dispatcher.h"

namespace cairn::cmd {

namespace {
// Set by Context::BlockOnKeys during a retry: the command found nothing.
bool g_reblocked = false;
}  // namespace

void Context::BlockOnKeys(const std::vector<std::string>& keys, int64_t deadline_ms) {
  if (is_retry_) {
    g_reblocked = true;
    return;
  }
  ClientState& c = client_;
  c.flags |= kBlocked;
  c.block.db = c.db_index;
  c.block.keys = keys;
  c.block.deadline_ms = deadline_ms;
  c.block.cmd = &cmd_;
  c.block.argv.assign(argv_.begin(), argv_.end());
  for (const auto& k : keys) {
    auto& q = server_.blocking_keys[DbKey(c.db_index, k)];
    if (std::find(q.begin(), q.end(), &c) == q.end()) q.push_back(&c);
  }
  server_.blocked_clients++;
  server_.stats.total_blocking_keys = server_.blocking_keys.size();
}

void UnblockClient(ServerState& s, ClientState& c) {
  if (!c.has(kBlocked)) return;
  for (const auto& k : c.block.keys) {
    auto it = s.blocking_keys.find(DbKey(c.block.db, k));
    if (it == s.blocking_keys.end()) continue;
    auto& q = it->second;
    q.erase(std::remove(q.begin(), q.end(), &c), q.end());
    if (q.empty()) s.blocking_keys.erase(it);
  }
  c.flags &= ~kBlocked;
  c.block = BlockState{};
  s.blocked_clients--;
  s.stats.total_blocking_keys = s.blocking_keys.size();
}

void Dispatcher::ServeReadyKeys() {
  // Bounded: each pass serves at least one client or drops a key.
  for (int guard = 0; guard < 1000000 && !server_.ready_keys.empty(); guard++) {
    std::vector<DbKey> ready;
    ready.swap(server_.ready_keys);
    for (const DbKey& k : ready) {
      auto it = server_.blocking_keys.find(k);
      if (it == server_.blocking_keys.end()) continue;
      std::vector<ClientState*> waiting(it->second.begin(), it->second.end());
      for (ClientState* c : waiting) {
        if (!c->has(kBlocked)) continue;
        // The key may have been emptied by the client served before.
        store::Entry* e = server_.db(k.first).LookupNoTouch(k.second);
        if (e == nullptr) break;
        BlockState saved = c->block;
        std::vector<std::string_view> argv(saved.argv.begin(), saved.argv.end());
        int saved_db = c->db_index;
        c->db_index = saved.db;
        g_reblocked = false;
        Call(*c, *saved.cmd, argv, /*is_retry=*/true);
        bool still = g_reblocked;
        g_reblocked = false;
        if (c->db_index == saved.db) c->db_index = saved_db;
        if (!still) {
          c->block = saved;  // UnblockClient walks the keys it registered
          UnblockClient(server_, *c);
          if (c->io) c->io->RequestFlush();
        }
      }
    }
  }
}

size_t Dispatcher::ExpireBlocked(int64_t now_ms) {
  std::vector<ClientState*> due;
  for (auto& [id, c] : server_.clients) {
    if (c->has(kBlocked) && c->block.deadline_ms != 0 && c->block.deadline_ms <= now_ms)
      due.push_back(c);
  }
  for (ClientState* c : due) {
    UnblockClient(server_, *c);
    c->reply.NullArray();
    if (c->io) c->io->RequestFlush();
  }
  return due.size();
}

int64_t Dispatcher::NextBlockDeadline() const {
  int64_t best = 0;
  if (server_.blocked_clients == 0) return 0;
  for (const auto& [id, c] : server_.clients) {
    if (c->has(kBlocked) && c->block.deadline_ms != 0 && (best == 0 || c->block.deadline_ms < best))
      best = c->block.deadline_ms;
  }
  return best;
}

}  // namespace cairn::cmd
