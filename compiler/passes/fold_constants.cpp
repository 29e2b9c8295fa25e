// fold-constants: simplifies guards whose value is partly known at compile time.
//   - True / False / Not / And / Or with constant operands, and not not g = g;
//   - TypeIs(T) after an earlier TypeIs(U) of the same And (or of an enclosing one): true when
//     T == U, false otherwise (an event has one type). This is what turns the greedy restriction
//     `and not E(a's condition)` of a loop on another event type into nothing;
//   - a Cond whose expression is a literal (`true`, `false`, null: false), or whose top-level
//     `and`/`or` spine has literal operands: split at the spine (Cond(a and b) is Cond(a) and
//     Cond(b): a condition that is null counts as false, and `and`/`or` are monotone in that);
//   - counter tests against 0 (never made by the lowering).
// An edge whose guard folds to false is removed; one that folds to true loses its guard.
#include "compiler/passes/pass.hpp"

#include <algorithm>

namespace cep::compiler::passes {

namespace {

using nfa::Guard;
using nfa::GuardPtr;
namespace typed = lang::typed;

struct Folded {
  enum Value { Const, Open } value = Open;
  bool constant = false; // Const: its value
  GuardPtr guard;        // Open

  static Folded of(bool b) {
    Folded f;
    f.value = Const;
    f.constant = b;
    return f;
  }
  static Folded open(GuardPtr g) {
    Folded f;
    f.guard = std::move(g);
    return f;
  }
  bool isTrue() const { return value == Const && constant; }
  bool isFalse() const { return value == Const && !constant; }
};

bool isLiteral(const typed::Expr &e) {
  return e.op == typed::Op::Literal;
}

// Whether the And/Or spine of `e` has a literal operand.
bool constantSpine(const typed::Expr &e) {
  if (isLiteral(e)) {
    return true;
  }
  if (e.op == typed::Op::And || e.op == typed::Op::Or) {
    return constantSpine(*e.args[0]) || constantSpine(*e.args[1]);
  }
  return false;
}

class Folder {
public:
  bool changed = false;

  Folded fold(const Guard &g, const std::vector<std::int32_t> &known) {
    switch (g.kind) {
    case Guard::Kind::True:
      changed = true;
      return Folded::of(true);
    case Guard::Kind::False:
      changed = true;
      return Folded::of(false);
    case Guard::Kind::TypeIs:
      for (std::int32_t t : known) {
        changed = true;
        if (t != g.event_type) {
          return Folded::of(false);
        }
        return Folded::of(true);
      }
      return Folded::open(g.clone());
    case Guard::Kind::Cond:
      if (g.expr != nullptr && constantSpine(*g.expr)) {
        changed = true;
        return condition(*g.expr, g.step);
      }
      return Folded::open(g.clone());
    case Guard::Kind::CountBelow:
      if (g.count == 0) {
        changed = true;
        return Folded::of(false);
      }
      return Folded::open(g.clone());
    case Guard::Kind::CountAtLeast:
      if (g.count == 0) {
        changed = true;
        return Folded::of(true);
      }
      return Folded::open(g.clone());
    case Guard::Kind::Not: {
      Folded inner = fold(*g.args[0], known);
      if (inner.value == Folded::Const) {
        changed = true;
        return Folded::of(!inner.constant);
      }
      if (inner.guard->kind == Guard::Kind::Not) {
        changed = true;
        return Folded::open(std::move(inner.guard->args[0]));
      }
      return Folded::open(Guard::negate(std::move(inner.guard)));
    }
    case Guard::Kind::And:
    case Guard::Kind::Or:
      return junction(g, known);
    }
    return Folded::open(g.clone());
  }

private:
  Folded junction(const Guard &g, const std::vector<std::int32_t> &outer) {
    const bool is_and = g.kind == Guard::Kind::And;
    std::vector<std::int32_t> known = outer;
    std::vector<GuardPtr> kept;
    for (const auto &a : g.args) {
      Folded f = fold(*a, known);
      if (f.value == Folded::Const) {
        changed = true;
        if (f.constant != is_and) {
          return Folded::of(f.constant); // false in an And, true in an Or
        }
        continue;
      }
      if (is_and && f.guard->kind == Guard::Kind::TypeIs) {
        known.push_back(f.guard->event_type);
      }
      kept.push_back(std::move(f.guard));
    }
    if (kept.empty()) {
      return Folded::of(is_and);
    }
    if (kept.size() == 1) {
      changed = true;
      return Folded::open(std::move(kept[0]));
    }
    GuardPtr out = Guard::make(g.kind);
    out->args = std::move(kept);
    return Folded::open(std::move(out));
  }

  // A condition's value with constant operands of its and/or spine folded away.
  Folded condition(const typed::Expr &e, std::int32_t step) {
    if (isLiteral(e)) {
      return Folded::of(!e.value.is_null && e.value.kind == lang::TypeKind::Bool && e.value.b);
    }
    if (e.op != typed::Op::And && e.op != typed::Op::Or) {
      return Folded::open(Guard::cond(&e, step));
    }
    const bool is_and = e.op == typed::Op::And;
    std::vector<GuardPtr> kept;
    for (const auto &a : e.args) {
      Folded f = condition(*a, step);
      if (f.value == Folded::Const) {
        if (f.constant != is_and) {
          return Folded::of(f.constant);
        }
        continue;
      }
      kept.push_back(std::move(f.guard));
    }
    if (kept.empty()) {
      return Folded::of(is_and);
    }
    return Folded::open(is_and ? Guard::all(std::move(kept)) : Guard::any(std::move(kept)));
  }
};

class FoldConstants : public Pass {
public:
  PassKind kind() const override { return PassKind::FoldConstants; }
  std::string_view name() const override { return "fold-constants"; }
  std::string_view description() const override {
    return "simplify guards with constant parts; drop edges that can never be followed";
  }

  bool run(nfa::Nfa &nfa) override {
    Folder folder;
    for (auto &state : nfa.states) {
      std::vector<nfa::Edge> kept;
      for (auto &e : state.edges) {
        if (!e.guard) {
          kept.push_back(std::move(e));
          continue;
        }
        Folded f = folder.fold(*e.guard, {});
        if (f.isFalse()) {
          folder.changed = true;
          continue;
        }
        e.guard = f.isTrue() ? nullptr : std::move(f.guard);
        kept.push_back(std::move(e));
      }
      state.edges = std::move(kept);
    }
    return folder.changed;
  }
};

} // namespace

std::unique_ptr<Pass> createFoldConstantsPass() {
  return std::make_unique<FoldConstants>();
}

} // namespace cep::compiler::passes
