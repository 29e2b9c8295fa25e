// `cep backtest`'s three outputs of one Report (docs/backtest.md): the text tables
// (backtest_text.cpp), the JSON document of `--format json` (backtest_json.cpp, format
// "cep-backtest/1") and the self-contained HTML page of `--report` (backtest_html.cpp), which
// embeds that JSON document and draws from it.
#pragma once

#include "cli/backtest_join.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cep::cli::backtest {

// What was run, for the headers.
struct Context {
  std::vector<std::string> rules;  // rule files (or the .cepo) as given
  std::vector<std::string> inputs; // -i as given
  std::string labels;              // --labels
  std::string order;               // sort | arrival
  std::string at_end;              // drop | fire
  std::string engine;              // jit | interp | cepo
};

// A duration in ms as the tables show it: 250ms, 12.3s, 4m05s, 2h03m, 3d04h; negative with '-'.
std::string formatDelay(std::int64_t ms);

std::string formatText(const Report &report, const Context &context);
std::string formatJson(const Report &report, const Context &context);
std::string formatHtml(const Report &report, const Context &context);

} // namespace cep::cli::backtest
