// A deterministic checkpoint history for the checkpoint store tests: the changes of checkpoint
// i depend on i alone, so a process killed at any moment and restarted from the latest
// checkpoint L continues with L+1, and a model replaying 1..L says what L must hold. Shared by
// state_store_test.cpp and the child it kills (store_kill_helper.cpp).
#pragma once

#include "runtime/state/store/checkpoint_store.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace cep::test::store_model {

struct State {
  std::string meta;
  std::map<std::uint64_t, std::map<std::string, std::string>> operators;
  std::map<std::string, std::string> artifacts;
};

// Calls out.put / erase / dropOperator / putArtifact / eraseArtifact / setMeta in order; `Out`
// is a CheckpointStore::Batch or the Model below.
template <class Out> void changesOf(std::uint64_t i, Out &out) {
  out.setMeta("meta-" + std::to_string(i));
  for (std::uint64_t op = 1; op <= 3; ++op) {
    std::map<std::string, bool> put;
    std::size_t puts = (op == 2 && i % 5 == 0) ? 2000 : 20; // now and then a long commit
    for (std::size_t j = 0; j < puts; ++j) {
      std::string key = "k" + std::to_string((i * 7 + j * 13 + op) % 3000);
      put[key] = true;
      out.put(op, key, "v" + std::to_string(i) + "-" + key + std::string((i % 5) * 40, 'x'));
    }
    std::string gone = "k" + std::to_string((i * 11 + op) % 3000);
    if (!put.count(gone)) {
      out.erase(op, gone);
    }
  }
  if (i % 7 == 0) {
    out.dropOperator(3); // recreated by the next checkpoint's puts
  }
  if (i % 9 == 0) {
    out.dropOperator(1); // dropped and started again in the same checkpoint
    out.put(1, "fresh", "after the drop of " + std::to_string(i));
  }
  out.putArtifact("h" + std::to_string(i), "artifact " + std::to_string(i));
  if (i > 3) {
    out.eraseArtifact("h" + std::to_string(i - 3));
  }
}

// Applies changes the way a batch does.
struct Model {
  State state;
  void setMeta(const std::string &m) { state.meta = m; }
  void put(std::uint64_t op, const std::string &k, const std::string &v) {
    state.operators[op][k] = v;
  }
  void erase(std::uint64_t op, const std::string &k) {
    auto it = state.operators.find(op);
    if (it != state.operators.end()) {
      it->second.erase(k);
    }
  }
  void dropOperator(std::uint64_t op) { state.operators.erase(op); }
  void putArtifact(const std::string &h, const std::string &b) { state.artifacts[h] = b; }
  void eraseArtifact(const std::string &h) { state.artifacts.erase(h); }
};

inline State stateAfter(std::uint64_t last) {
  Model m;
  for (std::uint64_t i = 1; i <= last; ++i) {
    changesOf(i, m);
  }
  return m.state;
}

} // namespace cep::test::store_model
