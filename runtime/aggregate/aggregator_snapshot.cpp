// Snapshot, restore and statistics of the window runtime (CEPASNAP, runtime/aggregate/
// aggregator.hpp documents the layout).
#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/key_state.hpp"
#include "runtime/aggregate/key_table.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace cep::runtime::aggregate {

std::vector<const KeyState *> WindowAggregator::liveKeys() const {
  std::vector<const KeyState *> keys;
  keys.reserve(keys_->size());
  keys_->forEach([&](const KeyState &k) {
    if (!k.empty()) { // idle keys are not state
      keys.push_back(&k);
    }
  });
  std::sort(keys.begin(), keys.end(),
            [](const KeyState *a, const KeyState *b) { return a->name < b->name; });
  return keys;
}

void WindowAggregator::snapshot(std::string &out) const {
  SnapshotWriter w(out);
  writeSnapshotHeader(w, spec_, watermark_);
  std::vector<const KeyState *> keys = liveKeys();
  TimeView tv;
  if (isTimeWindow(spec_.window)) {
    tv = timeView();
  }
  w.u64(keys.size());
  for (const KeyState *k : keys) {
    w.str(k->name);
    writeKey(w, *k, tv);
  }
}

void WindowAggregator::snapshotParts(std::string &header,
                                     std::vector<std::pair<std::string, std::string>> &keys) const {
  header.clear();
  SnapshotWriter h(header);
  writeSnapshotHeader(h, spec_, watermark_);
  keys.clear();
  TimeView tv;
  if (isTimeWindow(spec_.window)) {
    tv = timeView();
  }
  for (const KeyState *k : liveKeys()) {
    std::string record;
    SnapshotWriter w(record);
    w.str(k->name);
    writeKey(w, *k, tv);
    keys.emplace_back(k->name, std::move(record));
  }
}

void WindowAggregator::restoreParts(std::string_view header,
                                    std::vector<std::string_view> records) {
  auto nameOf = [](std::string_view record) {
    SnapshotReader r(record, "aggregate key record");
    return r.str();
  };
  std::sort(records.begin(), records.end(),
            [&](std::string_view a, std::string_view b) { return nameOf(a) < nameOf(b); });
  std::string bytes(header);
  SnapshotWriter w(bytes);
  w.u64(records.size());
  for (std::string_view record : records) {
    bytes += record;
  }
  restore(bytes);
}

void WindowAggregator::openWindows(std::vector<WindowResult> &out) const {
  std::vector<const KeyState *> keys = liveKeys();
  const WindowGeometry &g = geometry_;
  const std::int64_t w = watermark_;
  const std::int64_t l = spec_.lateness_ms;
  TimeView tv;
  std::vector<KeyPane> panes;
  if (isTimeWindow(spec_.window)) {
    tv = timeView();
  }
  for (const KeyState *k : keys) {
    if (isTimeWindow(spec_.window)) {
      std::uint32_t slot = keys_->slotOf(*k);
      tv.panesOf(slot, panes);
      // A key restored ahead: its windows up to its mark fired where it was written.
      const std::int64_t wk = std::max(w, firedMark(slot));
      std::int64_t last = std::numeric_limits<std::int64_t>::min();
      for (const KeyPane &pane : panes) {
        std::int64_t p = pane.pane;
        std::int64_t e = std::max(g.minEnd(p), g.endAfter(wk - l));
        if (last != std::numeric_limits<std::int64_t>::min()) {
          e = std::max(e, last + g.pane);
        }
        for (; e <= g.maxEnd(p); e += g.pane) {
          WindowResult &r = out.emplace_back();
          r.key = k->name;
          writeWindow(panes, e, e - 1 <= wk ? writesOf(e, slot) : 0, r);
          last = e;
        }
      }
    } else if (spec_.window == WindowKind::Session) {
      for (const Session &s : k->cx().sessions) {
        WindowResult r;
        r.key = k->name;
        r.start = s.start;
        r.end = s.last + spec_.size_ms;
        r.revision = s.writes;
        r.order = s.first_seq;
        layout_.fill(s.cell.data(), r);
        out.push_back(std::move(r));
      }
    } else if (k->running()) {
      WindowResult r;
      r.key = k->name;
      r.end = k->cx().last_time;
      if (spec_.window == WindowKind::Rolling) {
        const Rolling &ro = *k->cx().rolling();
        if (ro.q.empty()) {
          continue;
        }
        r.start = ro.q.front().time;
        r.order = ro.q.back().seq;
        fillRolling(ro, r);
      } else {
        r.start = k->cx().first_time;
        r.order = k->cx().first_seq;
        layout_.fill(k->cx().cell.data(), r);
      }
      out.push_back(std::move(r));
    }
  }
}

std::vector<std::pair<std::string, std::int64_t>> WindowAggregator::firedMarks() const {
  std::vector<std::pair<std::string, std::int64_t>> marks;
  for (const auto &[slot, mark] : fired_) {
    if (mark > watermark_) {
      marks.emplace_back(keys_->at(slot).name, mark);
    }
  }
  std::sort(marks.begin(), marks.end());
  return marks;
}

void WindowAggregator::writeKey(SnapshotWriter &w, const KeyState &k, const TimeView &tv) const {
  const WindowGeometry &g = geometry_;
  const std::uint32_t slot = keys_->slotOf(k);
  // The word that carries a live mark (snapshot_format.hpp kFiredMarkBit), then the mark.
  auto markedWord = [&](std::uint64_t n) {
    if (const std::int64_t mark = firedMark(slot); mark > watermark_) {
      w.u64(n | kFiredMarkBit); // restored ahead: the mark is live (aggregator.hpp fired_)
      w.i64(mark);
    } else {
      w.u64(n);
    }
  };
  if (isTimeWindow(spec_.window)) {
    auto rows =
        std::equal_range(tv.rows.begin(), tv.rows.end(), PaneRow{slot, {}},
                         [](const PaneRow &a, const PaneRow &b) { return a.slot < b.slot; });
    markedWord(static_cast<std::uint64_t>(rows.second - rows.first));
    CellBuffer cell(layout_.width());
    for (auto it = rows.first; it != rows.second; ++it) {
      std::int64_t p = it->pane.pane;
      w.i64(p * g.pane);
      w.i64((p + 1) * g.pane);
      w.u64(it->pane.first);
      it->pane.column->load(it->pane.row, cell.get());
      layout_.write(w, cell.get());
    }
    auto written =
        std::equal_range(tv.written.begin(), tv.written.end(), WrittenRow{slot, 0, 0},
                         [](const WrittenRow &a, const WrittenRow &b) { return a.slot < b.slot; });
    w.u64(static_cast<std::uint64_t>(written.second - written.first));
    for (auto it = written.first; it != written.second; ++it) {
      w.i64(g.startOf(it->end));
      w.i64(it->end);
      w.u32(it->writes);
    }
  } else if (spec_.window == WindowKind::Session) {
    markedWord(k.cx().sessions.size());
    for (const Session &s : k.cx().sessions) {
      w.i64(s.start);
      w.i64(s.last + spec_.size_ms);
      w.i64(s.last);
      w.u64(s.first_seq);
      w.u32(s.writes);
      w.u8(s.pending ? 1 : 0);
      layout_.write(w, s.cell.data());
    }
  } else if (spec_.window == WindowKind::Rolling) {
    const Rolling &ro = *k.cx().rolling();
    w.i64(k.cx().last_time);
    markedWord(ro.q.size());
    for (std::size_t i = 0; i < ro.q.size(); ++i) {
      w.i64(ro.q[i].time);
      w.u64(ro.q[i].seq);
      for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
        if (spec_.accumulators[a].field >= 0) {
          writeValue(w, rollingValue(ro, i, a));
        }
      }
    }
    std::uint64_t front = 0;
    for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
      const AccumulatorSpec &s = spec_.accumulators[a];
      if ((s.fn == AggFn::Sum || s.fn == AggFn::Avg) && s.kind == FieldKind::Float) {
        front = ro.accs[a].front.size(); // every float sum flips together
        break;
      }
    }
    w.u64(front);
  } else {
    w.i64(k.cx().first_time);
    w.i64(k.cx().last_time);
    markedWord(k.cx().first_seq);
    layout_.write(w, k.cx().cell.data());
  }
}

void WindowAggregator::restore(std::string_view bytes) {
  SnapshotReader r(bytes, "aggregate snapshot");
  if (keys_->size() != 0 || watermark_ != kNoWatermark) {
    r.fail("restore into an aggregator that has state");
  }
  watermark_ = readSnapshotHeader(r, bytes, spec_);
  std::uint64_t count = r.count(4);
  std::string previous;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name(r.str());
    if (i > 0 && !(previous < name)) {
      r.fail("keys out of order or repeated");
    }
    previous = name;
    KeyState &k = keyFor(name);
    readKey(r, k);
    if (k.empty()) {
      r.fail("key " + name + " without state");
    }
    if (!isTimeWindow(spec_.window)) {
      setDue(k, dueOf(k));
    }
  }
  if (!r.atEnd()) {
    r.fail("bytes after the last key");
  }
  time_due_ = isTimeWindow(spec_.window) ? timeDue() : kNeverDue;
}

void WindowAggregator::readKey(SnapshotReader &r, KeyState &k) {
  const WindowGeometry &g = geometry_;
  const std::uint32_t slot = keys_->slotOf(k);
  // The word that may carry a mark (snapshot_format.hpp kFiredMarkBit), the mark kept if live.
  auto markedWord = [&] {
    std::uint64_t n = r.u64();
    if ((n & kFiredMarkBit) != 0) { // restored ahead where it was written
      n &= ~kFiredMarkBit;
      setFiredMark(slot, r.i64());
    }
    return n;
  };
  if (isTimeWindow(spec_.window)) {
    std::uint64_t n = r.count(markedWord(), 24);
    std::int64_t previous = std::numeric_limits<std::int64_t>::min();
    for (std::uint64_t i = 0; i < n; ++i) {
      std::int64_t start = r.i64();
      std::int64_t end = r.i64();
      if (end - start != g.pane || g.paneOf(start) * g.pane != start) {
        r.fail("pane [" + std::to_string(start) + ", " + std::to_string(end) +
               ") is not a pane of the window");
      }
      std::int64_t p = g.paneOf(start);
      if (i > 0 && previous >= p) {
        r.fail("panes out of order");
      }
      previous = p;
      std::uint64_t first = r.u64();
      // A new row in the column of p (the key's latest pane so far: they come in order).
      PaneColumn &c = columns_.column(p);
      std::uint32_t row = c.append(slot, first);
      k.setTimeLatest(c.id(), row);
      CellBuffer cell(layout_.width());
      layout_.init(cell.get());
      try {
        layout_.read(r, cell.get());
      } catch (...) {
        c.store(row, cell.get()); // what it read so far is the row's, freed with it
        throw;
      }
      c.store(row, cell.get());
    }
    n = r.count(20);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::int64_t start = r.i64();
      std::int64_t end = r.i64();
      if (g.startOf(end) != start || end % g.pane != 0) {
        r.fail("window [" + std::to_string(start) + ", " + std::to_string(end) +
               ") is not a window of the aggregate");
      }
      written_[{end, slot}] = r.u32();
    }
  } else if (spec_.window == WindowKind::Session) {
    std::uint64_t n = r.count(markedWord(), 8 * 4 + 4 + 1);
    for (std::uint64_t i = 0; i < n; ++i) {
      Session s;
      s.start = r.i64();
      std::int64_t end = r.i64();
      s.last = r.i64();
      if (end != s.last + spec_.size_ms || s.start > s.last) {
        r.fail("session bounds do not fit the gap");
      }
      s.first_seq = r.u64();
      s.writes = r.u32();
      s.pending = r.flag("session pending");
      s.cell.assign(layout_.width(), Slot{});
      layout_.init(s.cell.data());
      k.x().sessions.push_back(std::move(s));
      layout_.read(r, k.x().sessions.back().cell.data());
    }
  } else if (spec_.window == WindowKind::Rolling) {
    k.setRunning(true);
    k.rollingX(spec_.accumulators.size()).clear(); // a fresh window
    std::int64_t last_time = r.i64();
    std::uint64_t n = r.u64();
    std::int64_t mark = INT64_MIN; // set after the replay (a replayed entry is never late)
    if ((n & kFiredMarkBit) != 0) {
      n &= ~kFiredMarkBit;
      mark = r.i64();
    }
    n = r.count(n, 16);
    // Replays the entries into the structures, then rebuilds the float-sum stacks as they were.
    std::vector<WindowResult> none;
    std::vector<Slot> slots(kMaxFields);
    std::vector<std::string> strings(spec_.accumulators.size());
    std::vector<std::unique_ptr<char[]>> refs;
    for (std::uint64_t i = 0; i < n; ++i) {
      AggInput in;
      in.time = r.i64();
      in.seq = r.u64();
      in.nulls = 0;
      refs.clear();
      for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
        const AccumulatorSpec &s = spec_.accumulators[a];
        if (s.field < 0) {
          continue;
        }
        AggValue v = readValue(r, s.kind);
        // Accumulators over the same field carry the same value; the last one written wins.
        if (v.null) {
          in.nulls |= std::uint64_t{1} << s.field;
          continue;
        }
        in.nulls &= ~(std::uint64_t{1} << s.field);
        Slot &slot = slots[static_cast<std::size_t>(s.field)];
        switch (s.kind) {
        case FieldKind::Bool:
          slot.b = v.i != 0;
          break;
        case FieldKind::Float:
          slot.f = v.f;
          break;
        case FieldKind::String: {
          auto block = std::make_unique<char[]>(sizeof(StringRef) + v.s.size());
          auto *ref = reinterpret_cast<StringRef *>(block.get());
          ref->size = static_cast<std::uint32_t>(v.s.size());
          std::memcpy(ref->data, v.s.data(), v.s.size());
          slot.s = ref;
          refs.push_back(std::move(block));
          break;
        }
        default:
          slot.i = v.i;
        }
      }
      in.fields = slots.data();
      if (!k.x().rolling()->q.empty() && in.time < k.x().rolling()->q.back().time) {
        r.fail("rolling entries out of time order");
      }
      std::int64_t saved = watermark_;
      watermark_ = kNoWatermark; // replayed entries are never late
      k.x().last_time = in.time;
      runningEvent(k, in, none);
      watermark_ = saved;
      none.clear();
    }
    k.x().last_time = last_time;
    setFiredMark(slot, mark);
    std::uint64_t front = r.u64();
    if (front > n) {
      r.fail("float-sum stack longer than the window");
    }
    Rolling &ro = *k.x().rolling();
    for (std::size_t a = 0; a < spec_.accumulators.size(); ++a) {
      const AccumulatorSpec &s = spec_.accumulators[a];
      if (!((s.fn == AggFn::Sum || s.fn == AggFn::Avg) && s.kind == FieldKind::Float)) {
        continue;
      }
      RollingAcc &st = ro.accs[a];
      st.front.clear();
      std::pair<double, bool> agg{0.0, false};
      for (std::size_t i = front; i-- > 0;) {
        AggValue v = rollingValue(ro, i, a);
        if (!v.null) {
          agg = {agg.second ? v.f + agg.first : v.f, true};
        }
        st.front.push_back(agg);
      }
      st.back_sum = 0;
      st.back_has = false;
      for (std::size_t i = front; i < ro.q.size(); ++i) {
        AggValue v = rollingValue(ro, i, a);
        if (!v.null) {
          st.back_sum = st.back_has ? st.back_sum + v.f : v.f;
          st.back_has = true;
        }
      }
    }
  } else {
    k.setRunning(true);
    k.x().first_time = r.i64();
    k.x().last_time = r.i64();
    k.x().first_seq = markedWord();
    k.x().cell.assign(layout_.width(), Slot{});
    layout_.init(k.x().cell.data());
    layout_.read(r, k.x().cell.data());
  }
}

AggregateStats WindowAggregator::stats() const {
  AggregateStats s;
  s.processed = processed_;
  // The key table (its index and every KeyState's slot, idle and free ones too), the idle
  // list and the due heap, the pane columns, then per key the key's bytes past the
  // small-string buffer and its extra state. key_bytes: the index and the keys' names (in their
  // slots and beyond).
  s.state_bytes += keys_->indexBytes() + keys_->slabBytes();
  s.key_bytes += keys_->indexBytes();
  s.state_bytes +=
      idle_.size() * sizeof(idle_[0]) + due_.capacity() * sizeof(Due) + buckets_.bytes();
  // Time windows: the pane columns (their rows are the open windows' state) and the write
  // counts (a map entry each: payload and four pointers).
  s.state_bytes +=
      columns_.bytes() + written_.size() * (sizeof(*written_.begin()) + 4 * sizeof(void *));
  // Keys restored ahead with a live mark (a hash node each: payload, next pointer, bucket).
  s.state_bytes += fired_.size() * (sizeof(*fired_.begin()) + 2 * sizeof(void *));
  for (const auto &[p, c] : columns_.byPane()) {
    s.windows += c.size();
    s.window_bytes += c.rowBytes();
    if (!layout_.countsOnly()) {
      CellBuffer cell(layout_.width());
      for (std::uint32_t row = 0; row < c.size(); ++row) {
        c.load(row, cell.get());
        s.state_bytes += layout_.heapBytes(cell.get());
        s.distinct_bytes += layout_.distinctBytes(cell.get());
      }
    }
  }
  keys_->forEach([&](const KeyState &k) {
    s.keys += k.empty() ? 0 : 1;
    s.idle_keys += k.empty() ? 1 : 0;
    std::size_t name_heap = k.name.capacity() > 15 ? k.name.capacity() + 1 : 0;
    s.state_bytes += name_heap;
    s.key_bytes += sizeof(k.name) + name_heap;
    s.state_bytes += k.extra() != nullptr ? sizeof(KeyExtra) : 0;
    for (const Session &ss : k.cx().sessions) {
      ++s.windows;
      s.window_bytes += sizeof(Session) + ss.cell.size() * sizeof(Slot);
      s.state_bytes +=
          sizeof(Session) + ss.cell.capacity() * sizeof(Slot) + layout_.heapBytes(ss.cell.data());
      s.distinct_bytes += layout_.distinctBytes(ss.cell.data());
    }
    if (!k.cx().cell.empty()) {
      ++s.windows;
      s.window_bytes += k.cx().cell.size() * sizeof(Slot);
      s.state_bytes +=
          k.cx().cell.capacity() * sizeof(Slot) + layout_.heapBytes(k.cx().cell.data());
      s.distinct_bytes += layout_.distinctBytes(k.cx().cell.data());
    }
    if (const Rolling *rp = k.cx().rolling()) {
      const Rolling &ro = *rp;
      s.windows += ro.q.size();
      // Its Rolling is in the block of its KeyExtra (RollingKeyExtra, counted above as a
      // KeyExtra: the rest of the block here).
      std::size_t bytes =
          sizeof(RollingKeyExtra) - sizeof(KeyExtra) + ro.q.capacity() * sizeof(RollingEntry) +
          ro.nulls.capacity() * sizeof(std::uint64_t) + ro.values.capacity() * sizeof(Slot) +
          ro.strings.capacity() * sizeof(std::string);
      for (std::size_t i = 0; i < ro.strings.size(); ++i) {
        bytes += ro.strings[i].capacity() > 15 ? ro.strings[i].capacity() + 1 : 0;
      }
      for (const RollingAcc &a : ro.accs) {
        bytes += sizeof(RollingAcc) + a.front.capacity() * sizeof(a.front[0]) +
                 a.mono.capacity() * sizeof(a.mono[0]) + a.smono.capacity() * sizeof(a.smono[0]);
        std::size_t d = a.distinct.counts.empty() ? 0 : a.distinct.heapBytes();
        bytes += d;
        s.distinct_bytes += d;
      }
      s.window_bytes += ro.q.size() * sizeof(RollingEntry) +
                        ro.nulls.size() * sizeof(std::uint64_t) + ro.values.size() * sizeof(Slot);
      s.state_bytes += bytes;
    }
  });
  return s;
}

} // namespace cep::runtime::aggregate
