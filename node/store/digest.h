// DEBUG DIGEST support: the same SHA1 mixing Redis 7.0 uses, so a Cairn dataset
// and a stock Redis dataset with equal content have equal digests (interop tests
// compare them directly).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "node/store/entry.h"

namespace cairn::store {

class Db;

// digest ^= SHA1(data)   (order-independent accumulation)
void XorDigest(unsigned char digest[20], std::string_view data);
// digest = SHA1(digest ^ SHA1(data))   (order-dependent accumulation)
void MixDigest(unsigned char digest[20], std::string_view data);

// Per-key digest (key bytes excluded), as Redis's xorObjectDigest.
void ValueDigest(const Db& db, const Entry* e, unsigned char digest[20]);
// Dataset digest over the given dbs; 40 hex chars, all zeros when empty.
std::string DatasetDigestHex(Db* const* dbs, size_t n);
std::string DigestHex(const unsigned char digest[20]);

}  // namespace cairn::store
