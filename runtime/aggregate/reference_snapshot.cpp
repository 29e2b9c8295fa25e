// Snapshot and restore of the reference window runtime (runtime/aggregate/reference.hpp): the
// CEPASNAP bytes of aggregator.hpp, worked out from the events the reference keeps.
#include "runtime/aggregate/reference.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <stdexcept>

namespace cep::runtime::aggregate {

namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void writeCell(SnapshotWriter &w, const CellLayout &layout, const CellState &st) {
  std::vector<Slot> c(layout.width());
  layout.init(c.data());
  layout.importState(st, c.data());
  layout.write(w, c.data());
  layout.destroy(c.data());
}

std::shared_ptr<const CellState> readCell(SnapshotReader &r, const CellLayout &layout) {
  std::vector<Slot> c(layout.width());
  layout.init(c.data());
  try {
    layout.read(r, c.data());
  } catch (...) {
    layout.destroy(c.data());
    throw;
  }
  auto st = std::make_shared<CellState>(layout.exportState(c.data()));
  layout.destroy(c.data());
  return st;
}

bool hasFloatSum(const AggregateSpec &spec) {
  return std::any_of(spec.accumulators.begin(), spec.accumulators.end(), [](const auto &a) {
    return (a.fn == AggFn::Sum || a.fn == AggFn::Avg) && a.kind == FieldKind::Float;
  });
}

} // namespace

void ReferenceAggregator::snapshot(std::string &out) const {
  SnapshotWriter w(out);
  writeSnapshotHeader(w, spec_, watermark_);
  CellLayout layout(spec_);
  const std::int64_t wm = watermark_;
  const std::int64_t l = spec_.lateness_ms;
  const std::int64_t s = spec_.size_ms;
  std::string body;
  std::uint64_t count = 0;
  for (const auto &[key, stored] : keys_) { // std::map: keys in byte order, as the native runtime
    std::string one;
    SnapshotWriter kw(one);
    bool any = false;
    if (isTimeWindow(spec_.window)) {
      std::int64_t pane = spec_.window == WindowKind::Tumbling ? s : spec_.slide_ms;
      // Panes still in a window that is not closed for good, each folded in arrival order.
      std::map<std::int64_t, std::vector<const Event *>> panes;
      for (const Event &e : stored) {
        std::int64_t start = floorDiv(e.time, pane) * pane;
        std::int64_t max_end = start;
        for (Window win : windowsOf(start)) {
          max_end = std::max(max_end, win.end);
        }
        if (max_end - 1 + l > wm) {
          panes[start].push_back(&e);
        }
      }
      kw.u64(panes.size());
      for (const auto &[start, events] : panes) {
        CellState st = emptyState();
        std::uint64_t first = UINT64_MAX;
        for (const Event *e : events) {
          fold(st, *e);
          first = std::min(first, e->seq);
        }
        kw.i64(start);
        kw.i64(start + pane);
        kw.u64(first);
        writeCell(kw, layout, st);
      }
      std::vector<std::pair<std::int64_t, std::uint32_t>> written;
      for (auto it = writes_.lower_bound({key, INT64_MIN});
           it != writes_.end() && it->first.first == key; ++it) {
        if (it->second > 0 && it->first.second - 1 + l > wm) {
          written.emplace_back(it->first.second, it->second);
        }
      }
      kw.u64(written.size());
      for (const auto &[end, writes] : written) {
        std::int64_t start =
            spec_.window == WindowKind::Cumulate ? floorDiv(end - 1, s) * s : end - s;
        kw.i64(start);
        kw.i64(end);
        kw.u32(writes);
      }
      any = !panes.empty() || !written.empty();
    } else if (spec_.window == WindowKind::Session) {
      auto groups = sessions(const_cast<std::vector<Event> &>(stored));
      kw.u64(groups.size());
      for (std::vector<Event *> &g : groups) {
        std::int64_t last = g.front()->last;
        std::uint64_t first = UINT64_MAX;
        std::uint32_t writes = 0;
        for (const Event *e : g) {
          last = std::max(last, e->last);
          first = std::min(first, e->seq);
          writes = std::max(writes, e->writes);
        }
        bool written = g.front()->serial != 0 &&
                       std::all_of(g.begin(), g.end(),
                                   [&](const Event *e) { return e->serial == g.front()->serial; });
        std::sort(g.begin(), g.end()); // arrival order: the order they were stored in
        CellState st = emptyState();
        for (const Event *e : g) {
          fold(st, *e);
        }
        std::int64_t start = INT64_MAX;
        for (const Event *e : g) {
          start = std::min(start, e->time);
        }
        kw.i64(start);
        kw.i64(last + s);
        kw.i64(last);
        kw.u64(first);
        kw.u32(writes);
        kw.u8(written ? 0 : 1);
        writeCell(kw, layout, st);
      }
      any = !groups.empty();
    } else {
      auto at = last_.find(key);
      if (at == last_.end() || stored.empty()) {
        continue;
      }
      std::int64_t last = at->second;
      if (spec_.window == WindowKind::Rolling) {
        if (wm != kNoWatermark && wm >= last + s - 1) {
          continue; // the native runtime has dropped the key: no entry can remain
        }
        kw.i64(last);
        std::vector<const Event *> entries;
        for (const Event &e : stored) {
          if (e.time > last - s) {
            entries.push_back(&e);
          }
        }
        kw.u64(entries.size());
        for (const Event *e : entries) {
          kw.i64(e->time);
          kw.u64(e->seq);
          for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
            if (spec_.accumulators[a].field >= 0) {
              writeValue(kw, e->values[a]);
            }
          }
        }
        std::uint64_t front = 0;
        if (hasFloatSum(spec_)) {
          auto sp = split_.find(key);
          front = sp == split_.end() ? 0 : sp->second.front;
        }
        kw.u64(front);
      } else {
        CellState st = emptyState();
        for (const Event &e : stored) {
          fold(st, e);
        }
        kw.i64(stored.front().time);
        kw.i64(last);
        kw.u64(stored.front().seq);
        writeCell(kw, layout, st);
      }
      any = true;
    }
    if (any) {
      SnapshotWriter bw(body);
      bw.str(key);
      body += one;
      ++count;
    }
  }
  w.u64(count);
  w.bytes(body.data(), body.size());
}

void ReferenceAggregator::restore(std::string_view bytes) {
  SnapshotReader r(bytes, "aggregate snapshot");
  if (!keys_.empty() || watermark_ != kNoWatermark) {
    r.fail("restore into an aggregator that has state");
  }
  watermark_ = readSnapshotHeader(r, bytes, spec_);
  CellLayout layout(spec_);
  const std::int64_t s = spec_.size_ms;
  auto nulls = [&] {
    std::vector<AggValue> v;
    for (const AccumulatorSpec &a : spec_.accumulators) {
      v.push_back(AggValue::nullOf(a.kind));
    }
    return v;
  };
  std::uint64_t count = r.count(4);
  std::string previous;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name(r.str());
    if (i > 0 && !(previous < name)) {
      r.fail("keys out of order or repeated");
    }
    previous = name;
    std::vector<Event> &events = keys_[name];
    bool any = false;
    // The word that may carry a fired-up-to mark (snapshot_format.hpp kFiredMarkBit): only
    // cep serve's native operator holds such a key (restored from a partition taken over
    // ahead); the interpreter never writes one.
    auto unmarked = [&] {
      std::uint64_t n = r.u64();
      if ((n & kFiredMarkBit) != 0) {
        r.fail("key " + name +
               " carries a fired-up-to mark (a key cep serve took over ahead of its watermark): "
               "the interpreter does not restore it; restore it with the native engine");
      }
      return n;
    };
    if (isTimeWindow(spec_.window)) {
      std::int64_t pane = spec_.window == WindowKind::Tumbling ? s : spec_.slide_ms;
      std::uint64_t n = r.count(unmarked(), 24);
      for (std::uint64_t j = 0; j < n; ++j) {
        Event e;
        e.time = r.i64();
        std::int64_t end = r.i64();
        if (end - e.time != pane || floorDiv(e.time, pane) * pane != e.time) {
          r.fail("pane [" + std::to_string(e.time) + ", " + std::to_string(end) +
                 ") is not a pane of the window");
        }
        if (!events.empty() && events.back().time >= e.time) {
          r.fail("panes out of order");
        }
        e.last = e.time;
        e.seq = r.u64();
        e.values = nulls();
        e.cell = readCell(r, layout);
        events.push_back(std::move(e));
      }
      n = r.count(20);
      for (std::uint64_t j = 0; j < n; ++j) {
        std::int64_t start = r.i64();
        std::int64_t end = r.i64();
        std::int64_t want =
            spec_.window == WindowKind::Cumulate ? floorDiv(end - 1, s) * s : end - s;
        if (start != want || floorDiv(end, pane) * pane != end) {
          r.fail("window [" + std::to_string(start) + ", " + std::to_string(end) +
                 ") is not a window of the aggregate");
        }
        writes_[{name, end}] = r.u32();
      }
      any = !events.empty() || n > 0;
    } else if (spec_.window == WindowKind::Session) {
      std::uint64_t n = r.count(unmarked(), 8 * 4 + 4 + 1);
      for (std::uint64_t j = 0; j < n; ++j) {
        Event e;
        e.time = r.i64();
        std::int64_t end = r.i64();
        e.last = r.i64();
        if (end != e.last + s || e.time > e.last) {
          r.fail("session bounds do not fit the gap");
        }
        e.seq = r.u64();
        e.writes = r.u32();
        bool pending = r.flag("session pending");
        e.serial = pending ? 0 : next_serial_++;
        e.values = nulls();
        e.cell = readCell(r, layout);
        events.push_back(std::move(e));
      }
      any = n > 0;
    } else if (spec_.window == WindowKind::Rolling) {
      std::int64_t last = r.i64();
      std::uint64_t n = r.count(unmarked(), 16);
      for (std::uint64_t j = 0; j < n; ++j) {
        Event e;
        e.time = r.i64();
        e.last = e.time;
        e.seq = r.u64();
        for (const AccumulatorSpec &a : spec_.accumulators) {
          e.values.push_back(a.field >= 0 ? readValue(r, a.kind) : AggValue::nullOf(a.kind));
        }
        if (!events.empty() && e.time < events.back().time) {
          r.fail("rolling entries out of time order");
        }
        events.push_back(std::move(e));
      }
      std::uint64_t front = r.u64();
      if (front > n) {
        r.fail("float-sum stack longer than the window");
      }
      last_[name] = last;
      split_[name] = Split{0, static_cast<std::size_t>(front)};
      any = true;
    } else {
      Event e;
      e.time = r.i64();
      e.last = e.time;
      std::int64_t last = r.i64();
      e.seq = unmarked();
      e.values = nulls();
      e.cell = readCell(r, layout);
      events.push_back(std::move(e));
      last_[name] = last;
      any = true;
    }
    if (!any) {
      r.fail("key " + name + " without state");
    }
  }
  if (!r.atEnd()) {
    r.fail("bytes after the last key");
  }
}

} // namespace cep::runtime::aggregate
