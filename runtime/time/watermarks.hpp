// Event-time watermarks (spec §4). Each input has its own: the largest event time seen minus the
// allowed out-of-orderness minus 1 ms (Flink's bounded out-of-orderness), raised further by
// explicit `{"@watermark": ms}` lines; with WatermarkMode::Explicit only those lines (and the end
// of the input) move it. Watermarks never go back. A finished input's watermark is +infinity.
// The combined watermark is the minimum over the inputs; an event whose time is <= it is late.
// An input can be left out of the minimum (setCounted false: a Kafka partition not assigned to
// this process, or idle longer than --idle-timeout): the combined watermark is then the minimum
// over the others (but not +infinity while an input left out has not ended: inputs that ended
// do not end time for it), and never goes back when the input counts again (its events at or before
// the combined watermark are late, as in Flink).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace cep::runtime {

// No watermark yet (-infinity): nothing is late.
constexpr std::int64_t kNoWatermark = std::numeric_limits<std::int64_t>::min();
// A finished input: everything has passed.
constexpr std::int64_t kEndWatermark = std::numeric_limits<std::int64_t>::max();

enum class WatermarkMode : std::uint8_t { Auto, Explicit };

class Watermarks {
public:
  Watermarks(std::size_t inputs, std::int64_t max_delay_ms, WatermarkMode mode);

  // An accepted event of `input` (in Auto mode: raises the input's watermark to
  // time - max_delay - 1, saturating). Inline for the usual event: one input, its time far
  // from both ends of the range (no saturation), at most the one new watermark; the rest goes
  // through raise() as before, with the same result.
  void onEvent(std::uint32_t input, std::int64_t time) {
    if (mode_ != WatermarkMode::Auto) {
      return;
    }
    if (time > fast_min_ && time <= fast_max_) {
      std::int64_t watermark = time - max_delay_ms_ - 1;
      std::int64_t &current = inputs_[input];
      if (watermark <= current) {
        return; // never back
      }
      if (single_ && current <= combined_) { // raise(): recombine's minimum is this input's
        current = watermark;
        combined_ = watermark > combined_ ? watermark : combined_;
        return;
      }
    }
    onEventSlow(input, time);
  }
  // An explicit `@watermark` line of `input` (both modes); at most +infinity - 1 ms.
  void onWatermark(std::uint32_t input, std::int64_t watermark);
  // `input` has ended.
  void finish(std::uint32_t input);
  // Whether `input` counts in the combined watermark (all do at first). When none counts, the
  // combined watermark stays where it is.
  void setCounted(std::uint32_t input, bool counted);
  bool counted(std::uint32_t input) const { return counted_[input]; }
  // Sets `input` to a state a snapshot recorded (runtime/engine/run_snapshot.hpp), lower or
  // higher than the current one; the combined watermark follows.
  void restore(std::uint32_t input, std::int64_t watermark, bool finished);

  std::int64_t combined() const { return combined_; }
  std::int64_t of(std::uint32_t input) const { return inputs_[input]; }
  bool finished(std::uint32_t input) const { return finished_[input]; }
  bool isLate(std::int64_t time) const { return combined_ != kNoWatermark && time <= combined_; }
  std::size_t size() const { return inputs_.size(); }

private:
  void onEventSlow(std::uint32_t input, std::int64_t time);
  void raise(std::uint32_t input, std::int64_t watermark);
  // The minimum over the counted inputs, never below the current one (unless `exact`).
  void recombine(bool exact);

  std::vector<std::int64_t> inputs_;
  std::vector<bool> finished_;
  std::vector<bool> counted_;
  std::size_t left_out_ = 0; // inputs not counted
  std::int64_t max_delay_ms_;
  WatermarkMode mode_;
  std::int64_t combined_ = kNoWatermark;
  // onEvent's inline path: times in (fast_min_, fast_max_] need no saturation (their watermark
  // is above kNoWatermark and at most time::kLatestDeadlineMs); single_: one input, counted.
  std::int64_t fast_min_ = 0, fast_max_ = 0;
  bool single_ = false;
};

} // namespace cep::runtime
