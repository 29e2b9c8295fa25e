// The unit tests' main: Catch2's, after the bitcode check a test may start
// (compiler/jit/verify_code.hpp runBitcodeCheckChild: the tests load bitcode with threads running).
#define CATCH_CONFIG_RUNNER
#include "compiler/jit/verify_code.hpp"

#include <catch2/catch.hpp>

int main(int argc, char **argv) {
  if (int rc = cep::compiler::jit::runBitcodeCheckChild(); rc >= 0) {
    return rc;
  }
  cep::compiler::jit::useFreshProcessForBitcodeCheck();
  return Catch::Session().run(argc, argv);
}
