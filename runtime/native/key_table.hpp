// The native matcher's key index: an open-addressing (linear probing) hash table from the
// generated key hash to a key slot of the matcher. Equality is the caller's (generated key_eq
// against the key's representative event), so no key text is ever built to find a key.
// Deletion shifts entries back (no tombstones). An entry is 8 bytes: the hash's low 32 bits
// (its home position and a filter before `same`) and the slot.
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
    const auto tag = static_cast<std::uint32_t>(h);
    for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
      const Entry &e = entries_[i];
      if (e.slot == kNone) {
        return kNone;
      }
      if (e.tag == tag && same(e.slot)) {
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
    std::uint32_t tag = 0; // the hash's low 32 bits (the table has at most 2^32 entries)
    std::uint32_t slot = kNone;
  };
  static_assert(sizeof(Entry) == 8);
  void grow();

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

} // namespace cep::runtime::native
