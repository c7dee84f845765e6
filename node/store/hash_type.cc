// Hash values (skeleton until the hash module lands).
#include "node/store/hash_type.h"

namespace cairn::store {

void HashFree(Enc, void*) {}
void* HashClone(Enc, const void*) { return nullptr; }
size_t HashMemory(Enc, const void*) { return 0; }
size_t HashLength(Enc, const void*) { return 0; }
void HashDigest(Enc, const void*, unsigned char*) {}

}  // namespace cairn::store
