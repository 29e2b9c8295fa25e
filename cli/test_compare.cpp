#include "cli/test_compare.hpp"

#include "lang/json_value.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <optional>

namespace cep::cli {

namespace {

using lang::json::Kind;
using lang::json::Value;

std::optional<std::int64_t> instant(const Value &v) {
  if (v.kind == Kind::Number && v.integer) {
    return v.int_value;
  }
  std::int64_t ms = 0;
  if (v.kind == Kind::String && runtime::parseRfc3339(v.text, ms)) {
    return ms;
  }
  return std::nullopt;
}

// Does `actual` hold what `expected` lists?
bool same(const Value &expected, const Value &actual, bool time) {
  if (time) {
    auto e = instant(expected), a = instant(actual);
    if (e && a) {
      return *e == *a;
    }
  }
  if (expected.kind != actual.kind) {
    return false;
  }
  switch (expected.kind) {
  case Kind::Null:
    return true;
  case Kind::Bool:
    return expected.boolean == actual.boolean;
  case Kind::Number:
    if (expected.integer && actual.integer) {
      return expected.int_value == actual.int_value;
    }
    return expected.number == actual.number;
  case Kind::String:
    return expected.text == actual.text;
  case Kind::Array:
    if (expected.items.size() != actual.items.size()) {
      return false;
    }
    for (std::size_t i = 0; i < expected.items.size(); ++i) {
      if (!same(expected.items[i], actual.items[i], false)) {
        return false;
      }
    }
    return true;
  case Kind::Object:
    for (const lang::json::Member &m : expected.members) {
      const Value *a = actual.find(m.key);
      if (!a || !same(m.value, *a, false)) {
        return false;
      }
    }
    return true;
  }
  return false;
}

bool isTime(const lang::TestRecord &e, const std::string &key) {
  return std::find(e.time_members.begin(), e.time_members.end(), key) != e.time_members.end();
}

// How many of the members `e` lists does `a` agree on?
std::size_t agreement(const lang::TestRecord &e, const Value &a) {
  std::size_t n = 0;
  for (const lang::json::Member &m : e.value.members) {
    const Value *v = a.find(m.key);
    n += v && same(m.value, *v, isTime(e, m.key)) ? 1 : 0;
  }
  return n;
}

bool matches(const lang::TestRecord &e, const Value &a) {
  return agreement(e, a) == e.value.members.size();
}

std::string ordinal(std::size_t n) {
  std::string suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    suffix = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  }
  return std::to_string(n) + suffix;
}

std::string streamOf(const Value &v) {
  const Value *s = v.find("@stream");
  return s && s->kind == Kind::String ? s->text : std::string();
}

} // namespace

RecordDiff compareRecords(const std::vector<lang::TestRecord> &expected,
                          const std::vector<std::string> &actual, const std::string &what,
                          const std::function<std::string(const lang::SourceRange &)> &where) {
  RecordDiff diff;
  std::vector<Value> written(actual.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    lang::json::ParseError error;
    if (!lang::json::parse(actual[i], written[i], error)) {
      written[i] = Value(); // not an object: equals no expected record; shown as unexpected
    }
  }
  std::vector<bool> taken(actual.size(), false);
  std::vector<std::size_t> unmatched;
  for (std::size_t e = 0; e < expected.size(); ++e) {
    bool found = false;
    for (std::size_t a = 0; a < written.size() && !found; ++a) {
      if (!taken[a] && matches(expected[e], written[a])) {
        taken[a] = found = true;
      }
    }
    if (!found) {
      unmatched.push_back(e);
    }
  }
  for (std::size_t e : unmatched) {
    diff.equal = false;
    const lang::TestRecord &want = expected[e];
    std::string stream = want.stream.empty() ? streamOf(want.value) : want.stream;
    std::optional<std::size_t> best;
    std::size_t best_score = 0;
    for (std::size_t a = 0; a < written.size(); ++a) {
      if (taken[a] || written[a].kind != Kind::Object) {
        continue;
      }
      if (!stream.empty() && streamOf(written[a]) != stream) {
        continue;
      }
      std::size_t score = agreement(want, written[a]) + 1;
      if (score > best_score) {
        best = a;
        best_score = score;
      }
    }
    std::string name =
        "expected " + what + " " + std::to_string(e + 1) + " (" + where(want.range) + ")";
    if (!best) {
      diff.lines.push_back(name + " was not written:");
      diff.lines.push_back("  " + lang::json::toText(want.value));
      continue;
    }
    taken[*best] = true;
    diff.lines.push_back(name + " differs from the " + what + " written " + ordinal(*best + 1) +
                         ":");
    for (const lang::json::Member &m : want.value.members) {
      const Value *got = written[*best].find(m.key);
      if (!got) {
        diff.lines.push_back("  " + m.key + ": expected " + lang::json::toText(m.value) +
                             ", written record has no `" + m.key + "`");
      } else if (!same(m.value, *got, isTime(want, m.key))) {
        diff.lines.push_back("  " + m.key + ": expected " + lang::json::toText(m.value) +
                             ", written " + lang::json::toText(*got));
      }
    }
    diff.lines.push_back("  written: " + actual[*best]);
  }
  for (std::size_t a = 0; a < actual.size(); ++a) {
    if (!taken[a]) {
      diff.equal = false;
      diff.lines.push_back("unexpected " + what + " written " + ordinal(a + 1) + ":");
      diff.lines.push_back("  " + actual[a]);
    }
  }
  return diff;
}

} // namespace cep::cli
