// Rolling and running (`none`) windows of the window runtime (runtime/aggregate/aggregator.hpp):
// a record at every event of the step, `ttl` in event time.
#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/key_state.hpp"
#include "runtime/aggregate/key_table.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <functional>

namespace cep::runtime::aggregate {

namespace {

// A rolling float sum: the oldest entries' suffix sum (the front stack's top, when any of them
// was non-null) plus the newer ones' (back_sum); -0.0 read as 0.0, as the reference does.
double rollingFloatSum(const RollingAcc &st) {
  double fsum = 0.0;
  bool has = false;
  if (!st.front.empty() && st.front.back().second) {
    fsum = st.front.back().first;
    has = true;
  }
  if (st.back_has) {
    fsum = has ? fsum + st.back_sum : st.back_sum;
  }
  return 0.0 + fsum;
}

std::int64_t wrap(std::int64_t a, std::int64_t b, bool add) {
  auto ua = static_cast<std::uint64_t>(a);
  auto ub = static_cast<std::uint64_t>(b);
  return static_cast<std::int64_t>(add ? ua + ub : ua - ub);
}

bool beats(FieldKind k, AggFn fn, const Slot &a, const Slot &b) { // a strictly better than b
  if (k == FieldKind::Float) {
    return fn == AggFn::Min ? a.f < b.f : a.f > b.f;
  }
  return fn == AggFn::Min ? a.i < b.i : a.i > b.i;
}

} // namespace

EventFate WindowAggregator::runningEvent(KeyState &k, const AggInput &in,
                                         std::vector<WindowResult> &out) {
  if (in.time <= watermark_) {
    return EventFate::Late; // rolling and none take no late events (spec §8.3)
  }
  if (!fired_.empty() && in.time <= firedMark(keys_->slotOf(k))) {
    return EventFate::Late; // a key restored ahead: late where its record was written
  }
  CEP_ASSERT(!k.running() || in.time >= k.x().last_time,
             "aggregate events that are not late must come in time order");
  if (spec_.window == WindowKind::None) {
    if (!k.running()) {
      k.setRunning(true);
      k.x().cell.assign(layout_.width(), Slot{});
      layout_.init(k.x().cell.data());
      k.x().first_time = in.time;
      k.x().first_seq = in.seq;
    }
    layout_.add(k.x().cell.data(), in);
    k.x().last_time = in.time;
    WindowResult &r = newResult(k, out);
    r.start = k.x().first_time;
    r.end = in.time;
    r.order = in.seq;
    layout_.fill(k.x().cell.data(), r);
    keepLast(out);
    return EventFate::Counted;
  }

  if (!k.running()) {
    k.setRunning(true);
    // Made with the key's KeyExtra (one block), or the key came back: its rings were kept
    // (KeyState::clearState).
    k.rollingX(spec_.accumulators.size());
  }
  KeyExtra &x = *k.extra();
  Rolling &ro = static_cast<RollingKeyExtra &>(x).ro; // rollingX made it
  const std::size_t nv = numeric_values_;
  const std::size_t ns = string_values_;
  const auto &accs = spec_.accumulators;

  if (!reads_fields_) { // count(p) only (`rolling ... having count(p) > n`): the queue is all
    const std::int64_t cut = in.time - spec_.size_ms;
    while (!ro.q.empty() && ro.q.front().time <= cut) {
      ro.q.pop_front();
    }
    ro.q.push_back(RollingEntry{in.time, in.seq});
    x.last_time = in.time;
    return rollingResult(k, ro, in, out);
  }

  // Take out what left the window (t - S, t].
  while (!ro.q.empty() && ro.q.front().time <= in.time - spec_.size_ms) {
    const RollingEntry &e = ro.q.front();
    const std::uint64_t e_nulls = ro.nullsAt(0);
    for (std::size_t a = 0; a < accs.size(); ++a) {
      const AccumulatorSpec &spec = accs[a];
      if (spec.field < 0) {
        continue;
      }
      RollingAcc &st = ro.accs[a];
      bool null = (e_nulls >> a) & 1U;
      std::int32_t col = value_slot_[a];
      switch (spec.fn) {
      case AggFn::CountField:
        st.n -= null ? 0 : 1;
        break;
      case AggFn::Sum:
      case AggFn::Avg:
        st.n -= null ? 0 : 1;
        if (spec.kind == FieldKind::Float) {
          if (st.front.empty()) {
            // Every entry moves to the front stack: suffix sums, newest first.
            std::pair<double, bool> agg{0.0, false};
            for (std::size_t i = ro.q.size(); i-- > 0;) {
              bool vnull = (ro.nullsAt(i) >> a) & 1U;
              if (!vnull) {
                double v = ro.values[i * nv + static_cast<std::size_t>(col)].f;
                agg = {agg.second ? v + agg.first : v, true};
              }
              st.front.push_back(agg);
            }
            st.back_sum = 0;
            st.back_has = false;
          }
          st.front.pop_back();
        } else if (!null) {
          st.isum = wrap(st.isum, ro.values[static_cast<std::size_t>(col)].i, false);
        }
        break;
      case AggFn::Min:
      case AggFn::Max:
        if (spec.kind == FieldKind::String) {
          if (!st.smono.empty() && st.smono.front().first == e.seq) {
            st.smono.pop_front();
          }
        } else if (!st.mono.empty() && st.mono.front().first == e.seq) {
          st.mono.pop_front();
        }
        break;
      case AggFn::CountDistinct:
        if (!null) {
          DistinctKey key;
          if (spec.kind == FieldKind::String) {
            key = ro.strings[static_cast<std::size_t>(col)];
          } else {
            Slot v = ro.values[static_cast<std::size_t>(col)];
            if (spec.kind == FieldKind::Bool) {
              v.b = v.i != 0;
            }
            key = distinctKey(spec.kind, v);
          }
          auto it = st.distinct.counts.find(key);
          if (--it->second == 0) {
            st.distinct.counts.erase(it);
          }
        }
        break;
      default:
        break;
      }
    }
    ro.q.pop_front();
    if (reads_fields_) {
      ro.nulls.pop_front();
    }
    for (std::size_t i = 0; i < nv; ++i) {
      ro.values.pop_front();
    }
    for (std::size_t i = 0; i < ns; ++i) {
      ro.strings.pop_front();
    }
  }

  // Add the event.
  RollingEntry entry{in.time, in.seq};
  std::uint64_t entry_nulls = 0;
  std::size_t base_v = ro.values.size();
  std::size_t base_s = ro.strings.size();
  for (std::size_t i = 0; i < nv; ++i) {
    ro.values.push_back(Slot{});
  }
  for (std::size_t i = 0; i < ns; ++i) {
    ro.strings.push_back(std::string());
  }
  for (std::size_t a = 0; a < accs.size(); ++a) {
    const AccumulatorSpec &spec = accs[a];
    if (spec.field < 0) {
      continue;
    }
    RollingAcc &st = ro.accs[a];
    bool null = in.isNull(spec.field);
    std::int32_t col = value_slot_[a];
    if (null) {
      entry_nulls |= std::uint64_t{1} << a;
      continue;
    }
    if (spec.kind == FieldKind::String) {
      ro.strings[base_s + static_cast<std::size_t>(col)] = in.fields[spec.field].s->view();
    } else {
      ro.values[base_v + static_cast<std::size_t>(col)] = numericSlot(in, spec.field, spec.kind);
    }
    switch (spec.fn) {
    case AggFn::CountField:
      ++st.n;
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      ++st.n;
      if (spec.kind == FieldKind::Float) {
        double v = in.fields[spec.field].f;
        st.back_sum = st.back_has ? st.back_sum + v : v;
        st.back_has = true;
      } else {
        st.isum = wrap(st.isum, in.fields[spec.field].i, true);
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      if (spec.kind == FieldKind::String) {
        const std::string &v = ro.strings[base_s + static_cast<std::size_t>(col)];
        while (!st.smono.empty() &&
               (spec.fn == AggFn::Min ? st.smono.back().second > v : st.smono.back().second < v)) {
          st.smono.pop_back();
        }
        st.smono.push_back({in.seq, v});
      } else {
        Slot v = numericSlot(in, spec.field, spec.kind);
        while (!st.mono.empty() && beats(spec.kind, spec.fn, v, st.mono.back().second)) {
          st.mono.pop_back();
        }
        st.mono.push_back({in.seq, v});
      }
      break;
    case AggFn::CountDistinct:
      ++st.distinct.counts[distinctKey(spec.kind, in.fields[spec.field])];
      break;
    default:
      break;
    }
  }
  ro.q.push_back(entry);
  if (reads_fields_) {
    ro.nulls.push_back(entry_nulls);
  }
  x.last_time = in.time;
  return rollingResult(k, ro, in, out);
}

EventFate WindowAggregator::rollingResult(const KeyState &k, const Rolling &ro, const AggInput &in,
                                          std::vector<WindowResult> &out) {
  if (raw_values_) { // the native operator: no AggValue per event
    rollingRaw(ro, raw_.data());
    if (raw_filter_ != nullptr && !raw_filter_(raw_context_, raw_.data())) {
      return EventFate::Counted;
    }
    WindowResult &r = newResult(k, out);
    r.start = ro.q.front().time;
    r.end = in.time;
    r.order = in.seq;
    r.raw = raw_.data();
    rollingEvents(ro, r);
    return EventFate::Counted;
  }
  // `having` first: on a rolling window most events write nothing.
  rollingValues(ro, values_);
  if (filter_ != nullptr && !filter_(filter_context_, values_)) {
    return EventFate::Counted;
  }
  WindowResult &r = newResult(k, out);
  r.start = ro.q.front().time;
  r.end = in.time;
  r.order = in.seq;
  r.values.swap(values_);
  rollingEvents(ro, r);
  return EventFate::Counted;
}

AggValue WindowAggregator::rollingValue(const Rolling &ro, std::size_t entry, std::size_t a) const {
  const AccumulatorSpec &spec = spec_.accumulators[a];
  if ((ro.nullsAt(entry) >> a) & 1U) {
    return AggValue::nullOf(spec.kind);
  }
  auto col = static_cast<std::size_t>(value_slot_[a]);
  if (spec.kind == FieldKind::String) {
    return AggValue::ofString(ro.strings[entry * string_values_ + col]);
  }
  const Slot &v = ro.values[entry * numeric_values_ + col];
  return spec.kind == FieldKind::Float ? AggValue::ofFloat(v.f) : AggValue::ofInt(spec.kind, v.i);
}

namespace {

void setInt(AggValue &v, FieldKind kind, std::int64_t i) {
  v.kind = kind;
  v.null = false;
  v.i = i;
  v.f = 0;
  v.s.clear();
}
void setFloat(AggValue &v, double f) {
  v.kind = FieldKind::Float;
  v.null = false;
  v.i = 0;
  v.f = f;
  v.s.clear();
}
void setNull(AggValue &v, FieldKind kind) {
  v.kind = kind;
  v.null = true;
  v.i = 0;
  v.f = 0;
  v.s.clear();
}

} // namespace

void WindowAggregator::fillRolling(const Rolling &ro, WindowResult &r) const {
  rollingValues(ro, r.values);
  rollingEvents(ro, r);
}

void WindowAggregator::rollingValues(const Rolling &ro, std::vector<AggValue> &values) const {
  const auto &accs = spec_.accumulators;
  values.resize(accs.size());
  for (std::size_t a = 0; a < accs.size(); ++a) {
    const AccumulatorSpec &spec = accs[a];
    const RollingAcc &st = ro.accs[a];
    AggValue &v = values[a];
    switch (spec.fn) {
    case AggFn::Count:
      setInt(v, FieldKind::Int, static_cast<std::int64_t>(ro.q.size()));
      break;
    case AggFn::CountField:
      setInt(v, FieldKind::Int, st.n);
      break;
    case AggFn::Sum:
    case AggFn::Avg: {
      double fsum = spec.kind == FieldKind::Float ? rollingFloatSum(st) : 0.0;
      if (spec.fn == AggFn::Sum) {
        if (spec.kind == FieldKind::Float) {
          setFloat(v, fsum);
        } else {
          setInt(v, spec.kind, st.isum);
        }
      } else if (st.n == 0) {
        setNull(v, FieldKind::Float);
      } else {
        double s = spec.kind == FieldKind::Float ? fsum : static_cast<double>(st.isum);
        setFloat(v, s / static_cast<double>(st.n));
      }
      break;
    }
    case AggFn::Min:
    case AggFn::Max:
      if (spec.kind == FieldKind::String) {
        v = st.smono.empty() ? AggValue::nullOf(spec.kind)
                             : AggValue::ofString(st.smono.front().second);
      } else if (st.mono.empty()) {
        setNull(v, spec.kind);
      } else if (spec.kind == FieldKind::Float) {
        setFloat(v, st.mono.front().second.f);
      } else {
        setInt(v, spec.kind, st.mono.front().second.i);
      }
      break;
    case AggFn::First:
      v = rollingValue(ro, 0, a);
      break;
    case AggFn::Last:
      v = rollingValue(ro, ro.q.size() - 1, a);
      break;
    case AggFn::CountDistinct:
      setInt(v, FieldKind::Int, static_cast<std::int64_t>(st.distinct.counts.size()));
      break;
    }
  }
}

namespace {

// RawValue of an int-like value of `kind` (bool also as `b`), of a float, of a string.
RawValue rawInt(FieldKind kind, std::int64_t i) {
  RawValue v{};
  v.i = i;
  v.b = kind == FieldKind::Bool && i != 0 ? 1 : 0;
  return v;
}
RawValue rawFloat(double f) {
  RawValue v{};
  v.f = f;
  return v;
}
RawValue rawString(const std::string &s) {
  RawValue v{};
  v.s = s.data();
  v.n = s.size();
  return v;
}
RawValue rawNull() {
  RawValue v{};
  v.null = 1;
  return v;
}

} // namespace

// rollingValues' values as RawValues (the same values: RawValue of each AggValue).
void WindowAggregator::rollingRaw(const Rolling &ro, RawValue *values) const {
  const auto &accs = spec_.accumulators;
  for (std::size_t a = 0; a < accs.size(); ++a) {
    const AccumulatorSpec &spec = accs[a];
    RawValue &v = values[a];
    if (spec.fn == AggFn::Count) { // the queue's size: no look at ro.accs (another cache line)
      v = rawInt(FieldKind::Int, static_cast<std::int64_t>(ro.q.size()));
      continue;
    }
    const RollingAcc &st = ro.accs[a];
    switch (spec.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      v = rawInt(FieldKind::Int, st.n);
      break;
    case AggFn::Sum:
    case AggFn::Avg: {
      double fsum = spec.kind == FieldKind::Float ? rollingFloatSum(st) : 0.0;
      if (spec.fn == AggFn::Sum) {
        v = spec.kind == FieldKind::Float ? rawFloat(fsum) : rawInt(spec.kind, st.isum);
      } else if (st.n == 0) {
        v = rawNull();
      } else {
        double s = spec.kind == FieldKind::Float ? fsum : static_cast<double>(st.isum);
        v = rawFloat(s / static_cast<double>(st.n));
      }
      break;
    }
    case AggFn::Min:
    case AggFn::Max:
      if (spec.kind == FieldKind::String) {
        v = st.smono.empty() ? rawNull() : rawString(st.smono.front().second);
      } else if (st.mono.empty()) {
        v = rawNull();
      } else if (spec.kind == FieldKind::Float) {
        v = rawFloat(st.mono.front().second.f);
      } else {
        v = rawInt(spec.kind, st.mono.front().second.i);
      }
      break;
    case AggFn::First:
    case AggFn::Last: {
      std::size_t entry = spec.fn == AggFn::First ? 0 : ro.q.size() - 1;
      if ((ro.nullsAt(entry) >> a) & 1U) {
        v = rawNull();
        break;
      }
      auto col = static_cast<std::size_t>(value_slot_[a]);
      if (spec.kind == FieldKind::String) {
        v = rawString(ro.strings[entry * string_values_ + col]);
      } else {
        const Slot &s = ro.values[entry * numeric_values_ + col];
        v = spec.kind == FieldKind::Float ? rawFloat(s.f) : rawInt(spec.kind, s.i);
      }
      break;
    }
    case AggFn::CountDistinct:
      v = rawInt(FieldKind::Int, static_cast<std::int64_t>(st.distinct.counts.size()));
      break;
    }
  }
}

void WindowAggregator::rollingEvents(const Rolling &ro, WindowResult &r) const {
  r.event_count = ro.q.size();
  r.events.clear();
  r.events_kept = spec_.keep_events && ro.q.size() <= kMaxEventsKept;
  if (r.events_kept) {
    for (std::size_t i = 0; i < ro.q.size(); ++i) {
      r.events.push_back({ro.q[i].time, ro.q[i].seq});
    }
  }
}

// ---- The due set of rolling and none ----------------------------------------------------------
//
// A key's state ends running_span_ ms after its last event (KeyExtra::due = last + span - 1,
// its exact due), and every event of the key moves that later. A heap entry at the exact due
// would wake the key once per span only to find its due moved (a log-time pop and push per
// wake-up); an entry moved at every event would cost a log-time sift per event. Instead a key
// has one entry, early, that an event does not touch (it only writes the exact due):
//   - in the due bucket of a granule (granule_ ms, a 16th of the span; the bucket's time is
//     the granule's start) the key's exact due was in when it entered. When the bucket comes
//     up, a key whose due is past is processed; one whose due moved to a later granule enters
//     that granule's bucket (an active key: once per span, O(1), no heap); one whose due is
//     in this granule (it has had no event since) enters the heap at its exact due.
//   - in the heap (mark kInHeapMark) at its exact due then, so it is processed when its state
//     really ends: the heap holds only the keys due within a granule.
// nextDue() is then the earliest bucket's or heap entry's time: early, never late.

namespace {
constexpr std::uint32_t kInHeapMark = 0; // never a due bucket's serial (DueBuckets::newSerial)
} // namespace

void WindowAggregator::setRunningDue(KeyState &k, std::int64_t due) {
  if (due == kNever) {
    k.setInDue(false);
    if (KeyExtra *x = k.extra()) {
      x->due = kNever;
    }
    return;
  }
  KeyExtra &x = k.x();
  if (k.inDue() && due >= x.due) {
    x.due = due; // its entry is at or before its old due: early, still current
    return;
  }
  // A new entry (an earlier one, if any, goes stale: its mark changes, or it is a heap entry
  // of a key that has one: processing the key twice finds nothing the second time).
  k.setInDue(true);
  x.due = due;
  std::int64_t start = due - (due % granule_ + granule_) % granule_; // the granule's start
  if (start <= watermark_) {
    k.setMark(kInHeapMark);
    due_.push_back({due, 0, &k});
    std::push_heap(due_.begin(), due_.end(), std::greater<>());
  } else {
    k.setMark(buckets_.add(start, keys_->slotOf(k)));
  }
}

void WindowAggregator::placeRunning(KeyState &k, std::int64_t old_w,
                                    std::vector<WindowResult> &out) {
  if (k.cx().due <= watermark_) {
    processDue(k, old_w, out); // its state ended: dropped, the key idle
    return;
  }
  std::int64_t due = k.cx().due;
  k.setInDue(false); // its entry came up: a new one
  setRunningDue(k, due);
}

void WindowAggregator::fireRunning(std::int64_t old_w, std::vector<WindowResult> &out) {
  DueBuckets::Taken b;
  while (buckets_.take(watermark_, b)) {
    for (std::uint32_t slot : b.slots) {
      KeyState &k = keys_->at(slot);
      if (k.inDue() && k.mark() == b.serial) { // else stale: the key left or entered the heap
        placeRunning(k, old_w, out);
      }
    }
  }
  while (!due_.empty() && due_.front().time <= watermark_) {
    Due top = due_.front();
    std::pop_heap(due_.begin(), due_.end(), std::greater<>());
    due_.pop_back();
    KeyState &k = *top.key;
    if (k.inDue() && k.mark() == kInHeapMark) {
      placeRunning(k, old_w, out);
    }
  }
}

std::int64_t WindowAggregator::runningDue(const KeyState &k) const {
  return running_span_ == kNever || !k.running() ? kNever : k.cx().last_time + running_span_ - 1;
}

void WindowAggregator::expireRunning(KeyState &k) {
  if (k.running() && watermark_ >= runningDue(k)) {
    k.clearState(layout_); // the rings stay for the key's next event
  }
}

} // namespace cep::runtime::aggregate
