#include "runtime/engine/run_loop.hpp"

#include "runtime/io/stop_signals.hpp"
#include "support/internal_error.hpp"

#include <chrono>

namespace cep::runtime {

RunLoop::RunLoop(const Schema &schema, std::vector<Matcher *> matchers,
                 std::vector<std::string> input_names, std::vector<std::int32_t> bound_types,
                 OutputSink &out, const RunOptions &options)
    : ingest_(schema, std::move(input_names), std::move(bound_types), options),
      operators_(schema.types.size()), driver_(operators_, out, options), out_(out),
      time_mode_(options.time) {
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    operators_.add(static_cast<OperatorId>(i), matchers[i]); // declaration order
  }
}

RunLoop::~RunLoop() = default;

bool RunLoop::outputOk(bool ok) {
  if (!ok && status_ == RunStatus::Ok) {
    status_ = RunStatus::OutputError;
    message_ = out_.error();
  }
  return ok;
}

bool RunLoop::onRecord(std::uint32_t input, const Line &line) {
  CEP_ASSERT(!finished_, "record after the end");
  if (status_ != RunStatus::Ok) {
    return false;
  }
  EventRef event;
  switch (ingest_.onRecord(input, line, event)) {
  case IngestStatus::Event:
    if (time_mode_ == TimeMode::Processing) {
      return outputOk(driver_.onArrival(event));
    }
    driver_.push(std::move(event));
    return outputOk(driver_.release(ingest_.watermark()));
  case IngestStatus::Watermark:
    return outputOk(driver_.release(ingest_.watermark()));
  case IngestStatus::Skipped:
    return true;
  case IngestStatus::Stop:
    break;
  }
  status_ = ingest_.status();
  message_ = ingest_.message();
  return false;
}

bool RunLoop::onInputEnd(std::uint32_t input) {
  if (status_ != RunStatus::Ok) {
    return false;
  }
  ingest_.onInputEnd(input);
  return time_mode_ == TimeMode::Processing || outputOk(driver_.release(ingest_.watermark()));
}

bool RunLoop::finish() {
  if (finished_) {
    return status_ == RunStatus::Ok;
  }
  finished_ = true;
  if (status_ == RunStatus::Ok) {
    ingest_.finishAll();
    outputOk(driver_.finish());
  }
  stop();
  return status_ == RunStatus::Ok;
}

void RunLoop::stop() {
  stopped_ = true;
  ingest_.finishReports();
  if (!out_.flush() && status_ == RunStatus::Ok) {
    status_ = RunStatus::OutputError;
    message_ = out_.error();
  }
  if (!ingest_.flushSideOutputs() && status_ == RunStatus::Ok) {
    status_ = ingest_.status();
    message_ = ingest_.message();
  }
}

RunStats RunLoop::stats() const {
  RunStats stats;
  stats.input_names = ingest_.inputNames();
  stats.records = ingest_.records();
  for (const OperatorSet::Entry &op : operators_.entries()) {
    stats.patterns.push_back({std::string(op.matcher->patternName()), op.matcher->stats()});
  }
  return stats;
}

RunResult run(const Schema &schema, const std::vector<Matcher *> &matchers,
              const std::vector<InputSpec> &specs, OutputSink &out, const RunOptions &options,
              RunStats *stats) {
  auto started = std::chrono::steady_clock::now();
  Inputs inputs;
  std::string error;
  if (!inputs.open(specs, schema, error, options.read_size, options.max_record_bytes)) {
    return {RunStatus::InputError, error};
  }
  std::vector<std::int32_t> bound_types;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    bound_types.push_back(inputs.boundType(i));
  }
  RunLoop loop(schema, matchers, inputs.names(), std::move(bound_types), out, options);

  RunResult result;
  InputRecord record;
  bool reading = true;
  while (reading) {
    if (int signal = stopSignal(); signal != 0) {
      result = {RunStatus::Interrupted, "interrupted by " + signalName(signal)};
      break;
    }
    switch (inputs.next(record)) {
    case InputStatus::Record:
      reading = loop.onRecord(record.input, record.line);
      break;
    case InputStatus::Finished:
      reading = loop.onInputEnd(record.input);
      break;
    case InputStatus::Error:
      result = {RunStatus::InputError, inputs.error(record.input)};
      reading = false;
      break;
    case InputStatus::End:
      loop.finish();
      reading = false;
      break;
    case InputStatus::Interrupted:
      result = {RunStatus::Interrupted, "interrupted by " + signalName(stopSignal())};
      reading = false;
      break;
    }
  }
  loop.stop(); // rejection summaries, flush (a no-op after finish())
  // An output that failed while stopping outranks the stop signal: the exit code must say so.
  if ((result.status == RunStatus::Ok || result.status == RunStatus::Interrupted) &&
      loop.status() != RunStatus::Ok) {
    result = {loop.status(), loop.message()};
  }
  if (stats != nullptr) {
    *stats = loop.stats();
    stats->wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return result;
}

} // namespace cep::runtime
