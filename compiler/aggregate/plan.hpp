// The aggregate IR (spec §8): what one checked `aggregate` declaration (lang/typed.hpp
// typed::Aggregate) becomes before an engine runs it, beside the NFA IR of patterns. A plan holds
// the window runtime's spec (runtime/aggregate/spec.hpp), the step's event type and condition,
// the key fields, the row each accumulator reads (the step event's own fields, then the computed
// slots of expression arguments such as `sum(p.price * p.qty)`), `having` and the emit. Every
// engine runs the same plan: the interpreter (compiler/interp/aggregate_operator.hpp) evaluates
// its expressions with the reference evaluator; `cep explain --emit=agg` prints it.
//
// Example: `aggregate spend partition by card window tumbling 1h { p: Payment(amount > 0) }
//           having count(p) > 2 emit S { total: sum(p.amount * 2.0), top: max(p.amount) }`
// (Payment { card: string, amount: float, ts: time }) plans to
//   AggregatePlan{ name "spend", aggregate 0, event_type Payment (0), field_count 3,
//                  key_fields {0}, condition `$.amount > 0.0`,
//                  computed {slot 3: p.amount * 2.0 (float)},
//                  spec {tumbling, size 3600000, accumulators {count, sum slot 3 "p.amount * 2.0"
//                        float, max slot 1 "amount" float}},
//                  having `count(p)#0 > 2`, emit S }
//   AggregatePlan plan = planAggregate(program, 0);   // verified; throws InternalError if not
//   std::string text = printPlan(program, plan);      // `cep explain --emit=agg`
// The plan borrows the program's expressions: keep the program alive while the plan is used.
#pragma once

#include "lang/typed.hpp"
#include "runtime/aggregate/spec.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cep::compiler::aggregate {

// A row slot an engine computes per event of the step from an accumulator's argument: row slot
// `field_count + i` for computed[i].
struct ComputedSlot {
  const lang::typed::Expr *expr = nullptr; // Field(step 0, ...) reads the event being counted
  runtime::FieldKind kind = runtime::FieldKind::Int;
  std::string text; // the argument as source text (names the accumulator in snapshots)
};

struct AggregatePlan {
  std::string name;
  std::int32_t aggregate = -1; // index into Program::aggregates
  // Its position among the program's patterns and aggregates in declaration order (the
  // operator id under `cep run`); -1 until the driver sets it (compiler/driver/pipeline.hpp
  // aggregatePlans).
  std::int32_t operator_index = -1;
  const lang::typed::Aggregate *decl = nullptr;
  std::uint32_t event_type = 0;                 // the step's event type (schema index)
  std::int32_t field_count = 0;                 // its fields: row slots 0 .. field_count - 1
  std::vector<std::int32_t> key_fields;         // fields of event_type, in `partition by` order
  const lang::typed::Expr *condition = nullptr; // the step's condition; null: every event
  std::vector<ComputedSlot> computed;
  // accumulators[i] computes decl->calls[i]; its field is a row slot (-1 for count(p)).
  runtime::aggregate::AggregateSpec spec;
  const lang::typed::Expr *having = nullptr; // null: every record is written
  const lang::typed::Emit *emit = nullptr;

  std::int32_t rowSize() const { return field_count + static_cast<std::int32_t>(computed.size()); }
};

// The plan of program.aggregates[index], verified (verifyPlan).
AggregatePlan planAggregate(const lang::typed::Program &program, std::int32_t index);
// Every aggregate's plan, in declaration order.
std::vector<AggregatePlan> planAggregates(const lang::typed::Program &program);
// Throws InternalError naming the first inconsistency: accumulators not one per call, a slot
// out of the row, a row wider than the null mask (runtime::kMaxFields), a kind that does not
// match its call, a key field out of range, or a spec validateSpec refuses.
void verifyPlan(const lang::typed::Program &program, const AggregatePlan &plan);
// `cep explain --emit=agg`: the plan as text, one aggregate after another.
std::string printPlan(const lang::typed::Program &program, const AggregatePlan &plan);

} // namespace cep::compiler::aggregate
