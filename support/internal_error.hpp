// Internal errors: a bug in cep, never the rule author's or the data's fault. The CLI prints
// them as `internal error: ...` and exits 70, which fuzzers and tests key on.
#pragma once

#include <stdexcept>
#include <string>

namespace cep {

class InternalError : public std::logic_error {
public:
  explicit InternalError(const std::string &what) : std::logic_error(what) {}
};

// Always-on assertion: throws InternalError with the location.
#define CEP_ASSERT(cond, msg)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      throw ::cep::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) +          \
                                 ": assertion `" #cond "` failed: " + (msg));                      \
    }                                                                                              \
  } while (false)

} // namespace cep
