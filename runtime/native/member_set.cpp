// Constant sets for long `in` lists (member_set.hpp): the compile-time builder and the probes
// generated code calls.
#include "runtime/native/member_set.hpp"

#include <algorithm>
#include <bit>

namespace cep::runtime::native {

namespace {

std::uint64_t tableSize(std::size_t n) {
  // At most half full, so a probe sequence is short and always reaches an empty slot.
  return std::bit_ceil(std::max<std::uint64_t>(2 * n, 2));
}

} // namespace

MemberTable buildIntTable(const std::vector<std::int64_t> &values) {
  MemberTable t;
  std::uint64_t size = tableSize(values.size());
  t.mask = size - 1;
  t.slots.assign(size, 0);
  for (std::int64_t v : values) {
    std::uint64_t i = memberHashInt(v) & t.mask;
    bool seen = false;
    while (t.slots[i] != 0) {
      if (t.ints[t.slots[i] - 1] == v) {
        seen = true;
        break;
      }
      i = (i + 1) & t.mask;
    }
    if (!seen) {
      t.ints.push_back(v);
      t.slots[i] = static_cast<std::uint32_t>(t.ints.size());
    }
  }
  return t;
}

MemberTable buildStringTable(const std::vector<std::string> &values) {
  MemberTable t;
  std::uint64_t size = tableSize(values.size());
  t.mask = size - 1;
  t.slots.assign(size, 0);
  auto valueAt = [&t](std::uint32_t slot) {
    std::size_t k = 2 * (slot - 1);
    return std::string_view(t.bytes).substr(t.spans[k], t.spans[k + 1]);
  };
  for (const std::string &v : values) {
    std::uint64_t i = memberHashStr(v) & t.mask;
    bool seen = false;
    while (t.slots[i] != 0) {
      if (valueAt(t.slots[i]) == v) {
        seen = true;
        break;
      }
      i = (i + 1) & t.mask;
    }
    if (!seen) {
      t.spans.push_back(t.bytes.size());
      t.spans.push_back(v.size());
      t.bytes += v;
      t.slots[i] = static_cast<std::uint32_t>(t.spans.size() / 2);
    }
  }
  return t;
}

} // namespace cep::runtime::native

extern "C" {

std::uint8_t cep_rt_in_int(const std::uint32_t *slots, std::uint64_t mask, const std::int64_t *ints,
                           std::int64_t x) {
  for (std::uint64_t i = cep::runtime::native::memberHashInt(x) & mask; slots[i] != 0;
       i = (i + 1) & mask) {
    if (ints[slots[i] - 1] == x) {
      return 1;
    }
  }
  return 0;
}

std::uint8_t cep_rt_in_str(const std::uint32_t *slots, std::uint64_t mask,
                           const std::uint64_t *spans, const char *bytes, const char *s,
                           std::uint64_t n) {
  std::string_view x(s, n);
  for (std::uint64_t i = cep::runtime::native::memberHashStr(x) & mask; slots[i] != 0;
       i = (i + 1) & mask) {
    const std::uint64_t *span = spans + 2 * (slots[i] - 1);
    if (span[1] == n && std::string_view(bytes + span[0], span[1]) == x) {
      return 1;
    }
  }
  return 0;
}

} // extern "C"
