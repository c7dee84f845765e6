// The keyspace's view of container values: free, clone, size and length without
// knowing their internals. Each type module (list, hash, set, zset) provides the
// functions this file dispatches to.
#pragma once

#include <cstddef>
#include <string>

#include "node/store/entry.h"

namespace cairn::store {

void FreeContainer(ObjType t, Enc e, void* ptr);
void* CloneContainer(ObjType t, Enc e, const void* ptr);
// Approximate heap bytes of the container (MEMORY USAGE).
size_t ContainerMemory(ObjType t, Enc e, const void* ptr);
// Number of elements (LLEN/HLEN/SCARD/ZCARD).
size_t ContainerLength(ObjType t, Enc e, const void* ptr);
// Appends an order-independent digest input of the value: used by DEBUG DIGEST.
void DigestContainer(ObjType t, Enc e, const void* ptr, unsigned char out[20]);

}  // namespace cairn::store
