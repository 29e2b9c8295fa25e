// The aggregate IR (compiler/aggregate/plan.hpp) and the engines' aggregate operators
// (compiler/interp/aggregate_operator.hpp, runtime/native/native_aggregate.hpp), tag [aggplan]:
// row slots and accumulators, the verifier, declaration order over patterns and aggregates
// (operator indices), and the operators' two advances and late events.
#include "compiler/aggregate/plan.hpp"
#include "compiler/driver/pipeline.hpp"
#include "driver_fixture_test.hpp"
#include "support/internal_error.hpp"

#include <catch2/catch.hpp>

namespace {

namespace driver = cep::compiler::driver;
namespace agg = cep::compiler::aggregate;
namespace rt = cep::runtime::aggregate;
using cep::test::TempDir;

const char *kRules =
    "event Payment { card: string, shop: string?, amount: float, qty: int, ts: time }\n"
    "aggregate spend partition by card window tumbling 1m { p: Payment(amount > 0.0) }\n"
    "having count(p) >= 2\n"
    "emit Spend { n: count(p), total: sum(p.amount), value: sum(p.amount * p.qty),\n"
    "             mean: avg(p.amount * p.qty), shops: count_distinct(lower(p.shop)),\n"
    "             last_shop: last(p).shop }\n";

struct Checked {
  TempDir dir;
  driver::Pipeline pipeline;
  explicit Checked(const std::string &rules) {
    REQUIRE(pipeline.check({dir.write("rules.cep", rules)}));
  }
};

} // namespace

TEST_CASE("Aggregate plan: fields read directly, expressions in computed slots", "[aggplan]") {
  Checked c(kRules);
  const auto &program = c.pipeline.program();
  agg::AggregatePlan plan = agg::planAggregate(program, 0);
  CHECK(plan.name == "spend");
  CHECK(plan.field_count == 5);
  CHECK(plan.key_fields == std::vector<std::int32_t>{0});
  REQUIRE(plan.condition != nullptr);
  REQUIRE(plan.having != nullptr);
  // p.amount * p.qty once (two calls read it), lower(p.shop) once.
  REQUIRE(plan.computed.size() == 2);
  CHECK(plan.computed[0].kind == cep::runtime::FieldKind::Float);
  CHECK(plan.computed[1].kind == cep::runtime::FieldKind::String);
  CHECK(plan.rowSize() == 7);
  const auto &accs = plan.spec.accumulators;
  REQUIRE(accs.size() == program.aggregates[0].calls.size());
  // calls in order of first use: having's count(p), then the emit's.
  CHECK(accs[0].fn == rt::AggFn::Count);
  CHECK(accs[0].field == -1);
  CHECK(accs[1].fn == rt::AggFn::Sum);
  CHECK(accs[1].field == 2); // amount, the event's own slot
  CHECK(accs[1].field_name == "amount");
  CHECK(accs[2].field == 5);
  CHECK(accs[3].fn == rt::AggFn::Avg);
  CHECK(accs[3].field == 5); // the same computed slot
  CHECK(accs[4].fn == rt::AggFn::CountDistinct);
  CHECK(accs[4].field == 6);
  CHECK(accs[5].fn == rt::AggFn::Last);
  CHECK(accs[5].field == 1);
  CHECK(plan.spec.window == rt::WindowKind::Tumbling);
  CHECK(plan.spec.size_ms == 60'000);

  std::string text = agg::printPlan(program, plan);
  CHECK(text.find("slot 5 = p.amount * float(p.qty): float") != std::string::npos);
  CHECK(text.find("having count(p)#0 >= 2") != std::string::npos);
}

TEST_CASE("Aggregate plan: the verifier names what is inconsistent", "[aggplan]") {
  Checked c(kRules);
  const auto &program = c.pipeline.program();
  agg::AggregatePlan plan = agg::planAggregate(program, 0);
  CHECK_NOTHROW(agg::verifyPlan(program, plan));

  agg::AggregatePlan out_of_row = plan;
  out_of_row.spec.accumulators[1].field = 9;
  CHECK_THROWS_AS(agg::verifyPlan(program, out_of_row), cep::InternalError);

  agg::AggregatePlan missing = plan;
  missing.spec.accumulators.pop_back();
  CHECK_THROWS_WITH(agg::verifyPlan(program, missing),
                    Catch::Contains("accumulators are not one per call"));

  agg::AggregatePlan wrong_kind = plan;
  wrong_kind.spec.accumulators[1].kind = cep::runtime::FieldKind::Int;
  CHECK_THROWS_AS(agg::verifyPlan(program, wrong_kind), cep::InternalError);

  agg::AggregatePlan bad_key = plan;
  bad_key.key_fields = {7};
  CHECK_THROWS_WITH(agg::verifyPlan(program, bad_key), Catch::Contains("key field 7"));
}

TEST_CASE("Pipeline: aggregates run under both engines, in declaration order", "[aggplan]") {
  std::string rules = "event E { k: string, x: int, ts: time }\n"
                      "aggregate first_one partition by k window none { e: E }\n"
                      "emit A { n: count(e) }\n"
                      "pattern p partition by k { a: E(x > 1) }\n"
                      "emit P { x: a.x }\n"
                      "aggregate last_one window none { e: E }\n"
                      "emit B { n: count(e) }\n";
  auto engine = GENERATE(driver::Engine::Interp, driver::Engine::Jit);
  Checked c(rules);
  CHECK(c.pipeline.requireRunnable(engine));
  CHECK_FALSE(c.pipeline.diagnostics().hasErrors());
  std::vector<agg::AggregatePlan> plans = c.pipeline.aggregatePlans();
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].operator_index == 0);
  CHECK(plans[1].operator_index == 2);
  driver::MatcherSet set;
  std::string error;
  REQUIRE(c.pipeline.makeMatchers({engine, 2}, {}, set, error));
  REQUIRE(set.matchers.size() == 3);
  CHECK(set.matchers[0]->patternName() == "first_one"); // declared first
  CHECK(set.matchers[1]->patternName() == "p");
  CHECK(set.matchers[2]->patternName() == "last_one");
}

TEST_CASE("Aggregate operators (interp, jit): advanceTime(t) leaves time t open, "
          "advanceWatermark closes it, late events within lateness are taken",
          "[aggplan]") {
  TempDir dir;
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check(
      {dir.write("rules.cep", "event E { k: string, x: int, ts: time }\n"
                              "aggregate w partition by k window tumbling 1s lateness 1s\n"
                              "{ e: E(x > 0) }\n"
                              "emit W { n: count(e), total: sum(e.x) }\n")}));
  driver::MatcherSet set;
  std::string error;
  auto engine = GENERATE(driver::Engine::Interp, driver::Engine::Jit);
  REQUIRE(pipeline.makeMatchers({engine, 2}, {}, set, error));
  cep::runtime::Matcher &op = *set.matchers.at(0);
  auto events =
      cep::test::decodeEvents(dir.write("events.jsonl", "{\"k\":\"a\",\"x\":1,\"ts\":999}\n"
                                                        "{\"k\":\"a\",\"x\":2,\"ts\":500}\n"
                                                        "{\"k\":\"a\",\"x\":0,\"ts\":600}\n"
                                                        "{\"k\":\"a\",\"x\":4,\"ts\":100}\n"),
                              pipeline.schema());
  REQUIRE(events.size() == 4);
  std::vector<cep::runtime::MatchOutput> out;
  op.advanceTime(999, out);
  op.onEvent(events[0], out);
  op.advanceTime(1000, out); // before the events at 1000: the watermark is 999
  REQUIRE(out.size() == 1);  // [0, 1000) closes at watermark 999
  CHECK(out[0].time_driven);
  CHECK(out[0].completion_time == 999);
  CHECK(out[0].json.find("\"n\":1,\"total\":1}") != std::string::npos);
  out.clear();

  // Late (time <= the watermark) but within lateness: a revision, at once.
  CHECK(op.onLateEvent(events[1], out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].json.find("\"@revision\":1,\"n\":2,\"total\":3}") != std::string::npos);
  CHECK_FALSE(out[0].time_driven);
  CHECK(out[0].completion_seq == events[1]->seq);
  out.clear();
  // The step's condition is false: taken by nobody (the late output).
  CHECK_FALSE(op.onLateEvent(events[2], out));
  CHECK(out.empty());

  // The window is closed for good once the watermark reaches end - 1 + lateness.
  op.advanceWatermark(1999, out);
  CHECK(out.empty());
  CHECK_FALSE(op.onLateEvent(events[3], out));
  op.finish(out);
  CHECK(out.empty());
  CHECK(op.stats().matches == 2);
}
