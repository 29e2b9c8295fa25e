// The shared snapshot codec (runtime/snapshot_codec.hpp).
#include "runtime/snapshot_codec.hpp"

#include "support/internal_error.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace cep::runtime {

namespace {

// Bytes a string field takes in an event block (runtime/event.hpp layout, as the decoder lays
// it out).
std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(StringRef, data) + length;
  bytes = (bytes + alignof(StringRef) - 1) & ~(alignof(StringRef) - 1);
  return std::max(bytes, sizeof(StringRef));
}

} // namespace

// Little-endian, built in a buffer and appended at once (one append instead of a push_back per
// byte: checkpoints encode millions of these).
void SnapshotWriter::u32(std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) {
    b[i] = static_cast<char>(v >> (8 * i));
  }
  out_.append(b, 4);
}

void SnapshotWriter::u64(std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<char>(v >> (8 * i));
  }
  out_.append(b, 8);
}

void SnapshotWriter::f64(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

void SnapshotWriter::str(std::string_view s) {
  CEP_ASSERT(s.size() <= UINT32_MAX, "a string of 4 GiB or more in a snapshot");
  u32(static_cast<std::uint32_t>(s.size()));
  bytes(s.data(), s.size());
}

void SnapshotWriter::blob(std::string_view s) {
  u64(s.size());
  bytes(s.data(), s.size());
}

std::string_view SnapshotReader::bytes(std::size_t n) {
  if (n > in_.size() - pos_) {
    fail("truncated");
  }
  std::string_view v = in_.substr(pos_, n);
  pos_ += n;
  return v;
}

std::uint32_t SnapshotReader::u32() {
  std::string_view b = bytes(4);
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
  }
  return v;
}

std::uint64_t SnapshotReader::u64() {
  std::string_view b = bytes(8);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
  }
  return v;
}

double SnapshotReader::f64() {
  std::uint64_t bits = u64();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

bool SnapshotReader::flag(const char *what) {
  std::uint8_t v = u8();
  if (v > 1) {
    fail(std::string(what) + " is " + std::to_string(v) + ", not 0 or 1");
  }
  return v == 1;
}

std::string_view SnapshotReader::blob() {
  std::uint64_t n = u64();
  if (n > in_.size() - pos_) {
    fail("truncated");
  }
  return bytes(static_cast<std::size_t>(n));
}

std::uint64_t SnapshotReader::count(std::uint64_t n, std::size_t min_item_bytes) const {
  if (min_item_bytes > 0 && n > (in_.size() - pos_) / min_item_bytes) {
    fail("count out of range");
  }
  return n;
}

void SnapshotReader::fail(const std::string &why) const {
  throw std::runtime_error("bad " + what_ + ": " + why);
}

void SnapshotBuffer::str(std::string_view s) {
  CEP_ASSERT(s.size() <= UINT32_MAX, "a string of 4 GiB or more in a snapshot");
  u32(static_cast<std::uint32_t>(s.size()));
  bytes(s.data(), s.size());
}

void SnapshotBuffer::grow(std::size_t n) {
  buf_.resize(std::max(buf_.size() * 2, pos_ + n));
}

std::string SnapshotBuffer::take(std::size_t reserve) {
  buf_.resize(pos_);
  std::string out = std::move(buf_);
  buf_.clear();
  buf_.resize(reserve);
  pos_ = 0;
  return out;
}

namespace {

template <typename Writer> void writeEventWith(Writer &w, const Schema &schema, const Event &e) {
  const EventSchema &type = schema.types.at(e.type);
  CEP_ASSERT(e.field_count == type.fields.size(), "an event with the wrong number of fields");
  w.str(type.name);
  w.i64(e.time);
  w.u64(e.seq);
  w.u32(e.input);
  w.u32(e.line);
  w.u32(e.field_count);
  for (std::uint32_t i = 0; i < e.field_count; ++i) {
    const FieldSchema &field = type.fields[i];
    w.str(field.name);
    w.u8(static_cast<std::uint8_t>(field.kind));
    bool null = e.isNull(i);
    w.u8(null ? 1 : 0);
    if (null) {
      continue;
    }
    const Slot &slot = e.slots()[i];
    switch (field.kind) {
    case FieldKind::Bool:
      w.u8(slot.b ? 1 : 0);
      break;
    case FieldKind::Float:
      w.f64(slot.f);
      break;
    case FieldKind::String:
      w.str(slot.s->view());
      break;
    case FieldKind::Int:
    case FieldKind::Time:
    case FieldKind::Duration:
      w.i64(slot.i);
      break;
    }
  }
  w.str(e.rawRecord());
}

} // namespace

void writeEvent(SnapshotWriter &w, const Schema &schema, const Event &e) {
  writeEventWith(w, schema, e);
}

void writeEvent(SnapshotBuffer &w, const Schema &schema, const Event &e) {
  writeEventWith(w, schema, e);
}

EventRef readEvent(SnapshotReader &r, const Schema &schema, std::string_view role) {
  std::string prefix = role.empty() ? std::string() : std::string(role) + " ";
  std::string type_name(r.str());
  std::int32_t type_index = schema.typeIndex(type_name);
  if (type_index < 0) {
    r.fail(prefix + "event of unknown event type `" + type_name + "`");
  }
  const EventSchema &type = schema.types[static_cast<std::size_t>(type_index)];
  std::int64_t time = r.i64();
  std::uint64_t seq = r.u64();
  std::uint32_t input = r.u32();
  std::uint32_t line = r.u32();
  std::uint64_t count = r.count(r.u32(), 4 + 1 + 1);
  struct FieldValue {
    std::size_t index;
    bool null;
    Slot slot;
    std::string_view text;
  };
  std::vector<FieldValue> values;
  std::vector<bool> seen(type.fields.size(), false);
  std::size_t extra = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name(r.str());
    std::uint8_t kind = r.u8();
    bool null = r.flag("a null flag");
    std::int32_t found = type.fieldIndex(name);
    if (found < 0) {
      r.fail("event type `" + type.name + "` has no field `" + name + "`");
    }
    auto index = static_cast<std::size_t>(found);
    const FieldSchema &field = type.fields[index];
    if (seen[index]) {
      r.fail("field `" + type.name + "." + name + "` appears twice");
    }
    seen[index] = true;
    if (static_cast<std::uint8_t>(field.kind) != kind) {
      r.fail("field `" + type.name + "." + name + "` changed its type (now " +
             fieldKindName(field.kind) + ")");
    }
    FieldValue v{index, null, {}, {}};
    if (null && !field.nullable) {
      r.fail("field `" + type.name + "." + name + "` is null but not nullable");
    }
    if (!null) {
      switch (field.kind) {
      case FieldKind::Bool:
        v.slot.b = r.flag("a bool value");
        break;
      case FieldKind::Float:
        v.slot.f = r.f64();
        break;
      case FieldKind::String:
        v.text = r.str();
        extra += stringBytes(v.text.size());
        break;
      case FieldKind::Int:
      case FieldKind::Time:
      case FieldKind::Duration:
        v.slot.i = r.i64();
        break;
      }
    }
    values.push_back(v);
  }
  for (std::size_t i = 0; i < type.fields.size(); ++i) {
    if (!seen[i] && !type.fields[i].nullable) {
      r.fail(prefix + "`" + type.name + "` event without its field `" + type.fields[i].name + "`");
    }
  }
  std::string_view raw = r.str();
  extra += raw.size();

  EventRef ref(allocateEvent(static_cast<std::uint32_t>(type_index),
                             static_cast<std::uint32_t>(type.fields.size()), extra));
  Event *e = ref.get();
  char *cursor = extraBegin(e);
  for (const FieldValue &v : values) {
    if (v.null) {
      continue;
    }
    if (type.fields[v.index].kind == FieldKind::String) {
      auto *s = reinterpret_cast<StringRef *>(cursor);
      s->size = static_cast<std::uint32_t>(v.text.size());
      std::memcpy(cursor + offsetof(StringRef, data), v.text.data(), v.text.size());
      e->slots()[v.index].s = s;
      cursor += stringBytes(v.text.size());
    } else {
      e->slots()[v.index] = v.slot;
    }
    e->nulls &= ~(std::uint64_t{1} << v.index);
  }
  if (!raw.empty()) {
    std::memcpy(cursor, raw.data(), raw.size());
    e->raw = cursor;
    e->raw_size = static_cast<std::uint32_t>(raw.size());
  }
  e->time = time;
  e->seq = seq;
  e->input = input;
  e->line = line;
  return ref;
}

} // namespace cep::runtime
