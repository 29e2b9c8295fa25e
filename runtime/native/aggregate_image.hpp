// The contract between the LLVM backend and the native aggregate operator
// (runtime/native/native_aggregate.hpp), as runtime/native/image.hpp is for patterns: what a
// compiled `aggregate` declaration (spec §8) is once it has left the compiler.
//
//   AggregateImage  plain data: the step's event type, the key fields, the row (the event's own
//                   fields, then the computed slots), the window runtime's spec
//                   (runtime/aggregate/spec.hpp), the output shape and the symbols of the
//                   generated functions. Built by compiler/codegen/aggregate_codegen.hpp from the
//                   aggregate IR (compiler/aggregate/plan.hpp); written into .cepo artifacts.
//   AggregateCode   the loaded functions' addresses and the handle keeping their module loaded.
//
// The generated functions (C ABI; `ctx` is a BoundView with nothing bound: generated code only
// uses it for cep_rt_alloc):
//   condition  CepAggTestFn(event, ctx)           the step's condition on the candidate event
//   computed   CepValueFn(event, ctx, out)        row slot field_count + i: an accumulator's
//                                                 argument (`p.price * p.qty`) on the event
//   having     CepAggTestFn(values, ctx)          `having` over the accumulator values
//   emit       CepAggValueFn(values, ctx, out)    one emit field over the accumulator values
// `values` is a `const CepValue *` with one entry per accumulator (spec.accumulators, in order):
// null flag, then `b` (bool), `i` (int, time, duration), `f` (float) or (s, n) (string) by the
// accumulator's result kind (runtime::aggregate::resultKind).
//
// Example: `aggregate spend partition by card window tumbling 1h { p: Payment(amount > 0) }
//           having count(p) > 2 emit S { total: sum(p.amount * 2.0) }` (aggregate 0, after one
//           pattern) has the image
//   AggregateImage{ name "spend", index 0, operator_index 1, event_type Payment, field_count 3,
//                   key_fields {0}, computed {Float}, step_name "p", spec {tumbling 1h,
//                   {count, sum slot 3}}, emit {S: total (float, "cep.agg0.emit0")},
//                   condition_symbol "cep.agg0.cond", computed_symbols {"cep.agg0.row0"},
//                   having_symbol "cep.agg0.having" }
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/aggregate/spec.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" {

// A test over an event (the step's condition) or over the accumulator values (`having`):
// 1 when it holds (true, not null).
typedef std::uint8_t (*CepAggTestFn)(const void *event_or_values, const void *ctx);
// An emit field's value over the accumulator values.
typedef void (*CepAggValueFn)(const CepValue *values, const void *ctx, CepValue *out);

} // extern "C"

namespace cep::runtime::native {

struct AggregateImage {
  std::string name;                     // "@pattern"
  std::int32_t index = 0;               // declaration index among the program's aggregates
  std::int32_t operator_index = 0;      // position among patterns and aggregates (operator id)
  std::uint32_t event_type = 0;         // the step's event type (index into Schema::types)
  std::int32_t field_count = 0;         // its fields: row slots 0 .. field_count - 1
  std::vector<std::int32_t> key_fields; // `partition by`, in order (empty: "@key" null)
  std::vector<FieldKind> computed;      // row slots field_count + i
  std::string step_name;                // the key of "@events"
  aggregate::AggregateSpec spec;        // keep_events false (MatcherOptions::with_events sets it)
  EmitShape emit;
  std::string condition_symbol; // empty: every event of the type
  std::vector<std::string> computed_symbols;
  std::string having_symbol; // empty: every record is written

  std::int32_t rowSize() const { return field_count + static_cast<std::int32_t>(computed.size()); }
};

struct AggregateCode {
  CepAggTestFn condition = nullptr;
  std::vector<CepValueFn> computed;
  CepAggTestFn having = nullptr;
  std::vector<CepAggValueFn> emit; // parallel to AggregateImage::emit.fields
  std::shared_ptr<void> module;
};

} // namespace cep::runtime::native
