// Checking `test` declarations (lang/check_tests.hpp).
#include "lang/check_tests.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

namespace cep::lang {

namespace {

namespace fs = std::filesystem;

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : (i + 1 == names.size() ? " and " : ", ")) + ("`" + names[i] + "`");
  }
  return out;
}

// `250ms 2s 5m 1h 1d`, or `0`.
std::optional<std::int64_t> parseDurationText(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 12) {
    return std::nullopt;
  }
  std::int64_t n = std::stoll(std::string(text.substr(0, digits)));
  std::string_view unit = text.substr(digits);
  if (unit.empty()) {
    return n == 0 ? std::optional<std::int64_t>(0) : std::nullopt;
  }
  std::int64_t scale = unit == "ms"  ? 1
                       : unit == "s" ? 1000
                       : unit == "m" ? 60000
                       : unit == "h" ? 3600000
                       : unit == "d" ? 86400000
                                     : 0;
  if (scale == 0) {
    return std::nullopt;
  }
  return n * scale;
}

// Does a JSON value fit a field of type `t`? Time: RFC 3339 text or epoch ms (the text's form
// is checked by the run); duration: integer milliseconds.
bool fits(const json::Value &v, const Type &t, bool null_fits) {
  if (v.kind == json::Kind::Null) {
    return null_fits || t.nullable || t.kind == TypeKind::Null;
  }
  switch (t.kind) {
  case TypeKind::Bool:
    return v.kind == json::Kind::Bool;
  case TypeKind::Int:
  case TypeKind::Duration:
    return v.kind == json::Kind::Number && v.integer;
  case TypeKind::Float:
    return v.kind == json::Kind::Number;
  case TypeKind::String:
    return v.kind == json::Kind::String;
  case TypeKind::Time:
    return v.kind == json::Kind::String || (v.kind == json::Kind::Number && v.integer);
  case TypeKind::List:
    if (v.kind != json::Kind::Array) {
      return false;
    }
    for (const json::Value &item : v.items) {
      if (!fits(item, Type::of(t.elem), null_fits)) {
        return false;
      }
    }
    return true;
  default:
    return true; // Null, Error: nothing to check
  }
}

std::string expectedForm(const Type &t) {
  switch (t.kind) {
  case TypeKind::Time:
    return "an RFC 3339 time string (\"2026-01-05T10:00:00.000Z\") or epoch milliseconds";
  case TypeKind::Duration:
    return "a duration in integer milliseconds (2s is 2000)";
  case TypeKind::Int:
    return "an integer";
  case TypeKind::Float:
    return "a number";
  case TypeKind::Bool:
    return "true or false";
  case TypeKind::String:
    return "a string in double quotes";
  default:
    return "a value of type `" + typeName(t) + "`";
  }
}

class TestChecker {
public:
  TestChecker(const typed::Program &program, const SourceManager &sources, DiagnosticEngine &diags)
      : program_(program), sources_(sources), diags_(diags) {
    for (const typed::Pattern &p : program.patterns) {
      all_rules_.push_back(p.name);
    }
    for (const typed::Aggregate &a : program.aggregates) {
      all_rules_.push_back(a.name);
    }
  }

  void module(const ast::Module &m, std::vector<CheckedTest> &out) {
    std::vector<std::string> seen;
    for (const ast::Test &t : m.tests) {
      if (std::find(seen.begin(), seen.end(), t.name.name) != seen.end()) {
        diags_.error(t.name.range, "test `" + t.name.name + "` is declared twice in this file");
        diags_.note("give each test of a file its own name: `cep test --filter NAME` and the "
                    "report name tests by it");
        continue;
      }
      seen.push_back(t.name.name);
      std::size_t errors = diags_.errorCount();
      CheckedTest checked = test(m, t);
      if (diags_.errorCount() == errors) {
        out.push_back(std::move(checked));
      }
    }
  }

private:
  // A rule under test: its streams.
  struct Rule {
    std::string name;
    std::int32_t emit = -1;
    std::int32_t timeout = -1;
  };

  std::optional<Rule> findRule(const std::string &name) const {
    for (const typed::Pattern &p : program_.patterns) {
      if (p.name == name) {
        return Rule{p.name, p.emit.stream, p.timeout_emit ? p.timeout_emit->stream : -1};
      }
    }
    for (const typed::Aggregate &a : program_.aggregates) {
      if (a.name == name) {
        return Rule{a.name, a.emit.stream, -1};
      }
    }
    return std::nullopt;
  }

  SourceRange sub(const TestRecord &r, std::size_t begin, std::size_t end) const {
    end = std::max(end, begin + 1);
    return {r.range.file, r.range.begin + static_cast<std::uint32_t>(begin),
            std::min(r.range.end, r.range.begin + static_cast<std::uint32_t>(end))};
  }
  SourceRange keyRange(const TestRecord &r, const json::Member &m) const {
    return sub(r, m.key_begin, m.key_end);
  }
  SourceRange valueRange(const TestRecord &r, const json::Value &v) const {
    return sub(r, v.begin, v.end);
  }

  CheckedTest test(const ast::Module &m, const ast::Test &t) {
    CheckedTest c;
    c.name = t.name.name;
    c.file = sources_.file(m.file).path();
    c.range = t.name.range;
    std::vector<Rule> rules = rulesUnderTest(m, t);
    for (const Rule &r : rules) {
      c.rules.push_back(r.name);
    }
    options(t, c.options);
    // input
    if (t.inputs.empty()) {
      diags_.error(t.name.range, "test `" + t.name.name + "` has no `input`");
      diags_.note("add the events it runs on: `input { {\"@type\":\"Payment\", ...} }` or a JSON "
                  "Lines file next to this one, `input \"cases/" +
                  t.name.name + ".jsonl\"`");
    } else {
      if (t.inputs.size() > 1) {
        diags_.error(t.inputs[1].range, "a test has one `input`");
        diags_.note("put every event in one `input { ... }` block or one file");
      }
      const ast::TestRecords &in = t.inputs.front();
      if (in.file) {
        c.input_path = inputFile(m, in);
      } else {
        c.input = records(in, /*output=*/false, rules, c.options);
      }
    }
    // expect
    if (t.expects.empty()) {
      diags_.error(t.name.range, "test `" + t.name.name + "` has no `expect`");
      diags_.note("add the records the rules must write, `expect { {\"card\":\"c1\"} }`, or "
                  "`expect none` for a case that must not fire");
    } else {
      if (t.expects.size() > 1) {
        diags_.error(t.expects[1].range, "a test has one `expect` (and at most one `expect "
                                         "late`)");
        diags_.note("list every expected record in one `expect { ... }` block");
      }
      c.expected = records(t.expects.front(), /*output=*/true, rules, c.options);
    }
    if (!t.expects_late.empty()) {
      if (t.expects_late.size() > 1) {
        diags_.error(t.expects_late[1].range, "a test has at most one `expect late`");
        diags_.note("list every late record in one `expect late { ... }` block");
      }
      c.compare_late = true;
      c.expected_late =
          records(t.expects_late.front(), /*output=*/false, rules, c.options, /*late=*/true);
    }
    return c;
  }

  std::vector<Rule> rulesUnderTest(const ast::Module &m, const ast::Test &t) {
    std::vector<Rule> rules;
    if (t.rules.empty()) {
      for (const ast::Pattern &p : m.patterns) {
        if (auto r = findRule(p.name.name)) {
          rules.push_back(*r);
        }
      }
      for (const ast::Aggregate &a : m.aggregates) {
        if (auto r = findRule(a.name.name)) {
          rules.push_back(*r);
        }
      }
      if (rules.empty()) {
        // A file of tests only (`payments_test.cep` importing `payments.cep`): every rule.
        for (const std::string &name : all_rules_) {
          rules.push_back(*findRule(name));
        }
      }
      if (rules.empty()) {
        diags_.error(t.name.range, "test `" + t.name.name + "` has no rule to test");
        diags_.note("declare a pattern or aggregate in this file, or import the file that does");
      }
      return rules;
    }
    for (const ast::Ident &name : t.rules) {
      if (auto r = findRule(name.name)) {
        rules.push_back(*r);
        continue;
      }
      diags_.error(name.range, "unknown rule `" + name.name + "` in test `" + t.name.name + "`");
      if (auto best = closestMatch(name.name, all_rules_)) {
        diags_.note("did you mean `" + *best + "`?");
      } else {
        diags_.note(all_rules_.empty() ? std::string("no pattern or aggregate is declared")
                                       : "the rules are " + joinNames(all_rules_));
      }
    }
    return rules;
  }

  void options(const ast::Test &t, TestOptions &o) {
    static const std::vector<std::string> kNames = {"--max-delay", "--with-events", "--at-end",
                                                    "--order"};
    std::vector<std::string> given;
    bool max_delay = false;
    for (const ast::TestOption &opt : t.options) {
      if (std::find(kNames.begin(), kNames.end(), opt.name) == kNames.end()) {
        diags_.error(opt.range, "unknown test option `" + opt.name + "`");
        auto best = closestMatch(opt.name, kNames);
        diags_.note(best ? "did you mean `" + *best + "`?"
                         : std::string("a test takes `--max-delay D`, `--with-events`, "
                                       "`--at-end fire|drop` and `--order sort`"));
        continue;
      }
      if (std::find(given.begin(), given.end(), opt.name) != given.end()) {
        diags_.error(opt.range, "option `" + opt.name + "` is given twice");
        diags_.note("keep one");
        continue;
      }
      given.push_back(opt.name);
      if (opt.name == "--with-events") {
        o.with_events = true;
      } else if (opt.name == "--max-delay") {
        max_delay = true;
        if (auto ms = parseDurationText(opt.value)) {
          o.max_delay_ms = *ms;
        } else {
          diags_.error(opt.value_range, "`" + opt.value + "` is not a duration for --max-delay");
          diags_.note("write a number and its unit: `500ms`, `2s`, `5m`, `1h`, `1d`");
        }
      } else if (opt.name == "--at-end") {
        if (opt.value == "fire" || opt.value == "drop") {
          o.at_end_drop = opt.value == "drop";
        } else {
          diags_.error(opt.value_range, "--at-end takes `fire` or `drop`, not `" + opt.value + "`");
          diags_.note("`fire` (the default) writes what only the end of the input settles, "
                      "marked \"@at_end\":true; `drop` leaves it out");
        }
      } else if (opt.name == "--order") {
        if (opt.value == "sort" || opt.value == "arrival") {
          o.order_sort = opt.value == "sort";
        } else {
          diags_.error(opt.value_range,
                       "--order takes `sort` or `arrival`, not `" + opt.value + "`");
          diags_.note("`--order sort` matches the input in event-time order: nothing is late");
        }
      }
    }
    if (o.order_sort && max_delay) {
      for (const ast::TestOption &opt : t.options) {
        if (opt.name == "--max-delay") {
          diags_.error(opt.range, "--order sort takes no --max-delay: nothing is late");
          diags_.note("remove `--max-delay` or `--order sort`");
        }
      }
    }
  }

  std::string inputFile(const ast::Module &m, const ast::TestRecords &in) {
    fs::path base = fs::path(sources_.file(m.file).path()).parent_path();
    fs::path path = base / *in.file;
    std::error_code ec;
    bool regular = fs::is_regular_file(path, ec);
    std::ifstream probe;
    if (regular) {
      probe.open(path);
    }
    if (!regular || !probe) {
      diags_.error(in.range, std::string(fs::exists(path, ec) ? "cannot read input file \""
                                                              : "input file \"") +
                                 *in.file + (fs::exists(path, ec) ? "\"" : "\" does not exist"));
      diags_.note("the path is relative to the folder of this file (" +
                  (base.empty() ? std::string(".") : base.string()) +
                  "): create it there, with one JSON event per line");
      return {};
    }
    return path.string();
  }

  // `late`: expected late records, which list only the members compared (like expected output
  // records): "@type" may be left out (then the fields are not checked) and so may fields.
  std::vector<TestRecord> records(const ast::TestRecords &block, bool output,
                                  const std::vector<Rule> &rules, const TestOptions &options,
                                  bool late = false) {
    std::vector<TestRecord> out;
    for (const ast::JsonRecord &raw : block.records) {
      TestRecord r;
      r.text = raw.text;
      r.range = raw.range;
      json::ParseError error;
      if (!json::parse(raw.text, r.value, error)) {
        diags_.error(sub(r, error.offset, error.end),
                     "bad JSON in a test record: " + error.message);
        diags_.note("records are JSON objects: {\"name\": value, ...} with strings in double "
                    "quotes");
        continue;
      }
      if (output) {
        outputRecord(r, rules, options);
      } else {
        eventRecord(r, /*partial=*/late);
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  // An input (or late) record: `@type` and the event type's fields (all of them unless
  // `partial`).
  void eventRecord(TestRecord &r, bool partial) {
    std::int32_t type = -1;
    std::vector<std::string> type_names;
    for (const typed::EventType &e : program_.event_types) {
      type_names.push_back(e.name);
    }
    const json::Member *type_member = nullptr;
    for (const json::Member &m : r.value.members) {
      if (m.key == "@type") {
        type_member = &m;
      }
    }
    if (type_member) {
      const json::Value &v = type_member->value;
      if (v.kind != json::Kind::String) {
        diags_.error(valueRange(r, v), "\"@type\" must be a string, the event type's name");
        diags_.note("the event types are " + joinNames(type_names));
        return;
      }
      type = program_.eventTypeIndex(v.text);
      if (type < 0) {
        diags_.error(valueRange(r, v), "unknown event type `" + v.text + "`");
        auto best = closestMatch(v.text, type_names);
        diags_.note(best ? "did you mean `" + *best + "`?"
                         : "the event types are " + joinNames(type_names));
        return;
      }
    } else if (program_.event_types.size() == 1) {
      type = 0;
    } else if (partial) {
      return; // an expected late record of any type
    } else {
      diags_.error(sub(r, 0, 1), "which event type is this record? it has no \"@type\"");
      diags_.note("add \"@type\": one of " + joinNames(type_names));
      return;
    }
    const typed::EventType &event = program_.event_types[static_cast<std::size_t>(type)];
    std::vector<std::string> fields;
    for (const typed::EventField &f : event.fields) {
      fields.push_back(f.name);
    }
    for (const json::Member &m : r.value.members) {
      if (m.key == "@type") {
        continue;
      }
      std::int32_t index = event.fieldIndex(m.key);
      if (index < 0) {
        diags_.error(keyRange(r, m),
                     "unknown field `" + m.key + "` on event type `" + event.name + "`");
        auto best = closestMatch(m.key, fields);
        diags_.note(best ? "did you mean `" + *best + "`?" : "its fields are " + joinNames(fields));
        continue;
      }
      const typed::EventField &f = event.fields[static_cast<std::size_t>(index)];
      if (!fits(m.value, f.type, false)) {
        diags_.error(valueRange(r, m.value), "field `" + m.key + "` of `" + event.name + "` is `" +
                                                 typeName(f.type) + "`, not " +
                                                 json::kindName(m.value.kind));
        diags_.note("write " + expectedForm(f.type));
      }
    }
    std::vector<std::string> missing;
    for (const typed::EventField &f : event.fields) {
      if (!partial && !f.type.nullable && !r.value.find(f.name)) {
        missing.push_back(f.name);
      }
    }
    if (!missing.empty()) {
      diags_.error(sub(r, 0, 1), "this `" + event.name + "` record lacks " +
                                     (missing.size() == 1 ? "field " : "fields ") +
                                     joinNames(missing));
      diags_.note("add " + std::string(missing.size() == 1 ? "it" : "them") +
                  ": only `?` fields may be left out (the run would reject the record)");
    }
  }

  // An expected output record: its `@` members and the fields of its stream.
  void outputRecord(TestRecord &r, const std::vector<Rule> &rules, const TestOptions &options) {
    static const std::vector<std::string> kMeta = {
        "@stream",  "@pattern", "@key",      "@start",  "@end",
        "@timeout", "@at_end",  "@revision", "@events", "@events_omitted"};
    std::vector<std::int32_t> emit_streams, timeout_streams, all_streams;
    auto add = [](std::vector<std::int32_t> &to, std::int32_t s) {
      if (s >= 0 && std::find(to.begin(), to.end(), s) == to.end()) {
        to.push_back(s);
      }
    };
    for (const Rule &rule : rules) {
      add(emit_streams, rule.emit);
      add(timeout_streams, rule.timeout);
      add(all_streams, rule.emit);
      add(all_streams, rule.timeout);
    }
    std::vector<std::string> stream_names, rule_names;
    for (std::int32_t s : all_streams) {
      stream_names.push_back(program_.streams[static_cast<std::size_t>(s)].name);
    }
    for (const Rule &rule : rules) {
      rule_names.push_back(rule.name);
    }
    bool ok = true;
    bool timeout = false;
    std::int32_t stream = -1;
    for (const json::Member &m : r.value.members) {
      if (m.key.empty() || m.key[0] != '@') {
        continue;
      }
      const json::Value &v = m.value;
      if (std::find(kMeta.begin(), kMeta.end(), m.key) == kMeta.end()) {
        diags_.error(keyRange(r, m), "unknown output member `" + m.key + "`");
        auto best = closestMatch(m.key, kMeta);
        diags_.note(best ? "did you mean `" + *best + "`?"
                         : "output records carry " + joinNames(kMeta));
        ok = false;
        continue;
      }
      auto wrong = [&](const std::string &want) {
        diags_.error(valueRange(r, v),
                     "`" + m.key + "` is " + want + ", not " + json::kindName(v.kind));
        diags_.note("write " + want + " (docs/language.md §13, Output)");
        ok = false;
      };
      if ((m.key == "@stream" || m.key == "@pattern") && v.kind != json::Kind::String) {
        wrong("a string");
      } else if ((m.key == "@timeout" || m.key == "@at_end") && v.kind != json::Kind::Bool) {
        wrong("true or false");
      } else if ((m.key == "@revision" || m.key == "@events_omitted") &&
                 !(v.kind == json::Kind::Number && v.integer)) {
        wrong("an integer");
      } else if ((m.key == "@start" || m.key == "@end") &&
                 !fits(v, Type::of(TypeKind::Time), false)) {
        wrong("an RFC 3339 time string or epoch milliseconds");
      } else if (m.key == "@events" && v.kind != json::Kind::Object) {
        wrong("an object (step name: list of records)");
      } else if (m.key == "@events" && !options.with_events) {
        diags_.error(keyRange(r, m), "`@events` is written only with --with-events");
        diags_.note("add `options --with-events` to the test");
        ok = false;
      } else if (m.key == "@timeout") {
        timeout = v.boolean;
      } else if (m.key == "@pattern" &&
                 std::find(rule_names.begin(), rule_names.end(), v.text) == rule_names.end()) {
        diags_.error(valueRange(r, v), "`" + v.text + "` is not a rule under test");
        diags_.note("the rules under test are " + joinNames(rule_names) +
                    " (name others with `for`)");
        ok = false;
      } else if (m.key == "@stream") {
        for (std::int32_t s : all_streams) {
          if (program_.streams[static_cast<std::size_t>(s)].name == v.text) {
            stream = s;
          }
        }
        if (stream < 0) {
          diags_.error(valueRange(r, v),
                       "stream `" + v.text + "` is not written by the rules under test");
          auto best = closestMatch(v.text, stream_names);
          diags_.note(best ? "did you mean `" + *best + "`?"
                           : "they write " + joinNames(stream_names));
          ok = false;
        }
      }
    }
    if (!ok || rules.empty()) {
      return;
    }
    if (stream < 0) {
      const std::vector<std::int32_t> &candidates = timeout ? timeout_streams : emit_streams;
      if (candidates.size() == 1) {
        stream = candidates.front();
      } else if (candidates.empty()) {
        diags_.error(sub(r, 0, 1), "no rule under test has `on timeout emit`");
        diags_.note("remove \"@timeout\": true, or test a rule that reports timeouts");
        return;
      } else {
        std::vector<std::string> names;
        for (std::int32_t s : candidates) {
          names.push_back(program_.streams[static_cast<std::size_t>(s)].name);
        }
        diags_.error(sub(r, 0, 1),
                     "which stream is this record? the rules under test write " + joinNames(names));
        diags_.note("add \"@stream\": \"" + names.front() + "\" (or another)");
        return;
      }
    }
    const typed::Stream &s = program_.streams[static_cast<std::size_t>(stream)];
    r.stream = s.name;
    r.time_members = {"@start", "@end"};
    for (const json::Member &m : r.value.members) {
      if (!m.key.empty() && m.key[0] == '@') {
        continue;
      }
      auto at = std::find(s.field_names.begin(), s.field_names.end(), m.key);
      if (at == s.field_names.end()) {
        diags_.error(keyRange(r, m),
                     "unknown field `" + m.key + "` in output stream `" + s.name + "`");
        auto best = closestMatch(m.key, s.field_names);
        diags_.note(best ? "did you mean `" + *best + "`?"
                         : "its fields are " + joinNames(s.field_names));
        continue;
      }
      const Type &type = s.field_types[static_cast<std::size_t>(at - s.field_names.begin())];
      if (type.kind == TypeKind::Time) {
        r.time_members.push_back(m.key);
      }
      if (!fits(m.value, type, true)) {
        diags_.error(valueRange(r, m.value), "field `" + m.key + "` of `" + s.name + "` is `" +
                                                 typeName(type) + "`, not " +
                                                 json::kindName(m.value.kind));
        diags_.note("write " + expectedForm(type));
      }
    }
  }

  const typed::Program &program_;
  const SourceManager &sources_;
  DiagnosticEngine &diags_;
  std::vector<std::string> all_rules_;
};

} // namespace

std::vector<CheckedTest> checkTests(const std::vector<ast::Module> &modules,
                                    const typed::Program &program, const SourceManager &sources,
                                    DiagnosticEngine &diags, std::optional<FileId> only) {
  std::vector<CheckedTest> out;
  TestChecker checker(program, sources, diags);
  for (const ast::Module &m : modules) {
    if (!only || m.file == *only) {
      checker.module(m, out);
    }
  }
  return out;
}

} // namespace cep::lang
