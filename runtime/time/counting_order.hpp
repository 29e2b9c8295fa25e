// The order in which to apply several inputs' changes of "counts in the combined watermark"
// (Watermarks::setCounted, one input at a time) so that the end is that of changing them
// together. The combined watermark never goes back: an input counted alone before another one
// behind it would raise it past the other's watermark, and the other's events would be late
// (two Kafka partitions assigned at once, each restored from the changelog at its own
// watermark, the higher-numbered one behind: serve_loop's followCounts counted them in input
// order).
#pragma once

#include "runtime/time/watermarks.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace cep::runtime {

// `changes`: (input, counted) pairs; those that change nothing are dropped. Inputs that start
// counting come first, the lowest watermark first: the first of them brings the minimum of the
// counted set down to where the whole set's minimum is, and the others leave it there. Inputs
// that stop counting come after, which can only raise the minimum, to the final set's.
inline std::vector<std::pair<std::uint32_t, bool>>
countingOrder(const Watermarks &marks, std::vector<std::pair<std::uint32_t, bool>> changes) {
  changes.erase(std::remove_if(changes.begin(), changes.end(),
                               [&marks](const std::pair<std::uint32_t, bool> &change) {
                                 return marks.counted(change.first) == change.second;
                               }),
                changes.end());
  std::stable_sort(
      changes.begin(), changes.end(),
      [&marks](const std::pair<std::uint32_t, bool> &a, const std::pair<std::uint32_t, bool> &b) {
        if (a.second != b.second) {
          return a.second; // counted first
        }
        return a.second && marks.of(a.first) < marks.of(b.first);
      });
  return changes;
}

} // namespace cep::runtime
