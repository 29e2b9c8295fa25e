// A decoder specialised to one event type and one record shape (issues #15 §1, #13 §4): the
// bytes between the values (`{"type":`, `,"key":`, `,"ts":`, `}`, the "@type" member with its
// value) known in advance and compared eight bytes at a time, each value parsed by its field's
// kind straight into the slot it fills, and the event block built in one go. JsonlDecoder
// builds a plan from a record its scanner read (the shape that record had, the type it was) and
// tries its plans first on each record; a record that deviates in any way (another member
// order, members added or missing, spaces, escapes, nulls in a required field, another type,
// numbers the scanner does not read exactly, invalid UTF-8, an event time out of range, ...)
// is not decoded by the plan, and the generic decoder decides it, so that every event,
// rejection and reason is the same with or without plans. Plain C++, tables, no codegen.
//
// A plan whose shape names every field of its type and no other member (the usual flat
// record) is "tight": it decodes by a shorter loop over compact steps
// (no skipped members, no absent fields, a null test only where a field is nullable) into an
// event block whose slots are written once, with short strings copied as words. Same result.
#pragma once

#include "runtime/event.hpp"
#include "runtime/schema.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cep::runtime {

struct DecoderOptions;
struct RecordContext;

class RecordPlan {
public:
  static constexpr std::size_t kMaxSteps = 64;
  static constexpr std::size_t kMaxBytes = 1024;
  static constexpr std::uint32_t kSkip = UINT32_MAX; // a member that is no field of the type

  // Building, in record order: literal bytes, then a value, ..., then the closing literal.
  // False when the plan would be too large (the plan is then unusable: `valid()` is false).
  void start(const EventSchema &type, std::int32_t type_index, std::int32_t bound_type);
  bool appendLiteral(std::string_view bytes);
  bool addValue(std::uint32_t field); // a field's index, or kSkip
  bool finish();                      // the rest of the literal is the record's end

  bool valid() const { return valid_; }
  bool tight() const { return tight_; }
  bool sameAs(const RecordPlan &other) const;

  // The event, when `text` (with kLinePadding readable bytes after it) has exactly this plan's
  // shape and every value is what its field accepts; nullptr otherwise (nothing is changed: the
  // generic decoder decodes the record as if no plan had been tried).
  Event *decode(std::string_view text, const RecordContext &context,
                const DecoderOptions &options) const;

private:
  // What is read after a literal: a field's value by its kind, or any scalar (kSkip).
  enum class Action : std::uint8_t { Skip, Int, Float, String, Time, Bool };
  Event *decodeTight(std::string_view text, const RecordContext &context,
                     const DecoderOptions &options) const;
  Event *decodeAny(std::string_view text, const RecordContext &context,
                   const DecoderOptions &options) const;
  // A tight plan's step: the literal (its first 16 bytes as two masked words; a longer one,
  // such as one with "@type", word by word from bytes_), then a value.
  struct TightStep {
    std::uint64_t word[2];
    std::uint64_t mask[2];
    std::uint16_t size;
    std::uint16_t offset; // in bytes_
    Action action;
    std::uint8_t field;
    bool nullable;
  };
  struct Step {
    // Literals of up to 16 bytes (nearly all) compare as two masked words, longer ones
    // word by word from bytes_.
    std::uint64_t word[2];
    std::uint64_t mask[2];
    std::uint32_t literal_offset; // in bytes_
    std::uint32_t literal_size;
    std::uint32_t field; // or kSkip
    Action action;
    bool nullable;
  };
  const EventSchema *type_ = nullptr;
  std::int32_t type_index_ = -1;
  std::int32_t bound_type_ = -1; // the context's bound type the plan was built for
  bool valid_ = false;
  bool literals_non_ascii_ = false;
  std::uint64_t absent_ = 0;  // nullable fields the shape does not name: always null
  std::uint64_t named_ = 0;   // fields the shape names
  std::uint64_t strings_ = 0; // fields of kind string
  std::uint32_t step_count_ = 0;
  std::uint32_t literal_start_ = 0; // building: where the pending literal starts
  std::uint32_t byte_count_ = 0;
  Step steps_[kMaxSteps];
  Step close_{}; // the literal after the last value, to the record's end
  bool tight_ = false;
  std::uint32_t field_count_ = 0;
  std::uint32_t string_count_ = 0;
  std::uint8_t string_fields_[kMaxFields]; // the string fields, in declaration order
  TightStep tight_steps_[kMaxSteps];
  char bytes_[kMaxBytes + 16]; // the literals back to back, then 16 zero bytes (word loads)
};

} // namespace cep::runtime
