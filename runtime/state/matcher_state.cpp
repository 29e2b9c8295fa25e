// CEPISNAP: the one encoder and decoder of the matcher-state model (format in matcher_state.hpp).
#include "runtime/state/matcher_state.hpp"

#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <stdexcept>

namespace cep::runtime {

namespace {

constexpr const char *kWhat = "interpreter snapshot";

} // namespace

StateKeyDef describeKey(const Schema &schema, bool keyed,
                        const std::vector<std::vector<std::int32_t>> &key_fields) {
  StateKeyDef def;
  def.known = true;
  def.keyed = keyed;
  if (!keyed) {
    return def;
  }
  for (std::size_t t = 0; t < key_fields.size() && t < schema.types.size(); ++t) {
    if (key_fields[t].empty()) {
      continue;
    }
    const EventSchema &type = schema.types[t];
    StateKeyDef::TypeKey tk;
    tk.type = type.name;
    for (std::int32_t f : key_fields[t]) {
      const FieldSchema &field = type.fields.at(static_cast<std::size_t>(f));
      tk.fields.emplace_back(field.name, field.kind);
    }
    def.types.push_back(std::move(tk));
  }
  std::sort(def.types.begin(), def.types.end(),
            [](const auto &a, const auto &b) { return a.type < b.type; });
  return def;
}

std::uint64_t MatcherState::runCount() const {
  std::uint64_t n = 0;
  for (const StateKey &k : keys) {
    n += k.runs.size();
  }
  return n;
}

std::uint64_t MatcherState::heldCount() const {
  std::uint64_t n = 0;
  for (const StateKey &k : keys) {
    n += k.held.size();
  }
  return n;
}

void failMatcherState(const std::string &why) {
  throw std::runtime_error(std::string("bad ") + kWhat + ": " + why);
}

std::pair<std::int64_t, std::uint64_t> lastEventOf(const MatcherState &st, const StateKey &key) {
  if (key.last_time != kNoLastEvent) {
    return {key.last_time, key.last_seq};
  }
  std::pair<std::int64_t, std::uint64_t> last{kNoLastEvent, 0};
  auto reach = [&](std::int64_t node) {
    if (node >= 0) {
      const Event &e = *st.events.at(st.nodes.at(static_cast<std::size_t>(node)).event);
      last = std::max(last, std::pair<std::int64_t, std::uint64_t>{e.time, e.seq});
    }
  };
  for (const StateRun &r : key.runs) {
    reach(r.last); // a run's last node is its latest bound event
  }
  for (const StateHeld &m : key.held) {
    reach(m.last);
  }
  return last;
}

void encodeMatcherState(const MatcherState &st, std::string &out) {
  SnapshotWriter w(out);
  w.bytes(kMatcherStateMagic, sizeof kMatcherStateMagic);
  w.u32(kMatcherStateVersion);
  w.str(st.pattern);
  w.i64(st.time);
  const MatcherStats &s = st.stats;
  for (std::uint64_t v : {s.events, s.matches, s.timeouts, s.peak_runs, s.peak_keys,
                          s.peak_bound_events, s.peak_state_bytes, s.evicted, s.dropped}) {
    w.u64(v);
  }
  w.u8(st.draining ? 1 : 0);
  w.u64(st.events.size());
  for (const EventRef &e : st.events) {
    writeEvent(w, *st.schema, *e);
  }
  w.u64(st.nodes.size());
  for (const StateNode &n : st.nodes) {
    w.u64(n.event);
    w.str(n.step);
    w.i64(n.prev);
  }
  w.u64(st.keys.size());
  for (const StateKey &k : st.keys) {
    w.str(k.key_json);
    w.u64(k.runs.size());
    for (const StateRun &r : k.runs) {
      w.str(r.state);
      w.u32(r.counter);
      w.i64(r.last);
      w.i64(r.start_time);
      w.u64(r.start_seq);
      w.i64(r.prev_time);
    }
    w.u64(k.held.size());
    for (const StateHeld &m : k.held) {
      w.i64(m.last);
      w.i64(m.start_time);
      w.u64(m.start_seq);
    }
    w.i64(k.last_time);
    w.u64(k.last_seq);
  }
}

MatcherState decodeMatcherState(std::string_view in, std::shared_ptr<const Schema> schema,
                                std::string_view pattern) {
  MatcherState st;
  st.schema = std::move(schema);
  SnapshotReader r(in, kWhat);
  if (r.bytes(sizeof kMatcherStateMagic) !=
      std::string_view(kMatcherStateMagic, sizeof kMatcherStateMagic)) {
    r.fail("not an interpreter snapshot");
  }
  std::uint32_t version = r.u32();
  if (version < kMatcherStateOldestVersion || version > kMatcherStateVersion) {
    r.fail("format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kMatcherStateOldestVersion) + " to " +
           std::to_string(kMatcherStateVersion) + ")");
  }
  st.pattern = std::string(r.str());
  if (st.pattern != pattern) {
    r.fail("it is of pattern `" + st.pattern + "`, not `" + std::string(pattern) + "`");
  }
  st.time = r.i64();
  MatcherStats &s = st.stats;
  for (std::uint64_t *v : {&s.events, &s.matches, &s.timeouts, &s.peak_runs, &s.peak_keys,
                           &s.peak_bound_events, &s.peak_state_bytes}) {
    *v = r.u64();
  }
  if (version >= 2) {
    s.evicted = r.u64();
  }
  if (version >= 3) {
    s.dropped = r.u64();
    st.draining = r.flag("draining flag");
  }

  st.events.resize(r.count(kMinSnapshotEventBytes));
  for (EventRef &e : st.events) {
    e = readEvent(r, *st.schema);
  }
  st.nodes.resize(r.count(8 + 4 + 8));
  for (std::size_t i = 0; i < st.nodes.size(); ++i) {
    StateNode &n = st.nodes[i];
    n.event = r.u64();
    n.step = std::string(r.str());
    n.prev = r.i64();
    if (n.event >= st.events.size()) {
      r.fail("node refers to a missing event");
    }
    if (n.prev < -1 || n.prev >= static_cast<std::int64_t>(i)) {
      r.fail("node refers to a later node");
    }
  }
  auto node = [&](std::int64_t id) {
    if (id < -1 || id >= static_cast<std::int64_t>(st.nodes.size())) {
      r.fail("reference to a missing node");
    }
    return id;
  };
  st.keys.resize(r.count(version >= 4 ? 4 + 8 + 8 + 8 + 8 : 4 + 8 + 8));
  for (StateKey &k : st.keys) {
    k.key_json = std::string(r.str());
    k.runs.resize(r.count(4 + 4 + 8 + 8 + 8 + 8));
    for (StateRun &run : k.runs) {
      run.state = std::string(r.str());
      run.counter = r.u32();
      run.last = node(r.i64());
      run.start_time = r.i64();
      run.start_seq = r.u64();
      run.prev_time = r.i64();
    }
    k.held.resize(r.count(8 + 8 + 8));
    for (StateHeld &m : k.held) {
      m.last = node(r.i64());
      if (m.last < 0) {
        r.fail("a held match without events");
      }
      m.start_time = r.i64();
      m.start_seq = r.u64();
    }
    if (version >= 4) {
      k.last_time = r.i64();
      k.last_seq = r.u64();
    }
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  for (std::size_t i = 1; i < st.keys.size(); ++i) {
    if (st.keys[i - 1].key_json >= st.keys[i].key_json) {
      r.fail("keys out of order");
    }
  }
  return st;
}

} // namespace cep::runtime
