// Keyspace iteration commands: KEYS, SCAN (MATCH/COUNT/TYPE), RANDOMKEY and
// DBSIZE. SCAN's cursor is the key table's reverse-binary bucket cursor, so it
// gives Redis's guarantees (every key present throughout is returned).
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"

namespace cairn::cmd {

void RegisterScanCommands(CommandTable& t);

namespace {

namespace err = protocol::err;
using store::Entry;

constexpr std::string_view kInvalidCursor = "invalid cursor";

// Redis parses the cursor with strtoul: leading '+'/'-' are accepted (a
// negative number wraps), leading whitespace and trailing bytes are not.
bool ParseCursor(std::string_view s, unsigned long* out) {
  std::string buf(s);
  if (!buf.empty() && std::isspace(static_cast<unsigned char>(buf[0]))) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long v = std::strtoul(buf.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *out = v;
  return true;
}

void CmdKeys(Context& ctx) {
  std::string_view pattern = ctx.arg(1);
  bool all = pattern == "*";
  store::Db& db = ctx.db();
  size_t handle = ctx.reply().BeginDeferred();
  size_t n = 0;
  // IsExpired only reads, so checking inside the walk is safe; expired keys
  // are hidden but left for lazy/active expiry, as Redis does.
  db.ForEach([&](Entry* e) {
    if (!all && !base::GlobMatch(pattern, e->key())) return;
    if (db.IsExpired(e)) return;
    ctx.reply().Bulk(e->key());
    n++;
  });
  ctx.reply().EndDeferredArray(handle, n);
}

struct ScanOptions {
  long count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  bool has_type = false;
  std::string_view type;
};

bool ParseScanOptions(Context& ctx, ScanOptions* o) {
  size_t i = 2;
  while (i < ctx.argc()) {
    size_t left = ctx.argc() - i;
    std::string_view opt = ctx.arg(i);
    if (base::EqualsNoCase(opt, "count") && left >= 2) {
      int64_t v;
      if (!ctx.ParseInt(ctx.arg(i + 1), &v)) return false;
      if (v < 1) {
        ctx.reply().Error(err::kSyntax);
        return false;
      }
      o->count = static_cast<long>(v);
      i += 2;
    } else if (base::EqualsNoCase(opt, "match") && left >= 2) {
      o->pattern = ctx.arg(i + 1);
      // "*" matches everything: the same as no pattern.
      o->use_pattern = o->pattern != "*";
      i += 2;
    } else if (base::EqualsNoCase(opt, "type") && left >= 2) {
      o->type = ctx.arg(i + 1);
      o->has_type = true;
      i += 2;
    } else {
      ctx.reply().Error(err::kSyntax);
      return false;
    }
  }
  return true;
}

void CmdScan(Context& ctx) {
  unsigned long cursor;
  if (!ParseCursor(ctx.arg(1), &cursor)) {
    ctx.reply().Error(kInvalidCursor);
    return;
  }
  ScanOptions opt;
  if (!ParseScanOptions(ctx, &opt)) return;

  store::Db& db = ctx.db();
  std::vector<std::string> keys;
  // Bound the work on a sparse table (many empty buckets) as Redis does: at
  // most ten bucket visits per requested key.
  long max_iterations = opt.count > LONG_MAX / 10 ? LONG_MAX : opt.count * 10;
  do {
    cursor = db.Scan(cursor, [&](Entry* e) { keys.emplace_back(e->key()); });
  } while (cursor != 0 && max_iterations-- > 0 && keys.size() < static_cast<size_t>(opt.count));

  // Filter after the walk: expiring a key changes the table.
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (auto& k : keys) {
    if (opt.use_pattern && !base::GlobMatch(opt.pattern, k)) continue;
    if (opt.has_type) {
      Entry* e = db.LookupNoTouch(k);
      if (e)
        store::Stats().hits++;
      else
        store::Stats().misses++;
      const char* name = e ? store::TypeName(e->type) : "none";
      if (!base::EqualsNoCase(opt.type, name)) continue;
    }
    if (db.LookupNoTouch(k) == nullptr) continue;
    out.push_back(std::move(k));
  }

  ctx.reply().Array(2);
  ctx.reply().Bulk(std::to_string(cursor));
  ctx.reply().Array(out.size());
  for (const auto& k : out) ctx.reply().Bulk(k);
}

void CmdRandomKey(Context& ctx) {
  Entry* e = ctx.db().RandomKey();
  if (e == nullptr) {
    ctx.reply().Null();
    return;
  }
  ctx.reply().Bulk(e->key());
}

void CmdDbSize(Context& ctx) { ctx.reply().Int(static_cast<int64_t>(ctx.db().size())); }

CommandSpec Spec(const char* name, int arity, uint32_t flags, Handler h, const char* group,
                 const char* since, const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, 0, 0, 0, h, group, since, summary, syntax, acl);
}

}  // namespace

void RegisterScanCommands(CommandTable& t) {
  t.Add(Spec("keys", 2, kReadonly, CmdKeys, "generic", "1.0.0",
             "Lists every key matching a glob-style pattern.", "pattern",
             "@keyspace @read @slow @dangerous"));
  t.Add(Spec("scan", -2, kReadonly | kTouchesArbitraryKeys, CmdScan, "generic", "2.8.0",
             "Iterates the key names of the selected database in steps.",
             "cursor [MATCH pattern] [COUNT count] [TYPE type]", "@keyspace @read @slow"));
  t.Add(Spec("randomkey", 1, kReadonly | kTouchesArbitraryKeys, CmdRandomKey, "generic", "1.0.0",
             "Returns the name of a random key.", "", "@keyspace @read @slow"));
  t.Add(Spec("dbsize", 1, kReadonly | kFast, CmdDbSize, "server", "1.0.0",
             "Counts the keys of the selected database.", "", "@keyspace @read @fast"));
}

}  // namespace cairn::cmd
