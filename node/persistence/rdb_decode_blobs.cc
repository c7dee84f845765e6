// Validating decoders for listpack, ziplist, intset and zipmap blobs found in RDB
// values. Layouts follow Redis 7.0's listpack.c, ziplist.c, intset.c and zipmap.c.
#include "node/persistence/rdb_decode_blobs.h"

#include <cstdint>
#include <cstring>

#include "node/base/number.h"

namespace cairn::persist::rdb {
namespace {

uint64_t LoadLe(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

int64_t SignExtend(uint64_t v, int bits) {
  if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

std::string IntText(int64_t v) {
  char buf[24];
  return std::string(buf, base::FormatInt64(buf, v));
}

// Sets `why` to "<msg> at blob byte <at>" (the offset inside the decoded blob).
bool Fail(std::string* why, const std::string& msg, size_t at) {
  *why = msg + " at blob byte " + std::to_string(at);
  return false;
}

// Bytes a listpack back-length takes for an entry of `len` bytes.
size_t BacklenSize(uint64_t len) {
  if (len < 128) return 1;
  if (len < 16384) return 2;
  if (len < 2097152) return 3;
  if (len < 268435456) return 4;
  return 5;
}

}  // namespace

bool DecodeListpack(std::string_view blob, std::vector<std::string>* out, std::string* why) {
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  size_t n = blob.size();
  if (n < 7)
    return Fail(why, "listpack of " + std::to_string(n) + " bytes shorter than its header", 0);
  if (LoadLe(b, 4) != n)
    return Fail(why,
                "listpack header claims " + std::to_string(LoadLe(b, 4)) + " bytes, blob has " +
                    std::to_string(n),
                0);
  uint64_t declared = LoadLe(b + 4, 2);
  if (b[n - 1] != 0xff) return Fail(why, "listpack missing terminator", n - 1);
  size_t pos = 6;
  size_t count = 0;
  while (true) {
    if (pos >= n) return Fail(why, "listpack entry past end", pos);
    unsigned char c = b[pos];
    if (c == 0xff) break;
    size_t hdr = 0;
    uint64_t slen = 0;
    bool is_str = false;
    int64_t ival = 0;
    size_t avail = n - 1 - pos;  // bytes before the terminator
    auto need = [&](size_t k) { return k <= avail; };
    if ((c & 0x80) == 0) {
      hdr = 1;
      ival = c & 0x7f;
    } else if ((c & 0xc0) == 0x80) {
      hdr = 1;
      slen = c & 0x3f;
      is_str = true;
    } else if ((c & 0xe0) == 0xc0) {
      if (!need(2)) return Fail(why, "listpack entry past end", pos);
      hdr = 2;
      ival = SignExtend((uint64_t{c & 0x1fu} << 8) | b[pos + 1], 13);
    } else if ((c & 0xf0) == 0xe0) {
      if (!need(2)) return Fail(why, "listpack entry past end", pos);
      hdr = 2;
      slen = (uint64_t{c & 0x0fu} << 8) | b[pos + 1];
      is_str = true;
    } else if (c == 0xf0) {
      if (!need(5)) return Fail(why, "listpack entry past end", pos);
      hdr = 5;
      slen = LoadLe(b + pos + 1, 4);
      is_str = true;
    } else {
      int width;
      switch (c) {
        case 0xf1:
          width = 2;
          break;
        case 0xf2:
          width = 3;
          break;
        case 0xf3:
          width = 4;
          break;
        case 0xf4:
          width = 8;
          break;
        default:
          return Fail(why, "listpack bad entry encoding " + std::to_string(c), pos);
      }
      if (!need(1 + width)) return Fail(why, "listpack entry past end", pos);
      hdr = 1;
      ival = SignExtend(LoadLe(b + pos + 1, width), width * 8);
      slen = width;  // payload bytes, counted below
    }
    uint64_t body = hdr + slen;
    size_t back = BacklenSize(body);
    if (body > avail || back > avail - body) return Fail(why, "listpack entry past end", pos);
    uint64_t bl = 0;
    for (size_t i = 0; i < back; i++) bl = (bl << 7) | (b[pos + body + i] & 0x7f);
    if (bl != body) return Fail(why, "listpack bad back-length", pos + body);
    if (is_str) {
      out->emplace_back(reinterpret_cast<const char*>(b + pos + hdr), slen);
    } else {
      out->push_back(IntText(ival));
    }
    count++;
    pos += body + back;
  }
  if (pos != n - 1) return Fail(why, "listpack data after terminator", pos);
  if (declared != 65535 && declared != count)
    return Fail(why,
                "listpack header claims " + std::to_string(declared) + " entries, found " +
                    std::to_string(count),
                4);
  return true;
}

bool DecodeZiplist(std::string_view blob, std::vector<std::string>* out, std::string* why) {
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  size_t n = blob.size();
  if (n < 11)
    return Fail(why, "ziplist of " + std::to_string(n) + " bytes shorter than its header", 0);
  if (LoadLe(b, 4) != n)
    return Fail(why,
                "ziplist header claims " + std::to_string(LoadLe(b, 4)) + " bytes, blob has " +
                    std::to_string(n),
                0);
  uint64_t tail = LoadLe(b + 4, 4);
  uint64_t declared = LoadLe(b + 8, 2);
  if (b[n - 1] != 0xff) return Fail(why, "ziplist missing terminator", n - 1);
  size_t pos = 10;
  size_t count = 0;
  size_t prev_len = 0;
  size_t last_start = 10;
  while (true) {
    if (pos >= n) return Fail(why, "ziplist entry past end", pos);
    if (b[pos] == 0xff) break;
    size_t start = pos;
    size_t avail = n - 1 - pos;
    size_t plen_size = b[pos] < 254 ? 1 : 5;
    if (plen_size > avail) return Fail(why, "ziplist entry past end", pos);
    uint64_t plen = plen_size == 1 ? b[pos] : LoadLe(b + pos + 1, 4);
    if (plen != prev_len) return Fail(why, "ziplist bad prevlen " + std::to_string(plen), pos);
    size_t p = plen_size;
    if (p >= avail) return Fail(why, "ziplist entry past end", pos);
    unsigned char c = b[pos + p];
    size_t hdr;
    uint64_t slen = 0;
    bool is_str = true;
    int64_t ival = 0;
    switch (c >> 6) {
      case 0:
        hdr = 1;
        slen = c & 0x3f;
        break;
      case 1:
        hdr = 2;
        if (p + 2 > avail) return Fail(why, "ziplist entry past end", pos);
        slen = (uint64_t{c & 0x3fu} << 8) | b[pos + p + 1];
        break;
      case 2:
        if (c != 0x80)
          return Fail(why, "ziplist bad string encoding " + std::to_string(c), pos + p);
        hdr = 5;
        if (p + 5 > avail) return Fail(why, "ziplist entry past end", pos);
        slen = (uint64_t{b[pos + p + 1]} << 24) | (uint64_t{b[pos + p + 2]} << 16) |
               (uint64_t{b[pos + p + 3]} << 8) | b[pos + p + 4];
        break;
      default: {
        is_str = false;
        hdr = 1;
        int width = 0;
        if (c == 0xc0)
          width = 2;
        else if (c == 0xd0)
          width = 4;
        else if (c == 0xe0)
          width = 8;
        else if (c == 0xf0)
          width = 3;
        else if (c == 0xfe)
          width = 1;
        else if (c >= 0xf1 && c <= 0xfd)
          ival = (c & 0x0f) - 1;
        else
          return Fail(why, "ziplist bad entry encoding " + std::to_string(c), pos + p);
        if (p + hdr + width > avail) return Fail(why, "ziplist entry past end", pos);
        if (width > 0) ival = SignExtend(LoadLe(b + pos + p + 1, width), width * 8);
        slen = width;
      }
    }
    if (slen > avail || p + hdr > avail - slen) return Fail(why, "ziplist entry past end", pos);
    if (is_str) {
      out->emplace_back(reinterpret_cast<const char*>(b + pos + p + hdr), slen);
    } else {
      out->push_back(IntText(ival));
    }
    prev_len = p + hdr + slen;
    pos += prev_len;
    last_start = start;
    count++;
  }
  if (pos != n - 1) return Fail(why, "ziplist data after terminator", pos);
  if (tail != (count == 0 ? 10 : last_start))
    return Fail(why, "ziplist bad tail offset " + std::to_string(tail), 4);
  if (declared != 65535 && declared != count)
    return Fail(why,
                "ziplist header claims " + std::to_string(declared) + " entries, found " +
                    std::to_string(count),
                8);
  return true;
}

bool DecodeIntset(std::string_view blob, std::vector<std::string>* out, std::string* why) {
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8)
    return Fail(why, "intset of " + std::to_string(blob.size()) + " bytes shorter than its header",
                0);
  uint64_t width = LoadLe(b, 4);
  uint64_t len = LoadLe(b + 4, 4);
  if (width != 2 && width != 4 && width != 8)
    return Fail(why, "intset bad encoding " + std::to_string(width), 0);
  if (len == 0) return Fail(why, "intset empty", 4);
  if ((blob.size() - 8) / width != len || (blob.size() - 8) % width != 0)
    return Fail(why,
                "intset header claims " + std::to_string(len) + " elements of " +
                    std::to_string(width) + " bytes, blob has " + std::to_string(blob.size() - 8) +
                    " bytes after it",
                4);
  int64_t prev = 0;
  for (uint64_t i = 0; i < len; i++) {
    int64_t v =
        SignExtend(LoadLe(b + 8 + i * width, static_cast<int>(width)), static_cast<int>(width * 8));
    if (i > 0 && v <= prev) return Fail(why, "intset not sorted or has duplicates", 8 + i * width);
    prev = v;
    out->push_back(IntText(v));
  }
  return true;
}

bool DecodeZipmap(std::string_view blob, std::vector<std::string>* out, std::string* why) {
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  size_t n = blob.size();
  if (n < 2) return Fail(why, "zipmap too short", 0);
  size_t pos = 1;  // skip the (advisory) count byte
  auto read_len = [&](uint64_t* len) {
    if (pos >= n) return false;
    if (b[pos] < 254) {
      *len = b[pos++];
      return true;
    }
    if (b[pos] != 254 || n - pos < 5) return false;
    *len = LoadLe(b + pos + 1, 4);
    pos += 5;
    return true;
  };
  while (true) {
    if (pos >= n) return Fail(why, "zipmap entry past end", pos);
    if (b[pos] == 255) break;
    const size_t entry = pos;
    uint64_t klen, vlen;
    if (!read_len(&klen) || klen > n - pos) return Fail(why, "zipmap entry past end", entry);
    out->emplace_back(reinterpret_cast<const char*>(b + pos), klen);
    pos += klen;
    if (!read_len(&vlen) || pos >= n) return Fail(why, "zipmap entry past end", entry);
    uint64_t free_bytes = b[pos++];
    if (vlen > n - pos || free_bytes > n - pos - vlen)
      return Fail(why, "zipmap entry past end", entry);
    out->emplace_back(reinterpret_cast<const char*>(b + pos), vlen);
    pos += vlen + free_bytes;
  }
  if (pos != n - 1) return Fail(why, "zipmap data after terminator", pos);
  return true;
}

}  // namespace cairn::persist::rdb
