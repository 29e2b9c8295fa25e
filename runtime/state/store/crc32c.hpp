// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record the
// checkpoint store writes. SSE4.2's crc32 instruction when the CPU has it, a table otherwise;
// both give the same value.
//
//   std::uint32_t c = crc32c(0, "123456789", 9); // 0xE3069283
//   c = crc32c(c, more.data(), more.size());     // extends it over more bytes
#pragma once

#include <cstddef>
#include <cstdint>

namespace cep::runtime::store {

// The CRC-32C of `n` bytes at `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::uint32_t crc, const void *data, std::size_t n);

} // namespace cep::runtime::store
