// Dataset and value digests in Redis 7.0's scheme (see debug.c there): SHA1
// mixing, element digests xored for unordered types.
#include "node/store/digest.h"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <cstring>

#include "node/store/db.h"
#include "node/store/value_ops.h"

namespace cairn::store {

void XorDigest(unsigned char digest[20], std::string_view data) {
  unsigned char h[20];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), h);
  for (int i = 0; i < 20; i++) digest[i] ^= h[i];
}

void MixDigest(unsigned char digest[20], std::string_view data) {
  XorDigest(digest, data);
  unsigned char h[20];
  SHA1(digest, 20, h);
  std::memcpy(digest, h, 20);
}

void ValueDigest(const Db& db, const Entry* e, unsigned char digest[20]) {
  uint32_t aux = htonl(static_cast<uint32_t>(e->type));
  MixDigest(digest, std::string_view(reinterpret_cast<const char*>(&aux), sizeof(aux)));
  if (e->type == ObjType::kString) {
    std::string scratch;
    MixDigest(digest, Db::StringValue(e, &scratch));
  } else {
    DigestContainer(e->type, e->enc, e->v.ptr, digest);
  }
  if (db.GetExpire(e) != -1) XorDigest(digest, "!!expire!!");
}

std::string DigestHex(const unsigned char digest[20]) {
  static const char* kHex = "0123456789abcdef";
  std::string s(40, '0');
  for (int i = 0; i < 20; i++) {
    s[2 * i] = kHex[digest[i] >> 4];
    s[2 * i + 1] = kHex[digest[i] & 15];
  }
  return s;
}

std::string DatasetDigestHex(Db* const* dbs, size_t n) {
  unsigned char final[20] = {0};
  for (size_t j = 0; j < n; j++) {
    Db* db = dbs[j];
    if (db->size() == 0) continue;
    uint32_t aux = htonl(static_cast<uint32_t>(j));
    MixDigest(final, std::string_view(reinterpret_cast<const char*>(&aux), sizeof(aux)));
    db->ForEach([&](const Entry* e) {
      unsigned char d[20] = {0};
      MixDigest(d, e->key());
      ValueDigest(*db, e, d);
      XorDigest(final, std::string_view(reinterpret_cast<const char*>(d), 20));
    });
  }
  return DigestHex(final);
}

}  // namespace cairn::store
