// Pub/Sub commands: SUBSCRIBE/UNSUBSCRIBE, PSUBSCRIBE/PUNSUBSCRIBE, PUBLISH,
// the sharded variants (SSUBSCRIBE/SUNSUBSCRIBE/SPUBLISH) and PUBSUB's
// introspection subcommands.
//
// Subscriptions are kept on both sides: ServerState::channels/patterns/
// shard_channels map a name to its subscribers, ClientState::channels/patterns/
// shard_channels list a client's names. Shard channels (Redis 7.0; without a
// cluster they behave as a second, pattern-less channel namespace) are dropped
// by ShardUnsubscribeAll on RESET and disconnect. Messages and confirmations
// are 3/4-element arrays on RESP2 and push frames on RESP3, written into each
// receiver's own reply buffer followed by a flush request.
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/commands/propagate.h"
#include "node/commands/pubsub.h"

namespace cairn::cmd {

namespace {

// Drops c from the subscribers of shard channel `channel` on the server side.
void ShardRemove(ServerState& s, ClientState& c, const std::string& channel) {
  auto it = s.shard_channels.find(channel);
  if (it == s.shard_channels.end()) return;
  it->second.erase(&c);
  if (it->second.empty()) s.shard_channels.erase(it);
}

// Redis's clientSubscriptionsCount: channels + patterns (shards count apart).
int64_t SubCount(const ClientState& c) { return static_cast<int64_t>(c.subscriptions()); }
int64_t ShardCount(const ClientState& c) { return static_cast<int64_t>(ShardSubscriptionCount(c)); }

// [kind, name, count]; a null name when unsubscribing from nothing.
void Confirm(ClientState& c, std::string_view kind, const std::string* name, int64_t count) {
  c.reply.Push(3);
  c.reply.Bulk(kind);
  if (name)
    c.reply.Bulk(*name);
  else
    c.reply.Null();
  c.reply.Int(count);
}

void Deliver(ClientState& r, std::string_view kind, std::string_view channel,
             std::string_view message) {
  r.reply.Push(3);
  r.reply.Bulk(kind);
  r.reply.Bulk(channel);
  r.reply.Bulk(message);
  if (r.io) r.io->RequestFlush();
}

void DeliverPattern(ClientState& r, std::string_view pattern, std::string_view channel,
                    std::string_view message) {
  r.reply.Push(4);
  r.reply.Bulk("pmessage");
  r.reply.Bulk(pattern);
  r.reply.Bulk(channel);
  r.reply.Bulk(message);
  if (r.io) r.io->RequestFlush();
}

// --- channels ------------------------------------------------------------

void SubscribeChannel(ServerState& s, ClientState& c, const std::string& ch) {
  if (c.channels.insert(ch).second) s.channels[ch].insert(&c);
  Confirm(c, "subscribe", &ch, SubCount(c));
}

void UnsubscribeChannel(ServerState& s, ClientState& c, const std::string& ch) {
  if (c.channels.erase(ch) != 0) {
    auto it = s.channels.find(ch);
    if (it != s.channels.end()) {
      it->second.erase(&c);
      if (it->second.empty()) s.channels.erase(it);
    }
  }
  Confirm(c, "unsubscribe", &ch, SubCount(c));
}

void SubscribePattern(ServerState& s, ClientState& c, const std::string& pat) {
  if (c.patterns.insert(pat).second) s.patterns[pat].insert(&c);
  Confirm(c, "psubscribe", &pat, SubCount(c));
}

void UnsubscribePattern(ServerState& s, ClientState& c, const std::string& pat) {
  if (c.patterns.erase(pat) != 0) {
    auto it = s.patterns.find(pat);
    if (it != s.patterns.end()) {
      it->second.erase(&c);
      if (it->second.empty()) s.patterns.erase(it);
    }
  }
  Confirm(c, "punsubscribe", &pat, SubCount(c));
}

void CmdSubscribe(Context& ctx) {
  for (size_t i = 1; i < ctx.argc(); i++)
    SubscribeChannel(ctx.server(), ctx.client(), std::string(ctx.arg(i)));
}

void CmdUnsubscribe(Context& ctx) {
  ClientState& c = ctx.client();
  if (ctx.argc() > 1) {
    for (size_t i = 1; i < ctx.argc(); i++)
      UnsubscribeChannel(ctx.server(), c, std::string(ctx.arg(i)));
    return;
  }
  if (c.channels.empty()) {
    Confirm(c, "unsubscribe", nullptr, SubCount(c));
    return;
  }
  std::vector<std::string> all(c.channels.begin(), c.channels.end());
  for (const auto& ch : all) UnsubscribeChannel(ctx.server(), c, ch);
}

void CmdPSubscribe(Context& ctx) {
  for (size_t i = 1; i < ctx.argc(); i++)
    SubscribePattern(ctx.server(), ctx.client(), std::string(ctx.arg(i)));
}

void CmdPUnsubscribe(Context& ctx) {
  ClientState& c = ctx.client();
  if (ctx.argc() > 1) {
    for (size_t i = 1; i < ctx.argc(); i++)
      UnsubscribePattern(ctx.server(), c, std::string(ctx.arg(i)));
    return;
  }
  if (c.patterns.empty()) {
    Confirm(c, "punsubscribe", nullptr, SubCount(c));
    return;
  }
  std::vector<std::string> all(c.patterns.begin(), c.patterns.end());
  for (const auto& p : all) UnsubscribePattern(ctx.server(), c, p);
}

// Sends `message` to the subscribers of `channel` and of every matching
// pattern; returns the number of deliveries (a client matching twice counts
// twice, as in Redis).
int64_t Publish(ServerState& s, std::string_view channel, std::string_view message) {
  int64_t receivers = 0;
  auto it = s.channels.find(std::string(channel));
  if (it != s.channels.end()) {
    for (ClientState* r : it->second) {
      Deliver(*r, "message", channel, message);
      receivers++;
    }
  }
  for (const auto& [pattern, clients] : s.patterns) {
    if (!base::GlobMatch(pattern, channel)) continue;
    for (ClientState* r : clients) {
      DeliverPattern(*r, pattern, channel, message);
      receivers++;
    }
  }
  return receivers;
}

void CmdPublish(Context& ctx) {
  ctx.reply().Int(Publish(ctx.server(), ctx.arg(1), ctx.arg(2)));
  // Replicas deliver it to their own subscribers (Redis's PROPAGATE_REPL).
  QueuePropagation(ctx.server(), ctx.client().db_index,
                   {std::string(ctx.arg(0)), std::string(ctx.arg(1)), std::string(ctx.arg(2))},
                   true);
}

// --- shard channels --------------------------------------------------------

void CmdSSubscribe(Context& ctx) {
  ClientState& c = ctx.client();
  // Inside EXEC a client may not enter subscribed mode on shard channels.
  if (c.has(kInMulti)) {
    ctx.reply().Error("SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    return;
  }
  ServerState& s = ctx.server();
  for (size_t i = 1; i < ctx.argc(); i++) {
    std::string ch(ctx.arg(i));
    if (c.shard_channels.insert(ch).second) s.shard_channels[ch].insert(&c);
    Confirm(c, "ssubscribe", &ch, ShardCount(c));
  }
}

void ShardUnsubscribeOne(ServerState& s, ClientState& c, const std::string& ch) {
  if (c.shard_channels.erase(ch) != 0) ShardRemove(s, c, ch);
  Confirm(c, "sunsubscribe", &ch, ShardCount(c));
}

void CmdSUnsubscribe(Context& ctx) {
  ClientState& c = ctx.client();
  if (ctx.argc() > 1) {
    for (size_t i = 1; i < ctx.argc(); i++)
      ShardUnsubscribeOne(ctx.server(), c, std::string(ctx.arg(i)));
    return;
  }
  if (c.shard_channels.empty()) {
    Confirm(c, "sunsubscribe", nullptr, ShardCount(c));
    return;
  }
  std::vector<std::string> all(c.shard_channels.begin(), c.shard_channels.end());
  for (const auto& ch : all) ShardUnsubscribeOne(ctx.server(), c, ch);
}

void CmdSPublish(Context& ctx) {
  ServerState& s = ctx.server();
  int64_t receivers = 0;
  auto it = s.shard_channels.find(std::string(ctx.arg(1)));
  if (it != s.shard_channels.end()) {
    for (ClientState* r : it->second) {
      Deliver(*r, "smessage", ctx.arg(1), ctx.arg(2));
      receivers++;
    }
  }
  ctx.reply().Int(receivers);
  QueuePropagation(s, ctx.client().db_index,
                   {std::string(ctx.arg(0)), std::string(ctx.arg(1)), std::string(ctx.arg(2))},
                   true);
}

// --- PUBSUB ----------------------------------------------------------------

void SubcommandSyntaxError(Context& ctx) {
  std::string msg = "unknown subcommand or wrong number of arguments for '";
  msg.append(ctx.arg(1).substr(0, 128));
  msg += "'. Try PUBSUB HELP.";
  ctx.reply().Error(msg);
}

template <typename Map>
void ChannelList(Context& ctx, const Map& channels) {
  if (ctx.argc() > 3) {
    SubcommandSyntaxError(ctx);
    return;
  }
  std::vector<const std::string*> names;
  for (const auto& [name, subs] : channels) {
    if (ctx.argc() == 3 && !base::GlobMatch(ctx.arg(2), name)) continue;
    names.push_back(&name);
  }
  ctx.reply().Array(names.size());
  for (const std::string* n : names) ctx.reply().Bulk(*n);
}

template <typename Map>
void NumSub(Context& ctx, const Map& channels) {
  ctx.reply().Array((ctx.argc() - 2) * 2);
  for (size_t i = 2; i < ctx.argc(); i++) {
    auto it = channels.find(std::string(ctx.arg(i)));
    ctx.reply().Bulk(ctx.arg(i));
    ctx.reply().Int(it == channels.end() ? 0 : static_cast<int64_t>(it->second.size()));
  }
}

void CmdPubSubChannels(Context& ctx) { ChannelList(ctx, ctx.server().channels); }
void CmdPubSubNumSub(Context& ctx) { NumSub(ctx, ctx.server().channels); }
void CmdPubSubNumPat(Context& ctx) {
  ctx.reply().Int(static_cast<int64_t>(ctx.server().patterns.size()));
}
void CmdPubSubShardChannels(Context& ctx) { ChannelList(ctx, ctx.server().shard_channels); }
void CmdPubSubShardNumSub(Context& ctx) { NumSub(ctx, ctx.server().shard_channels); }

void CmdPubSubHelp(Context& ctx) {
  static const char* const kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: "
      "'*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply().StatusLines(kLines);
}

// Reached only if resolution fails to pick a subcommand.
void CmdPubSub(Context& ctx) { SubcommandSyntaxError(ctx); }

CommandSpec PsSpec(const char* name, int arity, uint32_t flags, Handler h, const char* since,
                   const char* summary, const char* syntax, const char* acl) {
  return MakeSpec(name, arity, flags, 0, 0, 0, h, "pubsub", since, summary, syntax, acl);
}

// SSUBSCRIBE & co. name channels in their key positions (not keys; Redis's
// NOT_KEY key spec), so COMMAND INFO reports 1 -1 1 / 1 1 1 as Redis does.
CommandSpec WithChannelKeys(CommandSpec s, int last) {
  s.first_key = 1;
  s.last_key = last;
  s.key_step = 1;
  return s;
}

constexpr uint32_t kSubFlags = kPubSub | kNoScript | kLoading | kStale | kSentinel;
constexpr uint32_t kIntrospect = kPubSub | kLoading | kStale;

}  // namespace

size_t ShardSubscriptionCount(const ClientState& c) { return c.shard_channels.size(); }

size_t ShardUnsubscribeAll(ServerState& s, ClientState& c) {
  size_t n = c.shard_channels.size();
  for (const auto& ch : c.shard_channels) ShardRemove(s, c, ch);
  c.shard_channels.clear();
  return n;
}

size_t ShardChannelCount(const ServerState& s) { return s.shard_channels.size(); }

bool InPubSubMode(const ClientState& c) {
  return c.subscriptions() > 0 || ShardSubscriptionCount(c) > 0;
}

void RegisterPubSubCommands(CommandTable& t) {
  t.Add(PsSpec("subscribe", -2, kSubFlags, CmdSubscribe, "2.0.0",
               "Listens for messages published to the given channels.", "channel [channel ...]",
               "@pubsub @slow"));
  t.Add(PsSpec("unsubscribe", -1, kSubFlags, CmdUnsubscribe, "2.0.0",
               "Stops listening to the given channels, or to all of them.",
               "[channel [channel ...]]", "@pubsub @slow"));
  t.Add(PsSpec("psubscribe", -2, kSubFlags, CmdPSubscribe, "2.0.0",
               "Listens for messages published to channels matching the glob patterns.",
               "pattern [pattern ...]", "@pubsub @slow"));
  t.Add(PsSpec("punsubscribe", -1, kSubFlags, CmdPUnsubscribe, "2.0.0",
               "Stops listening to the given patterns, or to all of them.",
               "[pattern [pattern ...]]", "@pubsub @slow"));
  t.Add(PsSpec("publish", 3, kPubSub | kLoading | kStale | kFast | kMayReplicate | kSentinel,
               CmdPublish, "2.0.0",
               "Sends a message to a channel; returns how many subscribers received it.",
               "channel message", "@pubsub @fast"));
  t.Add(WithChannelKeys(
      PsSpec("ssubscribe", -2, kPubSub | kNoScript | kLoading | kStale, CmdSSubscribe, "7.0.0",
             "Listens for messages published to the given shard channels.",
             "shardchannel [shardchannel ...]", "@pubsub @slow"),
      -1));
  t.Add(WithChannelKeys(
      PsSpec("sunsubscribe", -1, kPubSub | kNoScript | kLoading | kStale, CmdSUnsubscribe, "7.0.0",
             "Stops listening to the given shard channels, or to all of them.",
             "[shardchannel [shardchannel ...]]", "@pubsub @slow"),
      -1));
  t.Add(WithChannelKeys(
      PsSpec("spublish", 3, kPubSub | kLoading | kStale | kFast | kMayReplicate, CmdSPublish,
             "7.0.0", "Sends a message to a shard channel; returns how many received it.",
             "shardchannel message", "@pubsub @fast"),
      1));

  t.Add(PsSpec("pubsub", -2, 0, CmdPubSub, "2.8.0", "Introspects the Pub/Sub subsystem.", "",
               "@slow"));
  t.AddSub("pubsub", PsSpec("channels", -2, kIntrospect, CmdPubSubChannels, "2.8.0",
                            "Lists the channels with subscribers, optionally matching a pattern.",
                            "[pattern]", "@pubsub @slow"));
  t.AddSub("pubsub", PsSpec("numsub", -2, kIntrospect, CmdPubSubNumSub, "2.8.0",
                            "Counts the subscribers of each given channel (patterns excluded).",
                            "[channel [channel ...]]", "@pubsub @slow"));
  t.AddSub("pubsub", PsSpec("numpat", 2, kIntrospect, CmdPubSubNumPat, "2.8.0",
                            "Counts the distinct patterns with subscribers.", "", "@pubsub @slow"));
  t.AddSub("pubsub", PsSpec("help", 2, kLoading | kStale, CmdPubSubHelp, "6.2.0",
                            "Describes the PUBSUB subcommands.", "", "@slow"));
  t.AddSub("pubsub", PsSpec("shardchannels", -2, kIntrospect, CmdPubSubShardChannels, "7.0.0",
                            "Lists the shard channels with subscribers, optionally matching.",
                            "[pattern]", "@pubsub @slow"));
  t.AddSub("pubsub", PsSpec("shardnumsub", -2, kIntrospect, CmdPubSubShardNumSub, "7.0.0",
                            "Counts the subscribers of each given shard channel.",
                            "[shardchannel [shardchannel ...]]", "@pubsub @slow"));
}

}  // namespace cairn::cmd
