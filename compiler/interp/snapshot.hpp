// Snapshots of an InterpMatcher (Matcher::snapshot / restore): the whole keyed state in a
// versioned, self-describing binary format that refers to NFA states, steps, event types and
// fields by NAME, so a snapshot survives recompiling the same rules (state indices may change;
// names do not).
//
// Layout (integers little-endian; str = u32 byte length + bytes):
//   "CEPISNAP" u32 version (kSnapshotVersion)
//   str pattern name
//   i64 current time
//   u64 x7 statistics: events matches timeouts peak_runs peak_keys peak_bound_events
//                      peak_state_bytes
//   u64 event count, then per event:
//     str type name, i64 time, u64 seq, u32 input, u32 line, u32 field count, then per field:
//       str field name, u8 kind (runtime::FieldKind), u8 null, value if not null
//       (bool: u8, int/time/duration: i64, float: f64 bits as u64, string: str),
//     str raw record (empty when not kept)
//   u64 node count, then per node (an earlier node first): u64 event, str step name,
//     i64 previous node (-1: none)
//   u64 key count, then per key (sorted by key text):
//     str key JSON, u64 run count, per run: str state name, u32 counter, i64 last node,
//       i64 start time, u64 start seq, i64 previous time;
//     u64 held count, per held match: i64 last node, i64 start time, u64 start seq
// Deadlines and timers are recomputed from the NFA on restore.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cep::compiler::interp {

inline constexpr char kSnapshotMagic[8] = {'C', 'E', 'P', 'I', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kSnapshotVersion = 1;

class SnapshotWriter {
public:
  explicit SnapshotWriter(std::string &out) : out_(out) {}
  void bytes(const void *p, std::size_t n) { out_.append(static_cast<const char *>(p), n); }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }

private:
  std::string &out_;
};

// Reads what SnapshotWriter wrote; anything short or malformed throws std::runtime_error.
class SnapshotReader {
public:
  explicit SnapshotReader(std::string_view in) : in_(in) {}
  std::string_view bytes(std::size_t n) {
    if (n > in_.size() - pos_) {
      fail("truncated");
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes(1)[0]); }
  std::uint32_t u32() {
    std::string_view b = bytes(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
    }
    return v;
  }
  std::uint64_t u64() {
    std::string_view b = bytes(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
    }
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64() {
    std::uint64_t bits = u64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string_view str() { return bytes(u32()); }
  // A count of items each at least `min_item_bytes` long: rejects counts the input cannot hold.
  std::uint64_t count(std::size_t min_item_bytes) {
    std::uint64_t n = u64();
    if (min_item_bytes > 0 && n > (in_.size() - pos_) / min_item_bytes) {
      fail("count out of range");
    }
    return n;
  }
  bool atEnd() const { return pos_ == in_.size(); }
  [[noreturn]] static void fail(const std::string &why) {
    throw std::runtime_error("bad interpreter snapshot: " + why);
  }

private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

} // namespace cep::compiler::interp
