// The events a run has bound, as a persistent linked list shared between runs: the reference
// interpreter's equivalent of Flink's SharedBuffer. A node holds one event (a counted reference),
// the step it was bound to and the node bound before it, so a run is a pointer to its last node
// and forking a run (TAKE into two branches, IGNORE next to TAKE) shares the whole prefix.
// Nodes are reference-counted by the runs, held matches and newer nodes that point at them and
// freed, with their events, when the last of those goes: nothing is kept for dead runs or keys.
#pragma once

#include "runtime/event.hpp"
#include "runtime/state_bounds.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cep::compiler::interp {

// Live-node accounting of one matcher (and the tests' leak checks).
struct NodeCounter {
  std::uint64_t live = 0;
  std::uint64_t peak = 0;
  std::uint64_t event_bytes = 0; // block sizes of the events held by live nodes (upper bound:
                                 // an event bound by two nodes counts twice)
  runtime::DistinctEventBytes *distinct = nullptr; // with --max-state-bytes: events held
};

struct Node {
  runtime::EventRef event;
  std::int32_t step = -1;
  Node *prev = nullptr; // owns one reference
  std::uint32_t refs = 1;
  NodeCounter *counter = nullptr;
};

// An owning pointer to a node (retain on copy, release on destruction). Releasing the last
// reference frees the node and walks back iteratively, so long chains never recurse.
class NodeRef {
public:
  NodeRef() = default;
  NodeRef(const NodeRef &o) : n_(o.n_) { retain(); }
  NodeRef(NodeRef &&o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  NodeRef &operator=(NodeRef o) noexcept {
    std::swap(n_, o.n_);
    return *this;
  }
  ~NodeRef() { releaseChain(n_); }

  // A new node binding `event` to `step` after `prev` (which may be empty).
  static NodeRef bind(const runtime::EventRef &event, std::int32_t step, const NodeRef &prev,
                      NodeCounter *counter);

  const Node *get() const { return n_; }
  const Node *operator->() const { return n_; }
  explicit operator bool() const { return n_ != nullptr; }
  void reset() { *this = NodeRef(); }

private:
  void retain() const {
    if (n_) {
      ++n_->refs;
    }
  }
  static void releaseChain(Node *n);
  Node *n_ = nullptr;
};

// Size in bytes of an event's block (header, slots, strings, raw record) as far as the
// interpreter can tell: the header, the slots and the raw record.
std::size_t eventBlockBytes(const runtime::Event &e);

// The events of one run or match per step, in match order, materialised from its last node on
// first use (most conditions never look at earlier steps).
class BoundEvents {
public:
  BoundEvents(const Node *last, std::size_t step_count) : last_(last), step_count_(step_count) {}
  const std::vector<const runtime::Event *> &of(std::int32_t step) const;
  // Every node from the first to the last, in match order.
  const std::vector<const Node *> &nodes() const;

private:
  void materialise() const;
  const Node *last_;
  std::size_t step_count_;
  mutable bool done_ = false;
  mutable std::vector<const Node *> nodes_;
  mutable std::vector<std::vector<const runtime::Event *>> by_step_;
};

} // namespace cep::compiler::interp
