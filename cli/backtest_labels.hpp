// `cep backtest --labels FILE` (docs/backtest.md "Labels"): the labelled frauds, one JSON object
// per line:
//
//   {"key":"c-900001","time":"2026-01-05T10:33:34.252Z","class":"card_testing"}
//   {"key":["c-42",3],"time":1767609214252,"class":"velocity","note":"chargeback 2026-01-09"}
//
// `key` is the alert's `@key` as `cep run` writes it: a string, number or boolean, or an array of
// them for a composite `partition by`; compared after canonicalKey (so 3 and 3.0 are one key).
// `time` is an RFC 3339 string or integer epoch ms inside the run's --event-time-range. `class`
// is a non-empty string (the kind of fraud). Other members are allowed and ignored (notes, ids).
// Blank lines are skipped. Every bad line is an error with its line number and the reason.
#pragma once

#include "cli/backtest_join.hpp"

#include <cstdint>
#include <istream>
#include <simdjson.h>
#include <string>
#include <vector>

namespace cep::cli::backtest {

// The canonical JSON text of a key value: strings escaped as cep's records write them, integers
// (and integral floats up to 2^53) in decimal, other floats in the shortest exact form, booleans,
// arrays of those without spaces. False with `error` set for null, an object, or an array that
// holds an array, an object or null.
bool canonicalKey(const simdjson::dom::element &value, std::string &out, std::string &error);

struct LabelError {
  std::uint64_t line = 0;
  std::string message;
};

// Reads every line of `in`; the labels in file order, and an error per bad line. `time_min` and
// `time_max` bound the times, [time_min, time_max).
void readLabels(std::istream &in, std::int64_t time_min, std::int64_t time_max,
                std::vector<Label> &labels, std::vector<LabelError> &errors);

} // namespace cep::cli::backtest
