// Ed25519 keys and artifact signatures through libsodium (compiler/artifact/signing.hpp).
#include "compiler/artifact/signing.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/snapshot_codec.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sodium.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::compiler::artifact {

namespace {

constexpr std::string_view kPublicTag = "cep-ed25519-public-key ";
constexpr std::string_view kSecretTag = "cep-ed25519-secret-key ";
static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64 &&
              crypto_sign_BYTES == 64);

bool startSodium() {
  return sodium_init() >= 0; // idempotent; 1 when already started
}

std::string toHex(const std::uint8_t *bytes, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[bytes[i] >> 4];
    s += digits[bytes[i] & 15];
  }
  return s;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// "<tag><2n lower-case hex digits>\n" into `out`.
template <std::size_t N>
void decodeKeyLine(std::string_view text, std::string_view tag, std::array<std::uint8_t, N> &out,
                   const std::string &path, const char *what) {
  auto fail = [&](const std::string &why) {
    throw ArtifactError(path + ": not a cep " + what + " (cep keygen): " + why);
  };
  if (text.substr(0, tag.size()) != tag) {
    fail("it does not start with \"" + std::string(tag.substr(0, tag.size() - 1)) + "\"");
  }
  text.remove_prefix(tag.size());
  if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  if (text.size() != 2 * N) {
    fail("the key has " + std::to_string(text.size()) + " hex digits, not " +
         std::to_string(2 * N));
  }
  for (std::size_t i = 0; i < N; ++i) {
    int hi = hexDigit(text[2 * i]);
    int lo = hexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      fail("the key is not lower-case hex");
    }
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
}

std::string readSmallFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    throw ArtifactError(path + ": cannot open: " + std::strerror(errno));
  }
  std::string text(4096, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(file.gcount()));
  return text; // longer files fail the key format
}

// Creates `path` with `mode`, never replacing a file, and writes `text`.
bool writeNewFile(const std::string &path, std::string_view text, mode_t mode, std::string &error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot create \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  // The mode regardless of the umask (the secret key must never be readable by others).
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    done += ok ? static_cast<std::size_t>(n) : 0;
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    error = "cannot write \"" + path + "\": " + std::strerror(saved);
    ::unlink(path.c_str());
  }
  return ok;
}

} // namespace

bool generateKeyPair(PublicKey &public_key, SecretKey &secret_key, std::string &error) {
  if (!startSodium()) {
    error = "libsodium cannot start (no random source?)";
    return false;
  }
  crypto_sign_keypair(public_key.bytes.data(), secret_key.bytes.data());
  return true;
}

PublicKey publicKeyOf(const SecretKey &secret_key) {
  startSodium();
  PublicKey key;
  crypto_sign_ed25519_sk_to_pk(key.bytes.data(), secret_key.bytes.data());
  return key;
}

std::string keyId(const PublicKey &key) {
  startSodium();
  std::array<std::uint8_t, 32> hash{};
  crypto_generichash(hash.data(), hash.size(), key.bytes.data(), key.bytes.size(), nullptr, 0);
  return toHex(hash.data(), 8);
}

std::string encodePublicKeyFile(const PublicKey &key) {
  return std::string(kPublicTag) + toHex(key.bytes.data(), key.bytes.size()) + "\n";
}

std::string encodeSecretKeyFile(const SecretKey &key) {
  return std::string(kSecretTag) + toHex(key.bytes.data(), key.bytes.size()) + "\n";
}

PublicKey decodePublicKeyFile(std::string_view text, const std::string &path) {
  if (text.substr(0, kSecretTag.size()) == kSecretTag) {
    throw ArtifactError(path + ": a secret key; --trust takes the public key (NAME.pub)");
  }
  PublicKey key;
  decodeKeyLine(text, kPublicTag, key.bytes, path, "public key");
  return key;
}

SecretKey decodeSecretKeyFile(std::string_view text, const std::string &path) {
  if (text.substr(0, kPublicTag.size()) == kPublicTag) {
    throw ArtifactError(path + ": a public key; --sign takes the secret key (NAME.key)");
  }
  SecretKey key;
  decodeKeyLine(text, kSecretTag, key.bytes, path, "secret key");
  // libsodium's secret key is the seed then the public key: they must agree.
  startSodium();
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), key.bytes.data());
  if (sk != key.bytes) {
    throw ArtifactError(path + ": damaged secret key: its public half does not match its seed");
  }
  return key;
}

PublicKey readPublicKeyFile(const std::string &path) {
  return decodePublicKeyFile(readSmallFile(path), path);
}

SecretKey readSecretKeyFile(const std::string &path) {
  return decodeSecretKeyFile(readSmallFile(path), path);
}

bool writeKeyPair(const std::string &name, const PublicKey &public_key, const SecretKey &secret_key,
                  std::string &error) {
  const std::string secret = name + ".key";
  if (!writeNewFile(secret, encodeSecretKeyFile(secret_key), 0600, error)) {
    return false;
  }
  if (!writeNewFile(name + ".pub", encodePublicKeyFile(public_key), 0644, error)) {
    ::unlink(secret.c_str());
    return false;
  }
  return true;
}

std::string signArtifact(std::string artifact, const SecretKey &key) {
  Signature s;
  s.key = publicKeyOf(key);
  crypto_sign_detached(s.bytes.data(), nullptr,
                       reinterpret_cast<const unsigned char *>(artifact.data()), artifact.size(),
                       key.bytes.data());
  std::string content;
  runtime::SnapshotWriter c(content);
  c.u32(1); // Ed25519
  c.bytes(s.key.bytes.data(), s.key.bytes.size());
  c.bytes(s.bytes.data(), s.bytes.size());
  runtime::SnapshotWriter w(artifact);
  w.u32(static_cast<std::uint32_t>(SectionId::Signature));
  w.u64(content.size());
  w.u64(runtime::runSnapshotChecksum(content));
  w.bytes(content.data(), content.size());
  return artifact;
}

bool verifySignature(std::string_view message, const Signature &signature) {
  if (!startSodium()) {
    return false;
  }
  return crypto_sign_verify_detached(signature.bytes.data(),
                                     reinterpret_cast<const unsigned char *>(message.data()),
                                     message.size(), signature.key.bytes.data()) == 0;
}

} // namespace cep::compiler::artifact
