// List values (skeleton until the list module lands).
#include "node/store/list_type.h"

namespace cairn::store {

void ListFree(Enc, void*) {}
void* ListClone(Enc, const void*) { return nullptr; }
size_t ListMemory(Enc, const void*) { return 0; }
size_t ListLength(Enc, const void*) { return 0; }
void ListDigest(Enc, const void*, unsigned char*) {}

}  // namespace cairn::store
