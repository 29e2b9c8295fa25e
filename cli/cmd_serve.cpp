// `cep serve [ARTIFACTS or RULES...] -i SOURCE... [-o SINK] --admin HOST:PORT`: the long-running
// runtime (docs/serve.md). The artifacts (and the .cep rules, compiled here into one artifact)
// are loaded, the inputs read as they arrive, and compiled patterns deployed and undeployed
// through the admin endpoint while events flow (service/serve_runtime.hpp), until SIGTERM or
// SIGINT: then the outputs are flushed and closed, nothing is finished, and the exit is 0.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output_paths.hpp"
#include "cli/run_shared.hpp"
#include "cli/serve_kafka.hpp"
#include "cli/serve_rules.hpp"
#include "cli/serve_state.hpp"
#include "cli/serve_trace_shadow.hpp"
#include "cli/terminal.hpp"
#include "cli/version.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/load.hpp"
#include "compiler/artifact/signing.hpp"
#include "compiler/driver/pipeline.hpp"
#include "compiler/jit/load_host.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/engine/run_snapshot.hpp"
#include "runtime/engine/serve_loop.hpp"
#include "runtime/io/file_write.hpp"
#include "runtime/io/stop_signals.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/state/store/checkpoint_store.hpp"
#include "service/admin_server.hpp"
#include "service/endpoint.hpp"
#include "service/savepoint.hpp"
#include "service/serve_runtime.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cep::cli {

namespace {

bool isArtifactPath(const std::string &path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".cepo") == 0;
}

// The .cep rule files given on the command line, compiled here into one artifact's bytes, as
// `cep compile` would write them. kOk or the exit code after printing why.
int compileAtStart(const ServeOptions &options, const std::vector<std::string> &files,
                   std::string &bytes, std::vector<NamedPath> &rule_files) {
  const RunOptions &run = options.run;
  compiler::driver::Pipeline pipeline({run.import_paths, run.disabled_passes});
  bool checked = pipeline.check(files);
  pipeline.diagnostics().render(std::cerr, useColor(run.color));
  if (!checked) {
    return kRuleErrors;
  }
  for (const std::string &file : pipeline.ruleFiles()) {
    rule_files.push_back({"rule file", file});
  }
  compiler::artifact::Artifact artifact;
  std::string error;
  if (!pipeline.compileArtifact({run.opt_level, CEP_VERSION}, artifact, error)) {
    return runFailure(error);
  }
  bytes = compiler::artifact::encodeArtifact(artifact);
  return kOk;
}

// One run of the server. `rewind` is set when a Kafka transaction was aborted (an abortable
// error): the caller runs it again, which restores the last committed checkpoint (state and
// consumer positions), as a restart would (docs/kafka.md, "Exactly once").
// `registry` outlives the runs: the counters go on across a rewind.
int serveOnce(const ServeOptions &options, runtime::metrics::Registry &registry, bool &rewind) {
  const RunOptions &run = options.run;
  if (run.engine != "jit") {
    return runUsage("--engine interp is `cep run`'s: a server runs compiled code (deploys are "
                    ".cepo artifacts)");
  }
  RunPlan plan;
  if (int code = checkRunOptions(run, plan); code != kOk) {
    return code;
  }
  if (plan.evictions) {
    plan.evictions->setProgram("cep serve");
  }
  if (plan.inputs.size() == 1 && plan.inputs[0].path == "-" && run.inputs.empty()) {
    return runUsage("give the inputs to serve with -i (a file, a named pipe, - for stdin, or "
                    "kafka://HOST:PORT/TOPIC?group=G)");
  }
  // kafka:// inputs and outputs (docs/kafka.md) leave the file plan here; `file_run` is the run
  // options without the Kafka side outputs, which are opened apart.
  ServeKafka kafka;
  RunOptions file_run = run;
  if (int code = kafka.take(options, plan, file_run); code != kOk) {
    return code;
  }
  ServeRules rules; // --rules-topic (docs/kafka.md "Rules topic")
  if (int code = rules.take(options); code != kOk) {
    return code;
  }
  // --workers N (docs/serve.md "Workers") covers Kafka inputs and outputs, --scale-out,
  // --repartition and --rules-topic: checkpoints, rebalances and rule changes wait at the
  // workers' barrier. What it does not cover is refused by checkRunOptions (above) and when an
  // artifact with an aggregate is loaded.

  // The admin endpoint's settings, before anything is loaded.
  service::AdminServerOptions admin;
  admin.address = options.admin;
  if (options.admin_token_file) {
    try {
      admin.token = service::readTokenFile(*options.admin_token_file);
    } catch (const service::TokenFileError &e) {
      return runUsage(std::string("--admin-token-file: ") + e.what());
    }
  }
  std::uint64_t max_body = 0;
  if (!parseByteSize(options.admin_max_body, max_body) || max_body == 0) {
    return runUsage("--admin-max-body " + options.admin_max_body +
                    ": expected a positive byte size such as 64M");
  }
  admin.max_body_bytes = static_cast<std::size_t>(max_body);
  // Refused before anything is loaded or opened: a refused start truncates no output.
  std::string admin_error;
  if (!service::checkAdminOptions(admin, admin_error)) {
    return runUsage(admin_error);
  }

  // Durable state: its options and the inputs and outputs it needs, before anything is opened.
  std::int64_t checkpoint_every_ms = 0;
  if (options.state_dir) {
    std::string why;
    if (!parseCheckpointEvery(options.checkpoint_every, checkpoint_every_ms, why)) {
      return runUsage("--checkpoint-every " + options.checkpoint_every + ": " + why);
    }
    if (std::string problem = durableIoProblem(run, plan); !problem.empty()) {
      return runUsage(problem);
    }
  }

  // What to serve from the start.
  std::vector<std::string> cep_files;
  std::vector<std::string> artifact_files;
  for (const std::string &rule : run.rules) {
    (isArtifactPath(rule) ? artifact_files : cep_files).push_back(rule);
  }
  if (!cep_files.empty() && !run.trust.empty()) {
    return runUsage("--trust checks the signatures of artifacts; rule files (.cep) given to "
                    "serve are compiled here, unsigned: compile and sign them, then serve the "
                    ".cepo");
  }
  std::vector<std::pair<std::string, std::string>> start; // name, bytes
  for (const std::string &path : artifact_files) {
    try {
      start.emplace_back(path, compiler::artifact::readArtifactBytes(path));
    } catch (const compiler::artifact::ArtifactError &e) {
      std::cerr << "cep serve: " << e.what() << '\n';
      return kRuleErrors;
    }
    plan.rule_files.push_back({"artifact", path});
  }
  if (!cep_files.empty()) {
    std::string bytes;
    if (int code = compileAtStart(options, cep_files, bytes, plan.rule_files); code != kOk) {
      return code;
    }
    start.emplace_back(cep_files.size() == 1 ? cep_files[0] : "the rules on the command line",
                       std::move(bytes));
  }

  service::ServeRuntimeOptions runtime_options;
  runtime_options.matcher = matcherOptions(run, plan);
  runtime_options.tracer = makeShadowTracer; // POST /trace (docs/debugging.md)
  runtime_options.workers = plan.workers;
  try {
    for (const std::string &key : run.trust) {
      runtime_options.trusted.push_back(compiler::artifact::readPublicKeyFile(key));
    }
  } catch (const compiler::artifact::ArtifactError &e) {
    return runUsage(std::string("--trust: ") + e.what());
  }
  std::string error;
  std::unique_ptr<compiler::jit::LoadHost> jit = compiler::jit::LoadHost::create(2, error);
  if (!jit) {
    return runFailure(error);
  }
  runtime_options.jit = std::shared_ptr<compiler::jit::LoadHost>(std::move(jit));
  if (kafka.repartition()) {
    runtime_options.one_key_per_event =
        "one repartition topic holds one key per event; serve patterns keyed differently from "
        "separate `cep serve --repartition` processes of different groups (docs/kafka.md "
        "\"Repartition\")";
  }
  std::unique_ptr<runtime::store::CheckpointStore> store;
  if (options.state_dir) {
    store = runtime::store::CheckpointStore::open(*options.state_dir, {}, error);
    if (!store) {
      return runFailure("--state " + *options.state_dir + ": " + error);
    }
    if (!store->openNote().empty()) {
      std::cerr << "cep serve: --state " << *options.state_dir << ": " << store->openNote() << '\n';
    }
    runtime_options.store = store.get();
    runtime_options.checkpoint_every = std::chrono::milliseconds(checkpoint_every_ms);
    if (kafka.scaleOut()) {
      runtime_options.http_changes_not_restored =
          "--scale-out does not restore the --state folder's checkpoint: a restart serves the "
          "artifacts given on the command line and the rules topic's changes; publish the change "
          "to the rules topic (cep publish-rule) to keep it across restarts and members";
    }
  }
  service::ServeRuntime served(runtime_options, registry);
  if (store && kafka.any()) {
    // Transactions first (fencing the producer a killed server left), then the decision on a
    // checkpoint written before a transaction that may not have committed.
    if (int code = kafka.prepareState(*store, registry); code != kOk) {
      return code;
    }
  }
  // A checkpoint first: its patterns and event types come before the artifacts given here
  // (deployed over them in keep mode unless they are the same).
  std::optional<service::ServeMeta> restored;
  const bool from_savepoint = options.from_savepoint.has_value();
  if (from_savepoint) {
    const std::string &path = *options.from_savepoint;
    if (store) {
      // Two states to start from would be ambiguous: the savepoint only starts an empty folder.
      auto reader = store->read(error);
      if (reader) {
        return runUsage("--from-savepoint " + path + " with --state " + *options.state_dir +
                        ": the folder holds a checkpoint already (which of the two to start "
                        "from is ambiguous): give an empty --state folder, or leave out "
                        "--from-savepoint to restart from the checkpoint");
      }
      if (!error.empty()) {
        return runFailure("--state " + *options.state_dir + ": " + error);
      }
    }
    std::string bytes;
    if (!runtime::readWholeFile(path, bytes, error)) {
      return runUsage("--from-savepoint: " + error);
    }
    service::ServeMeta meta;
    std::string report;
    try {
      service::Savepoint savepoint = service::decodeSavepoint(bytes);
      served.restoreFromSavepoint(savepoint, meta, report, start);
    } catch (const std::exception &e) {
      return runFailure("--from-savepoint " + path + ": cannot restore: " + e.what());
    }
    restored = std::move(meta);
    std::cerr << "cep serve: " << report << '\n';
  } else if (store && kafka.scaleOut()) {
    // The partitions' state comes from the changelog topic as the group assigns them
    // (docs/kafka.md "Scale-out"); the folder's checkpoint is another generation's.
    auto reader = store->read(error);
    if (reader) {
      std::cerr << "cep serve: --scale-out: the checkpoint in --state " << *options.state_dir
                << " is not restored: each partition's state comes from the changelog topic "
                   "when the group assigns it, and the artifacts given here are served\n";
    } else if (!error.empty()) {
      return runFailure("--state " + *options.state_dir + ": " + error);
    }
  } else if (store) {
    service::ServeMeta meta;
    std::string report;
    try {
      if (served.restoreAtStart(meta, report)) {
        restored = std::move(meta);
        std::cerr << "cep serve: " << report << '\n';
      }
    } catch (const std::exception &e) {
      return runFailure("--state " + *options.state_dir + ": cannot restore: " + e.what());
    }
  }
  if (rules.any() && restored && !from_savepoint && !start.empty()) {
    // The checkpoint holds the rules as the rules topic left them: the artifacts given to start
    // with are a first start's (deploying them again would undo the changes applied since).
    std::cerr << "cep serve: --rules-topic: the restored checkpoint's patterns are served as the "
                 "rules topic left them; the artifacts given on the command line are not "
                 "deployed again\n";
    start.clear();
  }
  for (const auto &[name, bytes] : start) {
    try {
      if (!served.loadAtStart(bytes, name, error)) {
        return runUsage(error);
      }
    } catch (const compiler::artifact::LoadError &e) {
      std::cerr << "cep serve: " << e.what() << '\n';
      return e.user() ? kRuleErrors : kRuntimeFailure;
    }
  }
  // --repartition: each event type keyed one way, known before any event is read.
  if (std::vector<std::string> keys = served.keyConflictsAtStart(); !keys.empty()) {
    std::cerr << "cep serve: --repartition: the patterns key an event type in more than one way:\n";
    for (const std::string &line : keys) {
      std::cerr << "  " << line << '\n';
    }
    std::cerr << "  " << runtime_options.one_key_per_event << '\n';
    return kUsage;
  }
  if (restored) {
    // The artifacts given here go over the restored state in keep mode: checked now, before an
    // output is opened, so that a refused start changes no file.
    std::vector<std::string> reasons;
    if (!served.checkStartDeploys(reasons)) {
      std::cerr << "cep serve: the partial matches of the restored state cannot move into the "
                   "artifacts given (keep): "
                << reasons.size() << (reasons.size() == 1 ? " reason" : " reasons") << '\n';
      for (const std::string &reason : reasons) {
        std::cerr << "  " << reason << '\n';
      }
      return kUsage;
    }
  }
  const runtime::Schema &schema = served.schema();

  // Inputs that cannot work, then the outputs (never one of the inputs or rule files).
  if (int code = checkRunInputs(schema, plan); code != kOk) {
    return code;
  }
  std::vector<NamedPath> outputs = outputPaths(file_run);
  if (kafka.isOutput(run.output)) {
    std::erase_if(outputs, [&](const NamedPath &o) { return o.path == run.output; });
  }
  std::vector<NamedPath> reads = plan.rule_files;
  for (const runtime::InputSpec &input : plan.inputs) {
    reads.push_back({"--input", input.path});
  }
  if (std::string conflict = sameFileConflict(outputs, reads); !conflict.empty()) {
    return runUsage(conflict);
  }
  // The admin endpoint binds before any output is opened: a port in use refuses the start
  // without truncating an output. Requests that come before the loop runs wait for it.
  service::AdminServer server(served, admin);
  if (!server.start(error)) {
    return runUsage(error); // start()'s reasons name --admin and the address
  }
  // On an early return below, queued and later requests are answered 503 before the server
  // stops (it waits for the requests in progress).
  struct ShutdownFirst {
    service::ServeRuntime &runtime;
    ~ShutdownFirst() { runtime.shutdown(); }
  } shutdown_first{served};
  if (options.admin_port_file &&
      !service::writePortFile(*options.admin_port_file, server.port(), error)) {
    return runFailure("--admin-port-file: " + error);
  }
  // A restored server checks its inputs against the checkpoint before it touches an output: a
  // refused start (other paths: exit 2; a file replaced, truncated or rewritten: exit 3) leaves
  // every file as it was.
  runtime::Inputs inputs;
  std::vector<std::optional<runtime::InputPosition>> resume_at;
  if (restored) {
    try {
      if (from_savepoint) { // its outputs are the old server's: this one opens its own
        resume_at = checkpointedPositions(*restored, plan.inputs, "savepoint",
                                          "start without --from-savepoint");
        portableInputIdentities(resume_at, plan.inputs);
      } else {
        resume_at = checkpointedPositions(*restored, plan.inputs);
        checkOutputPaths(*restored, run);
        kafka.resumeFrom(*restored); // topics, groups and outputs; the partitions' offsets
      }
    } catch (const std::exception &e) {
      return runUsage(e.what());
    }
  }
  // A Kafka server starting without a checkpoint takes its partitions' state from the
  // changelog topic, when it has one (docs/kafka.md "The changelog topic").
  if (kafka.changelog()) {
    if (int code = kafka.readChangelog(registry, restored ? &*restored : nullptr); code != kOk) {
      return code;
    }
  }
  if (!inputs.open(plan.inputs, schema, error, runtime::kDefaultReadSize,
                   static_cast<std::size_t>(run.max_record_bytes), run.follow, resume_at)) {
    return runFailure(error);
  }
  kafka.setServed(served); // --repartition keys its messages by the served patterns
  if (!kafka.openInputs(inputs, schema, registry, static_cast<std::size_t>(run.max_record_bytes),
                        error) ||
      !kafka.checkIdentity(error)) {
    return runFailure(error);
  }
  if (rules.any() && !rules.open(served, registry, restored ? &*restored : nullptr, error)) {
    return runFailure(error);
  }
  if (rules.any()) {
    kafka.setPendingDeploy([&rules](const std::string &hash, std::int64_t upto) {
      return rules.topic() != nullptr ? rules.topic()->pendingDeploy(hash, upto) : std::nullopt;
    });
    kafka.setPendingDrain([&rules](const std::string &name, std::int64_t upto) {
      return rules.topic() != nullptr ? rules.topic()->pendingDrain(name, upto) : std::nullopt;
    });
  }
  std::vector<std::int32_t> bound_types;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    bound_types.push_back(inputs.boundType(i));
    if (restored && i < resume_at.size() && resume_at[i]) { // files (Kafka: when assigned)
      const runtime::InputPosition &at = *resume_at[i];
      std::cerr << "cep serve: input " << inputs.name(i) << " resumes at byte " << at.offset
                << " (after line " << at.line << ")\n";
    }
  }
  if (restored) {
    // The run options that change results must be the restored run's: a trial restore into a
    // sink that writes nowhere says so before any output is opened (a refused start changes no
    // file).
    std::string nowhere;
    runtime::OutputSink trial_out(nowhere);
    SideOutputs no_sides;
    try {
      runtime::restoreRun(restored->run, schema, {}, inputs.names(), bound_types, trial_out,
                          runtimeOptions(run, plan, no_sides));
    } catch (const std::exception &e) {
      return runUsage((from_savepoint ? "--from-savepoint " + *options.from_savepoint
                                      : "--state " + *options.state_dir) +
                      ": cannot restore: " + e.what());
    }
  }
  if (restored && !from_savepoint) {
    for (const service::OutputMark &output : restored->outputs) {
      std::cerr << "cep serve: " << output.role << " " << output.path << " continue at byte "
                << output.length << "\n";
    }
  }
  // A restored server continues its outputs at their checkpointed lengths (what was written
  // after the checkpoint is cut off and written again).
  // One started from a savepoint opens them as a fresh server does.
  const bool continue_outputs = restored && !from_savepoint;
  std::unique_ptr<runtime::OutputSink> out =
      kafka.isOutput(run.output) ? kafka.openOutput(run.output, registry, error)
      : continue_outputs         ? openMainOutputAt(*restored, run.output, error)
                                 : runtime::OutputSink::open(run.output, error);
  if (!out) {
    return runFailure(error);
  }
  SideOutputs sides;
  if (!(continue_outputs ? openSideOutputsAt(sides, *restored, file_run, plan, error)
                         : sides.open(file_run, plan, error)) ||
      !kafka.openSideOutputs(sides, run, registry, error)) {
    return runFailure(error);
  }
  SideOutput &late = sides.late, &dead = sides.dead, &evicted = sides.evicted;
  if (!runtime::installStopSignals(error)) {
    return runFailure(error);
  }

  runtime::RunOptions run_options = runtimeOptions(run, plan, sides);
  // A server's output is read while it runs: flushed before every wait for input and every 64
  // records (ServeHooks::flush_when_waiting), not after every step (one write() per match).
  run_options.flush_each_step = false;
  run_options.serve_workers = plan.workers; // every served operator sharded over them

  std::unique_ptr<runtime::RunLoop> loop_owner;
  if (restored) {
    try {
      loop_owner = runtime::restoreRun(restored->run, schema, {}, inputs.names(), bound_types, *out,
                                       run_options);
    } catch (const std::exception &e) {
      return runFailure((from_savepoint ? "--from-savepoint " + *options.from_savepoint
                                        : "--state " + *options.state_dir) +
                        ": cannot restore: " + e.what());
    }
  } else {
    loop_owner = std::make_unique<runtime::RunLoop>(schema, std::vector<runtime::Matcher *>{},
                                                    inputs.names(), std::move(bound_types), *out,
                                                    run_options);
  }
  runtime::RunLoop &loop = *loop_owner;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    if (std::optional<runtime::PartitionOrigin> origin = inputs.origin(i)) {
      loop.ingest().setOrigin(i, std::move(*origin)); // dead letters name topic and offset
    }
  }
  if (!inputs.hasSources()) { // a savepoint of Kafka inputs is not possible yet (409/500)
    served.setDescribeInputs([&](service::ServeMeta &meta) {
      describeInputs(meta, inputs);
      rules.describe(meta);
    });
  }
  if (store) {
    served.setDescribeIo([&](service::ServeMeta &meta) {
      describeIo(meta, inputs, *out, run.output, sides, run);
      if (kafka.any()) {
        kafka.describe(meta); // partitions' offsets; the transaction, pending
      }
      rules.describe(meta);
    });
    served.setSyncOutputs([&](std::string &why) { return syncOutputs(*out, sides, why); });
    if (kafka.changelog()) {
      served.setOnChanges(
          [&](const std::vector<service::ServedChanges> &changes) { kafka.onChanges(changes); });
    }
    if (kafka.transactional()) {
      served.setCommitTransaction([&](service::ServeMeta &meta, std::string &why) {
        return kafka.commitTransaction(meta, why);
      });
    }
  }
  try {
    served.startLoop(loop);
  } catch (const std::runtime_error &e) {
    return runFailure(e.what());
  }
  // The rules topic's messages are stopped before the runtime (their thread posts to it). Read
  // before the changelog's records are restored: the changes due up to their watermark are
  // applied first, as their writers had (ServeKafka::applyChangelog, docs/kafka.md).
  struct StopRules {
    ServeRules &rules;
    ~StopRules() { rules.stop(); }
  } stop_rules{rules};
  if (rules.any() && !rules.start(loop, run_options.dead_letter, error)) {
    return runFailure("--rules-topic: " + error);
  }
  if (kafka.changelog()) {
    kafka.setLoopIo(*out, run_options); // a partition's catch-up writes there too
    if (int code = kafka.applyChangelog(served, loop); code != kOk) {
      return code;
    }
  }
  if (kafka.transactional() && !restored) {
    // The folder's first checkpoint, before anything is read: every later checkpoint then has
    // a committed one before it to go back to.
    if (!served.checkpoint(loop, error, /*wait=*/true)) {
      return runFailure("--state " + *options.state_dir +
                        ": the first checkpoint failed: " + error);
    }
  }

  std::cerr << "cep serve: admin endpoint on http://" << server.boundAddress() << " ("
            << served.servedCount() << " patterns loaded, " << inputs.size()
            << (inputs.size() == 1 ? " input" : " inputs") << ")\n";

  runtime::ServeHooks hooks;
  hooks.wake_fd = served.wakeFd();
  hooks.on_wake = [&](runtime::RunLoop &l) { served.onWake(l); };
  hooks.finish_at_end = false;
  hooks.flush_when_waiting = true;
  if (store) {
    hooks.before_stop = [&](runtime::RunLoop &l) { // the last checkpoint
      if (served.transactionFailure() != service::TransactionStep::Committed) {
        return; // a failed transaction: the state to resume from is the last committed one
      }
      std::string why;
      if (!served.checkpoint(l, why, /*wait=*/true)) {
        std::cerr << "cep serve: the last checkpoint failed: " << why << '\n';
      }
    };
  }
  runtime::RunResult result = runtime::serveInputs(loop, inputs, hooks);
  rules.stop();
  served.shutdown();
  server.stop();

  std::uint64_t written = out->records();
  out.reset();
  if (plan.evictions) {
    plan.evictions->finish();
  }
  std::string side_error;
  bool sides_ok = late.close(side_error) && dead.close(side_error) && evicted.close(side_error);
  if (!kafka.failure().empty()) {
    if (kafka.failureIsUsage()) {
      return runUsage(kafka.failure());
    }
    return runFailure(kafka.scaleOut() ? "--scale-out: " + kafka.failure() : kafka.failure());
  }
  switch (served.transactionFailure()) {
  case service::TransactionStep::Committed:
    break;
  case service::TransactionStep::Rewind:
    rewind = true;
    return kRuntimeFailure;
  case service::TransactionStep::Fatal:
    return runFailure("Kafka transaction: " + served.transactionError());
  }
  if (result.status == runtime::RunStatus::Interrupted && loop.status() == runtime::RunStatus::Ok &&
      sides_ok) {
    std::cerr << "cep serve: " << result.message << ": stopped; written: " << written
              << (written == 1 ? " record" : " records") << "; nothing finished\n";
    return kOk;
  }
  if (result.status != runtime::RunStatus::Ok && result.status != runtime::RunStatus::Interrupted) {
    return runFailure(result.message);
  }
  if (loop.status() != runtime::RunStatus::Ok) {
    return runFailure(loop.message());
  }
  if (!sides_ok) {
    return runFailure(side_error);
  }
  return kOk;
}

} // namespace

int runServe(const ServeOptions &options) {
  setRunCommandName("serve");
  // SIGINT/SIGTERM are handled from the first instant: a stop asked while the server starts
  // (opening a FIFO, joining Kafka, restoring state) is a clean stop once the loop begins, not a
  // death by the signal's default action.
  if (std::string error; !runtime::installStopSignals(error)) {
    return runFailure(error);
  }
  runtime::metrics::Registry registry;
  for (;;) {
    bool rewind = false;
    int code = serveOnce(options, registry, rewind);
    // The runtime stopped the loop for the rewind with service::kRewindStop; another signal is
    // a stop asked from outside.
    if (!rewind) {
      return code;
    }
    if (runtime::stopSignal() != service::kRewindStop) {
      std::cerr << "cep serve: " << runtime::signalName(runtime::stopSignal())
                << ": stopping instead of rewinding; a restart resumes from the last committed "
                   "checkpoint\n";
      return code;
    }
    runtime::requestStop(0);
    std::cerr << "cep serve: rewinding: starting again from the last committed checkpoint\n";
  }
}

} // namespace cep::cli
