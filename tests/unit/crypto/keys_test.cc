// X25519 keys: generation, public-from-private, base64 as wg prints it, key files.
#include "crypto/keys.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using namespace cairn::crypto;  // NOLINT: test file
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/cairn-keys-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

fs::path WriteFile(const fs::path& p, const std::string& text, mode_t mode) {
  std::ofstream(p, std::ios::binary) << text;
  REQUIRE(::chmod(p.c_str(), mode) == 0);
  return p;
}

}  // namespace

TEST_CASE("RFC 7748 test key: public from private", "[keys]") {
  // RFC 7748 section 6.1, Alice.
  auto priv = KeyFromBase64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
  REQUIRE(priv.ok());
  auto pub = PublicFromPrivate(*priv);
  REQUIRE(pub.ok());
  // 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a
  CHECK(KeyToBase64(*pub) == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
}

TEST_CASE("keys round-trip through base64", "[keys]") {
  for (int i = 0; i < 20; ++i) {
    auto kp = GenerateKeyPair();
    REQUIRE(kp.ok());
    auto pub = PublicFromPrivate(kp->private_key);
    REQUIRE(pub.ok());
    CHECK(KeysEqual(*pub, kp->public_key));
    std::string text = KeyToBase64(kp->private_key);
    CHECK(text.size() == 44);
    CHECK(text.back() == '=');
    auto back = KeyFromBase64(text + "\n");
    REQUIRE(back.ok());
    CHECK(KeysEqual(*back, kp->private_key));
  }
  auto a = GenerateKeyPair(), b = GenerateKeyPair();
  CHECK_FALSE(KeysEqual(a->public_key, b->public_key));
}

TEST_CASE("bad base64 keys are refused", "[keys]") {
  CHECK_FALSE(KeyFromBase64("").ok());
  CHECK_FALSE(KeyFromBase64("abc").ok());
  // 31 and 33 bytes.
  CHECK_FALSE(KeyFromBase64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==").ok());
  CHECK_FALSE(KeyFromBase64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").ok());
  // URL-safe alphabet is not the wg format.
  CHECK_FALSE(KeyFromBase64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC_=").ok());
  // Trailing junk.
  CHECK_FALSE(KeyFromBase64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= x").ok());
}

TEST_CASE("ReadKeyFile refuses a key readable by others and accepts 0600", "[keys]") {
  TempDir dir;
  auto kp = GenerateKeyPair();
  REQUIRE(kp.ok());
  std::string text = KeyToBase64(kp->private_key) + "\n";

  fs::path loose = WriteFile(dir.path / "loose.key", text, 0644);
  auto r = ReadKeyFile(loose.string());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(loose.string()) != std::string::npos);
  CHECK(r.status().message().find("chmod 600 " + loose.string()) != std::string::npos);
  CHECK(r.status().message().find("0644") != std::string::npos);

  fs::path group_w = WriteFile(dir.path / "gw.key", text, 0620);
  CHECK_FALSE(ReadKeyFile(group_w.string()).ok());

  fs::path tight = WriteFile(dir.path / "tight.key", text, 0600);
  auto ok = ReadKeyFile(tight.string());
  REQUIRE(ok.ok());
  CHECK(KeysEqual(*ok, kp->private_key));

  fs::path ro = WriteFile(dir.path / "ro.key", text, 0400);
  CHECK(ReadKeyFile(ro.string()).ok());

  fs::path junk = WriteFile(dir.path / "junk.key", "not a key\n", 0600);
  auto j = ReadKeyFile(junk.string());
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().message().find(junk.string()) != std::string::npos);

  auto missing = ReadKeyFile((dir.path / "absent.key").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == cairn::StatusCode::kIOError);
}
