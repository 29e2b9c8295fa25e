// Ed25519 keys and signatures for .cepo artifacts (libsodium): `cep keygen -o NAME` writes a key
// pair, `cep compile --sign NAME.key` signs, `cep run x.cepo --trust NAME.pub` loads only
// artifacts signed by a trusted key. The signature section's layout is in cepo.hpp.
//
// Key files are one line of text:
//   NAME.pub  "cep-ed25519-public-key <64 hex digits: the 32-byte public key>\n"        (0644)
//   NAME.key  "cep-ed25519-secret-key <128 hex digits: libsodium's 64-byte secret key,
//             the 32-byte seed then the public key>\n"                                  (0600)
// A key's id (`cep explain`, errors) is the first 8 bytes of BLAKE2b-256 of its public key, in
// hex. LLVM-free. Errors are ArtifactError "<file>: <reason>".
#pragma once

#include "compiler/artifact/cepo.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::artifact {

struct SecretKey {
  std::array<std::uint8_t, 64> bytes{};
};

// A new key pair from the system's random source; false and `error` set when libsodium cannot
// start.
bool generateKeyPair(PublicKey &public_key, SecretKey &secret_key, std::string &error);
PublicKey publicKeyOf(const SecretKey &secret_key);
std::string keyId(const PublicKey &key); // 16 hex digits

std::string encodePublicKeyFile(const PublicKey &key);
std::string encodeSecretKeyFile(const SecretKey &key);
// `path` names the file in errors.
PublicKey decodePublicKeyFile(std::string_view text, const std::string &path);
SecretKey decodeSecretKeyFile(std::string_view text, const std::string &path);
PublicKey readPublicKeyFile(const std::string &path);
SecretKey readSecretKeyFile(const std::string &path);
// Writes NAME.key (mode 0600) and NAME.pub (0644), refusing to replace either (O_EXCL); false
// and `error` set on failure (nothing left behind).
bool writeKeyPair(const std::string &name, const PublicKey &public_key, const SecretKey &secret_key,
                  std::string &error);

// `artifact` (encodeArtifact's bytes, unsigned) with a signature section by `key` appended.
// Deterministic: the same bytes and key give the same signature.
std::string signArtifact(std::string artifact, const SecretKey &key);
// Ed25519 verification of `signature` over `message`.
bool verifySignature(std::string_view message, const Signature &signature);

} // namespace cep::compiler::artifact
