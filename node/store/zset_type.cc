// ZSet values (skeleton until the zset module lands).
#include "node/store/zset_type.h"

namespace cairn::store {

void ZSetFree(Enc, void*) {}
void* ZSetClone(Enc, const void*) { return nullptr; }
size_t ZSetMemory(Enc, const void*) { return 0; }
size_t ZSetLength(Enc, const void*) { return 0; }
void ZSetDigest(Enc, const void*, unsigned char*) {}

}  // namespace cairn::store
