// The `run` subcommand's options (cli_args.hpp addRunCommand): one definition for the whole
// program (main.cpp) and the lean `cep` (main_lean.cpp), so both parse a command line alike.
#include "cli/cli_args.hpp"

#include <CLI/CLI.hpp>

namespace cep::cli {

void addImportPath(CLI::App *cmd, std::vector<std::string> &paths) {
  cmd->add_option("--import-path", paths,
                  "A folder imports may lead into besides the rule files' own, searched for "
                  "imports not found next to the importing file; repeatable")
      ->check(CLI::ExistingDirectory);
}

void addColor(CLI::App *cmd, std::string &color) {
  cmd->add_option("--color", color, "Color diagnostics: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

CLI::App *addRunCommand(CLI::App &app, RunOptions &run) {
  CLI::App *run_cmd = app.add_subcommand(
      "run", "Run rules over event streams and print one JSON line per match.\n"
             "Events are JSON Lines; each input is its own partition with its own watermark.");
  run_cmd->add_option("rules", run.rules, "Rule files (.cep) or compiled artifacts (.cepo)")
      ->required();
  run_cmd->add_option("-i,--input", run.inputs,
                      "Event input PATH[:Type] (`-` is stdin; :Type binds records without @type); "
                      "repeatable");
  run_cmd->add_option("-o,--output", run.output, "Where matches go (`-` is stdout)")
      ->capture_default_str();
  run_cmd->add_option("--time", run.time, "event (event-time order, watermarks) or processing")
      ->check(CLI::IsMember({"event", "processing"}))
      ->capture_default_str();
  run_cmd
      ->add_option("--max-delay", run.max_delay, "Allowed out-of-orderness of event times, e.g. 5s")
      ->capture_default_str();
  run_cmd
      ->add_option("--order", run.order,
                   "arrival (events released as --max-delay allows) or sort (a finite input "
                   "read whole, then matched in event-time order: nothing is late)")
      ->check(CLI::IsMember({"arrival", "sort"}))
      ->capture_default_str();
  run_cmd->add_option("--sort-memory", run.sort_memory,
                      "With --order sort: memory the held events may take before sorted runs "
                      "are written to disk (e.g. 512M, 4G; default 1G)");
  run_cmd->add_option("--sort-dir", run.sort_dir,
                      "With --order sort: where the sorted runs go (default $TMPDIR, else /tmp)");
  run_cmd
      ->add_option("--at-end", run.at_end,
                   "At the end of the input: fire (what only time could still settle is written, "
                   "marked \"@at_end\":true) or drop (counted and left out)")
      ->check(CLI::IsMember({"fire", "drop"}))
      ->capture_default_str();
  run_cmd
      ->add_option("--watermark", run.watermark,
                   "auto (from event times) or explicit (only {\"@watermark\": ms} lines)")
      ->check(CLI::IsMember({"auto", "explicit"}))
      ->capture_default_str();
  run_cmd
      ->add_option("--event-time-range", run.event_time_range,
                   "Plausible event times FROM..TO (RFC 3339 or epoch ms, TO excluded); records "
                   "outside are rejected")
      ->capture_default_str();
  run_cmd
      ->add_option("--max-record-bytes", run.max_record_bytes,
                   "Longest input record in bytes; a longer one is a dead letter (1 to 4294967295)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4294967295}))
      ->capture_default_str();
  run_cmd->add_option("--late-output", run.late_output, "Write late events here");
  run_cmd->add_option("--dead-letter", run.dead_letter, "Write rejected records here, with why");
  run_cmd
      ->add_option("--engine", run.engine,
                   "jit (native code) or interp (the reference interpreter)")
      ->check(CLI::IsMember({"interp", "jit"}))
      ->capture_default_str();
  run_cmd
      ->add_option("-O,--opt-level", run.opt_level,
                   "With --engine jit: LLVM optimisation level 0-3")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  run_cmd->add_option(
      "--disable-pass", run.disabled_passes,
      "Turn an optimisation pass off (repeatable, or `all`); results must not change");
  run_cmd->add_flag("--with-events", run.with_events,
                    "Add to each match the input records bound to each step (@events)");
  run_cmd->add_option("--trace", run.trace,
                      "Trace one key: what each pattern's runs did with each of its events and "
                      "why (card-42, 42, or \"@key\" JSON such as '[\"c1\",3]'; "
                      "docs/debugging.md)");
  run_cmd
      ->add_option("--trace-format", run.trace_format,
                   "text (one line per event and per run action) or json (JSON Lines)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  run_cmd->add_option("--trace-output", run.trace_output,
                      "Write the trace here (default stderr; - is stdout)");
  run_cmd
      ->add_option("--max-runs-per-key", run.max_runs_per_key,
                   "Evict the oldest partial matches of a key beyond N (0: unbounded)")
      ->capture_default_str();
  run_cmd->add_option("--max-state-bytes", run.max_state_bytes,
                      "Evict a pattern's oldest partial matches while its accounted state "
                      "exceeds B bytes (e.g. 64M; default unbounded)");
  run_cmd->add_option("--key-ttl", run.key_ttl,
                      "Drop a key's partial matches once the watermark is D past its last event "
                      "(event time, e.g. 30m, 1d; default never)");
  run_cmd->add_option("--evicted-output", run.evicted_output,
                      "Write each evicted partial match here (one JSON line)");
  run_cmd
      ->add_option("--workers", run.workers,
                   "Matcher threads, each owning the keys that hash to it; the output is the "
                   "same bytes as with 1 (default 1; bench/RESULTS.md says what more costs)")
      ->check(CLI::Range(1, 64))
      ->type_name("N");
  run_cmd
      ->add_option("--decode-threads", run.decode_threads,
                   "With --workers 2 or more, over files: threads decoding the records ahead of "
                   "the reading thread (default: the cores beyond the workers, at most as many; "
                   "0: the reading thread decodes)")
      ->check(CLI::Range(0, 64))
      ->type_name("N");
  run_cmd->add_flag("--stats", run.stats, "Print counts, state sizes and speed at the end");
  run_cmd->add_flag("--strict", run.strict, "Stop at the first rejected record (exit 3)");
  run_cmd->add_flag("--follow", run.follow,
                    "Keep reading input files as they grow, as `tail -f` (stop with Ctrl-C)");
  run_cmd->add_flag("--no-timing", run.no_timing,
                    "With --stats: leave out wall time and speed (output the same on every run)");
  addImportPath(run_cmd, run.import_paths);
  run_cmd
      ->add_option("--trust", run.trust,
                   "Run a .cepo only when signed by this Ed25519 public key (NAME.pub); "
                   "repeatable")
      ->type_name("NAME.pub");
  addColor(run_cmd, run.color);
  // For tests and debugging (cli/run_resume.cpp): a run cut in two processes.
  run_cmd
      ->add_option("--snapshot-after", run.snapshot_after,
                   "Testing and debugging: stop after K records (of all inputs) and write a "
                   "snapshot of the whole run to --snapshot-file (nothing finished; exit 0)")
      ->type_name("K");
  run_cmd
      ->add_option("--snapshot-file", run.snapshot_file,
                   "Testing and debugging: where --snapshot-after writes its snapshot (atomically)")
      ->type_name("F");
  run_cmd
      ->add_option("--resume", run.resume,
                   "Testing and debugging: continue the run snapshotted in F (same rules, inputs "
                   "and options; either engine): the inputs are read again, what it consumed is "
                   "skipped, the outputs get what comes after")
      ->type_name("F");
  return run_cmd;
}

void noteRunEngineOptions(const CLI::App &run_cmd, RunOptions &run) {
  run.engine_options_given =
      run_cmd.count("--engine") + run_cmd.count("--opt-level") + run_cmd.count("--disable-pass") >
      0;
}

} // namespace cep::cli
