// Relay: copies bytes both ways between two streams until either ends — the
// secure channel's end of a tunnel (`cairn tunnel`) and of the node's secure port,
// where the other stream is a plain socket. Each direction has one 64 KiB buffer
// and reads again only after its write completed, so a slow side slows the other
// (backpressure) and memory stays at two buffers per relay.
#pragma once

#include <functional>
#include <memory>

#include "node/net/byte_stream.h"

namespace cairn::crypto {

// Runs until one side ends or fails; then both are closed and `done` runs.
void StartRelay(std::unique_ptr<net::ByteStream> a, std::unique_ptr<net::ByteStream> b,
                std::function<void()> done = {});

}  // namespace cairn::crypto
