// NativeMatcher::snapshot / restore: the reference interpreter's snapshot format, byte for byte
// ("CEPISNAP" v3, compiler/interp/snapshot.hpp; v1 and v2 are read too), so a snapshot written by
// either engine restores into the other. States and steps by name; keys sorted by their "@key"
// text; nodes and events numbered in the order the keys' runs and held matches reach them. On
// restore, a key's representative event is the first bound event of its first run (or first held
// match).
#include "runtime/native/native_matcher_impl.hpp"
#include "runtime/native/native_record.hpp"
#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace cep::runtime::native {

namespace {

constexpr char kMagic[8] = {'C', 'E', 'P', 'I', 'S', 'N', 'A', 'P'};
constexpr std::uint32_t kVersion = 3;
constexpr std::uint32_t kOldestVersion = 1; // v1: no eviction counter; v2: no dropped, draining

} // namespace

void NativeMatcher::snapshot(std::string &out) const {
  const PatternImage &img = *image_;
  SnapshotWriter w(out);
  w.bytes(kMagic, sizeof kMagic);
  w.u32(kVersion);
  w.str(img.name);
  w.i64(time_);
  for (std::uint64_t v :
       {stats_.events, stats_.matches, stats_.timeouts, stats_.peak_runs, stats_.peak_keys,
        stats_.peak_bound_events, stats_.peak_state_bytes, stats_.evicted, stats_.dropped}) {
    w.u64(v);
  }
  w.u8(draining_ ? 1 : 0);

  // Keys in a stable order (their "@key" text), and every node and event they reach, each once.
  std::vector<std::pair<std::string, std::uint32_t>> keys;
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    if (keys_[k].rep != nullptr) {
      keys.emplace_back(keyJson(keys_[k]), k);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::int64_t> node_ids(nodes_.capacity(), -1);
  std::vector<std::uint32_t> nodes;
  std::unordered_map<const Event *, std::uint64_t> event_ids;
  std::vector<const Event *> events;
  std::vector<std::uint32_t> chain;
  auto collect = [&](std::uint32_t last) {
    chain.clear();
    for (std::uint32_t n = last; n != kNoNode && node_ids[n] < 0; n = nodes_[n].prev) {
      chain.push_back(n);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      node_ids[*it] = static_cast<std::int64_t>(nodes.size());
      nodes.push_back(*it);
      const Event *e = nodes_[*it].event;
      if (event_ids.emplace(e, events.size()).second) {
        events.push_back(e);
      }
    }
  };
  for (const auto &[text, k] : keys) {
    for (const Run &r : keys_[k].runs) {
      collect(r.last);
    }
    for (const Held &m : keys_[k].held) {
      collect(m.last);
    }
  }
  auto nodeId = [&](std::uint32_t n) -> std::int64_t { return n == kNoNode ? -1 : node_ids[n]; };

  w.u64(events.size());
  for (const Event *e : events) {
    writeEvent(w, *schema_, *e);
  }
  w.u64(nodes.size());
  for (std::uint32_t n : nodes) {
    const Node &node = nodes_[n];
    w.u64(event_ids.at(node.event));
    w.str(img.steps.at(static_cast<std::size_t>(node.step)).name);
    w.i64(nodeId(node.prev));
  }
  w.u64(keys.size());
  for (const auto &[text, k] : keys) {
    const Key &key = keys_[k];
    w.str(text);
    w.u64(key.runs.size());
    for (const Run &r : key.runs) {
      w.str(img.states.at(r.state).name);
      w.u32(r.counter);
      w.i64(nodeId(r.last));
      Pos start = startOf(r.first);
      w.i64(start.first);
      w.u64(start.second);
      w.i64(prevTime(r));
    }
    w.u64(key.held.size());
    for (const Held &m : key.held) {
      w.i64(nodeId(m.last));
      Pos start = startOf(m.first);
      w.i64(start.first);
      w.u64(start.second);
    }
  }
}

void NativeMatcher::restore(std::string_view in) {
  const PatternImage &img = *image_;
  if (live_keys_ != 0 || stats_.events != 0) {
    throw std::runtime_error("restore needs a fresh matcher (pattern " + img.name + ")");
  }
  SnapshotReader r(in, "interpreter snapshot");
  if (r.bytes(sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) {
    r.fail("not an interpreter snapshot");
  }
  std::uint32_t version = r.u32();
  if (version < kOldestVersion || version > kVersion) {
    r.fail("format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) + ")");
  }
  std::string_view name = r.str();
  if (name != img.name) {
    r.fail("it is of pattern `" + std::string(name) + "`, not `" + img.name + "`");
  }
  std::int64_t time = r.i64();
  MatcherStats stats;
  for (std::uint64_t *v : {&stats.events, &stats.matches, &stats.timeouts, &stats.peak_runs,
                           &stats.peak_keys, &stats.peak_bound_events, &stats.peak_state_bytes}) {
    *v = r.u64();
  }
  if (version >= 2) {
    stats.evicted = r.u64();
  }
  bool draining = false;
  if (version >= 3) {
    stats.dropped = r.u64();
    draining = r.flag("draining flag");
  }

  // Nodes are bound into the pool as they are read; `owned` holds one reference to each until
  // the end (so a failure part-way releases everything).
  std::vector<std::uint32_t> owned;
  struct Release {
    NodePool &pool;
    std::vector<std::uint32_t> &owned;
    ~Release() {
      for (std::uint32_t n : owned) {
        pool.release(n);
      }
    }
  } release_owned{nodes_, owned};

  std::vector<EventRef> events(r.count(kMinSnapshotEventBytes));
  for (auto &e : events) {
    e = readEvent(r, *schema_);
  }
  std::uint64_t node_count = r.count(8 + 4 + 8);
  std::vector<std::uint32_t> firsts;
  owned.reserve(node_count);
  for (std::uint64_t i = 0; i < node_count; ++i) {
    std::uint64_t event = r.u64();
    std::string step_name(r.str());
    std::int64_t prev = r.i64();
    if (event >= events.size()) {
      r.fail("node refers to a missing event");
    }
    std::int32_t step = -1;
    for (std::size_t s = 0; s < img.steps.size(); ++s) {
      if (img.steps[s].name == step_name) {
        step = static_cast<std::int32_t>(s);
      }
    }
    if (step < 0) {
      r.fail("pattern `" + img.name + "` has no step `" + step_name + "`");
    }
    if (prev < -1 || prev >= static_cast<std::int64_t>(i)) {
      r.fail("node refers to a later node");
    }
    std::uint32_t prev_node = prev < 0 ? kNoNode : owned[static_cast<std::size_t>(prev)];
    owned.push_back(nodes_.bind(events[event].get(), step, prev_node));
    firsts.push_back(prev < 0 ? owned.back() : firsts[static_cast<std::size_t>(prev)]);
  }
  auto nodeAt = [&](std::int64_t id) -> std::size_t {
    if (id < 0 || id >= static_cast<std::int64_t>(owned.size())) {
      r.fail(id == -1 ? "a run or held match without events" : "reference to a missing node");
    }
    return static_cast<std::size_t>(id);
  };

  struct ParsedKey {
    std::string text;
    std::vector<Run> runs;  // no references taken yet
    std::vector<Held> held; // no references taken yet
  };
  std::vector<ParsedKey> keys(r.count(4 + 8 + 8));
  for (ParsedKey &pk : keys) {
    pk.text = std::string(r.str());
    std::uint64_t runs = r.count(4 + 4 + 8 + 8 + 8 + 8);
    for (std::uint64_t i = 0; i < runs; ++i) {
      Run run;
      std::string state_name(r.str());
      std::int32_t state = -1;
      for (std::size_t s = 0; s < img.states.size(); ++s) {
        if (img.states[s].name == state_name) {
          state = static_cast<std::int32_t>(s);
        }
      }
      if (state < 0) {
        r.fail("the NFA of `" + img.name + "` has no state `" + state_name + "`");
      }
      run.state = static_cast<std::uint32_t>(state);
      run.counter = r.u32();
      std::size_t id = nodeAt(r.i64());
      run.last = owned[id];
      run.first = firsts[id];
      std::int64_t start_time = r.i64();
      std::uint64_t start_seq = r.u64();
      std::int64_t prev_time = r.i64();
      if (startOf(run.first) != Pos{start_time, start_seq} || prevTime(run) != prev_time) {
        r.fail("a run's start or previous time does not match its events");
      }
      run.deadline = deadlineOf(run);
      pk.runs.push_back(run);
    }
    std::uint64_t held = r.count(8 + 8 + 8);
    for (std::uint64_t i = 0; i < held; ++i) {
      Held m;
      std::size_t id = nodeAt(r.i64());
      m.last = owned[id];
      m.first = firsts[id];
      std::int64_t start_time = r.i64();
      std::uint64_t start_seq = r.u64();
      if (startOf(m.first) != Pos{start_time, start_seq}) {
        r.fail("a held match's start does not match its events");
      }
      for (std::uint32_t n = m.last; n != kNoNode; n = nodes_[n].prev) {
        m.seqs.push_back(nodes_[n].event->seq);
      }
      std::reverse(m.seqs.begin(), m.seqs.end());
      pk.held.push_back(std::move(m));
    }
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (keys[i - 1].text >= keys[i].text) {
      r.fail("keys out of order");
    }
  }
  // Representative events, and no two keys of equal value.
  std::vector<const Event *> reps(keys.size(), nullptr);
  std::unordered_multimap<std::uint64_t, std::size_t> seen;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const ParsedKey &pk = keys[i];
    if (pk.runs.empty() && pk.held.empty()) {
      continue; // holds nothing: the interpreter drops it too
    }
    const Event *rep =
        nodes_[pk.runs.empty() ? pk.held.front().first : pk.runs.front().first].event;
    if (!img.keyed || (rep->type < img.key_fields.size() && !img.key_fields[rep->type].empty())) {
      std::uint64_t h = code_.key_hash(rep);
      auto [lo, hi] = seen.equal_range(h);
      for (auto it = lo; it != hi; ++it) {
        if (code_.key_eq(rep, reps[it->second])) {
          r.fail("two keys of the same value");
        }
      }
      seen.emplace(h, i);
    } else {
      r.fail("an event without key fields");
    }
    reps[i] = rep;
  }

  // Commit.
  time_ = time;
  stats_ = stats;
  draining_ = draining;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (reps[i] == nullptr) {
      continue;
    }
    std::uint32_t k = newKey(code_.key_hash(reps[i]), reps[i]);
    Key &key = keys_[k];
    for (const Run &run : keys[i].runs) {
      nodes_.retain(run.last);
    }
    for (const Held &m : keys[i].held) {
      nodes_.retain(m.last);
    }
    live_runs_ += keys[i].runs.size();
    held_ += keys[i].held.size();
    key.runs = std::move(keys[i].runs);
    key.held = std::move(keys[i].held);
    reschedule(k);
  }
  updatePeaks();
}

} // namespace cep::runtime::native
