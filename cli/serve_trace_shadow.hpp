// `cep serve`'s key traces (docs/debugging.md "On cep serve"): the shadow interpreters the serve
// runtime puts beside its native matchers (service/serve_trace.hpp), made here because they
// need the front end: the artifact's rule sources are checked again (cli/artifact_sources.hpp,
// once per artifact and trace), each pattern lowered for an interpreter matcher tracing the key,
// all of a trace's patterns writing into one trace writer (compiler/interp/trace_writer.hpp),
// whose lines go to the runtime's buffer.
#pragma once

#include "service/serve_trace.hpp"

namespace cep::cli {

// ServeRuntimeOptions::tracer.
std::unique_ptr<service::ShadowTracer> makeShadowTracer(const std::vector<std::string> &keys,
                                                        bool json,
                                                        std::function<void(std::string)> line);

} // namespace cep::cli
