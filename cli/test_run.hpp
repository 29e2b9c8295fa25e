// `cep test`: one checked test (lang/check_tests.hpp) run as `cep run` would run it, with its
// options, over its input, under one engine; what the rules under test wrote comes back as text.
//
//   compiler::driver::Pipeline pipeline({});
//   pipeline.check({"payments.cep"});
//   auto tests = lang::checkTests(pipeline.modules(), pipeline.program(), pipeline.sources(),
//                                 pipeline.diagnostics(), pipeline.modules().front().file);
//   cli::TestRun run;
//   if (!cli::runTestCase(pipeline, tests[0], compiler::driver::Engine::Jit, where, run)) {
//     // run.failure: the engine could not be built or the input not read (exit 3)
//   }
//   // run.records: the records of the rules under test, in the order `cep run` writes them;
//   // run.late: late input records as read; run.rejected: why input records were rejected
#pragma once

#include "compiler/driver/pipeline.hpp"
#include "lang/check_tests.hpp"

#include <functional>
#include <string>
#include <vector>

namespace cep::cli {

struct TestRun {
  std::vector<std::string> records;  // written by the rules under test (by "@pattern")
  std::vector<std::string> late;     // late input records, as read
  std::vector<std::string> rejected; // `input record 2 (t.cep:12:9): missing field "ts" (time)`
  std::string failure;               // why the run could not be done (runTestCase false)
};

// Runs `test` under `engine` over fresh matchers of `pipeline`'s checked program (an inline
// input is written to a temporary file first, removed after). False with run.failure set when
// the engine cannot be made or the input cannot be read. `where(range)` is "file:line:col".
bool runTestCase(compiler::driver::Pipeline &pipeline, const lang::CheckedTest &test,
                 compiler::driver::Engine engine,
                 const std::function<std::string(const lang::SourceRange &)> &where, TestRun &run);

} // namespace cep::cli
