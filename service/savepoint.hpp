// A savepoint of `cep serve` (docs/state.md "Savepoints"): a portable, versioned file holding
// everything a server needs to start elsewhere where another one was (`cep savepoint` writes it
// from a running server's `POST /savepoint`; `cep serve --from-savepoint FILE` starts from it).
// It is taken on the event loop between two released events, like a checkpoint of --state, and
// is made of the same records, so that no third encoding of the state exists:
//   - the server's META record (CEPSMETA, serve_checkpoint.hpp): the schema, the run loop without
//     its matchers (CEPRSNAP, runtime/engine/run_snapshot.hpp), every served pattern version with
//     its matcher header (runtime/state/key_record.hpp) and each input's position and file
//     identity; its `outputs` are informational (a server started from a savepoint opens its
//     outputs as new);
//   - the bytes of every artifact served, under its hash;
//   - every key record (key_record.hpp) of each served version's matcher: with the header, its
//     whole NAMED state (runtime/state/matcher_state.hpp), which survives recompiling the rules.
//
// Layout (runtime/snapshot_codec.hpp encodings; str = u32 length + bytes, blob = u64 + bytes):
//   "CEPSAVEP" u32 version (kSavepointVersion)
//   blob meta (CEPSMETA)
//   u32 artifact count, per artifact (sorted by hash, each once): str hash, blob .cepo bytes
//   u32 state count (the meta's served count), per served version in the meta's order:
//     u32 operator id (the meta's), u64 key record count, per record: blob key record
//   u64 FNV-1a 64 of every byte before it
//
// Compatibility: a savepoint is kept for as long as someone wants to start from it. A later
// format version MUST keep reading version 1 (and every version released after it): a fixture
// of each released version is restored by the tests (tests/state/savepoints/v1). The records
// inside carry their own versions (CEPSMETA, CEPRSNAP, key records, .cepo), read as their
// decoders read them.
//
// Decoding anything else throws std::runtime_error("bad savepoint: <reason>") (a reason that
// names the part: "the meta record: bad serve checkpoint: ...", "checksum mismatch", ...).
//
// Example:
//   Savepoint sp;                          // filled on the loop thread (ServeRuntime)
//   std::string bytes;
//   encodeSavepoint(sp, bytes);
//   Savepoint back = decodeSavepoint(bytes); // encodeSavepoint(back) == bytes
#pragma once

#include "service/serve_checkpoint.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::service {

inline constexpr char kSavepointMagic[8] = {'C', 'E', 'P', 'S', 'A', 'V', 'E', 'P'};
inline constexpr std::uint32_t kSavepointVersion = 1;
// The oldest version this build reads (never raised: see "Compatibility" above).
inline constexpr std::uint32_t kSavepointOldestVersion = 1;

struct SavedArtifact {
  std::string hash;  // compiler::artifact hash (hex), as ServedState::artifact_hash
  std::string bytes; // the .cepo as it was deployed
};

struct Savepoint {
  ServeMeta meta;
  std::vector<SavedArtifact> artifacts; // sorted by hash
  // records[i]: every key record of meta.served[i]'s matcher (any order).
  std::vector<std::vector<std::string>> records;

  // The artifact stored under `hash`; null when there is none.
  const SavedArtifact *artifact(std::string_view hash) const;
};

void encodeSavepoint(const Savepoint &savepoint, std::string &out);
// Checks the magic, the version, the checksum, the meta record (decodeServeMeta), that every
// served version has its artifact and its records, and that nothing trails. The records
// themselves are checked when a server restores them (against the artifacts' schemas).
Savepoint decodeSavepoint(std::string_view in);

} // namespace cep::service
