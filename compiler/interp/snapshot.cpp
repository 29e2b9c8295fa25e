// InterpMatcher <-> the matcher-state model (runtime/state/matcher_state.hpp: the CEPISNAP
// format), and moving another version's state in (runtime/state/migration.hpp).
#include "compiler/interp/snapshot.hpp"

#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/schema_from_program.hpp"
#include "runtime/state/migration.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace cep::compiler::interp {

using runtime::MatcherState;
using runtime::MigrationReport;

// The model names event types and fields through a runtime::Schema; the program's has the same
// type indices (compiler/schema_from_program.hpp).
const std::shared_ptr<const runtime::Schema> &InterpMatcher::snapshotSchema() const {
  if (!schema_) {
    schema_ = std::make_shared<const runtime::Schema>(schemaFromProgram(program_));
  }
  return schema_;
}

void InterpMatcher::exportState(MatcherState &st) const {
  st = MatcherState();
  st.pattern = pattern_.name;
  st.time = currentTime();
  st.stats = stats_;
  st.draining = draining_;
  st.schema = snapshotSchema();
  st.key = runtime::describeKey(*st.schema, !pattern_.key_fields.empty(), pattern_.key_index);

  // Keys in a stable order, and every node and event they reach, each once.
  std::vector<const KeyState *> keys;
  for (const auto &[k, ks] : keys_) {
    keys.push_back(ks.get());
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyState *a, const KeyState *b) { return a->key_json < b->key_json; });
  std::unordered_map<const Node *, std::int64_t> node_ids;
  std::unordered_map<const runtime::Event *, std::uint64_t> event_ids;
  auto collect = [&](const Node *last) {
    std::vector<const Node *> chain;
    for (const Node *n = last; n != nullptr && !node_ids.count(n); n = n->prev) {
      chain.push_back(n);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Node *n = *it;
      node_ids[n] = static_cast<std::int64_t>(st.nodes.size());
      auto [e, added] = event_ids.emplace(n->event.get(), st.events.size());
      if (added) {
        st.events.push_back(n->event);
      }
      st.nodes.push_back({e->second, pattern_.steps.at(static_cast<std::size_t>(n->step)).name,
                          n->prev ? node_ids.at(n->prev) : -1});
    }
  };
  auto nodeId = [&](const NodeRef &n) -> std::int64_t { return n ? node_ids.at(n.get()) : -1; };
  for (const KeyState *ks : keys) {
    runtime::StateKey &key = st.keys.emplace_back();
    key.key_json = ks->key_json;
    for (const Run &r : ks->runs) {
      collect(r.bound.get());
      key.runs.push_back({nfa_.states.at(static_cast<std::size_t>(r.state)).name, r.counter,
                          nodeId(r.bound), r.start_time, r.start_seq, r.prev_time});
    }
    for (const HeldMatch &m : ks->held) {
      collect(m.bound.get());
      key.held.push_back({nodeId(m.bound), m.start_time, m.start_seq});
    }
    key.last_time = ks->last_time; // tracked under --key-ttl only
    key.last_seq = ks->last_seq;
  }
}

void InterpMatcher::snapshot(std::string &out) const {
  MatcherState st;
  exportState(st);
  runtime::encodeMatcherState(st, out);
}

std::vector<std::unique_ptr<KeyState>>
InterpMatcher::stageKeys(const MatcherState &from, const std::vector<runtime::EventRef> &events,
                         NodeCounter *counter, std::vector<std::string> *reasons) const {
  std::unordered_map<std::string_view, std::int32_t> steps;
  for (std::size_t s = 0; s < pattern_.steps.size(); ++s) {
    steps.emplace(pattern_.steps[s].name, static_cast<std::int32_t>(s));
  }
  std::unordered_map<std::string_view, nfa::StateId> states;
  for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
    states.emplace(nfa_.states[s].name, static_cast<nfa::StateId>(s));
  }
  std::vector<NodeRef> nodes(from.nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const runtime::StateNode &n = from.nodes[i];
    auto step = steps.find(n.step);
    if (step == steps.end()) {
      runtime::failMatcherState("pattern `" + pattern_.name + "` has no step `" + n.step + "`");
    }
    nodes[i] =
        NodeRef::bind(events.at(n.event), step->second,
                      n.prev < 0 ? NodeRef() : nodes[static_cast<std::size_t>(n.prev)], counter);
  }
  auto nodeAt = [&](std::int64_t id) {
    return id < 0 ? NodeRef() : nodes[static_cast<std::size_t>(id)];
  };
  std::vector<std::unique_ptr<KeyState>> keys;
  for (const runtime::StateKey &k : from.keys) {
    auto ks = std::make_unique<KeyState>();
    ks->key_json = k.key_json;
    for (const runtime::StateRun &sr : k.runs) {
      auto state = states.find(sr.state);
      if (state == states.end()) {
        runtime::failMatcherState("the NFA of `" + pattern_.name + "` has no state `" + sr.state +
                                  "`");
      }
      Run run;
      run.state = state->second;
      run.counter = sr.counter;
      run.bound = nodeAt(sr.last);
      run.start_time = sr.start_time;
      run.start_seq = sr.start_seq;
      run.prev_time = sr.prev_time;
      run.deadline = deadlineOf(run);
      ks->runs.push_back(std::move(run));
    }
    for (const runtime::StateHeld &sh : k.held) {
      HeldMatch m;
      m.bound = nodeAt(sh.last);
      m.start_time = sh.start_time;
      m.start_seq = sh.start_seq;
      for (const Node *n = m.bound.get(); n != nullptr; n = n->prev) {
        m.places.push_back({n->event->time, n->event->seq});
      }
      std::reverse(m.places.begin(), m.places.end());
      ks->held.push_back(std::move(m));
    }
    if (options_.bounds.key_ttl_ms != 0) {
      std::tie(ks->last_time, ks->last_seq) = runtime::lastEventOf(from, k);
    }
    if (reasons != nullptr) {
      // The key's text under this version, from the first event of its first run or match.
      const Node *n = !ks->runs.empty()   ? ks->runs.front().bound.get()
                      : !ks->held.empty() ? ks->held.front().bound.get()
                                          : nullptr;
      while (n != nullptr && n->prev != nullptr) {
        n = n->prev;
      }
      if (n != nullptr) {
        std::string now = keyOf(*n->event);
        if (now != ks->key_json) {
          reasons->push_back("pattern `" + pattern_.name + "`: key " + ks->key_json +
                             ": its events key as " + now + " in the new version");
        }
      }
    }
    keys.push_back(std::move(ks));
  }
  return keys;
}

void InterpMatcher::commitKeys(const MatcherState &from,
                               std::vector<std::unique_ptr<KeyState>> keys) {
  time_ = from.time;
  clearDeferred();
  stats_ = from.stats;
  stats_.live_runs = stats_.live_keys = stats_.bound_events = stats_.state_bytes = 0;
  stats_.bound_event_bytes = 0;
  for (auto &ks : keys) {
    KeyState &slot = keyState(ks->key_json);
    std::vector<Run> runs = std::move(ks->runs);
    setRuns(slot, std::move(runs));
    held_ += ks->held.size();
    slot.held = std::move(ks->held);
    if (ks->last_time != INT64_MIN) {
      slot.last_time = ks->last_time;
      slot.last_seq = ks->last_seq;
      expiry_.insert({expiryOf(slot.last_time), slot.last_seq, &slot});
    }
    reschedule(slot);
  }
  updatePeaks();
  refreshDue();
}

void InterpMatcher::restore(std::string_view in) {
  if (!keys_.empty() || stats_.events != 0) {
    throw std::runtime_error("restore needs a fresh matcher (pattern " + pattern_.name + ")");
  }
  MatcherState st = runtime::decodeMatcherState(in, snapshotSchema(), pattern_.name);
  commitKeys(st, stageKeys(st, st.events, &nodes_, nullptr));
  draining_ = st.draining;
}

namespace {

runtime::PatternShape shapeOf(const lang::typed::Pattern &pattern, const nfa::Nfa &nfa,
                              std::shared_ptr<const runtime::Schema> schema) {
  runtime::PatternShape shape;
  shape.pattern = pattern.name;
  for (const lang::typed::Step &s : pattern.steps) {
    shape.steps.push_back(s.name);
    shape.step_types.push_back(s.event_type);
  }
  for (const nfa::State &s : nfa.states) {
    shape.states.push_back(s.name);
  }
  shape.key = runtime::describeKey(*schema, !pattern.key_fields.empty(), pattern.key_index);
  shape.schema = std::move(schema);
  return shape;
}

} // namespace

MigrationReport InterpMatcher::checkMigration(const MatcherState &from) const {
  MigrationReport report;
  report.reasons = runtime::migrationReasons(from, shapeOf(pattern_, nfa_, snapshotSchema()));
  if (report.ok()) {
    NodeCounter scratch;
    std::vector<runtime::EventRef> events = runtime::convertEvents(from, *snapshotSchema());
    stageKeys(from, events, &scratch, &report.reasons);
  }
  return report;
}

MigrationReport InterpMatcher::migrateFrom(const MatcherState &from) {
  if (!keys_.empty() || stats_.events != 0) {
    throw std::runtime_error("migration needs a fresh matcher (pattern " + pattern_.name + ")");
  }
  MigrationReport report;
  report.reasons = runtime::migrationReasons(from, shapeOf(pattern_, nfa_, snapshotSchema()));
  if (!report.ok()) {
    return report;
  }
  std::vector<runtime::EventRef> events = runtime::convertEvents(from, *snapshotSchema());
  auto keys = stageKeys(from, events, &nodes_, &report.reasons);
  if (!report.ok()) {
    return report; // the staged keys release their nodes
  }
  for (const auto &ks : keys) {
    if (!ks->runs.empty() || !ks->held.empty()) {
      ++report.keys_moved;
    }
    report.runs_moved += ks->runs.size();
    report.held_moved += ks->held.size();
  }
  commitKeys(from, std::move(keys));
  return report;
}

} // namespace cep::compiler::interp
