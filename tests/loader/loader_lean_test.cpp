// Loading without ORC and without the shared libLLVM (tag [lean]): this executable links
// cep_loader_lean alone (loader.lean_binary checks that it needs no libLLVM), loads the .cepo
// fixtures made by the real `cep compile` (make_fixtures.cmake), links their x86-64 object code
// with our own linker (compiler/jit/object_linker.hpp) and runs it through the runtime's run
// loop: the output must be what the reference interpreter wrote (the fraud example) and the golden
// expectation (a match case). What needs the JIT (bitcode, another CPU) is refused as NeedsJit.
#define CATCH_CONFIG_MAIN
#include "compiler/artifact/load.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "tests/loader/run_matchers.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace artifact = cep::compiler::artifact;
namespace runtime = cep::runtime;

const std::string kFixtures = CEP_LOADER_FIXTURES;
const std::string kSource = CEP_SOURCE_DIR;

using cep::test::readFile;

// What a fresh set of the loaded matchers writes for the records of the file `events`.
std::string run(const artifact::LoadedArtifact &loaded, const std::string &events,
                std::int64_t max_delay_ms = 0) {
  return cep::test::runMatchers(*loaded.schema, loaded.makeMatchers({}), events, max_delay_ms);
}

// The kind and message of the LoadError loading `bytes` throws.
std::pair<artifact::LoadError::Kind, std::string> refusal(const std::string &bytes,
                                                          const artifact::LoadOptions &options) {
  try {
    artifact::loadArtifact(bytes, options);
  } catch (const artifact::LoadError &e) {
    return {e.kind(), e.what()};
  }
  FAIL("the artifact was loaded");
  return {};
}

} // namespace

TEST_CASE("the lean loader links and runs the fraud example's object code", "[lean]") {
  artifact::LoadOptions options;
  options.name = "fraud.cepo";
  artifact::LoadedArtifact loaded =
      artifact::loadArtifact(readFile(kFixtures + "/fraud.cepo"), options);
  CHECK(loaded.object_code);
  CHECK(loaded.jit == nullptr);
  CHECK(loaded.host == loaded.header.target);
  CHECK(run(loaded, kSource + "/examples/fraud/events.jsonl", 2000) ==
        readFile(kFixtures + "/fraud.expected.jsonl"));
}

TEST_CASE("the lean loader runs a golden match case's artifact", "[lean]") {
  const std::string folder = kSource + "/tests/golden/match/absence_same_deadline_pattern_order";
  artifact::LoadedArtifact loaded = artifact::loadArtifactFile(kFixtures + "/absence.cepo", {});
  CHECK(loaded.pattern_names == std::vector<std::string>{"unpaid_fast", "unpaid_slow"});
  CHECK(run(loaded, folder + "/events.jsonl") == readFile(folder + "/expected.jsonl"));
}

TEST_CASE("what needs the JIT is NeedsJit, not the user's fault", "[lean]") {
  const std::string bytes = readFile(kFixtures + "/absence.cepo");
  artifact::LoadOptions options;
  options.name = "absence.cepo";
  options.force_bitcode = true;
  auto [kind, message] = refusal(bytes, options);
  CHECK(kind == artifact::LoadError::Kind::NeedsJit);
  CHECK(message ==
        "absence.cepo: this program loads object code only: compiling its bitcode was asked for");

  artifact::Artifact other = artifact::decodeArtifact(bytes, "absence.cepo");
  other.header.target.cpu = "another-cpu";
  options.force_bitcode = false;
  std::tie(kind, message) = refusal(artifact::encodeArtifact(other), options);
  CHECK(kind == artifact::LoadError::Kind::NeedsJit);
  CHECK(message.rfind("absence.cepo: this program loads object code only: it was built for "
                      "another CPU (another-cpu, this host is ",
                      0) == 0);
}

TEST_CASE("the lean loader refuses a damaged artifact as the user's", "[lean]") {
  std::string bytes = readFile(kFixtures + "/absence.cepo");
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
  artifact::LoadOptions options;
  options.name = "damaged.cepo";
  auto [kind, message] = refusal(bytes, options);
  CHECK(kind == artifact::LoadError::Kind::User);
  CHECK(message.rfind("damaged.cepo: ", 0) == 0);
}
