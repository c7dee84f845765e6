// INFO text generation, shared by the INFO command and internal callers.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "node/commands/server_state.h"

namespace cairn::cmd {

// The fields of one INFO section, in order ("name:value" lines).
using InfoFieldList = std::vector<std::pair<std::string, std::string>>;

// Appends a field: strings as they are, numbers (and bools, as 0/1) in decimal.
template <typename T>
void AddInfoField(InfoFieldList& out, std::string name, const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string>) {
    out.emplace_back(std::move(name), std::string(value));
  } else {
    out.emplace_back(std::move(name), std::to_string(value));
  }
}

// Sections as Redis 7.0: none = default set; "all", "everything", "default" or
// section names (case-insensitive).
std::string GenerateInfo(ServerState& s, const std::vector<std::string>& sections);

}  // namespace cairn::cmd
