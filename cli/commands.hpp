// Options of each subcommand, filled by main.cpp (the only file that includes CLI11), and the
// functions that run them. Each returns an exit code (exit_codes.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cep::cli {

struct CheckOptions {
  std::vector<std::string> files;
  std::vector<std::string> import_paths; // --import-path: more folders imports may use
  bool verbose = false;
  bool werror = false;
  std::string format = "text"; // text | json
  std::string color = "auto";  // auto | always | never
};

struct ExplainOptions {
  std::vector<std::string> files;
  std::vector<std::string> import_paths; // --import-path: more folders imports may use
  std::string emit = "nfa";              // ast | typed | nfa | nfa-opt | llvm
  std::string format = "text";           // text | dot
  std::optional<std::string> pattern;
  bool positions = true; // --emit=ast: show line:col
  std::vector<std::string> disabled_passes;
  int opt_level = 2; // --emit=llvm: LLVM optimisation level 0-3
  bool host = true;  // x.cepo: show the target, CPU, features and code sizes (--no-host hides)
  std::string color = "auto";
  bool stage_options_given = false; // --emit, --format, --no-positions, -O, --disable-pass or
                                    // --import-path
  // --why (cmd_explain_why.cpp, docs/debugging.md): why `pattern` did (not) fire for `key` over
  // the inputs, from the reference interpreter's trace.
  bool why = false;
  std::vector<std::string> inputs; // -i PATH[:Type]
  std::optional<std::string> key;  // --key K, as `cep run --trace` takes it
  std::string max_delay = "0s";
  std::string order = "arrival"; // arrival | sort
  std::string at_end = "fire";   // fire | drop
};

struct CompileOptions {
  std::vector<std::string> files;
  std::vector<std::string> import_paths; // --import-path: more folders imports may use
  std::string output;
  int opt_level = 2;
  std::vector<std::string> disabled_passes; // optimisation passes turned off
  std::optional<std::string> sign_key;      // --sign NAME.key
  bool no_sources = false; // --no-sources: no sources section (no traces of the artifact)
  std::string color = "auto";
};

struct KeygenOptions {
  std::string name; // -o NAME: NAME.key and NAME.pub
};

struct RunOptions {
  std::vector<std::string> rules;
  std::vector<std::string> import_paths; // --import-path: more folders imports may use
  std::vector<std::string> inputs;       // PATH[:Type], `-` for stdin
  std::string output = "-";
  std::string time = "event"; // event | processing
  std::string max_delay = "0s";
  std::string watermark = "auto"; // auto | explicit
  // arrival (watermarks from --max-delay) | sort (`cep run` only: every event held until the end
  // of the input, then matched in event-time order; nothing is late)
  std::string order = "arrival";
  // --order sort: the memory the held events may take before sorted runs go to disk, and under
  // which folder (runtime/time/event_spill.hpp). Empty: 1G; $TMPDIR, else /tmp.
  std::string sort_memory;
  std::string sort_dir;
  // fire | drop: what the end of the input does with timeouts, absences and held matches that
  // only time could still settle (runtime::AtEnd)
  std::string at_end = "fire";
  // Plausible event times FROM..TO (RFC 3339 or epoch ms; TO excluded): others are rejected.
  std::uint64_t max_record_bytes = 1048576; // longer records are dead letters
  std::string event_time_range = "1970-01-01T00:00:00Z..2200-01-01T00:00:00Z";
  std::optional<std::string> late_output;
  std::optional<std::string> dead_letter;
  std::string engine = "jit";               // jit (default) | interp
  int opt_level = 2;                        // --engine jit: LLVM optimisation level 0-3
  std::vector<std::string> disabled_passes; // optimisation passes turned off
  bool engine_options_given = false;        // --engine, -O or --disable-pass on the command line
  bool with_events = false;
  bool stats = false;
  bool no_timing = false; // --stats without wall time and speed
  bool strict = false;
  bool follow = false; // --follow: read regular files on at their end, as `tail -f`
  // State bounds (docs/limits.md): 0 / empty: unbounded.
  std::uint64_t max_runs_per_key = 0;
  std::string max_state_bytes;               // a byte size: 1048576, 512K, 64M, 2G
  std::string key_ttl;                       // a duration of event time: 30m, 1d
  std::optional<std::string> evicted_output; // one JSON line per evicted partial match
  // --trace KEY (cli/run_trace.hpp, docs/debugging.md): one key's runs, event by event.
  std::optional<std::string> trace;
  std::string trace_format = "text";       // text | json
  std::optional<std::string> trace_output; // default stderr
  std::vector<std::string> trust; // --trust NAME.pub (repeatable): x.cepo must be signed by one
  std::string color = "auto";
  // For tests and debugging (cli/run_resume.hpp): stop after K records with a snapshot of the
  // run in --snapshot-file, or continue the run snapshotted in --resume.
  std::optional<std::uint64_t> snapshot_after;
  std::optional<std::string> snapshot_file;
  std::optional<std::string> resume;
  // --workers N (`cep run`, `cep serve`): matcher threads, keys hashed to them (runtime/engine/
  // worker_pool.hpp; docs/serve.md "Workers"). Unset: 1 (cli/cmd_run.cpp, resolveWorkers, says
  // why).
  std::optional<std::uint32_t> workers;
  // --decode-threads N (`cep run`): threads decoding file inputs ahead of the reading thread
  // (runtime/engine/decode_ahead.hpp). Unset: the cores beyond the workers (resolveWorkers).
  std::optional<std::uint32_t> decode_threads;
};

// `cep serve` (cmd_serve.cpp, docs/serve.md): the run options that apply to a server, and its
// admin endpoint.
struct ServeOptions {
  RunOptions run;                              // rules, inputs, output, time and bounds
  std::string admin = "127.0.0.1:7077";        // --admin HOST:PORT (port 0: any free port)
  std::optional<std::string> admin_token_file; // every request needs this bearer token
  std::optional<std::string> admin_port_file;  // the bound port is written here (tests, scripts)
  std::string admin_max_body = "64M";          // largest deploy body
  // Durable state (docs/state.md): checkpoints in RocksDB under this folder; a restart with the
  // same folder resumes from the last complete checkpoint.
  std::optional<std::string> state_dir; // --state DIR
  std::string checkpoint_every = "1s";  // --checkpoint-every D (0: only when stopping)
  // Start from a savepoint (`cep savepoint`; docs/state.md "Savepoints"): its patterns, their
  // state, the run and the inputs' positions; the outputs are new.
  std::optional<std::string> from_savepoint; // --from-savepoint FILE
  // Kafka (docs/kafka.md): -i kafka://... and -o kafka://... take these.
  std::optional<std::string> kafka_config; // --kafka-config FILE: librdkafka properties
  std::string idle_timeout = "0";          // --idle-timeout D: a silent partition leaves the
                                           // watermark minimum (0: never)
  // --rule-history-retention D: with --scale-out, the rules topic's changes due more than D of
  // event time behind this member are dropped from the history its catch-ups replay
  // (docs/kafka.md "A partition taken over behind the member").
  std::string rule_history_retention = "24h";
  // --rules-topic kafka://HOST:PORT/TOPIC: deploys and undeploys read from a control topic,
  // each applied at the event time it carries (docs/kafka.md "Rules topic").
  std::optional<std::string> rules_topic;
  // --scale-out: share the Kafka input's partitions with the other `cep serve` processes of its
  // group (cooperative-sticky); a partition's state moves with it through the changelog topic
  // (docs/kafka.md "Scale-out"). Needs --state, one kafka:// input and a kafka:// output.
  bool scale_out = false;
  // --repartition: a first stage republishes the Kafka input to `<group>-repartition`, keyed by
  // the patterns' key, and matching reads that topic (docs/kafka.md "Repartition").
  bool repartition = false;
  int repartition_partitions = 0; // --repartition-partitions N; 0: the input topic's count
};

// `cep publish-rule --to kafka://HOST:PORT/TOPIC (FILE.cepo | --undeploy NAME) --at TIME`
// (cmd_publish_rule.cpp): one message of a rules topic (docs/kafka.md "Rules topic").
struct PublishRuleOptions {
  std::string to;                          // --to kafka://HOST:PORT/TOPIC
  std::optional<std::string> artifact;     // FILE.cepo: a deploy
  std::optional<std::string> undeploy;     // --undeploy NAME
  std::optional<std::string> mode;         // keep|drain|fresh (deploy), drain|drop (undeploy)
  std::string at;                          // --at TIME: RFC 3339 or epoch ms
  std::optional<std::string> kafka_config; // --kafka-config FILE
};

// The clients of `cep serve`'s admin endpoint (cmd_admin.cpp). Each sends one request; a server
// that is down, refuses or answers an error gets one line and exit 3.
struct AdminClientCommon {
  std::string server;                    // --server HOST:PORT
  std::optional<std::string> token_file; // --token-file F: the bearer token
};

struct DeployOptions {
  AdminClientCommon admin;
  std::string artifact;      // FILE.cepo
  std::string mode = "keep"; // keep | drain | fresh
};

struct UndeployOptions {
  AdminClientCommon admin;
  std::string pattern;        // NAME
  std::string mode = "drain"; // drain | drop
};

struct StatusOptions {
  AdminClientCommon admin;
};

// `cep state DIR | --server HOST:PORT` (docs/state.md "Looking inside").
struct StateOptions {
  std::optional<std::string> dir; // a `cep serve --state` folder (read-only)
  AdminClientCommon admin;        // or a running server (admin.server not empty)
  std::optional<std::string> pattern;
  std::optional<std::string> key; // as the user writes it: card-42, 42, '["card-42",3]'
  std::string format = "text";    // text | json
};

// `cep trace --server HOST:PORT --key K` (docs/debugging.md "On cep serve").
struct TraceServerOptions {
  AdminClientCommon admin;
  std::string key;
  std::optional<std::string> pattern;
  std::string format = "text";      // text | json
  std::optional<std::string> for_d; // --for D: stop after D (wall clock); else at a signal
};

struct SavepointOptions {
  AdminClientCommon admin;
  std::string output; // -o FILE: written atomically
};

// `cep test [FILES or DIRS]` (cmd_test.cpp, docs/language.md §17): the `test` declarations.
struct TestOptions {
  std::vector<std::string> paths;        // .cep files, or folders: every .cep under them
  std::vector<std::string> import_paths; // --import-path: more folders imports may use
  std::string engine = "jit";            // jit (default) | interp | all (both)
  std::string filter;                    // --filter NAME: only tests whose name contains NAME
  std::string format = "text";           // text | json (one JSON line per test, then a summary)
  std::string color = "auto";
};

// `cep backtest RULES -i HISTORY... --labels LABELS` (cmd_backtest.cpp, docs/backtest.md): the
// rules run over history as `cep run` runs them, their alerts joined with labelled frauds.
struct BacktestOptions {
  // rules, inputs, imports, engine, bounds; `order` defaults to sort and `at_end` to drop
  // (main.cpp), `output` is not used.
  RunOptions run;
  std::string labels;                  // --labels FILE (JSON Lines)
  std::string horizon = "1d";          // --horizon D: an alert up to D after the label hits it
  std::optional<std::string> lookback; // --lookback D: ... and up to D before (default: horizon)
  std::optional<std::string> report;   // --report FILE.html
  std::string format = "text";         // text | json
  std::string progress = "auto";       // auto (stderr is a terminal) | always | never
};

int runCheck(const CheckOptions &options);
int runLsp(); // `cep lsp`: stdin/stdout
int runBacktest(const BacktestOptions &options);
int runTest(const TestOptions &options);
int runExplain(const ExplainOptions &options);
int runExplainArtifact(const ExplainOptions &options); // `cep explain x.cepo`
int runExplainWhy(const ExplainOptions &options);      // `cep explain --why`
int runCompile(const CompileOptions &options);
int runKeygen(const KeygenOptions &options);
int runRun(const RunOptions &options);
int runVersion();
int runServe(const ServeOptions &options);
int runDeploy(const DeployOptions &options);
int runUndeploy(const UndeployOptions &options);
int runStatus(const StatusOptions &options);
int runState(const StateOptions &options);
int runSavepoint(const SavepointOptions &options);
int runTraceServer(const TraceServerOptions &options);
int runPublishRule(const PublishRuleOptions &options);

} // namespace cep::cli
