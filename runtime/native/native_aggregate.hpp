// The native engine's operator for an aggregate (spec §8): the generated functions of an
// AggregateImage (runtime/native/aggregate_image.hpp) driving the incremental window runtime
// (runtime/aggregate/aggregator.hpp WindowAggregator: panes, sessions, rolling queues and
// deques, O(1) amortised per event). It writes exactly the records of the interpreter's operator
// (compiler/interp/aggregate_operator.hpp), byte for byte and in the same order, and plugs into
// the driver the same way (runtime::Matcher: advanceTime(t) is the aggregator's advance(t - 1),
// advanceWatermark(W) its advance(W), onLateEvent a late event counted within `lateness`).
//
// Snapshots (Matcher::snapshot, in `cep run --snapshot-after` files, named by the aggregate's
// name) hold the window runtime's CEPASNAP (aggregator.hpp: names and bounds, no indices):
//   "CEPAGGOP" u32 version (1), blob CEPASNAP, u64 n, n * event (runtime/snapshot_codec.hpp:
//   with --with-events, the counted events whose records a window may still write)
// (runtime/aggregate/snapshot_format.hpp writes the envelope and the header). restore()
// refuses another aggregate, spec or damaged bytes with std::runtime_error "bad aggregate
// snapshot: <reason>". The interpreter's operator writes and reads the same bytes, so a
// snapshot moves between interp, jit and .cepo runs.
// State export and migration are not supported: they throw std::runtime_error naming the
// aggregate, and checkMigration gives the reason.
//
// Drain (`cep serve`'s `drain` deploy and undeploy, docs/serve.md "Aggregates"): the two
// versions split the windows by their start against a switch time S, the event time after the
// old version's watermark when the drain applies (drainSwitchTime): windows that started before
// S are the old version's, the others the new one's. Both take every event (a window of either
// may hold it) and each writes only its own windows, so every window is written once, by one
// version, with all its events. drain() makes an operator own the windows before
// drainSwitchTime(); drained() is true once the last of them is closed for good (time windows:
// the watermark at its end - 1 + lateness). A session is the version's its start falls to (a
// merge gives it the earlier start, so it may move to the old version; it is written by its
// owner when it fires or is revised); drained() once no session that started before S is held
// or can start. A rolling window (t - size, t] starts at t - size: the old version writes the
// records of events before S + size, drained() once the watermark is at S + size - 1. A running
// (`none`) window starts at its key's first event or restart after `ttl`: drained() once every
// one that started before S has expired; without `ttl` it would never end (drainRefusal). The
// new version knows the old one's sessions and running cells (seedDrain), so it writes none
// that the old one owns. ownWindows(m, S, INT64_MAX) gives the new version the rest;
// ownedWindows says what an operator owns (a checkpoint keeps it). dropState() drops every open
// window unwritten (`cep serve`'s `fresh` deploy and `drop` undeploy) and returns how many there
// were; stats() gives the open windows and the late events counted or missed (MatcherStats).
//
//   std::shared_ptr<const runtime::Schema> schema = ...;
//   auto op = makeNativeAggregate(schema, image, code, options);   // image: shared_ptr
//   operators.add(image->operator_index, op.get());
//
// LLVM-free and lang-free: it runs from a .cepo artifact as well as from the JIT.
#pragma once

#include "runtime/matcher.hpp"
#include "runtime/native/aggregate_image.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime::native {

// `options.with_events` adds "@events" (the step's records, at most 1,000, else
// "@events_omitted"; the operator then keeps each counted event's record while it runs);
// `options.version` adds "@version". The state bounds are for patterns (ttl bounds aggregates).
std::unique_ptr<Matcher> makeNativeAggregate(std::shared_ptr<const Schema> schema,
                                             std::shared_ptr<const AggregateImage> image,
                                             AggregateCode code, const MatcherOptions &options);

// The operators of a program in operator order: `patterns` (one per pattern, in declaration
// order) around `aggregates`, each placed at its operator index (AggregateImage::operator_index,
// a permutation's part: every index below patterns.size() + aggregates.size(), none twice).
//   placeOperators({p0, p1}, {{1, a0}}) == {p0, a0, p1}
// Key records (`cep serve --state` checkpoints and savepoints, docs/state.md): an aggregate's
// state outside the patterns' state model (runtime/state/matcher_state.hpp), as the header (the
// CEPASNAP header: the spec by name and the watermark) and one record per key (its name and its
// windows: runtime/aggregate/aggregator.hpp WindowAggregator::snapshotParts), keyed by the
// key's "@key" JSON. exportChanges (Matcher's) gives them incrementally: each call encodes every
// key and compares it with the previous call's fingerprint, putting only the changed ones (O(the
// state) per call, like Matcher's default). Not with --with-events (the kept events are not in
// the records): these throw std::runtime_error naming the aggregate.
//   MatcherChanges c; exportAggregateRecords(op, c);          // every key, c.full
//   restoreAggregateRecords(fresh, c.header, {views of the records});
//
// `cep serve --workers N` serves an aggregate as a ShardedMatcher (runtime/engine/
// sharded_matcher.hpp) of N of these, shard w holding the keys whose name hashes to worker w.
// Every function here takes one as the one operator it stands for: exportAggregateRecords
// merges the shards' keys in key order under their one header (one worker's bytes),
// restoreAggregateRecords places each key record on the shard its name hashes to; the drain
// functions act on every shard (the switch time: the latest of the shards', Matcher::drainTime).
bool isAggregate(const Matcher &m); // an operator made by makeNativeAggregate (or N of them)
void exportAggregateRecords(const Matcher &m, MatcherChanges &out);
void restoreAggregateRecords(Matcher &m, std::string_view header,
                             const std::vector<std::string_view> &records);
// A `keep` deploy: `to` (fresh) takes `from`'s open windows through its snapshot (shard by
// shard when sharded: both over as many workers, keyed by the same fields); throws
// std::runtime_error "bad aggregate snapshot: ..." when `to`'s spec cannot take them.
void moveAggregateWindows(Matcher &to, const Matcher &from);
// Whether a header of key records is an aggregate's (else it is an encoded MatcherHeader).
bool isAggregateHeader(std::string_view header);
// "" when the aggregate's windows can drain, else why not.
std::string drainRefusal(const AggregateImage &image);
// The switch time a drain() now would take: the operator's watermark + 1, or the start of the
// windows it owns if later.
std::int64_t drainSwitchTime(const Matcher &m);
// The new version `to` (fresh) of a drain at `before` (the old one's drainSwitchTime) takes
// `from`'s watermark and the bounds of its sessions and running cells that started before
// `before` (runtime/aggregate/aggregator.hpp seedFrom): so it sees that an event extends a
// window it does not own.
void seedDrain(Matcher &to, const Matcher &from, std::int64_t before);
// The windows `m` writes: those starting in [from, before) (default: all).
void ownWindows(Matcher &m, std::int64_t from, std::int64_t before);
std::pair<std::int64_t, std::int64_t> ownedWindows(const Matcher &m);
// The key ("@key" JSON) a key record is of (its first field); throws std::runtime_error "bad
// aggregate key record: ..." when it has none.
std::string aggregateRecordKey(std::string_view record);

std::vector<std::unique_ptr<Matcher>>
placeOperators(std::vector<std::unique_ptr<Matcher>> patterns,
               std::vector<std::pair<std::int32_t, std::unique_ptr<Matcher>>> aggregates);

} // namespace cep::runtime::native
