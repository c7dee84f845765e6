// One zstd stream per direction of the secure channel: the compressor keeps its
// context (window, entropy tables) across records so that small replication
// writes compress against everything sent before, and flushes only when the
// sender has nothing more queued; the decompressor's window is bounded so that a
// peer cannot make us allocate more than kMaxWindowLog allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "node/base/status.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace cairn::crypto {

// 8 MiB: what level 19 uses; levels 1..3 use 2 MiB or less.
inline constexpr int kMaxWindowLog = 23;

class ZstdCompressor {
 public:
  // Receives compressed output; the span is valid only during the call.
  using Sink = std::function<void(std::span<const uint8_t>)>;

  explicit ZstdCompressor(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  Status SetLevel(int level);
  // Feeds `in`; zstd may keep it buffered (nothing reaches `sink` yet).
  Status Compress(std::span<const uint8_t> in, const Sink& sink);
  // Everything fed so far reaches `sink` as a complete block (the stream stays open).
  Status Flush(const Sink& sink);

 private:
  Status Run(std::span<const uint8_t> in, bool flush, const Sink& sink);
  ZSTD_CCtx* cctx_;
};

class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // Decompresses from `in` into out[0..out_len): returns the bytes written and sets
  // *consumed. Stops when `in` is used up and zstd holds no more output, or when
  // `out` is full (call again with the rest of `in`). Corruption on bad input.
  Result<size_t> Decompress(std::span<const uint8_t> in, size_t* consumed, uint8_t* out,
                            size_t out_len);

 private:
  ZSTD_DCtx* dctx_;
};

}  // namespace cairn::crypto
