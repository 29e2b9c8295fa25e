// The native matcher's containers against the standard library: InlineList (a key's runs, the
// first inline) against std::vector, TimerQueue (key timers: FIFO + heap) against sorting.
#include "runtime/native/run_list.hpp"
#include "runtime/native/timer_queue.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

using cep::runtime::native::InlineList;
using cep::runtime::native::TimerQueue;

namespace {

struct Item {
  std::int64_t deadline = 0;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t c = 0;
  std::uint32_t d = 0;
};

bool same(const InlineList<Item> &l, const std::vector<Item> &v) {
  if (l.size() != v.size() || l.empty() != v.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (l[i].deadline != v[i].deadline || l[i].a != v[i].a) {
      return false;
    }
  }
  return true;
}

} // namespace

TEST_CASE("inline list: the first element inline, more on the heap, as a vector", "[native]") {
  STATIC_REQUIRE(sizeof(InlineList<Item>) == 32);
  std::mt19937_64 rng(7);
  InlineList<Item> l;
  std::vector<Item> v;
  for (int step = 0; step < 20000; ++step) {
    Item x{static_cast<std::int64_t>(rng() % 1000), static_cast<std::uint32_t>(step)};
    switch (rng() % 8) {
    case 0:
    case 1:
    case 2:
      l.push_back(x);
      v.push_back(x);
      break;
    case 3: {
      std::vector<Item> more(rng() % 4, x);
      l.append(more.data(), more.size());
      v.insert(v.end(), more.begin(), more.end());
      break;
    }
    case 4: {
      std::size_t n = v.empty() ? 0 : rng() % (v.size() + 1);
      l.erasePrefix(n);
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
      break;
    }
    case 5: {
      std::size_t n = v.empty() ? 0 : rng() % (v.size() + 1);
      l.truncate(n);
      v.resize(n);
      break;
    }
    case 6: {
      InlineList<Item> moved(std::move(l)); // the moved-from list is empty and reusable
      CHECK(l.empty());
      l = moved;
      CHECK(same(moved, v));
      break;
    }
    default:
      if (rng() % 4 == 0) {
        l.reset();
        v.clear();
        CHECK(!l.onHeap());
      } else if (rng() % 2 == 0) {
        std::vector<Item> w(rng() % 3, x);
        l.assign(w.data(), w.size());
        v = w;
      }
      break;
    }
    REQUIRE(same(l, v));
    if (v.size() == 1 && !l.onHeap()) {
      CHECK(&l.front() == static_cast<const void *>(&l)); // inline: inside the list itself
    }
  }
}

TEST_CASE("timer queue: entries come out in deadline order, in order or not", "[native]") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 50; ++round) {
    TimerQueue<Item> q;
    std::vector<std::int64_t> ref; // the queued deadlines
    std::int64_t now = 0;
    for (int step = 0; step < 2000; ++step) {
      if (rng() % 3 != 0) {
        // Mostly rising (a run's start plus its bound), sometimes earlier (a run's later state).
        std::int64_t d = rng() % 5 == 0 ? now + static_cast<std::int64_t>(rng() % 600)
                                        : now + 600 + static_cast<std::int64_t>(rng() % 3);
        q.push(Item{d, static_cast<std::uint32_t>(step)});
        ref.push_back(d);
        now += static_cast<std::int64_t>(rng() % 5);
      } else if (!ref.empty()) {
        auto earliest = std::min_element(ref.begin(), ref.end());
        REQUIRE(q.top().deadline == *earliest);
        q.pop();
        ref.erase(earliest);
      }
      REQUIRE(q.size() == ref.size());
      if (step % 500 == 499) {
        // Dropping entries keeps the rest in order.
        std::int64_t cut = now;
        q.removeIf([&](const Item &t) { return t.deadline % 3 == 0 && t.deadline < cut; });
        ref.erase(std::remove_if(ref.begin(), ref.end(),
                                 [&](std::int64_t d) { return d % 3 == 0 && d < cut; }),
                  ref.end());
        std::int64_t seen = INT64_MAX;
        q.forEach([&](const Item &t) { seen = std::min(seen, t.deadline); });
        REQUIRE(seen == (ref.empty() ? INT64_MAX : *std::min_element(ref.begin(), ref.end())));
      }
    }
    std::sort(ref.begin(), ref.end());
    for (std::int64_t d : ref) {
      REQUIRE(!q.empty());
      REQUIRE(q.top().deadline == d);
      q.pop();
    }
    CHECK(q.empty());
  }
}
