// The native matcher's key index: an open-addressing (linear probing) hash table from the
// generated key hash to a key slot of the matcher. Equality is the caller's (generated key_eq
// against the key's representative event), so no key text is ever built to find a key.
// Deletion shifts entries back (no tombstones).
//
// LLVM-free and lang-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cep::runtime::native {

class KeyTable {
public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // The slot of the key with hash `h` for which `same(slot)` holds, or kNone.
  template <typename Same> std::uint32_t find(std::uint64_t h, Same &&same) const {
    if (entries_.empty()) {
      return kNone;
    }
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Entry &e = entries_[i];
      if (e.slot == kNone) {
        return kNone;
      }
      if (e.hash == h && same(e.slot)) {
        return e.slot;
      }
    }
  }
  void insert(std::uint64_t h, std::uint32_t slot);
  void erase(std::uint64_t h, std::uint32_t slot);
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return entries_.capacity() * sizeof(Entry); }

private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint32_t slot = kNone;
  };
  void grow();

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

} // namespace cep::runtime::native
