// Subcommands whose engine has not landed yet. They fail loudly (exit 2), never succeed
// silently. Each moves to its own cmd_*.cpp when its issue lands.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

#include <iostream>

namespace cep::cli {

namespace {
int unavailable(const char *what) {
  std::cerr << "cep: " << what << " is not available in this build yet (see docs/ROADMAP.md)\n";
  return kUsage;
}
} // namespace

int runCompile(const CompileOptions &) {
  return unavailable("`cep compile`");
}

} // namespace cep::cli
