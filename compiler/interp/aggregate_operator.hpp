// The interpreter's engine for an aggregate (spec §8): one operator per `aggregate` declaration,
// run by the driver beside the patterns' matchers (runtime/engine/operator_set.hpp). It
// evaluates the plan's typed expressions (compiler/aggregate/plan.hpp) with the reference
// evaluator (eval.hpp): the step's condition, the key, the computed row slots, `having` and the
// emit values over the accumulators; and drives the reference window runtime
// (runtime/aggregate/reference.hpp, every event kept, each window recomputed: the oracle).
//
// It is a runtime::Matcher, so the driver needs no second interface: advanceTime(t) (before the
// events of time t) is the aggregator's advance(t - 1), advanceWatermark(W) its advance(W),
// onEvent an event of the step, onLateEvent a late one (counted within `lateness`, else false:
// the late output), finish() the watermark at +infinity. Its records sort with the patterns'
// by MatchOutput::before (docs/semantics.md §6, §12): a record fired by the watermark has the
// completion time end - 1 (time-driven), a rolling/none record or a revision written at an
// event that event's time and arrival; then operator id, then window start.
//
// Snapshots are the native operator's format (runtime/aggregate/snapshot_format.hpp: CEPAGGOP
// around the window runtime's CEPASNAP), the same bytes for the same input, so `cep run
// --snapshot-after` under one engine resumes under the other. What a pattern matcher has and
// this has not (yet): state export, migration and draining throw std::runtime_error naming the
// aggregate (`cep serve` refuses aggregates before anything runs); nextTimer() is kEndOfTime
// (under --time processing, windows fire at the next event or at the end).
//
//   aggregate::AggregatePlan plan = aggregate::planAggregate(program, 0);
//   std::unique_ptr<runtime::Matcher> op = makeAggregateOperator(program, std::move(plan), {});
//   operators.add(program.patterns.size() + 0, op.get());   // after the patterns
#pragma once

#include "compiler/aggregate/plan.hpp"
#include "lang/typed.hpp"
#include "runtime/matcher.hpp"

#include <memory>

namespace cep::compiler::interp {

// `program` must outlive the operator. MatcherOptions: with_events ("@events" with the step's
// records, at most 1,000, else "@events_omitted") and version are used; the state bounds are
// for patterns (an aggregate's state is bounded by `ttl`).
std::unique_ptr<runtime::Matcher> makeAggregateOperator(const lang::typed::Program &program,
                                                        aggregate::AggregatePlan plan,
                                                        const runtime::MatcherOptions &options);

} // namespace cep::compiler::interp
