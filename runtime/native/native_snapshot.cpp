// NativeMatcher <-> the matcher-state model (runtime/state/matcher_state.hpp: CEPISNAP, the
// format the reference interpreter writes too, so a snapshot of either engine restores into the
// other), and moving another version's state in (runtime/state/migration.hpp). States and steps
// by name; keys sorted by their "@key" text; nodes and events numbered in the order the keys'
// runs and held matches reach them. On import, a key's representative event is the first bound
// event of its first run (or first held match).
#include "runtime/native/native_matcher_impl.hpp"
#include "runtime/native/native_record.hpp"
#include "runtime/state/migration.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace cep::runtime::native {

void NativeMatcher::exportHeader(MatcherState &st) const {
  const PatternImage &img = *image_;
  st = MatcherState();
  st.pattern = img.name;
  st.time = currentTime();
  st.stats = stats_;
  st.draining = draining_;
  st.schema = schema_;
  st.key = describeKey(*schema_, img.keyed, img.key_fields);
}

void NativeMatcher::exportKeys(MatcherState &st,
                               std::vector<std::pair<std::string, std::uint32_t>> &keys,
                               bool dense) const {
  const PatternImage &img = *image_;
  std::vector<std::int64_t> dense_ids(dense ? nodes_.capacity() : 0, -1);
  std::unordered_map<std::uint32_t, std::int64_t> sparse_ids;
  auto idOf = [&](std::uint32_t n) -> std::int64_t {
    if (dense) {
      return dense_ids[n];
    }
    auto it = sparse_ids.find(n);
    return it == sparse_ids.end() ? -1 : it->second;
  };
  std::unordered_map<const Event *, std::uint64_t> event_ids;
  std::vector<std::uint32_t> chain;
  auto collect = [&](std::uint32_t last) {
    chain.clear();
    for (std::uint32_t n = last; n != kNoNode && idOf(n) < 0; n = nodes_[n].prev) {
      chain.push_back(n);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Node &node = nodes_[*it];
      auto id = static_cast<std::int64_t>(st.nodes.size());
      if (dense) {
        dense_ids[*it] = id;
      } else {
        sparse_ids.emplace(*it, id);
      }
      auto [e, added] = event_ids.emplace(node.event, st.events.size());
      if (added) {
        retain(node.event);
        st.events.emplace_back(const_cast<Event *>(node.event));
      }
      st.nodes.push_back({e->second, img.steps.at(static_cast<std::size_t>(node.step)).name,
                          node.prev == kNoNode ? -1 : idOf(node.prev)});
    }
  };
  auto nodeId = [&](std::uint32_t n) -> std::int64_t { return n == kNoNode ? -1 : idOf(n); };
  for (auto &[text, k] : keys) {
    const Key &key = keys_[k];
    StateKey &sk = st.keys.emplace_back();
    sk.key_json = std::move(text);
    for (const Run &r : key.runs) {
      collect(r.last);
      Pos start = startOf(r.first);
      sk.runs.push_back({img.states.at(r.state).name, r.counter, nodeId(r.last), start.first,
                         start.second, prevTime(r)});
    }
    for (const Held &m : key.held) {
      collect(m.last);
      Pos start = startOf(m.first);
      sk.held.push_back({nodeId(m.last), start.first, start.second});
    }
    const LastEvent last = lastOf(k); // tracked under --key-ttl only
    sk.last_time = last.time;
    sk.last_seq = last.seq;
  }
}

void NativeMatcher::exportState(MatcherState &st) const {
  exportHeader(st);
  // Keys in a stable order (their "@key" text), and every node and event they reach, each once.
  std::vector<std::pair<std::string, std::uint32_t>> keys;
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    if (keys_[k].rep != nullptr) {
      keys.emplace_back(keyJson(keys_[k]), k);
    }
  }
  std::sort(keys.begin(), keys.end());
  exportKeys(st, keys, true);
}

void NativeMatcher::snapshot(std::string &out) const {
  MatcherState st;
  exportState(st);
  encodeMatcherState(st, out);
}

void NativeMatcher::restore(std::string_view in) {
  if (live_keys_ != 0 || stats_.events != 0) {
    throw std::runtime_error("restore needs a fresh matcher (pattern " + image_->name + ")");
  }
  MatcherState st = decodeMatcherState(in, schema_, image_->name);
  importState(st, st.events);
  draining_ = st.draining;
  refreshDue();
}

void NativeMatcher::restoreState(const MatcherState &st) {
  if (live_keys_ != 0 || stats_.events != 0) {
    throw std::runtime_error("restore needs a fresh matcher (pattern " + image_->name + ")");
  }
  if (st.pattern != image_->name) {
    throw std::runtime_error("the state is of pattern `" + st.pattern + "`, not `" + image_->name +
                             "`");
  }
  importState(st, st.events);
  draining_ = st.draining;
  refreshDue();
}

void NativeMatcher::importState(const MatcherState &st, const std::vector<EventRef> &events) {
  const PatternImage &img = *image_;
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

  std::unordered_map<std::string_view, std::int32_t> steps;
  for (std::size_t s = 0; s < img.steps.size(); ++s) {
    steps.emplace(img.steps[s].name, static_cast<std::int32_t>(s));
  }
  std::unordered_map<std::string_view, std::uint32_t> states;
  for (std::size_t s = 0; s < img.states.size(); ++s) {
    states.emplace(img.states[s].name, static_cast<std::uint32_t>(s));
  }
  std::vector<std::uint32_t> firsts;
  owned.reserve(st.nodes.size());
  for (const StateNode &n : st.nodes) {
    auto step = steps.find(n.step);
    if (step == steps.end()) {
      failMatcherState("pattern `" + img.name + "` has no step `" + n.step + "`");
    }
    std::uint32_t prev_node = n.prev < 0 ? kNoNode : owned[static_cast<std::size_t>(n.prev)];
    owned.push_back(nodes_.bind(events.at(n.event).get(), step->second, prev_node));
    firsts.push_back(n.prev < 0 ? owned.back() : firsts[static_cast<std::size_t>(n.prev)]);
  }
  auto nodeAt = [&](std::int64_t id) -> std::size_t {
    if (id < 0) {
      failMatcherState("a run or held match without events");
    }
    return static_cast<std::size_t>(id);
  };

  struct ParsedKey {
    std::vector<Run> runs;  // no references taken yet
    std::vector<Held> held; // no references taken yet
  };
  std::vector<ParsedKey> keys(st.keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ParsedKey &pk = keys[i];
    for (const StateRun &sr : st.keys[i].runs) {
      auto state = states.find(sr.state);
      if (state == states.end()) {
        failMatcherState("the NFA of `" + img.name + "` has no state `" + sr.state + "`");
      }
      Run run;
      run.state = state->second;
      run.counter = sr.counter;
      std::size_t id = nodeAt(sr.last);
      run.last = owned[id];
      run.first = firsts[id];
      if (startOf(run.first) != Pos{sr.start_time, sr.start_seq} || prevTime(run) != sr.prev_time) {
        failMatcherState("a run's start or previous time does not match its events");
      }
      run.deadline = deadlineOf(run);
      pk.runs.push_back(run);
    }
    for (const StateHeld &sh : st.keys[i].held) {
      Held m;
      std::size_t id = nodeAt(sh.last);
      m.last = owned[id];
      m.first = firsts[id];
      if (startOf(m.first) != Pos{sh.start_time, sh.start_seq}) {
        failMatcherState("a held match's start does not match its events");
      }
      for (std::uint32_t n = m.last; n != kNoNode; n = nodes_[n].prev) {
        m.places.push_back({nodes_[n].event->time, nodes_[n].event->seq});
      }
      std::reverse(m.places.begin(), m.places.end());
      pk.held.push_back(std::move(m));
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
          failMatcherState("two keys of the same value");
        }
      }
      seen.emplace(h, i);
    } else {
      failMatcherState("an event without key fields");
    }
    reps[i] = rep;
  }

  // Commit.
  time_ = st.time;
  clearDeferred();
  stats_ = st.stats;
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
    key.runs.assign(keys[i].runs.data(), keys[i].runs.size());
    key.held.assign(std::move(keys[i].held));
    if (options_.bounds.key_ttl_ms != 0) {
      LastEvent &last = lastRef(k);
      std::tie(last.time, last.seq) = lastEventOf(st, st.keys[i]);
      if (last.time != INT64_MIN) {
        pushExpiry(k);
      }
    }
    reschedule(k);
  }
  updatePeaks();
}

PatternShape NativeMatcher::shape() const {
  const PatternImage &img = *image_;
  PatternShape shape;
  shape.pattern = img.name;
  shape.schema = schema_;
  for (const StepInfo &s : img.steps) {
    shape.steps.push_back(s.name);
    shape.step_types.push_back(s.event_type);
  }
  for (const StateInfo &s : img.states) {
    shape.states.push_back(s.name);
  }
  shape.key = describeKey(*schema_, img.keyed, img.key_fields);
  return shape;
}

// Every key's text recomputed under this version from its first event (converted `events`).
void NativeMatcher::keyReasons(const MatcherState &from, const std::vector<EventRef> &events,
                               std::vector<std::string> &reasons) const {
  for (const StateKey &k : from.keys) {
    std::int64_t n = !k.runs.empty()   ? k.runs.front().last
                     : !k.held.empty() ? k.held.front().last
                                       : -1;
    if (n < 0) {
      continue;
    }
    while (from.nodes.at(static_cast<std::size_t>(n)).prev >= 0) {
      n = from.nodes[static_cast<std::size_t>(n)].prev;
    }
    std::string now;
    appendKeyJson(now, *schema_, *image_,
                  *events.at(from.nodes[static_cast<std::size_t>(n)].event));
    if (now != k.key_json) {
      reasons.push_back("pattern `" + image_->name + "`: key " + k.key_json +
                        ": its events key as " + now + " in the new version");
    }
  }
}

MigrationReport NativeMatcher::checkMigration(const MatcherState &from) const {
  MigrationReport report;
  report.reasons = migrationReasons(from, shape());
  if (report.ok()) {
    keyReasons(from, convertEvents(from, *schema_), report.reasons);
  }
  return report;
}

MigrationReport NativeMatcher::migrateFrom(const MatcherState &from) {
  if (live_keys_ != 0 || stats_.events != 0) {
    throw std::runtime_error("migration needs a fresh matcher (pattern " + image_->name + ")");
  }
  MigrationReport report;
  report.reasons = migrationReasons(from, shape());
  if (!report.ok()) {
    return report;
  }
  std::vector<EventRef> events = convertEvents(from, *schema_);
  keyReasons(from, events, report.reasons);
  if (!report.ok()) {
    return report;
  }
  importState(from, events);
  refreshDue();
  report.keys_moved = live_keys_;
  report.runs_moved = live_runs_;
  report.held_moved = held_;
  return report;
}

} // namespace cep::runtime::native
