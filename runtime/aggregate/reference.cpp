// The reference window runtime (runtime/aggregate/reference.hpp).
#include "runtime/aggregate/reference.hpp"

#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

namespace cep::runtime::aggregate {

namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool eventBefore(const ReferenceAggregator::Event *a, const ReferenceAggregator::Event *b) {
  return std::tie(a->time, a->seq) < std::tie(b->time, b->seq);
}

} // namespace

ReferenceAggregator::ReferenceAggregator(AggregateSpec spec)
    : spec_((validateSpec(spec), std::move(spec))), watermark_(kNoWatermark) {}

std::vector<ReferenceAggregator::Window> ReferenceAggregator::windowsOf(std::int64_t t) const {
  std::vector<Window> ws;
  std::int64_t s = spec_.size_ms;
  std::int64_t h = spec_.slide_ms;
  switch (spec_.window) {
  case WindowKind::Tumbling: {
    std::int64_t start = floorDiv(t, s) * s;
    ws.push_back({start, start + s});
    break;
  }
  case WindowKind::Hopping:
    for (std::int64_t k = floorDiv(t, h); k * h + s > t; --k) {
      ws.push_back({k * h, k * h + s});
    }
    break;
  case WindowKind::Cumulate: {
    std::int64_t base = floorDiv(t, s) * s;
    for (std::int64_t j = 1; j <= s / h; ++j) {
      if (t < base + j * h) {
        ws.push_back({base, base + j * h});
      }
    }
    break;
  }
  default:
    break;
  }
  std::sort(ws.begin(), ws.end());
  return ws;
}

CellState ReferenceAggregator::emptyState() const {
  CellState st;
  st.accs.resize(spec_.accumulators.size());
  for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
    st.accs[a].value = AggValue::nullOf(spec_.accumulators[a].kind);
  }
  return st;
}

void ReferenceAggregator::fold(CellState &st, const Event &e) const {
  const CellState *src = e.cell.get();
  st.events += src != nullptr ? src->events : 1;
  for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
    const AccumulatorSpec &spec = spec_.accumulators[a];
    AccState &x = st.accs[a];
    bool is_float = spec.kind == FieldKind::Float;
    if (src != nullptr) {
      const AccState &y = src->accs[a];
      x.n += y.n;
      x.fsum = x.fsum + y.fsum;
      x.isum = static_cast<std::int64_t>(static_cast<std::uint64_t>(x.isum) +
                                         static_cast<std::uint64_t>(y.isum));
      if (y.has) {
        bool take = !x.has;
        if (!take && (spec.fn == AggFn::Min || spec.fn == AggFn::Max)) {
          int cmp = compareValues(x.value, y.value);
          take = spec.fn == AggFn::Min ? cmp > 0 : cmp < 0;
        } else if (!take) {
          auto mine = std::tie(x.time, x.seq);
          auto theirs = std::tie(y.time, y.seq);
          take = spec.fn == AggFn::First ? theirs < mine : mine < theirs;
        }
        if (take) {
          x.has = true;
          x.value = y.value;
          x.time = y.time;
          x.seq = y.seq;
        }
      }
      for (const auto &[v, n] : y.distinct) {
        x.distinct[v] += n;
      }
      continue;
    }
    const AggValue &v = e.values[a];
    if (spec.fn == AggFn::First || spec.fn == AggFn::Last) {
      bool take = !x.has;
      if (!take) {
        auto mine = std::tie(x.time, x.seq);
        auto theirs = std::tie(e.time, e.seq);
        take = spec.fn == AggFn::First ? theirs < mine : mine < theirs;
      }
      if (take) {
        x.has = true;
        x.value = v;
        x.time = e.time;
        x.seq = e.seq;
      }
      continue;
    }
    if (v.null || spec.fn == AggFn::Count) {
      continue;
    }
    ++x.n;
    if (is_float) {
      x.fsum = x.fsum + v.f;
    } else if (v.kind != FieldKind::String) {
      x.isum = static_cast<std::int64_t>(static_cast<std::uint64_t>(x.isum) +
                                         static_cast<std::uint64_t>(v.i));
    }
    if (!x.has || (spec.fn == AggFn::Min && compareValues(v, x.value) < 0) ||
        (spec.fn == AggFn::Max && compareValues(v, x.value) > 0)) {
      x.has = true;
      x.value = v;
    }
    if (spec.fn == AggFn::CountDistinct) {
      ++x.distinct[distinctKeyOf(v)];
    }
  }
  if (!spec_.keep_events) {
    return;
  }
  // The event list of a cell (cell.hpp EventList): ids while the cell holds at most
  // kMaxEventsKept events, then only the count.
  if (src != nullptr) {
    if (st.events > kMaxEventsKept) {
      if (!st.overflow) {
        st.overflow = true;
        st.ids.clear();
      }
    } else {
      st.ids.insert(st.ids.end(), src->ids.begin(), src->ids.end());
    }
  } else if (!st.overflow) {
    if (st.events > kMaxEventsKept) {
      st.overflow = true;
      st.ids.clear();
    } else {
      st.ids.push_back({e.time, e.seq});
    }
  }
}

WindowResult ReferenceAggregator::compute(const std::string &key,
                                          const std::vector<const Event *> &given) const {
  std::vector<const Event *> events = given;
  std::sort(events.begin(), events.end(), eventBefore);
  WindowResult r;
  r.key = key;
  r.order = UINT64_MAX;
  CellState st = emptyState();
  for (const Event *e : events) {
    r.order = std::min(r.order, e->seq);
    fold(st, *e);
  }
  for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
    const AccumulatorSpec &spec = spec_.accumulators[a];
    const AccState &x = st.accs[a];
    bool is_float = spec.kind == FieldKind::Float;
    switch (spec.fn) {
    case AggFn::Count:
      r.values.push_back(AggValue::ofInt(FieldKind::Int, static_cast<std::int64_t>(st.events)));
      break;
    case AggFn::CountField:
      r.values.push_back(AggValue::ofInt(FieldKind::Int, x.n));
      break;
    case AggFn::Sum:
      r.values.push_back(is_float ? AggValue::ofFloat(x.fsum) : AggValue::ofInt(spec.kind, x.isum));
      break;
    case AggFn::Avg:
      r.values.push_back(x.n == 0
                             ? AggValue::nullOf(FieldKind::Float)
                             : AggValue::ofFloat((is_float ? x.fsum : static_cast<double>(x.isum)) /
                                                 static_cast<double>(x.n)));
      break;
    case AggFn::Min:
    case AggFn::Max:
    case AggFn::First:
    case AggFn::Last:
      r.values.push_back(x.has ? x.value : AggValue::nullOf(spec.kind));
      break;
    case AggFn::CountDistinct:
      r.values.push_back(
          AggValue::ofInt(FieldKind::Int, static_cast<std::int64_t>(x.distinct.size())));
      break;
    }
  }
  r.event_count = st.events;
  r.events_kept = spec_.keep_events && st.events <= kMaxEventsKept;
  if (r.events_kept) {
    r.events = st.ids;
    std::sort(r.events.begin(), r.events.end(), [](const EventId &a, const EventId &b) {
      return std::tie(a.time, a.seq) < std::tie(b.time, b.seq);
    });
  }
  return r;
}

void ReferenceAggregator::writeTimeWindow(const std::string &key, Window w,
                                          std::vector<WindowResult> &out) {
  std::vector<const Event *> in;
  for (const Event &e : keys_[key]) {
    if (e.time >= w.start && e.time < w.end) {
      in.push_back(&e);
    }
  }
  WindowResult r = compute(key, in);
  r.start = w.start;
  r.end = w.end;
  r.revision = writes_[{key, w.end}]++;
  out.push_back(std::move(r));
}

std::vector<std::vector<ReferenceAggregator::Event *>>
ReferenceAggregator::sessions(std::vector<Event> &events) const {
  std::vector<Event *> live;
  for (Event &e : events) {
    if (!e.retired) {
      live.push_back(&e);
    }
  }
  std::sort(live.begin(), live.end(), eventBefore);
  std::vector<std::vector<Event *>> out;
  std::int64_t last = 0; // the current session's last event
  for (Event *e : live) {
    if (out.empty() || e->time >= last + spec_.size_ms) {
      out.emplace_back();
      last = e->last;
    }
    out.back().push_back(e);
    last = std::max(last, e->last);
  }
  return out;
}

void ReferenceAggregator::writeSession(const std::string &key, std::vector<Event *> &s,
                                       std::vector<WindowResult> &out) {
  std::vector<const Event *> in(s.begin(), s.end());
  WindowResult r = compute(key, in);
  r.start = s.front()->time;
  r.end = spec_.size_ms;
  std::int64_t last = s.front()->last;
  for (const Event *e : s) {
    last = std::max(last, e->last);
  }
  r.end += last;
  std::uint32_t writes = 0;
  for (const Event *e : s) {
    writes = std::max(writes, e->writes);
  }
  r.revision = writes;
  std::uint64_t serial = next_serial_++;
  for (Event *e : s) {
    e->writes = writes + 1;
    e->serial = serial;
  }
  out.push_back(std::move(r));
}

EventFate ReferenceAggregator::onEvent(std::string_view key_view, const AggInput &in,
                                       std::vector<WindowResult> &out) {
  std::string key(key_view);
  Event ev;
  ev.time = in.time;
  ev.last = in.time;
  ev.seq = in.seq;
  for (const AccumulatorSpec &a : spec_.accumulators) {
    ev.values.push_back(valueOf(in, a.field, a.kind));
  }
  std::int64_t w = watermark_;
  std::int64_t l = spec_.lateness_ms;
  bool late = in.time <= w;
  std::size_t first = out.size();
  if (isTimeWindow(spec_.window)) {
    std::vector<Window> open;
    for (Window win : windowsOf(in.time)) {
      if (!late || win.end - 1 + l > w) {
        open.push_back(win);
      }
    }
    if (open.empty()) {
      return EventFate::Late;
    }
    keys_[key].push_back(std::move(ev));
    for (Window win : open) {
      if (win.end - 1 <= w) {
        writeTimeWindow(key, win, out);
      }
    }
  } else if (spec_.window == WindowKind::Session) {
    std::vector<Event> &events = keys_[key];
    events.push_back(std::move(ev));
    for (std::vector<Event *> &s : sessions(events)) {
      bool mine = std::any_of(s.begin(), s.end(), [&](const Event *e) { return e->seq == in.seq; });
      if (!mine) {
        continue;
      }
      if (s.size() == 1 && late && in.time + spec_.size_ms - 1 + l <= w) {
        events.pop_back();
        if (events.empty()) {
          keys_.erase(key);
        }
        return EventFate::Late;
      }
      std::int64_t last = s.front()->last;
      for (const Event *e : s) {
        last = std::max(last, e->last);
      }
      if (last + spec_.size_ms - 1 <= w) {
        writeSession(key, s, out);
      }
      break;
    }
  } else {
    if (late) {
      return EventFate::Late;
    }
    std::vector<Event> &events = keys_[key];
    if (spec_.window == WindowKind::Rolling) {
      // Where the native runtime's float-sum stacks stand (snapshots only): it drops the key
      // once no entry can remain (watermark >= last + S - 1), else takes out what left the
      // window, moving every entry to the front stack when that is empty.
      Split &sp = split_[key];
      auto at = last_.find(key);
      if (at != last_.end() && w >= at->second + spec_.size_ms - 1) {
        sp = Split{events.size(), 0};
      }
      while (sp.evicted < events.size() && events[sp.evicted].time <= in.time - spec_.size_ms) {
        if (sp.front == 0) {
          sp.front = events.size() - sp.evicted;
        }
        --sp.front;
        ++sp.evicted;
      }
    }
    events.push_back(std::move(ev));
    last_[key] = in.time;
    std::vector<const Event *> in_window;
    for (const Event &e : events) {
      if (spec_.window == WindowKind::None || e.time > in.time - spec_.size_ms) {
        in_window.push_back(&e);
      }
    }
    WindowResult r = compute(key, in_window);
    r.start = in.time;
    for (const Event *e : in_window) {
      r.start = std::min(r.start, e->time);
    }
    r.end = in.time;
    r.order = in.seq;
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), resultBefore);
  return EventFate::Counted;
}

void ReferenceAggregator::advance(std::int64_t watermark, std::vector<WindowResult> &out) {
  if (watermark <= watermark_) {
    return;
  }
  std::int64_t old_w = watermark_;
  watermark_ = watermark;
  std::int64_t l = spec_.lateness_ms;
  std::size_t first = out.size();
  if (isTimeWindow(spec_.window)) {
    for (auto &[key, events] : keys_) {
      std::set<Window> due;
      for (const Event &e : events) {
        for (Window win : windowsOf(e.time)) {
          if (win.end - 1 > old_w && win.end - 1 <= watermark) {
            due.insert(win);
          }
        }
      }
      for (Window win : due) {
        writeTimeWindow(key, win, out);
      }
    }
  } else if (spec_.window == WindowKind::Session) {
    for (auto &[key, events] : keys_) {
      for (std::vector<Event *> &s : sessions(events)) {
        std::int64_t end = s.front()->last + spec_.size_ms;
        for (const Event *e : s) {
          end = std::max(end, e->last + spec_.size_ms);
        }
        bool written = s.front()->serial != 0 &&
                       std::all_of(s.begin(), s.end(),
                                   [&](const Event *e) { return e->serial == s.front()->serial; });
        if (!written && end - 1 <= watermark) {
          writeSession(key, s, out);
        }
        if (end - 1 + l <= watermark) {
          for (Event *e : s) {
            e->retired = true;
          }
        }
      }
    }
  } else if (spec_.ttl_ms > 0) {
    for (auto it = last_.begin(); it != last_.end();) {
      if (watermark >= it->second + spec_.ttl_ms - 1) {
        keys_.erase(it->first);
        split_.erase(it->first);
        it = last_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), resultBefore);
}

void ReferenceAggregator::finish(std::vector<WindowResult> &out) {
  advance(kEndWatermark, out);
}

} // namespace cep::runtime::aggregate
