// Tracing one key on `cep serve` (docs/debugging.md "On cep serve"): what the serve runtime
// needs from the `cep` command to do it. A served pattern is native code from an artifact; its
// trace comes from a shadow interpreter over the rule sources the artifact carries (the optional
// sources section, compiler/artifact/cepo.hpp), checked by the front end, which `cep_serve`
// does not link (docs/ARCHITECTURE.md). So the command gives the runtime a TracerFactory
// (ServeRuntimeOptions::tracer; cli/serve_trace_shadow.cpp) and the runtime
// (serve_trace.cpp) puts each shadow beside its served native matcher
// (runtime/engine/shadow_matcher.hpp), seeded with the key's state, and buffers the lines.
#pragma once

#include "compiler/artifact/load.hpp"
#include "runtime/matcher.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cep::service {

// The most keys traced at once, and the most lines a trace buffers between two reads (the
// oldest are dropped beyond it, counted, and said in the next read).
constexpr std::size_t kMaxTracedKeys = 8;
constexpr std::size_t kMaxTraceLines = 10000;

// One trace (one key): its shadows write into one trace writer, so the lines are `cep run
// --trace`'s. Lives as long as any of its shadows (they borrow its checked rules).
class ShadowTracer {
public:
  virtual ~ShadowTracer();
  // A shadow interpreter matcher for `pattern` of `artifact`, tracing the key only, with
  // `options` (the served version's: "@version"). Throws std::runtime_error with the reason
  // (the artifact carries no sources, they do not check, no such pattern).
  virtual std::unique_ptr<runtime::Matcher>
  shadow(const compiler::artifact::LoadedArtifact &artifact, const std::string &pattern,
         const runtime::MatcherOptions &options) = 0;
};

// `keys`: the key's "@key" JSON candidates (state_listing.hpp keyCandidates); `json`: JSON
// Lines, else text; `line` receives every complete line (no newline), on the loop thread.
using TracerFactory = std::function<std::unique_ptr<ShadowTracer>(
    const std::vector<std::string> &keys, bool json, std::function<void(std::string)> line)>;

} // namespace cep::service
