// A tight typed plan's fixed-offset path (record_plan.hpp, "layouts"): the record of the
// plan's shape with each value at the offset and of the width the last record of its length
// had. Checking a record against it is a masked compare per 8-byte word for every literal byte
// (member names, quotes, commas, a '-', `null`, `true`, `false`), then per value one or two
// loads at its offset: digits checked and read with a known count, string bodies checked for
// quotes, backslashes, control and non-ASCII bytes. It accepts a subset of what the tight loop
// accepts and reads the same values, so the events are the same byte for byte; every other
// record goes to the tight loop (and from there, if need be, to the generic decoder).
#include "runtime/io/block_strings.hpp"
#include "runtime/io/json_scalars.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/record_plan.hpp"
#include "runtime/time/time_format.hpp"

#include <bit>
#include <cstring>
#include <limits>

namespace cep::runtime {

using json_scan::isDigit;
using json_scan::kHighBits;
using json_scan::kOnes;
using json_scan::nonDigits;
using json_scan::Number;
using json_scan::parseDigitPrefix;
using json_scan::parseEightDigits;
using json_scan::scanNumber;
using json_scan::scanPlainString;

namespace {

std::uint64_t load8(const char *p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// The lowest `n` (1..8) bytes.
std::uint64_t lowBytes(unsigned n) {
  return ~std::uint64_t{0} >> (64 - 8 * n);
}

constexpr std::uint64_t kPowers[11] = {1,       10,       100,       1000,       10000,      100000,
                                       1000000, 10000000, 100000000, 1000000000, 10000000000};

// The value of the digits in the top bytes of `chunk` after `shift` (64 - 8 * their count):
// they move to the top, zeros below them.
[[gnu::always_inline]] inline std::uint64_t digitValues(std::uint64_t chunk, unsigned shift) {
  std::uint64_t values = (chunk & 0x0F0F0F0F0F0F0F0FULL) << shift;
  values = (values * 10 + (values >> 8)) & 0x00FF00FF00FF00FFULL;
  values = (values * 100 + (values >> 16)) & 0x0000FFFF0000FFFFULL;
  return (values * 10000 + (values >> 32)) & 0xFFFFFFFFULL;
}

// The high bit of each byte of `chunk` that a string body cannot hold as it is (quote,
// backslash, control, non-ASCII); the lowest flagged byte is exact, flags above it may not be.
[[gnu::always_inline]] inline std::uint64_t stopBytes(std::uint64_t chunk) {
  const std::uint64_t quote = chunk ^ (kOnes * '"');
  const std::uint64_t backslash = chunk ^ (kOnes * '\\');
  return (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
          ((chunk - kOnes * 0x20) & ~chunk) | chunk) &
         kHighBits;
}

// `width` bytes at `p` that a string body may hold as they are: no quote, backslash, control
// byte, nor any byte >= 0x80 (non-ASCII text goes to the tight loop, which validates UTF-8).
// Flags at or above a true stop may be spurious (borrows run upwards), but a range with a true
// stop always has its lowest one flagged, and one without has none.
[[gnu::always_inline]] inline bool plainBytes(const char *p, unsigned width) {
  for (unsigned at = 0; at < width; at += 8) {
    const std::uint64_t stops = stopBytes(load8(p + at));
    const unsigned n = width - at < 8 ? width - at : 8;
    if ((stops & lowBytes(n)) != 0) {
      return false;
    }
  }
  return true;
}

} // namespace

bool RecordPlan::learnLayout(Layout &layout, std::string_view text) const {
  layout.size = Layout::kNone;
  if (text.empty() || text.size() > kLayoutMaxSize) {
    return false;
  }
  const char *const base = text.data();
  const char *p = base;
  const char *const end = base + text.size();
  const auto words = static_cast<std::uint32_t>((text.size() + 7) / 8);
  // Every byte of the record a literal, then the values' bytes taken out.
  auto *bytes = reinterpret_cast<unsigned char *>(layout.word);
  auto *mask = reinterpret_cast<unsigned char *>(layout.mask);
  std::memset(layout.word, 0, sizeof layout.word);
  std::memset(layout.mask, 0, sizeof layout.mask);
  std::memcpy(bytes, base, text.size());
  std::memset(mask, 0xFF, text.size());
  auto variable = [&](const char *from, const char *to) {
    std::memset(mask + (from - base), 0, static_cast<std::size_t>(to - from));
  };
  layout.value_count = 0;
  layout.constant_count = 0;
  layout.nulls = 0;
  std::size_t widths[kMaxFields] = {};
  bool non_ascii = false;
  for (std::uint32_t s = 0; s < step_count_; ++s) {
    const TightStep &step = tight_steps_[s];
    p += step.size;
    if (p >= end) {
      return false;
    }
    const std::uint8_t f = step.field;
    if (step.nullable && *p == 'n') {
      p += 4; // `null`, as the tight loop read it
      layout.nulls |= std::uint64_t{1} << f;
      layout.constants[layout.constant_count++] = Layout::Constant{f, Slot{0}};
      continue;
    }
    Layout::Value value{};
    value.field = f;
    switch (step.action) {
    case Action::Int:
    case Action::Time: {
      if (step.action == Action::Time && *p == '"') { // an RFC 3339 time
        const char *body = ++p;
        std::string_view view;
        if (!scanPlainString(p, end, view, non_ascii)) {
          return false;
        }
        value.kind = Layout::Kind::TimeText;
        value.offset = static_cast<std::uint16_t>(body - base);
        value.width = static_cast<std::uint16_t>(view.size());
        variable(body, body + view.size());
        break;
      }
      value.negative = *p == '-';
      p += value.negative;
      const char *digits = p;
      std::uint64_t magnitude;
      if (!json_scan::readDigits(p, magnitude)) {
        return false;
      }
      value.offset = static_cast<std::uint16_t>(digits - base);
      value.width = static_cast<std::uint16_t>(p - digits);
      value.kind = value.width <= 8    ? Layout::Kind::Int8
                   : value.width <= 16 ? Layout::Kind::Int16
                                       : Layout::Kind::Int18;
      value.leading = value.width > 1 ? '0' : 0xFF; // no byte of a digit run is 0xFF
      variable(digits, p);
      break;
    }
    case Action::String: {
      const char *body = ++p;
      std::string_view view;
      if (!scanPlainString(p, end, view, non_ascii)) {
        return false;
      }
      value.kind = view.size() <= 8 ? Layout::Kind::String8 : Layout::Kind::String;
      value.offset = static_cast<std::uint16_t>(body - base);
      value.width = static_cast<std::uint16_t>(view.size());
      widths[f] = view.size();
      variable(body, body + view.size());
      break;
    }
    case Action::Float: {
      const char *number_start = p;
      Number number;
      if (!scanNumber(p, end, number)) {
        return false;
      }
      value.kind = Layout::Kind::Float;
      value.offset = static_cast<std::uint16_t>(number_start - base);
      value.width = static_cast<std::uint16_t>(p - number_start);
      variable(number_start, p);
      break;
    }
    case Action::Bool: {
      const bool truth = *p == 't';
      p += truth ? 4 : 5;
      Slot slot{0};
      slot.b = truth;
      layout.constants[layout.constant_count++] = Layout::Constant{f, slot};
      continue;
    }
    case Action::Skip:
      return false;
    }
    // The value's bytes in its last word (a string's, an integer's last 1..8 digits).
    unsigned tail = value.width == 0 ? 0 : (value.width - 1) % 8 + 1;
    if (value.kind == Layout::Kind::Int18) {
      tail = value.width - 16;
    }
    value.last = tail == 0 ? 0 : lowBytes(tail);
    value.shift = static_cast<std::uint8_t>(64 - 8 * (tail == 0 ? 8 : tail));
    layout.values[layout.value_count++] = value;
  }
  if (non_ascii || end - p != static_cast<std::ptrdiff_t>(close_.literal_size)) {
    return false;
  }
  // The strings' places in the block, in declaration order (the generic decoder's layout).
  std::uint32_t extra = 0;
  std::uint16_t at[kMaxFields] = {};
  for (std::uint32_t k = 0; k < string_count_; ++k) {
    const std::uint32_t i = string_fields_[k];
    if ((layout.nulls >> i) & 1U) {
      continue;
    }
    at[i] = static_cast<std::uint16_t>(extra);
    extra += static_cast<std::uint32_t>(stringBytes(widths[i]));
  }
  for (std::uint32_t v = 0; v < layout.value_count; ++v) {
    layout.values[v].string_at = at[layout.values[v].field];
  }
  layout.extra = extra;
  layout.word_count = words;
  layout.size = text.size();
  return true;
}

Event *RecordPlan::decodeLayout(const Layout &layout, std::string_view text,
                                const RecordContext &context, const DecoderOptions &options) const {
  const char *const base = text.data();
  std::uint64_t differ = 0;
  for (std::uint32_t k = 0; k < layout.word_count; ++k) {
    differ |= (load8(base + 8 * k) ^ layout.word[k]) & layout.mask[k];
  }
  if (differ != 0) {
    return nullptr;
  }
  Event *event =
      allocateEventUnset(static_cast<std::uint32_t>(type_index_), field_count_, layout.extra);
  Slot *slots = event->slots();
  char *strings = extraBegin(event);
  for (std::uint32_t c = 0; c < layout.constant_count; ++c) {
    slots[layout.constants[c].field] = layout.constants[c].value;
  }
  for (const Layout::Value *value = layout.values, *last = value + layout.value_count;
       value != last; ++value) {
    const char *p = base + value->offset;
    Slot &slot = slots[value->field];
    std::uint64_t magnitude;
    switch (value->kind) {
    case Layout::Kind::Int8: {
      const std::uint64_t chunk = load8(p);
      if ((nonDigits(chunk) & value->last) != 0 || (chunk & 0xFF) == value->leading) {
        goto fail;
      }
      magnitude = digitValues(chunk, value->shift);
      goto integer;
    }
    case Layout::Kind::Int16: {
      const std::uint64_t high = load8(p), low = load8(p + 8);
      if ((nonDigits(high) | (nonDigits(low) & value->last)) != 0 || (high & 0xFF) == '0') {
        goto fail;
      }
      magnitude =
          parseEightDigits(high) * kPowers[value->width - 8] + digitValues(low, value->shift);
      goto integer;
    }
    case Layout::Kind::Int18: {
      const std::uint64_t high = load8(p), middle = load8(p + 8), low = load8(p + 16);
      if ((nonDigits(high) | nonDigits(middle) | (nonDigits(low) & value->last)) != 0 ||
          (high & 0xFF) == '0') {
        goto fail;
      }
      magnitude = (parseEightDigits(high) * 100000000 + parseEightDigits(middle)) *
                      kPowers[value->width - 16] +
                  digitValues(low, value->shift);
      goto integer;
    }
    case Layout::Kind::String8: {
      if ((stopBytes(load8(p)) & value->last) != 0) {
        goto fail;
      }
      char *at = strings + value->string_at;
      putString(at, p, value->width);
      slot.s = reinterpret_cast<const StringRef *>(at);
      continue;
    }
    case Layout::Kind::String: {
      if (!plainBytes(p, value->width)) {
        goto fail;
      }
      char *at = strings + value->string_at;
      putString(at, p, value->width);
      slot.s = reinterpret_cast<const StringRef *>(at);
      continue;
    }
    case Layout::Kind::Float: {
      const char *q = p;
      Number number;
      if ((*q != '-' && !isDigit(*q)) || !scanNumber(q, base + text.size(), number) ||
          q != p + value->width) {
        goto fail;
      }
      slot.f = number.is_float ? number.f : static_cast<double>(number.i);
      continue;
    }
    case Layout::Kind::TimeText:
      if (!plainBytes(p, value->width) ||
          !parseRfc3339(std::string_view(p, value->width), slot.i)) {
        goto fail;
      }
      continue;
    }
  integer:
    if (value->negative) {
      if (magnitude == 0) {
        goto fail;
      }
      slot.i = -static_cast<std::int64_t>(magnitude);
    } else {
      slot.i = static_cast<std::int64_t>(magnitude);
    }
  }
  {
    const std::int32_t time_field = type_->time_field;
    const bool has_time = time_field >= 0 && !((layout.nulls >> time_field) & 1U);
    std::int64_t time = context.ingestion_time;
    if (has_time) {
      time = slots[time_field].i;
      if (time < options.time_min ||
          (time >= options.time_max &&
           options.time_max != std::numeric_limits<std::int64_t>::max())) {
        goto fail; // the generic decoder says why
      }
    }
    event->nulls = layout.nulls;
    event->time = time;
    event->seq = context.seq;
    event->input = context.input;
    event->line = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(context.line, std::numeric_limits<std::uint32_t>::max()));
    return event;
  }
fail:
  freeEvent(event);
  return nullptr;
}

} // namespace cep::runtime
