// Loading .cepo artifacts as a library call (compiler/artifact/load.hpp, tag [load]): good,
// corrupt and badly signed bytes, the hash and version, several matcher sets from one load, and
// loading and unloading on one thread while another runs a loaded matcher (compiler/jit/jit.hpp
// "Threads").
#include "compiler/artifact/load.hpp"
#include "compiler/artifact/signing.hpp"
#include "compiler/driver/pipeline.hpp"
#include "driver_fixture_test.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

namespace {

namespace artifact = cep::compiler::artifact;
namespace driver = cep::compiler::driver;
using cep::test::TempDir;

// The bytes of `rules` compiled as `cep compile` does (unsigned).
std::string compileBytes(const TempDir &dir, const std::string &rules) {
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({dir.write("rules.cep", rules)}));
  artifact::Artifact out;
  std::string error;
  REQUIRE(pipeline.compileArtifact({2, "test"}, out, error));
  return artifact::encodeArtifact(out);
}

artifact::LoadError::Kind
loadErrorKind(std::string_view bytes, const artifact::LoadOptions &options, std::string &message) {
  try {
    artifact::loadArtifact(bytes, options);
  } catch (const artifact::LoadError &e) {
    message = e.what();
    return e.kind();
  }
  FAIL("the artifact was loaded");
  return artifact::LoadError::Kind::Internal;
}

} // namespace

TEST_CASE("loadArtifact: a good artifact, object code and bitcode, several matcher sets",
          "[load]") {
  TempDir dir;
  std::string bytes = compileBytes(dir, cep::test::raiseRules());
  artifact::LoadOptions options;
  options.name = "good.cepo";
  artifact::LoadedArtifact loaded = artifact::loadArtifact(bytes, options);
  CHECK(loaded.object_code);
  CHECK(loaded.host == loaded.header.target);
  CHECK(loaded.header.opt_level == 2);
  CHECK(loaded.pattern_names == std::vector<std::string>{"raise"});
  REQUIRE(loaded.schema->types.size() == 1);
  CHECK(loaded.hash.size() == 64);
  CHECK(loaded.hash == artifact::artifactHash(bytes));
  CHECK(loaded.version() == loaded.hash.substr(0, 12));
  CHECK(loaded.jit == nullptr); // x86-64 object code: our linker, no load host

  auto events =
      cep::test::decodeEvents(dir.write("e.jsonl", cep::test::raiseEvents(4)), *loaded.schema);
  auto first = loaded.makeMatchers({});
  auto second = loaded.makeMatchers({}); // a fresh set: its own (empty) state
  std::vector<std::string> records = cep::test::runMatchers(first, events);
  CHECK(records.size() == 4);
  CHECK(cep::test::runMatchers(second, events) == records);

  options.force_bitcode = true;
  artifact::LoadedArtifact recompiled = artifact::loadArtifact(bytes, options);
  CHECK_FALSE(recompiled.object_code);
  CHECK(recompiled.jit != nullptr); // bitcode: the ORC load host
  CHECK(recompiled.hash == loaded.hash);
  CHECK(cep::test::runMatchers(recompiled.makeMatchers({}), events) == records);

  std::string path = dir.write("good.cepo", bytes);
  artifact::LoadedArtifact from_file = artifact::loadArtifactFile(path, {});
  CHECK(from_file.version() == loaded.version());
}

TEST_CASE("loadArtifact: the hash and version are stable across reloads and differ between "
          "programs",
          "[load]") {
  TempDir dir;
  std::string v1 = compileBytes(dir, cep::test::raiseRules("100.0"));
  CHECK(compileBytes(dir, cep::test::raiseRules("100.0")) == v1); // reproducible
  std::string v2 = compileBytes(dir, cep::test::raiseRules("200.0"));
  std::string a = artifact::loadArtifact(v1, {}).version();
  std::string b = artifact::loadArtifact(v1, {}).version();
  std::string c = artifact::loadArtifact(v2, {}).version();
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a.size() == 12);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("loadArtifact: corrupt bytes and bad signatures are the user's, with the reason",
          "[load]") {
  TempDir dir;
  std::string bytes = compileBytes(dir, cep::test::raiseRules());
  artifact::LoadOptions options;
  options.name = "x.cepo";
  std::string message;

  CHECK(loadErrorKind("not an artifact", options, message) == artifact::LoadError::Kind::User);
  CHECK(message.rfind("x.cepo: ", 0) == 0);

  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5a);
  CHECK(loadErrorKind(flipped, options, message) == artifact::LoadError::Kind::User);
  CHECK(message.find("checksum") != std::string::npos);

  std::string truncated = bytes.substr(0, bytes.size() - 7);
  CHECK(loadErrorKind(truncated, options, message) == artifact::LoadError::Kind::User);

  artifact::PublicKey signer_public, other_public;
  artifact::SecretKey signer_secret, other_secret;
  std::string error;
  REQUIRE(artifact::generateKeyPair(signer_public, signer_secret, error));
  REQUIRE(artifact::generateKeyPair(other_public, other_secret, error));
  std::string signed_bytes = artifact::signArtifact(bytes, signer_secret);
  options.trusted = {other_public};
  CHECK(loadErrorKind(signed_bytes, options, message) == artifact::LoadError::Kind::User);
  CHECK(loadErrorKind(bytes, options, message) == artifact::LoadError::Kind::User); // unsigned
  options.trusted = {signer_public};
  CHECK(artifact::loadArtifact(signed_bytes, options).pattern_names.size() == 1);

  try {
    artifact::loadArtifactFile(dir.write("empty.cepo", ""), {});
    FAIL("an empty file was loaded");
  } catch (const artifact::LoadError &e) {
    CHECK(e.user());
  }
}

TEST_CASE("loadArtifact: loading and unloading on one thread while another runs a loaded matcher",
          "[load]") {
  TempDir dir;
  std::string v1 = compileBytes(dir, cep::test::raiseRules("100.0"));
  std::string v2 = compileBytes(dir, cep::test::raiseRules("200.0"));
  std::string error;
  std::shared_ptr<cep::compiler::jit::Jit> jit = cep::compiler::jit::Jit::create(2, error);
  REQUIRE(jit);
  artifact::LoadOptions options;
  options.jit = jit;
  artifact::LoadedArtifact running = artifact::loadArtifact(v1, options);
  auto events =
      cep::test::decodeEvents(dir.write("e.jsonl", cep::test::raiseEvents(50)), *running.schema);
  std::vector<std::string> expected = cep::test::runMatchers(running.makeMatchers({}), events);
  REQUIRE(expected.size() == 50);

  // The event thread: fresh matchers of the loaded v1 over all events, again and again, until
  // the loader is done (bounded: at most 100000 passes); it also runs, then drops, each matcher
  // set the loader hands over, so those modules are unloaded on this thread while the loader
  // loads the next one.
  std::atomic<bool> loading_done{false};
  std::atomic<int> passes{0}, wrong{0}, handed_matches{0}, handed_runs{0};
  std::mutex handover_mutex;
  std::vector<std::vector<std::unique_ptr<cep::runtime::Matcher>>> handover;
  std::thread events_thread([&] {
    for (int i = 0; i < 100000 && (!loading_done.load() || i < 3 || handed_runs.load() < 20); ++i) {
      if (cep::test::runMatchers(running.makeMatchers({}), events) != expected) {
        ++wrong;
      }
      ++passes;
      std::vector<std::vector<std::unique_ptr<cep::runtime::Matcher>>> taken;
      {
        std::lock_guard lock(handover_mutex);
        taken.swap(handover);
      }
      for (auto &set : taken) {
        handed_matches += static_cast<int>(cep::test::runMatchers(set, events).size());
        ++handed_runs;
        set.clear(); // the last reference to its module: unloaded here
      }
    }
  });
  // This thread: 20 loads into the same Jit (v1 and v2, object code and bitcode); each
  // LoadedArtifact is dropped at once, its matchers handed to the event thread.
  int loads = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (int i = 0; i < 20 && std::chrono::steady_clock::now() < deadline; ++i) {
    artifact::LoadOptions each = options;
    each.force_bitcode = i % 4 == 3;
    auto matchers = artifact::loadArtifact(i % 2 == 0 ? v2 : v1, each).makeMatchers({});
    {
      std::lock_guard lock(handover_mutex);
      handover.push_back(std::move(matchers));
    }
    ++loads;
  }
  loading_done = true;
  events_thread.join();
  CHECK(loads == 20);
  CHECK(handed_runs.load() == 20);
  CHECK(handed_matches.load() == 10 * 50); // v1's ten loads; v2 (a: amount > 200.0) matches none
  CHECK(passes.load() >= 3);
  CHECK(wrong.load() == 0);
}
