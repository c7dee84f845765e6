// Dispatch from (type, encoding) to the container modules. Each type module
// owns its case: list_type, hash_type, set_type, zset_type.
#include "node/store/value_ops.h"

#include <cstdlib>

#include "node/base/log.h"
#include "node/store/hash_type.h"
#include "node/store/list_type.h"
#include "node/store/set_type.h"
#include "node/store/zset_type.h"

namespace cairn::store {

void FreeContainer(ObjType t, Enc e, void* ptr) {
  switch (t) {
    case ObjType::kList:
      return ListFree(e, ptr);
    case ObjType::kHash:
      return HashFree(e, ptr);
    case ObjType::kSet:
      return SetFree(e, ptr);
    case ObjType::kZSet:
      return ZSetFree(e, ptr);
    case ObjType::kString:
      break;
  }
}

void* CloneContainer(ObjType t, Enc e, const void* ptr) {
  switch (t) {
    case ObjType::kList:
      return ListClone(e, ptr);
    case ObjType::kHash:
      return HashClone(e, ptr);
    case ObjType::kSet:
      return SetClone(e, ptr);
    case ObjType::kZSet:
      return ZSetClone(e, ptr);
    case ObjType::kString:
      break;
  }
  return nullptr;
}

size_t ContainerMemory(ObjType t, Enc e, const void* ptr) {
  switch (t) {
    case ObjType::kList:
      return ListMemory(e, ptr);
    case ObjType::kHash:
      return HashMemory(e, ptr);
    case ObjType::kSet:
      return SetMemory(e, ptr);
    case ObjType::kZSet:
      return ZSetMemory(e, ptr);
    case ObjType::kString:
      break;
  }
  return 0;
}

size_t ContainerLength(ObjType t, Enc e, const void* ptr) {
  switch (t) {
    case ObjType::kList:
      return ListLength(e, ptr);
    case ObjType::kHash:
      return HashLength(e, ptr);
    case ObjType::kSet:
      return SetLength(e, ptr);
    case ObjType::kZSet:
      return ZSetLength(e, ptr);
    case ObjType::kString:
      break;
  }
  return 0;
}

void DigestContainer(ObjType t, Enc e, const void* ptr, unsigned char out[20]) {
  switch (t) {
    case ObjType::kList:
      return ListDigest(e, ptr, out);
    case ObjType::kHash:
      return HashDigest(e, ptr, out);
    case ObjType::kSet:
      return SetDigest(e, ptr, out);
    case ObjType::kZSet:
      return ZSetDigest(e, ptr, out);
    case ObjType::kString:
      break;
  }
}

}  // namespace cairn::store
