// `cep run --trace KEY` (docs/debugging.md): what each pattern's runs of one key did with each
// event, from the reference interpreter. Under --engine interp the running matchers trace;
// under --engine jit each native matcher is wrapped with a shadow interpreter for the key
// (runtime/engine/shadow_matcher.hpp) whose records are checked against the native ones.
#pragma once

#include "cli/commands.hpp"
#include "compiler/driver/pipeline.hpp"
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/interp/trace_writer.hpp"
#include "runtime/engine/shadow_matcher.hpp"

#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace cep::cli {

class RunTrace {
public:
  // The --trace options that cannot work with the others: "" or why (a usage error).
  static std::string refuse(const RunOptions &options);
  // Opens --trace-output (stderr when absent): false and `error` when it cannot be written.
  bool open(const RunOptions &options, std::string &error);
  // Or hands the actions to `sink` (`cep explain --why`), which outlives the run.
  void collect(const RunOptions &options, compiler::interp::TraceSink &sink);
  // Makes the pattern matchers trace the key (interp), or wraps them (jit: native matchers,
  // also those of a .cepo, whose pipeline checked its sources: cli/artifact_sources.hpp).
  void attach(compiler::driver::Pipeline &pipeline,
              std::vector<std::unique_ptr<runtime::Matcher>> &matchers, bool jit,
              const runtime::MatcherOptions &matcher_options);
  // After the run: the summary line (text form) and, under jit, whether the native matchers
  // agreed with the interpreter on every record of the key: kOk, or kInternal after saying how
  // they differ.
  int finish(int code);

private:
  std::string key_text_;
  std::vector<std::string> keys_;
  std::ofstream file_;
  std::ostream *out_ = nullptr;
  compiler::interp::TraceFormat format_ = compiler::interp::TraceFormat::Text;
  std::unique_ptr<compiler::interp::TraceWriter> writer_;
  compiler::interp::TraceSink *sink_ = nullptr; // writer_, or the collector
  std::vector<runtime::ShadowMatcher *> shadows_;
  std::size_t patterns_ = 0;
};

// `cep run` with `options` (rules, not a .cepo) whose --trace actions go to `sink` rather than a
// writer: what `cep explain --why` runs. The exit code of the run.
int runTraced(const RunOptions &options, compiler::interp::TraceSink &sink);

} // namespace cep::cli
