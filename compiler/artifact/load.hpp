// Loading a .cepo artifact (cepo.hpp) as a library call: decode and check the bytes, pick the
// object code when it was built for this host (else compile the bitcode again), verify the code
// against the pattern images, load it, and make matchers from it. x86-64 object code is linked by
// our own linker (compiler/jit/object_linker.hpp, no LLVM); bitcode and AArch64 objects go into
// an ORC load host (compiler/jit/load_host.hpp). `cep run x.cepo` calls it; `cep serve` calls it
// on its admin thread with the bytes of a POST body while another thread runs matchers from
// earlier loads (load_host.hpp "Threads"; linked objects share no state at all).
//
// Two libraries implement this header:
//   cep_loader       everything above: the artifact format, verification and signatures
//                    (cep_artifact), the runtime and the native matcher, our object linker and
//                    the ORC load host (the shared libLLVM); no front end, no code generator
//                    (tests/loader/ checks its link closure and runs a .cepo with nothing else).
//   cep_loader_lean  the same without ORC and without the shared libLLVM (only LLVM's static
//                    TargetParser, Support and Demangle archives, for the host CPU): it loads
//                    x86-64 object code built for this host and throws LoadError::Kind::NeedsJit
//                    for anything that needs the JIT (bitcode, force_bitcode, another CPU's
//                    artifact, an AArch64 object). A process that only runs .cepo files starts
//                    in a few milliseconds with it: the shared libLLVM costs every start its
//                    366k relocations. Never link both into one executable.
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
//     // e.what(): "rules.cepo: corrupt: ..."; e.kind(): User (exit 1), Internal (exit 3) or,
//     // from cep_loader_lean only, NeedsJit (hand the work to a program with the JIT)
//   }
//
// The matchers share the loaded code: it stays loaded while any of them (or the LoadedArtifact)
// lives, and is unmapped (or unloaded from the load host) when the last one goes.
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
// target unavailable, the JIT or the linker failed); NeedsJit (cep_loader_lean only): the
// artifact may be good but loading it needs the JIT this program does not have ("<name>: this
// program loads object code only: ..."), so a program with the JIT must load it. `cep run` exits
// 1 and 3 for the first two; user() is true for User only.
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
  // The load host to load bitcode and AArch64 objects into (a compiler::jit::Jit is one too);
  // null: a new one at the artifact's optimisation level when one is needed, kept alive by the
  // LoadedArtifact and its matchers. x86-64 object code never goes into it (our own linker maps
  // it: compiler/jit/object_linker.hpp). Ignored by cep_loader_lean.
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
  // The load host the code is in, or options.jit (null when none was given and our linker
  // linked x86-64 object code: no load host is made for it).
  std::shared_ptr<jit::LoadHost> jit;
  // Where the load's time went (`cep run x.cepo --stats`), wall milliseconds: reading, decoding
  // and checking the artifact (signature, hash, code against images); detecting the host and
  // setting up the load host (none when options.jit was given or object code is linked by our
  // linker); linking the code (or compiling the bitcode) and resolving its functions.
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
// when the host cannot be detected. (Defined in compiler/jit/host_cpu.cpp, with LLVM's host
// detection only: both loader libraries have it.)
bool hostTarget(Target &out, std::string &error);

// Lower-case hex BLAKE2b-256 of `bytes` (libsodium crypto_generichash, 32 bytes).
std::string artifactHash(std::string_view bytes);

} // namespace cep::compiler::artifact
