// Keyed hashing (SipHash-2-4 via libsodium, as Redis keys its dicts with SipHash
// against hash flooding) and a fast non-cryptographic RNG for sampling.
#include "node/store/hash_table.h"

#include <sodium.h>

namespace cairn::store {
namespace {
unsigned char g_seed[crypto_shorthash_KEYBYTES];
uint64_t g_rng_state = 0x9E3779B97F4A7C15ULL;
}  // namespace

void InitHashSeed() {
  if (sodium_init() < 0) return;  // libsodium unusable: keep the fixed seed
  randombytes_buf(g_seed, sizeof(g_seed));
  randombytes_buf(&g_rng_state, sizeof(g_rng_state));
  if (g_rng_state == 0) g_rng_state = 1;
}

uint64_t HashBytes(std::string_view s) {
  uint64_t out;
  crypto_shorthash(reinterpret_cast<unsigned char*>(&out),
                   reinterpret_cast<const unsigned char*>(s.data()), s.size(), g_seed);
  return out;
}

uint64_t RandomU64() {
  // xorshift64*: fine for picking random keys, never for secrets.
  uint64_t x = g_rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  g_rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

}  // namespace cairn::store
