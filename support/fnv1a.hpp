// FNV-1a 64 over bytes: the checksum of run snapshots, savepoints, serve checkpoints and
// changelog records, and the head hash of file identities. Not cryptographic; it detects
// damage and cut-short files.
//
//   std::uint64_t h = cep::fnv1a64(bytes);  // fnv1a64("") == 0xcbf29ce484222325
#pragma once

#include <cstdint>
#include <string_view>

namespace cep {

inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL; // offset basis
  for (unsigned char c : bytes) {
    h = (h ^ c) * 0x100000001b3ULL; // FNV prime
  }
  return h;
}

} // namespace cep
