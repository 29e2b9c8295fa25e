// --snapshot-after / --snapshot-file / --resume of `cep run` (run_resume.hpp).
#include "cli/run_resume.hpp"

#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
#include "runtime/engine/run_cut.hpp"
#include "runtime/io/file_write.hpp"

#include <iostream>

namespace cep::cli {

int prepareRunCut(const RunOptions &options, const std::vector<NamedPath> &outputs,
                  const std::vector<NamedPath> &reads, RunCutPlan &cut) {
  if (options.snapshot_after.has_value() != options.snapshot_file.has_value()) {
    return runUsage("--snapshot-after K and --snapshot-file F go together");
  }
  if (options.snapshot_file && (options.snapshot_file->empty() || *options.snapshot_file == "-")) {
    return runUsage("--snapshot-file needs a file path");
  }
  if (options.resume && (options.resume->empty() || *options.resume == "-")) {
    return runUsage("--resume needs a file path");
  }
  if (options.resume) {
    // An output must not destroy the snapshot (the snapshot file may replace it: it is read
    // first).
    if (std::string conflict = sameFileConflict(outputs, {{"--resume", *options.resume}});
        !conflict.empty()) {
      return runUsage(conflict);
    }
  }
  if (options.snapshot_file) {
    std::vector<NamedPath> written{{"--snapshot-file", *options.snapshot_file}};
    written.insert(written.end(), outputs.begin(), outputs.end());
    if (std::string conflict = sameFileConflict(written, reads); !conflict.empty()) {
      return runUsage(conflict);
    }
    cut.snapshot_after = options.snapshot_after;
    cut.snapshot_file = *options.snapshot_file;
  }
  if (options.resume) {
    std::string error;
    if (!runtime::readWholeFile(*options.resume, cut.resume_bytes, error)) {
      return runFailure("--resume: " + error);
    }
    if (cut.resume_bytes.empty()) {
      return runFailure("--resume \"" + *options.resume + "\": the file is empty");
    }
    cut.resume_file = *options.resume;
  }
  return kOk;
}

runtime::RunResult runWithCut(const RunCutPlan &cut, const runtime::Schema &schema,
                              const std::vector<runtime::Matcher *> &matchers,
                              const std::vector<runtime::InputSpec> &inputs,
                              runtime::OutputSink &out, const runtime::RunOptions &options,
                              runtime::RunStats *stats) {
  if (!cut.active()) {
    return runtime::run(schema, matchers, inputs, out, options, stats);
  }
  runtime::RunCut how;
  how.snapshot_after = cut.snapshot_after;
  how.resume_from = cut.resume_bytes;
  how.on_resumed = [&cut](const std::vector<runtime::ResumedInput> &inputs) {
    std::cerr << "cep run: resumed from \"" << cut.resume_file << "\":";
    const char *separator = " ";
    for (const runtime::ResumedInput &input : inputs) {
      std::cerr << separator << '"' << input.name << '"';
      if (input.sought) {
        std::cerr << " at byte " << input.position.offset << " (line " << input.position.line
                  << ")";
      } else {
        std::cerr << " read again from its start (" << input.skipped
                  << (input.skipped == 1 ? " record" : " records") << " skipped)";
      }
      separator = ", ";
    }
    std::cerr << "\n";
  };
  std::string snapshot;
  std::uint64_t records = 0;
  runtime::RunResult result =
      runtime::runCut(schema, matchers, inputs, out, options, how, &snapshot, stats, &records);
  if (!cut.resume_file.empty() && result.status == runtime::RunStatus::InputError &&
      (result.message.rfind("bad run snapshot: ", 0) == 0 ||
       result.message.rfind("cannot resume input ", 0) == 0)) {
    result.message = "--resume \"" + cut.resume_file + "\": " + result.message;
  }
  if (result.status != runtime::RunStatus::Ok || !cut.snapshot_after) {
    return result;
  }
  // The outputs are flushed (runCut stopped the loop): a snapshot on disk never runs ahead of
  // the output written before it.
  std::string error;
  if (!runtime::writeFileAtomically(cut.snapshot_file, snapshot, error)) {
    return {runtime::RunStatus::OutputError, error};
  }
  std::cerr << "cep run: snapshot after " << records << (records == 1 ? " record" : " records")
            << " written to \"" << cut.snapshot_file << "\"; continue with --resume \""
            << cut.snapshot_file << "\"\n";
  return result;
}

} // namespace cep::cli
