// artifact::hostTarget (compiler/jit/host_cpu.cpp, LLVM's host detection alone, tag [objlink])
// is what the JIT targets (compiler/jit/host_target.hpp hostTargetMachineBuilder, ORC's
// detectHost): if they differed, every object `cep compile` makes on this host would be taken
// for another CPU's and its bitcode compiled again.
#include "compiler/artifact/load.hpp"
#include "compiler/jit/host_target.hpp"

#include <catch2/catch.hpp>

TEST_CASE("hostTarget equals the target of the JIT's host target machine builder", "[objlink]") {
  namespace artifact = cep::compiler::artifact;
  namespace jit = cep::compiler::jit;
  artifact::Target host;
  std::string error;
  REQUIRE(artifact::hostTarget(host, error));
  auto builder = jit::hostTargetMachineBuilder(2);
  REQUIRE(static_cast<bool>(builder));
  artifact::Target expected = jit::targetOf(*builder);
  CHECK(host.triple == expected.triple);
  CHECK(host.cpu == expected.cpu);
  CHECK(host.features == expected.features);
  CHECK(host == expected);
}
