// KeyTable: open addressing with linear probing and backward-shift deletion.
#include "runtime/native/key_table.hpp"

#include "support/internal_error.hpp"

namespace cep::runtime::native {

void KeyTable::insert(std::uint64_t h, std::uint32_t slot) {
  if ((size_ + 1) * 2 > entries_.size()) {
    grow();
  }
  const auto tag = static_cast<std::uint32_t>(h);
  std::size_t i = tag & mask_;
  while (entries_[i].slot != kNone) {
    i = (i + 1) & mask_;
  }
  entries_[i] = Entry{tag, slot};
  ++size_;
}

void KeyTable::erase(std::uint64_t h, std::uint32_t slot) {
  CEP_ASSERT(!entries_.empty(), "erasing from an empty key table");
  std::size_t i = static_cast<std::uint32_t>(h) & mask_;
  while (entries_[i].slot != slot) {
    CEP_ASSERT(entries_[i].slot != kNone, "erasing a key that is not in the table");
    i = (i + 1) & mask_;
  }
  // Backward shift: move later entries of the probe run into the hole when their home allows.
  std::size_t hole = i;
  for (std::size_t j = (hole + 1) & mask_; entries_[j].slot != kNone; j = (j + 1) & mask_) {
    std::size_t home = entries_[j].tag & mask_;
    // `j` may move to `hole` when its home is not cyclically within (hole, j].
    bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      entries_[hole] = entries_[j];
      hole = j;
    }
  }
  entries_[hole] = Entry{};
  --size_;
}

void KeyTable::grow() {
  std::vector<Entry> old = std::move(entries_);
  std::size_t cap = old.empty() ? 16 : old.size() * 2;
  CEP_ASSERT(cap - 1 <= UINT32_MAX, "key table beyond 2^32 entries");
  entries_.assign(cap, Entry{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Entry &e : old) {
    if (e.slot != kNone) {
      insert(e.tag, e.slot); // the home position depends only on the low 32 bits
    }
  }
}

} // namespace cep::runtime::native
