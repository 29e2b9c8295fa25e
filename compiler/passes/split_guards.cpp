// split-guards: makes every conjunction flat and cheap first.
//   - nested Ands are spliced into their parent; a condition whose expression is itself an
//     `a and b` becomes Cond(a), Cond(b) (a condition that is null counts as false, so both are
//     the same test), recursively;
//   - conjuncts are then ordered by cost, stably: TypeIs, counter tests, conditions that read only
//     the candidate event's fields, conditions that read bound events or aggregates (Not / Or /
//     And take the cost of their dearest part). TypeIs stays first, so every condition is still
//     evaluated on an event of its step's type only.
#include "compiler/passes/pass.hpp"

#include <algorithm>

namespace cep::compiler::passes {

namespace {

using nfa::Guard;
using nfa::GuardPtr;
namespace typed = lang::typed;

// Whether `e` reads anything but the candidate event (earlier steps, aggregates).
bool readsBound(const typed::Expr &e) {
  switch (e.op) {
  case typed::Op::Field:
    if (e.step != typed::kCandidate) {
      return true;
    }
    break;
  case typed::Op::First:
  case typed::Op::Last:
  case typed::Op::Count:
  case typed::Op::CountOf:
  case typed::Op::Sum:
  case typed::Op::Avg:
  case typed::Op::Min:
  case typed::Op::Max:
    return true;
  default:
    break;
  }
  for (const auto &a : e.args) {
    if (readsBound(*a)) {
      return true;
    }
  }
  return false;
}

int cost(const Guard &g) {
  switch (g.kind) {
  case Guard::Kind::True:
  case Guard::Kind::False:
  case Guard::Kind::TypeIs:
    return 0;
  case Guard::Kind::CountBelow:
  case Guard::Kind::CountAtLeast:
    return 1;
  case Guard::Kind::Cond:
    return g.expr != nullptr && readsBound(*g.expr) ? 3 : 2;
  case Guard::Kind::Not:
  case Guard::Kind::And:
  case Guard::Kind::Or: {
    int c = 0;
    for (const auto &a : g.args) {
      c = std::max(c, cost(*a));
    }
    return c;
  }
  }
  return 3;
}

// Cond(a and b and ...) -> the conjuncts of the expression's top-level `and`.
void conjunctsOf(const typed::Expr &e, std::int32_t step, std::vector<GuardPtr> &out) {
  if (e.op == typed::Op::And) {
    conjunctsOf(*e.args[0], step, out);
    conjunctsOf(*e.args[1], step, out);
    return;
  }
  out.push_back(Guard::cond(&e, step));
}

GuardPtr split(const Guard &g) {
  switch (g.kind) {
  case Guard::Kind::Cond:
    if (g.expr != nullptr && g.expr->op == typed::Op::And) {
      std::vector<GuardPtr> parts;
      conjunctsOf(*g.expr, g.step, parts);
      GuardPtr out = Guard::make(Guard::Kind::And);
      out->args = std::move(parts);
      return out;
    }
    return g.clone();
  case Guard::Kind::Not:
  case Guard::Kind::Or: {
    GuardPtr out = Guard::make(g.kind);
    for (const auto &a : g.args) {
      out->args.push_back(split(*a));
    }
    return out;
  }
  case Guard::Kind::And: {
    std::vector<GuardPtr> flat;
    for (const auto &a : g.args) {
      GuardPtr s = split(*a);
      if (s->kind == Guard::Kind::And) {
        for (auto &x : s->args) {
          flat.push_back(std::move(x));
        }
      } else {
        flat.push_back(std::move(s));
      }
    }
    std::stable_sort(flat.begin(), flat.end(),
                     [](const GuardPtr &a, const GuardPtr &b) { return cost(*a) < cost(*b); });
    GuardPtr out = Guard::make(Guard::Kind::And);
    out->args = std::move(flat);
    return out;
  }
  default:
    return g.clone();
  }
}

class SplitGuards : public Pass {
public:
  PassKind kind() const override { return PassKind::SplitGuards; }
  std::string_view name() const override { return "split-guards"; }
  std::string_view description() const override {
    return "flatten conjunctions and order them cheap first (type, counter, candidate, bound)";
  }

  bool run(nfa::Nfa &nfa) override {
    bool changed = false;
    for (auto &state : nfa.states) {
      for (auto &e : state.edges) {
        if (!e.guard) {
          continue;
        }
        GuardPtr s = split(*e.guard);
        if (!nfa::sameGuard(s.get(), e.guard.get())) {
          e.guard = std::move(s);
          changed = true;
        }
      }
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createSplitGuardsPass() {
  return std::make_unique<SplitGuards>();
}

} // namespace cep::compiler::passes
