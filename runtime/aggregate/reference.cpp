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

std::string distinctOf(const AggValue &v) {
  if (v.kind == FieldKind::String) {
    std::string k(1, 's');
    k.append(v.s);
    return k;
  }
  if (v.kind == FieldKind::Float) {
    double f = v.f == 0.0 ? 0.0 : v.f;
    char b[8];
    std::memcpy(b, &f, 8);
    std::string k(1, 'f');
    k.append(b, 8);
    return k;
  }
  std::string k(1, 'i');
  k.append(std::to_string(v.i));
  return k;
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

WindowResult ReferenceAggregator::compute(const std::string &key,
                                          const std::vector<const Event *> &given) const {
  std::vector<const Event *> events = given;
  std::sort(events.begin(), events.end(), eventBefore);
  WindowResult r;
  r.key = key;
  r.order = UINT64_MAX;
  for (const Event *e : events) {
    r.order = std::min(r.order, e->seq);
  }
  for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
    const AccumulatorSpec &spec = spec_.accumulators[a];
    std::int64_t n = 0;
    std::int64_t isum = 0;
    double fsum = 0.0;
    const AggValue *best = nullptr;
    std::set<std::string> distinct;
    for (const Event *e : events) {
      const AggValue &v = e->values[a];
      if (v.null) {
        continue;
      }
      ++n;
      if (v.kind == FieldKind::Float) {
        fsum = fsum + v.f;
      } else if (v.kind != FieldKind::String) {
        isum = static_cast<std::int64_t>(static_cast<std::uint64_t>(isum) +
                                         static_cast<std::uint64_t>(v.i));
      }
      if (best == nullptr || (spec.fn == AggFn::Min && compareValues(v, *best) < 0) ||
          (spec.fn == AggFn::Max && compareValues(v, *best) > 0)) {
        best = &v;
      }
      distinct.insert(distinctOf(v));
    }
    switch (spec.fn) {
    case AggFn::Count:
      r.values.push_back(AggValue::ofInt(FieldKind::Int, static_cast<std::int64_t>(events.size())));
      break;
    case AggFn::CountField:
      r.values.push_back(AggValue::ofInt(FieldKind::Int, n));
      break;
    case AggFn::Sum:
      r.values.push_back(spec.kind == FieldKind::Float ? AggValue::ofFloat(fsum)
                                                       : AggValue::ofInt(spec.kind, isum));
      break;
    case AggFn::Avg:
      r.values.push_back(
          n == 0 ? AggValue::nullOf(FieldKind::Float)
                 : AggValue::ofFloat(
                       (spec.kind == FieldKind::Float ? fsum : static_cast<double>(isum)) /
                       static_cast<double>(n)));
      break;
    case AggFn::Min:
    case AggFn::Max:
      r.values.push_back(best == nullptr ? AggValue::nullOf(spec.kind) : *best);
      break;
    case AggFn::First:
      r.values.push_back(events.empty() ? AggValue::nullOf(spec.kind) : events.front()->values[a]);
      break;
    case AggFn::Last:
      r.values.push_back(events.empty() ? AggValue::nullOf(spec.kind) : events.back()->values[a]);
      break;
    case AggFn::CountDistinct:
      r.values.push_back(
          AggValue::ofInt(FieldKind::Int, static_cast<std::int64_t>(distinct.size())));
      break;
    }
  }
  r.event_count = events.size();
  r.events_kept = spec_.keep_events && events.size() <= kMaxEventsKept;
  if (r.events_kept) {
    for (const Event *e : events) {
      r.events.push_back({e->time, e->seq});
    }
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
  for (Event *e : live) {
    if (out.empty() || e->time >= out.back().back()->time + spec_.size_ms) {
      out.emplace_back();
    }
    out.back().push_back(e);
  }
  return out;
}

void ReferenceAggregator::writeSession(const std::string &key, std::vector<Event *> &s,
                                       std::vector<WindowResult> &out) {
  std::vector<const Event *> in(s.begin(), s.end());
  WindowResult r = compute(key, in);
  r.start = s.front()->time;
  r.end = s.back()->time + spec_.size_ms;
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
      if (s.back()->time + spec_.size_ms - 1 <= w) {
        writeSession(key, s, out);
      }
      break;
    }
  } else {
    if (late) {
      return EventFate::Late;
    }
    std::vector<Event> &events = keys_[key];
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
        std::int64_t end = s.back()->time + spec_.size_ms;
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
