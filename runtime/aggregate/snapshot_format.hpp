// The parts of an aggregate's snapshot that both window runtimes write (WindowAggregator, the
// native engine's, and ReferenceAggregator, the interpreter's), so that a snapshot taken under
// one engine restores under the other:
//   - the CEPASNAP header (aggregator.hpp documents the whole layout): magic, version, the
//     spec by name (aggregate, window kind, sizes, lateness, ttl, kept events, accumulators by
//     function, field and kind), the watermark; reading it checks that the spec is the same;
//   - the operator envelope of a run snapshot (Matcher::snapshot of both engines' aggregate
//     operators): "CEPAGGOP" u32 version (1), blob CEPASNAP, u64 n, n * event
//     (runtime/snapshot_codec.hpp; with --with-events, the counted events whose records a
//     window may still write, in arrival order).
// A mismatch or damaged bytes throw std::runtime_error "bad aggregate snapshot: <reason>"
// (SnapshotReader::fail).
//
//   SnapshotWriter w(out);
//   writeSnapshotHeader(w, spec, watermark);   // then the keys
//   SnapshotReader r(bytes, "aggregate snapshot");
//   std::int64_t watermark = readSnapshotHeader(r, bytes, spec);
#pragma once

#include "runtime/aggregate/spec.hpp"
#include "runtime/event.hpp"
#include "runtime/schema.hpp"
#include "runtime/snapshot_codec.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::aggregate {

void writeSnapshotHeader(SnapshotWriter &w, const AggregateSpec &spec, std::int64_t watermark);
// Reads the header of `bytes` (r reads `bytes` from its start) and returns the watermark.
std::int64_t readSnapshotHeader(SnapshotReader &r, std::string_view bytes,
                                const AggregateSpec &spec);
// The spec a header names, for reading key records without the artifact (`cep state`): each
// accumulator's field gets a slot of its own per distinct field name (the slots the records'
// values go to). Throws std::runtime_error "bad aggregate snapshot: ..." on a damaged header.
AggregateSpec specOfSnapshotHeader(std::string_view header);
// The watermark a header carries (its last field), the header read as specOfSnapshotHeader
// reads it; the same errors.
std::int64_t watermarkOfSnapshotHeader(std::string_view header);
// `header` with its watermark replaced by `watermark` (the same checks as
// watermarkOfSnapshotHeader first).
std::string withSnapshotHeaderWatermark(std::string_view header, std::int64_t watermark);
// A key record may carry a "fired up to" mark (a key restored from a partition taken over
// ahead of the operator, docs/kafka.md; aggregator.hpp fired_): bit 63 of a count is set and an
// i64 mark follows it. The word: time windows' pane count and sessions' session count (the
// first after the name), rolling's entry count (after its last event), `none`'s first arrival
// (after its first and last events). Records without a mark are as before (older ones read as
// they were).
inline constexpr std::uint64_t kFiredMarkBit = std::uint64_t{1} << 63;
// A key `record` of a `kind` window (str name, ...) with the mark `mark` (the latest of it and
// the record's own mark, if it has one). Throws std::runtime_error "bad aggregate key record:
// ..." when the record is cut short.
std::string withFiredMark(WindowKind kind, std::string_view record, std::int64_t mark);
// Of several headers (one per partition or version), the one with the latest watermark; empty
// when `headers` is.
std::string_view latestSnapshotHeader(const std::vector<std::string_view> &headers);

// The operator envelope: `window` is the aggregator's CEPASNAP, `events` the kept events by
// arrival number.
void writeOperatorSnapshot(std::string &out, std::string_view window, const Schema &schema,
                           const std::map<std::uint64_t, EventRef> &events);
// Returns the CEPASNAP bytes (a view into `in`) and fills `events`.
std::string_view readOperatorSnapshot(std::string_view in, const Schema &schema,
                                      std::map<std::uint64_t, EventRef> &events);

} // namespace cep::runtime::aggregate
