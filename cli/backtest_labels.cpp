#include "cli/backtest_labels.hpp"

#include "runtime/io/json_writer.hpp"
#include "runtime/time/time_format.hpp"

#include <cmath>
#include <string_view>

namespace cep::cli::backtest {

namespace {

bool canonicalScalar(const simdjson::dom::element &value, std::string &out, std::string &error) {
  switch (value.type()) {
  case simdjson::dom::element_type::STRING:
    runtime::appendJsonString(out, std::string_view(value.get_string().value_unsafe()));
    return true;
  case simdjson::dom::element_type::INT64:
    runtime::appendJsonInt(out, value.get_int64().value_unsafe());
    return true;
  case simdjson::dom::element_type::UINT64:
    out += std::to_string(value.get_uint64().value_unsafe());
    return true;
  case simdjson::dom::element_type::DOUBLE: {
    double d = value.get_double().value_unsafe();
    if (std::nearbyint(d) == d && std::fabs(d) <= 9007199254740992.0) {
      runtime::appendJsonInt(out, static_cast<std::int64_t>(d));
    } else {
      runtime::appendJsonFloat(out, d);
    }
    return true;
  }
  case simdjson::dom::element_type::BOOL:
    out += value.get_bool().value_unsafe() ? "true" : "false";
    return true;
  case simdjson::dom::element_type::NULL_VALUE:
    error = "a key cannot be null (alerts of a pattern without `partition by` have no key to "
            "join on)";
    return false;
  case simdjson::dom::element_type::OBJECT:
    error = "a key cannot be an object: a string, number or boolean, or an array of them";
    return false;
  case simdjson::dom::element_type::ARRAY:
    error = "a composite key's parts are strings, numbers or booleans, not arrays";
    return false;
  }
  error = "unknown JSON value";
  return false;
}

} // namespace

bool canonicalKey(const simdjson::dom::element &value, std::string &out, std::string &error) {
  if (value.type() != simdjson::dom::element_type::ARRAY) {
    return canonicalScalar(value, out, error);
  }
  out += '[';
  bool first = true;
  // A named array: a range-for over get_array().value_unsafe() would iterate a reference into
  // the simdjson_result temporary, gone before the loop runs.
  simdjson::dom::array parts = value.get_array().value_unsafe();
  for (simdjson::dom::element part : parts) {
    if (!first) {
      out += ',';
    }
    first = false;
    if (!canonicalScalar(part, out, error)) {
      return false;
    }
  }
  out += ']';
  if (first) {
    error = "a composite key cannot be an empty array";
    return false;
  }
  return true;
}

void readLabels(std::istream &in, std::int64_t time_min, std::int64_t time_max,
                std::vector<Label> &labels, std::vector<LabelError> &errors) {
  simdjson::dom::parser parser;
  std::string text;
  std::uint64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    auto fail = [&](std::string message) { errors.push_back({line, std::move(message)}); };
    simdjson::dom::element root;
    if (auto error = parser.parse(text).get(root); error) {
      fail(std::string("not JSON: ") + simdjson::error_message(error));
      continue;
    }
    simdjson::dom::object object;
    if (root.get_object().get(object)) {
      fail("a label is a JSON object {\"key\":...,\"time\":...,\"class\":...}");
      continue;
    }
    Label label;
    label.line = line;
    bool has_key = false, has_time = false, has_class = false, bad = false;
    for (auto [name, value] : object) {
      std::string error;
      if (name == "key") {
        if (has_key) {
          fail("\"key\" given twice");
          bad = true;
          break;
        }
        has_key = true;
        if (!canonicalKey(value, label.key, error)) {
          fail("\"key\": " + error);
          bad = true;
          break;
        }
      } else if (name == "time") {
        if (has_time) {
          fail("\"time\" given twice");
          bad = true;
          break;
        }
        has_time = true;
        if (value.is_string()) {
          if (!runtime::parseRfc3339(value.get_string().value_unsafe(), label.time, &error)) {
            fail("\"time\": " + error);
            bad = true;
            break;
          }
        } else if (value.is_int64()) {
          label.time = value.get_int64().value_unsafe();
        } else {
          fail("\"time\": expected an RFC 3339 string or integer epoch milliseconds");
          bad = true;
          break;
        }
        if (label.time < time_min || label.time >= time_max) {
          fail("\"time\": " + runtime::formatRfc3339(label.time) +
               " is outside --event-time-range " + runtime::formatRfc3339(time_min) + ".." +
               runtime::formatRfc3339(time_max));
          bad = true;
          break;
        }
      } else if (name == "class") {
        if (has_class) {
          fail("\"class\" given twice");
          bad = true;
          break;
        }
        has_class = true;
        std::string_view cls;
        if (value.get_string().get(cls) || cls.empty()) {
          fail("\"class\": expected a non-empty string (the kind of fraud)");
          bad = true;
          break;
        }
        label.label_class = std::string(cls);
      }
    }
    if (bad) {
      continue;
    }
    if (!has_key || !has_time || !has_class) {
      std::string missing;
      for (auto [given, member] : {std::pair{has_key, "\"key\""}, std::pair{has_time, "\"time\""},
                                   std::pair{has_class, "\"class\""}}) {
        if (!given) {
          missing += (missing.empty() ? "" : ", ") + std::string(member);
        }
      }
      fail("missing " + missing + " (a label is {\"key\":...,\"time\":...,\"class\":...})");
      continue;
    }
    labels.push_back(std::move(label));
  }
}

} // namespace cep::cli::backtest
