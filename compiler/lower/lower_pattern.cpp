// Lowering a pattern to its NFA, re-deriving Flink CEP 1.17's NFACompiler for our IR.
//
// As in Flink, states are built from the last step backwards, each step pointing at the state
// built for what follows it (`sink`): $final first, then every step from the last to the second,
// then the first step, whose entry is the start state. Per step (n = min, m = max):
//   singleton      `s` TAKE -> sink; IGNORE by the outer contiguity (`,` none, `->` not-take,
//                  `->>` always: to itself, or to `s~` when optional); PROCEED -> sink when
//                  optional; `s~` is `s` without the PROCEED (Flink's createSingletonState)
//   loop {n,m}     `s` takes the first event (outer contiguity, like Flink's first `times` state)
//                  into `s:loop`, which counts: TAKE -> `s:loop` while count+1 < m, TAKE -> sink
//                  on the m-th event, PROCEED -> sink once count >= n, IGNORE -> `s:loop~` by the
//                  inner contiguity (default relaxed, `consecutive` none, `combinations` always)
//   loop {n,}      the same without the m-th TAKE (Flink's createLooping after createTimesState)
//   `until(u)`     take = take and not u; inner ignore = ignore and not u (Flink
//                  extendWithUntilCondition); the outer ignore of `s` is left alone, as in Flink
//   `greedy`       every edge of the state the loop proceeds to gets `and not take(s)` (Flink's
//                  updateWithGreedyCondition); with `until`, the loop proceeds on an `until`
//                  event to a copy of that state made before the restriction (`:nongreedy`)
//   `, not n`      a NOT_NEXT state: PROCEED -> sink on not n (IGNORE -> $final at the end, so
//                  the proceed to final is not fired), PROCEED -> $stop:n on n
//   `-> not n`     no state: PROCEED -> $stop:n edges on the states after it
//   (getCurrentNotCondition,
//                  through optional steps), on the loop before it (addStopStateToLooping), and
//                  TAKEs of an optional step go to copies without them (copyWithoutTransitiveNots);
//                  at the end with a time bound, the $pending state
#include "compiler/lower/lower_pattern.hpp"

#include "compiler/nfa/verifier.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

namespace cep::compiler {

namespace {

using nfa::Edge;
using nfa::EdgeKind;
using nfa::Guard;
using nfa::GuardPtr;
using nfa::StateId;
using nfa::StateKind;
namespace typed = lang::typed;

// `a and b`, appending to `a` when it already is an And (keeps TypeIs first).
GuardPtr conj(GuardPtr a, GuardPtr b) {
  if (!a) {
    return b;
  }
  if (!b) {
    return a;
  }
  if (a->kind == Guard::Kind::And) {
    a->args.push_back(std::move(b));
    return a;
  }
  std::vector<GuardPtr> args;
  args.push_back(std::move(a));
  args.push_back(std::move(b));
  return Guard::all(std::move(args));
}

// A guard that may be absent (no such edge) or null (an edge that is always followed).
using OptGuard = std::optional<GuardPtr>;

class Lowering {
public:
  Lowering(const typed::Program &program, int pattern_index)
      : program_(program), pattern_(program.patterns.at(static_cast<std::size_t>(pattern_index))),
        steps_(pattern_.steps) {
    nfa_.pattern = pattern_.name;
    nfa_.pattern_index = pattern_index;
    nfa_.program = &program;
    nfa_.within_ms = pattern_.within_ms;
    nfa_.skip = pattern_.skip;
    nfa_.skip_step = pattern_.skip_step;
    nfa_.has_timeout_emit = pattern_.timeout_emit.has_value();
  }

  nfa::Nfa run() {
    CEP_ASSERT(!steps_.empty(), "pattern `" + pattern_.name + "` has no steps");
    CEP_ASSERT(!steps_[0].negated, "pattern `" + pattern_.name + "` starts with a negated step");
    final_ = newState("$final", StateKind::Final, -1, kFinalGroup, 0);
    StateId sink = final_;
    for (std::size_t i = steps_.size() - 1; i >= 1; --i) {
      const typed::Step &s = steps_[i];
      if (s.negated && s.contiguity == lang::ast::Contiguity::Strict) {
        sink = notNext(i, sink);
      } else if (s.negated) {
        // NOT_FOLLOW: converted into edge conditions, except at the end with a time bound.
        if (sink == final_) {
          CEP_ASSERT(s.within_ms || pattern_.within_ms,
                     "`-> not` at the end of pattern `" + pattern_.name + "` has no time bound");
          sink = pending(i);
        }
      } else {
        sink = convertStep(i, sink);
      }
    }
    nfa_.start = convertStep(0, sink);
    order();
    nfa::verify(nfa_);
    return std::move(nfa_);
  }

private:
  // Ordering groups: a step's states in step order, then $pending, the stop states, $final.
  int pendingGroup() const { return static_cast<int>(steps_.size()); }
  int stopGroup() const { return static_cast<int>(steps_.size()) + 1; }
  static constexpr int kFinalGroup = 1 << 30;

  struct Info {
    int group = 0;
    int role = 0; // entry 0, entry~ 1, loop 2, loop~ 3 (copies keep their original's)
    int seq = 0;
    int stop_of = -1; // Stop states: the negated step
    bool greedy_restricted = false;
  };

  // --- states and edges ---------------------------------------------------------------------

  StateId newState(std::string name, StateKind kind, std::int32_t step, int group, int role) {
    CEP_ASSERT(nfa_.find(name) < 0, "duplicate NFA state name `" + name + "`");
    nfa::State st;
    st.name = std::move(name);
    st.kind = kind;
    st.step = step;
    nfa_.states.push_back(std::move(st));
    Info info;
    info.group = group;
    info.role = role;
    info.seq = static_cast<int>(info_.size());
    info_.push_back(info);
    return static_cast<StateId>(nfa_.states.size() - 1);
  }

  StateId stepState(std::size_t i, const std::string &suffix, int role) {
    return newState(steps_[i].name + suffix, StateKind::Normal, static_cast<std::int32_t>(i),
                    static_cast<int>(i), role);
  }

  nfa::State &st(StateId id) { return nfa_.states[static_cast<std::size_t>(id)]; }

  void addEdge(StateId from, EdgeKind kind, StateId to, GuardPtr guard, bool counts = false) {
    Edge e;
    e.kind = kind;
    e.target = to;
    e.guard = std::move(guard);
    e.counts = counts;
    e.resets_counter = st(from).step != st(to).step;
    st(from).edges.push_back(std::move(e));
  }

  std::string uniqueName(std::string base) {
    while (nfa_.find(base) >= 0) {
      base += "'";
    }
    return base;
  }

  // A copy of `x` with the same edges (self-loops to the copy), for Flink's copy().
  StateId plainCopy(StateId x, const std::string &suffix) {
    std::vector<Edge> edges;
    for (const auto &e : st(x).edges) {
      edges.push_back(e.clone());
    }
    StateId c = copyShell(x, uniqueName(st(x).name + suffix));
    for (auto &e : edges) {
      if (e.target == x) {
        e.target = c;
      }
      st(c).edges.push_back(std::move(e));
    }
    return c;
  }

  StateId copyShell(StateId x, std::string name) {
    const Info orig = info_[static_cast<std::size_t>(x)];
    StateId c = newState(std::move(name), st(x).kind, st(x).step, orig.group, orig.role);
    st(c).within_ms = st(x).within_ms;
    st(c).loop = st(x).loop;
    st(c).completes_at_end = st(x).completes_at_end;
    info_[static_cast<std::size_t>(c)].stop_of = orig.stop_of;
    info_[static_cast<std::size_t>(c)].greedy_restricted = orig.greedy_restricted;
    return c;
  }

  StateId stop(std::size_t j) {
    auto it = stops_.find(j);
    if (it != stops_.end()) {
      return it->second;
    }
    StateId s =
        newState("$stop:" + steps_[j].name, StateKind::Stop, -1, stopGroup(), static_cast<int>(j));
    info_[static_cast<std::size_t>(s)].stop_of = static_cast<int>(j);
    stops_.emplace(j, s);
    return s;
  }

  // --- guards ---------------------------------------------------------------------------------

  // The event is one of step j's: TypeIs, then its condition.
  GuardPtr sat(std::size_t j) const {
    const typed::Step &s = steps_[j];
    GuardPtr type = Guard::typeIs(s.event_type);
    if (!s.condition) {
      return type;
    }
    return conj(std::move(type), Guard::cond(s.condition.get(), static_cast<std::int32_t>(j)));
  }

  GuardPtr satUntil(std::size_t j) const {
    const typed::Step &s = steps_[j];
    return conj(Guard::typeIs(s.event_type),
                Guard::cond(s.until.get(), static_cast<std::int32_t>(j)));
  }

  // Flink's take condition, extended with `until`: the step's condition and not until.
  GuardPtr take(std::size_t j) const {
    const typed::Step &s = steps_[j];
    GuardPtr g = sat(j);
    if (s.until) {
      g = conj(std::move(g),
               Guard::negate(Guard::cond(s.until.get(), static_cast<std::int32_t>(j))));
    }
    return g;
  }

  // Flink's getIgnoreCondition: by the step's contiguity to the previous one. The first step is
  // STRICT (Flink's begin()).
  OptGuard outerIgnore(std::size_t j) const {
    if (j == 0) {
      return std::nullopt;
    }
    switch (steps_[j].contiguity) {
    case lang::ast::Contiguity::Strict:
      return std::nullopt;
    case lang::ast::Contiguity::Relaxed:
      return Guard::negate(sat(j));
    case lang::ast::Contiguity::NonDeterministic:
      return GuardPtr();
    }
    return std::nullopt;
  }

  // Flink's getInnerIgnoreCondition extended with `until`.
  OptGuard innerIgnore(std::size_t j) const {
    const typed::Step &s = steps_[j];
    if (s.consecutive) {
      return std::nullopt;
    }
    GuardPtr base = s.combinations ? GuardPtr() : Guard::negate(sat(j));
    if (s.until) {
      return conj(Guard::negate(satUntil(j)), std::move(base));
    }
    return base;
  }

  // The `-> not` steps whose stop edges the states of step j carry (Flink's
  // getCurrentNotCondition): walking back over optional and negated steps. Flink stops at a
  // `, not` step; walking through it keeps a `-> not` before a `, not` from being dropped.
  std::vector<int> notsBefore(std::size_t j) const {
    std::vector<int> out;
    for (std::size_t k = j; k-- > 0;) {
      const typed::Step &p = steps_[k];
      if (!p.optional && !p.negated) {
        break;
      }
      if (p.negated && p.contiguity == lang::ast::Contiguity::Relaxed) {
        out.push_back(static_cast<int>(k));
      }
    }
    return out;
  }

  void addStops(StateId x, const std::vector<int> &nots, const OptGuard &extra = GuardPtr()) {
    if (!extra) {
      return;
    }
    for (int j : nots) {
      auto uj = static_cast<std::size_t>(j);
      addEdge(x, EdgeKind::Proceed, stop(uj), conj(sat(uj), nfa::cloneGuard(*extra)));
    }
  }

  // --- copies without discharged negations (Flink's copyWithoutTransitiveNots) --------------

  bool hasNotsToDrop(StateId x, const std::vector<int> &nots) {
    for (const auto &e : st(x).edges) {
      if (e.kind != EdgeKind::Proceed) {
        continue;
      }
      if (st(e.target).kind == StateKind::Stop) {
        int of = info_[static_cast<std::size_t>(e.target)].stop_of;
        if (std::find(nots.begin(), nots.end(), of) != nots.end()) {
          return true;
        }
      } else if (hasNotsToDrop(e.target, nots)) {
        return true;
      }
    }
    return false;
  }

  // `x` without its PROCEED edges to the stop states of `nots`, recursively through PROCEED
  // targets. Flink copies whenever the step is optional and negations precede it; a copy that
  // would be identical to its original is not made here (same behaviour, fewer states).
  StateId withoutNots(StateId x, const std::vector<int> &nots) {
    if (!hasNotsToDrop(x, nots)) {
      return x;
    }
    auto key = std::make_pair(x, nots);
    if (auto it = copies_.find(key); it != copies_.end()) {
      return it->second;
    }
    std::vector<Edge> edges;
    for (const auto &e : st(x).edges) {
      edges.push_back(e.clone());
    }
    StateId c = copyShell(x, uniqueName(st(x).name + "'"));
    copies_.emplace(key, c);
    for (auto &e : edges) {
      if (e.kind == EdgeKind::Proceed) {
        if (st(e.target).kind == StateKind::Stop) {
          int of = info_[static_cast<std::size_t>(e.target)].stop_of;
          if (std::find(nots.begin(), nots.end(), of) != nots.end()) {
            continue;
          }
        } else {
          e.target = withoutNots(e.target, nots);
        }
      } else if (e.target == x) {
        e.target = c;
      }
      e.resets_counter = st(c).step != st(e.target).step;
      st(c).edges.push_back(std::move(e));
    }
    return c;
  }

  // Flink's updateWithGreedyCondition: every edge of `x` also requires that loop j cannot take
  // the event.
  void restrictGreedy(StateId x, std::size_t j) {
    for (auto &e : st(x).edges) {
      e.guard = conj(std::move(e.guard), Guard::negate(sat(j)));
    }
    info_[static_cast<std::size_t>(x)].greedy_restricted = true;
  }

  // --- steps ----------------------------------------------------------------------------------

  StateId notNext(std::size_t i, StateId sink) {
    StateId x = stepState(i, "", 0);
    if (sink == final_) {
      // So that the proceed to final is not fired: complete on the next event, or at the end.
      addEdge(x, EdgeKind::Ignore, sink, Guard::negate(sat(i)));
      st(x).completes_at_end = true;
    } else {
      addEdge(x, EdgeKind::Proceed, sink, Guard::negate(sat(i)));
    }
    addEdge(x, EdgeKind::Proceed, stop(i), sat(i));
    addStops(x, notsBefore(i));
    st(x).within_ms = steps_[i].within_ms;
    return x;
  }

  StateId pending(std::size_t i) {
    StateId p = newState("$pending", StateKind::Pending, -1, pendingGroup(), 0);
    addEdge(p, EdgeKind::Ignore, p, Guard::negate(sat(i)));
    addEdge(p, EdgeKind::Proceed, stop(i), sat(i));
    // Earlier `-> not` steps at the end (Flink drops their conditions).
    addStops(p, notsBefore(i));
    st(p).within_ms = steps_[i].within_ms;
    return p;
  }

  StateId convertStep(std::size_t i, StateId sink_state) {
    const typed::Step &s = steps_[i];
    CEP_ASSERT(!s.negated, "negated step lowered as a positive one");
    if (!s.looping()) {
      return singleton(i, sink_state);
    }
    return loop(i, sink_state);
  }

  StateId singleton(std::size_t i, StateId sink_state) {
    const typed::Step &s = steps_[i];
    const std::vector<int> nots = notsBefore(i);
    const bool drop_nots = s.optional && !nots.empty();
    StateId x = stepState(i, "", 0);
    StateId sink = drop_nots ? withoutNots(sink_state, nots) : sink_state;
    addEdge(x, EdgeKind::Take, sink, sat(i));
    OptGuard ignore = outerIgnore(i);
    if (ignore) {
      if (s.optional) {
        StateId xi = stepState(i, "~", 1);
        addEdge(xi, EdgeKind::Take, sink, sat(i));
        addEdge(xi, EdgeKind::Ignore, xi, nfa::cloneGuard(*ignore));
        addStops(xi, nots);
        st(xi).within_ms = s.within_ms;
        addEdge(x, EdgeKind::Ignore, xi, std::move(*ignore));
      } else {
        addEdge(x, EdgeKind::Ignore, x, std::move(*ignore));
      }
    }
    if (s.optional) {
      addEdge(x, EdgeKind::Proceed, sink_state, nullptr);
    }
    addStops(x, nots);
    st(x).within_ms = s.within_ms;
    return x;
  }

  StateId loop(std::size_t i, StateId sink_state) {
    const typed::Step &s = steps_[i];
    const bool unbounded = s.max == typed::kUnbounded;
    const std::uint32_t n = s.min;
    const std::uint32_t m = s.max;
    CEP_ASSERT(n >= 1 && (unbounded || m >= 2) && n <= m, "bad loop bounds");
    const std::vector<int> nots = notsBefore(i);
    const bool drop_nots = s.optional && !nots.empty();
    const std::size_t next = i + 1;
    const bool not_follows = next < steps_.size() && steps_[next].negated &&
                             steps_[next].contiguity == lang::ast::Contiguity::Relaxed;

    // The loop states hold a counter in [1, m-1] (bounded) or [1, inf): counter tests that are
    // always true are left out, edges whose test is never true are not made.
    auto below = [&](std::uint32_t k) -> OptGuard { // counter < k
      if (k <= 1) {
        return std::nullopt;
      }
      if (!unbounded && k > m - 1) {
        return GuardPtr();
      }
      return Guard::countBelow(k);
    };
    auto at_least = [&](std::uint32_t k) -> OptGuard { // counter >= k
      if (k <= 1) {
        return GuardPtr();
      }
      if (!unbounded && k > m - 1) {
        return std::nullopt;
      }
      return Guard::countAtLeast(k);
    };

    // Bounded greedy: Flink restricts the sink before building the times states (so the copies
    // made for them carry the restriction too).
    if (!unbounded && s.greedy && n != m) {
      restrictGreedy(sink_state, i);
    }
    StateId sink = drop_nots ? withoutNots(sink_state, nots) : sink_state;

    StateId lp = stepState(i, ":loop", 2);
    st(lp).loop = true;
    OptGuard inner = innerIgnore(i);
    StateId lpi = -1;
    if (inner) {
      lpi = stepState(i, ":loop~", 3);
      st(lpi).loop = true;
    }

    // PROCEED once the minimum is reached.
    if (OptGuard reached = at_least(n)) {
      // A last loop proceeds to $final, which has no edges to restrict and must stay the one
      // Final state: no `:nongreedy` copy then (found by the differential tester).
      if (unbounded && s.greedy && s.until && st(sink).kind != nfa::StateKind::Final) {
        StateId plain = plainCopy(sink, ":nongreedy");
        nongreedy_[sink] = plain;
        addEdge(lp, EdgeKind::Proceed, plain, conj(satUntil(i), nfa::cloneGuard(*reached)));
        addEdge(lp, EdgeKind::Proceed, sink,
                conj(Guard::negate(satUntil(i)), nfa::cloneGuard(*reached)));
      } else {
        addEdge(lp, EdgeKind::Proceed, sink, nfa::cloneGuard(*reached));
      }
    }
    if (unbounded && s.greedy) {
      restrictGreedy(sink, i);
    }

    // TAKE: stay in the loop, or leave it with the m-th event.
    for (StateId from : {lp, lpi}) {
      if (from < 0) {
        continue;
      }
      if (unbounded) {
        addEdge(from, EdgeKind::Take, lp, take(i), true);
        continue;
      }
      if (OptGuard stay = below(m - 1)) {
        addEdge(from, EdgeKind::Take, lp, conj(take(i), std::move(*stay)), true);
      }
      if (OptGuard leave = at_least(m - 1)) {
        addEdge(from, EdgeKind::Take, sink, conj(take(i), std::move(*leave)));
      }
    }

    if (lpi >= 0) {
      addEdge(lp, EdgeKind::Ignore, lpi, nfa::cloneGuard(*inner));
      addEdge(lpi, EdgeKind::Ignore, lpi, nfa::cloneGuard(*inner));
    }

    // Stop edges. A `-> not` right after the loop (addStopStateToLooping): on Flink's looping
    // state, its ignore copy and the mandatory `times` states, but not on the ignore copies of
    // the optional `times` states (counter >= n of a bounded loop).
    if (not_follows) {
      addStops(lp, {static_cast<int>(next)});
      if (lpi >= 0) {
        addStops(lpi, {static_cast<int>(next)}, unbounded ? OptGuard(GuardPtr()) : below(n));
      }
    }
    // The `-> not` steps before the step: only on the ignore copies of the optional `times`
    // states (Flink's addStopStates on createSingletonState's ignore state).
    if (!unbounded && lpi >= 0 && n < m) {
      addStops(lpi, nots, at_least(n));
    }

    // The entry: the first event, with the step's outer contiguity.
    StateId x = stepState(i, "", 0);
    addEdge(x, EdgeKind::Take, lp, take(i), true);
    OptGuard ignore = outerIgnore(i);
    if (ignore) {
      if (s.optional) {
        StateId xi = stepState(i, "~", 1);
        addEdge(xi, EdgeKind::Take, lp, take(i), true);
        addEdge(xi, EdgeKind::Ignore, xi, nfa::cloneGuard(*ignore));
        addStops(xi, nots);
        st(xi).within_ms = s.within_ms;
        addEdge(x, EdgeKind::Ignore, xi, std::move(*ignore));
      } else {
        addEdge(x, EdgeKind::Ignore, x, std::move(*ignore));
      }
    }
    if (s.optional) {
      auto plain = nongreedy_.find(sink_state);
      if (unbounded && s.greedy && s.until && plain != nongreedy_.end()) {
        addEdge(x, EdgeKind::Proceed, plain->second, satUntil(i));
        addEdge(x, EdgeKind::Proceed, sink_state, Guard::negate(satUntil(i)));
      } else {
        addEdge(x, EdgeKind::Proceed, sink_state, nullptr);
      }
    }
    addStops(x, nots);
    st(x).within_ms = s.within_ms;
    return x;
  }

  // --- final order ----------------------------------------------------------------------------

  static int kindRank(EdgeKind k) {
    switch (k) {
    case EdgeKind::Take:
      return 0;
    case EdgeKind::Ignore:
      return 1;
    case EdgeKind::Proceed:
      return 2;
    }
    return 3;
  }

  // States in step order (entry, entry~, loop, loop~, copies after their originals), then
  // $pending, the stop states, $final; edges TAKE, IGNORE, PROCEED (stop edges last).
  void order() {
    std::vector<StateId> ids(nfa_.states.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      ids[k] = static_cast<StateId>(k);
    }
    std::stable_sort(ids.begin(), ids.end(), [&](StateId a, StateId b) {
      const Info &x = info_[static_cast<std::size_t>(a)];
      const Info &y = info_[static_cast<std::size_t>(b)];
      return std::tie(x.group, x.role, x.seq) < std::tie(y.group, y.role, y.seq);
    });
    std::vector<StateId> remap(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      remap[static_cast<std::size_t>(ids[k])] = static_cast<StateId>(k);
    }
    std::vector<bool> to_stop(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      to_stop[static_cast<std::size_t>(remap[k])] = nfa_.states[k].kind == StateKind::Stop;
    }
    std::vector<nfa::State> states;
    for (StateId id : ids) {
      nfa::State s = std::move(st(id));
      for (auto &e : s.edges) {
        e.target = remap[static_cast<std::size_t>(e.target)];
      }
      auto rank = [&](const Edge &e) {
        return kindRank(e.kind) * 2 + (to_stop[static_cast<std::size_t>(e.target)] ? 1 : 0);
      };
      std::stable_sort(s.edges.begin(), s.edges.end(),
                       [&](const Edge &a, const Edge &b) { return rank(a) < rank(b); });
      states.push_back(std::move(s));
    }
    nfa_.states = std::move(states);
    nfa_.start = remap[static_cast<std::size_t>(nfa_.start)];
  }

  const typed::Program &program_;
  const typed::Pattern &pattern_;
  const std::vector<typed::Step> &steps_;
  nfa::Nfa nfa_;
  std::vector<Info> info_;
  StateId final_ = -1;
  std::map<std::size_t, StateId> stops_;
  std::map<std::pair<StateId, std::vector<int>>, StateId> copies_;
  std::map<StateId, StateId> nongreedy_;
};

} // namespace

nfa::Nfa lowerPattern(const lang::typed::Program &program, int pattern_index) {
  CEP_ASSERT(pattern_index >= 0 &&
                 static_cast<std::size_t>(pattern_index) < program.patterns.size(),
             "no pattern " + std::to_string(pattern_index));
  return Lowering(program, pattern_index).run();
}

} // namespace cep::compiler
