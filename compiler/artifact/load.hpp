// Loading a .cepo artifact (cepo.hpp) as a library call: decode and check the bytes, pick the
// object code when it was built for this host (else compile the bitcode again), verify the code
// against the pattern images, load it into a load host (compiler/jit/load_host.hpp), and make
// matchers from it. `cep run x.cepo` calls it; `cep serve` calls it on its admin thread with the
// bytes of a POST body while another thread runs matchers from the same host
// (load_host.hpp "Threads").
//
// Library cep_loader: the artifact format, verification and signatures (cep_artifact), the
// runtime and the native matcher, and the ORC load host; no front end, no code generator
// (tests/loader/ checks its link closure and runs a .cepo with nothing else linked).
//
//   compiler::artifact::LoadOptions options;
//   options.name = "rules.cepo";                       // prefixes every error
//   options.trusted = {readPublicKeyFile("ops.pub")};  // empty: any or no signature
//   try {
//     compiler::artifact::LoadedArtifact loaded = compiler::artifact::loadArtifactFile(
//         "rules.cepo", options);
//     std::cout << loaded.version() << '\n';           // "3f9a0c1b22de": the hash's prefix
//     auto matchers = loaded.makeMatchers({});         // one per pattern; again for a new set
//   } catch (const compiler::artifact::LoadError &e) {
//     // e.what(): "rules.cepo: corrupt: ..."; e.kind(): User (exit 1) or Internal (exit 3)
//   }
//
// The matchers share the loaded code: it stays loaded while any of them (or the LoadedArtifact)
// lives, and is unloaded from the Jit when the last one goes.
#pragma once

#include "compiler/artifact/cepo.hpp"
#include "compiler/jit/load_host.hpp"
#include "runtime/matcher.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::artifact {

// Why an artifact could not be loaded, in one line ("<name>: <reason>"), and whose fault:
// User: the artifact is bad (corrupt, another format or ABI, a bad or untrusted signature, code
// that does not match its images); Internal: this process could not load a good one (host
// target unavailable, the JIT failed). `cep run` exits 1 and 3 for them.
class LoadError : public std::runtime_error {
public:
  enum class Kind { User, Internal, NeedsJit };
  LoadError(Kind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
  bool user() const { return kind_ == Kind::User; }

private:
  Kind kind_;
};

struct LoadOptions {
  std::string name = "artifact";  // the artifact as the user knows it: a path, "POST /deploy"
  std::vector<PublicKey> trusted; // non-empty: the artifact must be signed by one of these keys
  bool force_bitcode = false;     // compile the bitcode even when the object code would do
  // The load host to load into (a compiler::jit::Jit is one too); null: a new one at the
  // artifact's optimisation level, kept alive by the LoadedArtifact and its matchers.
  std::shared_ptr<jit::LoadHost> jit;
};

struct LoadedArtifact {
  Header header; // cep version, sources, target, opt level
  // The rule files as checked (the optional sources section, cepo.hpp); nullopt: none.
  std::optional<std::vector<SourceText>> sources;
  std::shared_ptr<const runtime::Schema> schema; // the artifact's event types
  std::vector<std::shared_ptr<const runtime::native::PatternImage>> images; // declaration order
  std::vector<runtime::native::PatternCode> code; // parallel to images; keeps the code loaded
  std::vector<std::string> pattern_names;         // parallel to images
  // The aggregates (runtime/native/aggregate_image.hpp) and their code, declaration order.
  std::vector<std::shared_ptr<const runtime::native::AggregateImage>> aggregates;
  std::vector<runtime::native::AggregateCode> aggregate_code; // parallel to aggregates
  bool object_code = true; // the object code was loaded (false: the bitcode compiled again)
  Target host;             // this host as the JIT targets it (differs from header.target when
                           // the bitcode was used for another CPU)
  std::string hash;        // lower-case hex BLAKE2b-256 of the artifact's bytes
  std::shared_ptr<jit::LoadHost> jit; // the load host the code is in
  // Where the load's time went (`cep run x.cepo --stats`), wall milliseconds: reading, decoding
  // and checking the artifact (signature, hash, code against images); detecting the host and
  // setting up the load host (none when options.jit was given); linking the code (or compiling
  // the bitcode) and resolving its functions.
  struct Timings {
    double read_ms = 0;
    double setup_ms = 0;
    double link_ms = 0;
  } timings;

  // The first 12 hex digits of the hash: the version `cep serve` shows and writes ("@version").
  std::string version() const { return hash.substr(0, 12); }
  // One native matcher per pattern and one native aggregate operator per aggregate, in operator
  // order (declaration order over both), sharing the loaded code; may be called any number of
  // times (each call is a fresh set with empty state).
  std::vector<std::unique_ptr<runtime::Matcher>>
  makeMatchers(const runtime::MatcherOptions &options) const;
};

// Loads the artifact in `bytes`. Throws LoadError.
LoadedArtifact loadArtifact(std::string_view bytes, const LoadOptions &options);
// Reads the file at `path` and loads it; options.name is replaced by `path`. Throws LoadError.
LoadedArtifact loadArtifactFile(const std::string &path, LoadOptions options);

// This host as the load host targets it (triple, CPU, sorted CPU features): an artifact whose
// header.target equals it has its object code loaded, else its bitcode. False and `error` set
// when the host target is not available in this LLVM. (Defined in compiler/jit/host_target.cpp.)
bool hostTarget(Target &out, std::string &error);

// Lower-case hex BLAKE2b-256 of `bytes` (libsodium crypto_generichash, 32 bytes).
std::string artifactHash(std::string_view bytes);

} // namespace cep::compiler::artifact
