// libFuzzer target: mutated .cepo artifacts through the whole load path
// (tests/fuzz/artifact_fuzz.hpp): checksums recomputed, then parse, verify, verify the code, load
// it, and run the loaded matchers when the code sections are the seed's. Refusals are fine; it
// fails on crashes, on what the sanitizers catch and on any exception other than a refusal. The
// seed is tests/fuzz/artifact_seed.cep compiled at start-up; with CEP_FUZZ_SEED_OUT=FILE it is also
// written there (make fuzz-artifacts puts it in the corpus). See tests/fuzz/README.md.
#include "artifact_fuzz.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

namespace {

cep::fuzz::ArtifactSeed *seed = nullptr;
cep::compiler::jit::Jit *jit = nullptr;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  try {
    seed = new cep::fuzz::ArtifactSeed(
        cep::fuzz::compileArtifactSeed(CEP_SOURCE_DIR "/tests/fuzz/artifact_seed.cep"));
  } catch (const std::exception &e) {
    std::fprintf(stderr, "artifact_load_fuzz: %s\n", e.what());
    std::abort();
  }
  std::string error;
  jit = cep::compiler::jit::Jit::create(2, error).release();
  if (jit == nullptr) {
    std::fprintf(stderr, "artifact_load_fuzz: %s\n", error.c_str());
    std::abort();
  }
  if (const char *out = std::getenv("CEP_FUZZ_SEED_OUT")) {
    std::ofstream file(out, std::ios::binary);
    file.write(seed->bytes.data(), static_cast<std::streamsize>(seed->bytes.size()));
  }
  // The seed itself must load and run, else the fuzzer would explore nothing.
  std::string reason;
  std::size_t matches = 0;
  if (cep::fuzz::runArtifactInput(seed->bytes, *seed, *jit, reason, matches) !=
          cep::fuzz::ArtifactOutcome::Ran ||
      matches == 0) {
    std::fprintf(stderr, "artifact_load_fuzz: the seed does not run: %s\n", reason.c_str());
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string reason;
  std::size_t matches = 0;
  try {
    cep::fuzz::runArtifactInput(std::string(reinterpret_cast<const char *>(data), size), *seed,
                                *jit, reason, matches);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "artifact_load_fuzz: escaped exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
