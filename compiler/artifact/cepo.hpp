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
//   and nothing after the last section.
//
// Reproducible: the same sources and the same cep build give a byte-identical file (no
// timestamps, no absolute paths; everything from unordered containers is sorted).
//
// Reading checks the magic, then the format and ABI versions (refusing artifacts of another
// one with the exact reason), then every section's id, size and checksum, then decodes the
// schema and the patterns (checked against each other). Errors are ArtifactError
// "<name>: <reason>". LLVM-free: reading needs neither LLVM nor the front end.
#pragma once

#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::artifact {

constexpr std::uint32_t kFormatVersion = 1;
inline constexpr char kMagic[4] = {'C', 'E', 'P', 'O'};

enum class SectionId : std::uint32_t { Header = 1, Schema, Patterns, Object, Bitcode };
const char *sectionName(SectionId id); // "header", "schema", ...

// What code in an artifact was compiled for; compared with the host's before loading objects.
struct Target {
  std::string triple;
  std::string cpu;
  std::vector<std::string> features; // sorted

  bool operator==(const Target &) const = default;
};

struct Header {
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

struct Artifact {
  Header header;
  runtime::Schema schema;
  std::vector<runtime::native::PatternImage> patterns;
  std::string object;
  std::string bitcode;
  std::vector<SectionSize> sections; // filled by decodeArtifact, for `cep explain`
};

class ArtifactError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

std::string encodeArtifact(const Artifact &artifact);
// `name` (the file as the user gave it) prefixes every error.
Artifact decodeArtifact(std::string_view bytes, const std::string &name);
// Reads and decodes the file at `path`.
Artifact readArtifactFile(const std::string &path);
// Writes `bytes` to `path` through a fresh temporary in the same folder (mkstemp: O_EXCL, so
// nothing planted at its name is followed), synced and renamed over `path` (never a
// half-written artifact). Refuses a `path` that exists and is not a regular file (FIFO, device,
// directory, symbolic link). False and `error` (`cannot write "<path>": <why>`) on failure.
bool writeArtifactFile(const std::string &path, std::string_view bytes, std::string &error);

// Lower-case hex of the source hash.
std::string hex(const std::array<std::uint8_t, 32> &hash);

} // namespace cep::compiler::artifact
