#include "runtime/time/watermarks.hpp"

#include "support/internal_error.hpp"
#include "support/time_arith.hpp"

#include <algorithm>

namespace cep::runtime {

Watermarks::Watermarks(std::size_t inputs, std::int64_t max_delay_ms, WatermarkMode mode)
    : inputs_(inputs, kNoWatermark), finished_(inputs, false), counted_(inputs, true),
      max_delay_ms_(max_delay_ms), mode_(mode) {
  CEP_ASSERT(max_delay_ms >= 0, "negative max delay");
  if (inputs == 0) {
    combined_ = kEndWatermark;
  }
  single_ = inputs == 1;
  // time - max_delay - 1 > kNoWatermark and <= kLatestDeadlineMs (else: the slow path only).
  if (__builtin_add_overflow(kNoWatermark, max_delay_ms, &fast_min_) ||
      __builtin_add_overflow(fast_min_, 1, &fast_min_)) {
    fast_min_ = kEndWatermark;
  }
  if (__builtin_add_overflow(cep::time::kLatestDeadlineMs, max_delay_ms, &fast_max_) ||
      __builtin_add_overflow(fast_max_, 1, &fast_max_)) {
    fast_max_ = kEndWatermark;
  }
}

void Watermarks::onEventSlow(std::uint32_t input, std::int64_t time) {
  // time - max_delay - 1, saturating: at the bottom of the int64 range means "no watermark yet",
  // and the top of it is the end of the input's (+infinity), which an event never reaches.
  std::int64_t watermark =
      cep::time::subSaturating(cep::time::subSaturating(time, max_delay_ms_), 1);
  if (watermark == kNoWatermark) {
    return;
  }
  raise(input, std::min(watermark, cep::time::kLatestDeadlineMs));
}

void Watermarks::onWatermark(std::uint32_t input, std::int64_t watermark) {
  // Only the end of the input is +infinity: an `@watermark` line stays below it.
  raise(input, std::min(watermark, cep::time::kLatestDeadlineMs));
}

void Watermarks::finish(std::uint32_t input) {
  finished_[input] = true;
  raise(input, kEndWatermark);
}

void Watermarks::restore(std::uint32_t input, std::int64_t watermark, bool finished) {
  inputs_[input] = watermark;
  finished_[input] = finished;
  recombine(true);
}

void Watermarks::setCounted(std::uint32_t input, bool counted) {
  if (counted_[input] == counted) {
    return;
  }
  counted_[input] = counted;
  left_out_ += counted ? std::size_t{0} - 1 : 1;
  single_ = inputs_.size() == 1 && left_out_ == 0;
  recombine(false);
}

void Watermarks::recombine(bool exact) {
  if (left_out_ == 0) {
    std::int64_t minimum =
        inputs_.empty() ? kEndWatermark : *std::min_element(inputs_.begin(), inputs_.end());
    combined_ = exact ? minimum : std::max(combined_, minimum);
    return;
  }
  bool any = false;
  bool waiting = false; // an input left out that has not ended
  std::int64_t minimum = kEndWatermark;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (counted_[i]) {
      any = true;
      minimum = std::min(minimum, inputs_[i]);
    } else if (!finished_[i]) {
      waiting = true;
    }
  }
  // Inputs that have ended do not make the end of time while one left out may still come.
  if (any && !(minimum == kEndWatermark && waiting)) {
    combined_ = exact ? minimum : std::max(combined_, minimum);
  }
}

void Watermarks::raise(std::uint32_t input, std::int64_t watermark) {
  std::int64_t &current = inputs_[input];
  if (watermark <= current) {
    return; // never back
  }
  // At or below the combined watermark (below it: an input counted again after it was left
  // out), raising it may raise the combined one.
  bool was_minimum = current <= combined_;
  current = watermark;
  if (was_minimum && counted_[input]) {
    recombine(false);
  }
}

} // namespace cep::runtime
