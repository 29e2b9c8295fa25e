#include "compiler/passes/pass_manager.hpp"

#include "compiler/nfa/verifier.hpp"

namespace cep::compiler::passes {

PassManager PassManager::standard() {
  PassManager pm;
  pm.add(createFoldConstantsPass());
  pm.add(createRemoveDeadStatesPass());
  pm.add(createSplitGuardsPass());
  return pm;
}

void PassManager::add(std::unique_ptr<Pass> pass) {
  passes_.push_back(std::move(pass));
}

bool PassManager::disable(std::string_view name) {
  if (name == "all") { // every pass off: the lowered NFA runs as built
    for (const auto &p : passes_) {
      disabled_.emplace(p->name());
    }
    return true;
  }
  for (const auto &p : passes_) {
    if (p->name() == name) {
      disabled_.emplace(name);
      return true;
    }
  }
  return false;
}

std::vector<std::string> PassManager::names() const {
  std::vector<std::string> out;
  for (const auto &p : passes_) {
    out.emplace_back(p->name());
  }
  return out;
}

bool PassManager::run(nfa::Nfa &nfa) const {
  bool changed = false;
  for (const auto &p : passes_) {
    if (disabled_.count(p->name()) != 0) {
      continue;
    }
    // Only fold-constants may disconnect the accepting states (it removes edges that can never
    // be followed: a pattern that can never match); every other pass keeps what was reachable.
    bool keep_accepting = p->kind() != PassKind::FoldConstants && nfa::acceptingReachable(nfa);
    changed = p->run(nfa) || changed;
    nfa::verify(nfa, "after pass " + std::string(p->name()), keep_accepting);
  }
  return changed;
}

bool PassManager::disableAll(const std::vector<std::string> &names, std::string &error) {
  for (const auto &name : names) {
    if (!disable(name)) {
      std::string known;
      for (const auto &n : this->names()) {
        known += (known.empty() ? "" : ", ") + n;
      }
      error = "unknown pass `" + name + "` for --disable-pass (passes: " + known + ", or all)";
      return false;
    }
  }
  return true;
}

} // namespace cep::compiler::passes
