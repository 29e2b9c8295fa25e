// .cepo artifacts: rules compiled ahead of time (`cep compile`), run without the source or the
// front end (`cep run x.cepo`), described by `cep explain x.cepo`.
//
// Layout (integers little-endian; str = u32 byte length + bytes):
//   "CEPO"  u32 format version (kFormatVersion)  u32 ABI version (runtime::native::kAbiVersion)
//   then five sections, in this order, each  u32 id, u64 size, u64 FNV-1a 64 of the content,
//   content:
//     1 header    str cep version, u32 n + n * str source name (load order, relative to the
//                 first rule file's folder), 32 bytes SHA-256 of the sources (per file in load
//                 order: str name, u64 size, bytes), str target triple, str CPU name,
//                 u32 n + n * str CPU feature ("+avx2", "-avx512f", sorted), u8 opt level,
//                 u32 n + n * str disabled pass (sorted)
//     2 schema    runtime/native/image_codec.hpp encodeSchema
//     3 patterns  runtime/native/image_codec.hpp encodeImages (declaration order)
//     4 object    the host's relocatable object code of the program's module (ELF on Linux),
//                 made with the loading JIT's target machine settings
//     5 bitcode   the same module, optimised, as LLVM bitcode (re-JITted on another CPU)
//   then, only in formats 3 and 4 (format 3: an artifact with aggregates; one without is written
//   as format 2, which a cep from before aggregates reads too):
//     7 aggregates runtime/native/aggregate_codec.hpp encodeAggregates (declaration order; in
//                 format 4 always present, maybe with no aggregate)
//   then, only in format 4 (an artifact with its rule sources; `cep compile` writes them
//   unless --no-sources; one without is written as format 2 or 3, which a cep from before
//   sources reads too):
//     8 sources   u32 n + n * (str name, str text): the rule files as checked, in load order
//                 (the module and its imports; names as in the header). Their SHA-256 (as the
//                 header's) must equal the header's source sha256, and the names its sources.
//                 Read by `cep run X.cepo --trace` and `cep serve`'s traces, which check them
//                 into a shadow interpreter (docs/debugging.md)
//   then, only in format 4, optional sections with ids above 8 in rising order, each checked
//   (header, checksum) and skipped by this cep: a later one can add such a section without a
//   new format version;
//   then, only in a signed artifact (cep compile --sign, signing.hpp):
//     6 signature u32 scheme (1: Ed25519), 32 bytes public key, 64 bytes Ed25519 signature over
//                 every byte of the file before this section's header (the prefix and sections
//                 1-5, 7, 8 and any optional ones); the section's own header is fixed by its
//                 content (id 6, size 100, the content's checksum) and checked like every other
//   and nothing after the last section.
//
// Reproducible: the same sources and the same cep build give a byte-identical file (no
// timestamps, no absolute paths; everything from unordered containers is sorted).
//
// Reading checks the magic, then the format and ABI versions (refusing artifacts of another
// one with the exact reason), then every section's id, size and checksum, then the signature
// (with trusted keys: present and by one of them, else refused before any section is decoded;
// without: valid when present), then decodes the schema and the patterns (checked against each
// other) and verifies all of it (verify.hpp). Errors are ArtifactError "<name>: <reason>".
// LLVM-free: reading needs neither LLVM nor the front end.
#pragma once

#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::artifact {

// 2: the optional signature section; 3: the aggregates section; 4: optional sections (the rule
// sources). Formats 2 to 4 are read.
constexpr std::uint32_t kFormatVersion = 4;
constexpr std::uint32_t kOldestFormatVersion = 2;
// The format an artifact is written in: 2 without aggregates or sources, 3 with aggregates and
// without sources, 4 with sources.
constexpr std::uint32_t kPatternsOnlyFormatVersion = 2;
constexpr std::uint32_t kAggregatesFormatVersion = 3;
inline constexpr char kMagic[4] = {'C', 'E', 'P', 'O'};

enum class SectionId : std::uint32_t {
  Header = 1,
  Schema,
  Patterns,
  Object,
  Bitcode,
  Signature,
  Aggregates,
  Sources, // optional (format 4)
};
const char *sectionName(SectionId id); // "header", "schema", ...

// What code in an artifact was compiled for; compared with the host's before loading objects.
struct Target {
  std::string triple;
  std::string cpu;
  std::vector<std::string> features; // sorted

  bool operator==(const Target &) const = default;
};

struct Header {
  // Decoded: the file's format; encodeArtifact writes the one its content needs (2 or 3).
  std::uint32_t format = kFormatVersion;
  std::uint32_t abi = runtime::native::kAbiVersion;
  std::string cep_version;
  std::vector<std::string> sources;
  std::array<std::uint8_t, 32> source_hash{};
  Target target;
  std::uint8_t opt_level = 2;
  std::vector<std::string> disabled_passes;
};

struct SectionSize {
  SectionId id;
  std::uint64_t size;
};

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  bool operator==(const PublicKey &) const = default;
};

struct Signature {
  PublicKey key;
  std::array<std::uint8_t, 64> bytes{};
};

// One rule file of the optional sources section: its name as the header records it, its text.
struct SourceText {
  std::string name;
  std::string text;
  bool operator==(const SourceText &) const = default;
};

struct Artifact {
  Header header;
  runtime::Schema schema;
  std::vector<runtime::native::PatternImage> patterns;
  std::vector<runtime::native::AggregateImage> aggregates; // formats 3 and 4
  // The rule files as checked (format 4); nullopt: the artifact carries none (--no-sources, or
  // written before sources were).
  std::optional<std::vector<SourceText>> sources;
  std::string object;
  std::string bitcode;
  std::vector<SectionSize> sections;  // filled by decodeArtifact, for `cep explain`
  std::optional<Signature> signature; // filled by decodeArtifact (signArtifact writes it)
};

class ArtifactError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The unsigned artifact (Artifact::signature is ignored: signing.hpp signArtifact signs).
std::string encodeArtifact(const Artifact &artifact);
// `name` (the file as the user gave it) prefixes every error. With `trusted` (cep run --trust),
// an artifact not signed by one of those keys is refused before its sections are decoded.
Artifact decodeArtifact(std::string_view bytes, const std::string &name,
                        const std::vector<PublicKey> *trusted = nullptr);
// The bytes of the file at `path`; ArtifactError "<path>: <reason>" when it is a directory or
// cannot be read.
std::string readArtifactBytes(const std::string &path);
// Reads and decodes the file at `path`.
Artifact readArtifactFile(const std::string &path, const std::vector<PublicKey> *trusted = nullptr);
// Writes `bytes` to `path` through a fresh temporary in the same folder (mkstemp: O_EXCL, so
// nothing planted at its name is followed), synced and renamed over `path` (never a
// half-written artifact). Refuses a `path` that exists and is not a regular file (FIFO, device,
// directory, symbolic link). False and `error` (`cannot write "<path>": <why>`) on failure.
bool writeArtifactFile(const std::string &path, std::string_view bytes, std::string &error);

// The header's source sha256 of `sources` (aot.hpp sourceHash over the same names and texts).
std::array<std::uint8_t, 32> sourceTextHash(const std::vector<SourceText> &sources);

// Lower-case hex of the source hash.
std::string hex(const std::array<std::uint8_t, 32> &hash);

} // namespace cep::compiler::artifact
