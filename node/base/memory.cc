// Counted allocation wrappers and process memory figures.
#include "node/base/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

// Present only when jemalloc is linked in (weak, so libc builds link too).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace cairn::base {
namespace {
std::atomic<size_t> g_used{0};
std::atomic<size_t> g_peak{0};
}  // namespace

namespace internal {
bool g_counting_new = false;
void AddUsed(size_t n) { g_used.fetch_add(n, std::memory_order_relaxed); }
void SubUsed(size_t n) { g_used.fetch_sub(n, std::memory_order_relaxed); }
}  // namespace internal

size_t UsedMemory() { return g_used.load(std::memory_order_relaxed); }
size_t PeakMemory() { return g_peak.load(std::memory_order_relaxed); }
void UpdatePeakMemory() {
  size_t u = UsedMemory();
  if (u > g_peak.load(std::memory_order_relaxed)) g_peak.store(u, std::memory_order_relaxed);
}
void ResetPeakMemory() { g_peak.store(UsedMemory(), std::memory_order_relaxed); }
bool CountingNewInstalled() { return internal::g_counting_new; }

size_t ProcessRss() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string AllocatorName() {
  if (mallctl == nullptr) return "libc";
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  std::string v(version);
  return "jemalloc-" + v.substr(0, v.find('-'));
}

size_t TotalSystemMemory() {
  return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void* ZMalloc(size_t size) {
  void* p = std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  internal::AddUsed(malloc_usable_size(p));
  return p;
}

void* ZRealloc(void* p, size_t size) {
  if (!p) return ZMalloc(size);
  size_t old = malloc_usable_size(p);
  void* q = std::realloc(p, size ? size : 1);
  if (!q) throw std::bad_alloc();
  internal::SubUsed(old);
  internal::AddUsed(malloc_usable_size(q));
  return q;
}

void ZFree(void* p) {
  if (!p) return;
  internal::SubUsed(malloc_usable_size(p));
  std::free(p);
}

size_t ZUsableSize(void* p) { return p ? malloc_usable_size(p) : 0; }

}  // namespace cairn::base
