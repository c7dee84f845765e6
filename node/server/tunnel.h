// `cairn tunnel`: the secure channel for any TCP connection, like spiped, so that a
// stock Redis master and replica can use Cairn's channel too.
//
//   client side: plain TCP in on --listen, each connection carried through the
//                channel to --connect (initiator; pins --peer-key)
//   server side: the channel in on --secure-listen (responder; --allow lists the
//                client keys), each connection forwarded as plain TCP to --forward
#pragma once

#include <string>
#include <vector>

namespace cairn::server {

int RunTunnel(const std::vector<std::string>& args);

}  // namespace cairn::server
