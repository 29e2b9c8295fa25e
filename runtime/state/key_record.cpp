// Matcher headers and key records: the matcher-state model cut per key, and put back together
// (format and contract in key_record.hpp).
#include "runtime/state/key_record.hpp"

#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace cep::runtime {

namespace {

constexpr char kHeaderKind = kMatcherHeaderKind;
constexpr char kRecordKind = kKeyRecordKind;

std::uint8_t startRecord(SnapshotReader &r, char kind, const char *what) {
  std::uint8_t version = r.u8();
  if (version < kKeyRecordOldestVersion || version > kKeyRecordVersion) {
    r.fail("format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kKeyRecordOldestVersion) + " to " + std::to_string(kKeyRecordVersion) +
           ")");
  }
  char got = static_cast<char>(r.u8());
  if (got != kind) {
    r.fail(std::string("not a ") + what);
  }
  return version;
}

} // namespace

MatcherHeader headerOf(const MatcherState &st) {
  MatcherHeader h;
  h.pattern = st.pattern;
  h.time = st.time;
  h.stats = st.stats;
  h.draining = st.draining;
  h.keys = st.keys.size();
  return h;
}

void encodeMatcherHeader(const MatcherHeader &h, std::string &out) {
  SnapshotWriter w(out);
  w.u8(kKeyRecordVersion);
  w.u8(static_cast<std::uint8_t>(kHeaderKind));
  w.str(h.pattern);
  w.i64(h.time);
  const MatcherStats &s = h.stats;
  for (std::uint64_t v : {s.events, s.matches, s.timeouts, s.peak_runs, s.peak_keys,
                          s.peak_bound_events, s.peak_state_bytes, s.evicted, s.dropped}) {
    w.u64(v);
  }
  w.u8(h.draining ? 1 : 0);
  w.u64(h.keys);
}

MatcherHeader decodeMatcherHeader(std::string_view in, std::string_view pattern) {
  SnapshotReader r(in, "matcher header");
  startRecord(r, kHeaderKind, "matcher header");
  MatcherHeader h;
  h.pattern = std::string(r.str());
  if (h.pattern != pattern) {
    r.fail("it is of pattern `" + h.pattern + "`, not `" + std::string(pattern) + "`");
  }
  h.time = r.i64();
  MatcherStats &s = h.stats;
  for (std::uint64_t *v : {&s.events, &s.matches, &s.timeouts, &s.peak_runs, &s.peak_keys,
                           &s.peak_bound_events, &s.peak_state_bytes, &s.evicted, &s.dropped}) {
    *v = r.u64();
  }
  h.draining = r.flag("draining flag");
  h.keys = r.u64();
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  return h;
}

namespace {

// Numbers one key's nodes and events within its record, in the order its runs, then its held
// matches, first reach them (as exportState numbers the whole state), and writes the record.
// `NodeIds` / `EventIds` map the state's node and event indices to the record's (-1: none yet).
template <typename Ids> class RecordWriter {
public:
  RecordWriter(const MatcherState &st, Ids &node_ids, Ids &event_ids)
      : st_(st), node_ids_(node_ids), event_ids_(event_ids) {}

  void write(std::size_t key_index, std::string &out) {
    const StateKey &key = st_.keys.at(key_index);
    order_.clear();
    events_.clear();
    for (const StateRun &run : key.runs) {
      collect(run.last);
    }
    for (const StateHeld &m : key.held) {
      collect(m.last);
    }
    SnapshotWriter w(out);
    w.u8(kKeyRecordVersion);
    w.u8(static_cast<std::uint8_t>(kRecordKind));
    w.str(key.key_json);
    w.u64(events_.size());
    for (std::uint64_t e : events_) {
      writeEvent(w, *st_.schema, *st_.events.at(e));
    }
    w.u64(order_.size());
    for (std::int64_t n : order_) {
      const StateNode &node = st_.nodes[static_cast<std::size_t>(n)];
      w.u64(static_cast<std::uint64_t>(event_ids_.get(static_cast<std::int64_t>(node.event))));
      w.str(node.step);
      w.i64(local(node.prev));
    }
    w.u64(key.runs.size());
    for (const StateRun &run : key.runs) {
      w.str(run.state);
      w.u32(run.counter);
      w.i64(local(run.last));
      w.i64(run.start_time);
      w.u64(run.start_seq);
      w.i64(run.prev_time);
    }
    w.u64(key.held.size());
    for (const StateHeld &m : key.held) {
      w.i64(local(m.last));
      w.i64(m.start_time);
      w.u64(m.start_seq);
    }
    w.i64(key.last_time);
    w.u64(key.last_seq);
    // Forget this key's numbering (only what it set).
    for (std::int64_t n : order_) {
      node_ids_.reset(n);
    }
    for (std::uint64_t e : events_) {
      event_ids_.reset(static_cast<std::int64_t>(e));
    }
  }

private:
  std::int64_t local(std::int64_t n) const { return n < 0 ? -1 : node_ids_.get(n); }
  void collect(std::int64_t last) {
    chain_.clear();
    for (std::int64_t n = last; n >= 0 && node_ids_.get(n) < 0;
         n = st_.nodes.at(static_cast<std::size_t>(n)).prev) {
      chain_.push_back(n);
    }
    for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
      node_ids_.set(*it, static_cast<std::int64_t>(order_.size()));
      order_.push_back(*it);
      auto e = static_cast<std::int64_t>(st_.nodes[static_cast<std::size_t>(*it)].event);
      if (event_ids_.get(e) < 0) {
        event_ids_.set(e, static_cast<std::int64_t>(events_.size()));
        events_.push_back(static_cast<std::uint64_t>(e));
      }
    }
  }

  const MatcherState &st_;
  Ids &node_ids_;
  Ids &event_ids_;
  std::vector<std::int64_t> order_; // the state's node indices, in the record's order
  std::vector<std::uint64_t> events_;
  std::vector<std::int64_t> chain_;
};

// For one record: a map (no cost proportional to the whole state).
struct SparseIds {
  std::unordered_map<std::int64_t, std::int64_t> ids;
  std::int64_t get(std::int64_t i) const {
    auto it = ids.find(i);
    return it == ids.end() ? -1 : it->second;
  }
  void set(std::int64_t i, std::int64_t id) { ids[i] = id; }
  void reset(std::int64_t i) { ids.erase(i); }
};

// For every record of a state: one array over the state, reset after each record.
struct DenseIds {
  std::vector<std::int64_t> ids;
  explicit DenseIds(std::size_t n) : ids(n, -1) {}
  std::int64_t get(std::int64_t i) const { return ids.at(static_cast<std::size_t>(i)); }
  void set(std::int64_t i, std::int64_t id) { ids[static_cast<std::size_t>(i)] = id; }
  void reset(std::int64_t i) { ids[static_cast<std::size_t>(i)] = -1; }
};

} // namespace

void encodeKeyRecord(const MatcherState &st, std::size_t key_index, std::string &out) {
  SparseIds nodes, events;
  RecordWriter<SparseIds>(st, nodes, events).write(key_index, out);
}

std::vector<std::string> encodeKeyRecords(const MatcherState &st) {
  DenseIds nodes(st.nodes.size()), events(st.events.size());
  RecordWriter<DenseIds> writer(st, nodes, events);
  std::vector<std::string> out(st.keys.size());
  for (std::size_t i = 0; i < st.keys.size(); ++i) {
    writer.write(i, out[i]);
  }
  return out;
}

KeyRecord decodeKeyRecord(std::string_view in, const Schema &schema) {
  SnapshotReader r(in, "key record");
  const std::uint8_t version = startRecord(r, kRecordKind, "key record");
  KeyRecord rec;
  rec.key.key_json = std::string(r.str());
  rec.events.resize(r.count(kMinSnapshotEventBytes));
  for (EventRef &e : rec.events) {
    e = readEvent(r, schema);
  }
  std::vector<bool> reached(rec.events.size(), false);
  rec.nodes.resize(r.count(8 + 4 + 8));
  for (std::size_t i = 0; i < rec.nodes.size(); ++i) {
    StateNode &n = rec.nodes[i];
    n.event = r.u64();
    n.step = std::string(r.str());
    n.prev = r.i64();
    if (n.event >= rec.events.size()) {
      r.fail("node refers to a missing event");
    }
    if (n.prev < -1 || n.prev >= static_cast<std::int64_t>(i)) {
      r.fail("node refers to a later node");
    }
    reached[n.event] = true;
  }
  if (std::find(reached.begin(), reached.end(), false) != reached.end()) {
    r.fail("an event no node refers to");
  }
  auto node = [&](std::int64_t id) {
    if (id < -1 || id >= static_cast<std::int64_t>(rec.nodes.size())) {
      r.fail("reference to a missing node");
    }
    return id;
  };
  rec.key.runs.resize(r.count(4 + 4 + 8 + 8 + 8 + 8));
  for (StateRun &run : rec.key.runs) {
    run.state = std::string(r.str());
    run.counter = r.u32();
    run.last = node(r.i64());
    run.start_time = r.i64();
    run.start_seq = r.u64();
    run.prev_time = r.i64();
  }
  rec.key.held.resize(r.count(8 + 8 + 8));
  for (StateHeld &m : rec.key.held) {
    m.last = node(r.i64());
    if (m.last < 0) {
      r.fail("a held match without events");
    }
    m.start_time = r.i64();
    m.start_seq = r.u64();
  }
  if (version >= 2) {
    rec.key.last_time = r.i64();
    rec.key.last_seq = r.u64();
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  return rec;
}

MatcherState assembleMatcherState(std::string_view header,
                                  const std::vector<std::string_view> &records,
                                  std::shared_ptr<const Schema> schema, std::string_view pattern) {
  MatcherHeader h = decodeMatcherHeader(header, pattern);
  MatcherState st;
  st.pattern = h.pattern;
  st.time = h.time;
  st.stats = h.stats;
  st.draining = h.draining;
  st.schema = std::move(schema);

  std::vector<KeyRecord> keys;
  keys.reserve(records.size());
  for (std::string_view bytes : records) {
    keys.push_back(decodeKeyRecord(bytes, *st.schema));
  }
  if (keys.size() != h.keys) {
    throw std::runtime_error("bad key record: " + std::to_string(keys.size()) +
                             " records for a state of " + std::to_string(h.keys) + " keys");
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyRecord &a, const KeyRecord &b) { return a.key.key_json < b.key.key_json; });
  // Nodes belong to one key: a key's nodes follow the earlier keys' in its own order. Events
  // are numbered when a node first reaches them; one under two keys (the same arrival seq) is
  // kept once.
  std::unordered_map<std::uint64_t, std::uint64_t> by_seq;
  std::vector<std::uint64_t> event_ids;
  std::size_t nodes = 0, events = 0;
  for (const KeyRecord &rec : keys) {
    nodes += rec.nodes.size();
    events += rec.events.size();
  }
  by_seq.reserve(events);
  st.events.reserve(events);
  st.nodes.reserve(nodes);
  st.keys.reserve(keys.size());
  for (KeyRecord &rec : keys) {
    if (!st.keys.empty() && st.keys.back().key_json == rec.key.key_json) {
      throw std::runtime_error("bad key record: two records of key " + rec.key.key_json);
    }
    const auto offset = static_cast<std::int64_t>(st.nodes.size());
    event_ids.assign(rec.events.size(), UINT64_MAX);
    for (StateNode &n : rec.nodes) {
      std::uint64_t &id = event_ids[n.event];
      if (id == UINT64_MAX) {
        const EventRef &e = rec.events[n.event];
        auto [at, added] = by_seq.emplace(e->seq, st.events.size());
        if (added) {
          st.events.push_back(e);
        }
        id = at->second;
      }
      n.event = id;
      if (n.prev >= 0) {
        n.prev += offset;
      }
      st.nodes.push_back(std::move(n));
    }
    for (StateRun &run : rec.key.runs) {
      if (run.last >= 0) {
        run.last += offset;
      }
    }
    for (StateHeld &m : rec.key.held) {
      m.last += offset;
    }
    st.keys.push_back(std::move(rec.key));
  }
  return st;
}

void restoreFromRecords(Matcher &fresh, std::string_view header,
                        const std::vector<std::string_view> &records,
                        std::shared_ptr<const Schema> schema) {
  fresh.restoreState(assembleMatcherState(header, records, std::move(schema), fresh.patternName()));
}

} // namespace cep::runtime
