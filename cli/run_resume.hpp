// `cep run --snapshot-after K --snapshot-file F` and `cep run --resume F`, for tests and
// debugging (runtime/engine/run_cut.hpp): a run cut after K records into two processes whose
// outputs together are the uninterrupted run's. executeRun (cmd_run.cpp) calls the two
// functions below:
//
//   RunCutPlan cut;
//   if (int code = prepareRunCut(options, outputs, reads, cut); code != kOk) {
//     return code; // bad flags (2), an unreadable snapshot (3): before any output is opened
//   }
//   ... open the outputs ...
//   runtime::RunResult result = runWithCut(cut, schema, matchers, plan.inputs, *out,
//                                          run_options, &stats);
//
// Without the flags runWithCut is runtime::run. After K records it writes the snapshot
// atomically (temporary, fsync, rename), and says so in one stderr line; the run then ends Ok
// (exit 0) with every output flushed. Resuming, it says in one stderr line where each input was
// taken up before reading on: `cep run: resumed from "F": "events.jsonl" at byte 245 (line 5)`
// (a file sought to the snapshot's byte position) or `"<stdin>" read again from its start (4
// records skipped)`. A snapshot that does not fit the run (other rules, inputs or options), an
// input file replaced, truncated or changed since (`cannot resume input ...`), or a snapshot
// that cannot be written ends it with the reason (exit 3).
#pragma once

#include "cli/commands.hpp"
#include "cli/output_paths.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cep::cli {

struct RunCutPlan {
  std::optional<std::uint64_t> snapshot_after; // --snapshot-after
  std::string snapshot_file;                   // --snapshot-file
  std::string resume_file;                     // --resume ("" when not given)
  std::string resume_bytes;                    // its content
  bool active() const { return snapshot_after.has_value() || !resume_file.empty(); }
};

// Checks the flags (--snapshot-after and --snapshot-file go together; the snapshot file must not
// be one of `outputs` or `reads`) and reads the --resume file. kOk, or the exit code after
// printing why: 2 for the flags, 3 for a snapshot file that cannot be read.
int prepareRunCut(const RunOptions &options, const std::vector<NamedPath> &outputs,
                  const std::vector<NamedPath> &reads, RunCutPlan &cut);

// runtime::run, or runtime::runCut when `cut` is active (then writes the snapshot file).
runtime::RunResult runWithCut(const RunCutPlan &cut, const runtime::Schema &schema,
                              const std::vector<runtime::Matcher *> &matchers,
                              const std::vector<runtime::InputSpec> &inputs,
                              runtime::OutputSink &out, const runtime::RunOptions &options,
                              runtime::RunStats *stats);

} // namespace cep::cli
