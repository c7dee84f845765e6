// ZSet values: the container(s) behind OBJ zset and the hooks the keyspace uses.
// (Skeleton: the zset module fills this in.)
#pragma once

#include <cstddef>

#include "node/store/entry.h"

namespace cairn::store {

void ZSetFree(Enc e, void* ptr);
void* ZSetClone(Enc e, const void* ptr);
size_t ZSetMemory(Enc e, const void* ptr);
size_t ZSetLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void ZSetDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store
