#include "runtime/engine/serve_loop.hpp"

#include "runtime/io/stop_signals.hpp"

#include <algorithm>
#include <poll.h>
#include <vector>

namespace cep::runtime {

namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

} // namespace

RunResult serveInputs(RunLoop &loop, Inputs &inputs, const ServeHooks &hooks) {
  // Arrival order where waiting can happen on more than one thing; the blocking round-robin
  // (today's `cep run`) otherwise.
  bool arrival =
      hooks.wake_fd >= 0 || inputs.follows() ||
      (inputs.anyStream() && (inputs.size() > 1 || loop.timeMode() == TimeMode::Processing));
  auto wake = [&] {
    // With workers, the barrier: every step so far matched and written, every worker stopped
    // at it, before the server may change the operators or read their state.
    if (hooks.on_wake && loop.syncWorkers()) {
      hooks.on_wake(loop);
    }
  };
  RunResult result;
  InputRecord record;
  bool reading = true;
  bool ended = false; // every input has ended (serving: wait for a stop)
  std::uint32_t since_check = 0;
  std::uint64_t records = 0; // for on_progress
  auto allFinished = [&inputs] {
    for (std::uint32_t i = 0; i < inputs.size(); ++i) {
      if (!inputs.finished(i)) {
        return false;
      }
    }
    return true;
  };
  // Sources (Kafka): which of their splits count in the watermark, followed as it changes.
  std::uint64_t counts_version = ~std::uint64_t{0};
  auto followCounts = [&] {
    if (!inputs.hasSources() || inputs.countsVersion() == counts_version) {
      return true;
    }
    counts_version = inputs.countsVersion();
    // The combined watermark never goes back, and each change recombines it: the inputs that
    // come to count go first, lowest watermark first, then the rest. Else a partition restored
    // at a later watermark, counted before one restored lower in the same assignment, would
    // take the combined watermark to its own, and the other's events up to it would be late.
    const Watermarks &marks = loop.ingest().watermarks();
    std::vector<std::uint32_t> order;
    for (std::uint32_t i = 0; i < inputs.size(); ++i) {
      if (inputs.source(i) != nullptr && inputs.counts(i) && !marks.counted(i)) {
        order.push_back(i);
      }
    }
    std::stable_sort(order.begin(), order.end(), [&marks](std::uint32_t a, std::uint32_t b) {
      return marks.of(a) < marks.of(b);
    });
    for (std::uint32_t i = 0; i < inputs.size(); ++i) {
      if (inputs.source(i) != nullptr && !(inputs.counts(i) && !marks.counted(i))) {
        order.push_back(i);
      }
    }
    for (std::uint32_t i : order) {
      if (!loop.setInputCounted(i, inputs.counts(i))) {
        return false;
      }
    }
    return true;
  };
  // Asked once, when the read loop is about to wait: flush first when batching.
  const std::function<int()> timeout = [&loop, &hooks] {
    if (hooks.flush_when_waiting) {
      loop.flush(); // a failure is in loop.status(): the next record stops the loop
    }
    return loop.idleTimeoutMs();
  };
  while (reading) {
    if (int signal = stopSignal(); signal != 0) {
      result = {RunStatus::Interrupted, "interrupted by " + signalName(signal)};
      break;
    }
    if ((hooks.wake_fd >= 0 || hooks.flush_when_waiting) && ++since_check >= hooks.check_every) {
      since_check = 0;
      // While records keep arriving, workers are not waited for: their records are written
      // with their batch (WorkerPool) or when the loop waits.
      if (hooks.flush_when_waiting && !loop.flush(/*sync_workers=*/false)) {
        break;
      }
      if (readable(hooks.wake_fd)) {
        wake();
      }
    }
    InputStatus status;
    if (ended) {
      if (hooks.flush_when_waiting && !loop.flush()) {
        break;
      }
      status = waitIdle(hooks.wake_fd, loop.idleTimeoutMs());
    } else if (arrival) {
      status = inputs.nextArrived(record, hooks.wake_fd, timeout);
    } else {
      status = inputs.next(record);
    }
    switch (status) {
    case InputStatus::Record:
      reading = followCounts() && loop.onRecord(record.input, record.line);
      if (hooks.on_progress && ++records % hooks.progress_every == 0) {
        hooks.on_progress(records, inputs, false);
      }
      break;
    case InputStatus::Finished:
      if (hooks.on_progress && allFinished()) {
        hooks.on_progress(records, inputs, true); // before the last end releases what is held
      }
      reading = loop.onInputEnd(record.input);
      break;
    case InputStatus::Error:
      result = {RunStatus::InputError, inputs.error(record.input)};
      reading = false;
      break;
    case InputStatus::End:
      if (hooks.finish_at_end) {
        loop.finish();
        reading = false;
      } else {
        ended = true;
      }
      break;
    case InputStatus::Interrupted:
      result = {RunStatus::Interrupted, "interrupted by " + signalName(stopSignal())};
      reading = false;
      break;
    case InputStatus::Idle:
      since_check = 0;
      if (readable(hooks.wake_fd)) {
        wake();
      }
      reading = followCounts() && loop.onIdle();
      break;
    }
  }
  if (result.status == RunStatus::Interrupted && loop.status() == RunStatus::Ok &&
      hooks.before_stop && loop.syncWorkers()) {
    hooks.before_stop(loop); // e.g. the last checkpoint, while the loop can still be snapshotted
  }
  loop.stop(); // rejection summaries, flush (a no-op after finish())
  // An output that failed while stopping outranks the stop signal: the exit code must say so.
  if ((result.status == RunStatus::Ok || result.status == RunStatus::Interrupted) &&
      loop.status() != RunStatus::Ok) {
    result = {loop.status(), loop.message()};
  }
  return result;
}

} // namespace cep::runtime
