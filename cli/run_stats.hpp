// The `--stats` table of `cep run` (stderr): records per input (read, accepted, rejected, late,
// watermarks, and a total row when there are several inputs), then per pattern the events,
// matches, timeouts and peak state (the total row sums the per-pattern peaks: an upper bound of
// the peak of the whole), then wall time and events/s.
//
//   runtime::RunStats stats;
//   runtime::run(schema, matchers, inputs, sink, options, &stats);
//   std::cerr << cli::formatRunStats(stats);
#pragma once

#include "runtime/engine/run_loop.hpp"

#include <string>

namespace cep::cli {

// `timing` false leaves wall time and speed out, so the table is the same on every run (golden
// tests).
std::string formatRunStats(const runtime::RunStats &stats, bool timing = true);

} // namespace cep::cli
