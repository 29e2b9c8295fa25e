#include "compiler/nfa/ir.hpp"

namespace cep::compiler::nfa {

const char *edgeKindName(EdgeKind k) {
  switch (k) {
  case EdgeKind::Take:
    return "take";
  case EdgeKind::Ignore:
    return "ignore";
  case EdgeKind::Proceed:
    return "proceed";
  }
  return "?";
}

const char *stateKindName(StateKind k) {
  switch (k) {
  case StateKind::Normal:
    return "normal";
  case StateKind::Final:
    return "final";
  case StateKind::Stop:
    return "stop";
  case StateKind::Pending:
    return "pending";
  }
  return "?";
}

GuardPtr Guard::make(Kind k) {
  auto g = std::make_unique<Guard>();
  g->kind = k;
  return g;
}

GuardPtr Guard::typeIs(std::int32_t event_type) {
  GuardPtr g = make(Kind::TypeIs);
  g->event_type = event_type;
  return g;
}

GuardPtr Guard::cond(const lang::typed::Expr *expr, std::int32_t step) {
  GuardPtr g = make(Kind::Cond);
  g->expr = expr;
  g->step = step;
  return g;
}

GuardPtr Guard::countBelow(std::uint32_t n) {
  GuardPtr g = make(Kind::CountBelow);
  g->count = n;
  return g;
}

GuardPtr Guard::countAtLeast(std::uint32_t n) {
  GuardPtr g = make(Kind::CountAtLeast);
  g->count = n;
  return g;
}

GuardPtr Guard::negate(GuardPtr inner) {
  GuardPtr g = make(Kind::Not);
  g->args.push_back(std::move(inner));
  return g;
}

namespace {

GuardPtr combine(Guard::Kind kind, std::vector<GuardPtr> args) {
  std::vector<GuardPtr> kept;
  for (auto &a : args) {
    if (a) {
      kept.push_back(std::move(a));
    }
  }
  if (kept.empty()) {
    return nullptr;
  }
  if (kept.size() == 1) {
    return std::move(kept[0]);
  }
  GuardPtr g = Guard::make(kind);
  g->args = std::move(kept);
  return g;
}

} // namespace

GuardPtr Guard::all(std::vector<GuardPtr> args) {
  return combine(Kind::And, std::move(args));
}

GuardPtr Guard::any(std::vector<GuardPtr> args) {
  return combine(Kind::Or, std::move(args));
}

GuardPtr Guard::clone() const {
  auto g = std::make_unique<Guard>();
  g->kind = kind;
  g->event_type = event_type;
  g->expr = expr;
  g->step = step;
  g->count = count;
  for (const auto &a : args) {
    g->args.push_back(cloneGuard(a));
  }
  return g;
}

bool sameGuard(const Guard *a, const Guard *b) {
  if (a == nullptr || b == nullptr) {
    return a == b;
  }
  if (a->kind != b->kind || a->event_type != b->event_type || a->expr != b->expr ||
      a->step != b->step || a->count != b->count || a->args.size() != b->args.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a->args.size(); ++i) {
    if (!sameGuard(a->args[i].get(), b->args[i].get())) {
      return false;
    }
  }
  return true;
}

Edge Edge::clone() const {
  Edge e;
  e.kind = kind;
  e.target = target;
  e.guard = cloneGuard(guard);
  e.counts = counts;
  e.resets_counter = resets_counter;
  return e;
}

StateId Nfa::find(const std::string &name) const {
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].name == name) {
      return static_cast<StateId>(i);
    }
  }
  return -1;
}

Nfa Nfa::clone() const {
  Nfa n;
  n.pattern = pattern;
  n.pattern_index = pattern_index;
  n.program = program;
  n.start = start;
  n.within_ms = within_ms;
  n.skip = skip;
  n.skip_step = skip_step;
  n.has_timeout_emit = has_timeout_emit;
  n.states.reserve(states.size());
  for (const auto &s : states) {
    State c;
    c.name = s.name;
    c.kind = s.kind;
    c.step = s.step;
    c.within_ms = s.within_ms;
    c.loop = s.loop;
    c.completes_at_end = s.completes_at_end;
    for (const auto &e : s.edges) {
      c.edges.push_back(e.clone());
    }
    n.states.push_back(std::move(c));
  }
  return n;
}

} // namespace cep::compiler::nfa
