// The typed form of aggregate declarations (lang/typed.hpp, spec §8), the contract the window
// backends build on: the window in milliseconds, lateness and ttl, the key, the one step, and
// the distinct aggregate calls with the nodes that read them. Error messages are covered by the
// golden cases tests/golden/check/agg_*.
#include "check_fixture_test.hpp"
#include "lang/typed.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace cep::lang;
using cep::lang::test::check;
using cep::lang::test::Checked;
using typed::Op;

namespace {

const typed::Aggregate &onlyAggregate(const Checked &c) {
  INFO(c.rendered());
  REQUIRE(c.program.has_value());
  REQUIRE(c.program->aggregates.size() == 1);
  return c.program->aggregates[0];
}

const char *kEvents = R"(
event Payment {
    card:     string
    amount:   float
    items:    int
    merchant: string?
    ts:       time
}
)";

} // namespace

TEST_CASE("aggregate: each window kind with its durations in ms", "[check][aggregate]") {
  struct Case {
    const char *window;
    typed::WindowKind kind;
    std::int64_t size;
    std::int64_t slide;
  };
  const Case cases[] = {
      {"tumbling 1h", typed::WindowKind::Tumbling, 3600000, 0},
      {"hopping 1h every 15m", typed::WindowKind::Hopping, 3600000, 900000},
      {"cumulate 1d step 1h", typed::WindowKind::Cumulate, 86400000, 3600000},
      {"session gap 30s", typed::WindowKind::Session, 30000, 0},
      {"rolling 2 * 5m", typed::WindowKind::Rolling, 600000, 0},
      {"none", typed::WindowKind::None, 0, 0},
  };
  for (const Case &k : cases) {
    INFO(k.window);
    auto c = check(std::string(kEvents) + "aggregate a window " + k.window +
                   " { p: Payment }\nemit A { n: count(p) }\n");
    const typed::Aggregate &a = onlyAggregate(*c);
    CHECK(a.window.kind == k.kind);
    CHECK(a.window.size_ms == k.size);
    CHECK(a.window.slide_ms == k.slide);
    CHECK(!a.lateness_ms);
    CHECK(!a.ttl_ms);
    CHECK(a.key_fields.empty());
  }
}

TEST_CASE("aggregate: lateness, ttl, key and the one step", "[check][aggregate]") {
  auto c = check(std::string(kEvents) + R"(
aggregate late partition by card window tumbling 1h lateness 5m { p: Payment(amount > 1) }
emit Late { n: count(p) }
aggregate kept partition by card, items window none ttl 365d { q: Payment }
emit Kept { n: count(q) }
)");
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  REQUIRE(c->program->aggregates.size() == 2);
  const typed::Aggregate &late = c->program->aggregates[0];
  CHECK(late.name == "late");
  CHECK(late.lateness_ms == 300000);
  CHECK(!late.ttl_ms);
  CHECK(late.key_fields == std::vector<std::string>{"card"});
  CHECK(late.key_types[0] == Type::of(TypeKind::String));
  const std::int32_t payment = c->program->eventTypeIndex("Payment");
  REQUIRE(late.key_index.size() == c->program->event_types.size());
  CHECK(late.key_index[static_cast<std::size_t>(payment)] == std::vector<std::int32_t>{0});
  CHECK(late.step.name == "p");
  CHECK(late.step.event_type == payment);
  CHECK(late.step.looping());
  REQUIRE(late.step.condition);
  CHECK(late.step.condition->op == Op::Gt);
  CHECK(late.step.condition->args[0]->op == Op::Field);
  CHECK(late.step.condition->args[0]->step == typed::kCandidate);
  CHECK(!late.having);

  const typed::Aggregate &kept = c->program->aggregates[1];
  CHECK(kept.ttl_ms == 365LL * 86400000);
  CHECK(!kept.lateness_ms);
  CHECK(kept.key_fields == std::vector<std::string>{"card", "items"});
  CHECK(kept.key_index[static_cast<std::size_t>(payment)] == std::vector<std::int32_t>{0, 2});
  CHECK(!kept.step.condition);
}

TEST_CASE("aggregate: one accumulator per distinct call, read by every node that uses it",
          "[check][aggregate]") {
  auto c = check(std::string(kEvents) + R"(
aggregate a partition by card window tumbling 1h { p: Payment }
having count(p) > 3 and sum(p.amount) > 100
emit A {
    n:      count(p),
    total:  sum(p.amount),
    mean:   sum(p.amount) / count(p),
    cost:   sum(p.amount * p.items),
    shops:  count_distinct(p.merchant),
    named:  count(p.merchant),
    last:   last(p).card,
    first:  first(p).card,
}
)");
  const typed::Aggregate &a = onlyAggregate(*c);
  // having: count(p) #0, sum(p.amount) #1; emit adds the rest in order of first use.
  REQUIRE(a.calls.size() == 7);
  CHECK(a.calls[0].op == Op::Count);
  CHECK(!a.calls[0].arg);
  CHECK(a.calls[1].op == Op::Sum);
  REQUIRE(a.calls[1].arg);
  CHECK(a.calls[1].arg->op == Op::Field);
  CHECK(a.calls[1].arg->step == 0);
  CHECK(a.calls[2].op == Op::Sum);
  CHECK(a.calls[2].arg->op == Op::Mul);
  CHECK(a.calls[3].op == Op::CountDistinct);
  CHECK(a.calls[3].type == Type::of(TypeKind::Int));
  CHECK(a.calls[4].op == Op::CountOf);
  CHECK(a.calls[5].op == Op::Last);
  CHECK(a.calls[5].field == 0);
  CHECK(a.calls[6].op == Op::First);

  REQUIRE(a.having);
  CHECK(a.having->args[0]->args[0]->call == 0);
  CHECK(a.having->args[1]->args[0]->call == 1);
  const auto &fields = a.emit.fields;
  REQUIRE(fields.size() == 8);
  CHECK(fields[0].value->call == 0);
  CHECK(fields[1].value->call == 1);
  // sum(p.amount) / count(p): a plain division of two accumulator reads (count widened).
  CHECK(fields[2].value->op == Op::Div);
  CHECK(fields[2].value->call == -1);
  CHECK(fields[2].value->args[0]->call == 1);
  CHECK(fields[2].value->args[1]->op == Op::Cast);
  CHECK(fields[2].value->args[1]->args[0]->call == 0);
  CHECK(fields[3].value->call == 2);
  CHECK(fields[4].value->call == 3);
  CHECK(fields[5].value->call == 4);
  CHECK(fields[6].value->call == 5);
  CHECK(fields[7].value->call == 6);
}

TEST_CASE("aggregate: result types, as Flink SQL over a window that is never empty",
          "[check][aggregate]") {
  auto c = check(std::string(kEvents) + R"(
aggregate a window rolling 1h { p: Payment }
emit A {
    n:        count(p),
    distinct: count_distinct(p.merchant),
    si:       sum(p.items),
    sf:       sum(p.amount),
    av:       avg(p.items),
    lo:       min(p.ts),
    hi:       max(p.merchant),
    f:        first(p).amount,
    l:        last(p).merchant,
}
)");
  const typed::Aggregate &a = onlyAggregate(*c);
  const auto &f = a.emit.fields;
  REQUIRE(f.size() == 9);
  CHECK(f[0].value->type == Type::of(TypeKind::Int));
  CHECK(f[1].value->type == Type::of(TypeKind::Int));
  CHECK(f[2].value->type == Type::of(TypeKind::Int));
  CHECK(f[3].value->type == Type::of(TypeKind::Float));
  CHECK(f[4].value->type == Type::of(TypeKind::Float)); // avg of int is float, never null here
  CHECK(f[5].value->type == Type::of(TypeKind::Time));
  CHECK(f[6].value->type == Type::of(TypeKind::String, true)); // null when every value is
  CHECK(f[7].value->type == Type::of(TypeKind::Float));
  CHECK(f[8].value->type == Type::of(TypeKind::String, true));
}

TEST_CASE("aggregate: patterns beside aggregates are unaffected", "[check][aggregate]") {
  auto c = check(std::string(kEvents) + R"(
pattern big { p: Payment(amount > 100) }
emit Big { card: p.card }
aggregate hourly partition by card window tumbling 1h { p: Payment }
emit Hourly { n: count(p) }
)");
  INFO(c->rendered());
  REQUIRE(c->program.has_value());
  REQUIRE(c->program->patterns.size() == 1);
  REQUIRE(c->program->aggregates.size() == 1);
  CHECK(c->program->patterns[0].name == "big");
  CHECK(c->program->streams.size() == 2);
  CHECK(c->program->aggregates[0].emit.stream == 1);
}
