// Structural verification of a decoded .cepo artifact (compiler/artifact/cepo.hpp), LLVM-free:
// everything the header, the schema and the pattern images claim, checked against the ABI's
// invariants (runtime/native/image.hpp) before anything of the artifact is used. The code
// sections are checked by compiler/jit/verify_code.hpp (LLVM).
//
// What it proves: the data our printers (`cep explain`), loaders and the native matcher index
// with is in range and consistent (every state, step, event type, field and key index in range,
// names valid and unique, counts within the limits below, the state invariants of
// compiler/nfa/verifier.cpp: a normal start state, at most one final state, a step exactly on
// normal states, positive bounds; timeout emit fields only with a timeout emit). The edges of
// the state graph are in the code, not the image: the native matcher checks every branch the
// step function returns against the image's states. What it cannot
// prove: that the code does what the image says; the code is bound to its images by their
// fingerprints (image_codec.hpp imageFingerprint) and made trustworthy only by a signature.
#pragma once

#include "compiler/artifact/cepo.hpp"

#include <cstdint>
#include <string>

namespace cep::compiler::artifact {

// Limits (docs/limits.md "Artifacts"): far above what `cep compile` makes, low enough that a
// hostile count cannot make a loader allocate without bound.
constexpr std::size_t kMaxEventTypes = 4096;
constexpr std::size_t kMaxPatterns = 65536;
constexpr std::size_t kMaxStates = 1u << 20;
constexpr std::size_t kMaxSteps = 1u << 20;
constexpr std::size_t kMaxEmitFields = 4096;
constexpr std::uint32_t kMaxBranches = 1u << 20;
constexpr std::size_t kMaxNameBytes = 1024;
// Largest `within` an artifact may carry, in ms (about 146 million years): event time plus it
// cannot overflow for event times within ±(2^62 ms).
constexpr std::int64_t kMaxWithinMs = std::int64_t{1} << 62;

// Throws ArtifactError "<name>: corrupt: <section> ...: <reason>" on the first violation.
void verifyArtifact(const Artifact &artifact, const std::string &name);

} // namespace cep::compiler::artifact
