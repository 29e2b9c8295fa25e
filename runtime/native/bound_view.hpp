// The native matcher's bound events: a pool of binding nodes (the SharedBuffer equivalent of
// compiler/interp/bindings.hpp, but index-based, pooled and free-listed so binding an event
// never calls malloc in steady state), and the `ctx` that generated code sees for one run or
// match (BoundView: that run's bound events per step, materialised lazily into reused vectors,
// and a string arena for cep_rt_alloc). The extern "C" cep_rt_* helpers of image.hpp are
// defined in bound_view.cpp.
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/event.hpp"
#include "runtime/state_bounds.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cep::runtime::native {

constexpr std::uint32_t kNoNode = UINT32_MAX;

// Block bytes of an event as the matcher accounts them: header, slots, raw record.
std::size_t eventBlockBytes(const Event &e);

// One bound event: the event (one counted reference), the step it was bound to and the node
// bound before it (one counted reference). Refcounted by runs, held matches and later nodes.
struct Node {
  const Event *event = nullptr;
  std::uint32_t prev = kNoNode; // also the free-list link of a free node
  std::int32_t step = -1;
  std::uint32_t refs = 0;
};

class NodePool {
public:
  NodePool() = default;
  NodePool(const NodePool &) = delete;
  NodePool &operator=(const NodePool &) = delete;

  // A new node (refs = 1) binding `e` to `step` after `prev` (kNoNode: none); retains both.
  std::uint32_t bind(const Event *e, std::int32_t step, std::uint32_t prev);
  void retain(std::uint32_t n) {
    if (n != kNoNode) {
      ++nodes_[n].refs;
    }
  }
  // Drops one reference; frees the node (and walks back iteratively) when it was the last.
  void release(std::uint32_t n);

  const Node &operator[](std::uint32_t n) const { return nodes_[n]; }
  std::uint64_t live() const { return live_; }
  std::uint64_t eventBytes() const { return event_bytes_; }
  std::size_t capacity() const { return nodes_.size(); }
  // With --max-state-bytes: tell `distinct` about every event a node starts or stops holding.
  void trackDistinct(DistinctEventBytes *distinct) { distinct_ = distinct; }
  // Takes every node of `other` (an empty pool; node numbers stay), leaving `other` empty.
  // The distinct-bytes tracker stays each pool's own.
  void takeOver(NodePool &other);
  // Renumbers the steps of the live nodes: step s becomes to[s] (NativeMatcher::adoptFrom).
  void remapSteps(const std::vector<std::int32_t> &to);

private:
  std::vector<Node> nodes_;
  DistinctEventBytes *distinct_ = nullptr;
  std::uint32_t free_ = kNoNode;
  std::uint64_t live_ = 0;
  std::uint64_t event_bytes_ = 0;
};

// What `ctx` points at while generated code runs for one run or match. One per matcher,
// reset for each run: materialised lists and arena blocks keep their capacity.
class BoundView {
public:
  BoundView(const NodePool &pool, std::size_t step_count);
  BoundView(const BoundView &) = delete;
  BoundView &operator=(const BoundView &) = delete;

  // Look at the run or match whose last bound node is `last` (kNoNode: nothing bound).
  void reset(std::uint32_t last) {
    last_ = last;
    done_ = last == kNoNode;
    block_ = 0;
    used_ = 0;
    if (dirty_ || !big_.empty()) {
      clearLists();
    }
  }

  // Events bound to `step`, in match order (empty for an unknown step).
  const std::vector<const Event *> &of(std::int32_t step) const;
  // Bytes valid until the next reset.
  char *alloc(std::uint64_t size) const;

private:
  void materialise() const;
  void clearLists(); // empties the materialised lists, frees oversized arena blocks

  const NodePool *pool_;
  std::uint32_t last_ = kNoNode;
  mutable bool done_ = true;
  mutable bool dirty_ = false; // some list is non-empty
  mutable std::vector<std::vector<const Event *>> by_step_;
  std::vector<const Event *> empty_;

  // The arena: fixed-size blocks reused across resets; oversized requests get their own block,
  // freed at the next reset.
  static constexpr std::size_t kBlock = 4096;
  mutable std::vector<std::unique_ptr<char[]>> blocks_;
  mutable std::vector<std::unique_ptr<char[]>> big_;
  mutable std::size_t block_ = 0; // current block
  mutable std::size_t used_ = 0;  // bytes used in it
};

} // namespace cep::runtime::native
