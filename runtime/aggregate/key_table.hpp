// The keys of one aggregate (internal to runtime/aggregate; aggregator.hpp is the interface):
// KeyStates in a slab found through a flat open-addressing index keyed by the key's bytes.
//
//   slab    KeyStates in chunks of 256 (addresses and slot numbers are stable: the due set
//           points at them, the pane columns and the idle list by number, at(slot);
//           one allocation per 256 keys, counted exactly by slabBytes); a key that is erased
//           leaves its place to the next new key (free list)
//   index   a power-of-two array of (slot number, hash's low 32 bits): 8 bytes an entry, at
//           most half full, linear probing, erase by backward shift (no tombstones); the hash
//           is only here (a key's slot does not keep it: erase computes it again)
//   hash    of the key's bytes (8 at a time, multiply and shift; up to 8 bytes in one word
//           without a variable-length copy): the usual key is a short JSON number or string
//           ("8519", "\"u1\"")
//
// No order of the table reaches anything written: snapshots and listings sort keys by name.
//
//   KeyTable t;
//   std::uint64_t h = KeyTable::hash(key);
//   KeyState *k = t.find(key, h);
//   if (k == nullptr) k = &t.insert(key, h);
//   t.erase(*k);                               // k is gone
//   t.forEach([](const KeyState &k) { ... });  // every key in the table, in no order
#pragma once

#include "runtime/aggregate/key_state.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime::aggregate {

namespace key_bytes {

inline std::uint64_t load64(const char *p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline std::uint32_t load32(const char *p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}
// Up to 8 bytes as one word (no variable-length copy): two overlapping 4-byte loads, or the
// first, middle and last byte.
inline std::uint64_t small(const char *p, std::size_t n) {
  if (n >= 4) {
    return load32(p) | (std::uint64_t{load32(p + n - 4)} << 32);
  }
  if (n == 0) {
    return 0;
  }
  return static_cast<unsigned char>(p[0]) |
         (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
         (std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
}
inline bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a.size() <= 8) {
    return small(a.data(), a.size()) == small(b.data(), b.size());
  }
  return std::memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace key_bytes

class KeyTable {
public:
  static std::uint64_t hash(std::string_view key) {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    const char *p = key.data();
    std::size_t n = key.size();
    std::uint64_t h = (n + 1) * kMul;
    if (n <= 8) {
      h = (h ^ key_bytes::small(p, n)) * kMul;
    } else {
      for (; n > 8; n -= 8, p += 8) {
        h = (h ^ key_bytes::load64(p)) * kMul;
        h ^= h >> 29;
      }
      h = (h ^ key_bytes::load64(p + n - 8)) * kMul; // the last 8 bytes (overlapping)
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h;
  }

  KeyTable() : index_(16) {}

  std::size_t size() const { return used_; }

  // Room for n keys in all without a growth on the way (one rehash instead of one per doubling).
  void reserve(std::size_t n) {
    while (n * 2 > index_.size()) {
      grow();
    }
  }

  KeyState *find(std::string_view key, std::uint64_t h) {
    std::size_t mask = index_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Entry &e = index_[i];
      if (e.slot == 0) {
        return nullptr;
      }
      if (e.hash == static_cast<std::uint32_t>(h)) {
        KeyState &k = at(e.slot - 1);
        if (key_bytes::same(k.name, key)) {
          return &k;
        }
      }
    }
  }

  // A prefetch hint (engine/driver.hpp "Prefetch"): depth 1 starts loading the index entry of
  // hash h; depth 2 reads it (loaded by now) and starts loading the key's slot, which it
  // returns for the caller to go deeper (found by the hash's low 32 bits alone: a hint may be
  // wrong, never unsafe). Null at depth 1 or when no entry has that hash.
  const KeyState *prefetch(std::uint64_t h, int depth) const {
    std::size_t mask = index_.size() - 1;
    std::size_t i = h & mask;
    if (depth <= 1) {
      __builtin_prefetch(&index_[i]);
      return nullptr;
    }
    for (std::size_t probes = 0; probes < 8; ++probes, i = (i + 1) & mask) {
      const Entry &e = index_[i];
      if (e.slot == 0) {
        return nullptr;
      }
      if (e.hash == static_cast<std::uint32_t>(h)) {
        const KeyState *k = &at(e.slot - 1);
        if (depth == 2) {
          __builtin_prefetch(k);
          __builtin_prefetch(reinterpret_cast<const char *>(k) + sizeof(KeyState) - 1);
        }
        return k;
      }
    }
    return nullptr;
  }

  // A new key (not in the table): an empty KeyState named `key`.
  KeyState &insert(std::string_view key, std::uint64_t h) {
    if ((used_ + 1) * 2 > index_.size()) {
      grow();
    }
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      CEP_ASSERT(slots_ < std::numeric_limits<std::uint32_t>::max() / 2, "too many keys");
      if (slots_ % kChunk == 0) {
        chunks_.push_back(std::make_unique<KeyState[]>(kChunk));
        auto base = reinterpret_cast<std::uintptr_t>(chunks_.back().get());
        auto pos = std::lower_bound(by_address_.begin(), by_address_.end(),
                                    std::make_pair(base, std::uint32_t{0}));
        by_address_.insert(pos, {base, static_cast<std::uint32_t>(chunks_.size() - 1)});
      }
      slot = static_cast<std::uint32_t>(slots_);
      ++slots_;
    }
    KeyState *k = &at(slot);
    k->name.assign(key);
    k->reset(); // in the table, no state
    place(slot, h);
    ++used_;
    return *k;
  }

  // Takes k out (its state must be destroyed already); its place goes to the next new key.
  void erase(KeyState &k) {
    std::size_t mask = index_.size() - 1;
    std::size_t i = hash(k.name) & mask;
    std::uint32_t slot = slotOf(k);
    for (std::size_t probes = 0; index_[i].slot != slot + 1; ++probes) {
      CEP_ASSERT(probes < index_.size() && index_[i].slot != 0, "erasing a key not in the table");
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the hole when their home
    // position allows it.
    for (std::size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      Entry &e = index_[j];
      if (e.slot == 0) {
        break;
      }
      std::size_t home = e.hash & mask;
      // e may move to i when its home is not in (i, j] (cyclically).
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) {
        index_[i] = e;
        i = j;
      }
    }
    index_[i] = Entry{};
    k.setInTable(false);
    k.name.clear();
    free_.push_back(slot);
    --used_;
  }

  // The key at slot number `slot` (in the table or a free place), and the slot number of a key
  // of this table: what the pane columns and the idle list hold instead of an address.
  KeyState &at(std::uint32_t slot) { return chunks_[slot / kChunk][slot % kChunk]; }
  const KeyState &at(std::uint32_t slot) const { return chunks_[slot / kChunk][slot % kChunk]; }
  std::uint32_t slotOf(const KeyState &k) const {
    auto p = reinterpret_cast<std::uintptr_t>(&k);
    auto it =
        std::upper_bound(by_address_.begin(), by_address_.end(), p,
                         [](std::uintptr_t v, const std::pair<std::uintptr_t, std::uint32_t> &c) {
                           return v < c.first;
                         });
    CEP_ASSERT(it != by_address_.begin(), "a key of another table");
    --it;
    std::size_t in_chunk = (p - it->first) / sizeof(KeyState);
    CEP_ASSERT(in_chunk < kChunk, "a key of another table");
    return static_cast<std::uint32_t>(it->second * kChunk + in_chunk);
  }

  template <class F> void forEach(F &&f) {
    for (std::size_t i = 0; i < slots_; ++i) {
      KeyState &k = chunks_[i / kChunk][i % kChunk];
      if (k.inTable()) {
        f(k);
      }
    }
  }
  template <class F> void forEach(F &&f) const {
    for (std::size_t i = 0; i < slots_; ++i) {
      const KeyState &k = chunks_[i / kChunk][i % kChunk];
      if (k.inTable()) {
        f(k);
      }
    }
  }

  // Bytes of the index (what finds a key: its hash and the slot's number).
  std::size_t indexBytes() const { return index_.size() * sizeof(Entry); }
  // Bytes of the slab (every allocated chunk's KeyStates, free and idle places included) and
  // its free list.
  std::size_t slabBytes() const {
    return chunks_.size() * kChunk * sizeof(KeyState) + chunks_.capacity() * sizeof(chunks_[0]) +
           by_address_.capacity() * sizeof(by_address_[0]) + free_.capacity() * sizeof(free_[0]);
  }
  // The slab's places in use or free (sizeof(KeyState) each).
  std::size_t slots() const { return slots_; }

private:
  // 8 bytes: the key's slot number + 1 (0: empty) and the low 32 bits of its hash (enough for
  // the home position: the index has fewer than 2^32 entries).
  struct Entry {
    std::uint32_t slot = 0;
    std::uint32_t hash = 0;
  };

  void place(std::uint32_t slot, std::uint64_t h) {
    std::size_t mask = index_.size() - 1;
    std::size_t i = h & mask;
    while (index_[i].slot != 0) {
      i = (i + 1) & mask;
    }
    index_[i] = Entry{slot + 1, static_cast<std::uint32_t>(h)};
  }

  void grow() {
    std::vector<Entry> old(index_.size() * 2);
    old.swap(index_);
    for (const Entry &e : old) {
      if (e.slot != 0) {
        place(e.slot - 1, e.hash);
      }
    }
  }

  static constexpr std::size_t kChunk = 256;
  std::vector<std::unique_ptr<KeyState[]>> chunks_;
  std::size_t slots_ = 0; // places handed out so far (the last chunk's first slots_ % kChunk)
  // The chunks by address (first byte, chunk number): slotOf.
  std::vector<std::pair<std::uintptr_t, std::uint32_t>> by_address_;
  std::vector<std::uint32_t> free_; // slot numbers
  std::vector<Entry> index_;        // a power of two, at most half full
  std::size_t used_ = 0;
};

} // namespace cep::runtime::aggregate
