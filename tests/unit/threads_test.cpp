// Runs on several threads at once (tag [threads], ctest label `threads`; `make tsan` builds and
// runs these under ThreadSanitizer). Today `cep run` is single-threaded, but a serving process
// compiles or loads rules on one thread while another matches events, so nothing reachable from
// a run may share mutable state between two independent runs: the front end, the lowering and
// passes, the JIT (its target set-up is process-wide), the decoder, the matchers of both
// engines, the stdlib functions and the output. Each test does the same work on every thread
// and compares what each thread wrote with what one thread alone writes. Catch2 assertions are
// not thread-safe: threads only record, the main thread checks.
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "lang/frontend.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/native/native_matcher.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace cep;

std::string sourcePath(const std::string &relative) {
  return (fs::path(CEP_SOURCE_DIR) / relative).string();
}

// The fraud example's rules over the first part of its sample stream (examples/fraud): enough
// records for every pattern to match, few enough for an instrumented build.
const std::vector<std::string> &exampleRules() {
  static const std::vector<std::string> rules{sourcePath("examples/fraud/accounts.cep"),
                                              sourcePath("examples/fraud/orders.cep"),
                                              sourcePath("examples/fraud/payments.cep")};
  return rules;
}

// What one run wrote, or why it could not run.
struct Outcome {
  std::string output;
  std::string error;
};

// Everything `cep run` does for the example, on the calling thread: front end, lowering and
// passes, the matchers (JIT-compiled native ones with `jit`, else the interpreter's), the run.
Outcome runExample(bool jit_engine) {
  Outcome outcome;
  lang::SourceManager sources;
  lang::DiagnosticEngine diags(sources);
  lang::Frontend frontend = lang::loadProgram(exampleRules(), sources, diags, {});
  if (diags.hasErrors() || !frontend.program) {
    outcome.error = "the example's rules do not check";
    return outcome;
  }
  const lang::typed::Program &program = *frontend.program;
  runtime::Schema schema = compiler::schemaFromProgram(program);
  compiler::passes::PassManager passes = compiler::passes::PassManager::standard();
  std::vector<compiler::nfa::Nfa> nfas;
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    nfas.push_back(compiler::lowerPattern(program, static_cast<std::int32_t>(i)));
    passes.run(nfas.back());
  }
  std::vector<std::unique_ptr<runtime::Matcher>> owned;
  std::unique_ptr<compiler::jit::Jit> jit;
  if (jit_engine) {
    std::string error;
    jit = compiler::jit::Jit::create(2, error);
    if (!jit) {
      outcome.error = "Jit::create: " + error;
      return outcome;
    }
    compiler::jit::ModuleStats stats;
    auto loaded = jit->compileProgram(program, nfas, stats, error);
    if (!loaded) {
      outcome.error = "compileProgram: " + error;
      return outcome;
    }
    auto shared_schema = std::make_shared<const runtime::Schema>(schema);
    for (std::size_t i = 0; i < loaded->images.size(); ++i) {
      owned.push_back(runtime::native::makeNativeMatcher(shared_schema, loaded->images[i],
                                                         loaded->code[i], {}));
    }
  } else {
    for (std::size_t i = 0; i < nfas.size(); ++i) {
      owned.push_back(compiler::interp::makeInterpMatcher(program, static_cast<std::int32_t>(i),
                                                          std::move(nfas[i]), {}));
    }
  }
  std::vector<runtime::Matcher *> matchers;
  for (const auto &m : owned) {
    matchers.push_back(m.get());
  }
  runtime::OutputSink sink(outcome.output);
  runtime::RunOptions options;
  options.max_delay_ms = 2000;
  runtime::RunResult result = runtime::run(
      schema, matchers, {{sourcePath("examples/fraud/events.jsonl"), ""}}, sink, options);
  sink.flush();
  if (result.status != runtime::RunStatus::Ok) {
    outcome.error = "run: " + result.message;
  }
  return outcome;
}

// `threads` threads each run the example at once; each must write `reference`.
void checkOnThreads(int threads, const std::vector<bool> &jit_per_thread,
                    const std::string &reference) {
  std::vector<Outcome> outcomes(static_cast<std::size_t>(threads));
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&outcomes, &jit_per_thread, t] {
      outcomes[static_cast<std::size_t>(t)] =
          runExample(jit_per_thread[static_cast<std::size_t>(t) % jit_per_thread.size()]);
    });
  }
  for (std::thread &thread : running) {
    thread.join();
  }
  for (int t = 0; t < threads; ++t) {
    INFO("thread " << t);
    CHECK(outcomes[static_cast<std::size_t>(t)].error.empty());
    CHECK(outcomes[static_cast<std::size_t>(t)].output == reference);
  }
}

} // namespace

TEST_CASE("threads: runs of the interpreter on several threads write what one writes alone",
          "[threads]") {
  Outcome alone = runExample(false);
  REQUIRE(alone.error.empty());
  REQUIRE(!alone.output.empty());
  checkOnThreads(3, {false}, alone.output);
}

TEST_CASE("threads: JIT compiles and native runs on several threads write what one writes alone",
          "[threads]") {
  Outcome alone = runExample(true);
  REQUIRE(alone.error.empty());
  REQUIRE(!alone.output.empty());
  // Both engines at once, too: a serving process compiles while another version matches.
  checkOnThreads(3, {true, false}, alone.output);
}
