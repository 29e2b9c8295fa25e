// runCut (run_cut.hpp): run()'s read loop with a snapshot point and a resumed start.
#include "runtime/engine/run_cut.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/io/stop_signals.hpp"
#include "support/internal_error.hpp"

#include <chrono>
#include <memory>
#include <numeric>
#include <stdexcept>

namespace cep::runtime {

namespace {

std::string quoted(const std::string &text) {
  return "\"" + text + "\"";
}

// What a resumed run skips: the records and input ends its snapshot had consumed. They come
// first when the inputs are read again (the round-robin order depends only on the inputs), so
// anything else before they are all skipped means the inputs are not the ones it consumed.
class Skipper {
public:
  explicit Skipper(const ReadPosition &position) : position_(position) {
    for (const InputProgress &input : position.inputs) {
      records_left_.push_back(input.records);
      end_left_.push_back(input.finished);
      pending_ += input.records + (input.finished ? 1 : 0);
    }
  }
  bool pending() const { return pending_ != 0; }
  std::uint64_t records() const {
    return std::accumulate(
        position_.inputs.begin(), position_.inputs.end(), std::uint64_t{0},
        [](std::uint64_t sum, const InputProgress &in) { return sum + in.records; });
  }
  // One report while pending(); false with `error` set when it is not the one expected.
  bool skip(InputStatus status, const InputRecord &record, const Inputs &inputs,
            std::string &error) {
    std::uint32_t i = record.input;
    const InputProgress &want = position_.inputs[i];
    std::string name = quoted(inputs.name(i));
    if (status == InputStatus::Record && records_left_[i] > 0) {
      if (--records_left_[i] == 0 && record.line.number != want.line) {
        error = "input " + name + ": the snapshot's last record of it was on line " +
                std::to_string(want.line) + ", here on line " + std::to_string(record.line.number) +
                " (not the input it was taken of)";
        return false;
      }
      --pending_;
      return true;
    }
    if (status == InputStatus::Finished && records_left_[i] == 0 && end_left_[i]) {
      end_left_[i] = false;
      --pending_;
      return true;
    }
    if (status == InputStatus::End || (status == InputStatus::Finished && records_left_[i] > 0)) {
      error = "input " + name + " ends after " + std::to_string(want.records - records_left_[i]) +
              " records; the snapshot consumed " + std::to_string(want.records) +
              " (not the input it was taken of)";
    } else if (status == InputStatus::Finished) {
      error = "input " + name + " ends before the snapshot's position; it had not ended then " +
              "(not the input it was taken of)";
    } else {
      error = "input " + name + ": its record on line " + std::to_string(record.line.number) +
              " comes before the snapshot's position; it was not consumed then (not the input " +
              "it was taken of)";
    }
    return false;
  }

private:
  const ReadPosition &position_;
  std::vector<std::uint64_t> records_left_;
  std::vector<bool> end_left_;
  std::uint64_t pending_ = 0;
};

} // namespace

RunResult runCut(const Schema &schema, const std::vector<Matcher *> &matchers,
                 const std::vector<InputSpec> &specs, OutputSink &out, const RunOptions &options,
                 const RunCut &cut, std::string *snapshot, RunStats *stats,
                 std::uint64_t *records) {
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
  std::unique_ptr<RunLoop> loop;
  if (cut.resume_from.empty()) {
    loop = std::make_unique<RunLoop>(schema, matchers, inputs.names(), std::move(bound_types), out,
                                     options);
  } else {
    try {
      loop = restoreRun(cut.resume_from, schema, matchers, inputs.names(), std::move(bound_types),
                        out, options);
    } catch (const std::runtime_error &e) {
      return {RunStatus::InputError, e.what()};
    }
  }
  ReadPosition position = loop->position();
  Skipper skipper(position);
  std::uint64_t consumed = skipper.records();
  if (cut.snapshot_after && *cut.snapshot_after < consumed) {
    loop->stop();
    return {RunStatus::InputError, "--snapshot-after " + std::to_string(*cut.snapshot_after) +
                                       ": the resumed run has consumed " +
                                       std::to_string(consumed) + " records already"};
  }

  RunResult result;
  InputRecord record;
  bool reading = true;
  while (reading) {
    if (int signal = stopSignal(); signal != 0) {
      result = {RunStatus::Interrupted, "interrupted by " + signalName(signal)};
      break;
    }
    if (!skipper.pending() && cut.snapshot_after && consumed == *cut.snapshot_after) {
      CEP_ASSERT(snapshot != nullptr, "a cut run needs somewhere to put its snapshot");
      snapshotRun(*loop, *snapshot); // the loop is Ok: a failure ended the reading
      break;
    }
    InputStatus status = inputs.next(record);
    if (skipper.pending() && status != InputStatus::Error && status != InputStatus::Interrupted) {
      if (!skipper.skip(status, record, inputs, error)) {
        result = {RunStatus::InputError, "bad run snapshot: " + error};
        reading = false;
      }
      continue;
    }
    switch (status) {
    case InputStatus::Record:
      reading = loop->onRecord(record.input, record.line);
      ++consumed;
      break;
    case InputStatus::Finished:
      reading = loop->onInputEnd(record.input);
      break;
    case InputStatus::Error:
      result = {RunStatus::InputError, inputs.error(record.input)};
      reading = false;
      break;
    case InputStatus::End:
      if (cut.snapshot_after) {
        result = {RunStatus::InputError, "--snapshot-after " + std::to_string(*cut.snapshot_after) +
                                             ": the inputs end after " + std::to_string(consumed) +
                                             " records; no snapshot written"};
      } else {
        loop->finish();
      }
      reading = false;
      break;
    case InputStatus::Interrupted:
      result = {RunStatus::Interrupted, "interrupted by " + signalName(stopSignal())};
      reading = false;
      break;
    case InputStatus::Idle: // only nextArrived() waits and returns it; next() blocks
      break;
    }
  }
  loop->stop(); // rejection summaries, flush (a no-op after finish())
  if ((result.status == RunStatus::Ok || result.status == RunStatus::Interrupted) &&
      loop->status() != RunStatus::Ok) {
    result = {loop->status(), loop->message()};
  }
  if (stats != nullptr) {
    *stats = loop->stats();
    stats->wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  if (records != nullptr) {
    *records = consumed;
  }
  return result;
}

} // namespace cep::runtime
