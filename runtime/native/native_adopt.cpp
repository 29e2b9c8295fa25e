// NativeMatcher::canAdopt / adoptFrom (runtime/matcher.hpp): cep serve's `keep` deploy for the
// common rule change (new conditions or bounds; the same steps, event layout and key). The new
// version takes over the old one's key slots, key table, node pool and held matches where they
// lie, and one pass over the runs re-maps their states by name and recomputes their deadlines
// under the new `within`s. What it leaves equals export + migrateFrom (native_snapshot.cpp),
// which is the path for every other change (tests/unit/runtime/test_adopt.cpp compares them).
#include "runtime/native/native_matcher_impl.hpp"
#include "support/internal_error.hpp"

#include <stdexcept>

namespace cep::runtime::native {

namespace {

bool sameLayout(const EventSchema &a, const EventSchema &b) {
  if (a.name != b.name || a.time_field != b.time_field || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    const FieldSchema &x = a.fields[i];
    const FieldSchema &y = b.fields[i];
    if (x.name != y.name || x.kind != y.kind || x.nullable != y.nullable) {
      return false;
    }
  }
  return true;
}

const std::vector<std::int32_t> &keyFieldsOf(const PatternImage &img, std::uint32_t type) {
  static const std::vector<std::int32_t> none;
  return type < img.key_fields.size() ? img.key_fields[type] : none;
}

// to[i]: the index of old name i among `names`, or -1.
template <typename T, typename Name>
std::vector<std::int32_t> byName(const std::vector<T> &from, const std::vector<T> &to, Name name) {
  std::vector<std::int32_t> map(from.size(), -1);
  for (std::size_t i = 0; i < from.size(); ++i) {
    for (std::size_t j = 0; j < to.size(); ++j) {
      if (name(from[i]) == name(to[j])) {
        map[i] = static_cast<std::int32_t>(j);
        break;
      }
    }
  }
  return map;
}

} // namespace

bool NativeMatcher::canAdopt(const Matcher &other) const {
  const auto *old = dynamic_cast<const NativeMatcher *>(&other);
  if (old == nullptr || old == this || live_keys_ != 0 || stats_.events != 0) {
    return false;
  }
  const PatternImage &was = *old->image_;
  const PatternImage &now = *image_;
  if (was.name != now.name || was.keyed != now.keyed || old->draining_ ||
      (old->options_.bounds.max_state_bytes != 0) != (options_.bounds.max_state_bytes != 0) ||
      (old->options_.bounds.key_ttl_ms != 0) != (options_.bounds.key_ttl_ms != 0)) {
    return false;
  }
  // The events the old version holds are read in place: their types laid out alike, keyed alike.
  for (std::uint32_t t : was.event_types) {
    if (t >= old->schema_->types.size() || t >= schema_->types.size() ||
        !sameLayout(old->schema_->types[t], schema_->types[t]) ||
        keyFieldsOf(was, t) != keyFieldsOf(now, t)) {
      return false;
    }
  }
  // Every state and step by name; a step takes the same type.
  auto states = byName(was.states, now.states, [](const StateInfo &s) { return s.name; });
  auto steps = byName(was.steps, now.steps, [](const StepInfo &s) { return s.name; });
  for (std::int32_t s : states) {
    if (s < 0) {
      return false;
    }
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < 0 ||
        was.steps[i].event_type != now.steps[static_cast<std::size_t>(steps[i])].event_type) {
      return false;
    }
  }
  // The generated key functions agree on a key the old version holds (they are generated from
  // the same fields, so they do for every key; one is checked as a guard).
  for (const Key &key : old->keys_) {
    if (key.rep != nullptr) {
      return code_.key_hash(key.rep) == old->code_.key_hash(key.rep) &&
             code_.key_eq(key.rep, key.rep) != 0;
    }
  }
  return true;
}

MigrationReport NativeMatcher::adoptFrom(Matcher &other) {
  if (!canAdopt(other)) {
    throw std::logic_error("adoptFrom without canAdopt (pattern " + image_->name + ")");
  }
  auto &old = static_cast<NativeMatcher &>(other);
  const PatternImage &was = *old.image_;
  const PatternImage &now = *image_;
  auto states = byName(was.states, now.states, [](const StateInfo &s) { return s.name; });
  auto steps = byName(was.steps, now.steps, [](const StepInfo &s) { return s.name; });

  auto identity = [](const std::vector<std::int32_t> &map) {
    for (std::size_t i = 0; i < map.size(); ++i) {
      if (map[i] != static_cast<std::int32_t>(i)) {
        return false;
      }
    }
    return true;
  };
  // Deadlines depend on the whole-match `within` and each state's own: when none changed (and
  // the states keep their numbers), the runs, timers and heap stay exactly as they are, and
  // nothing the old version holds is even read (a cold state costs cache misses per run).
  bool same_states = identity(states);
  bool same_deadlines = was.within_ms == now.within_ms;
  for (std::size_t i = 0; i < states.size() && same_deadlines; ++i) {
    same_deadlines = old.within_[i] == within_[static_cast<std::size_t>(states[i])];
  }

  nodes_.takeOver(old.nodes_);
  if (!identity(steps)) {
    nodes_.remapSteps(steps);
  }
  distinct_ = std::move(old.distinct_);
  old.distinct_ = DistinctEventBytes();
  keys_ = std::move(old.keys_);
  free_keys_ = std::move(old.free_keys_);
  last_ = std::move(old.last_);
  table_ = std::move(old.table_);
  time_ = old.currentTime();
  clearDeferred();
  old.clearDeferred();
  stats_ = old.stats_;
  live_runs_ = old.live_runs_;
  live_keys_ = old.live_keys_;
  held_ = old.held_;
  old.keys_.clear();
  old.free_keys_.clear();
  old.last_.clear();
  old.table_ = KeyTable();
  old.live_runs_ = old.live_keys_ = old.held_ = 0;

  if (same_states && same_deadlines) {
    timers_ = std::move(old.timers_);
  } else {
    retime(states);
  }
  old.timers_.clear(); // its entries name key slots it no longer has
  old.ttl_.clear();
  rebuildExpiries(); // the keys keep their last events; this version's --key-ttl
  // Change tracking (exportChanges) goes on in this version as if it were the old one: the keys
  // and their records are the same (states and steps keep their names). When this one already
  // tracked (it exported its empty state), every key it took is new to its receiver. The old
  // version starts over: its next exportChanges is a `full` one with no key.
  if (track_) {
    for (Key &key : keys_) {
      key.dirty = false;
    }
    dirty_.clear();
    for (std::uint32_t k = 0; k < keys_.size(); ++k) {
      if (keys_[k].rep != nullptr) {
        markChanged(k);
      }
    }
    old.releaseFreed();
  } else if (old.track_) {
    track_ = true;
    dirty_ = std::move(old.dirty_);
    freed_ = std::move(old.freed_);
  }
  old.track_ = false;
  old.dirty_.clear();
  old.freed_.clear();
  updatePeaks();
  refreshDue();
  old.refreshDue();

  MigrationReport report;
  report.keys_moved = live_keys_;
  report.runs_moved = live_runs_;
  report.held_moved = held_;
  return report;
}

// The runs under the new states and `within`s; the timers from scratch.
void NativeMatcher::retime(const std::vector<std::int32_t> &states) {
  timers_.clear();
  for (std::uint32_t k = 0; k < keys_.size(); ++k) {
    Key &key = keys_[k];
    if (key.rep == nullptr) {
      continue;
    }
    std::int64_t next = kNoDeadline;
    for (Run &r : key.runs) {
      r.state = static_cast<std::uint32_t>(states[r.state]);
      r.deadline = deadlineOf(r);
      next = std::min(next, r.deadline);
    }
    key.timer = next;
    if (next != kNoDeadline) {
      pushTimer(k);
    }
  }
}

} // namespace cep::runtime::native
