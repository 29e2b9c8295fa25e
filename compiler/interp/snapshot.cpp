// InterpMatcher::snapshot / restore (format in snapshot.hpp).
#include "compiler/interp/snapshot.hpp"

#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/schema_from_program.hpp"
#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <unordered_map>

namespace cep::compiler::interp {

using runtime::SnapshotReader;
using runtime::SnapshotWriter;

// The snapshot codec names event types and fields through a runtime::Schema; the program's has
// the same type indices (compiler/schema_from_program.hpp).
const runtime::Schema &InterpMatcher::snapshotSchema() const {
  if (!schema_) {
    schema_ = std::make_unique<const runtime::Schema>(schemaFromProgram(program_));
  }
  return *schema_;
}

void InterpMatcher::snapshot(std::string &out) const {
  const runtime::Schema &schema = snapshotSchema();
  SnapshotWriter w(out);
  w.bytes(kSnapshotMagic, sizeof kSnapshotMagic);
  w.u32(kSnapshotVersion);
  w.str(pattern_.name);
  w.i64(time_);
  for (std::uint64_t v :
       {stats_.events, stats_.matches, stats_.timeouts, stats_.peak_runs, stats_.peak_keys,
        stats_.peak_bound_events, stats_.peak_state_bytes, stats_.evicted, stats_.dropped}) {
    w.u64(v);
  }
  w.u8(draining_ ? 1 : 0);

  // Keys in a stable order, and every node and event they reach, each once.
  std::vector<const KeyState *> keys;
  for (const auto &[k, ks] : keys_) {
    keys.push_back(ks.get());
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyState *a, const KeyState *b) { return a->key_json < b->key_json; });
  std::unordered_map<const Node *, std::int64_t> node_ids;
  std::vector<const Node *> nodes;
  std::unordered_map<const runtime::Event *, std::uint64_t> event_ids;
  std::vector<const runtime::Event *> events;
  auto collect = [&](const Node *last) {
    std::vector<const Node *> chain;
    for (const Node *n = last; n != nullptr && !node_ids.count(n); n = n->prev) {
      chain.push_back(n);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      node_ids[*it] = static_cast<std::int64_t>(nodes.size());
      nodes.push_back(*it);
      const runtime::Event *e = (*it)->event.get();
      if (!event_ids.count(e)) {
        event_ids[e] = events.size();
        events.push_back(e);
      }
    }
  };
  for (const KeyState *ks : keys) {
    for (const Run &r : ks->runs) {
      collect(r.bound.get());
    }
    for (const HeldMatch &m : ks->held) {
      collect(m.bound.get());
    }
  }
  auto nodeId = [&](const NodeRef &n) -> std::int64_t { return n ? node_ids.at(n.get()) : -1; };

  w.u64(events.size());
  for (const runtime::Event *e : events) {
    runtime::writeEvent(w, schema, *e);
  }
  w.u64(nodes.size());
  for (const Node *n : nodes) {
    w.u64(event_ids.at(n->event.get()));
    w.str(pattern_.steps.at(static_cast<std::size_t>(n->step)).name);
    w.i64(n->prev ? node_ids.at(n->prev) : -1);
  }
  w.u64(keys.size());
  for (const KeyState *ks : keys) {
    w.str(ks->key_json);
    w.u64(ks->runs.size());
    for (const Run &r : ks->runs) {
      w.str(nfa_.states.at(static_cast<std::size_t>(r.state)).name);
      w.u32(r.counter);
      w.i64(nodeId(r.bound));
      w.i64(r.start_time);
      w.u64(r.start_seq);
      w.i64(r.prev_time);
    }
    w.u64(ks->held.size());
    for (const HeldMatch &m : ks->held) {
      w.i64(nodeId(m.bound));
      w.i64(m.start_time);
      w.u64(m.start_seq);
    }
  }
}

void InterpMatcher::restore(std::string_view in) {
  if (!keys_.empty() || stats_.events != 0) {
    throw std::runtime_error("restore needs a fresh matcher (pattern " + pattern_.name + ")");
  }
  const runtime::Schema &schema = snapshotSchema();
  SnapshotReader r(in, "interpreter snapshot");
  if (r.bytes(sizeof kSnapshotMagic) != std::string_view(kSnapshotMagic, sizeof kSnapshotMagic)) {
    r.fail("not an interpreter snapshot");
  }
  std::uint32_t version = r.u32();
  if (version < kSnapshotOldestVersion || version > kSnapshotVersion) {
    r.fail("format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kSnapshotOldestVersion) + " to " + std::to_string(kSnapshotVersion) +
           ")");
  }
  std::string_view name = r.str();
  if (name != pattern_.name) {
    r.fail("it is of pattern `" + std::string(name) + "`, not `" + pattern_.name + "`");
  }
  std::int64_t time = r.i64();
  runtime::MatcherStats stats;
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

  std::vector<runtime::EventRef> events(r.count(runtime::kMinSnapshotEventBytes));
  for (auto &e : events) {
    e = runtime::readEvent(r, schema);
  }
  std::vector<NodeRef> nodes(r.count(8 + 4 + 8));
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    std::uint64_t event = r.u64();
    std::string step_name(r.str());
    std::int64_t prev = r.i64();
    if (event >= events.size()) {
      r.fail("node refers to a missing event");
    }
    std::int32_t step = -1;
    for (std::size_t s = 0; s < pattern_.steps.size(); ++s) {
      if (pattern_.steps[s].name == step_name) {
        step = static_cast<std::int32_t>(s);
      }
    }
    if (step < 0) {
      r.fail("pattern `" + pattern_.name + "` has no step `" + step_name + "`");
    }
    if (prev < -1 || prev >= static_cast<std::int64_t>(i)) {
      r.fail("node refers to a later node");
    }
    nodes[i] = NodeRef::bind(events[event], step,
                             prev < 0 ? NodeRef() : nodes[static_cast<std::size_t>(prev)], &nodes_);
  }
  auto nodeAt = [&](std::int64_t id) {
    if (id < -1 || id >= static_cast<std::int64_t>(nodes.size())) {
      r.fail("reference to a missing node");
    }
    return id < 0 ? NodeRef() : nodes[static_cast<std::size_t>(id)];
  };
  std::vector<std::unique_ptr<KeyState>> keys(r.count(4 + 8 + 8));
  for (auto &ks : keys) {
    ks = std::make_unique<KeyState>();
    ks->key_json = std::string(r.str());
    std::uint64_t runs = r.count(4 + 4 + 8 + 8 + 8 + 8);
    for (std::uint64_t i = 0; i < runs; ++i) {
      Run run;
      std::string state_name(r.str());
      run.state = -1;
      for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
        if (nfa_.states[s].name == state_name) {
          run.state = static_cast<nfa::StateId>(s);
        }
      }
      if (run.state < 0) {
        r.fail("the NFA of `" + pattern_.name + "` has no state `" + state_name + "`");
      }
      run.counter = r.u32();
      run.bound = nodeAt(r.i64());
      run.start_time = r.i64();
      run.start_seq = r.u64();
      run.prev_time = r.i64();
      run.deadline = deadlineOf(run);
      ks->runs.push_back(std::move(run));
    }
    std::uint64_t held = r.count(8 + 8 + 8);
    for (std::uint64_t i = 0; i < held; ++i) {
      HeldMatch m;
      m.bound = nodeAt(r.i64());
      if (!m.bound) {
        r.fail("a held match without events");
      }
      m.start_time = r.i64();
      m.start_seq = r.u64();
      for (const Node *n = m.bound.get(); n != nullptr; n = n->prev) {
        m.seqs.push_back(n->event->seq);
      }
      std::reverse(m.seqs.begin(), m.seqs.end());
      ks->held.push_back(std::move(m));
    }
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (keys[i - 1]->key_json >= keys[i]->key_json) {
      r.fail("keys out of order");
    }
  }

  // Commit.
  time_ = time;
  stats_ = stats;
  draining_ = draining;
  for (auto &ks : keys) {
    KeyState &slot = keyState(ks->key_json);
    std::vector<Run> runs = std::move(ks->runs);
    setRuns(slot, std::move(runs));
    held_ += ks->held.size();
    slot.held = std::move(ks->held);
    reschedule(slot);
  }
  updatePeaks();
}

} // namespace cep::compiler::interp
