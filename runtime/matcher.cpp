#include "runtime/matcher.hpp"

#include "runtime/state/migration.hpp"

#include <algorithm>
#include <stdexcept>

namespace cep::runtime {

// docs/semantics.md §6. A strict weak order: every key below is compared in turn.
bool MatchOutput::before(const MatchOutput &a, const MatchOutput &b) {
  // 1. completion time (end-of-input completions carry kEndOfTime and so come last)
  if (a.completion_time != b.completion_time) {
    return a.completion_time < b.completion_time;
  }
  // 2. time-driven (timeouts, absences, releases by them) before event completions, then among
  //    event completions by the completing event's arrival
  if (a.time_driven != b.time_driven) {
    return a.time_driven;
  }
  if (!a.time_driven && a.completion_seq != b.completion_seq) {
    return a.completion_seq < b.completion_seq;
  }
  // 3. the operator id (declaration order under `cep run`)
  if (a.operator_id != b.operator_id) {
    return a.operator_id < b.operator_id;
  }
  // 4. match start: its first event's time, then arrival
  if (a.start_time != b.start_time) {
    return a.start_time < b.start_time;
  }
  if (a.start_seq != b.start_seq) {
    return a.start_seq < b.start_seq;
  }
  // 5. the matched events in match order by arrival; a prefix sorts first
  return std::lexicographical_compare(a.event_seqs.begin(), a.event_seqs.end(),
                                      b.event_seqs.begin(), b.event_seqs.end());
}

MigrationReport Matcher::adoptFrom(Matcher &old) {
  (void)old;
  throw std::logic_error("adoptFrom without canAdopt (pattern " + std::string(patternName()) + ")");
}

} // namespace cep::runtime
