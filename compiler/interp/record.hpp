// Output records (docs/semantics.md §7): one JSON object per match or timeout, keys in the order
// @stream @pattern [@version] @key @start @end [@timeout] <emit fields> [@events].
#pragma once

#include "compiler/interp/bindings.hpp"
#include "compiler/interp/eval.hpp"
#include "lang/typed.hpp"
#include "runtime/io/json_writer.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cep::compiler::interp {

// A value as written in a record: times RFC 3339 with milliseconds, durations integer ms, floats
// in their shortest exact form, null as null.
void writeValue(runtime::JsonWriter &w, const Value &v);

struct RecordShape {
  const lang::typed::Program *program = nullptr;
  const lang::typed::Pattern *pattern = nullptr;
  bool with_events = false; // add "@events": step name -> raw records bound to it
  std::string_view version; // not empty: add "@version" (runtime::MatcherOptions::version)
};

// Appends the record (no newline) to `out`. `emit` is the pattern's emit or timeout emit;
// `key_json` the key as written; `start`/`end` the @start/@end times.
void buildRecord(std::string &out, const RecordShape &shape, Evaluator &evaluator,
                 std::string_view key_json, const lang::typed::Emit &emit, std::int64_t start,
                 std::int64_t end, bool timeout, const BoundEvents &bound);

} // namespace cep::compiler::interp
