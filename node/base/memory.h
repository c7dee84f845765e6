// Memory accounting: every heap byte the process allocates through malloc-family
// wrappers or C++ new is counted (by usable size), giving INFO's used_memory and
// the figure maxmemory is enforced against, as Redis's zmalloc does.
#pragma once

#include <cstddef>
#include <string>

namespace cairn::base {

// Bytes currently allocated (usable sizes), counted since process start.
size_t UsedMemory();
// Peak of UsedMemory() observed by UpdatePeakMemory().
size_t PeakMemory();
void UpdatePeakMemory();
// Restarts peak tracking from the current usage (CONFIG RESETSTAT).
void ResetPeakMemory();
// Resident set size from /proc/self/statm.
size_t ProcessRss();
// "jemalloc-5.3.0" when the binary runs on jemalloc, else "libc" (INFO mem_allocator).
std::string AllocatorName();
// Physical memory of the machine (INFO total_system_memory).
size_t TotalSystemMemory();

// Counted malloc family for the store's own blocks.
void* ZMalloc(size_t size);
void* ZRealloc(void* p, size_t size);
void ZFree(void* p);
size_t ZUsableSize(void* p);

// Whether operator new/delete are the counting replacements (true in the
// `cairn` binary, which links memory_hooks.cc).
bool CountingNewInstalled();

namespace internal {
void AddUsed(size_t n);
void SubUsed(size_t n);
extern bool g_counting_new;
}  // namespace internal

}  // namespace cairn::base
