#include "runtime/io/record_plan.hpp"

#include "runtime/io/block_strings.hpp"
#include "runtime/io/json_scalars.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/utf8.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

namespace cep::runtime {

using json_scan::equalWords;
using json_scan::isDigit;
using json_scan::Number;
using json_scan::scanNumber;
using json_scan::scanPlainString;

namespace {

// Any scalar the generic scanner reads (the value of a member that is no field of the type).
bool skipScalar(const char *&p, const char *end, bool &non_ascii) {
  char c = *p;
  if (c == '"') {
    ++p;
    std::string_view body;
    return scanPlainString(p, end, body, non_ascii);
  }
  if (c == '-' || isDigit(c)) {
    Number number;
    return scanNumber(p, end, number);
  }
  if (c == 't' && end - p >= 4 && std::memcmp(p, "true", 4) == 0) {
    p += 4;
    return true;
  }
  if (c == 'f' && end - p >= 5 && std::memcmp(p, "false", 5) == 0) {
    p += 5;
    return true;
  }
  if (c == 'n' && end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
    p += 4;
    return true;
  }
  return false;
}

// An integer the generic decoder takes for an int, duration or time field, eight digits at a
// time: at most 18 digits, no leading zero, not -0, not followed by a fraction or exponent.
// The digits may run past the record's end (into its padding): then the literal after the value
// does not match and the plan gives up.
[[gnu::always_inline]] inline bool scanInteger(const char *&p, Slot &slot) {
  static constexpr std::uint64_t kPowers[9] = {1,      10,      100,      1000,     10000,
                                               100000, 1000000, 10000000, 100000000};
  const char *q = p;
  const bool negative = *q == '-';
  q += negative;
  const char first = *q;
  std::uint64_t value = 0;
  std::size_t total = 0;
  for (int round = 0; round < 3; ++round) {
    std::uint64_t chunk;
    std::memcpy(&chunk, q, 8);
    std::uint64_t others = json_scan::nonDigits(chunk);
    auto run = static_cast<std::size_t>(others == 0 ? 8 : std::countr_zero(others) / 8);
    if (run == 0) {
      break;
    }
    if (run < 8) {
      // The digits moved to the top bytes, '0's below them: the same value.
      chunk = (chunk << (64 - 8 * run)) | (json_scan::kAsciiZeros >> (8 * run));
    }
    value = value * kPowers[run] + json_scan::parseEightDigits(chunk);
    q += run;
    total += run;
    if (run < 8) {
      break;
    }
  }
  if (total == 0 || total > 18 || (first == '0' && total > 1) || (negative && value == 0) ||
      *q == '.' || *q == 'e' || *q == 'E') {
    return false;
  }
  slot.i = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
  p = q;
  return true;
}

// A string field's value in the record (no escapes): where and how long.
struct Piece {
  const char *data;
  std::size_t size;
};

} // namespace

void RecordPlan::start(const EventSchema &type, std::int32_t type_index, std::int32_t bound_type) {
  type_ = &type;
  type_index_ = type_index;
  bound_type_ = bound_type;
  valid_ = type.fields.size() <= kMaxFields;
  tight_ = false;
  field_count_ = static_cast<std::uint32_t>(type.fields.size());
  string_count_ = 0;
  literals_non_ascii_ = false;
  absent_ = 0;
  named_ = 0;
  step_count_ = 0;
  strings_ = 0;
  close_ = Step{};
  literal_start_ = 0;
  byte_count_ = 0;
  for (Layout &layout : layouts_) {
    layout.size = Layout::kNone;
  }
  layout_misses_ = 0;
  layout_credit_ = 64;
}

bool RecordPlan::appendLiteral(std::string_view bytes) {
  if (!valid_ || bytes.size() > kMaxBytes - byte_count_) {
    valid_ = false;
    return false;
  }
  std::memcpy(bytes_ + byte_count_, bytes.data(), bytes.size());
  for (char c : bytes) {
    literals_non_ascii_ |= static_cast<unsigned char>(c) >= 0x80;
  }
  byte_count_ += static_cast<std::uint32_t>(bytes.size());
  return true;
}

bool RecordPlan::addValue(std::uint32_t field) {
  if (!valid_ || step_count_ == kMaxSteps) {
    valid_ = false;
    return false;
  }
  Step step{};
  step.literal_offset = literal_start_;
  step.literal_size = byte_count_ - literal_start_;
  step.field = field;
  step.action = Action::Skip;
  if (field != kSkip) {
    std::uint64_t bit = std::uint64_t{1} << field;
    if (field >= type_->fields.size() || (named_ & bit) != 0) {
      valid_ = false; // a field named twice: the generic decoder's business
      return false;
    }
    named_ |= bit;
    const FieldSchema &schema = type_->fields[field];
    step.nullable = schema.nullable;
    switch (schema.kind) {
    case FieldKind::Int:
    case FieldKind::Duration:
      step.action = Action::Int;
      break;
    case FieldKind::Float:
      step.action = Action::Float;
      break;
    case FieldKind::String:
      step.action = Action::String;
      strings_ |= bit;
      break;
    case FieldKind::Time:
      step.action = Action::Time;
      break;
    case FieldKind::Bool:
      step.action = Action::Bool;
      break;
    }
  }
  steps_[step_count_++] = step;
  literal_start_ = byte_count_;
  return true;
}

bool RecordPlan::finish() {
  if (!valid_) {
    return false;
  }
  close_.literal_offset = literal_start_;
  close_.literal_size = byte_count_ - literal_start_;
  close_.field = kSkip;
  std::memset(bytes_ + byte_count_, 0, 16);
  for (std::size_t i = 0; i < type_->fields.size(); ++i) {
    if ((named_ >> i) & 1U) {
      continue;
    }
    if (!type_->fields[i].nullable) {
      valid_ = false; // the record would be rejected: no plan for it
      return false;
    }
    absent_ |= std::uint64_t{1} << i;
  }
  // Each literal's first 16 bytes as two words and masks (little-endian loads).
  auto words = [&](Step &step) {
    for (std::size_t w = 0; w < 2; ++w) {
      std::size_t from = w * 8;
      std::size_t n =
          step.literal_size > from ? std::min<std::size_t>(8, step.literal_size - from) : 0;
      std::memcpy(&step.word[w], bytes_ + step.literal_offset + from, 8);
      step.mask[w] = n == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
      step.word[w] &= step.mask[w];
    }
  };
  for (std::uint32_t i = 0; i < step_count_; ++i) {
    words(steps_[i]);
  }
  words(close_);
  // Tight: every field named, no other member.
  tight_ = std::endian::native == std::endian::little && absent_ == 0 && !literals_non_ascii_;
  for (std::uint32_t i = 0; i < step_count_ && tight_; ++i) {
    const Step &step = steps_[i];
    tight_ = step.action != Action::Skip;
    // The tight loop reads an integer's digits without looking at the byte after them: the
    // literal that follows must start with a byte that no JSON number goes on with (in a record
    // the scanner read it is ',', '}' or a space, so this only guards the reasoning).
    const Step &next = i + 1 < step_count_ ? steps_[i + 1] : close_;
    const char after = next.literal_size > 0 ? bytes_[next.literal_offset] : '\0';
    tight_ = tight_ && next.literal_size > 0 && !isDigit(after) && after != '.' && after != 'e' &&
             after != 'E' && after != '+' && after != '-';
    tight_steps_[i] = TightStep{{step.word[0], step.word[1]},
                                {step.mask[0], step.mask[1]},
                                static_cast<std::uint16_t>(step.literal_size),
                                static_cast<std::uint16_t>(step.literal_offset),
                                step.action,
                                static_cast<std::uint8_t>(step.field),
                                step.nullable};
  }
  string_count_ = 0;
  for (std::uint32_t i = 0; i < field_count_; ++i) {
    if ((strings_ >> i) & 1U) {
      string_fields_[string_count_++] = static_cast<std::uint8_t>(i);
    }
  }
  return true;
}

bool RecordPlan::sameAs(const RecordPlan &other) const {
  if (!valid_ || !other.valid_ || type_index_ != other.type_index_ ||
      bound_type_ != other.bound_type_ || step_count_ != other.step_count_ ||
      byte_count_ != other.byte_count_ || close_.literal_size != other.close_.literal_size ||
      std::memcmp(bytes_, other.bytes_, byte_count_) != 0) {
    return false;
  }
  for (std::uint32_t i = 0; i < step_count_; ++i) {
    const Step &a = steps_[i], &b = other.steps_[i];
    if (a.literal_offset != b.literal_offset || a.literal_size != b.literal_size ||
        a.field != b.field) {
      return false;
    }
  }
  return true;
}

// The literal of `step` at `p` (its bytes and at least one more are inside the record).
[[gnu::always_inline]] inline bool literalAt(const char *p, const std::uint64_t *word,
                                             const std::uint64_t *mask, std::uint32_t size,
                                             const char *bytes) {
  if (std::endian::native == std::endian::little && size <= 16) {
    std::uint64_t a;
    std::memcpy(&a, p, 8);
    if (((a ^ word[0]) & mask[0]) != 0) {
      return false;
    }
    if (size > 8) {
      std::memcpy(&a, p + 8, 8);
      return ((a ^ word[1]) & mask[1]) == 0;
    }
    return true;
  }
  return equalWords(p, bytes, size);
}

Event *RecordPlan::decode(std::string_view text, const RecordContext &context,
                          const DecoderOptions &options, bool try_layout, bool &by_layout) const {
  by_layout = false;
  if (context.bound_type != bound_type_) {
    return nullptr;
  }
  if (!tight_ || options.keep_raw) {
    return decodeAny(text, context, options);
  }
  Layout &layout = layouts_[text.size() % kLayouts];
  if (try_layout && layout.size == text.size()) {
    if (Event *event = decodeLayout(layout, text, context, options)) {
      layoutHit();
      by_layout = true;
      return event;
    }
  }
  Event *event = decodeTight(text, context, options);
  if (event != nullptr && text.size() <= kLayoutMaxSize) {
    // Learn the record's layout while learning pays (values whose widths never repeat would
    // make every record pay for it), else on every 64th record no layout took.
    if (layout_credit_ >= 16 || layout_misses_ % 64 == 0) {
      layout_credit_ -= 16;
      learnLayout(layout, text);
    }
    ++layout_misses_;
  }
  return event;
}

namespace {

// A signed integer (int, duration, time field) at `p`, as the scanner takes it: not -0, the
// digits as readDigits takes them. The byte after it is not looked at: in a tight plan the
// literal that follows starts with a byte no number goes on with (checked when it is built).
[[gnu::always_inline]] inline bool readInteger(const char *&p, Slot &slot) {
  const bool negative = *p == '-';
  p += negative;
  std::uint64_t magnitude;
  if (!json_scan::readDigits(p, magnitude) || (negative && magnitude == 0)) {
    return false;
  }
  const auto value = static_cast<std::int64_t>(magnitude);
  slot.i = negative ? -value : value;
  return true;
}

} // namespace

Event *RecordPlan::decodeTight(std::string_view text, const RecordContext &context,
                               const DecoderOptions &options) const {
  const char *p = text.data();
  const char *const end = p + text.size();
  bool non_ascii = false;
  std::uint64_t nulls = 0;
  std::size_t extra = 0;
  Slot values[kMaxFields];
  const char *string_data[kMaxFields];
  std::uint32_t string_size[kMaxFields];
  // Every read stays within the record's padding: a step starts inside the record (or at most
  // 24 bytes past its end, after digits read into the padding), compares at most 16 bytes
  // before it checks that the literal ends inside the record, and each value reader reads at
  // most 24 bytes or stops at `end`. A record whose values ran past its end fails the last
  // check (the closing literal exactly at the end).
  for (const TightStep *step = tight_steps_, *last = tight_steps_ + step_count_; step != last;
       ++step) {
    std::uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    if ((((a ^ step->word[0]) & step->mask[0]) | ((b ^ step->word[1]) & step->mask[1])) != 0) {
      return nullptr;
    }
    if (step->size > 16 && (end - p <= static_cast<std::ptrdiff_t>(step->size) ||
                            !equalWords(p + 16, bytes_ + step->offset + 16, step->size - 16))) {
      return nullptr;
    }
    p += step->size;
    if (p >= end) {
      return nullptr;
    }
    const std::uint32_t f = step->field;
    if (step->nullable && *p == 'n') {
      if (std::memcmp(p, "null", 4) != 0) {
        return nullptr;
      }
      p += 4;
      nulls |= std::uint64_t{1} << f;
      values[f].i = 0;
      continue;
    }
    switch (step->action) {
    case Action::Int:
      if (!readInteger(p, values[f])) {
        return nullptr;
      }
      break;
    case Action::String: {
      if (*p != '"') {
        return nullptr;
      }
      ++p;
      std::string_view body;
      if (!scanPlainString(p, end, body, non_ascii)) {
        return nullptr;
      }
      values[f].s = nullptr; // set when the block is built
      string_data[f] = body.data();
      string_size[f] = static_cast<std::uint32_t>(body.size());
      extra += stringBytes(body.size());
      break;
    }
    case Action::Time:
      if (*p == '"') {
        ++p;
        std::string_view body;
        if (!scanPlainString(p, end, body, non_ascii) || !parseRfc3339(body, values[f].i)) {
          return nullptr;
        }
      } else if (!readInteger(p, values[f])) {
        return nullptr;
      }
      break;
    case Action::Float: {
      if (*p != '-' && !isDigit(*p)) {
        return nullptr;
      }
      Number number;
      if (!scanNumber(p, end, number)) {
        return nullptr;
      }
      values[f].f = number.is_float ? number.f : static_cast<double>(number.i);
      break;
    }
    case Action::Bool:
      values[f].i = 0;
      if (std::memcmp(p, "true", 4) == 0) {
        values[f].b = true;
        p += 4;
      } else if (std::memcmp(p, "false", 5) == 0) {
        p += 5;
      } else {
        return nullptr;
      }
      break;
    case Action::Skip:
      return nullptr; // never in a tight plan
    }
  }
  if (end - p != static_cast<std::ptrdiff_t>(close_.literal_size) ||
      !literalAt(p, close_.word, close_.mask, close_.literal_size,
                 bytes_ + close_.literal_offset)) {
    return nullptr;
  }
  if (non_ascii && utf8ValidPrefix(text) != text.size()) {
    return nullptr;
  }
  const std::int32_t time_field = type_->time_field;
  const bool has_time = time_field >= 0 && !((nulls >> time_field) & 1U);
  if (has_time) {
    std::int64_t time = values[time_field].i;
    if (time < options.time_min || (time >= options.time_max &&
                                    options.time_max != std::numeric_limits<std::int64_t>::max())) {
      return nullptr; // the generic decoder says why
    }
  }

  // Every slot once (null ones 0, as allocateEvent leaves them), then the strings in
  // declaration order: the generic decoder's layout.
  Event *event = allocateEventUnset(static_cast<std::uint32_t>(type_index_), field_count_, extra);
  Slot *slots = event->slots();
  for (std::uint32_t i = 0; i < field_count_; ++i) {
    slots[i] = values[i];
  }
  char *cursor = extraBegin(event);
  for (std::uint32_t k = 0; k < string_count_; ++k) {
    const std::uint32_t i = string_fields_[k];
    if ((nulls >> i) & 1U) {
      continue;
    }
    putString(cursor, string_data[i], string_size[i]);
    slots[i].s = reinterpret_cast<const StringRef *>(cursor);
    cursor += stringBytes(string_size[i]);
  }
  event->nulls = nulls;
  event->time = has_time ? values[time_field].i : context.ingestion_time;
  event->seq = context.seq;
  event->input = context.input;
  event->line = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(context.line, std::numeric_limits<std::uint32_t>::max()));
  return event;
}

Event *RecordPlan::decodeAny(std::string_view text, const RecordContext &context,
                             const DecoderOptions &options) const {
  const char *p = text.data();
  const char *const end = p + text.size();
  bool non_ascii = literals_non_ascii_;
  std::uint64_t nulls = absent_;
  std::size_t extra = options.keep_raw ? text.size() : 0;
  Slot values[kMaxFields];   // only the fields read are set
  Piece strings[kMaxFields]; // likewise
  for (std::uint32_t s = 0; s < step_count_; ++s) {
    const Step &step = steps_[s];
    if (end - p <= static_cast<std::ptrdiff_t>(step.literal_size) ||
        !literalAt(p, step.word, step.mask, step.literal_size, bytes_ + step.literal_offset)) {
      return nullptr;
    }
    p += step.literal_size;
    const std::uint32_t f = step.field;
    if (*p == 'n' && step.action != Action::Skip) {
      if (!step.nullable || end - p < 4 || std::memcmp(p, "null", 4) != 0) {
        return nullptr;
      }
      p += 4;
      nulls |= std::uint64_t{1} << f;
      continue;
    }
    switch (step.action) {
    case Action::Skip:
      if (!skipScalar(p, end, non_ascii)) {
        return nullptr;
      }
      break;
    case Action::Int:
      if (!scanInteger(p, values[f])) {
        return nullptr;
      }
      break;
    case Action::Time:
      if (*p == '"') {
        ++p;
        std::string_view body;
        if (!scanPlainString(p, end, body, non_ascii) || !parseRfc3339(body, values[f].i)) {
          return nullptr;
        }
      } else if (!scanInteger(p, values[f])) {
        return nullptr;
      }
      break;
    case Action::Float: {
      if (*p != '-' && !isDigit(*p)) {
        return nullptr;
      }
      Number number;
      if (!scanNumber(p, end, number)) {
        return nullptr;
      }
      values[f].f = number.is_float ? number.f : static_cast<double>(number.i);
      break;
    }
    case Action::String: {
      if (*p != '"') {
        return nullptr;
      }
      ++p;
      std::string_view body;
      if (!scanPlainString(p, end, body, non_ascii)) {
        return nullptr;
      }
      strings[f] = Piece{body.data(), body.size()};
      extra += stringBytes(body.size());
      break;
    }
    case Action::Bool:
      values[f].i = 0;
      if (end - p >= 4 && std::memcmp(p, "true", 4) == 0) {
        values[f].b = true;
        p += 4;
      } else if (end - p >= 5 && std::memcmp(p, "false", 5) == 0) {
        values[f].b = false;
        p += 5;
      } else {
        return nullptr;
      }
      break;
    }
  }
  if (end - p != static_cast<std::ptrdiff_t>(close_.literal_size) ||
      !literalAt(p, close_.word, close_.mask, close_.literal_size,
                 bytes_ + close_.literal_offset)) {
    return nullptr;
  }
  if (non_ascii && utf8ValidPrefix(text) != text.size()) {
    return nullptr;
  }
  const std::int32_t time_field = type_->time_field;
  const bool has_time = time_field >= 0 && !((nulls >> time_field) & 1U);
  if (has_time) {
    std::int64_t time = values[time_field].i;
    if (time < options.time_min || (time >= options.time_max &&
                                    options.time_max != std::numeric_limits<std::int64_t>::max())) {
      return nullptr; // the generic decoder says why
    }
  }

  // One allocation: header, slots, strings (in declaration order), raw record; as the generic
  // decoder builds it.
  const auto field_count = static_cast<std::uint32_t>(type_->fields.size());
  Event *event = allocateEvent(static_cast<std::uint32_t>(type_index_), field_count, extra);
  Slot *slots = event->slots();
  const std::uint64_t present = named_ & ~nulls;
  for (std::uint64_t rest = present & ~strings_; rest != 0; rest &= rest - 1) {
    auto i = static_cast<std::uint32_t>(std::countr_zero(rest));
    slots[i] = values[i];
  }
  char *cursor = extraBegin(event);
  for (std::uint64_t rest = present & strings_; rest != 0; rest &= rest - 1) {
    auto i = static_cast<std::uint32_t>(std::countr_zero(rest));
    auto *ref = reinterpret_cast<StringRef *>(cursor);
    ref->size = static_cast<std::uint32_t>(strings[i].size);
    std::memcpy(cursor + offsetof(StringRef, data), strings[i].data, strings[i].size);
    slots[i].s = ref;
    cursor += stringBytes(strings[i].size);
  }
  event->nulls = nulls;
  if (options.keep_raw) {
    std::memcpy(cursor, text.data(), text.size());
    event->raw = cursor;
    event->raw_size = static_cast<std::uint32_t>(text.size());
  }
  event->time = has_time ? slots[time_field].i : context.ingestion_time;
  event->seq = context.seq;
  event->input = context.input;
  event->line = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(context.line, std::numeric_limits<std::uint32_t>::max()));
  return event;
}

} // namespace cep::runtime
