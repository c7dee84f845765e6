// zstd stream codec for the secure channel; see zstd_stream.h.
#include "crypto/zstd_stream.h"

#include <zstd.h>

#include <string>

namespace cairn::crypto {
namespace {

Status ZstdError(std::string_view what, size_t code) {
  return Status::Corruption(std::string(what) + ": " + ZSTD_getErrorName(code));
}

}  // namespace

ZstdCompressor::ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()) {
  // An out-of-range level falls back to zstd's default (the config checks the range).
  if (!SetLevel(level).ok()) (void)SetLevel(ZSTD_CLEVEL_DEFAULT);
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(cctx_); }

Status ZstdCompressor::SetLevel(int level) {
  size_t r = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(r)) return ZstdError("zstd level", r);
  // Levels above 19 pick windows beyond what the peer accepts.
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_windowLog, level > 19 ? kMaxWindowLog : 0);
  return Status::Ok();
}

Status ZstdCompressor::Compress(std::span<const uint8_t> in, const Sink& sink) {
  return Run(in, false, sink);
}

Status ZstdCompressor::Flush(const Sink& sink) { return Run({}, true, sink); }

Status ZstdCompressor::Run(std::span<const uint8_t> in, bool flush, const Sink& sink) {
  uint8_t buf[32 * 1024];
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer output{buf, sizeof buf, 0};
    size_t left =
        ZSTD_compressStream2(cctx_, &output, &input, flush ? ZSTD_e_flush : ZSTD_e_continue);
    if (ZSTD_isError(left)) return ZstdError("zstd compression", left);
    if (output.pos > 0) sink(std::span<const uint8_t>(buf, output.pos));
    // continue: done once the input is taken; flush: once zstd reports nothing left.
    if (flush ? left == 0 : input.pos == input.size && output.pos < output.size) break;
  }
  return Status::Ok();
}

ZstdDecompressor::ZstdDecompressor() : dctx_(ZSTD_createDCtx()) {
  ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, kMaxWindowLog);
}

ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(dctx_); }

Result<size_t> ZstdDecompressor::Decompress(std::span<const uint8_t> in, size_t* consumed,
                                            uint8_t* out, size_t out_len) {
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out, out_len, 0};
  while (output.pos < output.size) {
    size_t before_in = input.pos, before_out = output.pos;
    size_t r = ZSTD_decompressStream(dctx_, &output, &input);
    if (ZSTD_isError(r)) return ZstdError("zstd stream from the peer", r);
    // No progress either way: all input taken and nothing more to flush.
    if (input.pos == before_in && output.pos == before_out) break;
  }
  *consumed = input.pos;
  return output.pos;
}

}  // namespace cairn::crypto
