// The binary codec shared by every snapshot format (run snapshots, runtime/engine/run_snapshot;
// interpreter matcher snapshots, compiler/interp/snapshot): little-endian integers, strings and
// blobs, and events referring to their type and fields by NAME, so a snapshot survives a
// recompile that keeps those names.
//
// Encodings (integers little-endian):
//   str = u32 byte length + bytes; blob = u64 byte length + bytes; f64 = IEEE bits as u64;
//   event = str type name, i64 time, u64 seq, u32 input, u32 line, u32 field count, then per
//     field: str field name, u8 kind (FieldKind), u8 null (0 or 1), the value if not null
//     (bool: u8 0 or 1, int/time/duration: i64, float: f64, string: str); then str raw record
//     (empty when not kept).
#pragma once

#include "runtime/event.hpp"
#include "runtime/schema.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cep::runtime {

class SnapshotWriter {
public:
  explicit SnapshotWriter(std::string &out) : out_(out) {}
  void bytes(const void *p, std::size_t n) { out_.append(static_cast<const char *>(p), n); }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  void str(std::string_view s);  // u32 length + bytes
  void blob(std::string_view s); // u64 length + bytes

private:
  std::string &out_;
};

// SnapshotWriter's encodings into a string of its own, every call inline: for hot loops (a
// checkpoint encodes a key record per changed key: NativeMatcher::exportChanges), where a call
// into std::string::append per integer costs more than the bytes. take() hands the bytes over
// and leaves the buffer empty, ready for the next record.
//
//   SnapshotBuffer b;
//   b.u8(2); b.str("alice"); writeEvent(b, schema, event);
//   std::string record = b.take();
class SnapshotBuffer {
public:
  explicit SnapshotBuffer(std::size_t reserve = 512) { buf_.resize(reserve); }
  void bytes(const void *p, std::size_t n) {
    if (n == 0) {
      return; // p may be null (an empty string_view's data()): memcpy must not see it
    }
    if (buf_.size() - pos_ < n) {
      grow(n);
    }
    std::memcpy(buf_.data() + pos_, p, n);
    pos_ += n;
  }
  void u8(std::uint8_t v) { bytes(&v, 1); }
  void u32(std::uint32_t v) {
    unsigned char b[4];
    for (int i = 0; i < 4; ++i) {
      b[i] = static_cast<unsigned char>(v >> (8 * i));
    }
    bytes(b, 4);
  }
  void u64(std::uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) {
      b[i] = static_cast<unsigned char>(v >> (8 * i));
    }
    bytes(b, 8);
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void str(std::string_view s); // u32 length + bytes (as SnapshotWriter::str)
  std::size_t size() const { return pos_; }
  // The bytes written since the last take(); keeps a buffer of `reserve` bytes for the next.
  std::string take(std::size_t reserve = 512);

private:
  void grow(std::size_t n);
  std::string buf_;
  std::size_t pos_ = 0;
};

// Reads what SnapshotWriter wrote; anything short or malformed throws std::runtime_error
// "bad <what>: <reason>" (`what` names the format, e.g. "run snapshot").
class SnapshotReader {
public:
  SnapshotReader(std::string_view in, std::string what) : in_(in), what_(std::move(what)) {}
  std::string_view bytes(std::size_t n);
  void skip(std::size_t n) { bytes(n); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes(1)[0]); }
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  // A u8 that must be 0 or 1; `what` names it in the error.
  bool flag(const char *what);
  std::string_view str() { return bytes(u32()); }
  std::string_view blob();
  // `n` items each at least `min_item_bytes` long: rejects counts the rest cannot hold.
  std::uint64_t count(std::uint64_t n, std::size_t min_item_bytes) const;
  // The same for a u64 count read here.
  std::uint64_t count(std::size_t min_item_bytes) { return count(u64(), min_item_bytes); }
  bool atEnd() const { return pos_ == in_.size(); }
  [[noreturn]] void fail(const std::string &why) const;

private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string what_;
};

// Fewest bytes an encoded event takes (for SnapshotReader::count).
inline constexpr std::size_t kMinSnapshotEventBytes = 4 + 8 + 8 + 4 + 4 + 4 + 4;

// `e` must be of a type of `schema`, with its fields.
void writeEvent(SnapshotWriter &w, const Schema &schema, const Event &e);
void writeEvent(SnapshotBuffer &w, const Schema &schema, const Event &e); // the same bytes
// Reads an event, matching its type and fields to `schema` by name: fails on an unknown type
// or field, a field twice, a changed kind, a null non-nullable field or a missing one. `role`
// qualifies the event in errors ("buffered": "buffered event of unknown event type ...").
EventRef readEvent(SnapshotReader &r, const Schema &schema, std::string_view role = {});

} // namespace cep::runtime
