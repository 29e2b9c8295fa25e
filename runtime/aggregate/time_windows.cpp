// Time windows (tumbling, hopping, cumulate) of the window runtime (runtime/aggregate/
// aggregator.hpp): the panes are columns of rows (pane_columns.hpp), a key's slot names the row
// of its latest pane, and a window fires from the columns of its panes, each window's keys in
// order of first arrival.
#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/key_state.hpp"
#include "runtime/aggregate/key_table.hpp"
#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <unordered_map>

namespace cep::runtime::aggregate {

PaneColumn::Touched WindowAggregator::paneAdd(KeyState &k, std::int64_t p, std::uint64_t seq) {
  if (std::uint32_t id = k.timeColumn(); id != 0) {
    PaneColumn &c = columns_.byId(id);
    if (c.pane() == p) { // the usual: the key's latest pane
      return c.touch(k.timeRow(), seq);
    }
    if (c.pane() > p) { // an earlier pane (a late event): its row, if any, through the hash
      PaneColumn &o = columns_.column(p);
      std::uint32_t slot = keys_->slotOf(k);
      std::uint32_t row = o.find(slot);
      if (row == PaneColumn::kNone) {
        row = o.append(slot, seq); // an empty cell: every slot zero (CellLayout::init)
      }
      return o.touch(row, seq);
    }
  }
  PaneColumn &c = columns_.column(p); // a later pane than any the key holds: a new row
  std::uint32_t row = c.append(keys_->slotOf(k), seq);
  k.setTimeLatest(c.id(), row);
  return c.touch(row, seq);
}

void WindowAggregator::destroyRows(PaneColumn &c) const {
  if (layout_.countsOnly()) {
    return; // nothing owned
  }
  CellBuffer cell(layout_.width());
  for (std::uint32_t row = 0; row < c.size(); ++row) {
    c.load(row, cell.get());
    layout_.destroy(cell.get());
  }
}

EventFate WindowAggregator::timeEvent(KeyState &k, const AggInput &in,
                                      std::vector<WindowResult> &out) {
  const WindowGeometry &g = geometry_;
  std::int64_t p = g.paneOf(in.time);
  std::int64_t w = watermark_;
  std::int64_t l = spec_.lateness_ms;
  if (!fired_.empty()) {
    // A key restored ahead: judged as its record's writer judged it, under its mark.
    w = std::max(w, firedMark(keys_->slotOf(k)));
  }
  bool late = in.time <= w;
  if (late && g.maxEnd(p) - 1 + l <= w) {
    return EventFate::Late; // every window of the event is closed for good
  }
  PaneColumn::Touched cell = paneAdd(k, p, in.seq);
  if (!layout_.countsOnly()) {
    layout_.addAccs(cell.accs, cell.n, in);
  }
  if (!late) {
    time_due_ = std::min(time_due_, g.minEnd(p) - 1); // its pane's first window
    return EventFate::Counted;
  }
  // Windows of the pane already due (end - 1 <= w) and still open are written now.
  std::int64_t e = std::max(g.minEnd(p), g.endAfter(w - l));
  std::uint32_t slot = keys_->slotOf(k);
  std::vector<KeyPane> panes;
  for (; e <= g.maxEnd(p) && e - 1 <= w; e += g.pane) {
    std::uint32_t writes = writesOf(e, slot);
    panesIn(k, e, panes);
    writeWindow(panes, e, writes, newResult(k, out));
    keepLast(out);
    if (e - 1 + l > w) {
      written_[{e, slot}] = writes + 1;
      time_due_ = std::min(time_due_, e - 1 + l); // its write count is dropped then
    }
  }
  // Its pane's next window to fire, or when it closes.
  time_due_ = std::min(time_due_, e <= g.maxEnd(p) ? e - 1 : g.maxEnd(p) - 1 + l);
  return EventFate::Counted;
}

std::uint32_t WindowAggregator::writesOf(std::int64_t end, std::uint32_t slot) const {
  auto it = written_.find({end, slot});
  return it == written_.end() ? 0 : it->second;
}

void WindowAggregator::panesIn(const KeyState &k, std::int64_t end,
                               std::vector<KeyPane> &panes) const {
  const WindowGeometry &g = geometry_;
  panes.clear();
  std::int64_t last = g.paneOf(end - 1);
  std::uint32_t slot = keys_->slotOf(k);
  for (auto it = columns_.lowerBound(g.paneOf(g.startOf(end)));
       it != columns_.byPane().end() && it->first <= last; ++it) {
    const PaneColumn &c = it->second;
    std::uint32_t row = c.id() == k.timeColumn() ? k.timeRow() : c.find(slot);
    if (row != PaneColumn::kNone) {
      panes.push_back({c.pane(), &c, row, c.first(row)});
    }
  }
}

void WindowAggregator::writeWindow(const std::vector<KeyPane> &panes, std::int64_t end,
                                   std::uint32_t revision, WindowResult &r) const {
  const WindowGeometry &g = geometry_;
  std::int64_t start = g.startOf(end);
  std::int64_t p0 = g.paneOf(start);
  std::int64_t p1 = g.paneOf(end - 1);
  // The window's cell: on the stack for the usual few accumulators.
  CellBuffer buffer(layout_.width());
  CellBuffer row(layout_.width());
  Slot *cell = buffer.get();
  layout_.init(cell);
  std::uint64_t order = std::numeric_limits<std::uint64_t>::max();
  for (const KeyPane &pane : panes) {
    if (pane.pane < p0 || pane.pane > p1) {
      continue;
    }
    pane.column->load(pane.row, row.get());
    layout_.combine(cell, row.get());
    order = std::min(order, pane.first);
  }
  r.start = start;
  r.end = end;
  r.revision = revision;
  r.order = order;
  layout_.fill(cell, r);
  layout_.destroy(cell);
}

void WindowAggregator::fireWindow(std::int64_t end, PaneColumns::Map::const_iterator from,
                                  std::int64_t last_pane, std::vector<WindowResult> &out) {
  const std::int64_t w = watermark_;
  const std::int64_t l = spec_.lateness_ms;
  const std::int64_t start = geometry_.startOf(end);
  const std::size_t width = layout_.width();
  const bool open = end - 1 + l > w; // still open for late events: its writes are counted
  // A key's record from its window's cell (its panes combined).
  auto emit = [&](std::uint32_t slot, std::uint64_t first, const Slot *cell) {
    if (!fired_.empty() && end - 1 <= firedMark(slot)) {
      return; // a key restored ahead: this window fired where its record was written
    }
    KeyState &k = keys_->at(slot);
    WindowResult &r = newResult(k, out);
    r.start = start;
    r.end = end;
    r.revision = 0;
    r.order = first;
    layout_.fill(cell, r);
    keepLast(out);
    if (open) {
      written_[{end, slot}] = 1;
    }
  };
  // Room for n more results at once: a window of many keys is not grown into by doubling, each
  // step of which touches new memory (a tumbling hour of 10,000 keys: ~1,100 fresh pages
  // instead of ~350 the first time; recycle() keeps them for the next windows).
  auto room = [&out](std::size_t n) {
    if (out.size() + n > out.capacity()) {
      out.reserve(std::max(out.size() + n, 2 * out.capacity()));
    }
  };
  auto stop = columns_.byPane().end();
  auto next = std::next(from);
  std::vector<std::pair<std::uint64_t, std::uint32_t>> &order = fire_order_; // (first, row/group)
  order.clear();
  if (next == stop || next->first > last_pane) {
    // One pane (every tumbling window): its rows, by first arrival. They came in as the
    // reorder buffer released their keys' first events (by time, then arrival): usually in
    // this order already.
    const PaneColumn &c = from->second;
    order.reserve(c.size());
    room(c.size());
    for (std::uint32_t row = 0; row < c.size(); ++row) {
      order.emplace_back(c.first(row), row);
    }
    if (!std::is_sorted(order.begin(), order.end())) {
      std::sort(order.begin(), order.end());
    }
    CellBuffer cell(width);
    for (const auto &[first, row] : order) {
      c.load(row, cell.get()); // a shallow copy, read only: the row keeps what it points to
      emit(c.slot(row), first, cell.get());
    }
    return;
  }
  // Several panes: each key's rows combined in pane order into a cell of its own, the keys
  // grouped by slot number.
  std::unordered_map<std::uint32_t, std::uint32_t> group_of;
  std::vector<std::uint32_t> slots;
  std::vector<Slot> cells; // width slots a group
  CellBuffer cell(width);
  for (auto it = from; it != stop && it->first <= last_pane; ++it) {
    const PaneColumn &c = it->second;
    for (std::uint32_t row = 0; row < c.size(); ++row) {
      auto [g, fresh] = group_of.try_emplace(c.slot(row), static_cast<std::uint32_t>(slots.size()));
      if (fresh) {
        slots.push_back(c.slot(row));
        cells.resize(cells.size() + width);
        layout_.init(cells.data() + g->second * width);
        order.emplace_back(c.first(row), g->second);
      } else {
        order[g->second].first = std::min(order[g->second].first, c.first(row));
      }
      c.load(row, cell.get());
      layout_.combine(cells.data() + g->second * width, cell.get());
    }
  }
  std::sort(order.begin(), order.end(), [&](const auto &a, const auto &b) {
    return a.first != b.first ? a.first < b.first : slots[a.second] < slots[b.second];
  });
  room(order.size());
  for (const auto &[first, g] : order) {
    emit(slots[g], first, cells.data() + g * width);
  }
  for (std::size_t g = 0; g < slots.size(); ++g) {
    layout_.destroy(cells.data() + g * width);
  }
}

void WindowAggregator::fireColumns(std::int64_t old_w, std::vector<WindowResult> &out) {
  const WindowGeometry &g = geometry_;
  const std::int64_t w = watermark_;
  const std::int64_t l = spec_.lateness_ms;
  if (w < time_due_) {
    return; // nothing fires or closes yet (time_due_ is at or before the first that does)
  }
  // The windows with old_w < end - 1 <= w that hold a pane, in order of end.
  if (!columns_.empty()) {
    std::int64_t end = std::max(g.endAfter(old_w), g.minEnd(columns_.byPane().begin()->first));
    while (end - 1 <= w) {
      std::int64_t first = g.paneOf(g.startOf(end));
      std::int64_t last = g.paneOf(end - 1);
      auto it = columns_.lowerBound(first);
      if (it == columns_.byPane().end()) {
        break;
      }
      if (it->first > last) {
        end = g.minEnd(it->first); // the next window that holds a pane
        continue;
      }
      fireWindow(end, it, last, out);
      if (__builtin_add_overflow(end, g.pane, &end)) {
        break;
      }
    }
  }
  // Drop what no window can use any more: panes whose last window is closed for good (in pane
  // order: a later pane closes no earlier), and the write counts of closed windows. A key whose
  // latest pane goes holds none: it goes idle.
  while (!columns_.empty() && g.maxEnd(columns_.front().pane()) - 1 + l <= w) {
    PaneColumn &c = columns_.front();
    destroyRows(c);
    for (std::uint32_t row = 0; row < c.size(); ++row) {
      KeyState &k = keys_->at(c.slot(row));
      if (k.timeColumn() == c.id()) {
        k.setTimeNone();
        dropIfEmpty(k);
      }
    }
    columns_.dropFront();
  }
  while (!written_.empty() && written_.begin()->first.first - 1 + l <= w) {
    written_.erase(written_.begin());
  }
  time_due_ = timeDue();
}

std::int64_t WindowAggregator::timeDue() const {
  const WindowGeometry &g = geometry_;
  const std::int64_t w = watermark_;
  const std::int64_t l = spec_.lateness_ms;
  std::int64_t due = kNeverDue;
  if (!columns_.empty()) {
    due = g.maxEnd(columns_.byPane().begin()->first) - 1 + l; // the first pane closes
    for (const auto &[p, c] : columns_.byPane()) {
      std::int64_t e = std::max(g.minEnd(p), g.endAfter(w));
      if (e <= g.maxEnd(p)) {
        due = std::min(due, e - 1); // the first window still to fire
        break;
      }
    }
  }
  if (!written_.empty()) {
    due = std::min(due, written_.begin()->first.first - 1 + l);
  }
  return due;
}

WindowAggregator::TimeView WindowAggregator::timeView() const {
  TimeView v;
  for (const auto &[p, c] : columns_.byPane()) {
    for (std::uint32_t row = 0; row < c.size(); ++row) {
      v.rows.push_back({c.slot(row), {p, &c, row, c.first(row)}});
    }
  }
  std::stable_sort(v.rows.begin(), v.rows.end(),
                   [](const PaneRow &a, const PaneRow &b) { return a.slot < b.slot; });
  for (const auto &[at, writes] : written_) {
    v.written.push_back({at.second, at.first, writes});
  }
  std::stable_sort(v.written.begin(), v.written.end(),
                   [](const WrittenRow &a, const WrittenRow &b) { return a.slot < b.slot; });
  return v;
}

void WindowAggregator::TimeView::panesOf(std::uint32_t slot, std::vector<KeyPane> &out) const {
  out.clear();
  auto it = std::lower_bound(rows.begin(), rows.end(), slot,
                             [](const PaneRow &r, std::uint32_t s) { return r.slot < s; });
  for (; it != rows.end() && it->slot == slot; ++it) {
    out.push_back(it->pane);
  }
}

} // namespace cep::runtime::aggregate
