// Set values: the container(s) behind OBJ set and the hooks the keyspace uses.
// (Skeleton: the set module fills this in.)
#pragma once

#include <cstddef>

#include "node/store/entry.h"

namespace cairn::store {

void SetFree(Enc e, void* ptr);
void* SetClone(Enc e, const void* ptr);
size_t SetMemory(Enc e, const void* ptr);
size_t SetLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void SetDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store
