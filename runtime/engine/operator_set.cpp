#include "runtime/engine/operator_set.hpp"

#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::runtime {

void OperatorSet::checkBetweenSteps() const {
  CEP_ASSERT(steps_ == 0, "the operator set changed during a driver step");
}

std::vector<OperatorSet::Entry>::iterator OperatorSet::at(OperatorId id) {
  return std::lower_bound(entries_.begin(), entries_.end(), id,
                          [](const Entry &e, OperatorId i) { return e.id < i; });
}

void OperatorSet::add(OperatorId id, Matcher *matcher) {
  checkBetweenSteps();
  CEP_ASSERT(matcher != nullptr, "a null operator");
  auto it = at(id);
  CEP_ASSERT(it == entries_.end() || it->id != id, "operator id " + std::to_string(id) + " twice");
  entries_.insert(it, Entry{id, matcher});
  next_id_ = std::max(next_id_, id + 1);
  rebuild();
}

Matcher *OperatorSet::replace(OperatorId id, Matcher *matcher) {
  checkBetweenSteps();
  CEP_ASSERT(matcher != nullptr, "a null operator");
  auto it = at(id);
  CEP_ASSERT(it != entries_.end() && it->id == id, "no operator " + std::to_string(id));
  Matcher *old = it->matcher;
  it->matcher = matcher;
  rebuild();
  return old;
}

Matcher *OperatorSet::remove(OperatorId id) {
  checkBetweenSteps();
  auto it = at(id);
  CEP_ASSERT(it != entries_.end() && it->id == id, "no operator " + std::to_string(id));
  Matcher *old = it->matcher;
  entries_.erase(it);
  rebuild();
  return old;
}

Matcher *OperatorSet::find(OperatorId id) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                             [](const Entry &e, OperatorId i) { return e.id < i; });
  return it != entries_.end() && it->id == id ? it->matcher : nullptr;
}

void OperatorSet::setTypeCount(std::size_t type_count) {
  checkBetweenSteps();
  CEP_ASSERT(type_count >= by_type_.size(), "the schema lost event types");
  by_type_.resize(type_count);
}

void OperatorSet::rebuild() {
  for (std::vector<Entry> &operators : by_type_) {
    operators.clear();
  }
  for (const Entry &entry : entries_) {
    for (std::uint32_t type : entry.matcher->eventTypes()) {
      CEP_ASSERT(type < by_type_.size(), "a pattern uses an event type outside the schema");
      by_type_[type].push_back(entry);
    }
  }
}

} // namespace cep::runtime
