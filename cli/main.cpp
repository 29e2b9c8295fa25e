// The `cep` command's whole program (`cep-full`): argument parsing only; each subcommand lives in
// its own cmd_*.cpp. CLI11 is included here and in run_args.cpp (cli_args.hpp: the `run` options
// the lean `cep` parses too, main_lean.cpp), nowhere else.
#include "cli/cli_args.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "compiler/jit/verify_code.hpp"
#include "support/internal_error.hpp"

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

namespace {

using namespace cep::cli;

constexpr const char *kDescription =
    "cep: compile and run complex-event-processing rules written in .cep files.\n"
    "\n"
    "Exit codes: 0 ok, 1 errors in the rules, 2 bad command line, 3 run failed,\n"
    "70 internal error (a bug in cep: please report it), 130/143 run stopped by\n"
    "SIGINT/SIGTERM.";

} // namespace

int main(int argc, char **argv) {
  // Started by verifyBitcode to read an artifact's bitcode apart from this process.
  if (int rc = cep::compiler::jit::runBitcodeCheckChild(); rc >= 0) {
    return rc;
  }
  cep::compiler::jit::useFreshProcessForBitcodeCheck();
  CLI::App app{kDescription, "cep"};
  app.require_subcommand(1);
  app.fallthrough(false);

  CheckOptions check;
  auto *check_cmd = app.add_subcommand(
      "check", "Check .cep files for errors and print every problem found, with its line and "
               "column.\nPrints nothing and exits 0 when the rules are clean; exits 1 otherwise.");
  check_cmd->add_option("files", check.files, "Rule files to check (their imports are checked too)")
      ->required();
  check_cmd->add_flag("-v,--verbose", check.verbose, "Print a one-line summary when clean");
  check_cmd->add_flag("--werror", check.werror, "Treat warnings as errors");
  check_cmd->add_option("--format", check.format, "Output format: text, or json for editors and CI")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  addImportPath(check_cmd, check.import_paths);
  addColor(check_cmd, check.color);

  auto *lsp_cmd = app.add_subcommand(
      "lsp", "A Language Server Protocol server on stdin/stdout for editors: diagnostics as you\n"
             "type (the checks of `cep check`), go to definition, hover with types.\nExits 0 "
             "after `shutdown` and `exit`, 3 when the input ends without them.");

  TestOptions test;
  auto *test_cmd = app.add_subcommand(
      "test", "Run the `test` declarations of .cep files: given their input records, the rules "
              "must write the\nexpected records. One PASS/FAIL line per test and engine, a diff "
              "for each failure.\nExits 0 when all pass, 1 when one fails, 2 when a file has "
              "errors, 3 when a run fails.");
  test_cmd->add_option("paths", test.paths,
                       ".cep files, or folders: every .cep under them "
                       "(default: the current folder)");
  test_cmd->add_option("--engine", test.engine, "jit (the default), interp, or all (both)")
      ->check(CLI::IsMember({"jit", "interp", "all"}))
      ->capture_default_str();
  test_cmd->add_option("--filter", test.filter, "Only the tests whose name contains this");
  test_cmd->add_option("--format", test.format, "Output: text, or json (one line per test)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  addImportPath(test_cmd, test.import_paths);
  addColor(test_cmd, test.color);

  ExplainOptions explain;
  auto *explain_cmd = app.add_subcommand(
      "explain", "Show what the compiler makes of the rules, stage by stage (or, given one .cepo,\n"
                 "what the artifact holds):\n"
                 "  ast      the syntax tree as parsed, with line:column\n"
                 "  typed    the checked program: resolved names, types, inlined defs\n"
                 "  nfa      each pattern's automaton (states, edges, guards)\n"
                 "  nfa-opt  the automaton after the optimisation passes\n"
                 "  llvm     the generated LLVM IR\n"
                 "  agg      each aggregate's plan (window, key, row slots, accumulators)");
  explain_cmd->add_option("files", explain.files, "Rule files, or one compiled artifact (.cepo)")
      ->required();
  explain_cmd->add_option("--emit", explain.emit, "Stage to show")
      ->check(CLI::IsMember({"ast", "typed", "nfa", "nfa-opt", "llvm", "agg"}))
      ->capture_default_str();
  explain_cmd
      ->add_option("--format", explain.format,
                   "text, dot (Graphviz) for nfa stages, or json with --why")
      ->check(CLI::IsMember({"text", "dot", "json"}))
      ->capture_default_str();
  explain_cmd->add_option("--pattern", explain.pattern, "Only this pattern (or aggregate)");
  explain_cmd->add_flag("!--no-positions", explain.positions,
                        "Leave line:column out of the ast dump");
  explain_cmd
      ->add_option("-O,--opt-level", explain.opt_level,
                   "With --emit=llvm: LLVM optimisation level 0-3")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  explain_cmd->add_option("--disable-pass", explain.disabled_passes,
                          "Turn an optimisation pass off (repeatable, or `all`)");
  explain_cmd->add_flag("!--no-host", explain.host,
                        "For a .cepo: leave out the target, CPU, features and code section sizes "
                        "(the same output on every machine)");
  explain_cmd->add_flag("--why", explain.why,
                        "Why --pattern P did (not) fire for --key K over the -i inputs: the "
                        "furthest any run got and what stopped it (docs/debugging.md)");
  explain_cmd->add_option("-i,--input", explain.inputs, "With --why: event input PATH[:Type]");
  explain_cmd->add_option("--key", explain.key,
                          "With --why: the key (card-42, 42, or \"@key\" JSON)");
  explain_cmd->add_option("--max-delay", explain.max_delay, "With --why: as `cep run`")
      ->capture_default_str();
  explain_cmd->add_option("--order", explain.order, "With --why: arrival or sort, as `cep run`")
      ->check(CLI::IsMember({"arrival", "sort"}))
      ->capture_default_str();
  explain_cmd->add_option("--at-end", explain.at_end, "With --why: fire or drop, as `cep run`")
      ->check(CLI::IsMember({"fire", "drop"}))
      ->capture_default_str();
  addImportPath(explain_cmd, explain.import_paths);
  addColor(explain_cmd, explain.color);

  CompileOptions compile;
  auto *compile_cmd = app.add_subcommand(
      "compile", "Compile rules ahead of time into a .cepo artifact that `cep run` loads without "
                 "the source.");
  compile_cmd->add_option("files", compile.files, "Rule files")->required();
  compile_cmd->add_option("-o,--output", compile.output, "Artifact to write (.cepo)")->required();
  compile_cmd->add_option("-O,--opt-level", compile.opt_level, "LLVM optimisation level 0-3")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  compile_cmd->add_option("--disable-pass", compile.disabled_passes,
                          "Turn an optimisation pass off (repeatable, or `all`)");
  addImportPath(compile_cmd, compile.import_paths);
  compile_cmd
      ->add_option("--sign", compile.sign_key,
                   "Sign the artifact with this Ed25519 secret key (NAME.key, cep keygen)")
      ->type_name("NAME.key");
  compile_cmd->add_flag("--no-sources", compile.no_sources,
                        "Leave the rule files out of the artifact (they are kept by default for "
                        "traces: cep run X.cepo --trace, docs/debugging.md)");
  addColor(compile_cmd, compile.color);

  KeygenOptions keygen;
  auto *keygen_cmd = app.add_subcommand(
      "keygen", "Make an Ed25519 key pair for signing artifacts: NAME.key (secret, mode 0600) "
                "for cep compile --sign, NAME.pub for cep run --trust.");
  keygen_cmd->add_option("-o,--output", keygen.name, "NAME of the key files (never replaced)")
      ->required()
      ->type_name("NAME");

  RunOptions run;
  CLI::App *run_cmd = addRunCommand(app, run);

  BacktestOptions backtest;
  RunOptions &bt = backtest.run;
  bt.order = "sort";  // a replay of history: nothing late (docs/backtest.md)
  bt.at_end = "drop"; // the end of a history is no event: nothing it alone settles is an alert
  auto *backtest_cmd = app.add_subcommand(
      "backtest",
      "Run rules over history as `cep run` does and join their alerts with labelled frauds:\n"
      "per rule alerts, alerts per day, true and false positives, precision, recall, time to\n"
      "detection; the frauds no rule caught; --report writes an HTML page of it.\n"
      "Exits 0, or 1 for rule errors, 2 for a bad command line, 3 when the run fails or a\n"
      "label line is bad.");
  backtest_cmd->add_option("rules", bt.rules, "Rule files (.cep) or one compiled artifact (.cepo)")
      ->required();
  backtest_cmd
      ->add_option("-i,--input", bt.inputs,
                   "History: event input PATH[:Type] (`-` is stdin); repeatable")
      ->required();
  backtest_cmd
      ->add_option("--labels", backtest.labels,
                   "Labelled frauds, JSON Lines {\"key\":...,\"time\":...,\"class\":...}")
      ->required()
      ->check(CLI::ExistingFile);
  backtest_cmd
      ->add_option("--horizon", backtest.horizon,
                   "An alert for a label's key up to D after the labelled time hits it (e.g. 1h, "
                   "7d)")
      ->capture_default_str();
  backtest_cmd->add_option("--lookback", backtest.lookback,
                           "... and one up to D before it (default: the --horizon)");
  backtest_cmd->add_option("--report", backtest.report,
                           "Write a self-contained HTML report here (no network needed)");
  backtest_cmd->add_option("--format", backtest.format, "Output: text, or json (one document)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  backtest_cmd
      ->add_option("--progress", backtest.progress,
                   "Progress line on stderr: auto (when it is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  backtest_cmd
      ->add_option("--order", bt.order,
                   "sort (the default: history read whole, matched in event-time order, nothing "
                   "late) or arrival (released as --max-delay allows, as live)")
      ->check(CLI::IsMember({"arrival", "sort"}))
      ->capture_default_str();
  backtest_cmd->add_option("--max-delay", bt.max_delay,
                           "With --order arrival: allowed out-of-orderness, e.g. 5s");
  backtest_cmd->add_option("--sort-memory", bt.sort_memory,
                           "With --order sort: memory for held events before sorted runs go to "
                           "disk (default 1G)");
  backtest_cmd->add_option("--sort-dir", bt.sort_dir,
                           "With --order sort: where sorted runs go (default $TMPDIR, else /tmp)");
  backtest_cmd
      ->add_option("--at-end", bt.at_end,
                   "drop (the default: what only the end of the history settles is no alert) or "
                   "fire")
      ->check(CLI::IsMember({"fire", "drop"}))
      ->capture_default_str();
  backtest_cmd
      ->add_option("--event-time-range", bt.event_time_range,
                   "Plausible event (and label) times FROM..TO (RFC 3339 or epoch ms)")
      ->capture_default_str();
  backtest_cmd
      ->add_option("--max-record-bytes", bt.max_record_bytes, "Longest input record in bytes")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4294967295}))
      ->capture_default_str();
  backtest_cmd
      ->add_option("--engine", bt.engine, "jit (native code) or interp (the reference interpreter)")
      ->check(CLI::IsMember({"interp", "jit"}))
      ->capture_default_str();
  backtest_cmd
      ->add_option("-O,--opt-level", bt.opt_level, "With --engine jit: LLVM optimisation level 0-3")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  backtest_cmd->add_option("--max-runs-per-key", bt.max_runs_per_key,
                           "Evict the oldest partial matches of a key beyond N (0: unbounded)");
  backtest_cmd->add_option("--max-state-bytes", bt.max_state_bytes,
                           "Evict a pattern's oldest partial matches beyond B bytes");
  backtest_cmd->add_option("--key-ttl", bt.key_ttl,
                           "Drop a key's partial matches D after its last event (event time)");
  addImportPath(backtest_cmd, bt.import_paths);
  backtest_cmd->add_option("--trust", bt.trust, "Run a .cepo only when signed by this key")
      ->type_name("NAME.pub");
  addColor(backtest_cmd, bt.color);

  ServeOptions serve;
  RunOptions &srv = serve.run;
  auto *serve_cmd = app.add_subcommand(
      "serve", "Run patterns as a long-running server: read inputs as they arrive, hot-load "
               "compiled patterns through an admin endpoint (cep deploy), stop on SIGTERM.");
  serve_cmd->add_option("rules", srv.rules,
                        "Artifacts (.cepo) and rule files (.cep, compiled at start) to serve "
                        "from the start (optional: deploy later)");
  serve_cmd
      ->add_option("-i,--input", srv.inputs,
                   "Event input PATH[:Type]: a file (read once, or followed with --follow), a "
                   "named pipe, or `-` for stdin; repeatable")
      ->required();
  serve_cmd->add_option("-o,--output", srv.output, "Where matches go (`-` is stdout)")
      ->capture_default_str();
  serve_cmd->add_option("--time", srv.time, "event (event-time order, watermarks) or processing")
      ->check(CLI::IsMember({"event", "processing"}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-delay", srv.max_delay, "Allowed out-of-orderness of event times, e.g. 5s")
      ->capture_default_str();
  serve_cmd
      ->add_option("--watermark", srv.watermark,
                   "auto (from event times) or explicit (only {\"@watermark\": ms} lines)")
      ->check(CLI::IsMember({"auto", "explicit"}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--event-time-range", srv.event_time_range,
                   "Plausible event times FROM..TO (RFC 3339 or epoch ms, TO excluded); records "
                   "outside are rejected")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-record-bytes", srv.max_record_bytes,
                   "Longest input record in bytes; a longer one is a dead letter (1 to 4294967295)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4294967295}))
      ->capture_default_str();
  serve_cmd->add_option("--late-output", srv.late_output, "Write late events here");
  serve_cmd->add_option("--dead-letter", srv.dead_letter, "Write rejected records here, with why");
  serve_cmd->add_option("--engine", srv.engine, "jit only: a server runs compiled code")
      ->check(CLI::IsMember({"interp", "jit"}))
      ->capture_default_str();
  serve_cmd
      ->add_option("-O,--opt-level", srv.opt_level,
                   "LLVM optimisation level 0-3 for the .cep rules compiled at start")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  serve_cmd->add_flag("--with-events", srv.with_events,
                      "Add to each match the input records bound to each step (@events)");
  serve_cmd
      ->add_option("--max-runs-per-key", srv.max_runs_per_key,
                   "Evict the oldest partial matches of a key beyond N (0: unbounded)")
      ->capture_default_str();
  serve_cmd->add_option("--max-state-bytes", srv.max_state_bytes,
                        "Evict a pattern's oldest partial matches while its accounted state "
                        "exceeds B bytes (e.g. 64M; default unbounded)");
  serve_cmd->add_option("--key-ttl", srv.key_ttl,
                        "Drop a key's partial matches once the watermark is D past its last event "
                        "(event time, e.g. 30m, 1d; default never)");
  serve_cmd->add_option("--evicted-output", srv.evicted_output,
                        "Write each evicted partial match here (one JSON line)");
  serve_cmd
      ->add_option("--workers", srv.workers,
                   "Matcher threads, each owning the keys that hash to it; output, checkpoints "
                   "and savepoints are the same as with 1 (default 1: a second thread costs "
                   "more CPU than it gives on a loaded 2-core machine, bench/RESULTS.md). Not "
                   "with Kafka, --rules-topic, aggregates, key traces, --time processing or "
                   "the state bounds")
      ->check(CLI::Range(1, 64))
      ->type_name("N");
  serve_cmd->add_flag("--follow", srv.follow,
                      "Keep reading input files as they grow, as `tail -f`");
  addImportPath(serve_cmd, srv.import_paths);
  serve_cmd
      ->add_option("--trust", srv.trust,
                   "Load only artifacts (at start and deployed) signed by this Ed25519 public "
                   "key (NAME.pub); repeatable")
      ->type_name("NAME.pub");
  addColor(serve_cmd, srv.color);
  serve_cmd
      ->add_option("--admin", serve.admin,
                   "Admin endpoint HOST:PORT (loopback unless --admin-token-file; port 0: any)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--admin-token-file", serve.admin_token_file,
                   "Every admin request needs `Authorization: Bearer <the file's token>`")
      ->type_name("FILE");
  serve_cmd
      ->add_option("--admin-port-file", serve.admin_port_file,
                   "Write the admin port here once listening (for scripts and tests)")
      ->type_name("FILE");
  serve_cmd
      ->add_option("--admin-max-body", serve.admin_max_body,
                   "Largest artifact a deploy may post (e.g. 64M)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--state", serve.state_dir,
                   "Keep the state in RocksDB under DIR (checkpoints; a restart resumes from the "
                   "last one, exactly once)")
      ->type_name("DIR");
  serve_cmd
      ->add_option("--checkpoint-every", serve.checkpoint_every,
                   "With --state: take a checkpoint this often (e.g. 100ms, 1s; 0: only when "
                   "stopping)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--from-savepoint", serve.from_savepoint,
                   "Start from a savepoint (cep savepoint): its patterns and their state, the "
                   "inputs at its positions; new outputs. Artifacts given too are deployed over "
                   "it (keep)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  serve_cmd
      ->add_option("--kafka-config", serve.kafka_config,
                   "librdkafka properties (key=value lines) for every Kafka input and output: "
                   "TLS, SASL, tuning (docs/kafka.md)")
      ->type_name("FILE");
  serve_cmd
      ->add_option("--idle-timeout", serve.idle_timeout,
                   "A Kafka partition silent this long (wall time) leaves the watermark minimum "
                   "until it has messages again (e.g. 5s; 0: never)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--rule-history-retention", serve.rule_history_retention,
                   "--scale-out with --rules-topic: rule changes due more than this much event "
                   "time behind this member are dropped from the history a partition taken "
                   "over behind them replays (e.g. 24h; docs/kafka.md)")
      ->capture_default_str();
  serve_cmd->add_flag("--scale-out", serve.scale_out,
                      "Share the Kafka input's partitions with the other cep serve processes of "
                      "its group; a partition's state moves with it (needs --state and Kafka "
                      "input and output; docs/kafka.md)");
  serve_cmd->add_flag("--repartition", serve.repartition,
                      "The Kafka input is keyed otherwise than the patterns: republish it to "
                      "<group>-repartition keyed by the patterns' key and match from there "
                      "(docs/kafka.md)");
  serve_cmd
      ->add_option("--repartition-partitions", serve.repartition_partitions,
                   "Partitions of <group>-repartition when it is created (default: as many as "
                   "the input topic)")
      ->check(CLI::Range(1, 100000))
      ->type_name("N");
  serve_cmd
      ->add_option("--rules-topic", serve.rules_topic,
                   "Deploy and undeploy from this Kafka topic, read whole by every instance: "
                   "each message applies at the event time it carries (docs/kafka.md)")
      ->type_name("kafka://HOST:PORT/TOPIC");

  auto *version_cmd = app.add_subcommand("version", "Print the cep version and its libraries");

  // Clients of `cep serve --admin HOST:PORT` (docs/serve.md): exit 3 when the server is down,
  // refuses or answers an error.
  DeployOptions deploy;
  auto *deploy_cmd = app.add_subcommand(
      "deploy", "Load a compiled artifact into a running `cep serve` (hot swap)");
  deploy_cmd->add_option("artifact", deploy.artifact, "The artifact (.cepo, from cep compile)")
      ->required()
      ->check(CLI::ExistingFile)
      ->type_name("FILE.cepo");
  deploy_cmd
      ->add_option("--mode", deploy.mode,
                   "keep (move in-flight partial matches into the new version), drain (the old "
                   "version finishes its runs) or fresh (drop them)")
      ->check(CLI::IsMember({"keep", "drain", "fresh"}))
      ->capture_default_str();
  UndeployOptions undeploy;
  auto *undeploy_cmd =
      app.add_subcommand("undeploy", "Remove a pattern from a running `cep serve`");
  undeploy_cmd->add_option("pattern", undeploy.pattern, "The pattern's name")
      ->required()
      ->type_name("NAME");
  undeploy_cmd
      ->add_option("--mode", undeploy.mode,
                   "drain (no new starts; unload when its runs end) or drop (unload now)")
      ->check(CLI::IsMember({"drain", "drop"}))
      ->capture_default_str();
  StatusOptions status;
  auto *status_cmd = app.add_subcommand(
      "status", "Show the patterns a running `cep serve` has loaded, as a table");
  SavepointOptions savepoint;
  auto *savepoint_cmd = app.add_subcommand(
      "savepoint", "Write a savepoint of a running `cep serve` (cep serve --from-savepoint)");
  savepoint_cmd->add_option("-o,--output", savepoint.output, "The savepoint file to write")
      ->required()
      ->type_name("FILE");
  TraceServerOptions trace_server;
  auto *trace_cmd = app.add_subcommand(
      "trace",
      "Trace one key on a running `cep serve` (its /trace endpoint): the lines as they come");
  trace_cmd->add_option("--key", trace_server.key, "The key, as in \"@key\" (card-42, 42, JSON)")
      ->required()
      ->type_name("KEY");
  trace_cmd->add_option("--pattern", trace_server.pattern, "Only this pattern")->type_name("NAME");
  trace_cmd->add_option("--format", trace_server.format, "text or json (JSON Lines)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  trace_cmd->add_option("--for", trace_server.for_d, "Stop after this long (e.g. 30s)")
      ->type_name("DURATION");
  for (auto [cmd, common] :
       {std::pair{deploy_cmd, &deploy.admin}, std::pair{undeploy_cmd, &undeploy.admin},
        std::pair{status_cmd, &status.admin}, std::pair{savepoint_cmd, &savepoint.admin},
        std::pair{trace_cmd, &trace_server.admin}}) {
    cmd->add_option("--server", common->server, "The admin address of cep serve")
        ->required()
        ->type_name("HOST:PORT");
    cmd->add_option("--token-file", common->token_file,
                    "A file holding the bearer token (cep serve --admin-token-file)")
        ->type_name("FILE");
  }

  StateOptions state;
  auto *state_cmd = app.add_subcommand(
      "state", "List the partial matches in flight, from a state folder or a running server");
  state_cmd->add_option("dir", state.dir, "The state folder (cep serve --state DIR)")
      ->type_name("DIR");
  state_cmd->add_option("--server", state.admin.server, "The admin address of cep serve")
      ->type_name("HOST:PORT");
  state_cmd
      ->add_option("--token-file", state.admin.token_file,
                   "A file holding the bearer token (cep serve --admin-token-file)")
      ->type_name("FILE");
  state_cmd->add_option("--pattern", state.pattern, "Only this pattern")->type_name("NAME");
  state_cmd
      ->add_option("--key", state.key,
                   "Only this key, as written (card-42, 42) or as its \"@key\" JSON")
      ->type_name("KEY");
  state_cmd->add_option("--format", state.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  PublishRuleOptions publish;
  auto *publish_cmd = app.add_subcommand(
      "publish-rule", "Write a deploy or undeploy to a rules topic (cep serve --rules-topic), "
                      "taking effect at an event time");
  publish_cmd->add_option("artifact", publish.artifact, "The artifact to deploy (.cepo)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE.cepo");
  publish_cmd->add_option("--to", publish.to, "The rules topic")
      ->required()
      ->type_name("kafka://HOST:PORT/TOPIC");
  publish_cmd
      ->add_option("--undeploy", publish.undeploy, "Undeploy this pattern (instead of a deploy)")
      ->type_name("NAME");
  publish_cmd
      ->add_option("--mode", publish.mode,
                   "deploy: keep (default), drain or fresh; undeploy: drain (default) or drop")
      ->check(CLI::IsMember({"keep", "drain", "fresh", "drop"}));
  publish_cmd
      ->add_option("--at", publish.at,
                   "The event time it takes effect at: RFC 3339 (2026-01-05T10:00:00Z) or epoch "
                   "milliseconds")
      ->required()
      ->type_name("TIME");
  publish_cmd
      ->add_option("--kafka-config", publish.kafka_config,
                   "librdkafka properties (key=value lines)")
      ->type_name("FILE");

  // CLI11 would call an unknown word a missing subcommand; say what is wrong instead.
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "check" && first != "test" &&
      first != "explain" && first != "compile" && first != "keygen" && first != "run" &&
      first != "backtest" && first != "serve" && first != "version" && first != "deploy" &&
      first != "undeploy" && first != "status" && first != "state" && first != "savepoint" &&
      first != "publish-rule" && first != "trace" && first != "lsp") {
    std::cerr
        << "cep: unknown command `" << argv[1]
        << "` (commands: check, test, explain, compile, keygen, run, backtest, serve, "
           "version, deploy, undeploy, status, state, savepoint, publish-rule, trace, lsp; see "
           "cep --help)\n";
    return kUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e); // prints the message and a hint
    return kUsage;
  }

  try {
    if (check_cmd->parsed()) {
      return runCheck(check);
    }
    if (lsp_cmd->parsed()) {
      return runLsp();
    }
    if (test_cmd->parsed()) {
      return runTest(test);
    }
    if (explain_cmd->parsed()) {
      explain.stage_options_given =
          explain_cmd->count("--emit") + explain_cmd->count("--format") +
              explain_cmd->count("--no-positions") + explain_cmd->count("--opt-level") +
              explain_cmd->count("--disable-pass") + explain_cmd->count("--import-path") >
          0;
      return runExplain(explain);
    }
    if (compile_cmd->parsed()) {
      return runCompile(compile);
    }
    if (keygen_cmd->parsed()) {
      return runKeygen(keygen);
    }
    if (run_cmd->parsed()) {
      noteRunEngineOptions(*run_cmd, run);
      return runRun(run);
    }
    if (backtest_cmd->parsed()) {
      bt.engine_options_given =
          backtest_cmd->count("--engine") + backtest_cmd->count("--opt-level") > 0;
      return runBacktest(backtest);
    }
    if (serve_cmd->parsed()) {
      return runServe(serve);
    }
    if (version_cmd->parsed()) {
      return runVersion();
    }
    if (deploy_cmd->parsed()) {
      return runDeploy(deploy);
    }
    if (undeploy_cmd->parsed()) {
      return runUndeploy(undeploy);
    }
    if (status_cmd->parsed()) {
      return runStatus(status);
    }
    if (state_cmd->parsed()) {
      return runState(state);
    }
    if (savepoint_cmd->parsed()) {
      return runSavepoint(savepoint);
    }
    if (trace_cmd->parsed()) {
      return runTraceServer(trace_server);
    }
    if (publish_cmd->parsed()) {
      return runPublishRule(publish);
    }
  } catch (const cep::InternalError &e) {
    std::cerr << "internal error: " << e.what() << '\n';
    return kInternal;
  } catch (const std::exception &e) {
    std::cerr << "internal error: unexpected exception: " << e.what() << '\n';
    return kInternal;
  }
  return kUsage;
}
