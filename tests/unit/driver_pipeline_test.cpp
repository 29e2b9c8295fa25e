// The compile pipeline (compiler/driver/pipeline.hpp, tag [driver]): each stage on its own,
// diagnostics instead of output, disabled passes honoured, both engines alike, artifacts.
#include "compiler/driver/pipeline.hpp"
#include "compiler/nfa/printer.hpp"
#include "driver_fixture_test.hpp"

#include <catch2/catch.hpp>
#include <sstream>

namespace {

namespace driver = cep::compiler::driver;
using cep::test::TempDir;

std::string nfaText(const std::vector<cep::compiler::nfa::Nfa> &nfas) {
  std::ostringstream out;
  for (const auto &nfa : nfas) {
    cep::compiler::nfa::printText(out, nfa);
  }
  return out.str();
}

} // namespace

TEST_CASE("Pipeline: check collects diagnostics and prints nothing", "[driver]") {
  TempDir dir;
  std::string bad = dir.write("bad.cep", "event E { x: int }\npattern p { a: E(y > 1) }\n");
  driver::Pipeline pipeline;
  CHECK_FALSE(pipeline.check({bad}));
  REQUIRE(pipeline.diagnostics().hasErrors());
  CHECK(pipeline.diagnostics().all().front().message.find("y") != std::string::npos);

  std::string good = dir.write("good.cep", cep::test::raiseRules());
  driver::Pipeline ok;
  REQUIRE(ok.check({good}));
  CHECK(ok.program().patterns.size() == 1);
  CHECK(ok.ruleFiles() == std::vector<std::string>{good});
  CHECK(ok.schema().types.size() == 1);
  CHECK(ok.sharedSchema().get() == &ok.schema()); // made once
}

TEST_CASE("Pipeline: more than 64 fields is a checker error at the type", "[driver]") {
  TempDir dir;
  std::string text = "event Wide { t: time";
  for (int i = 0; i < 64; ++i) {
    text += ", f" + std::to_string(i) + ": int";
  }
  text += " }\n";
  driver::Pipeline pipeline;
  CHECK_FALSE(pipeline.check({dir.write("wide.cep", text)}));
  const auto &all = pipeline.diagnostics().all();
  REQUIRE(all.size() == 1);
  CHECK(all.front().message == "event type `Wide` has 65 fields; at most 64 are supported");
  REQUIRE(all.front().range.has_value());
  CHECK(all.front().range->begin == 6); // `Wide`
  REQUIRE(all.front().notes.size() == 1);
}

TEST_CASE("Pipeline: parse alone stops before checking", "[driver]") {
  TempDir dir;
  // Parses, but does not check (unknown event type).
  std::string rules = cep::test::raiseRules();
  rules.replace(rules.find("a: Tx("), 6, "a: Nope(");
  std::string file = dir.write("p.cep", rules);
  driver::Pipeline pipeline;
  CHECK(pipeline.parse({file}));
  CHECK(pipeline.modules().size() == 1);
  CHECK_FALSE(pipeline.diagnostics().hasErrors());
  driver::Pipeline checked;
  CHECK_FALSE(checked.check({file}));
}

TEST_CASE("Pipeline: lower honours optimise and the disabled passes", "[driver]") {
  TempDir dir;
  std::string file = dir.write("r.cep", cep::test::raiseRules());
  driver::Pipeline all;
  REQUIRE(all.check({file}));
  driver::Pipeline none({{}, {"all"}});
  REQUIRE(none.check({file}));
  std::string raw = nfaText(all.lower({}, false));
  CHECK(nfaText(none.lower()) == raw);           // every pass disabled: as lowered
  CHECK(nfaText(none.lower({0}, false)) == raw); // pattern 0 selected by index
  CHECK(all.lower().size() == 1);

  std::string error;
  CHECK(driver::checkPassNames({"all"}, error));
  CHECK_FALSE(driver::checkPassNames({"no-such-pass"}, error));
  CHECK(error.find("no-such-pass") != std::string::npos);
}

TEST_CASE("Pipeline: interpreter and JIT matchers write the same records", "[driver]") {
  TempDir dir;
  std::string file = dir.write("r.cep", cep::test::raiseRules());
  std::string events_file = dir.write("e.jsonl", cep::test::raiseEvents(5));
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check({file}));
  auto events = cep::test::decodeEvents(events_file, pipeline.schema());
  REQUIRE(events.size() == 10);

  std::string error;
  driver::MatcherSet interp, jit;
  REQUIRE(pipeline.makeMatchers({driver::Engine::Interp, 2}, {}, interp, error));
  CHECK(interp.jit == nullptr);
  CHECK(interp.jit_stats.empty());
  REQUIRE(pipeline.makeMatchers({driver::Engine::Jit, 0}, {}, jit, error));
  REQUIRE(jit.jit != nullptr);
  REQUIRE(jit.jit_stats.size() == 1);
  CHECK(jit.jit_stats.front().patterns == 1);
  CHECK(jit.jit->optLevel() == 0);

  std::vector<std::string> expected = cep::test::runMatchers(interp.matchers, events);
  REQUIRE(expected.size() == 5);
  CHECK(expected.front().find("\"first\":150.0,\"second\":250.0") != std::string::npos);
  CHECK(cep::test::runMatchers(jit.matchers, events) == expected);
}

TEST_CASE("Pipeline: compileArtifact is reproducible and names sources relatively", "[driver]") {
  TempDir dir;
  std::string file = dir.write("r.cep", cep::test::raiseRules());
  auto compile = [&](std::vector<std::string> disabled) {
    driver::Pipeline pipeline({{}, std::move(disabled)});
    REQUIRE(pipeline.check({file}));
    cep::compiler::artifact::Artifact artifact;
    std::string error;
    REQUIRE(pipeline.compileArtifact({1, "test"}, artifact, error));
    return artifact;
  };
  auto a = compile({"split-guards", "split-guards"});
  CHECK(a.header.sources == std::vector<std::string>{"r.cep"});
  CHECK(a.header.cep_version == "test");
  CHECK(a.header.opt_level == 1);
  CHECK(a.header.disabled_passes == std::vector<std::string>{"split-guards"});
  REQUIRE(a.patterns.size() == 1);
  CHECK(a.patterns.front().name == "raise");
  CHECK_FALSE(a.object.empty());
  CHECK_FALSE(a.bitcode.empty());
  auto b = compile({"split-guards"});
  CHECK(cep::compiler::artifact::encodeArtifact(a) == cep::compiler::artifact::encodeArtifact(b));
}
