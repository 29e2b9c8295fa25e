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
//
// A tight plan also keeps a few layouts for short records (record_layout.cpp): the record of
// its shape with every value at the offset and of the width the last such record had, kept
// per record length (length % kLayouts). A record of that length is checked against the layout's
// literal bytes a word at a time and its values read at their known offsets with their known widths
// (no scanning, no dispatch per member, the block's size known in advance); anything else in it
// sends the record to the tight loop, which then learns its layout. Same result again.
#pragma once

#include "runtime/event.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/schema.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cep::runtime {

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
  // `by_layout` is set when a layout decoded it; `try_layout` false: the caller has just tried
  // decodeByLayout.
  Event *decode(std::string_view text, const RecordContext &context, const DecoderOptions &options,
                bool try_layout, bool &by_layout) const;
  // The event when a layout of the plan takes the record; nullptr otherwise (then decode()).
  Event *decodeByLayout(std::string_view text, const RecordContext &context,
                        const DecoderOptions &options) const {
    const Layout &layout = layouts_[text.size() % kLayouts];
    if (layout.size != text.size() || context.bound_type != bound_type_) {
      return nullptr;
    }
    Event *event = decodeLayout(layout, text, context, options);
    if (event != nullptr) {
      layoutHit();
    }
    return event;
  }

  // Layouts: records of up to kLayoutMaxSize bytes, kLayouts kept per plan.
  static constexpr std::size_t kLayoutMaxSize = 64;
  static constexpr std::size_t kLayouts = 4;

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
  // A tight plan's record with its values at fixed offsets (record_layout.cpp).
  struct Layout {
    // Int8: up to 8 digits (one word), Int16: 9 to 16, Int18: 17 or 18; String8: a body of up
    // to 8 bytes, String: longer.
    enum class Kind : std::uint8_t { Int8, Int16, Int18, String8, String, Float, TimeText };
    struct Value {
      std::uint64_t last;   // the bytes of the value's last word that belong to it
      std::uint16_t offset; // of the digits (after a '-'), or of a string's body
      std::uint16_t width;
      std::uint16_t string_at; // a string's place among the block's extra bytes
      std::uint8_t field;
      Kind kind;
      std::uint8_t shift;   // 64 - 8 * the value's bytes in its last word
      std::uint8_t leading; // '0' when a leading '0' is not allowed (more than one digit)
      bool negative;        // a '-' before the digits (a literal byte of the layout)
    };
    struct Constant { // a null or bool value: part of the literal bytes
      std::uint8_t field;
      Slot value;
    };
    static constexpr std::size_t kWords = (kLayoutMaxSize + 7) / 8;
    // The record's length; kNone: no layout (never a record's length, not even an empty
    // record's).
    static constexpr std::size_t kNone = SIZE_MAX;
    std::size_t size = kNone;
    std::uint32_t word_count = 0;
    std::uint32_t value_count = 0;
    std::uint32_t constant_count = 0;
    std::uint32_t extra = 0; // the strings' bytes in the block
    std::uint64_t nulls = 0;
    std::uint64_t word[kWords];
    std::uint64_t mask[kWords]; // 0xFF on the literal bytes
    Value values[kMaxSteps];
    Constant constants[kMaxSteps];
  };
  bool learnLayout(Layout &layout, std::string_view text) const;
  void layoutHit() const {
    layout_misses_ = 0;
    layout_credit_ += layout_credit_ < 64;
  }
  Event *decodeLayout(const Layout &layout, std::string_view text, const RecordContext &context,
                      const DecoderOptions &options) const;

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
  char bytes_[kMaxBytes + 16];       // the literals back to back, then 16 zero bytes (word loads)
  mutable Layout layouts_[kLayouts]; // by record length % kLayouts
  mutable std::uint32_t layout_misses_ = 0; // tight records in a row no layout decoded
  // Learning a layout costs 16 credits, a record a layout decoded earns one (at most 64 kept);
  // without credit a layout is learned on every 64th miss only.
  mutable std::int32_t layout_credit_ = 64;
};

} // namespace cep::runtime
