// The window runtime of one aggregate (runtime/aggregate/aggregator.hpp).
#include "runtime/aggregate/aggregator.hpp"

#include "runtime/aggregate/key_state.hpp"
#include "runtime/aggregate/key_table.hpp"
#include "runtime/time/watermarks.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <iterator>

namespace cep::runtime::aggregate {

namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

// ---- geometry of time windows: panes of pane_ms_, windows named by their end ----------------

std::int64_t WindowGeometry::paneOf(std::int64_t t) const {
  return floorDiv(t, pane);
}
std::int64_t WindowGeometry::minEnd(std::int64_t p) const {
  return (p + 1) * pane;
}
std::int64_t WindowGeometry::maxEnd(std::int64_t p) const {
  switch (kind) {
  case WindowKind::Hopping:
    return p * pane + size;
  case WindowKind::Cumulate:
    return (floorDiv(p * pane, size) + 1) * size;
  default:
    return (p + 1) * pane;
  }
}
std::int64_t WindowGeometry::startOf(std::int64_t end) const {
  if (kind == WindowKind::Cumulate) {
    return floorDiv(end - 1, size) * size;
  }
  return end - size;
}
std::int64_t WindowGeometry::endAfter(std::int64_t w) const {
  // The smallest end on the grid with end - 1 > w; saturated at +infinity (an explicit
  // watermark may be as high as +infinity - 1 ms).
  if (w == kNoWatermark) {
    return std::numeric_limits<std::int64_t>::min();
  }
  std::int64_t q = floorDiv(w + 1, pane) + 1;
  std::int64_t end;
  if (__builtin_mul_overflow(q, pane, &end)) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return end;
}

WindowAggregator::WindowAggregator(AggregateSpec spec)
    : spec_((validateSpec(spec), std::move(spec))), layout_(spec_), watermark_(kNoWatermark),
      keys_(std::make_unique<KeyTable>()), columns_(layout_.width()) {
  geometry_.kind = spec_.window;
  geometry_.size = spec_.size_ms;
  geometry_.pane = spec_.window == WindowKind::Tumbling ? spec_.size_ms : spec_.slide_ms;
  CEP_ASSERT(spec_.accumulators.size() <= 64, "at most 64 accumulators");
  for (const AccumulatorSpec &a : spec_.accumulators) {
    if (a.field < 0) {
      value_slot_.push_back(-1);
    } else if (a.kind == FieldKind::String) {
      value_slot_.push_back(static_cast<std::int32_t>(string_values_++));
    } else {
      value_slot_.push_back(static_cast<std::int32_t>(numeric_values_++));
    }
  }
  reads_fields_ = numeric_values_ + string_values_ > 0;
  // How long an idle key is kept for its next event: a window's length (and its lateness); a
  // running (`none`) key is empty only after its ttl, so it is not kept.
  if (spec_.window != WindowKind::None) {
    horizon_ = spec_.size_ms + spec_.lateness_ms;
  }
  if (spec_.window == WindowKind::Rolling) {
    running_span_ = spec_.ttl_ms > 0 ? std::min(spec_.ttl_ms, spec_.size_ms) : spec_.size_ms;
  } else if (spec_.window == WindowKind::None && spec_.ttl_ms > 0) {
    running_span_ = spec_.ttl_ms;
  }
  if (running_span_ != kNever) {
    granule_ = std::max<std::int64_t>(1, running_span_ / 16);
  }
}

WindowAggregator::~WindowAggregator() {
  keys_->forEach([&](KeyState &k) { k.destroy(layout_); });
  for (auto &[p, c] : columns_.byPane()) {
    destroyRows(c);
  }
}

namespace {
constexpr std::size_t kMaxSpare = 256; // recycled results kept (a watermark may fire many)
} // namespace

void WindowAggregator::recycle(std::vector<WindowResult> &done) {
  if (done.empty()) {
    return; // most calls: a time step or an event that wrote nothing
  }
  if (spare_.empty()) {
    spare_.swap(done); // the usual case: every spare one was taken since the last call
  } else {
    for (WindowResult &r : done) {
      if (spare_.size() >= kMaxSpare) {
        break;
      }
      spare_.push_back(std::move(r));
    }
  }
  done.clear();
}

WindowResult &WindowAggregator::newResult(const KeyState &k, std::vector<WindowResult> &out) {
  if (spare_.empty()) {
    out.emplace_back();
  } else {
    out.push_back(std::move(spare_.back()));
    spare_.pop_back();
    WindowResult &r = out.back();
    r.start = 0;
    r.end = 0;
    r.revision = 0;
    r.order = 0;
    r.values.clear();
    r.raw = nullptr;
    r.event_count = 0;
    r.events_kept = false;
    r.events.clear();
  }
  WindowResult &r = out.back();
  r.key.assign(k.name);
  return r;
}

bool WindowAggregator::keepLast(std::vector<WindowResult> &out) {
  if (filter_ == nullptr || filter_(filter_context_, out.back().values)) {
    return true;
  }
  if (spare_.size() < kMaxSpare) {
    spare_.push_back(std::move(out.back()));
  }
  out.pop_back();
  return false;
}

bool WindowAggregator::prefetchWorthwhile() const {
  return keys_->size() >= (isTimeWindow(spec_.window) ? 16384 : 2048);
}

void WindowAggregator::prefetch(std::string_view key) {
  std::uint64_t h = KeyTable::hash(key);
  constexpr std::uint32_t kMask = std::size(decltype(hints_){}) - 1;
  hints_[hint_at_] = h;
  prefetchKey(h, 1);
  for (int depth = 2; depth <= 4; ++depth) {
    prefetchKey(hints_[(hint_at_ - 2 * (depth - 1)) & kMask], depth);
  }
  hint_at_ = (hint_at_ + 1) & kMask;
}

void WindowAggregator::prefetchKey(std::uint64_t h, int depth) const {
  const KeyState *k = keys_->prefetch(h, depth);
  if (k == nullptr || depth <= 2 || !k->inTable()) {
    return;
  }
  if (isTimeWindow(spec_.window)) {
    if (const PaneColumn *c = columns_.findById(k->timeColumn()); c != nullptr) {
      c->prefetchRow(k->timeRow());
    }
    return;
  }
  const KeyExtra *x = k->extra();
  if (x == nullptr) {
    return;
  }
  if (depth == 3) { // what a rolling event reads first: offsets 64..127 (key_state.hpp)
    __builtin_prefetch(reinterpret_cast<const char *>(x) + 64);
    __builtin_prefetch(reinterpret_cast<const char *>(x) + 127);
    return;
  }
  if (const Rolling *ro = x->rolling()) {
    ro->q.prefetchEnds();
  }
}

KeyState &WindowAggregator::keyFor(std::string_view key) {
  std::uint64_t h = KeyTable::hash(key);
  KeyState *k = keys_->find(key, h);
  if (k != nullptr) {
    return *k;
  }
  KeyState &n = keys_->insert(key, h);
  if (isTimeWindow(spec_.window)) {
    n.setTimeKey();
  }
  return n;
}

std::int64_t WindowAggregator::currentDue(const KeyState &k) const {
  return k.inDue() ? k.cx().due : kNever;
}

void WindowAggregator::setDue(KeyState &k, std::int64_t due) {
  if (isTimeWindow(spec_.window)) {
    return; // no key of a time window is in a due set: the windows fire from the columns
  }
  if (due == kNever) { // out of the due set: its entry, if any, is no longer current
    k.setInDue(false);
    if (KeyExtra *x = k.extra()) {
      x->due = kNever;
    }
    return;
  }
  if (isRunningWindow()) {
    setRunningDue(k, due);
    return;
  }
  if (k.inDue() && currentDue(k) == due) {
    return;
  }
  // The key's earlier entry, if any, is no longer current.
  k.setInDue(true);
  k.x().due = due;
  due_.push_back({due, 0, &k}); // no panes: advance sorts what is unsorted
  std::push_heap(due_.begin(), due_.end(), std::greater<>());
}

void WindowAggregator::dropIfEmpty(KeyState &k) {
  if (!k.empty()) {
    return;
  }
  setDue(k, kNever);
  k.setMark(newSerial()); // idle since watermark_ (not in the due set)
  idle_.push_back({watermark_, keys_->slotOf(k), k.mark()});
}

void WindowAggregator::reclaimIdle() {
  if (watermark_ == kNoWatermark) {
    return;
  }
  std::int64_t limit;
  if (__builtin_sub_overflow(watermark_, horizon_, &limit)) {
    limit = std::numeric_limits<std::int64_t>::min();
  }
  while (!idle_.empty() && idle_.front().since <= limit) {
    IdleKey e = idle_.front();
    idle_.pop_front();
    KeyState &k = keys_->at(e.slot);
    // Erased unless it came back (it has state, or went idle again later: another entry).
    if (k.inTable() && k.empty() && !k.inDue() && k.mark() == e.mark) {
      if (firedMark(e.slot) > watermark_) {
        held_idle_.push_back(e); // its mark says how its events are judged: kept with it
        continue;
      }
      k.destroy(layout_);
      fired_.erase(e.slot); // its slot may go to another key
      keys_->erase(k);
    }
  }
}

void WindowAggregator::setFiredMark(std::uint32_t slot, std::int64_t mark) {
  if (mark <= watermark_) {
    return; // passed: judged as any other key
  }
  std::int64_t &m = fired_[slot];
  m = std::max(m, mark);
  fired_max_ = std::max(fired_max_, mark);
  fired_due_ = fired_max_;
}

void WindowAggregator::clearPassedMarks() {
  if (fired_.empty() || watermark_ < fired_max_) {
    return;
  }
  fired_.clear(); // every restored key's mark is passed: judged as any other from here on
  fired_max_ = INT64_MIN;
  fired_due_ = INT64_MAX;
  for (const IdleKey &e : held_idle_) { // their horizon passed while the mark was live
    KeyState &k = keys_->at(e.slot);
    if (k.inTable() && k.empty() && !k.inDue() && k.mark() == e.mark) {
      k.destroy(layout_);
      keys_->erase(k);
    }
  }
  held_idle_.clear();
}

std::int64_t WindowAggregator::dueOf(const KeyState &k) const {
  if (spec_.window == WindowKind::Session) {
    return sessionDue(k);
  }
  return runningDue(k);
}

EventFate WindowAggregator::onEvent(std::string_view key, const AggInput &in,
                                    std::vector<WindowResult> &out) {
  KeyState &k = keyFor(key);
  EventFate fate;
  std::size_t first = out.size();
  if (isTimeWindow(spec_.window)) {
    fate = timeEvent(k, in, out);
    if (out.size() - first > 1) {
      std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), resultBefore);
    }
    if (k.empty()) {
      dropIfEmpty(k); // a new key whose event was late
    }
    return fate;
  }
  if (spec_.window == WindowKind::Session) {
    fate = sessionEvent(k, in, out);
  } else {
    fate = runningEvent(k, in, out);
  }
  if (out.size() - first > 1) {
    std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), resultBefore);
  }
  if (k.empty()) {
    dropIfEmpty(k);
    return fate;
  }
  if (isRunningWindow()) {   // its due only moves later: its entry stays, early (running.cpp)
    KeyExtra *x = k.extra(); // a key with state (not empty()) has one
    std::int64_t due =
        running_span_ == kNever || !k.running() ? kNever : x->last_time + running_span_ - 1;
    if (k.inDue() && due >= x->due) {
      x->due = due; // the usual: an event of a key with state
    } else {
      setRunningDue(k, due);
    }
    return fate;
  }
  // The key's entry in the due set may be early (a spurious wake-up at advance recomputes it),
  // never late: so an event moves it only to an earlier time.
  std::int64_t due = dueOf(k);
  if (!k.inDue() || due < currentDue(k)) {
    setDue(k, due);
  }
  return fate;
}

void WindowAggregator::advanceDue(std::int64_t watermark, std::vector<WindowResult> &out) {
  std::int64_t old_w = watermark_;
  watermark_ = watermark;
  std::size_t first = out.size();
  if (isTimeWindow(spec_.window)) {
    fireColumns(old_w, out);
  } else if (isRunningWindow()) {
    fireRunning(old_w, out);
  }
  while (!due_.empty() && due_.front().time <= watermark) {
    Due top = due_.front();
    std::pop_heap(due_.begin(), due_.end(), std::greater<>());
    due_.pop_back();
    KeyState &k = *top.key;
    if (k.inDue() && k.cx().due == top.time) { // else not current (the key's due moved)
      processDue(k, old_w, out);
    }
  }
  // Usually in order already (the due set's order); else sorted (resultBefore).
  auto from = out.begin() + static_cast<std::ptrdiff_t>(first);
  if (out.size() - first > 1 && !std::is_sorted(from, out.end(), resultBefore)) {
    std::stable_sort(from, out.end(), resultBefore);
  }
  std::int64_t idle_limit;
  if (!idle_.empty() && !__builtin_sub_overflow(watermark, horizon_, &idle_limit) &&
      idle_.front().since <= idle_limit) {
    reclaimIdle();
  }
  clearPassedMarks();
}

void WindowAggregator::processDue(KeyState &k, std::int64_t old_w, std::vector<WindowResult> &out) {
  ++processed_;
  setDue(k, kNever);
  process(k, old_w, out);
  if (k.empty()) {
    dropIfEmpty(k);
  } else {
    setDue(k, dueOf(k));
  }
}

void WindowAggregator::finish(std::vector<WindowResult> &out) {
  advance(kEndWatermark, out);
}

void WindowAggregator::process(KeyState &k, std::int64_t old_w, std::vector<WindowResult> &out) {
  if (spec_.window == WindowKind::Session) {
    fireSessions(k, out);
  } else {
    expireRunning(k);
  }
}

// ---- sessions --------------------------------------------------------------------------------

EventFate WindowAggregator::sessionEvent(KeyState &k, const AggInput &in,
                                         std::vector<WindowResult> &out) {
  std::int64_t gap = spec_.size_ms;
  std::int64_t w = watermark_;
  if (!fired_.empty()) {
    // A key restored ahead: judged as its record's writer judged it, under its mark.
    w = std::max(w, firedMark(keys_->slotOf(k)));
  }
  std::int64_t l = spec_.lateness_ms;
  std::int64_t t = in.time;
  // The sessions the window [t, t + gap) overlaps: open sessions never overlap each other, so
  // ordered by start they are ordered by end too, and the overlapped ones are a run.
  std::vector<std::size_t> hit;
  const std::vector<Session> &open = k.x().sessions;
  auto from = std::partition_point(open.begin(), open.end(),
                                   [&](const Session &s) { return s.last + gap <= t; });
  for (auto it = from; it != open.end() && it->start < t + gap; ++it) {
    hit.push_back(static_cast<std::size_t>(it - open.begin()));
  }
  if (hit.empty() && t <= w && t + gap - 1 + l <= w) {
    return EventFate::Late;
  }
  Session merged;
  if (hit.empty()) {
    merged.start = t;
    merged.last = t;
    merged.first_seq = in.seq;
    merged.cell.resize(layout_.width());
    layout_.init(merged.cell.data());
  } else {
    merged = std::move(k.x().sessions[hit[0]]);
    for (std::size_t j = 1; j < hit.size(); ++j) {
      Session &o = k.x().sessions[hit[j]];
      merged.start = std::min(merged.start, o.start);
      merged.last = std::max(merged.last, o.last);
      merged.first_seq = std::min(merged.first_seq, o.first_seq);
      merged.writes = std::max(merged.writes, o.writes);
      layout_.combine(merged.cell.data(), o.cell.data());
      layout_.destroy(o.cell.data());
    }
    for (std::size_t j = hit.size(); j-- > 0;) {
      k.x().sessions.erase(k.x().sessions.begin() + static_cast<std::ptrdiff_t>(hit[j]));
    }
    merged.start = std::min(merged.start, t);
    merged.last = std::max(merged.last, t);
    merged.first_seq = std::min(merged.first_seq, in.seq);
  }
  layout_.add(merged.cell.data(), in);
  merged.pending = true;
  if (merged.last + gap - 1 <= w) {
    writeSession(k, merged, out); // a late event changed a window already due
  }
  auto pos = std::lower_bound(k.x().sessions.begin(), k.x().sessions.end(), merged.start,
                              [](const Session &s, std::int64_t start) { return s.start < start; });
  k.x().sessions.insert(pos, std::move(merged));
  return EventFate::Counted;
}

void WindowAggregator::writeSession(const KeyState &k, Session &s, std::vector<WindowResult> &out) {
  WindowResult &r = newResult(k, out);
  r.start = s.start;
  r.end = s.last + spec_.size_ms;
  r.revision = s.writes;
  r.order = s.first_seq;
  layout_.fill(s.cell.data(), r);
  keepLast(out);
  ++s.writes;
  s.pending = false;
}

void WindowAggregator::fireSessions(KeyState &k, std::vector<WindowResult> &out) {
  std::int64_t gap = spec_.size_ms;
  std::int64_t w = watermark_;
  std::int64_t l = spec_.lateness_ms;
  for (Session &s : k.x().sessions) {
    if (s.pending && s.last + gap - 1 <= w) {
      writeSession(k, s, out);
    }
  }
  auto &ss = k.x().sessions;
  for (Session &s : ss) {
    if (s.last + gap - 1 + l <= w) {
      layout_.destroy(s.cell.data());
    }
  }
  ss.erase(std::remove_if(ss.begin(), ss.end(),
                          [&](const Session &s) { return s.last + gap - 1 + l <= w; }),
           ss.end());
}

std::int64_t WindowAggregator::sessionDue(const KeyState &k) const {
  std::int64_t gap = spec_.size_ms;
  std::int64_t due = kNever;
  for (const Session &s : k.cx().sessions) {
    if (s.pending) {
      due = std::min(due, s.last + gap - 1);
    }
    due = std::min(due, s.last + gap - 1 + spec_.lateness_ms);
  }
  return due;
}

} // namespace cep::runtime::aggregate
