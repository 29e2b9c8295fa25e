// NativeMatcher::exportChanges (runtime/matcher.hpp): the records of the keys whose runs or held
// matches changed since the previous call, in O(changed keys). Tracking starts with the first
// call (which puts every key); from then on every place that changes a key's runs or held
// matches marks its slot (markChanged: onEvent for the key it touches, expire, evictions,
// finish, new keys from restore / migrateFrom), and freeKey / clear (dropState) keep the freed
// key's representative event, whose key text is computed here. adoptFrom hands the tracking over
// to the new version (native_adopt.cpp).
#include "runtime/native/native_matcher_impl.hpp"
#include "runtime/state/key_record.hpp"

#include <algorithm>

namespace cep::runtime::native {

bool NativeMatcher::sameRuns(const std::vector<Run> &a, const std::vector<Run> &b) const {
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

  MatcherState st;
  exportHeader(st);
  exportKeys(st, keys, out.full);
  MatcherHeader header = headerOf(st);
  header.keys = live_keys_;
  encodeMatcherHeader(header, out.header);
  std::vector<std::string> records = encodeKeyRecords(st);
  out.put.reserve(st.keys.size());
  for (std::size_t i = 0; i < st.keys.size(); ++i) {
    out.put.emplace_back(st.keys[i].key_json, std::move(records[i]));
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
