// Tracing one key on `cep serve` (serve_trace.hpp, docs/debugging.md "On cep serve"): each
// traced served version's native matcher gets a shadow interpreter beside it in the loop's
// operator set (runtime/engine/shadow_matcher.hpp), seeded with the key's state as the native
// matcher exports it by name; the trace's lines are buffered for GET /trace. Everything here
// runs on the loop thread, between two records.
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/partition_state.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"
#include "service/state_listing.hpp"

#include <algorithm>
#include <stdexcept>

namespace cep::service {

ShadowTracer::~ShadowTracer() = default;

namespace {

std::string jsonString(std::string_view text) {
  std::string out;
  runtime::appendJsonString(out, text);
  return out;
}

constexpr const char *kTracedKeys = "cep_traced_keys";
constexpr const char *kTracedKeysHelp = "Keys traced now (POST /trace)";
constexpr const char *kTraceLines = "cep_trace_lines_total";
constexpr const char *kTraceLinesHelp = "Lines written by key traces";
constexpr const char *kTraceDropped = "cep_trace_lines_dropped_total";
constexpr const char *kTraceDroppedHelp =
    "Trace lines dropped because more than the buffer held between two reads";
constexpr const char *kDisagreements = "cep_trace_disagreements_total";
constexpr const char *kDisagreementsHelp =
    "Calls where a native matcher and its shadow interpreter wrote different records for the "
    "traced key (a bug)";

} // namespace

ControlResult ServeRuntime::traceStart(const std::string &key, const std::string &pattern,
                                       const std::string &format) {
  if (!options_.tracer) {
    return {501, errorJson("this server does not trace keys")};
  }
  bool json = format == "json";
  return callOnLoop([this, key, pattern, json](runtime::RunLoop &loop) {
    return startTrace(loop, key, pattern, json);
  });
}

ControlResult ServeRuntime::traceRead(const std::string &key, std::string &lines) {
  return callOnLoop([this, key, &lines](runtime::RunLoop &loop) -> ControlResult {
    checkTraces(loop);
    auto it = traces_.find(key);
    if (it == traces_.end()) {
      return {404,
              errorJson("key " + key + " is not traced (POST /trace?key=" + key + " starts it)")};
    }
    KeyTrace &trace = *it->second;
    if (trace.dropped_unsaid > 0) {
      std::string note = trace.json ? "{\"action\":\"dropped\",\"key\":" + jsonString(trace.key) +
                                          ",\"lines\":" + std::to_string(trace.dropped_unsaid) + "}"
                                    : "trace: " + std::to_string(trace.dropped_unsaid) +
                                          " lines dropped (more than " +
                                          std::to_string(kMaxTraceLines) + " between two reads)";
      lines += note + "\n";
      trace.dropped_unsaid = 0;
    }
    for (std::string &line : trace.lines) {
      lines += line;
      lines += '\n';
    }
    trace.lines.clear();
    return {200, ""};
  });
}

ControlResult ServeRuntime::traceStop(const std::string &key) {
  return callOnLoop([this, key](runtime::RunLoop &loop) -> ControlResult {
    checkTraces(loop);
    auto it = traces_.find(key);
    if (it == traces_.end()) {
      return {404, errorJson("key " + key + " is not traced")};
    }
    KeyTrace &trace = *it->second;
    std::uint64_t compared = 0, disagreements = 0;
    for (const KeyTrace::Part &part : trace.parts) {
      compared += part.shadow->compared;
      disagreements += part.shadow->disagreements;
    }
    std::string out = "{\"stopped\":" + jsonString(key) +
                      ",\"lines\":" + std::to_string(trace.written) +
                      ",\"unread\":" + std::to_string(trace.lines.size()) +
                      ",\"dropped\":" + std::to_string(trace.dropped) +
                      ",\"compared\":" + std::to_string(compared) +
                      ",\"disagreements\":" + std::to_string(disagreements) + "}";
    removeTrace(loop, trace);
    traces_.erase(it);
    registry_.gauge(kTracedKeys, kTracedKeysHelp).set(static_cast<double>(traces_.size()));
    options_.log("trace of key " + key + " stopped");
    return {200, out};
  });
}

ControlResult ServeRuntime::startTrace(runtime::RunLoop &loop, const std::string &key,
                                       const std::string &pattern, bool json) {
  if (traces_.count(key) != 0) {
    return {409,
            errorJson("key " + key + " is traced already (GET /trace reads it, DELETE stops it)")};
  }
  if (traces_.size() >= kMaxTracedKeys) {
    return {409, errorJson("already " + std::to_string(kMaxTracedKeys) +
                           " keys traced, the most at once: stop one first (DELETE /trace?key=K)")};
  }
  if (options_.workers > 1) {
    return {409, errorJson("a server with --workers " + std::to_string(options_.workers) +
                           " cannot trace keys yet: the shadow interpreter runs beside one "
                           "matcher; serve with --workers 1 to trace")};
  }
  if (options_.matcher.bounds.max_state_bytes != 0) {
    return {409,
            errorJson("a server with --max-state-bytes cannot trace: the bound is over all keys "
                      "and the shadow interpreter holds one key, so it would evict other runs")};
  }
  std::vector<Served *> selected;
  for (const auto &served : served_) {
    if (!served->draining && served->in_operators && (pattern.empty() || served->name == pattern)) {
      selected.push_back(served.get());
    }
  }
  if (selected.empty()) {
    return {404, errorJson(pattern.empty() ? std::string("no pattern is served")
                                           : "no pattern `" + pattern + "` is served")};
  }
  auto trace = std::make_unique<KeyTrace>();
  KeyTrace *raw = trace.get();
  trace->key = key;
  trace->keys = keyCandidates(key);
  trace->json = json;
  trace->started_at = now();
  runtime::metrics::Counter &lines_total = registry_.counter(kTraceLines, kTraceLinesHelp);
  runtime::metrics::Counter &dropped_total = registry_.counter(kTraceDropped, kTraceDroppedHelp);
  registry_.counter(kDisagreements, kDisagreementsHelp);
  trace->tracer =
      options_.tracer(trace->keys, json, [raw, &lines_total, &dropped_total](std::string line) {
        raw->lines.push_back(std::move(line));
        ++raw->written;
        lines_total.add();
        if (raw->lines.size() > kMaxTraceLines) {
          raw->lines.pop_front();
          ++raw->dropped;
          ++raw->dropped_unsaid;
          dropped_total.add();
        }
      });
  auto traced = [raw](std::string_view k) {
    return std::find(raw->keys.begin(), raw->keys.end(), k) != raw->keys.end();
  };
  std::string patterns = "[";
  std::vector<std::unique_ptr<runtime::Matcher>> made; // parallel to raw->parts
  for (Served *served : selected) {
    if (!served->loaded) {
      return {422, errorJson("pattern " + served->name + " " + served->version +
                             ": its artifact is not kept by this server, so it cannot be traced")};
    }
    const compiler::artifact::LoadedArtifact &artifact = served->loaded->artifact;
    runtime::MatcherOptions options = options_.matcher;
    options.version = artifact.version();
    options.evictions = nullptr; // the native matcher reports them
    std::unique_ptr<runtime::Matcher> shadow;
    try {
      shadow = raw->tracer->shadow(artifact, served->name, options);
    } catch (const std::exception &e) {
      return {422, errorJson("pattern " + served->name + " " + served->version + ": " + e.what())};
    }
    // Seeded with the key's partial matches as the native matcher holds them now (by name:
    // runtime/state/matcher_state.hpp), so the trace goes on from where the key is.
    runtime::MatcherState state;
    served->matcher->exportState(state);
    runtime::MatcherState only =
        runtime::withoutKeys(state, [&](std::string_view k) { return !traced(k); });
    try {
      shadow->restoreState(only);
    } catch (const std::exception &e) {
      return {500,
              errorJson("internal error: pattern " + served->name + " " + served->version +
                        ": the key's state does not restore into the interpreter: " + e.what())};
    }
    KeyTrace::Part part;
    part.pattern = served->name;
    part.version = served->version;
    part.id = served->id;
    made.push_back(std::move(shadow));
    patterns += std::string(patterns.size() > 1 ? "," : "") +
                "{\"pattern\":" + jsonString(served->name) +
                ",\"version\":" + jsonString(served->version) +
                ",\"runs\":" + std::to_string(only.runCount()) + "}";
    raw->parts.push_back(std::move(part));
  }
  patterns += "]";
  // Everything is made: the shadows take their places together, between two records, in the
  // wrapper of each served matcher (made now if it has none yet).
  for (std::size_t i = 0; i < raw->parts.size(); ++i) {
    KeyTrace::Part &part = raw->parts[i];
    std::unique_ptr<runtime::ShadowMatcher> &wrapper = shadowed_[part.id];
    if (!wrapper) {
      wrapper = std::make_unique<runtime::ShadowMatcher>(*selected[i]->matcher);
      loop.operators().replace(part.id, wrapper.get());
    }
    part.shadow = wrapper->addShadow(std::move(made[i]), raw->keys, raw->tracer);
  }
  traces_.emplace(key, std::move(trace));
  registry_.gauge(kTracedKeys, kTracedKeysHelp).set(static_cast<double>(traces_.size()));
  options_.log("tracing key " + key + " (" + std::to_string(raw->parts.size()) +
               (raw->parts.size() == 1 ? " pattern" : " patterns") + ")");
  return {200, "{\"tracing\":" + jsonString(key) + ",\"format\":\"" + (json ? "json" : "text") +
                   "\",\"patterns\":" + patterns + "}"};
}

void ServeRuntime::checkTraces(runtime::RunLoop &loop) {
  // A wrapper no longer in the operator set: its served matcher was replaced or unloaded (its
  // native matcher may be gone; the wrapper never touches it again).
  std::vector<runtime::OperatorId> gone;
  for (const auto &[id, wrapper] : shadowed_) {
    if (loop.operators().find(id) != wrapper.get()) {
      gone.push_back(id);
    }
  }
  for (auto &[key, trace] : traces_) {
    KeyTrace &t = *trace;
    for (auto it = t.parts.begin(); it != t.parts.end();) {
      KeyTrace::Part &part = *it;
      std::uint64_t disagreements = part.shadow->disagreements;
      if (disagreements > part.disagreements_seen) {
        registry_.counter(kDisagreements, kDisagreementsHelp)
            .add(disagreements - part.disagreements_seen);
        if (part.disagreements_seen == 0) {
          std::string what =
              "internal error: trace of key " + key +
              ": the native matcher and the interpreter disagree: " + part.shadow->first_difference;
          options_.log(what);
          t.lines.push_back(
              t.json ? "{\"action\":\"disagreement\",\"pattern\":" + jsonString(part.pattern) +
                           ",\"detail\":" + jsonString(part.shadow->first_difference) + "}"
                     : "trace: " + what);
        }
        part.disagreements_seen = disagreements;
      }
      if (std::find(gone.begin(), gone.end(), part.id) == gone.end()) {
        ++it;
        continue;
      }
      std::string why = "pattern " + part.pattern + " " + part.version +
                        " is no longer served as it was (a deploy, an undeploy or a rebalance "
                        "replaced it): its trace ended; start it again";
      t.lines.push_back(
          t.json ? "{\"action\":\"trace-ended\",\"pattern\":" + jsonString(part.pattern) +
                       ",\"detail\":" + jsonString(why) + "}"
                 : "trace: " + why);
      options_.log("trace of key " + key + ": " + why);
      it = t.parts.erase(it);
    }
  }
  for (runtime::OperatorId id : gone) {
    shadowed_.erase(id);
  }
}

void ServeRuntime::removeTrace(runtime::RunLoop &loop, KeyTrace &trace) {
  for (KeyTrace::Part &part : trace.parts) {
    auto it = shadowed_.find(part.id);
    if (it == shadowed_.end()) {
      continue;
    }
    it->second->removeShadow(part.shadow);
    if (it->second->shadows() == 0) {
      loop.operators().replace(part.id, &it->second->native());
      shadowed_.erase(it);
    }
  }
  trace.parts.clear();
}

} // namespace cep::service
