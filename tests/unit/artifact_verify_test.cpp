// Verification and signing of .cepo artifacts (tag [cepo]): hand-made corruptions of each kind,
// each refused with its reason (compiler/artifact/verify.hpp, compiler/jit/verify_code.hpp);
// Ed25519 signatures (compiler/artifact/signing.hpp); and the replay of every artifact the
// fuzzer ever crashed on (tests/fuzz/regressions/*.cepo, through tests/fuzz/artifact_fuzz.hpp).
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/signing.hpp"
#include "compiler/jit/verify_code.hpp"
#include "tests/fuzz/artifact_fuzz.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

namespace {

namespace artifact = cep::compiler::artifact;
namespace native = cep::runtime::native;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

const cep::fuzz::ArtifactSeed &seed() {
  static const cep::fuzz::ArtifactSeed s =
      cep::fuzz::compileArtifactSeed(CEP_SOURCE_DIR "/tests/fuzz/artifact_seed.cep");
  return s;
}

artifact::Artifact seedArtifact() {
  return artifact::decodeArtifact(seed().bytes, "seed.cepo");
}

std::string decodeError(const std::string &bytes,
                        const std::vector<artifact::PublicKey> *trusted = nullptr) {
  try {
    artifact::decodeArtifact(bytes, "x.cepo", trusted);
  } catch (const artifact::ArtifactError &e) {
    return e.what();
  }
  return "(accepted)";
}

// The artifact with `change` applied to its decoded form, encoded again.
template <typename Change> std::string changed(Change change) {
  artifact::Artifact a = seedArtifact();
  change(a);
  return artifact::encodeArtifact(a);
}

std::string codeError(const artifact::Artifact &a, bool object) {
  std::string error;
  bool ok = object ? cep::compiler::jit::verifyObjectCode(a.object, a.schema, a.patterns, error)
                   : cep::compiler::jit::verifyBitcode(a.bitcode, a.schema, a.patterns, error);
  return ok ? "(accepted)" : error;
}

std::string slurp(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("the seed artifact passes every check and runs", "[cepo]") {
  artifact::Artifact a = seedArtifact();
  REQUIRE(a.patterns.size() == 2);
  CHECK(codeError(a, true) == "(accepted)");
  CHECK(codeError(a, false) == "(accepted)");
}

TEST_CASE("hand-made corruptions of an artifact are refused with their reason", "[cepo]") {
  // Out-of-range indices (the image codec and the verifier).
  CHECK(decodeError(changed([](auto &a) { a.patterns[0].states[0].step = 9; })) ==
        "x.cepo: bad patterns section: pattern `probes`: state `small`: step 9 out of range (2)");
  CHECK_THAT(decodeError(changed([](auto &a) { a.patterns[1].start = 40; })),
             Contains("pattern `logins`: start state 40 out of range"));
  CHECK_THAT(decodeError(changed([](auto &a) { a.patterns[0].key_fields[0].clear(); })),
             Contains("corrupt: patterns: pattern `probes`: keyed, but no key fields for event "
                      "type `Payment`"));
  CHECK_THAT(decodeError(changed([](auto &a) { a.patterns[0].skip = native::Skip::ToFirst; })),
             Contains("pattern `probes`: skip to first without a skip step"));
  CHECK_THAT(decodeError(changed([](auto &a) {
               for (auto &s : a.patterns[1].states) {
                 if (s.kind == native::StateKind::Final) {
                   s.kind = native::StateKind::Normal;
                 }
               }
             })),
             Contains("a normal state without a step"));
  CHECK_THAT(decodeError(changed([](auto &a) {
               a.patterns[1].states.push_back(
                   {"$final2", native::StateKind::Final, -1, native::kNoBound, false});
             })),
             Contains("state 4 `$final2`: a second final state"));
  CHECK_THAT(
      decodeError(changed([](auto &a) { a.patterns[1].states[0].kind = native::StateKind::Stop; })),
      Contains("stop state with a step"));
  CHECK_THAT(decodeError(changed([](auto &a) { a.patterns[1].emit.fields[0].name = "a b"; })),
             Contains("field name `a b` is not a valid name"));
  CHECK_THAT(decodeError(changed([](auto &a) {
               a.patterns[1].emit.fields[1].symbol = a.patterns[1].emit.fields[0].symbol;
             })),
             Contains("used twice"));
  CHECK_THAT(decodeError(changed([](auto &a) { a.schema.types[1].name = "9Login"; })),
             Contains("schema: event type name `9Login` is not a valid name"));
  CHECK_THAT(decodeError(changed([](auto &a) { a.patterns[0].within_ms = INT64_MAX; })),
             Contains("within 9223372036854775807 ms out of range"));

  // A string whose length runs past the end of its section (here the first pattern's name).
  std::string bytes = seed().bytes;
  std::size_t pos = 12;
  for (int section = 0; section < 2; ++section) { // skip header and schema
    std::uint64_t size = 0;
    for (int i = 0; i < 8; ++i) {
      size |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[pos + 4 + i])) << (8 * i);
    }
    pos += 20 + size;
  }
  std::size_t name_length = pos + 20 + 4 + 4; // section header, codec version, image count
  bytes[name_length + 3] = '\x7f';
  cep::fuzz::fixArtifactChecksums(bytes);
  CHECK_THAT(decodeError(bytes), Contains("x.cepo: bad patterns section:"));
  CHECK_THAT(decodeError(bytes), Contains("truncated"));

  // An image edited apart from its code: valid on its own, refused against the code.
  artifact::Artifact a = seedArtifact();
  a.patterns[0].max_branches = 1;
  CHECK_THAT(codeError(a, true),
             Contains("object: pattern `probes`: the image differs from the one its code was "
                      "compiled with (fingerprint mismatch)"));
  CHECK_THAT(codeError(a, false), Contains("bitcode: pattern `probes`: the image differs"));
  a = seedArtifact();
  a.schema.types[0].fields[1].kind = cep::runtime::FieldKind::String; // the code reads a float
  CHECK_THAT(codeError(a, true), Contains("fingerprint mismatch"));

  // A symbol the code does not define.
  a = seedArtifact();
  a.patterns[1].emit.fields[0].symbol = "cep.p1.emit.7";
  CHECK(codeError(a, true) == "object: pattern `logins`: symbol `cep.p1.emit.7` is not defined");
  CHECK(codeError(a, false) ==
        "bitcode: pattern `logins`: function `cep.p1.emit.7` is not defined");
  a = seedArtifact();
  a.patterns[1].step_symbol = a.patterns[1].prefilter_symbol + "x";
  CHECK_THAT(codeError(a, true), Contains("is not defined"));

  // Bad code sections.
  a = seedArtifact();
  a.bitcode.resize(a.bitcode.size() / 2);
  CHECK_THAT(codeError(a, false), Contains("bitcode: cannot read it:"));
  a = seedArtifact();
  a.object = "\x7f"
             "ELF but not really";
  CHECK_THAT(codeError(a, true), Contains("object: not a 64-bit little-endian ELF file"));
  a = seedArtifact();
  a.object[16] = 2; // e_type: an executable, not a relocatable object
  CHECK_THAT(codeError(a, true), Contains("object: not a relocatable object (ELF type 2)"));
}

TEST_CASE("artifacts are signed with Ed25519 and checked against trusted keys", "[cepo]") {
  artifact::PublicKey pk, other_pk;
  artifact::SecretKey sk, other_sk;
  std::string error;
  REQUIRE(artifact::generateKeyPair(pk, sk, error));
  REQUIRE(artifact::generateKeyPair(other_pk, other_sk, error));
  CHECK(artifact::publicKeyOf(sk) == pk);
  CHECK(artifact::keyId(pk).size() == 16);

  std::string signed_bytes = artifact::signArtifact(seed().bytes, sk);
  CHECK(signed_bytes == artifact::signArtifact(seed().bytes, sk)); // deterministic
  CHECK(signed_bytes.compare(0, seed().bytes.size(), seed().bytes) == 0);
  std::vector<artifact::PublicKey> trusted = {other_pk, pk};
  artifact::Artifact a = artifact::decodeArtifact(signed_bytes, "x.cepo", &trusted);
  REQUIRE(a.signature);
  CHECK(a.signature->key == pk);
  CHECK(a.sections.back().id == artifact::SectionId::Signature);
  // Without --trust a signed artifact reads as well.
  CHECK(artifact::decodeArtifact(signed_bytes, "x.cepo").signature);

  std::vector<artifact::PublicKey> other = {other_pk};
  CHECK(decodeError(signed_bytes, &other) ==
        "x.cepo: signed by key " + artifact::keyId(pk) + ", which is not trusted (--trust)");
  CHECK(decodeError(seed().bytes, &trusted) ==
        "x.cepo: not signed; --trust loads only artifacts signed by a trusted key (cep compile "
        "--sign)");
  // Any byte changed, checksums recomputed: the signature no longer holds.
  for (std::size_t at : {std::size_t{40}, seed().bytes.size() / 2, seed().bytes.size() - 1}) {
    std::string tampered = signed_bytes;
    tampered[at] = static_cast<char>(tampered[at] ^ 1);
    cep::fuzz::fixArtifactChecksums(tampered);
    INFO("byte " << at);
    CHECK_THAT(decodeError(tampered, &trusted),
               Contains("bad signature (key " + artifact::keyId(pk) + ")"));
    CHECK_THAT(decodeError(tampered), Contains("bad signature"));
  }
  std::string cut = signed_bytes.substr(0, signed_bytes.size() - 1);
  CHECK_THAT(decodeError(cut), Contains("truncated: the signature section needs 100 bytes"));

  // Key files.
  CHECK(artifact::decodePublicKeyFile(artifact::encodePublicKeyFile(pk), "k.pub") == pk);
  CHECK(artifact::decodeSecretKeyFile(artifact::encodeSecretKeyFile(sk), "k.key").bytes ==
        sk.bytes);
  CHECK_THROWS_WITH(artifact::decodePublicKeyFile(artifact::encodeSecretKeyFile(sk), "k.key"),
                    "k.key: a secret key; --trust takes the public key (NAME.pub)");
  CHECK_THROWS_WITH(artifact::decodeSecretKeyFile(artifact::encodePublicKeyFile(pk), "k.pub"),
                    "k.pub: a public key; --sign takes the secret key (NAME.key)");
  CHECK_THROWS_WITH(artifact::decodePublicKeyFile("cep-ed25519-public-key 12\n", "k.pub"),
                    "k.pub: not a cep public key (cep keygen): the key has 2 hex digits, not 64");
  std::string damaged = artifact::encodeSecretKeyFile(sk);
  damaged[damaged.size() - 2] = damaged[damaged.size() - 2] == '0' ? '1' : '0';
  CHECK_THROWS_WITH(artifact::decodeSecretKeyFile(damaged, "k.key"),
                    "k.key: damaged secret key: its public half does not match its seed");

  fs::path dir = fs::temp_directory_path() / ("cep_keygen_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string name = (dir / "k").string();
  REQUIRE(artifact::writeKeyPair(name, pk, sk, error));
  struct stat st {};
  REQUIRE(::stat((name + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(artifact::readPublicKeyFile(name + ".pub") == pk);
  CHECK(artifact::readSecretKeyFile(name + ".key").bytes == sk.bytes);
  CHECK_FALSE(artifact::writeKeyPair(name, pk, sk, error)); // never replaces a key
  CHECK_THAT(error, Contains("File exists"));
  fs::remove_all(dir);
}

TEST_CASE("artifact fuzz regressions load or are refused, never crash", "[cepo][fuzz]") {
  std::string error;
  auto jit = cep::compiler::jit::Jit::create(2, error);
  REQUIRE(jit);
  std::string reason;
  std::size_t matches = 0;
  REQUIRE(cep::fuzz::runArtifactInput(seed().bytes, seed(), *jit, reason, matches) ==
          cep::fuzz::ArtifactOutcome::Ran);
  CHECK(matches == 3);
  fs::path dir = fs::path(CEP_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  std::size_t replayed = 0;
  for (const auto &entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".cepo") {
      continue;
    }
    INFO(entry.path().filename().string());
    reason.clear();
    CHECK_NOTHROW(cep::fuzz::runArtifactInput(slurp(entry.path()), seed(), *jit, reason, matches));
    ++replayed;
  }
  CHECK(replayed >= 1);
  // Code that reads `amount` as a float, a schema that says string: before fingerprints, the
  // matcher followed the float's bits as a string pointer.
  CHECK(cep::fuzz::runArtifactInput(slurp(dir / "schema_float_field_as_string.cepo"), seed(), *jit,
                                    reason, matches) == cep::fuzz::ArtifactOutcome::Refused);
  CHECK_THAT(reason, Contains("fingerprint mismatch"));
}

// LLVM's bitcode reader crashes on these (tests/fuzz/regressions/README.md), so verifyBitcode
// reads bitcode in a child process first. The replay above no longer reaches them (their object
// sections differ from today's seed, so it loads the object); here their bitcode goes straight
// to verifyBitcode, with another thread allocating the whole time: the child is a fresh process
// (tests/unit/main.cpp opts in), so a lock that thread holds cannot hang it as a fork's could.
TEST_CASE("bitcode that crashes LLVM's reader is refused from a child process, threads running",
          "[cepo][fuzz]") {
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load()) {
      std::vector<std::string> v(64, std::string(100, 'x'));
    }
  });
  artifact::Artifact good = seedArtifact();
  CHECK(codeError(good, false) == "(accepted)");
  fs::path dir = fs::path(CEP_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  std::size_t crashes = 0;
  for (const auto &entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("bitcode_reader_", 0) != 0) {
      continue;
    }
    INFO(name);
    std::string bytes = slurp(entry.path());
    cep::fuzz::fixArtifactChecksums(bytes);
    artifact::Artifact a = artifact::decodeArtifact(bytes, name);
    std::string error = codeError(a, false);
    CHECK(error != "(accepted)");
    if (name.find("segv") != std::string::npos) {
      CHECK_THAT(error, Contains("the LLVM bitcode reader crashed on it"));
      ++crashes;
    }
  }
  CHECK(crashes == 3);
  stop = true;
  busy.join();
}
