// Patterns whose state can grow without bound (docs/language.md §7.6, docs/limits.md): a
// warning when a partial match can wait for an event with nothing to end the wait.
//
// A run waits before step i (i > 0) when the step is joined by `->` or `->>`, and between the
// events of a looping step unless it is `consecutive`; strict `,` waits last one event. A wait
// ends by time when the pattern has a `within` or the step has its own (an absence at the end
// always has one). Negated steps in the middle are left out: the wait is the next step's.
// Without a bound, every run that never completes stays for the rest of the stream; `->>` into
// a loop makes that combinatorial (each later event of the loop forks more runs), so it is named
// first. One warning per pattern.
#include "lang/checker.hpp"

#include <algorithm>

namespace cep::lang {

void Checker::warnUnboundedState(const ast::Pattern &p, const typed::Pattern &out) {
  if (out.within_ms) {
    return;
  }
  std::size_t wait = out.steps.size();     // the first step waited for without a bound
  std::size_t any_loop = out.steps.size(); // the first `->>` into a loop without a bound
  for (std::size_t i = 0; i < out.steps.size() && i < p.steps.size(); ++i) {
    const typed::Step &s = out.steps[i];
    if (s.negated || s.within_ms) {
      continue;
    }
    bool waits_before = i > 0 && s.contiguity != ast::Contiguity::Strict;
    bool waits_inside = s.looping() && !s.consecutive;
    if (!waits_before && !waits_inside) {
      continue;
    }
    wait = std::min(wait, i);
    if (any_loop == out.steps.size() && i > 0 &&
        s.contiguity == ast::Contiguity::NonDeterministic && s.looping()) {
      any_loop = i;
    }
  }
  if (wait == out.steps.size()) {
    return;
  }
  const bool forks = any_loop != out.steps.size();
  const std::size_t i = forks ? any_loop : wait;
  const typed::Step &at = out.steps[i];
  const ast::Step &step = p.steps[i];
  // The caret: the `->>` and the step's name, or the name (the whole step when unnamed).
  SourceRange caret = step.name ? step.name->range : step.range;
  if (forks) {
    caret.begin = step.contiguity_range.begin;
  }
  std::string how = "bound it with `within <duration>` on the pattern";
  if (i > 0) {
    how += " (or on step `" + at.name + "`)";
  }
  how += ", or at run time with `cep run --max-runs-per-key N` or `--max-state-bytes B`";
  if (forks) {
    warning(caret, "`->>` into looping step `" + at.name + "` in pattern `" + out.name +
                       "` without `within`: every later `" + at.name +
                       "` event forks more partial matches, so its state can grow without " +
                       "bound")
        .note(how);
  } else {
    warning(caret, "pattern `" + out.name + "` has no `within`: partial matches waiting " +
                       (at.looping() && i == 0 ? "in" : "for") + " step `" + at.name +
                       "` never expire, so its state can grow without " + "bound")
        .note(how);
  }
}

} // namespace cep::lang
