// Validating decoders for the compact blobs RDB files embed: listpack, ziplist,
// intset and zipmap. Each checks bounds, counts and entry sizes before trusting them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cairn::persist::rdb {

// Each appends the blob's elements (integers as decimal text) to `out`; on a malformed
// blob returns false and sets `why` to a short reason.
bool DecodeListpack(std::string_view blob, std::vector<std::string>* out, std::string* why);
bool DecodeZiplist(std::string_view blob, std::vector<std::string>* out, std::string* why);
bool DecodeIntset(std::string_view blob, std::vector<std::string>* out, std::string* why);
// Zipmap: appends field, value, field, value ...
bool DecodeZipmap(std::string_view blob, std::vector<std::string>* out, std::string* why);

}  // namespace cairn::persist::rdb
