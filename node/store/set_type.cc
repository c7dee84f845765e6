// Set values (skeleton until the set module lands).
#include "node/store/set_type.h"

namespace cairn::store {

void SetFree(Enc, void*) {}
void* SetClone(Enc, const void*) { return nullptr; }
size_t SetMemory(Enc, const void*) { return 0; }
size_t SetLength(Enc, const void*) { return 0; }
void SetDigest(Enc, const void*, unsigned char*) {}

}  // namespace cairn::store
