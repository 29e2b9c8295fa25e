// `cep explain --why RULES -i EVENTS --key K --pattern P [--format json]` (docs/debugging.md):
// runs the rules through the reference interpreter with the key traced (cli/run_trace.hpp,
// compiler/interp/trace.hpp) and reads the trace of P backwards: the matches if P fired, else
// the furthest any run got (most events bound; on a tie the one that skipped most events, then the
// latest), the state it stopped in, what ended it (a condition false with its values, `within`
// expired, a negation hit, strict contiguity, the end of the input) and the events it skipped while
// waiting; or, when no run started, why the first step took none of the key's events.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_trace.hpp"
#include "cli/terminal.hpp"
#include "compiler/driver/pipeline.hpp"
#include "compiler/interp/trace_writer.hpp"
#include "runtime/io/json_writer.hpp"

#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

using compiler::interp::describeCheck;
using compiler::interp::describeRun;
using compiler::interp::describeTime;
using compiler::interp::TraceAction;
using compiler::interp::TraceCheck;
using compiler::interp::TraceKind;
using compiler::interp::TraceLog;

int whyUsage(const std::string &message) {
  std::cerr << "cep explain: " << message << "\n";
  return kUsage;
}

// The step a state belongs to: its name up to a copy's or loop's suffix.
std::string stepOf(const std::string &state) {
  std::size_t end = state.find_first_of("~:'");
  if (!state.empty() && state[0] == '$') {
    return state;
  }
  return state.substr(0, end);
}

bool failed(const TraceCheck &c) {
  return !c.type_matches || (c.negated ? c.held : !c.held);
}

std::string failedChecks(const TraceAction &a, bool all = false) {
  std::string s;
  for (const TraceCheck &c : a.checks) {
    if (all || failed(c)) {
      s += (s.empty() ? "" : "; ") + describeCheck(c);
    }
  }
  return s;
}

void writeChecks(runtime::JsonWriter &w, const TraceAction &a) {
  compiler::interp::writeChecksJson(w, a.checks, false);
}

void writeTime(runtime::JsonWriter &w, std::int64_t t) {
  if (t == runtime::kEndOfTime) {
    w.writeString("end");
  } else {
    w.writeTime(t);
  }
}

struct Why {
  std::string pattern, key;
  std::uint64_t events = 0, late = 0, started = 0, no_start = 0;
  std::vector<const TraceAction *> matches;
  const TraceAction *furthest = nullptr;  // the end of the furthest run
  std::vector<const TraceAction *> skips; // the furthest run's IGNOREs
  const TraceAction *last_no_start = nullptr;
};

Why analyse(const std::vector<TraceAction> &actions, const std::string &pattern) {
  Why why;
  why.pattern = pattern;
  using RunId = std::pair<std::uint64_t, std::vector<std::uint64_t>>;
  std::map<RunId, std::vector<const TraceAction *>> skipped;
  std::vector<const TraceAction *> ends; // the last action of each run that ended
  for (const TraceAction &a : actions) {
    if (a.pattern != pattern) {
      continue;
    }
    why.key = a.key;
    switch (a.kind) {
    case TraceKind::Event:
      ++why.events;
      break;
    case TraceKind::Late:
      ++why.late;
      break;
    case TraceKind::Start:
      ++why.started;
      break;
    case TraceKind::NoStart:
      ++why.no_start;
      why.last_no_start = &a;
      break;
    case TraceKind::Match:
      why.matches.push_back(&a);
      break;
    case TraceKind::Ignore:
      skipped[{a.run.start_seq, a.run.events}].push_back(&a);
      break;
    case TraceKind::Die:
    case TraceKind::Timeout:
    case TraceKind::End:
    case TraceKind::Discard:
    case TraceKind::Evict:
      if (a.has_run) {
        ends.push_back(&a);
      }
      break;
    default:
      break;
    }
  }
  // The furthest: most events bound; then the one that skipped most events (its checks say
  // most about what it waited for); then the latest.
  std::size_t best_skips = 0;
  for (const TraceAction *end : ends) {
    auto it = skipped.find({end->run.start_seq, end->run.events});
    std::size_t skips = it == skipped.end() ? 0 : it->second.size();
    if (why.furthest == nullptr || end->run.events.size() > why.furthest->run.events.size() ||
        (end->run.events.size() == why.furthest->run.events.size() && skips >= best_skips)) {
      why.furthest = end;
      best_skips = skips;
      why.skips = it == skipped.end() ? std::vector<const TraceAction *>() : it->second;
    }
  }
  return why;
}

std::string endWords(const TraceAction &a) {
  switch (a.kind) {
  case TraceKind::Die:
    return "died at #" + std::to_string(a.seq) + " (" + describeTime(a.time) + "): " + a.reason +
           ": " + a.detail;
  case TraceKind::Timeout:
    return "timed out at " + describeTime(a.time) + ": " + a.detail;
  case TraceKind::End:
    return "was dropped: " + a.detail;
  case TraceKind::Discard:
    return "was discarded at " + describeTime(a.time) + ": " + a.detail;
  case TraceKind::Evict:
    return "was evicted (" + a.reason + ") at " + describeTime(a.time) + ": " + a.detail;
  default:
    return a.detail;
  }
}

void printText(const Why &why, const std::string &key_text) {
  std::cout << "pattern " << why.pattern << ", key " << key_text << ": " << why.events
            << (why.events == 1 ? " event" : " events");
  if (why.late > 0) {
    std::cout << " (and " << why.late << " late, set aside unmatched)";
  }
  std::cout << ", " << why.started << (why.started == 1 ? " run" : " runs") << " started\n";
  if (!why.matches.empty()) {
    std::cout << "it fired " << why.matches.size() << (why.matches.size() == 1 ? " time" : " times")
              << ":\n";
    for (const TraceAction *m : why.matches) {
      std::cout << "  " << m->record << "\n";
    }
    return;
  }
  std::cout << "it did not fire.\n";
  if (why.events == 0) {
    std::cout << "no event of the key reached the pattern (is the key written as in \"@key\"? "
                 "are the events of the pattern's types?)\n";
    return;
  }
  if (why.furthest == nullptr) {
    std::cout << "no run started: the first step took none of the key's events";
    if (why.last_no_start != nullptr) {
      const TraceAction &a = *why.last_no_start;
      std::cout << "; the last, #" << a.seq << " (" << describeTime(a.time)
                << "): " << failedChecks(a);
    }
    std::cout << "\n";
    return;
  }
  const TraceAction &a = *why.furthest;
  std::cout << "the furthest run: " << describeRun(a.run) << " (step " << stepOf(a.run.state)
            << "), started at #" << a.run.start_seq << " (" << describeTime(a.run.start_time)
            << "), " << a.run.events.size() << (a.run.events.size() == 1 ? " event" : " events")
            << " bound\n";
  std::cout << "  it " << endWords(a) << "\n";
  if (std::string checks = failedChecks(a, a.reason == "negation"); !checks.empty()) {
    std::cout << "  " << checks << "\n";
  }
  if (!why.skips.empty()) {
    const TraceAction &s = *why.skips.back();
    std::cout << "  while it waited it skipped " << why.skips.size()
              << (why.skips.size() == 1 ? " event" : " events") << "; the last, #" << s.seq << " ("
              << describeTime(s.time) << "): " << failedChecks(s) << "\n";
  }
}

void printJson(const Why &why, const std::string &key_json) {
  std::string s;
  runtime::JsonWriter w(s);
  w.beginObject();
  w.key("pattern");
  w.writeString(why.pattern);
  w.key("key");
  w.writeRaw(key_json);
  w.key("events");
  w.writeInt(static_cast<std::int64_t>(why.events));
  w.key("late");
  w.writeInt(static_cast<std::int64_t>(why.late));
  w.key("runs_started");
  w.writeInt(static_cast<std::int64_t>(why.started));
  w.key("fired");
  w.writeBool(!why.matches.empty());
  w.key("matches");
  w.beginArray();
  for (const TraceAction *m : why.matches) {
    w.writeRaw(m->record);
  }
  w.endArray();
  if (why.matches.empty() && why.furthest != nullptr) {
    const TraceAction &a = *why.furthest;
    w.key("furthest");
    w.beginObject();
    w.key("start");
    w.writeInt(static_cast<std::int64_t>(a.run.start_seq));
    w.key("events");
    w.beginArray();
    for (std::uint64_t e : a.run.events) {
      w.writeInt(static_cast<std::int64_t>(e));
    }
    w.endArray();
    w.key("state");
    w.writeString(a.run.state);
    w.key("step");
    w.writeString(stepOf(a.run.state));
    w.key("ended");
    w.writeString(compiler::interp::traceKindName(a.kind));
    w.key("reason");
    w.writeString(a.reason);
    w.key("detail");
    w.writeString(a.detail);
    w.key("time");
    writeTime(w, a.time);
    if (!a.time_driven) {
      w.key("event");
      w.writeInt(static_cast<std::int64_t>(a.seq));
    }
    writeChecks(w, a);
    w.key("skipped");
    w.writeInt(static_cast<std::int64_t>(why.skips.size()));
    if (!why.skips.empty()) {
      const TraceAction &sk = *why.skips.back();
      w.key("last_skipped");
      w.beginObject();
      w.key("event");
      w.writeInt(static_cast<std::int64_t>(sk.seq));
      w.key("time");
      writeTime(w, sk.time);
      writeChecks(w, sk);
      w.endObject();
    }
    w.endObject();
  } else if (why.matches.empty() && why.last_no_start != nullptr) {
    const TraceAction &a = *why.last_no_start;
    w.key("no_start");
    w.beginObject();
    w.key("events");
    w.writeInt(static_cast<std::int64_t>(why.no_start));
    w.key("last_event");
    w.writeInt(static_cast<std::int64_t>(a.seq));
    w.key("time");
    writeTime(w, a.time);
    writeChecks(w, a);
    w.endObject();
  }
  w.endObject();
  std::cout << s << "\n";
}

} // namespace

int runExplainWhy(const ExplainOptions &options) {
  if (!options.key) {
    return whyUsage("--why needs --key K (as in \"@key\": card-42, 42, or a JSON array)");
  }
  if (options.inputs.empty()) {
    return whyUsage("--why needs the events: -i PATH[:Type]");
  }
  if (options.format == "dot") {
    return whyUsage("--why writes text or json, not dot");
  }
  // The pattern, checked before the run (which checks the rules again and reports errors).
  std::string pattern;
  {
    compiler::driver::Pipeline pipeline({options.import_paths, options.disabled_passes});
    if (!pipeline.check(options.files)) {
      pipeline.diagnostics().render(std::cerr, useColor(options.color));
      return kRuleErrors;
    }
    std::string names;
    for (const auto &p : pipeline.program().patterns) {
      names += (names.empty() ? "" : ", ") + p.name;
      if (options.pattern && p.name == *options.pattern) {
        pattern = p.name;
      }
    }
    if (!options.pattern && pipeline.program().patterns.size() == 1) {
      pattern = pipeline.program().patterns.front().name;
    }
    if (pattern.empty()) {
      return whyUsage(options.pattern
                          ? "no pattern `" + *options.pattern + "` (patterns: " + names + ")"
                          : "--why needs --pattern P (patterns: " + names + ")");
    }
  }
  RunOptions run;
  run.rules = options.files;
  run.import_paths = options.import_paths;
  run.disabled_passes = options.disabled_passes;
  run.inputs = options.inputs;
  run.output = "/dev/null";
  run.max_delay = options.max_delay;
  run.order = options.order;
  run.at_end = options.at_end;
  run.engine = "interp"; // the oracle: the trace comes from it
  run.color = options.color;
  run.trace = *options.key;
  TraceLog log;
  if (int code = runTraced(run, log); code != kOk) {
    return code;
  }
  Why why = analyse(log.actions, pattern);
  if (options.format == "json") {
    std::string key = why.key; // as the engines write it; the user's text when nothing came
    if (key.empty()) {
      runtime::appendJsonString(key, *options.key);
    }
    printJson(why, key);
  } else {
    printText(why, *options.key);
  }
  return kOk;
}

} // namespace cep::cli
