#include "cli/run_trace.hpp"

#include "cli/exit_codes.hpp"
#include "service/state_listing.hpp"

#include <iostream>

namespace cep::cli {

using compiler::interp::InterpMatcher;
using compiler::interp::TraceFormat;
using compiler::interp::TraceTarget;
using runtime::ShadowMatcher;

std::string RunTrace::refuse(const RunOptions &options) {
  if (!options.trace) {
    if (options.trace_output || options.trace_format != "text") {
      return "--trace-output and --trace-format go with --trace KEY";
    }
    return {};
  }
  if (options.trace_format != "text" && options.trace_format != "json") {
    return "--trace-format must be text or json, not \"" + options.trace_format + "\"";
  }
  if (options.trace_output && *options.trace_output == "-" && options.output == "-") {
    return "--trace-output - writes the trace to stdout, where the matches go: give -o FILE";
  }
  if (options.snapshot_after || options.resume) {
    return "--trace does not go with --snapshot-after or --resume";
  }
  if (options.engine == "jit" && !options.max_state_bytes.empty()) {
    return "--trace under --engine jit does not go with --max-state-bytes (the shadow "
           "interpreter holds one key, so it would evict other runs); use --engine interp";
  }
  return {};
}

bool RunTrace::open(const RunOptions &options, std::string &error) {
  key_text_ = *options.trace;
  keys_ = service::keyCandidates(key_text_);
  format_ = options.trace_format == "json" ? TraceFormat::Json : TraceFormat::Text;
  out_ = &std::cerr;
  if (options.trace_output && *options.trace_output != "-") {
    file_.open(*options.trace_output, std::ios::binary | std::ios::trunc);
    if (!file_) {
      error = "cannot write --trace-output \"" + *options.trace_output + "\"";
      return false;
    }
    out_ = &file_;
  } else if (options.trace_output) {
    out_ = &std::cout;
  }
  writer_ = std::make_unique<compiler::interp::TraceWriter>(*out_, format_);
  sink_ = writer_.get();
  return true;
}

void RunTrace::collect(const RunOptions &options, compiler::interp::TraceSink &sink) {
  key_text_ = *options.trace;
  keys_ = service::keyCandidates(key_text_);
  sink_ = &sink;
}

void RunTrace::attach(compiler::driver::Pipeline &pipeline,
                      std::vector<std::unique_ptr<runtime::Matcher>> &matchers, bool jit,
                      const runtime::MatcherOptions &matcher_options) {
  TraceTarget target;
  target.sink = sink_;
  target.keys = keys_;
  target.sources = &pipeline.sources();
  const lang::typed::Program &program = pipeline.program();
  if (!jit) {
    for (auto &m : matchers) {
      if (auto *interp = dynamic_cast<InterpMatcher *>(m.get())) {
        interp->setTrace(target);
        ++patterns_;
      }
    }
    return;
  }
  std::vector<compiler::nfa::Nfa> nfas = pipeline.lower();
  runtime::MatcherOptions shadow_options = matcher_options;
  shadow_options.evictions = nullptr; // the native matcher reports them
  target.only_traced = true;
  for (auto &m : matchers) {
    std::int32_t index = -1;
    for (std::size_t p = 0; p < program.patterns.size(); ++p) {
      if (program.patterns[p].name == m->patternName()) {
        index = static_cast<std::int32_t>(p);
      }
    }
    if (index < 0) {
      continue; // an aggregate: not traced
    }
    auto shadow = std::make_unique<InterpMatcher>(
        program, index, std::move(nfas[static_cast<std::size_t>(index)]), shadow_options);
    shadow->setTrace(target);
    auto wrapped = std::make_unique<ShadowMatcher>(std::move(m), std::move(shadow), keys_);
    shadows_.push_back(wrapped.get());
    m = std::move(wrapped);
    ++patterns_;
  }
}

int RunTrace::finish(int code) {
  std::uint64_t compared = 0;
  for (const ShadowMatcher *s : shadows_) {
    compared += s->compared();
  }
  if (!writer_) {
    return code;
  }
  if (format_ == TraceFormat::Text) {
    auto count = [](std::uint64_t n, const char *one, const char *many) {
      return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    *out_ << "trace: key " << key_text_ << ": " << count(writer_->events(), "event", "events")
          << ", " << count(writer_->matches(), "match", "matches") << ", "
          << count(writer_->timeouts(), "run timed out", "runs timed out");
    if (!shadows_.empty()) {
      *out_ << "; the native matchers wrote the same " << count(compared, "record", "records")
            << " for the key as the interpreter";
    }
    *out_ << "\n";
    if (writer_->events() == 0) {
      *out_ << "trace: no event of key " << key_text_ << " reached a pattern (a key is written "
            << "as in \"@key\": card-42, 42, or a JSON array for a composite key)\n";
    }
  }
  out_->flush();
  if (file_.is_open()) {
    file_.close();
  }
  for (const ShadowMatcher *s : shadows_) {
    if (s->disagreements() > 0) {
      std::cerr << "cep run: internal error: --trace: the native matcher and the interpreter "
                   "disagree for key "
                << key_text_ << " (at " << s->disagreements()
                << (s->disagreements() == 1 ? " call" : " calls") << "): " << s->firstDifference()
                << "\n";
      return code == kOk ? kInternal : code;
    }
  }
  return code;
}

} // namespace cep::cli
