// Runs a list of passes over an NFA, verifying it after each one (compiler/nfa/verifier.hpp), with
// passes switched off by name (`cep explain --disable-pass`, as DuckDB's disabled optimizers).
#pragma once

#include "compiler/passes/pass.hpp"

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::passes {

class PassManager {
public:
  // The default pipeline: fold-constants, remove-dead-states, split-guards.
  static PassManager standard();

  void add(std::unique_ptr<Pass> pass);
  // Switches the named pass off; false when the manager has no pass of that name.
  bool disable(std::string_view name); // a pass name, or `all`
  // Disables every name of `names`; false with `error` ("unknown pass `x` for --disable-pass
  // (passes: …, or all)") at the first unknown one.
  bool disableAll(const std::vector<std::string> &names, std::string &error);
  // Every pass's name, in pipeline order.
  std::vector<std::string> names() const;
  // Runs the enabled passes in order, verifying after each; true when any changed the NFA.
  bool run(nfa::Nfa &nfa) const;

private:
  std::vector<std::unique_ptr<Pass>> passes_;
  std::set<std::string, std::less<>> disabled_;
};

} // namespace cep::compiler::passes
