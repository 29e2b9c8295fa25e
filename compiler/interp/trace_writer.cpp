#include "compiler/interp/trace_writer.hpp"

#include "runtime/io/json_writer.hpp"
#include "runtime/matcher.hpp"
#include "runtime/time/time_format.hpp"

namespace cep::compiler::interp {

std::string describeTime(std::int64_t time) {
  if (time == runtime::kEndOfTime) {
    return "end of input";
  }
  return runtime::formatRfc3339(time);
}

std::string describeRun(const TraceRun &run) {
  std::string s = "run [";
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    s += (i == 0 ? "#" : " #") + std::to_string(run.events[i]);
  }
  s += "] in " + run.state;
  return s;
}

std::string describeCheck(const TraceCheck &c) {
  // An unnamed negated step (`not Confirm()`) is called `$not<position>` inside: its type.
  std::string s =
      (c.negated ? "not " : "") + (c.step.starts_with("$") ? c.event_type : c.step) + ": ";
  if (!c.type_matches) {
    return s + "wants a " + c.event_type + " event";
  }
  if (c.condition.empty()) {
    return s + "no condition";
  }
  s += "`" + c.condition + "` " + (c.held ? "true" : "false");
  if (!c.values.empty()) {
    s += " (";
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      s += (i == 0 ? "" : ", ") + c.values[i].label + " = " + c.values[i].json;
    }
    s += ")";
  }
  return s;
}

void writeChecksJson(runtime::JsonWriter &w, const std::vector<TraceCheck> &checks,
                     bool with_types) {
  w.key("checks");
  w.beginArray();
  for (const TraceCheck &c : checks) {
    w.beginObject();
    w.key("step");
    w.writeString(c.step);
    if (with_types) {
      w.key("type");
      w.writeString(c.event_type);
    }
    w.key("type_matches");
    w.writeBool(c.type_matches);
    if (c.negated) {
      w.key("negated");
      w.writeBool(true);
    }
    if (c.type_matches) {
      w.key("held");
      w.writeBool(c.held);
    }
    if (!c.condition.empty()) {
      w.key("condition");
      w.writeString(c.condition);
      w.key("values");
      w.beginObject();
      for (const TraceValue &v : c.values) {
        w.key(v.label);
        w.writeRaw(v.json);
      }
      w.endObject();
    }
    w.endObject();
  }
  w.endArray();
}

void TraceWriter::action(const TraceAction &a) {
  if (a.kind == TraceKind::Event) {
    // One line per event, though each pattern that reads its type reports it.
    if (header_ && last_seq_ == a.seq) {
      return;
    }
    ++events_;
  }
  if (a.kind == TraceKind::Match) {
    ++matches_;
  }
  if (a.kind == TraceKind::Timeout) {
    ++timeouts_;
  }
  if (format_ == TraceFormat::Json) {
    json(a);
  } else {
    text(a);
  }
  // One key's actions are few: written through at once, so a file can be followed (`tail -f`)
  // while `cep run --follow` goes on.
  out_.flush();
  if (a.kind == TraceKind::Event || a.kind == TraceKind::Late) {
    last_seq_ = a.seq;
    header_ = true;
  }
}

void TraceWriter::text(const TraceAction &a) {
  if (a.kind == TraceKind::Event || a.kind == TraceKind::Late) {
    if (!(header_ && last_seq_ == a.seq)) {
      out_ << "#" << a.seq << " " << describeTime(a.time) << " " << a.event_type << " " << a.fields
           << (a.kind == TraceKind::Late ? "  (late)" : "") << "\n";
    }
    if (a.kind == TraceKind::Event) {
      return;
    }
    out_ << "  " << a.pattern << ": late: " << a.detail << "\n";
    return;
  }
  if (a.time_driven && (last_seq_ != 0 || !header_ || last_time_ != a.time)) {
    out_ << "@ " << describeTime(a.time) << " (time advances)\n";
    last_seq_ = 0;
    last_time_ = a.time;
    header_ = true;
  }
  std::string line = "  " + a.pattern + ": ";
  std::string run = a.has_run ? describeRun(a.run) : std::string();
  // Every check (only_failing false: those with a condition, whose values say something) or
  // only those that failed.
  auto failing = [&](bool only_failing) {
    std::string s;
    for (const TraceCheck &c : a.checks) {
      bool failed = !c.type_matches || (c.negated ? c.held : !c.held);
      if (only_failing ? !failed : c.condition.empty()) {
        continue;
      }
      s += (s.empty() ? "" : "; ") + describeCheck(c);
    }
    return s;
  };
  switch (a.kind) {
  case TraceKind::Start: {
    line += "started a run: took " + a.step + " -> " + a.to;
    std::string checks = failing(false);
    if (!checks.empty()) {
      line += " (" + checks + ")";
    }
    break;
  }
  case TraceKind::NoStart:
    line += "no run started: " + failing(true);
    break;
  case TraceKind::Take: {
    line += run + ": took " + a.step + " -> " + a.to;
    std::string checks = failing(false);
    if (!checks.empty()) {
      line += " (" + checks + ")";
    }
    if (!a.detail.empty()) {
      line += " [" + a.detail + "]";
    }
    break;
  }
  case TraceKind::Ignore: {
    line += run + ": skipped it, waits in " + a.to;
    std::string checks = failing(true);
    if (!checks.empty()) {
      line += " (" + checks + ")";
    }
    if (!a.detail.empty()) {
      line += " [" + a.detail + "]";
    }
    break;
  }
  case TraceKind::Die: {
    line += run + ": died: " + a.reason + ": " + a.detail;
    std::string checks = failing(a.reason != "negation");
    if (!checks.empty()) {
      line += " (" + checks + ")";
    }
    break;
  }
  case TraceKind::Complete:
    line += run + ": completed: " + a.detail;
    break;
  case TraceKind::Match:
    line += "match " + a.record;
    break;
  case TraceKind::Timeout:
    line += run + ": timed out: " + a.detail;
    if (!a.record.empty()) {
      line += "\n  " + a.pattern + ": timeout " + a.record;
    }
    break;
  case TraceKind::Discard:
  case TraceKind::Evict:
  case TraceKind::End:
    line += run + ": " + (a.kind == TraceKind::End ? "dropped" : traceKindName(a.kind)) +
            (a.kind == TraceKind::Evict ? "ed (" + a.reason + ")" : std::string()) +
            (a.kind == TraceKind::Discard ? "ed" : "") + ": " + a.detail;
    break;
  case TraceKind::Event:
  case TraceKind::Late:
    break;
  }
  out_ << line << "\n";
}

void TraceWriter::json(const TraceAction &a) {
  std::string s;
  runtime::JsonWriter w(s);
  w.beginObject();
  w.key("action");
  w.writeString(traceKindName(a.kind));
  if (a.kind != TraceKind::Event) {
    w.key("pattern");
    w.writeString(a.pattern);
  }
  w.key("key");
  w.writeRaw(a.key);
  w.key("time");
  if (a.time == runtime::kEndOfTime) {
    w.writeString("end");
  } else {
    w.writeTime(a.time);
  }
  w.key("by");
  w.writeString(a.time_driven ? "time" : "event");
  if (!a.time_driven && a.seq != 0) {
    w.key("event");
    w.writeInt(static_cast<std::int64_t>(a.seq));
  }
  if (a.kind == TraceKind::Event || a.kind == TraceKind::Late) {
    w.key("type");
    w.writeString(a.event_type);
    w.key("fields");
    w.writeRaw(a.fields);
  }
  if (a.has_run) {
    w.key("run");
    w.beginObject();
    w.key("start");
    w.writeInt(static_cast<std::int64_t>(a.run.start_seq));
    w.key("state");
    w.writeString(a.run.state);
    w.key("events");
    w.beginArray();
    for (std::uint64_t e : a.run.events) {
      w.writeInt(static_cast<std::int64_t>(e));
    }
    w.endArray();
    w.endObject();
  }
  if (!a.step.empty()) {
    w.key("step");
    w.writeString(a.step);
  }
  if (!a.to.empty()) {
    w.key("to");
    w.writeString(a.to);
  }
  if (!a.reason.empty()) {
    w.key("reason");
    w.writeString(a.reason);
  }
  if (!a.detail.empty()) {
    w.key("detail");
    w.writeString(a.detail);
  }
  if (!a.checks.empty()) {
    writeChecksJson(w, a.checks, true);
  }
  if (!a.record.empty()) {
    w.key("record");
    w.writeRaw(a.record);
  }
  w.endObject();
  out_ << s << "\n";
}

} // namespace cep::compiler::interp
