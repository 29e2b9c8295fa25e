#include "cli/serve_trace_shadow.hpp"

#include "cli/artifact_sources.hpp"
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/interp/trace_writer.hpp"

#include <map>
#include <ostream>
#include <stdexcept>
#include <streambuf>

namespace cep::cli {

namespace {

// Hands every complete line written to it (without its newline) to `line`.
class LineBuffer : public std::streambuf {
public:
  explicit LineBuffer(std::function<void(std::string)> line) : line_(std::move(line)) {}

protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      put(static_cast<char>(c));
    }
    return c;
  }
  std::streamsize xsputn(const char *s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) {
      put(s[i]);
    }
    return n;
  }

private:
  void put(char c) {
    if (c == '\n') {
      line_(std::move(current_));
      current_.clear();
    } else {
      current_ += c;
    }
  }
  std::function<void(std::string)> line_;
  std::string current_;
};

class ServeShadowTracer final : public service::ShadowTracer {
public:
  ServeShadowTracer(std::vector<std::string> keys, bool json, std::function<void(std::string)> line)
      : keys_(std::move(keys)), buffer_(std::move(line)), out_(&buffer_),
        writer_(out_,
                json ? compiler::interp::TraceFormat::Json : compiler::interp::TraceFormat::Text) {}

  std::unique_ptr<runtime::Matcher> shadow(const compiler::artifact::LoadedArtifact &artifact,
                                           const std::string &pattern,
                                           const runtime::MatcherOptions &options) override {
    std::unique_ptr<compiler::driver::Pipeline> &pipeline = pipelines_[artifact.hash];
    if (!pipeline) {
      std::string error;
      pipeline = checkArtifactSources(artifact.sources, artifact.header.disabled_passes, error);
      if (!pipeline) {
        pipelines_.erase(artifact.hash);
        if (!error.empty() && error.back() == '\n') {
          error.pop_back();
        }
        throw std::runtime_error(error);
      }
    }
    const lang::typed::Program &program = pipeline->program();
    int index = -1;
    for (std::size_t p = 0; p < program.patterns.size(); ++p) {
      if (program.patterns[p].name == pattern) {
        index = static_cast<int>(p);
      }
    }
    if (index < 0) {
      throw std::runtime_error("the artifact's rule sources declare no pattern `" + pattern + "`");
    }
    std::vector<compiler::nfa::Nfa> nfas = pipeline->lower({index});
    auto shadow = std::make_unique<compiler::interp::InterpMatcher>(
        program, static_cast<std::int32_t>(index), std::move(nfas.front()), options);
    compiler::interp::TraceTarget target;
    target.sink = &writer_;
    target.keys = keys_;
    target.sources = &pipeline->sources();
    target.only_traced = true;
    shadow->setTrace(target);
    return shadow;
  }

private:
  std::vector<std::string> keys_;
  LineBuffer buffer_;
  std::ostream out_;
  compiler::interp::TraceWriter writer_;
  // By artifact hash: the checked rules the shadows borrow.
  std::map<std::string, std::unique_ptr<compiler::driver::Pipeline>> pipelines_;
};

} // namespace

std::unique_ptr<service::ShadowTracer> makeShadowTracer(const std::vector<std::string> &keys,
                                                        bool json,
                                                        std::function<void(std::string)> line) {
  return std::make_unique<ServeShadowTracer>(keys, json, std::move(line));
}

} // namespace cep::cli
