// Context helpers shared by all command families.
#include "node/commands/context.h"

#include <cmath>

#include "node/base/clock.h"
#include "node/base/number.h"
#include "node/commands/propagate.h"
#include "node/commands/transaction.h"

namespace cairn::cmd {

namespace err = protocol::err;

void Context::Propagate(std::vector<std::string> argv) {
  propagation_overridden_ = true;
  QueuePropagation(server_, client_.db_index, std::move(argv));
}

store::Entry* Context::LookupWrite(std::string_view key, store::ObjType t, bool* wrongtype) {
  store::Entry* e = db().Lookup(key);
  if (wrongtype) *wrongtype = false;
  if (e && e->type != t) {
    reply().Error(err::kWrongType);
    if (wrongtype) *wrongtype = true;
    return nullptr;
  }
  return e;
}

store::Entry* Context::LookupRead(std::string_view key, store::ObjType t, bool* wrongtype) {
  store::Entry* e = db().LookupRead(key);
  if (wrongtype) *wrongtype = false;
  if (e && e->type != t) {
    reply().Error(err::kWrongType);
    if (wrongtype) *wrongtype = true;
    return nullptr;
  }
  return e;
}

bool Context::ParseInt(std::string_view s, int64_t* out) {
  if (base::ParseInt64(s, out)) return true;
  reply().Error(err::kNotInteger);
  return false;
}

bool Context::ParseDouble(std::string_view s, double* out) {
  if (base::ParseDouble(s, out)) return true;
  reply().Error(err::kNotFloat);
  return false;
}

bool Context::ParseLongDouble(std::string_view s, long double* out) {
  if (base::ParseLongDouble(s, out)) return true;
  reply().Error(err::kNotFloat);
  return false;
}

bool Context::ParseIntRange(std::string_view s, int64_t min, int64_t max, int64_t* out,
                            std::string_view error) {
  int64_t v;
  if (!base::ParseInt64(s, &v) || v < min || v > max) {
    reply().Error(error);
    return false;
  }
  *out = v;
  return true;
}

bool Context::ParseTimeout(std::string_view s, int64_t* deadline_ms) {
  // Redis: seconds as a long double, "timeout is not a float or out of range",
  // "timeout is negative"; 0 blocks forever.
  long double secs;
  if (!base::ParseLongDouble(s, &secs)) {
    reply().Error(err::kTimeoutNotFloat);
    return false;
  }
  if (secs < 0) {
    reply().Error(err::kTimeoutNegative);
    return false;
  }
  long double ms = std::ceil(secs * 1000.0L);
  if (ms > static_cast<long double>(INT64_MAX / 2)) {
    reply().Error(err::kTimeoutNotFloat);
    return false;
  }
  *deadline_ms = ms > 0 ? base::NowMs() + static_cast<int64_t>(ms) : 0;
  return true;
}

void Context::KeyModified(std::string_view key, int64_t dirty) {
  server_.dirty += dirty;
  if (server_.watched_keys.empty()) return;
  auto it = server_.watched_keys.find(DbKey(client_.db_index, std::string(key)));
  if (it == server_.watched_keys.end()) return;
  for (ClientState* c : it->second) c->flags |= kDirtyCas;
}

void Context::KeyReady(std::string_view key) {
  if (server_.blocking_keys.empty()) return;
  DbKey k(client_.db_index, std::string(key));
  if (server_.blocking_keys.count(k) == 0) return;
  for (const auto& r : server_.ready_keys) {
    if (r == k) return;
  }
  server_.ready_keys.push_back(std::move(k));
}

void Context::DbTouchedAll(int db_index) {
  if (server_.watched_keys.empty()) return;
  for (auto& [k, clients] : server_.watched_keys) {
    if (db_index != -1 && k.first != db_index) continue;
    if (server_.db(k.first).FindRaw(k.second) == nullptr) continue;
    for (ClientState* c : clients) {
      if (!WatchedWhileExpired(*c, k)) c->flags |= kDirtyCas;
    }
  }
}

bool Context::CanBlock() const { return !client_.has(kInMulti); }

}  // namespace cairn::cmd
