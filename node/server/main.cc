// The `cairn` binary.
#include "node/server/cli.h"

int main(int argc, char** argv) { return cairn::server::Main(argc, argv); }
