// Pub/Sub hooks for the rest of the server: sharded-channel subscriptions
// (ClientState/ServerState::shard_channels) must be dropped when a client
// resets or goes away, and PING / CLIENT LIST need to know whether a client is
// in subscribed mode.
#pragma once

#include <cstddef>

#include "node/commands/client_state.h"
#include "node/commands/server_state.h"

namespace cairn::cmd {

// Removes every SSUBSCRIBE of client c without replying; returns how many
// there were. Call alongside UnsubscribeAll (RESET, client gone).
size_t ShardUnsubscribeAll(ServerState& s, ClientState& c);

// Number of shard channels client c is subscribed to.
size_t ShardSubscriptionCount(const ClientState& c);

// Number of shard channels with at least one connected subscriber (INFO's
// pubsubshard_channels).
size_t ShardChannelCount(const ServerState& s);

// True when c has any subscription (channels, patterns or shard channels):
// Redis's CLIENT_PUBSUB. PING in this mode on RESP2 replies ["pong", msg].
bool InPubSubMode(const ClientState& c);

}  // namespace cairn::cmd
