// runCut (run_cut.hpp): run()'s read loop with a snapshot point and a resumed start.
#include "runtime/engine/run_cut.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/io/stop_signals.hpp"
#include "support/internal_error.hpp"

#include <chrono>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <sys/stat.h>

namespace cep::runtime {

namespace {

std::string quoted(const std::string &text) {
  return "\"" + text + "\"";
}

// A regular file named by its path (not stdin): a resumed run seeks it instead of reading it
// again from its start. A FIFO is never opened here (that would wait for its writer).
bool isRegularFile(const std::string &path) {
  struct stat info {};
  return path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string notTheInput(const std::string &what) {
  return "bad run snapshot: " + what + " (not the input it was taken of)";
}

// A resumed run's inputs taken up where the snapshot left them: sought inputs are there
// already; the others are read again from their start and the records the snapshot consumed
// skipped (checking that they are the ones it consumed: their count and the line of the last);
// an input that had ended must end there. Ok, or why not.
RunResult takeUp(Inputs &inputs, const ReadPosition &position,
                 const std::vector<std::optional<InputPosition>> &sought,
                 std::vector<ResumedInput> &resumed) {
  Line line;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    const InputProgress &want = position.inputs[i];
    std::string name = quoted(inputs.name(i));
    // What a read that gave no record means here.
    auto noRecord = [&](ReadStatus status, std::uint64_t read) -> RunResult {
      if (status == ReadStatus::Interrupted) {
        return {RunStatus::Interrupted, "interrupted by " + signalName(stopSignal())};
      }
      if (status == ReadStatus::End) {
        return {RunStatus::InputError,
                notTheInput("input " + name + " ends after " + std::to_string(read) +
                            " records; the snapshot consumed " + std::to_string(want.records))};
      }
      CEP_ASSERT(status == ReadStatus::Error, "a blocking read is never pending");
      return {RunStatus::InputError, inputs.error(i)};
    };
    ResumedInput how;
    how.name = inputs.name(i);
    how.sought = sought[i].has_value();
    how.skipped = how.sought ? 0 : want.records;
    for (std::uint64_t n = 1; n <= how.skipped; ++n) {
      ReadStatus status = inputs.read(i, line);
      if (status != ReadStatus::Line) {
        return noRecord(status, n - 1);
      }
      if (n == how.skipped && line.number != want.line) {
        return {RunStatus::InputError,
                notTheInput("input " + name + ": the snapshot's last record of it was on line " +
                            std::to_string(want.line) + ", here on line " +
                            std::to_string(line.number))};
      }
    }
    if (want.finished) {
      ReadStatus status = inputs.read(i, line);
      if (status == ReadStatus::Line) {
        return {RunStatus::InputError,
                notTheInput("input " + name + ": its record on line " +
                            std::to_string(line.number) +
                            " comes after the snapshot's end of it; it had ended then")};
      }
      if (status != ReadStatus::End) {
        return noRecord(status, want.records);
      }
      inputs.markFinished(i);
    }
    how.position = inputs.position(i);
    resumed.push_back(std::move(how));
  }
  inputs.setTurn(position.next_input);
  return {};
}

} // namespace

RunResult runCut(const Schema &schema, const std::vector<Matcher *> &matchers,
                 const std::vector<InputSpec> &specs, OutputSink &out, const RunOptions &options,
                 const RunCut &cut, std::string *snapshot, RunStats *stats,
                 std::uint64_t *records) {
  auto started = std::chrono::steady_clock::now();
  std::string error;
  std::vector<std::int32_t> bound_types;
  if (!checkInputSpecs(specs, schema, error, &bound_types)) {
    return {RunStatus::InputError, error};
  }
  std::vector<std::string> names;
  for (const InputSpec &spec : specs) {
    names.push_back(inputName(spec.path));
  }
  std::unique_ptr<RunLoop> loop;
  RunIoPositions io;
  if (cut.resume_from.empty()) {
    loop = std::make_unique<RunLoop>(schema, matchers, names, bound_types, out, options);
  } else {
    try {
      loop = restoreRun(cut.resume_from, schema, matchers, names, bound_types, out, options, &io);
    } catch (const std::runtime_error &e) {
      return {RunStatus::InputError, e.what()};
    }
  }
  // Seek where the snapshot recorded a file's byte position and the input is a file now (its
  // identity is checked when it is opened); read the others again and skip.
  std::vector<std::optional<InputPosition>> sought(specs.size());
  for (std::size_t i = 0; i < io.inputs.size(); ++i) {
    if (io.inputs[i].identity.seekable && isRegularFile(specs[i].path)) {
      sought[i] = io.inputs[i];
    }
  }
  Inputs inputs;
  if (!inputs.open(specs, schema, error, options.read_size, options.max_record_bytes, false,
                   sought)) {
    return {RunStatus::InputError, error};
  }
  ReadPosition position = loop->position();
  std::uint64_t consumed =
      std::accumulate(position.inputs.begin(), position.inputs.end(), std::uint64_t{0},
                      [](std::uint64_t sum, const InputProgress &in) { return sum + in.records; });
  if (cut.snapshot_after && *cut.snapshot_after < consumed) {
    loop->stop();
    return {RunStatus::InputError, "--snapshot-after " + std::to_string(*cut.snapshot_after) +
                                       ": the resumed run has consumed " +
                                       std::to_string(consumed) + " records already"};
  }

  RunResult result;
  if (!cut.resume_from.empty()) {
    std::vector<ResumedInput> resumed;
    result = takeUp(inputs, position, sought, resumed);
    if (result.status == RunStatus::Ok && cut.on_resumed) {
      cut.on_resumed(resumed);
    }
  }
  InputRecord record;
  bool reading = result.status == RunStatus::Ok;
  while (reading) {
    if (int signal = stopSignal(); signal != 0) {
      result = {RunStatus::Interrupted, "interrupted by " + signalName(signal)};
      break;
    }
    if (cut.snapshot_after && consumed == *cut.snapshot_after) {
      CEP_ASSERT(snapshot != nullptr, "a cut run needs somewhere to put its snapshot");
      if (!loop->flush()) { // the outputs' lengths are those after a flush
        break;
      }
      RunIoPositions here;
      for (std::uint32_t i = 0; i < inputs.size(); ++i) {
        here.inputs.push_back(inputs.position(i));
      }
      here.outputs.push_back({out.name(), out.bytesWritten()});
      for (const OutputSink *side : options.side_outputs) {
        here.outputs.push_back({side->name(), side->bytesWritten()});
      }
      snapshotRun(*loop, *snapshot, here); // the loop is Ok: a failure ended the reading
      break;
    }
    InputStatus status = inputs.next(record);
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
