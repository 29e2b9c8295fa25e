// NodePool, BoundView and the cep_rt_* helpers generated code calls (runtime/native/image.hpp).
#include "runtime/native/bound_view.hpp"

#include "runtime/native/image.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace cep::runtime::native {

std::size_t eventBlockBytes(const Event &e) {
  return sizeof(Event) + e.field_count * sizeof(Slot) + e.raw_size;
}

std::uint32_t NodePool::bind(const Event *e, std::int32_t step, std::uint32_t prev) {
  std::uint32_t n;
  if (free_ != kNoNode) {
    n = free_;
    free_ = nodes_[n].prev;
  } else {
    CEP_ASSERT(nodes_.size() < kNoNode, "too many bound events");
    n = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  retain(prev);
  runtime::retain(e);
  nodes_[n] = Node{e, prev, step, 1};
  ++live_;
  event_bytes_ += eventBlockBytes(*e);
  if (distinct_ != nullptr) {
    distinct_->add(*e);
  }
  return n;
}

void NodePool::release(std::uint32_t n) {
  while (n != kNoNode) {
    Node &node = nodes_[n];
    CEP_ASSERT(node.refs > 0, "releasing a free node");
    if (--node.refs != 0) {
      return;
    }
    std::uint32_t prev = node.prev;
    event_bytes_ -= eventBlockBytes(*node.event);
    if (distinct_ != nullptr) {
      distinct_->remove(*node.event);
    }
    runtime::release(node.event);
    node.event = nullptr;
    node.prev = free_;
    free_ = n;
    --live_;
    n = prev;
  }
}

void NodePool::takeOver(NodePool &other) {
  CEP_ASSERT(live_ == 0, "taking over nodes into a pool that holds some");
  nodes_ = std::move(other.nodes_);
  free_ = other.free_;
  live_ = other.live_;
  event_bytes_ = other.event_bytes_;
  other.nodes_.clear();
  other.free_ = kNoNode;
  other.live_ = 0;
  other.event_bytes_ = 0;
}

void NodePool::remapSteps(const std::vector<std::int32_t> &to) {
  for (Node &node : nodes_) {
    if (node.refs != 0 && node.step >= 0) {
      node.step = to.at(static_cast<std::size_t>(node.step));
    }
  }
}

BoundView::BoundView(const NodePool &pool, std::size_t step_count)
    : pool_(&pool), by_step_(step_count) {}

void BoundView::clearLists() {
  if (dirty_) {
    for (auto &v : by_step_) {
      v.clear();
    }
    dirty_ = false;
  }
  big_.clear();
}

void BoundView::materialise() const {
  done_ = true;
  dirty_ = true;
  // Walk back from the last node, then reverse each list into match order.
  for (std::uint32_t n = last_; n != kNoNode; n = (*pool_)[n].prev) {
    const Node &node = (*pool_)[n];
    CEP_ASSERT(node.step >= 0 && static_cast<std::size_t>(node.step) < by_step_.size(),
               "bound event of an unknown step");
    by_step_[static_cast<std::size_t>(node.step)].push_back(node.event);
  }
  for (auto &v : by_step_) {
    std::reverse(v.begin(), v.end());
  }
}

const std::vector<const Event *> &BoundView::of(std::int32_t step) const {
  if (step < 0 || static_cast<std::size_t>(step) >= by_step_.size()) {
    return empty_;
  }
  if (!done_) {
    materialise();
  }
  return by_step_[static_cast<std::size_t>(step)];
}

char *BoundView::alloc(std::uint64_t size) const {
  size = std::max<std::uint64_t>(size, 1);
  std::size_t aligned = static_cast<std::size_t>((size + 7) & ~std::uint64_t{7});
  if (aligned > kBlock / 4) {
    big_.push_back(std::make_unique<char[]>(aligned));
    return big_.back().get();
  }
  if (blocks_.empty() || used_ + aligned > kBlock) {
    if (!blocks_.empty()) {
      ++block_;
    }
    if (block_ == blocks_.size()) {
      blocks_.push_back(std::make_unique<char[]>(kBlock));
    }
    used_ = 0;
  }
  char *p = blocks_[block_].get() + used_;
  used_ += aligned;
  return p;
}

} // namespace cep::runtime::native

using cep::runtime::native::BoundView;

extern "C" {

std::int64_t cep_rt_bound_count(const void *ctx, std::int32_t step) {
  if (ctx == nullptr) {
    return 0;
  }
  return static_cast<std::int64_t>(static_cast<const BoundView *>(ctx)->of(step).size());
}

const cep::runtime::Event *cep_rt_bound_at(const void *ctx, std::int32_t step, std::int64_t index) {
  return static_cast<const BoundView *>(ctx)->of(step)[static_cast<std::size_t>(index)];
}

char *cep_rt_alloc(const void *ctx, std::uint64_t size) {
  return static_cast<const BoundView *>(ctx)->alloc(size);
}

std::int32_t cep_rt_strcmp(const char *a, std::uint64_t an, const char *b, std::uint64_t bn) {
  int c = std::string_view(a, an).compare(std::string_view(b, bn));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

} // extern "C"
