// libFuzzer target: parse + check arbitrary bytes. Fails only on internal errors (and on what
// the sanitizers catch), never on diagnostics. See tests/fuzz/README.md.
#include "support/internal_error.hpp"
#include "tests/fuzz/fuzz_frontend.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::ostringstream sink;
  try {
    cep::fuzz::runFrontend(std::string(reinterpret_cast<const char *>(data), size), sink);
  } catch (const cep::InternalError &e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    std::abort();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "internal error: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
