// A part of a matcher's state moved between processes (#12 §3, docs/kafka.md "Scale-out"): the
// keys of some input partitions taken out of a state, or added to one. Both work on the named
// model (runtime/state/matcher_state.hpp) and the key records (key_record.hpp), so they are the
// same for both engines and survive a recompile; a running matcher gets the result through a
// fresh matcher's restoreState (Matcher::restore needs a fresh one) that takes its place.
//
// Arrival seqs. A key's events carry the arrival seqs of the process that read them; another
// process has its own counter, so seqs of a part brought in from elsewhere could collide with
// local ones (key records keep an event under two keys once, by seq) or sort after events still
// to come. withKeys therefore moves the part's seqs to `next_seq`, `next_seq + 1`, ... in their
// order (what orders the part's events among themselves is kept) and advances `next_seq` past
// them: the caller gives its arrival counter and raises it to the value returned, so every later
// event sorts after the part's.
//
// Example (a partition given up, then one taken over from the changelog):
//   MatcherState st;
//   matcher.exportState(st);
//   auto mine = [&](std::string_view key) { return keyPartitionOf(key, 4, part) == 2; };
//   std::vector<std::string> records = keyRecordsOf(st, mine); // partition 2's keys
//   MatcherState rest = withoutKeys(st, mine);                 // everything else
//   fresh->restoreState(rest);                                 // replaces `matcher`
//   ...
//   std::uint64_t next = loop_next_seq;
//   MatcherState more = withKeys(rest, incoming_records, next); // next: past their seqs
//   fresh2->restoreState(more);
#pragma once

#include "runtime/state/matcher_state.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

using KeyFilter = std::function<bool(std::string_view key_json)>;

// The key records (key_record.hpp) of the keys of `state` that `pick` takes, in key order.
std::vector<std::string> keyRecordsOf(const MatcherState &state, const KeyFilter &pick);

// `state` without the keys `drop` takes: the events and nodes only they reached go too; the
// header (pattern, time, statistics, draining) and the key description are kept.
MatcherState withoutKeys(const MatcherState &state, const KeyFilter &drop);

// `state` with the keys of `records` added (records of the same pattern, from any process),
// their arrival seqs moved to next_seq, next_seq + 1, ... (above); next_seq is advanced past
// them. Throws std::runtime_error "bad key record: ..." for a record that does not decode
// against the state's schema, and "bad key record: two records of key K" for a key the state
// already has (a partition restored twice); next_seq is then unchanged.
MatcherState withKeys(const MatcherState &state, const std::vector<std::string_view> &records,
                      std::uint64_t &next_seq);

} // namespace cep::runtime
