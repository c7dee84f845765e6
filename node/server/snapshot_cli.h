// `cairn snapshot list|verify|prune`: the snapshot directory of a backup node, read
// offline (the node need not run). Output is a table for people; exit codes say
// whether everything verified / the prune went through.
#pragma once

#include <string>
#include <vector>

namespace cairn::server {

int RunSnapshot(const std::vector<std::string>& args);

}  // namespace cairn::server
