// The parts of an aggregate's output record (spec §8.2) that do not depend on the engine,
// written once for both operators (compiler/interp/aggregate_operator.cpp,
// runtime/native/native_aggregate.cpp), which write the emit fields in between:
//   {"@stream":..,"@pattern":..[,"@version":..],"@key":..,"@start":..,"@end":..[,"@revision":n]
//    , <emit fields> [,"@events":{"<step>":[records]} | ,"@events_omitted":n]}
// The bytes that are the same in every record of an operator (the members up to "@key", each
// emit field's `,"name":`) are encoded once, when the operator is made; a record appends them
// (a rolling window writes a record per event: no JSON writer state, no escaping per record).
//
//   RecordParts parts = recordParts({stream, name, version}, emit_field_names);   // once
//   beginAggregateRecord(json, parts, r);
//   for (i : emit) { json += parts.fields[i]; appendJson...(json, value_i); }
//   endAggregateRecord(json, r, with_events ? &events : nullptr, step_name);
#pragma once

#include "runtime/aggregate/result.hpp"
#include "runtime/event.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/matcher.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::aggregate {

struct RecordHeader {
  std::string_view stream;  // the emit's stream
  std::string_view name;    // the aggregate's, "@pattern"
  std::string_view version; // "@version" when not empty
};

// The constant bytes of an operator's records: `prefix` is
// `{"@stream":"S","@pattern":"N"[,"@version":"V"],"@key":`, fields[i] is `,"<name i>":`.
// The date part ("YYYY-MM-DDT") of the last day a time was written for, and the whole text of
// the last second (`"YYYY-MM-DDTHH:MM:SS.`): a rolling window writes a record per event, and
// most of them fall in the second of the one before.
struct DateCache {
  std::int64_t day = INT64_MIN;
  char date[11] = {};
  std::int64_t second = INT64_MIN;
  char text[26] = {};
};
// `start`/`end` cache the dates of "@start" and "@end" apart: the records of an operator mostly
// carry times of one day, and a window across midnight has its two on two days.
struct RecordParts {
  std::string prefix;
  std::vector<std::string> fields;
  mutable DateCache start;
  mutable DateCache end;
};
RecordParts recordParts(const RecordHeader &h, const std::vector<std::string_view> &field_names);

// The time as appendJsonTime writes it ("2026-01-05T10:00:00.000Z" with the quotes), the date
// from `cache` when it is the day of the last call with it.
void appendRecordTime(std::string &json, DateCache &cache, std::int64_t epoch_ms);

// The same text written at `p` (kRecordTimeChars bytes) when the time is in years 0000..9999,
// returning the end; null (nothing written) for other times (appendRecordTime writes them).
inline constexpr std::size_t kRecordTimeChars = 26;
char *writeRecordTime(char *p, DateCache &cache, std::int64_t epoch_ms);

// Opens the object and writes the members before the emit fields (appended to `json`).
void beginAggregateRecord(std::string &json, const RecordParts &parts, const WindowResult &r);
// `events` (the counted events by arrival, null without --with-events) gives "@events" with
// the window's events under the step's name when the result kept them, else "@events_omitted";
// then closes the object. A kept event missing from `events` is an internal error.
void endAggregateRecord(std::string &json, const WindowResult &r,
                        const std::map<std::uint64_t, EventRef> *events,
                        std::string_view step_name);

// The output-order fields (docs/semantics.md §6) of a fired window's record: completed by the
// event `at`, or by the watermark that closes the window when `at` is null. json stays empty.
MatchOutput windowOutput(const WindowResult &r, const Event *at);

} // namespace cep::runtime::aggregate
