// The aggregate image codec (runtime/native/aggregate_codec.hpp).
#include "runtime/native/aggregate_codec.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/native/image_codec.hpp"
#include "runtime/snapshot_codec.hpp"

#include <set>
#include <stdexcept>

namespace cep::runtime::native {

namespace {

namespace rt = runtime::aggregate;

constexpr std::uint8_t kMaxFieldKind = static_cast<std::uint8_t>(FieldKind::Duration);
constexpr std::uint8_t kMaxValueKind = static_cast<std::uint8_t>(ValueKind::Duration);
constexpr std::uint8_t kMaxWindow = static_cast<std::uint8_t>(rt::WindowKind::None);
constexpr std::uint8_t kMaxFn = static_cast<std::uint8_t>(rt::AggFn::CountDistinct);
constexpr std::size_t kMinAggregateBytes =
    4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 1 + 8 * 4 + 4 + (4 + 4) + 4 + 4 + 4;

void writeI32(SnapshotWriter &w, std::int32_t v) {
  w.u32(static_cast<std::uint32_t>(v));
}
std::int32_t i32(SnapshotReader &r) {
  return static_cast<std::int32_t>(r.u32());
}
std::uint32_t size32(SnapshotReader &r, std::size_t min_item_bytes) {
  return static_cast<std::uint32_t>(r.count(r.u32(), min_item_bytes));
}
std::uint8_t enumValue(SnapshotReader &r, std::uint8_t max, const std::string &what) {
  std::uint8_t v = r.u8();
  if (v > max) {
    r.fail(what + " " + std::to_string(v) + " out of range");
  }
  return v;
}

void writeAggregate(SnapshotWriter &w, const AggregateImage &a) {
  w.str(a.name);
  writeI32(w, a.index);
  writeI32(w, a.operator_index);
  w.u32(a.event_type);
  writeI32(w, a.field_count);
  w.u32(static_cast<std::uint32_t>(a.key_fields.size()));
  for (std::int32_t f : a.key_fields) {
    writeI32(w, f);
  }
  w.u32(static_cast<std::uint32_t>(a.computed.size()));
  for (FieldKind k : a.computed) {
    w.u8(static_cast<std::uint8_t>(k));
  }
  w.str(a.step_name);
  w.u8(static_cast<std::uint8_t>(a.spec.window));
  w.i64(a.spec.size_ms);
  w.i64(a.spec.slide_ms);
  w.i64(a.spec.lateness_ms);
  w.i64(a.spec.ttl_ms);
  w.u32(static_cast<std::uint32_t>(a.spec.accumulators.size()));
  for (const rt::AccumulatorSpec &acc : a.spec.accumulators) {
    w.u8(static_cast<std::uint8_t>(acc.fn));
    writeI32(w, acc.field);
    w.str(acc.field_name);
    w.u8(static_cast<std::uint8_t>(acc.kind));
  }
  w.str(a.emit.stream);
  w.u32(static_cast<std::uint32_t>(a.emit.fields.size()));
  for (const OutputField &f : a.emit.fields) {
    w.str(f.name);
    w.u8(static_cast<std::uint8_t>(f.kind));
    w.str(f.symbol);
  }
  w.str(a.condition_symbol);
  w.u32(static_cast<std::uint32_t>(a.computed_symbols.size()));
  for (const std::string &s : a.computed_symbols) {
    w.str(s);
  }
  w.str(a.having_symbol);
}

AggregateImage readAggregate(SnapshotReader &r, const Schema &schema) {
  AggregateImage a;
  a.name = r.str();
  std::string where = "aggregate `" + a.name + "`";
  a.index = i32(r);
  a.operator_index = i32(r);
  if (a.index < 0 || a.operator_index < 0) {
    r.fail(where + ": negative index");
  }
  a.event_type = r.u32();
  if (a.event_type >= schema.types.size()) {
    r.fail(where + ": event type " + std::to_string(a.event_type) + " out of range (" +
           std::to_string(schema.types.size()) + ")");
  }
  const EventSchema &type = schema.types[a.event_type];
  a.field_count = i32(r);
  if (a.field_count != static_cast<std::int32_t>(type.fields.size())) {
    r.fail(where + ": " + std::to_string(a.field_count) + " fields, but type " + type.name +
           " has " + std::to_string(type.fields.size()));
  }
  std::uint32_t keys = size32(r, 4);
  for (std::uint32_t i = 0; i < keys; ++i) {
    std::int32_t f = i32(r);
    if (f < 0 || f >= a.field_count) {
      r.fail(where + ": key field " + std::to_string(f) + " out of range");
    }
    a.key_fields.push_back(f);
  }
  std::uint32_t computed = size32(r, 1);
  for (std::uint32_t i = 0; i < computed; ++i) {
    a.computed.push_back(static_cast<FieldKind>(enumValue(r, kMaxFieldKind, where + ": kind")));
  }
  if (static_cast<std::size_t>(a.rowSize()) > kMaxFields) {
    r.fail(where + ": a row of " + std::to_string(a.rowSize()) + " slots (at most " +
           std::to_string(kMaxFields) + ")");
  }
  a.step_name = r.str();
  a.spec.name = a.name;
  a.spec.window = static_cast<rt::WindowKind>(enumValue(r, kMaxWindow, where + ": window kind"));
  a.spec.size_ms = r.i64();
  a.spec.slide_ms = r.i64();
  a.spec.lateness_ms = r.i64();
  a.spec.ttl_ms = r.i64();
  std::uint32_t accumulators = size32(r, 1 + 4 + 4 + 1);
  for (std::uint32_t i = 0; i < accumulators; ++i) {
    rt::AccumulatorSpec acc;
    acc.fn = static_cast<rt::AggFn>(enumValue(r, kMaxFn, where + ": function"));
    acc.field = i32(r);
    acc.field_name = r.str();
    acc.kind = static_cast<FieldKind>(enumValue(r, kMaxFieldKind, where + ": kind"));
    if (acc.field < -1 || acc.field >= a.rowSize()) {
      r.fail(where + ": accumulator slot " + std::to_string(acc.field) + " out of the row");
    }
    a.spec.accumulators.push_back(std::move(acc));
  }
  try {
    rt::validateSpec(a.spec);
  } catch (const std::invalid_argument &e) {
    r.fail(where + ": " + e.what());
  }
  a.emit.stream = r.str();
  std::uint32_t fields = size32(r, 4 + 1 + 4);
  for (std::uint32_t i = 0; i < fields; ++i) {
    OutputField f;
    f.name = r.str();
    f.kind = static_cast<ValueKind>(enumValue(r, kMaxValueKind, where + ": value kind"));
    f.symbol = r.str();
    a.emit.fields.push_back(std::move(f));
  }
  a.condition_symbol = r.str();
  std::uint32_t symbols = size32(r, 4);
  if (symbols != computed) {
    r.fail(where + ": " + std::to_string(symbols) + " computed symbols for " +
           std::to_string(computed) + " computed slots");
  }
  for (std::uint32_t i = 0; i < symbols; ++i) {
    a.computed_symbols.emplace_back(r.str());
  }
  a.having_symbol = r.str();
  return a;
}

} // namespace

std::string encodeAggregates(const std::vector<AggregateImage> &images) {
  std::string out;
  SnapshotWriter w(out);
  w.u32(kAggregatesCodecVersion);
  w.u32(static_cast<std::uint32_t>(images.size()));
  for (const AggregateImage &a : images) {
    writeAggregate(w, a);
  }
  return out;
}

std::vector<AggregateImage> decodeAggregates(std::string_view bytes, const Schema &schema,
                                             const std::string &what) {
  SnapshotReader r(bytes, what);
  std::uint32_t version = r.u32();
  if (version != kAggregatesCodecVersion) {
    r.fail("encoding version " + std::to_string(version) + ", this cep reads version " +
           std::to_string(kAggregatesCodecVersion));
  }
  std::uint32_t n = size32(r, kMinAggregateBytes);
  std::vector<AggregateImage> images;
  std::set<std::string, std::less<>> names;
  for (std::uint32_t i = 0; i < n; ++i) {
    images.push_back(readAggregate(r, schema));
    if (!names.insert(images.back().name).second) {
      r.fail("aggregate `" + images.back().name + "` twice");
    }
  }
  if (!r.atEnd()) {
    r.fail("bytes after the last aggregate");
  }
  return images;
}

std::uint64_t aggregateFingerprint(const Schema &schema, const AggregateImage &image) {
  std::string out = encodeSchema(schema);
  SnapshotWriter w(out);
  writeAggregate(w, image);
  return runSnapshotChecksum(out);
}

std::string aggregateFingerprintSymbol(const AggregateImage &image) {
  return "cep.a" + std::to_string(image.index) + ".image";
}

} // namespace cep::runtime::native
