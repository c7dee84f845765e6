// List values: the keyspace hooks for OBJ list, whose only encoding is the
// QuickList (quicklist.h), as in Redis 7.0.
#pragma once

#include <cstddef>

#include "node/store/entry.h"
#include "node/store/quicklist.h"

namespace cairn::store {

void ListFree(Enc e, void* ptr);
void* ListClone(Enc e, const void* ptr);
size_t ListMemory(Enc e, const void* ptr);
size_t ListLength(Enc e, const void* ptr);
// Mixes the value into a Redis-compatible digest (see digest.h).
void ListDigest(Enc e, const void* ptr, unsigned char digest[20]);

}  // namespace cairn::store
