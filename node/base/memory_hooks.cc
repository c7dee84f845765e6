// Counting replacements of the global operator new/delete. Linked into the
// `cairn` binary (not into the libraries), so that every C++ allocation shows in
// used_memory, as zmalloc makes every allocation show in Redis.
#include <malloc.h>

#include <cstdlib>
#include <new>

#include "node/base/memory.h"

namespace {

void* CountedAlloc(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  cairn::base::internal::AddUsed(malloc_usable_size(p));
  return p;
}

void* CountedAlignedAlloc(std::size_t n, std::align_val_t al) {
  void* p = nullptr;
  if (posix_memalign(&p, static_cast<size_t>(al), n ? n : 1) != 0) throw std::bad_alloc();
  cairn::base::internal::AddUsed(malloc_usable_size(p));
  return p;
}

void CountedFree(void* p) noexcept {
  if (!p) return;
  cairn::base::internal::SubUsed(malloc_usable_size(p));
  std::free(p);
}

struct Installer {
  Installer() { cairn::base::internal::g_counting_new = true; }
} g_installer;

}  // namespace

void* operator new(std::size_t n) { return CountedAlloc(n); }
void* operator new[](std::size_t n) { return CountedAlloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t al) { return CountedAlignedAlloc(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return CountedAlignedAlloc(n, al); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete(void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { CountedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { CountedFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { CountedFree(p); }
