// The parts of an aggregate's output record (spec §8.2) that do not depend on the engine,
// written once for both operators (compiler/interp/aggregate_operator.cpp,
// runtime/native/native_aggregate.cpp), which write the emit fields in between:
//   {"@stream":..,"@pattern":..[,"@version":..],"@key":..,"@start":..,"@end":..[,"@revision":n]
//    , <emit fields> [,"@events":{"<step>":[records]} | ,"@events_omitted":n]}
//
//   JsonWriter w(json);
//   beginAggregateRecord(w, {stream, name, version}, r);
//   for (field : emit) { w.key(field.name); ... }
//   endAggregateRecord(w, r, with_events ? &events : nullptr, step_name);
#pragma once

#include "runtime/aggregate/result.hpp"
#include "runtime/event.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/matcher.hpp"

#include <cstdint>
#include <map>
#include <string_view>

namespace cep::runtime::aggregate {

struct RecordHeader {
  std::string_view stream;  // the emit's stream
  std::string_view name;    // the aggregate's, "@pattern"
  std::string_view version; // "@version" when not empty
};

// Opens the object and writes the members before the emit fields.
void beginAggregateRecord(JsonWriter &w, const RecordHeader &h, const WindowResult &r);
// `events` (the counted events by arrival, null without --with-events) gives "@events" with
// the window's events under the step's name when the result kept them, else "@events_omitted";
// then closes the object. A kept event missing from `events` is an internal error.
void endAggregateRecord(JsonWriter &w, const WindowResult &r,
                        const std::map<std::uint64_t, EventRef> *events,
                        std::string_view step_name);

// The output-order fields (docs/semantics.md §6) of a fired window's record: completed by the
// event `at`, or by the watermark that closes the window when `at` is null. json stays empty.
MatchOutput windowOutput(const WindowResult &r, const Event *at);

} // namespace cep::runtime::aggregate
