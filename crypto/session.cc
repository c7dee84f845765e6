// Transport records of the secure channel; see session.h.
#include "crypto/session.h"

#include <algorithm>
#include <cstring>

namespace cairn::crypto {
namespace {

void PutLength(uint8_t* p, size_t len) {
  p[0] = static_cast<uint8_t>(len >> 8);
  p[1] = static_cast<uint8_t>(len);
}

}  // namespace

Session::Session(TransportKeys keys, const SessionOptions& options)
    : keys_(std::move(keys)), options_(options) {
  if (options_.compress) zstd_out_ = std::make_unique<ZstdCompressor>(options_.compression_level);
  body_.reserve(kMaxRecordBody);
}

Session::~Session() {
  if (!body_.empty()) Wipe(body_.data(), body_.size());
}

Status Session::SealRecord(RecordType type, ByteView body, Bytes* out) {
  if (closed_) return Status::Aborted("secure channel already closed");
  size_t len = 1 + body.size() + kTagLen;
  size_t at = out->size();
  out->resize(at + kRecordHeaderLen + len);
  uint8_t* p = out->data() + at;
  PutLength(p, len);
  p[2] = static_cast<uint8_t>(type);
  if (!body.empty()) std::memcpy(p + 3, body.data(), body.size());
  Status st = keys_.send.SealInPlace(ByteView(p, kRecordHeaderLen), p + 2, 1 + body.size());
  if (!st.ok()) {
    out->resize(at);
    return st;
  }
  stats_.wire_out += kRecordHeaderLen + len;
  stats_.records_out++;
  since_rekey_ += kRecordHeaderLen + len;
  if (type != RecordType::kRekey && type != RecordType::kClose && options_.rekey_after_bytes > 0 &&
      since_rekey_ >= options_.rekey_after_bytes) {
    return Rekey(out);
  }
  return Status::Ok();
}

Status Session::SealPending(Bytes* out) {
  if (body_.empty()) return Status::Ok();
  Status st = SealRecord(body_type_, body_, out);
  Wipe(body_.data(), body_.size());
  body_.clear();
  return st;
}

Status Session::AddBody(RecordType type, ByteView data, Bytes* out) {
  if (!body_.empty() && body_type_ != type) {
    if (Status st = SealPending(out); !st.ok()) return st;
  }
  body_type_ = type;
  while (!data.empty()) {
    // A whole record straight from the input when nothing is pending.
    if (body_.empty() && data.size() >= kMaxRecordBody) {
      if (Status st = SealRecord(type, data.first(kMaxRecordBody), out); !st.ok()) return st;
      data = data.subspan(kMaxRecordBody);
      continue;
    }
    size_t take = std::min(data.size(), kMaxRecordBody - body_.size());
    body_.insert(body_.end(), data.begin(), data.begin() + take);
    data = data.subspan(take);
    if (body_.size() == kMaxRecordBody) {
      if (Status st = SealPending(out); !st.ok()) return st;
    }
  }
  return Status::Ok();
}

Status Session::Write(ByteView data, Bytes* out) {
  if (data.empty()) return Status::Ok();
  stats_.app_out += data.size();
  unflushed_ = true;
  if (!zstd_out_) return AddBody(RecordType::kData, data, out);
  sink_status_ = Status::Ok();
  Status st = zstd_out_->Compress(data, [&](std::span<const uint8_t> z) {
    if (sink_status_.ok()) sink_status_ = AddBody(RecordType::kZstd, z, out);
  });
  return st.ok() ? sink_status_ : st;
}

Status Session::Flush(Bytes* out) {
  if (zstd_out_ && unflushed_) {
    sink_status_ = Status::Ok();
    Status st = zstd_out_->Flush([&](std::span<const uint8_t> z) {
      if (sink_status_.ok()) sink_status_ = AddBody(RecordType::kZstd, z, out);
    });
    if (!st.ok()) return st;
    if (!sink_status_.ok()) return sink_status_;
  }
  unflushed_ = false;
  return SealPending(out);
}

Status Session::Keepalive(Bytes* out) { return SealRecord(RecordType::kKeepalive, {}, out); }

Status Session::Rekey(Bytes* out) {
  if (Status st = SealRecord(RecordType::kRekey, {}, out); !st.ok()) return st;
  keys_.send.Rekey();
  since_rekey_ = 0;
  stats_.rekeys_out++;
  return Status::Ok();
}

Status Session::Close(std::string_view reason, Bytes* out) {
  if (Status st = Flush(out); !st.ok()) return st;
  reason = reason.substr(0, 1024);
  Status st =
      SealRecord(RecordType::kClose,
                 ByteView(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()), out);
  closed_ = true;
  return st;
}

Status Session::Inflate(std::string* out, size_t max_out) {
  constexpr size_t kStep = 128 * 1024;
  while (HasBufferedInput() && out->size() < max_out) {
    size_t room = std::min(max_out - out->size(), kStep);
    size_t at = out->size();
    out->resize(at + room);
    size_t consumed = 0;
    auto n = zstd_in_->Decompress(ByteView(zin_).subspan(zpos_), &consumed,
                                  reinterpret_cast<uint8_t*>(out->data() + at), room);
    if (!n.ok()) {
      out->resize(at);
      return n.status();
    }
    out->resize(at + *n);
    stats_.app_in += *n;
    zpos_ += consumed;
    // A full window may mean zstd holds more output even with no input left.
    inflate_more_ = *n == room;
  }
  if (zpos_ >= zin_.size()) {
    zin_.clear();
    zpos_ = 0;
  }
  return Status::Ok();
}

Result<size_t> Session::Read(uint8_t* in, size_t len, std::string* out, size_t max_out) {
  if (HasBufferedInput()) {
    if (Status st = Inflate(out, max_out); !st.ok()) return st;
  }
  size_t pos = 0;
  while (!peer_closed_ && !HasBufferedInput() && out->size() < max_out &&
         len - pos >= kRecordHeaderLen) {
    uint8_t* p = in + pos;
    size_t rlen = (size_t{p[0]} << 8) | p[1];
    if (rlen < kMinRecordLen) {
      return Status::Corruption("secure channel record of " + std::to_string(rlen) +
                                " bytes is shorter than its tag");
    }
    if (len - pos < kRecordHeaderLen + rlen) break;
    Status st = keys_.recv.OpenInPlace(ByteView(p, kRecordHeaderLen), p + 2, rlen);
    if (!st.ok()) {
      return Status::Corruption("secure channel record " + std::to_string(stats_.records_in) +
                                " failed authentication");
    }
    pos += kRecordHeaderLen + rlen;
    stats_.wire_in += kRecordHeaderLen + rlen;
    stats_.records_in++;
    auto type = static_cast<RecordType>(p[2]);
    ByteView body(p + 3, rlen - kMinRecordLen);
    switch (type) {
      case RecordType::kData:
        out->append(reinterpret_cast<const char*>(body.data()), body.size());
        stats_.app_in += body.size();
        break;
      case RecordType::kZstd:
        if (!zstd_in_) zstd_in_ = std::make_unique<ZstdDecompressor>();
        zin_.assign(body.begin(), body.end());
        zpos_ = 0;
        if (Status zs = Inflate(out, max_out); !zs.ok()) return zs;
        break;
      case RecordType::kKeepalive:
      case RecordType::kRekey:
        if (!body.empty()) return Status::Corruption("secure channel control record with a body");
        if (type == RecordType::kRekey) {
          keys_.recv.Rekey();
          stats_.rekeys_in++;
        }
        break;
      case RecordType::kClose:
        peer_closed_ = true;
        close_reason_.assign(reinterpret_cast<const char*>(body.data()), body.size());
        break;
      default:
        return Status::Corruption("secure channel record of unknown type " + std::to_string(p[2]));
    }
    Wipe(p + 2, rlen - kTagLen);
  }
  return pos;
}

}  // namespace cairn::crypto
