// X25519 key generation, base64 text and key files. See keys.h.
#include "crypto/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace cairn::crypto {

KeyPair::~KeyPair() { sodium_memzero(private_key.data(), private_key.size()); }

Status InitSodium() {
  // sodium_init returns 0 the first time, 1 when already done, -1 on failure.
  if (sodium_init() < 0) return Status::IOError("libsodium failed to initialise");
  return Status::Ok();
}

Result<Key> PublicFromPrivate(const Key& private_key) {
  if (Status st = InitSodium(); !st.ok()) return st;
  Key pub{};
  if (crypto_scalarmult_base(pub.data(), private_key.data()) != 0) {
    return Status::InvalidArgument("X25519 private key gives no public key");
  }
  return pub;
}

Result<KeyPair> KeyPairFromPrivate(const Key& private_key) {
  Result<Key> pub = PublicFromPrivate(private_key);
  if (!pub.ok()) return pub.status();
  KeyPair kp;
  kp.private_key = private_key;
  kp.public_key = *pub;
  return kp;
}

Result<KeyPair> GenerateKeyPair() {
  if (Status st = InitSodium(); !st.ok()) return st;
  Key priv{};
  randombytes_buf(priv.data(), priv.size());
  Result<KeyPair> kp = KeyPairFromPrivate(priv);
  sodium_memzero(priv.data(), priv.size());
  return kp;
}

std::string KeyToBase64(const Key& key) {
  constexpr size_t kLen = sodium_base64_ENCODED_LEN(kKeyLen, sodium_base64_VARIANT_ORIGINAL);
  char buf[kLen];
  sodium_bin2base64(buf, kLen, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return std::string(buf);
}

Result<Key> KeyFromBase64(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return Status::InvalidArgument("empty key");
  size_t last = text.find_last_not_of(kSpace);
  text = text.substr(first, last - first + 1);
  Key key{};
  size_t bin_len = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &bin_len,
                             &end, sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || bin_len != kKeyLen || end != text.data() + text.size()) {
    sodium_memzero(key.data(), key.size());
    return Status::InvalidArgument(
        "not a base64 32-byte key (expected 44 characters as wg genkey "
        "prints)");
  }
  return key;
}

bool KeysEqual(const Key& a, const Key& b) {
  return sodium_memcmp(a.data(), b.data(), kKeyLen) == 0;
}

void Wipe(void* data, size_t len) { sodium_memzero(data, len); }

Result<Key> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open key file " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("cannot stat key file " + path, err);
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument("key file " + path + " has mode " + mode +
                                   ": it must not be accessible by group or others; run `chmod "
                                   "600 " +
                                   path + "`");
  }
  // A key file holds 44 characters and a newline; anything past 1 KiB is not a key.
  char buf[1024];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = ::read(fd, buf + got, sizeof buf - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      sodium_memzero(buf, sizeof buf);
      return ErrnoStatus("cannot read key file " + path, err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  Result<Key> key = KeyFromBase64(std::string_view(buf, got));
  sodium_memzero(buf, sizeof buf);
  if (!key.ok()) return Status::InvalidArgument("key file " + path + ": " + key.status().message());
  return key;
}

}  // namespace cairn::crypto
