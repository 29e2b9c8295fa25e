// Keys taken out of and added to a matcher state (partition_state.hpp), through the key records:
// a state's records reassemble into a state (assembleMatcherState), so any subset of them does.
#include "runtime/state/partition_state.hpp"

#include "runtime/state/key_record.hpp"

#include <algorithm>
#include <unordered_map>

namespace cep::runtime {

namespace {

// The state of `like`'s header with the keys of `records`.
MatcherState assembleLike(const MatcherState &like, const std::vector<std::string_view> &records) {
  MatcherHeader h = headerOf(like);
  h.keys = records.size();
  std::string header;
  encodeMatcherHeader(h, header);
  MatcherState st = assembleMatcherState(header, records, like.schema, like.pattern);
  st.key = like.key;
  return st;
}

// Moves every arrival seq `part` refers to (its events', its runs' and held matches' starts, its
// keys' last events) to next_seq, next_seq + 1, ... in their order. `part`'s events are its own
// (decoded from records), so they are changed in place.
void rebaseSeqs(MatcherState &part, std::uint64_t &next_seq) {
  std::vector<std::uint64_t> seqs;
  seqs.reserve(part.events.size());
  for (const EventRef &e : part.events) {
    seqs.push_back(e->seq);
  }
  for (const StateKey &k : part.keys) {
    for (const StateRun &r : k.runs) {
      seqs.push_back(r.start_seq);
    }
    for (const StateHeld &m : k.held) {
      seqs.push_back(m.start_seq);
    }
    if (k.last_time != kNoLastEvent) {
      seqs.push_back(k.last_seq);
    }
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  std::unordered_map<std::uint64_t, std::uint64_t> to;
  to.reserve(seqs.size());
  for (std::uint64_t s : seqs) {
    to.emplace(s, next_seq++);
  }
  for (EventRef &e : part.events) {
    e->seq = to.at(e->seq);
  }
  for (StateKey &k : part.keys) {
    for (StateRun &r : k.runs) {
      r.start_seq = to.at(r.start_seq);
    }
    for (StateHeld &m : k.held) {
      m.start_seq = to.at(m.start_seq);
    }
    if (k.last_time != kNoLastEvent) {
      k.last_seq = to.at(k.last_seq);
    }
  }
}

} // namespace

std::vector<std::string> keyRecordsOf(const MatcherState &state, const KeyFilter &pick) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < state.keys.size(); ++i) {
    if (pick(state.keys[i].key_json)) {
      std::string record;
      encodeKeyRecord(state, i, record);
      out.push_back(std::move(record));
    }
  }
  return out;
}

MatcherState withoutKeys(const MatcherState &state, const KeyFilter &drop) {
  std::vector<std::string> kept =
      keyRecordsOf(state, [&drop](std::string_view key_json) { return !drop(key_json); });
  std::vector<std::string_view> views(kept.begin(), kept.end());
  return assembleLike(state, views);
}

MatcherState withKeys(const MatcherState &state, const std::vector<std::string_view> &records,
                      std::uint64_t &next_seq) {
  // The part alone first (its own events, numbered by its own seqs), moved to the new seqs,
  // then written back as records and assembled with the state's.
  // next_seq changes only when nothing throws.
  MatcherState part = assembleLike(state, records);
  std::uint64_t next = next_seq;
  rebaseSeqs(part, next);
  std::vector<std::string> all = encodeKeyRecords(part);
  std::vector<std::string> own = encodeKeyRecords(state);
  all.insert(all.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
  std::vector<std::string_view> views(all.begin(), all.end());
  MatcherState merged = assembleLike(state, views);
  next_seq = next;
  return merged;
}

} // namespace cep::runtime
