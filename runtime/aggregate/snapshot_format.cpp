// The shared parts of aggregate snapshots (runtime/aggregate/snapshot_format.hpp).
#include "runtime/aggregate/snapshot_format.hpp"

#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace cep::runtime::aggregate {

namespace {

constexpr char kMagic[8] = {'C', 'E', 'P', 'A', 'S', 'N', 'A', 'P'};
constexpr std::uint32_t kVersion = 1;
constexpr char kOperatorMagic[8] = {'C', 'E', 'P', 'A', 'G', 'G', 'O', 'P'};
constexpr std::uint32_t kOperatorVersion = 1;

} // namespace

void writeSnapshotHeader(SnapshotWriter &w, const AggregateSpec &spec, std::int64_t watermark) {
  w.bytes(kMagic, sizeof kMagic);
  w.u32(kVersion);
  w.str(spec.name);
  w.str(windowKindName(spec.window));
  w.i64(spec.size_ms);
  w.i64(spec.slide_ms);
  w.i64(spec.lateness_ms);
  w.i64(spec.ttl_ms);
  w.u8(spec.keep_events ? 1 : 0);
  w.u32(static_cast<std::uint32_t>(spec.accumulators.size()));
  for (const AccumulatorSpec &a : spec.accumulators) {
    w.str(aggFnName(a.fn));
    w.str(a.field_name);
    w.str(fieldKindName(a.kind));
  }
  w.i64(watermark);
}

std::int64_t readSnapshotHeader(SnapshotReader &r, std::string_view bytes,
                                const AggregateSpec &spec) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    r.fail("not an aggregate snapshot (no CEPASNAP magic)");
  }
  r.skip(sizeof kMagic);
  std::uint32_t version = r.u32();
  if (version != kVersion) {
    r.fail("version " + std::to_string(version) + " (this build reads " + std::to_string(kVersion) +
           ")");
  }
  auto expect = [&](std::string_view got, std::string_view want, const char *what) {
    if (got != want) {
      r.fail(std::string(what) + " is " + std::string(got) + ", the aggregate's is " +
             std::string(want));
    }
  };
  auto expectInt = [&](std::int64_t got, std::int64_t want, const char *what) {
    if (got != want) {
      r.fail(std::string(what) + " is " + std::to_string(got) + " ms, the aggregate's is " +
             std::to_string(want) + " ms");
    }
  };
  expect(r.str(), spec.name, "aggregate");
  expect(r.str(), windowKindName(spec.window), "window");
  expectInt(r.i64(), spec.size_ms, "window size");
  expectInt(r.i64(), spec.slide_ms, "window step");
  expectInt(r.i64(), spec.lateness_ms, "lateness");
  expectInt(r.i64(), spec.ttl_ms, "ttl");
  if (r.flag("keep events") != spec.keep_events) {
    r.fail("kept events differ from the aggregate's");
  }
  std::uint32_t n = r.u32();
  if (n != spec.accumulators.size()) {
    r.fail(std::to_string(n) + " accumulators, the aggregate has " +
           std::to_string(spec.accumulators.size()));
  }
  for (const AccumulatorSpec &a : spec.accumulators) {
    std::string fn(r.str());
    std::string field(r.str());
    std::string kind(r.str());
    if (fn != aggFnName(a.fn) || field != a.field_name || kind != fieldKindName(a.kind)) {
      r.fail("accumulator " + fn + "(" + field + ": " + kind + ") where the aggregate has " +
             aggFnName(a.fn) + "(" + a.field_name + ": " + fieldKindName(a.kind) + ")");
    }
  }
  return r.i64();
}

namespace {

// The header up to its watermark (specOfSnapshotHeader, watermarkOfSnapshotHeader).
AggregateSpec readHeaderSpec(SnapshotReader &r, std::string_view header) {
  if (header.size() < sizeof kMagic || std::memcmp(header.data(), kMagic, sizeof kMagic) != 0) {
    r.fail("not an aggregate snapshot (no CEPASNAP magic)");
  }
  r.skip(sizeof kMagic);
  std::uint32_t version = r.u32();
  if (version != kVersion) {
    r.fail("version " + std::to_string(version) + " (this build reads " + std::to_string(kVersion) +
           ")");
  }
  AggregateSpec spec;
  spec.name = std::string(r.str());
  std::string window(r.str());
  bool known = false;
  for (WindowKind k : {WindowKind::Tumbling, WindowKind::Hopping, WindowKind::Cumulate,
                       WindowKind::Session, WindowKind::Rolling, WindowKind::None}) {
    if (window == windowKindName(k)) {
      spec.window = k;
      known = true;
    }
  }
  if (!known) {
    r.fail("unknown window kind " + window);
  }
  spec.size_ms = r.i64();
  spec.slide_ms = r.i64();
  spec.lateness_ms = r.i64();
  spec.ttl_ms = r.i64();
  spec.keep_events = r.flag("keep events");
  std::uint32_t n = r.u32();
  std::map<std::string, std::int32_t> slots;
  for (std::uint32_t i = 0; i < n; ++i) {
    AccumulatorSpec a;
    std::string fn(r.str());
    a.field_name = std::string(r.str());
    std::string kind(r.str());
    known = false;
    for (AggFn f : {AggFn::Count, AggFn::CountField, AggFn::Sum, AggFn::Avg, AggFn::Min, AggFn::Max,
                    AggFn::First, AggFn::Last, AggFn::CountDistinct}) {
      if (fn == aggFnName(f)) {
        a.fn = f;
        known = true;
      }
    }
    if (!known) {
      r.fail("unknown aggregate function " + fn);
    }
    known = false;
    for (FieldKind k : {FieldKind::Bool, FieldKind::Int, FieldKind::Float, FieldKind::String,
                        FieldKind::Time, FieldKind::Duration}) {
      if (kind == fieldKindName(k)) {
        a.kind = k;
        known = true;
      }
    }
    if (!known) {
      r.fail("unknown field kind " + kind);
    }
    if (a.fn != AggFn::Count) {
      a.field = slots.emplace(a.field_name, static_cast<std::int32_t>(slots.size())).first->second;
    }
    spec.accumulators.push_back(std::move(a));
  }
  return spec;
}

} // namespace

AggregateSpec specOfSnapshotHeader(std::string_view header) {
  SnapshotReader r(header, "aggregate snapshot");
  return readHeaderSpec(r, header);
}

std::int64_t watermarkOfSnapshotHeader(std::string_view header) {
  SnapshotReader r(header, "aggregate snapshot");
  readHeaderSpec(r, header);
  std::int64_t watermark = r.i64();
  if (!r.atEnd()) {
    r.fail("bytes after the header");
  }
  return watermark;
}

std::string withSnapshotHeaderWatermark(std::string_view header, std::int64_t watermark) {
  watermarkOfSnapshotHeader(header); // a damaged header throws here
  std::string out(header.substr(0, header.size() - sizeof(std::uint64_t)));
  SnapshotWriter w(out);
  w.i64(watermark);
  return out;
}

std::string withFiredMark(WindowKind kind, std::string_view record, std::int64_t mark) {
  SnapshotReader r(record, "aggregate key record");
  std::string_view name = r.str();
  // The word that carries the bit: the first count (time windows' panes, sessions), a rolling
  // key's entry count after its last event, a running (`none`) cell's first arrival after its
  // first and last events.
  const std::size_t skip = kind == WindowKind::Rolling ? 8 : kind == WindowKind::None ? 16 : 0;
  for (std::size_t i = 0; i < skip; i += 8) {
    r.i64();
  }
  std::uint64_t n = r.u64();
  std::size_t rest = sizeof(std::uint32_t) + name.size() + skip + sizeof(std::uint64_t);
  if ((n & kFiredMarkBit) != 0) {
    mark = std::max(mark, r.i64());
    rest += sizeof(std::int64_t);
  }
  std::string out(record.substr(0, sizeof(std::uint32_t) + name.size() + skip));
  SnapshotWriter w(out);
  w.u64(n | kFiredMarkBit);
  w.i64(mark);
  out += record.substr(rest);
  return out;
}

std::string_view latestSnapshotHeader(const std::vector<std::string_view> &headers) {
  std::string_view header;
  std::int64_t watermark = kNoWatermark;
  for (std::string_view h : headers) {
    const std::int64_t w = watermarkOfSnapshotHeader(h);
    if (header.empty() || w > watermark) {
      watermark = w;
      header = h;
    }
  }
  return header;
}

void writeOperatorSnapshot(std::string &out, std::string_view window, const Schema &schema,
                           const std::map<std::uint64_t, EventRef> &events) {
  SnapshotWriter w(out);
  w.bytes(kOperatorMagic, 8);
  w.u32(kOperatorVersion);
  w.blob(window);
  w.u64(events.size());
  for (const auto &[seq, event] : events) {
    writeEvent(w, schema, *event);
  }
}

std::string_view readOperatorSnapshot(std::string_view in, const Schema &schema,
                                      std::map<std::uint64_t, EventRef> &events) {
  SnapshotReader r(in, "aggregate snapshot");
  if (r.bytes(8) != std::string_view(kOperatorMagic, 8)) {
    r.fail("not an aggregate operator snapshot");
  }
  if (std::uint32_t version = r.u32(); version != kOperatorVersion) {
    r.fail("version " + std::to_string(version) + ", this cep reads version " +
           std::to_string(kOperatorVersion));
  }
  std::string_view window = r.blob();
  std::uint64_t n = r.count(kMinSnapshotEventBytes);
  for (std::uint64_t i = 0; i < n; ++i) {
    EventRef event = readEvent(r, schema, "kept");
    std::uint64_t seq = event->seq;
    events.emplace(seq, std::move(event));
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  return window;
}

} // namespace cep::runtime::aggregate
