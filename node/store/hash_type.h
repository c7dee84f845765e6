// Hash values: the container(s) behind OBJ hash and the hooks the keyspace uses.
// (Skeleton: the hash module fills this in.)
#pragma once

#include <cstddef>

#include "node/store/entry.h"

namespace cairn::store {

void HashFree(Enc e, void* ptr);
void* HashClone(Enc e, const void* ptr);
size_t HashMemory(Enc e, const void* ptr);
size_t HashLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void HashDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store
