// List values: free/clone/size/length/digest hooks over the QuickList.
#include "node/store/list_type.h"

#include "node/store/digest.h"

namespace cairn::store {
namespace {

const QuickList* AsList(const void* ptr) { return static_cast<const QuickList*>(ptr); }

}  // namespace

void ListFree(Enc, void* ptr) { delete static_cast<QuickList*>(ptr); }

void* ListClone(Enc, const void* ptr) { return AsList(ptr)->Clone(); }

size_t ListMemory(Enc, const void* ptr) { return AsList(ptr)->MemoryUsage(); }

size_t ListLength(Enc, const void* ptr) { return AsList(ptr)->size(); }

// As Redis's xorObjectDigest: each element mixed in order, head to tail.
void ListDigest(Enc, const void* ptr, unsigned char digest[20]) {
  AsList(ptr)->ForEach([&](std::string_view v) { MixDigest(digest, v); });
}

}  // namespace cairn::store
