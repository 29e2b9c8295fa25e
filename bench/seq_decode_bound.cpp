// seq_decode_bound: what a decoder generated for one record shape would cost (issue #15 §1),
// measured rather than guessed. `decodeSeq` below is written by hand for seq's shape
// `{"type":"<string>","key":<int>,"ts":<int>}` as code generated per shape would be: the literals
// as immediates, the value readers inline, the event block (cep's layout: a 56-byte header, three
// slots, the string) taken from a free list and written in place. It checks what cep's typed
// plans check (no escapes, control or non-ASCII bytes in the string, 1 to 18 digits without a
// leading zero, not -0, the record's end) and leaves everything else to "the generic path"
// (here: counted, not decoded). Not cep's code: a bound to compare cep's decoder against.
//
//   cmake --build build/release --target seq-decode-bound bench-gen-seq
//   valgrind --tool=callgrind --toggle-collect='*decodeSeq*' build/release/bench/seq-decode-bound
//   seq-200k.jsonl
//
// callgrind's total over the events is the instructions per event of the decoder alone (the
// reading of lines and the loop around it not counted). RESULTS.md "Layouts" has the numbers.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

struct Block { // cep's Event header (runtime/event.hpp), then three slots and a string
  std::uint32_t type, field_count;
  std::int64_t time;
  std::uint64_t seq, nulls;
  std::uint32_t input, line, raw_size, refs;
  const char *raw;
  std::int64_t slots[3];
  std::uint32_t string_size;
  char string_data[36];
};

struct FreeList {
  std::vector<Block *> free;
  Block *take() {
    if (free.empty()) {
      return new Block;
    }
    Block *block = free.back();
    free.pop_back();
    return block;
  }
};

std::uint64_t load8(const char *p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// Up to 8 bytes as a little-endian word (a compile-time immediate).
template <std::size_t N> constexpr std::uint64_t literal(const char (&bytes)[N]) {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i + 1 < N && i < 8; ++i) {
    word |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return word;
}

std::uint64_t nonDigits(std::uint64_t chunk) {
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL, kZeros = 0x3030303030303030ULL;
  return ((chunk & kHigh) ^ kZeros) | (((chunk + 0x0606060606060606ULL) & kHigh) ^ kZeros);
}

std::uint64_t digitValues(std::uint64_t chunk, unsigned digits) { // 1..8 digits, first lowest
  std::uint64_t v = (chunk & 0x0F0F0F0F0F0F0F0FULL) << (64 - 8 * digits);
  v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
  v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
  return (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;
}

// 1..16 digits without a leading zero (the records' range; longer ones: the generic path).
inline bool readInt(const char *&p, std::int64_t &out) {
  const bool negative = *p == '-';
  p += negative;
  std::uint64_t chunk = load8(p), others = nonDigits(chunk);
  std::uint64_t value;
  if (others != 0) {
    const unsigned n = static_cast<unsigned>(std::countr_zero(others)) / 8;
    if (n == 0 || (n > 1 && (chunk & 0xFF) == '0')) {
      return false;
    }
    value = digitValues(chunk, n);
    p += n;
  } else {
    if ((chunk & 0xFF) == '0') {
      return false;
    }
    const std::uint64_t low = load8(p + 8);
    others = nonDigits(low);
    const unsigned n = static_cast<unsigned>(std::countr_zero(others)) / 8;
    if (others == 0) {
      return false;
    }
    static constexpr std::uint64_t kPowers[8] = {1,     10,     100,     1000,
                                                 10000, 100000, 1000000, 10000000};
    value = digitValues(chunk, 8) * kPowers[n] + (n == 0 ? 0 : digitValues(low, n));
    p += 8 + n;
  }
  if (negative && value == 0) {
    return false;
  }
  out = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
  return true;
}

[[gnu::noinline]] Block *decodeSeq(const char *p, std::size_t size, std::uint64_t seq,
                                   FreeList &blocks) {
  const char *const end = p + size;
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  // {"type":"  (9 bytes)
  if (load8(p) != literal("{\"type\":") || p[8] != '"') {
    return nullptr;
  }
  p += 9;
  const char *string = p;
  std::uint64_t chunk = load8(p);
  const std::uint64_t quote = chunk ^ (kOnes * '"'), backslash = chunk ^ (kOnes * '\\');
  const std::uint64_t stops = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                               ((chunk - kOnes * 0x20) & ~chunk) | chunk) &
                              kHigh;
  if (stops == 0) {
    return nullptr; // strings of 8 bytes or more: the generic path here
  }
  const unsigned length = static_cast<unsigned>(std::countr_zero(stops)) / 8;
  if (p[length] != '"') {
    return nullptr;
  }
  p += length + 1;
  // ,"key":  (7 bytes)
  if ((load8(p) & 0x00FFFFFFFFFFFFFFULL) != literal(",\"key\":")) {
    return nullptr;
  }
  p += 7;
  std::int64_t key, ts;
  if (!readInt(p, key)) {
    return nullptr;
  }
  // ,"ts":  (6 bytes)
  if ((load8(p) & 0x0000FFFFFFFFFFFFULL) != literal(",\"ts\":")) {
    return nullptr;
  }
  p += 6;
  if (!readInt(p, ts) || *p != '}' || p + 1 != end) {
    return nullptr;
  }
  Block *block = blocks.take();
  block->type = 0;
  block->field_count = 3;
  block->time = ts;
  block->seq = seq;
  block->nulls = 0;
  block->input = 0;
  block->line = static_cast<std::uint32_t>(seq + 1);
  block->raw_size = 0;
  block->refs = 1;
  block->raw = nullptr;
  block->slots[0] = reinterpret_cast<std::int64_t>(&block->string_size);
  block->slots[1] = key;
  block->slots[2] = ts;
  block->string_size = length;
  std::memcpy(block->string_data, string, 8);
  return block;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seq-decode-bound FILE.jsonl\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.append(64, '\0'); // padding, as cep's line reader gives
  FreeList blocks;
  std::uint64_t events = 0, others = 0, checksum = 0;
  const char *p = text.data();
  const char *const end = text.data() + text.size() - 64;
  while (p < end) {
    const char *newline = static_cast<const char *>(std::memchr(p, '\n', end - p));
    const char *line_end = newline ? newline : end;
    if (Block *block = decodeSeq(p, line_end - p, events + others, blocks)) {
      ++events;
      checksum += block->slots[1] ^ block->time ^ block->string_data[0];
      blocks.free.push_back(block);
    } else {
      ++others;
    }
    p = line_end + 1;
  }
  std::printf("%llu events decoded, %llu left to the generic path, checksum %llu\n",
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(others),
              static_cast<unsigned long long>(checksum));
  for (Block *block : blocks.free) {
    delete block;
  }
  return 0;
}
