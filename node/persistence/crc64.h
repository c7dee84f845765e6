// CRC-64 as RDB files use it (Redis's crc64: the Jones polynomial
// 0xad93d23594c935a9, reflected, initial value 0, no final xor).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn::persist {

// Continues `crc` over `len` bytes; start with 0.
uint64_t Crc64(uint64_t crc, const void* data, size_t len);

}  // namespace cairn::persist
