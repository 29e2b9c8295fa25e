// Decodes one JSON Lines record into an Event by Schema (spec §5), in one pass over the record's
// members and one allocation per event: records of a type and shape seen before by a typed plan
// (record_plan.hpp), other flat records of plain scalars by a scanner of our own (tried first
// against the previous record's shape), anything else and every rejection by simdjson On
// Demand; all give the same results.
//
// Type: an input bound to a type (`--input path:Type`) makes every record that type, and a
// record whose "@type" names another type is rejected; otherwise "@type" names it, and with
// exactly one declared type "@type" may be omitted. Fields are read by name, extra members are
// ignored (but must be valid JSON), a member named twice (after unescaping, extra members too)
// rejects the record with the name: `duplicate member "amount" (...)`. `int` is
// accepted where `float` is declared (never the reverse); `time` is integer epoch ms or an
// RFC 3339 string; `duration` integer ms; `bool` a JSON bool; `string` a JSON string. A field
// that is null or absent is null when declared nullable, else the record is rejected; so is a
// record that is not a JSON object or not JSON at all, has a wrong type or an unknown "@type".
// A record `{"@watermark": <epoch ms or RFC 3339 string>}` (no other members) is a watermark
// instruction. An event's time is its type's time field; when the type has none, or that field
// is null, the ingestion time the caller passes.
#pragma once

#include "runtime/event.hpp"
#include "runtime/io/line_reader.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>

namespace cep::runtime {

struct DecoderOptions {
  bool keep_raw = false; // keep the record text in the event block (`--with-events`)
  // Flat records of plain scalars are read by a scanner of our own (simdjson only for the rest
  // and for every rejection). False: simdjson for everything (tests compare the two).
  bool fast_path = true;
  // Records of a shape seen before are decoded by a plan specialised to their type and shape
  // (record_plan.hpp), which falls back to the above for every record that deviates from it.
  // False: no plans (tests compare the two). Only with fast_path.
  bool record_plans = true;
  // Event times (the type's time field) and `@watermark` values outside [time_min, time_max)
  // are rejected with the reason, so one absurd time cannot move the watermark to the end of
  // time. The decoder's default accepts every int64; `cep run` passes --event-time-range
  // (default [1970-01-01T00:00:00Z, 2200-01-01T00:00:00Z), support/time_arith.hpp).
  std::int64_t time_min = std::numeric_limits<std::int64_t>::min();
  std::int64_t time_max = std::numeric_limits<std::int64_t>::max();
};

// What the caller knows about a record besides its text.
struct RecordContext {
  std::uint32_t input = 0;
  std::uint64_t line = 0;          // 1-based; stored in the event (saturating at 2^32 - 1)
  std::uint64_t seq = 0;           // arrival order over the run
  std::int64_t ingestion_time = 0; // epoch ms; the time of events whose type has no time field
  std::int32_t bound_type = -1;    // type bound to the input on the command line; -1: none
};

enum class DecodeStatus : std::uint8_t { Event, Watermark, Rejected };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::Rejected;
  EventRef event;             // Event
  std::int64_t watermark = 0; // Watermark
  std::string_view reason;    // Rejected: valid until the decoder's next call
};

// How records were decoded, for tests and benchmarks.
struct DecoderCounts {
  std::uint64_t plan_events = 0;   // events decoded by a typed plan
  std::uint64_t tight_events = 0;  // of them, by a tight plan's shorter loop (record_plan.hpp)
  std::uint64_t layout_events = 0; // of them, by a tight plan's layout (fixed offsets)
  std::uint64_t plans_built = 0;
};

class JsonlDecoder {
public:
  // `schema` must outlive the decoder. It may hold any number of types (none: every event is
  // rejected) with at most kMaxFields fields each.
  explicit JsonlDecoder(const Schema &schema, DecoderOptions options = {});
  ~JsonlDecoder();
  JsonlDecoder(const JsonlDecoder &) = delete;
  JsonlDecoder &operator=(const JsonlDecoder &) = delete;

  // Decodes `text` in place: `capacity` bytes must be readable from text.data(), at least
  // text.size() + kLinePadding (what LineReader guarantees).
  DecodeResult decode(std::string_view text, std::size_t capacity, const RecordContext &context);
  DecodeResult decode(const Line &line, const RecordContext &context) {
    return decode(line.text, line.capacity, context);
  }
  // Copies `text` into a padded buffer first: for text without padding (tests, fuzzing).
  DecodeResult decodeCopy(std::string_view text, const RecordContext &context);

  DecoderCounts counts() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace cep::runtime
