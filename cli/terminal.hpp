// Whether to color diagnostics: --color=always|never, or auto = stderr is a terminal and
// NO_COLOR is not set.
#pragma once

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace cep::cli {

inline bool useColor(const std::string &mode) {
  if (mode == "always") {
    return true;
  }
  if (mode == "never") {
    return false;
  }
  return isatty(STDERR_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
}

} // namespace cep::cli
