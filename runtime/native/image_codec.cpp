// The schema and pattern image codec (runtime/native/image_codec.hpp).
#include "runtime/native/image_codec.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace cep::runtime::native {

namespace {

constexpr std::uint8_t kMaxFieldKind = static_cast<std::uint8_t>(FieldKind::Duration);
constexpr std::uint8_t kMaxStateKind = static_cast<std::uint8_t>(StateKind::Pending);
constexpr std::uint8_t kMaxSkip = static_cast<std::uint8_t>(Skip::ToLast);
constexpr std::uint8_t kMaxValueKind = static_cast<std::uint8_t>(ValueKind::Duration);

// Fewest bytes of one encoded item (for SnapshotReader::count).
constexpr std::size_t kMinTypeBytes = 4 + 4 + 4;
constexpr std::size_t kMinFieldBytes = 4 + 1 + 1;
constexpr std::size_t kMinStepBytes = 4 + 1;
constexpr std::size_t kMinStateBytes = 4 + 1 + 4 + 8 + 1;
constexpr std::size_t kMinOutputFieldBytes = 4 + 1 + 4;
constexpr std::size_t kMinImageBytes =
    4 + 4 + 4 + 4 + 4 + 4 + 8 + 1 + 4 + 1 + 4 + (4 + 4) + 1 + (4 + 4) + 4 + 4 * 4;

void writeVersion(SnapshotWriter &w, std::uint32_t version = kImageCodecVersion) {
  w.u32(version);
}

std::uint32_t readVersion(SnapshotReader &r, std::uint32_t oldest = kImageCodecVersion,
                          std::uint32_t newest = kImageCodecVersion) {
  std::uint32_t version = r.u32();
  if (version < oldest || version > newest) {
    r.fail("encoding version " + std::to_string(version) + ", this cep reads version " +
           (oldest == newest ? std::to_string(newest)
                             : std::to_string(oldest) + " to " + std::to_string(newest)));
  }
  return version;
}

std::uint32_t size32(SnapshotReader &r, std::size_t min_item_bytes) {
  return static_cast<std::uint32_t>(r.count(r.u32(), min_item_bytes));
}

std::int32_t i32(SnapshotReader &r) {
  return static_cast<std::int32_t>(r.u32());
}

void writeI32(SnapshotWriter &w, std::int32_t v) {
  w.u32(static_cast<std::uint32_t>(v));
}

std::uint8_t enumValue(SnapshotReader &r, std::uint8_t max, const std::string &what) {
  std::uint8_t v = r.u8();
  if (v > max) {
    r.fail(what + " " + std::to_string(v) + " out of range");
  }
  return v;
}

// An index that must be -1 (none, when `allow_none`) or below `size`.
std::int32_t index(SnapshotReader &r, std::size_t size, bool allow_none, const std::string &what) {
  std::int32_t v = i32(r);
  if ((v == -1 && allow_none) || (v >= 0 && static_cast<std::size_t>(v) < size)) {
    return v;
  }
  r.fail(what + " " + std::to_string(v) + " out of range (" + std::to_string(size) + ")");
}

void writeShape(SnapshotWriter &w, const EmitShape &shape) {
  w.str(shape.stream);
  w.u32(static_cast<std::uint32_t>(shape.fields.size()));
  for (const OutputField &f : shape.fields) {
    w.str(f.name);
    w.u8(static_cast<std::uint8_t>(f.kind));
    w.str(f.symbol);
  }
}

EmitShape readShape(SnapshotReader &r, const std::string &where) {
  EmitShape shape;
  shape.stream = r.str();
  std::uint32_t n = size32(r, kMinOutputFieldBytes);
  shape.fields.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    OutputField &f = shape.fields[i];
    f.name = r.str();
    f.kind = static_cast<ValueKind>(
        enumValue(r, kMaxValueKind, where + " field `" + f.name + "`: value kind"));
    f.symbol = r.str();
  }
  return shape;
}

void writeImage(SnapshotWriter &w, const PatternImage &p) {
  w.str(p.name);
  writeI32(w, p.index);
  w.u32(static_cast<std::uint32_t>(p.event_types.size()));
  for (std::uint32_t t : p.event_types) {
    w.u32(t);
  }
  w.u32(static_cast<std::uint32_t>(p.steps.size()));
  for (const StepInfo &s : p.steps) {
    w.str(s.name);
    w.u8(s.negated ? 1 : 0);
  }
  w.u32(static_cast<std::uint32_t>(p.states.size()));
  for (const StateInfo &s : p.states) {
    w.str(s.name);
    w.u8(static_cast<std::uint8_t>(s.kind));
    writeI32(w, s.step);
    w.i64(s.within_ms);
    w.u8(s.completes_at_end ? 1 : 0);
  }
  writeI32(w, p.start);
  w.i64(p.within_ms);
  w.u8(static_cast<std::uint8_t>(p.skip));
  writeI32(w, p.skip_step);
  w.u8(p.keyed ? 1 : 0);
  w.u32(static_cast<std::uint32_t>(p.key_fields.size()));
  for (const auto &fields : p.key_fields) {
    w.u32(static_cast<std::uint32_t>(fields.size()));
    for (std::int32_t f : fields) {
      writeI32(w, f);
    }
  }
  writeShape(w, p.emit);
  w.u8(p.has_timeout_emit ? 1 : 0);
  writeShape(w, p.timeout_emit);
  w.u32(p.max_branches);
  w.str(p.step_symbol);
  w.str(p.prefilter_symbol);
  w.str(p.key_hash_symbol);
  w.str(p.key_eq_symbol);
}

void writeStepTypes(SnapshotWriter &w, const PatternImage &p) {
  w.u32(static_cast<std::uint32_t>(p.steps.size()));
  for (const StepInfo &s : p.steps) {
    writeI32(w, s.event_type);
  }
}

void readStepTypes(SnapshotReader &r, const Schema &schema, PatternImage &p) {
  const std::string where = "pattern `" + p.name + "`";
  if (r.u32() != p.steps.size()) {
    r.fail(where + ": step event types for another number of steps");
  }
  for (StepInfo &s : p.steps) {
    s.event_type =
        index(r, schema.types.size(), false, where + ": step `" + s.name + "`: event type");
  }
}

PatternImage readImage(SnapshotReader &r, const Schema &schema) {
  PatternImage p;
  p.name = r.str();
  const std::string where = "pattern `" + p.name + "`";
  p.index = i32(r);
  if (p.index < 0) {
    r.fail(where + ": index " + std::to_string(p.index) + " out of range");
  }
  std::uint32_t n = size32(r, 4);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t t = r.u32();
    if (t >= schema.types.size()) {
      r.fail(where + ": event type " + std::to_string(t) + " out of range (" +
             std::to_string(schema.types.size()) + " types)");
    }
    if (!p.event_types.empty() && t <= p.event_types.back()) {
      r.fail(where + ": event types not ascending");
    }
    p.event_types.push_back(t);
  }
  n = size32(r, kMinStepBytes);
  p.steps.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    p.steps[i].name = r.str();
    p.steps[i].negated = r.flag("a negated flag");
  }
  n = size32(r, kMinStateBytes);
  if (n == 0) {
    r.fail(where + ": no states");
  }
  p.states.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    StateInfo &s = p.states[i];
    s.name = r.str();
    const std::string state = where + ": state `" + s.name + "`";
    s.kind = static_cast<StateKind>(enumValue(r, kMaxStateKind, state + ": kind"));
    s.step = index(r, p.steps.size(), true, state + ": step");
    s.within_ms = r.i64();
    if (s.within_ms < kNoBound) {
      r.fail(state + ": negative within");
    }
    s.completes_at_end = r.flag("a completes-at-end flag");
  }
  p.start = index(r, p.states.size(), false, where + ": start state");
  p.within_ms = r.i64();
  if (p.within_ms < kNoBound) {
    r.fail(where + ": negative within");
  }
  p.skip = static_cast<Skip>(enumValue(r, kMaxSkip, where + ": skip strategy"));
  p.skip_step = index(r, p.steps.size(), true, where + ": skip step");
  p.keyed = r.flag("a keyed flag");
  n = size32(r, 4);
  if (n > schema.types.size()) {
    r.fail(where + ": key fields for " + std::to_string(n) + " event types (" +
           std::to_string(schema.types.size()) + " types)");
  }
  p.key_fields.resize(n);
  for (std::uint32_t t = 0; t < n; ++t) {
    std::uint32_t m = size32(r, 4);
    for (std::uint32_t i = 0; i < m; ++i) {
      p.key_fields[t].push_back(index(r, schema.types[t].fields.size(), false,
                                      where + ": key field of `" + schema.types[t].name + "`"));
    }
  }
  p.emit = readShape(r, where + ": emit");
  p.has_timeout_emit = r.flag("a timeout emit flag");
  p.timeout_emit = readShape(r, where + ": timeout emit");
  p.max_branches = r.u32();
  if (p.max_branches == 0) {
    r.fail(where + ": max branches is 0");
  }
  p.step_symbol = r.str();
  p.prefilter_symbol = r.str();
  p.key_hash_symbol = r.str();
  p.key_eq_symbol = r.str();
  return p;
}

void expectEnd(SnapshotReader &r) {
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
}

} // namespace

std::string encodeSchema(const Schema &schema) {
  std::string out;
  SnapshotWriter w(out);
  writeVersion(w);
  w.u32(static_cast<std::uint32_t>(schema.types.size()));
  for (const EventSchema &type : schema.types) {
    w.str(type.name);
    writeI32(w, type.time_field);
    w.u32(static_cast<std::uint32_t>(type.fields.size()));
    for (const FieldSchema &f : type.fields) {
      w.str(f.name);
      w.u8(static_cast<std::uint8_t>(f.kind));
      w.u8(f.nullable ? 1 : 0);
    }
  }
  return out;
}

Schema decodeSchema(std::string_view bytes, const std::string &what) {
  SnapshotReader r(bytes, what);
  readVersion(r);
  Schema schema;
  std::uint32_t n = size32(r, kMinTypeBytes);
  std::set<std::string, std::less<>> names;
  schema.types.resize(n);
  for (std::uint32_t t = 0; t < n; ++t) {
    EventSchema &type = schema.types[t];
    type.name = r.str();
    if (!names.insert(type.name).second) {
      r.fail("event type `" + type.name + "` twice");
    }
    std::int32_t time_field = i32(r);
    std::uint32_t fields = size32(r, kMinFieldBytes);
    if (fields > kMaxFields) {
      r.fail("event type `" + type.name + "` has " + std::to_string(fields) + " fields (at most " +
             std::to_string(kMaxFields) + ")");
    }
    std::set<std::string, std::less<>> field_names;
    type.fields.resize(fields);
    for (std::uint32_t i = 0; i < fields; ++i) {
      FieldSchema &f = type.fields[i];
      f.name = r.str();
      if (!field_names.insert(f.name).second) {
        r.fail("field `" + type.name + "." + f.name + "` twice");
      }
      f.kind = static_cast<FieldKind>(
          enumValue(r, kMaxFieldKind, "field `" + type.name + "." + f.name + "`: kind"));
      f.nullable = r.flag("a nullable flag");
    }
    if (time_field != -1 &&
        (time_field < 0 || static_cast<std::uint32_t>(time_field) >= fields ||
         type.fields[static_cast<std::size_t>(time_field)].kind != FieldKind::Time)) {
      r.fail("event type `" + type.name + "`: time field " + std::to_string(time_field) +
             " is not a field of type time");
    }
    type.time_field = time_field;
  }
  expectEnd(r);
  return schema;
}

std::string encodeImages(const std::vector<PatternImage> &images) {
  std::string out;
  SnapshotWriter w(out);
  writeVersion(w, kImagesCodecVersion);
  w.u32(static_cast<std::uint32_t>(images.size()));
  for (const PatternImage &p : images) {
    writeImage(w, p);
    writeStepTypes(w, p);
  }
  return out;
}

std::vector<PatternImage> decodeImages(std::string_view bytes, const Schema &schema,
                                       const std::string &what) {
  SnapshotReader r(bytes, what);
  std::uint32_t version = readVersion(r, kImagesOldestCodecVersion, kImagesCodecVersion);
  std::uint32_t n = size32(r, kMinImageBytes);
  std::vector<PatternImage> images;
  images.reserve(n);
  std::set<std::string, std::less<>> names;
  for (std::uint32_t i = 0; i < n; ++i) {
    images.push_back(readImage(r, schema));
    if (version >= 2) {
      readStepTypes(r, schema, images.back());
    }
    if (!names.insert(images.back().name).second) {
      r.fail("pattern `" + images.back().name + "` twice");
    }
  }
  expectEnd(r);
  return images;
}

std::uint64_t imageFingerprint(const Schema &schema, const PatternImage &image) {
  std::string out = encodeSchema(schema);
  SnapshotWriter w(out);
  writeImage(w, image);
  // Step types are covered once known (an image read from a version 1 encoding has none, and
  // keeps the fingerprint it was built with).
  if (std::any_of(image.steps.begin(), image.steps.end(),
                  [](const StepInfo &s) { return s.event_type >= 0; })) {
    writeStepTypes(w, image);
  }
  return runSnapshotChecksum(out);
}

std::string imageFingerprintSymbol(const PatternImage &image) {
  return image.step_symbol + ".image";
}

const char *stateKindName(StateKind k) {
  switch (k) {
  case StateKind::Normal:
    return "normal";
  case StateKind::Final:
    return "final";
  case StateKind::Stop:
    return "stop";
  case StateKind::Pending:
    return "pending";
  }
  return "?";
}

const char *skipName(Skip s) {
  switch (s) {
  case Skip::None:
    return "none";
  case Skip::PastLast:
    return "past last";
  case Skip::ToNext:
    return "to next";
  case Skip::ToFirst:
    return "to first";
  case Skip::ToLast:
    return "to last";
  }
  return "?";
}

const char *valueKindName(ValueKind k) {
  switch (k) {
  case ValueKind::Null:
    return "null";
  case ValueKind::Bool:
    return "bool";
  case ValueKind::Int:
    return "int";
  case ValueKind::Float:
    return "float";
  case ValueKind::String:
    return "string";
  case ValueKind::Time:
    return "time";
  case ValueKind::Duration:
    return "duration";
  }
  return "?";
}

} // namespace cep::runtime::native
