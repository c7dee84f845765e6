// X25519 keys as Cairn handles them: generation, the public half from the private
// half, base64 text as `wg genkey` / `wg pubkey` print it, and key files that are
// refused when group or others may read them (as ssh refuses a loose private key).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "node/base/status.h"

namespace cairn::crypto {

inline constexpr size_t kKeyLen = 32;
using Key = std::array<uint8_t, kKeyLen>;

// A static or ephemeral key pair; the private half is wiped when it goes away.
struct KeyPair {
  Key private_key{};
  Key public_key{};
  KeyPair() = default;
  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;
  ~KeyPair();
};

// libsodium's one-time initialisation; safe to call from anywhere, any number of times.
Status InitSodium();

// A fresh random key pair (private key clamped by X25519 itself on use).
Result<KeyPair> GenerateKeyPair();

// X25519(private, 9): the public key belonging to a private key.
Result<Key> PublicFromPrivate(const Key& private_key);
Result<KeyPair> KeyPairFromPrivate(const Key& private_key);

// Standard base64 with padding (44 characters for a key), as WireGuard prints keys.
std::string KeyToBase64(const Key& key);
// Accepts exactly one 32-byte key in standard padded base64; surrounding whitespace
// is ignored.
Result<Key> KeyFromBase64(std::string_view text);

// Constant time: use this, never ==, wherever a key is compared with another.
bool KeysEqual(const Key& a, const Key& b);

// Wipes any byte range that held a secret.
void Wipe(void* data, size_t len);

// Reads one base64 key from `path`. Refuses a file that group or others may read or
// write, with an error naming the file and the fix (`chmod 600 <file>`).
Result<Key> ReadKeyFile(const std::string& path);

}  // namespace cairn::crypto
