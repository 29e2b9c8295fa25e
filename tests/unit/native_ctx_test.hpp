// Test helper: the `ctx` generated code reads bound events through (a native BoundView) over the
// same events as an interpreter binding chain, so generated functions can be called directly and
// compared with the interpreter's Evaluator on the same bindings.
#pragma once

#include "compiler/interp/bindings.hpp"
#include "runtime/native/bound_view.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace native_test {

class NativeCtx {
public:
  // `last`: the interpreter chain's last node (null: nothing bound).
  NativeCtx(const cep::compiler::interp::Node *last, std::size_t step_count)
      : view_(pool_, step_count) {
    std::vector<const cep::compiler::interp::Node *> chain;
    for (const auto *n = last; n != nullptr; n = n->prev) {
      chain.push_back(n);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      std::uint32_t node = pool_.bind((*it)->event.get(), (*it)->step, last_);
      pool_.release(last_); // the new node holds the previous one
      last_ = node;
    }
    view_.reset(last_);
  }
  ~NativeCtx() { pool_.release(last_); }
  NativeCtx(const NativeCtx &) = delete;
  NativeCtx &operator=(const NativeCtx &) = delete;

  const void *get() {
    view_.reset(last_); // a fresh arena for each call
    return &view_;
  }

private:
  cep::runtime::native::NodePool pool_;
  cep::runtime::native::BoundView view_;
  std::uint32_t last_ = cep::runtime::native::kNoNode;
};

} // namespace native_test
