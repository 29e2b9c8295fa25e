// String values in an event block as the decoders lay them out (runtime/event.hpp): a 32-bit
// length, then the bytes, padded to StringRef's alignment, at least sizeof(StringRef). Shared by
// the typed plans' two paths (record_plan.cpp, record_layout.cpp); the generic decoder
// (jsonl_decoder.cpp) lays them out the same way.
#pragma once

#include "runtime/event.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cep::runtime {

// The block bytes a string of `length` bytes takes.
inline std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(StringRef, data) + length;
  bytes = (bytes + alignof(StringRef) - 1) & ~(alignof(StringRef) - 1);
  return std::max(bytes, sizeof(StringRef));
}

// A string's length and bytes at `cursor` (stringBytes(size) bytes reserved there), short ones
// as one word: the source has readable bytes after it (a record's padding), and the block
// reserves at least 4 data bytes for 1..4 and 8 for 5..8.
[[gnu::always_inline]] inline void putString(char *cursor, const char *data, std::uint32_t size) {
  std::memcpy(cursor, &size, sizeof size);
  char *to = cursor + offsetof(StringRef, data);
  if (size <= 4) {
    std::uint32_t word;
    std::memcpy(&word, data, 4);
    std::memcpy(to, &word, 4);
  } else if (size <= 8) {
    std::uint64_t word;
    std::memcpy(&word, data, 8);
    std::memcpy(to, &word, 8);
  } else {
    std::memcpy(to, data, size);
  }
}

} // namespace cep::runtime
