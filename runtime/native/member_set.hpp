// Constant sets for `x in (...)` over long lists: an open-addressing table the code generator
// builds at compile time and emits as constant data in the module (so it is in `.cepo` object
// code too), probed at run time by cep_rt_in_int / cep_rt_in_str in O(1) expected time.
//
// Layout (all arrays constant, owned by the module):
//   slots[mask + 1]: 0 = empty, i + 1 = the i-th value; the table is at most half full
//   ints[n]:         the values, for Int/Time/Duration lists
//   spans[2 n]:      offset and length of the i-th string in `bytes`, for String lists
// The hash functions below are the contract between the builder and the probe: both sides use
// these, and changing one changes every artifact's table (so it needs kAbiVersion bumped).
//
//   MemberTable t = buildIntTable({3, 5, 8});
//   cep_rt_in_int(t.slots.data(), t.mask, t.ints.data(), 5) == 1
#pragma once

#include "support/fnv1a.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
// 1 when `x` is one of the table's values, 0 otherwise.
std::uint8_t cep_rt_in_int(const std::uint32_t *slots, std::uint64_t mask, const std::int64_t *ints,
                           std::int64_t x);
std::uint8_t cep_rt_in_str(const std::uint32_t *slots, std::uint64_t mask,
                           const std::uint64_t *spans, const char *bytes, const char *s,
                           std::uint64_t n);
}

namespace cep::runtime::native {

// Lists shorter than this are compared inline (a chain of equalities is faster than a probe).
constexpr std::size_t kMemberTableMinItems = 16;

inline std::uint64_t memberHashInt(std::int64_t x) {
  // splitmix64's finaliser: every input bit reaches every output bit.
  auto z = static_cast<std::uint64_t>(x) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline std::uint64_t memberHashStr(std::string_view s) {
  return memberHashInt(static_cast<std::int64_t>(fnv1a64(s)));
}

struct MemberTable {
  std::uint64_t mask = 0;
  std::vector<std::uint32_t> slots;
  std::vector<std::int64_t> ints;   // Int lists
  std::vector<std::uint64_t> spans; // String lists: offset, length per value
  std::string bytes;                // String lists: the values, back to back
};

// Duplicates are kept once; the order of the values is the list's (first occurrence).
MemberTable buildIntTable(const std::vector<std::int64_t> &values);
MemberTable buildStringTable(const std::vector<std::string> &values);

} // namespace cep::runtime::native
