#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/version.hpp"

#include <iostream>

namespace cep::cli {

int runVersion() {
  std::cout << "cep " << CEP_VERSION << " (pattern language v0.1, LLVM " << CEP_LLVM_VERSION
            << ")\n";
  return kOk;
}

} // namespace cep::cli
