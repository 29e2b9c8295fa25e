// A run cut in two processes: the first stops after K records with a snapshot of the whole run
// (run_snapshot.hpp), the second starts from that snapshot, takes up the same inputs where the
// first left them and continues. An input that is a regular file now and was one when the
// snapshot recorded its byte position (version 3) is sought there, after checking it is the
// same file with the same bytes before that position (runtime/io/inputs.hpp: a file replaced,
// truncated or changed is refused with the reason); any other input (stdin, a pipe or FIFO
// whose producer replays it from its start, or a version 1-2 snapshot) is read again from its
// start and the records the first consumed are skipped. The two together write exactly
// what one uninterrupted run writes (matches, dead letters, late events), byte for byte; the
// golden "resume" mode checks it for every match case (tests/run_golden --resume). `cep run
// --snapshot-after K --snapshot-file F` and `cep run --resume F` (cli/run_resume.cpp) are this,
// for tests and debugging.
//
//   // process 1: records 1..K, then the snapshot; nothing is finished, no timeout invented
//   std::string snapshot;
//   RunCut cut;
//   cut.snapshot_after = K;
//   RunResult r = runCut(schema, matchers, inputs, out, options, cut, &snapshot);
//   // r.status == Ok and snapshot holds the run; write it somewhere
//
//   // process 2: fresh matchers of the same patterns (either engine), the same inputs/options
//   RunCut resume;
//   resume.resume_from = snapshot;
//   RunResult r2 = runCut(schema, matchers2, inputs, out2, options, resume, nullptr);
//   // out2 holds what comes after record K
//
// A snapshot that does not belong to the run (other rules, inputs or options; corrupt) and
// inputs that are not the ones it consumed (a file replaced, truncated or changed before its
// position; a replayed input shorter, or its last record on another line; an input that had
// ended has more) end the run with RunStatus::InputError and a one-line reason; nothing is read
// after the cut then.
#pragma once

#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

// How a resumed run took up one of its inputs (RunCut::on_resumed).
struct ResumedInput {
  std::string name;          // Inputs::name: "<stdin>" or the path
  bool sought = false;       // a file sought to its position; else read again from its start
  std::uint64_t skipped = 0; // records skipped (read again) when not sought
  InputPosition position;    // where it stands now: the snapshot's byte position, line
};

struct RunCut {
  // Stop once this many records (of all inputs, counted from the start of the whole run, the
  // resumed part included) were consumed, and snapshot the run. Unset: run to the end.
  std::optional<std::uint64_t> snapshot_after;
  // Start from this run snapshot instead of from scratch. Empty: from the start.
  std::string_view resume_from;
  // Resuming: called once every input was taken up, before the first record is read after the
  // cut (`cep run --resume` says where each input resumed).
  std::function<void(const std::vector<ResumedInput> &)> on_resumed;
};

// run() with a cut (see above). With `cut.snapshot_after`, a run that reaches it flushes its
// outputs, stops (does not finish) and returns Ok with the snapshot appended to `*snapshot`; one
// whose inputs end first fails with the reason and writes no snapshot. `records` (optional)
// receives the records consumed in all, the resumed ones included.
RunResult runCut(const Schema &schema, const std::vector<Matcher *> &matchers,
                 const std::vector<InputSpec> &inputs, OutputSink &out, const RunOptions &options,
                 const RunCut &cut, std::string *snapshot, RunStats *stats = nullptr,
                 std::uint64_t *records = nullptr);

} // namespace cep::runtime
