#include "runtime/engine/run_loop.hpp"

#include "runtime/engine/serve_loop.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <chrono>

namespace cep::runtime {

namespace {

constexpr std::size_t kPrefetchAhead = 8; // records decoded ahead: events fetched this far ahead

} // namespace

RunLoop::RunLoop(const Schema &schema, std::vector<Matcher *> matchers,
                 std::vector<std::string> input_names, std::vector<std::int32_t> bound_types,
                 OutputSink &out, const RunOptions &options)
    : ingest_(schema, std::move(input_names), std::move(bound_types), options),
      operators_(schema.types.size()), driver_(operators_, out, options), out_(out),
      time_mode_(options.time) {
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    operators_.add(static_cast<OperatorId>(i), matchers[i]); // declaration order
  }
  if (!options.worker_sets.empty()) {
    CEP_ASSERT(options.time == TimeMode::Event, "workers under processing time");
    std::vector<std::vector<Matcher *>> sets{matchers};
    sets.insert(sets.end(), options.worker_sets.begin(), options.worker_sets.end());
    pool_ = std::make_unique<WorkerPool>(schema, std::move(sets), out, options);
    driver_.useWorkers(pool_.get());
  } else if (options.serve_workers > 1) {
    CEP_ASSERT(options.time == TimeMode::Event, "workers under processing time");
    CEP_ASSERT(matchers.empty(), "cep serve's workers start with no operator");
    pool_ = std::make_unique<WorkerPool>(schema, operators_, options.serve_workers, out, options);
    driver_.useWorkers(pool_.get());
  }
  // A late event goes to the operators of its type first (aggregates may count it, spec §8.3).
  ingest_.setLateHandler([this](const EventRef &event) {
    bool taken = false;
    outputOk(driver_.onLate(event, taken));
    return taken;
  });
}

RunLoop::~RunLoop() = default;

bool RunLoop::outputOk(bool ok) {
  if (!ok && status_ == RunStatus::Ok) {
    status_ = RunStatus::OutputError;
    message_ = out_.error();
  }
  return ok;
}

bool RunLoop::decodeAhead(std::uint32_t threads, std::size_t block) {
  if (!pool_ || !ingest_.canDecodeAhead() || threads == 0) {
    return false;
  }
  ahead_ = std::make_unique<DecodeAhead>(ingest_, threads, block);
  return true;
}

bool RunLoop::onRecord(std::uint32_t input, const Line &line) {
  CEP_ASSERT(!finished_, "record after the end");
  if (status_ != RunStatus::Ok) {
    return false;
  }
  if (ahead_) {
    std::uint64_t seq = ingest_.nextSeq() + ahead_->pending();
    return !ahead_->add(input, line, seq) || ingestBlock(ahead_->cycle());
  }
  EventRef event;
  return afterIngest(ingest_.onRecord(input, line, event), event);
}

bool RunLoop::ingestBlock(DecodeAhead::Block *block) {
  if (block == nullptr) {
    return true;
  }
  std::vector<DecodeAhead::Record> &records = block->records;
  for (std::size_t i = 0; i < records.size(); ++i) {
    DecodeAhead::Record &r = records[i];
    if (i + kPrefetchAhead < records.size() && records[i + kPrefetchAhead].event) {
      // Decoded on another core: fetched before ingestion and the driver read it.
      __builtin_prefetch(records[i + kPrefetchAhead].event.get());
    }
    if (status_ != RunStatus::Ok) {
      return false; // the records after a stop are not read (as on one thread)
    }
    DecodeResult result;
    result.status = r.status;
    result.event = std::move(r.event);
    result.watermark = r.watermark;
    result.reason = r.reason;
    EventRef event;
    if (!afterIngest(ingest_.onDecoded(r.input, block->line(r), r.seq, result, event), event)) {
      return false;
    }
  }
  return true;
}

bool RunLoop::drainAhead() {
  if (ahead_ && status_ == RunStatus::Ok) {
    for (DecodeAhead::Block *block : ahead_->drain()) {
      if (!ingestBlock(block)) {
        break;
      }
    }
  }
  return status_ == RunStatus::Ok;
}

bool RunLoop::afterIngest(IngestStatus status, EventRef &event) {
  switch (status) {
  case IngestStatus::Event:
    if (time_mode_ == TimeMode::Processing) {
      return outputOk(driver_.onArrival(event));
    }
    driver_.push(std::move(event));
    return outputOk(driver_.release(ingest_.watermark()));
  case IngestStatus::Watermark:
    return outputOk(driver_.release(ingest_.watermark()));
  case IngestStatus::Skipped:
    return status_ == RunStatus::Ok; // a late event's records may have failed to write
  case IngestStatus::Stop:
    break;
  }
  status_ = ingest_.status();
  message_ = ingest_.message();
  return false;
}

bool RunLoop::setInputCounted(std::uint32_t input, bool counted) {
  if (!drainAhead()) {
    return false;
  }
  if (!ingest_.setCounted(input, counted) || time_mode_ == TimeMode::Processing) {
    return true;
  }
  return outputOk(driver_.release(ingest_.watermark()));
}

bool RunLoop::onInputEnd(std::uint32_t input) {
  if (!drainAhead()) {
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
  if (drainAhead()) {
    ingest_.finishAll();
    outputOk(driver_.finish());
  }
  stop();
  return status_ == RunStatus::Ok;
}

void RunLoop::stop() {
  drainAhead(); // what was read before the stop, as on one thread
  stopped_ = true;
  if (pool_ && !out_.failed()) {
    outputOk(pool_->sync()); // the steps handed to the workers are written, as on one thread
  }
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

bool RunLoop::syncWorkers() {
  drainAhead();
  if (pool_ && status_ == RunStatus::Ok && !out_.failed()) {
    outputOk(pool_->sync());
  }
  return status_ == RunStatus::Ok;
}

bool RunLoop::flush(bool sync_workers) {
  drainAhead();
  if (sync_workers) {
    syncWorkers();
  }
  outputOk(out_.flush());
  if (!ingest_.flushSideOutputs() && status_ == RunStatus::Ok) {
    status_ = ingest_.status();
    message_ = ingest_.message();
  }
  return status_ == RunStatus::Ok;
}

bool RunLoop::onIdle() {
  drainAhead();
  if (status_ != RunStatus::Ok || finished_ || time_mode_ != TimeMode::Processing) {
    return status_ == RunStatus::Ok;
  }
  return outputOk(driver_.advanceTo(ingest_.now()));
}

int RunLoop::idleTimeoutMs() {
  if (time_mode_ != TimeMode::Processing || finished_) {
    return -1;
  }
  std::int64_t next = driver_.nextTimer();
  if (next == kEndOfTime) {
    return -1;
  }
  std::int64_t left = next - ingest_.now();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 24 * 3600 * 1000));
}

RunStats RunLoop::stats() const {
  RunStats stats;
  stats.input_names = ingest_.inputNames();
  stats.records = ingest_.records();
  for (const OperatorSet::Entry &op : operators_.entries()) {
    stats.patterns.push_back({std::string(op.matcher->patternName()), pool_ && !pool_->serving()
                                                                          ? pool_->stats(op.id)
                                                                          : op.matcher->stats()});
  }
  stats.at_end_fired = driver_.atEndFired();
  stats.at_end_dropped = driver_.atEndDropped();
  return stats;
}

RunResult run(const Schema &schema, const std::vector<Matcher *> &matchers,
              const std::vector<InputSpec> &specs, OutputSink &out, const RunOptions &options,
              RunStats *stats) {
  auto started = std::chrono::steady_clock::now();
  Inputs inputs;
  std::string error;
  if (!inputs.open(specs, schema, error, options.read_size, options.max_record_bytes,
                   options.follow)) {
    return {RunStatus::InputError, error};
  }
  std::vector<std::int32_t> bound_types;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    bound_types.push_back(inputs.boundType(i));
  }
  RunLoop loop(schema, matchers, inputs.names(), std::move(bound_types), out, options);
  // Inputs read to their end (not a pipe, not followed, not a topic): decoded on
  // RunOptions::decode_threads threads ahead of the loop; a stream is ingested record by record
  // as it arrives.
  if (options.decode_threads > 0 && !inputs.anyStream() && !inputs.follows() &&
      !inputs.hasSources()) {
    loop.decodeAhead(options.decode_threads, options.decode_block);
  }

  ServeHooks hooks;
  hooks.finish_at_end = true;
  if (options.progress) {
    hooks.on_progress = [&options](std::uint64_t records, const Inputs &read, bool ended) {
      options.progress(records, read.bytesRead(), ended);
    };
  }
  RunResult result = serveInputs(loop, inputs, hooks);
  if (stats != nullptr) {
    *stats = loop.stats();
    stats->wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  return result;
}

} // namespace cep::runtime
