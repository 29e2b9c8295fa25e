// What a drain needs of the window runtime (runtime/aggregate/aggregator.hpp "Drain"): the
// bounds of another version's sessions and running cells, and whether any started before the
// switch time is still held.
#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/key_state.hpp"
#include "runtime/aggregate/key_table.hpp"

#include <limits>

namespace cep::runtime::aggregate {

std::int64_t drainStart(const AggregateSpec &spec, const WindowResult &r) {
  if (spec.window != WindowKind::Rolling) {
    return r.start;
  }
  std::int64_t start;
  if (__builtin_sub_overflow(r.end, spec.size_ms, &start)) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return start;
}

void WindowAggregator::seedFrom(const WindowAggregator &from, std::int64_t before) {
  if (from.watermark_ > watermark_) {
    std::vector<WindowResult> none;
    advance(from.watermark_, none); // windows it holds before the seed are not seeded over
    recycle(none);
  }
  const bool session = spec_.window == WindowKind::Session;
  if ((!session && spec_.window != WindowKind::None) || from.spec_.window != spec_.window) {
    return;
  }
  keys_->reserve(keys_->size() + from.keys_->size()); // one table growth, not one per doubling
  from.keys_->forEach([&](const KeyState &src) {
    const std::string &name = src.name;
    if (session) {
      for (const Session &s : src.cx().sessions) {
        if (s.start >= before) {
          continue;
        }
        KeyState &k = keyFor(name);
        Session shell;
        shell.start = s.start;
        shell.last = s.last;
        shell.first_seq = s.first_seq;
        shell.writes = s.writes;
        shell.pending = s.pending;
        shell.cell.assign(layout_.width(), Slot{});
        layout_.init(shell.cell.data());
        auto &own = k.x().sessions;
        auto pos = std::lower_bound(own.begin(), own.end(), shell.start,
                                    [](const Session &o, std::int64_t t) { return o.start < t; });
        own.insert(pos, std::move(shell));
        setDue(k, dueOf(k));
      }
    } else if (src.running() && src.cx().first_time < before) {
      KeyState &k = keyFor(name);
      if (k.running()) {
        return; // it has its own cell for the key already
      }
      k.setRunning(true);
      k.x().cell.assign(layout_.width(), Slot{});
      layout_.init(k.x().cell.data());
      k.x().first_time = src.cx().first_time;
      k.x().first_seq = src.cx().first_seq;
      k.x().last_time = src.cx().last_time;
      setDue(k, dueOf(k));
    }
  });
}

bool WindowAggregator::holdsWindowBefore(std::int64_t before) const {
  bool holds = false;
  keys_->forEach([&](const KeyState &k) {
    if (holds) {
      return;
    }
    if (spec_.window == WindowKind::Session) {
      for (const Session &s : k.cx().sessions) {
        holds = holds || s.start < before;
      }
    } else if (spec_.window == WindowKind::None && k.running() && k.cx().first_time < before) {
      holds = true;
    }
  });
  return holds;
}

} // namespace cep::runtime::aggregate

namespace cep::runtime::aggregate {

namespace {

std::int64_t satAdd(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

bool WindowAggregator::drainedBefore(std::int64_t before) const {
  const std::int64_t w = watermark_;
  if (w == std::numeric_limits<std::int64_t>::min()) {
    return false;
  }
  switch (spec_.window) {
  case WindowKind::Rolling:
    return w >= satAdd(before, spec_.size_ms) - 1;
  case WindowKind::Session:
    // A late event before `before` is late for every session once the watermark is at
    // before - 1 + gap - 1 + lateness, unless it joins one held that starts before
    // before - 1 + gap (the merge then starts before `before`: the old version's).
    return satAdd(before - 1, spec_.size_ms - 1 + spec_.lateness_ms) <= w &&
           !holdsWindowBefore(satAdd(before - 1, spec_.size_ms));
  case WindowKind::None:
    return !holdsWindowBefore(before);
  default:
    break;
  }
  // The latest start before `before` on the grid, and that window's end.
  std::int64_t unit = spec_.window == WindowKind::Hopping ? spec_.slide_ms : spec_.size_ms;
  std::int64_t last_start = floorDiv(before - 1, unit) * unit;
  return satAdd(satAdd(last_start, spec_.size_ms) - 1, spec_.lateness_ms) <= w;
}

} // namespace cep::runtime::aggregate

namespace cep::runtime::aggregate {

std::int64_t WindowAggregator::latestHeld() const {
  std::int64_t latest = std::numeric_limits<std::int64_t>::min();
  if (!columns_.empty()) { // the last millisecond of the latest pane
    latest = std::max(latest, geometry_.minEnd(columns_.back().pane()) - 1);
  }
  keys_->forEach([&](const KeyState &k) {
    for (const Session &s : k.cx().sessions) {
      latest = std::max(latest, s.last);
    }
    if (k.running()) {
      latest = std::max(latest, k.cx().last_time);
    }
  });
  return latest;
}

} // namespace cep::runtime::aggregate
