// The interpreter's shared bindings (compiler/interp/bindings.hpp): prefix sharing between
// forked runs, reference counting of nodes and events, no leaks.
#include "compiler/interp/bindings.hpp"
#include "interp_fixture_test.hpp"

using namespace interp_test;
using cep::compiler::interp::BoundEvents;
using cep::compiler::interp::NodeCounter;
using cep::compiler::interp::NodeRef;

namespace {

const char *kProgram = R"(
event E { id: int, t: time }
pattern p { a: E -> b: E+ -> c: E }
emit Out { id: a.id }
)";

} // namespace

TEST_CASE("interp bindings: forks share their prefix and free it last", "[interp]") {
  auto c = compile(kProgram);
  EventMaker events(c->schema);
  NodeCounter counter;
  auto e1 = events.make(R"({"id":1,"t":1})");
  auto e2 = events.make(R"({"id":2,"t":2})");
  auto e3 = events.make(R"({"id":3,"t":3})");
  {
    NodeRef a = NodeRef::bind(e1, 0, NodeRef(), &counter);
    NodeRef ab = NodeRef::bind(e2, 1, a, &counter);
    // Two branches from the same run: TAKE e3 into b again, or into c.
    NodeRef abb = NodeRef::bind(e3, 1, ab, &counter);
    NodeRef abc = NodeRef::bind(e3, 2, ab, &counter);
    CHECK(counter.live == 4);
    CHECK(abb->prev == abc->prev); // the prefix is one list, not a copy
    CHECK(e3->refs == 3);          // ours and one per node
    CHECK(e1->refs == 2);

    a.reset();
    ab.reset();
    CHECK(counter.live == 4); // still reachable from both branches
    abb.reset();
    CHECK(counter.live == 3);
    CHECK(e3->refs == 2);

    BoundEvents bound(abc.get(), 3);
    REQUIRE(bound.nodes().size() == 3);
    CHECK(bound.of(0).size() == 1);
    CHECK(bound.of(1).size() == 1);
    CHECK(bound.of(1)[0] == e2.get());
    CHECK(bound.of(2)[0] == e3.get());
  }
  CHECK(counter.live == 0);
  CHECK(counter.peak == 4);
  CHECK(counter.event_bytes == 0);
  CHECK(e1->refs == 1);
  CHECK(e2->refs == 1);
  CHECK(e3->refs == 1);
}

TEST_CASE("interp bindings: copies and moves count references", "[interp]") {
  auto c = compile(kProgram);
  EventMaker events(c->schema);
  NodeCounter counter;
  auto e1 = events.make(R"({"id":1,"t":1})");
  NodeRef a = NodeRef::bind(e1, 0, NodeRef(), &counter);
  NodeRef copy = a;
  NodeRef moved = std::move(copy);
  CHECK_FALSE(copy);
  CHECK(a->refs == 2);
  a = moved; // self-share
  CHECK(a->refs == 2);
  moved.reset();
  CHECK(counter.live == 1);
  a.reset();
  CHECK(counter.live == 0);
}

TEST_CASE("interp bindings: a long chain is freed without recursion", "[interp]") {
  auto c = compile(kProgram);
  EventMaker events(c->schema);
  NodeCounter counter;
  auto e = events.make(R"({"id":1,"t":1})");
  NodeRef last = NodeRef::bind(e, 0, NodeRef(), &counter);
  for (int i = 0; i < 1000000; ++i) {
    last = NodeRef::bind(e, 1, last, &counter);
  }
  CHECK(counter.live == 1000001);
  CHECK(e->refs == 1000002);
  last.reset();
  CHECK(counter.live == 0);
  CHECK(e->refs == 1);
}

TEST_CASE("interp bindings: materialised per step in match order", "[interp]") {
  auto c = compile(kProgram);
  EventMaker events(c->schema);
  NodeCounter counter;
  std::vector<cep::runtime::EventRef> es;
  for (int i = 1; i <= 5; ++i) {
    es.push_back(
        events.make(R"({"id":)" + std::to_string(i) + R"(,"t":)" + std::to_string(i) + "}"));
  }
  NodeRef n = NodeRef::bind(es[0], 0, NodeRef(), &counter);
  for (int i = 1; i <= 3; ++i) {
    n = NodeRef::bind(es[static_cast<std::size_t>(i)], 1, n, &counter);
  }
  n = NodeRef::bind(es[4], 2, n, &counter);
  BoundEvents bound(n.get(), 3);
  REQUIRE(bound.of(1).size() == 3);
  CHECK(bound.of(1)[0] == es[1].get());
  CHECK(bound.of(1)[2] == es[3].get());
  CHECK(bound.nodes().front()->event.get() == es[0].get());
  CHECK(bound.nodes().back()->event.get() == es[4].get());
  BoundEvents none(nullptr, 3);
  CHECK(none.of(0).empty());
  CHECK(none.nodes().empty());
}
