// Command-line entry: `cairn server [CONFIG] [--directive value ...]`,
// `cairn --help`, `cairn --version`; later issues add genkey, pubkey,
// snapshot, promote and restore here.
#pragma once

namespace cairn::server {

int Main(int argc, char** argv);

}  // namespace cairn::server
