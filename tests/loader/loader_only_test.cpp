// Loading without the front end (tag [loader]): this executable links cep_loader alone (no
// cep_lang, PEGTL, lowering or code generator: loader.link_closure checks it), loads .cepo files
// made by the real `cep compile` (the ctest fixture loader.fixtures, make_fixtures.cmake) and
// runs their matchers through the runtime's run loop. The output must be what the reference
// interpreter wrote for the same rules (the fraud example) and the golden expectation (a match
// case), from the object code and from the bitcode.
#include "compiler/artifact/load.hpp"
#include "compiler/jit/load_host.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "tests/loader/run_matchers.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace artifact = cep::compiler::artifact;
namespace jit = cep::compiler::jit;
namespace runtime = cep::runtime;

const std::string kFixtures = CEP_LOADER_FIXTURES;
const std::string kSource = CEP_SOURCE_DIR;

using cep::test::readFile;

using cep::test::runMatchers;

// What a fresh set of the loaded patterns' matchers writes for `events`.
std::string run(const artifact::LoadedArtifact &loaded, const std::string &events,
                std::int64_t max_delay_ms = 0) {
  return runMatchers(*loaded.schema, loaded.makeMatchers({}), events, max_delay_ms);
}

std::size_t lines(const std::string &text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

TEST_CASE("the fraud example's artifact writes what the interpreter writes, from "
          "its object code and from its bitcode",
          "[loader]") {
  const std::string bytes = readFile(kFixtures + "/fraud.cepo");
  const std::string expected = readFile(kFixtures + "/fraud.expected.jsonl");
  const std::string events = kSource + "/examples/fraud/events.jsonl";
  REQUIRE(lines(expected) > 10);

  artifact::LoadOptions options;
  options.name = "fraud.cepo";
  artifact::LoadedArtifact loaded = artifact::loadArtifact(bytes, options);
  CHECK(loaded.object_code);
  CHECK(loaded.pattern_names.size() == 6);
  CHECK(run(loaded, events, 2000) == expected);

  options.force_bitcode = true;
  artifact::LoadedArtifact recompiled = artifact::loadArtifact(bytes, options);
  CHECK_FALSE(recompiled.object_code);
  CHECK(run(recompiled, events, 2000) == expected);
}

TEST_CASE("a golden match case's artifact writes its expected.jsonl", "[loader]") {
  const std::string folder = kSource + "/tests/golden/match/absence_same_deadline_pattern_order";
  artifact::LoadedArtifact loaded = artifact::loadArtifactFile(kFixtures + "/absence.cepo", {});
  CHECK(loaded.pattern_names == std::vector<std::string>{"unpaid_fast", "unpaid_slow"});
  CHECK(run(loaded, folder + "/events.jsonl") == readFile(folder + "/expected.jsonl"));
}

TEST_CASE("one load host for several artifacts, code unloaded per artifact", "[loader]") {
  std::string error;
  std::shared_ptr<jit::LoadHost> host = jit::LoadHost::create(2, error);
  REQUIRE(host != nullptr);
  const std::string folder = kSource + "/tests/golden/match/absence_same_deadline_pattern_order";
  const std::string expected = readFile(folder + "/expected.jsonl");
  artifact::LoadOptions options;
  options.jit = host;
  // Many loads and unloads of the same artifact in one host, the last one kept.
  const std::string bytes = readFile(kFixtures + "/absence.cepo");
  for (int i = 0; i < 20; ++i) {
    artifact::LoadedArtifact transient = artifact::loadArtifact(bytes, options);
    CHECK(transient.jit == host);
    if (i % 5 == 0) {
      CHECK(run(transient, folder + "/events.jsonl") == expected);
    }
  } // each one's code is removed from the host here
  artifact::LoadedArtifact fraud =
      artifact::loadArtifact(readFile(kFixtures + "/fraud.cepo"), options);
  artifact::LoadedArtifact absence = artifact::loadArtifact(bytes, options);
  std::shared_ptr<const runtime::Schema> schema = absence.schema;
  auto kept = absence.makeMatchers({}); // outlive the artifact: they keep its code loaded
  absence = artifact::LoadedArtifact();
  CHECK(run(fraud, kSource + "/examples/fraud/events.jsonl", 2000) ==
        readFile(kFixtures + "/fraud.expected.jsonl"));
  CHECK(runMatchers(*schema, kept, folder + "/events.jsonl") == expected);
}

TEST_CASE("a damaged artifact is the user's fault, with the reason", "[loader]") {
  std::string bytes = readFile(kFixtures + "/absence.cepo");
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
  artifact::LoadOptions options;
  options.name = "damaged.cepo";
  try {
    artifact::loadArtifact(bytes, options);
    FAIL("a damaged artifact was loaded");
  } catch (const artifact::LoadError &e) {
    CHECK(e.user());
    CHECK(std::string(e.what()).rfind("damaged.cepo: ", 0) == 0);
  }
}

TEST_CASE("the host as the loader targets it", "[loader]") {
  artifact::Target host;
  std::string error;
  REQUIRE(artifact::hostTarget(host, error));
  CHECK_FALSE(host.triple.empty());
  CHECK_FALSE(host.cpu.empty());
  CHECK(std::is_sorted(host.features.begin(), host.features.end()));
}
