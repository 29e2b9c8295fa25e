// NativeMatcher::exportChanges (runtime/matcher.hpp): the records of the keys whose runs or held
// matches changed since the previous call, in O(changed keys), each encoded straight from the key
// slot and the node pool (no state-model detour: the checkpoint pays for this on the event loop).
// Tracking starts with the first call (which puts every key); from then on every place that changes
// a key's runs or held matches marks its slot (markChanged: onEvent for the key it touches, expire,
// evictions, finish, new keys from restore / migrateFrom), and freeKey / clear (dropState) keep the
// freed key's representative event, whose key text is computed here. adoptFrom hands the tracking
// over to the new version (native_adopt.cpp).
#include "runtime/native/native_matcher_impl.hpp"
#include "runtime/snapshot_codec.hpp"
#include "runtime/state/key_record.hpp"

#include <algorithm>

namespace cep::runtime::native {

bool NativeMatcher::sameRuns(const RunList &a, const std::vector<Run> &b) const {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    // `first` is reached through `last`; the deadline is not part of the state.
    if (a[i].state != b[i].state || a[i].counter != b[i].counter || a[i].last != b[i].last) {
      return false;
    }
  }
  return true;
}

void NativeMatcher::releaseFreed() {
  for (const Event *rep : freed_) {
    release(rep);
  }
  freed_.clear();
}

void NativeMatcher::encodeKeyRecord(std::string_view key_json, std::uint32_t k, SnapshotBuffer &w) {
  const Key &key = keys_[k];
  const PatternImage &img = *image_;
  RecordScratch &s = record_;
  if (s.node_ids.size() < nodes_.capacity()) {
    s.node_ids.resize(nodes_.capacity(), 0);
  }
  // Nodes in the order the runs, then the held matches, first reach them, an earlier node first
  // (as exportState numbers them, restricted to this key).
  s.order.clear();
  auto collect = [&](std::uint32_t last) {
    s.chain.clear();
    for (std::uint32_t n = last; n != kNoNode && s.node_ids[n] == 0; n = nodes_[n].prev) {
      s.chain.push_back(n);
    }
    for (auto it = s.chain.rbegin(); it != s.chain.rend(); ++it) {
      s.order.push_back(*it);
      s.node_ids[*it] = static_cast<std::uint32_t>(s.order.size());
    }
  };
  for (const Run &r : key.runs) {
    collect(r.last);
  }
  for (const Held &m : key.held) {
    collect(m.last);
  }
  // Events in the order the nodes reach them, each once (an event bound by several runs).
  std::size_t cap = 16;
  while (cap < 2 * s.order.size()) {
    cap *= 2;
  }
  s.table.assign(cap, {nullptr, 0});
  s.events.clear();
  s.node_events.clear();
  for (std::uint32_t n : s.order) {
    const Event *e = nodes_[n].event;
    std::size_t h = (reinterpret_cast<std::uintptr_t>(e) >> 4) * 0x9E3779B97F4A7C15ULL >> 32;
    for (h &= cap - 1; s.table[h].first != nullptr && s.table[h].first != e;
         h = (h + 1) & (cap - 1)) {
    }
    if (s.table[h].first == nullptr) {
      s.table[h] = {e, static_cast<std::uint32_t>(s.events.size())};
      s.events.push_back(e);
    }
    s.node_events.push_back(s.table[h].second);
  }
  auto local = [&](std::uint32_t n) -> std::int64_t {
    return n == kNoNode ? -1 : static_cast<std::int64_t>(s.node_ids[n]) - 1;
  };

  w.u8(kKeyRecordVersion);
  w.u8(static_cast<std::uint8_t>(kKeyRecordKind));
  w.str(key_json);
  w.u64(s.events.size());
  for (const Event *e : s.events) {
    writeEvent(w, *schema_, *e);
  }
  w.u64(s.order.size());
  for (std::size_t i = 0; i < s.order.size(); ++i) {
    const Node &node = nodes_[s.order[i]];
    w.u64(s.node_events[i]);
    w.str(img.steps.at(static_cast<std::size_t>(node.step)).name);
    w.i64(local(node.prev));
  }
  w.u64(key.runs.size());
  for (const Run &r : key.runs) {
    Pos start = startOf(r.first);
    w.str(img.states.at(r.state).name);
    w.u32(r.counter);
    w.i64(local(r.last));
    w.i64(start.first);
    w.u64(start.second);
    w.i64(prevTime(r));
  }
  w.u64(key.held.size());
  for (const Held &m : key.held) {
    Pos start = startOf(m.first);
    w.i64(local(m.last));
    w.i64(start.first);
    w.u64(start.second);
  }
  const LastEvent last = lastOf(k); // tracked under --key-ttl only
  w.i64(last.time);
  w.u64(last.seq);
  for (std::uint32_t n : s.order) {
    s.node_ids[n] = 0;
  }
}

void NativeMatcher::assumeExported() {
  track_ = true;
  for (std::uint32_t k : dirty_) {
    if (k < keys_.size()) {
      keys_[k].dirty = false;
    }
  }
  dirty_.clear();
  releaseFreed();
}

void NativeMatcher::exportChanges(MatcherChanges &out) {
  out.clear();
  std::vector<std::pair<std::string, std::uint32_t>> keys;
  std::vector<std::string> gone;
  if (!track_) {
    track_ = true;
    out.full = true;
    for (std::uint32_t k = 0; k < keys_.size(); ++k) {
      keys_[k].dirty = false;
      if (keys_[k].rep != nullptr) {
        keys.emplace_back(keyJson(keys_[k]), k);
      }
    }
  } else {
    for (std::uint32_t k : dirty_) {
      if (k >= keys_.size() || !keys_[k].dirty) {
        continue; // listed twice (freed and reused)
      }
      keys_[k].dirty = false;
      if (keys_[k].rep != nullptr) {
        keys.emplace_back(keyJson(keys_[k]), k);
      }
    }
    gone.reserve(freed_.size());
    for (const Event *rep : freed_) {
      std::string text;
      appendKeyJson(text, *schema_, *image_, *rep);
      gone.push_back(std::move(text));
    }
  }
  dirty_.clear();
  releaseFreed();
  std::sort(keys.begin(), keys.end());

  MatcherHeader header;
  header.pattern = image_->name;
  header.time = currentTime();
  header.stats = stats_;
  header.draining = draining_;
  header.keys = live_keys_;
  encodeMatcherHeader(header, out.header);
  out.put.reserve(keys.size());
  SnapshotBuffer buffer;
  for (auto &[text, k] : keys) {
    encodeKeyRecord(text, k, buffer);
    // The next buffer as large as this record (records of one pattern are alike in size).
    std::string record = buffer.take(buffer.size() + buffer.size() / 4);
    out.put.emplace_back(std::move(text), std::move(record));
  }
  // A key freed and created again is put, not erased.
  std::sort(gone.begin(), gone.end());
  gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
  for (std::string &text : gone) {
    auto at = std::lower_bound(out.put.begin(), out.put.end(), text,
                               [](const auto &p, const std::string &t) { return p.first < t; });
    if (at == out.put.end() || at->first != text) {
      out.erased.push_back(std::move(text));
    }
  }
}

} // namespace cep::runtime::native
