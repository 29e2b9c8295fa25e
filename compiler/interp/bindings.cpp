#include "compiler/interp/bindings.hpp"

#include "support/internal_error.hpp"

#include <algorithm>

namespace cep::compiler::interp {

std::size_t eventBlockBytes(const runtime::Event &e) {
  return sizeof(runtime::Event) + e.field_count * sizeof(runtime::Slot) + e.raw_size;
}

NodeRef NodeRef::bind(const runtime::EventRef &event, std::int32_t step, const NodeRef &prev,
                      NodeCounter *counter) {
  NodeRef ref;
  ref.n_ = new Node{event, step, prev.n_, 1, counter};
  prev.retain();
  if (counter) {
    ++counter->live;
    counter->peak = std::max(counter->peak, counter->live);
    counter->event_bytes += eventBlockBytes(*event);
    if (counter->distinct != nullptr) {
      counter->distinct->add(*event);
    }
  }
  return ref;
}

void NodeRef::releaseChain(Node *n) {
  while (n != nullptr && --n->refs == 0) {
    Node *prev = n->prev;
    if (n->counter) {
      --n->counter->live;
      n->counter->event_bytes -= eventBlockBytes(*n->event);
      if (n->counter->distinct != nullptr) {
        n->counter->distinct->remove(*n->event);
      }
    }
    delete n;
    n = prev;
  }
}

void BoundEvents::materialise() const {
  done_ = true;
  for (const Node *n = last_; n != nullptr; n = n->prev) {
    nodes_.push_back(n);
  }
  std::reverse(nodes_.begin(), nodes_.end());
  by_step_.resize(step_count_);
  for (const Node *n : nodes_) {
    CEP_ASSERT(n->step >= 0 && static_cast<std::size_t>(n->step) < step_count_,
               "bound event of an unknown step");
    by_step_[n->step].push_back(n->event.get());
  }
}

const std::vector<const runtime::Event *> &BoundEvents::of(std::int32_t step) const {
  if (!done_) {
    materialise();
  }
  CEP_ASSERT(step >= 0 && static_cast<std::size_t>(step) < by_step_.size(), "unknown step");
  return by_step_[step];
}

const std::vector<const Node *> &BoundEvents::nodes() const {
  if (!done_) {
    materialise();
  }
  return nodes_;
}

} // namespace cep::compiler::interp
