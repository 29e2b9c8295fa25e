// The read loop over a RunLoop: `cep run` reads with it to the end of its inputs; `cep serve`
// reads with it until SIGTERM/SIGINT, changing the operators between two records.
//
// Inputs that are pipes, FIFOs, terminals (stdin, `/dev/stdin`) or followed files (`--follow`)
// are read as lines arrive, waiting on all of them at once with poll() (Inputs::nextArrived);
// regular files alone are read round-robin exactly as `cep run` always has. The wait also ends
// when `wake_fd` becomes readable (the caller's eventfd), when a stop signal comes, and, with
// --time processing, when the earliest pending timer is due on the wall clock: time advances
// to it (RunLoop::onIdle), so an absence or `within` timeout is written when its time comes.
//
// Serving (finish_at_end false): when every input has ended nothing is finished; the loop
// waits for the wake fd, timers and a stop signal. On SIGTERM/SIGINT it stops: the outputs are
// flushed, no matcher is finished, no timeout is invented; the result is Interrupted (a served
// process exits 0 on it).
//
//   int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // the admin thread writes it
//   options.flush_each_step = false;                       // batched: flush_when_waiting below
//   RunLoop loop(schema, matchers, inputs.names(), bound_types, sink, options);
//   loop.driver().keepUnreadTypes(true); // an operator added later sees every event not yet
//                                        // released, also of a type nobody read before
//   ServeHooks hooks;
//   hooks.wake_fd = wake;
//   hooks.flush_when_waiting = true; // outputs written before each wait and every 64 records
//   hooks.on_wake = [&](RunLoop &loop) {                   // on the loop thread
//     std::uint64_t n; ::read(wake, &n, sizeof n);         // empty the eventfd
//     loop.extendSchema(*bigger_schema);                   // a new event type first
//     Matcher *old = loop.operators().replace(id, fresh);  // or add(nextId(), m), remove(id)
//     RunStats counters = loop.stats();                    // for /metrics
//   };
//   RunResult result = serveInputs(loop, inputs, hooks);   // returns after SIGTERM/SIGINT
#pragma once

#include "runtime/engine/run_loop.hpp"
#include "runtime/io/inputs.hpp"

#include <cstdint>
#include <functional>

namespace cep::runtime {

struct ServeHooks {
  // Readable: call on_wake (between two records, or while waiting). -1: none.
  int wake_fd = -1;
  // On the loop thread, between two driver steps: may add, replace or remove operators, grow
  // the schema, read loop.stats(). It must empty wake_fd, or it is called again at once.
  std::function<void(RunLoop &)> on_wake;
  // While records keep arriving, wake_fd is looked at every `check_every` records (a poll()
  // each time), and whenever the loop waits.
  std::uint32_t check_every = 64;
  // Batched output for a loop made with RunOptions::flush_each_step false (`cep serve`): the
  // outputs are flushed (RunLoop::flush) before every wait for input and every `check_every`
  // records, so what has been processed is written whenever the loop waits and within
  // `check_every` records while records keep arriving, with one write() per batch instead of
  // one per driver step that has records.
  bool flush_when_waiting = false;
  // On a stop signal, on the loop thread, before the loop stops (it can still be snapshotted):
  // `cep serve --state` takes its last checkpoint here. Not called after a failure.
  std::function<void(RunLoop &)> before_stop;
  // `cep run`: finish() once every input has ended. `cep serve`: never finish; wait for a stop.
  bool finish_at_end = false;
  // Every `progress_every` records, and once when the last input has ended, before the loop
  // hears of it (its end releases what --order sort held):
  // the records read so far and the inputs (Inputs::bytesRead), for a progress line
  // (`cep backtest`). Empty: never.
  std::function<void(std::uint64_t records, const Inputs &inputs, bool ended)> on_progress;
  std::uint32_t progress_every = 8192;
};

// Reads `inputs` into `loop` (made for them: same names, in order) as the header says. Stops at
// the first input error, strict rejection or output failure (the result says which), or at a
// stop signal (Interrupted; the loop is stopped, not finished).
RunResult serveInputs(RunLoop &loop, Inputs &inputs, const ServeHooks &hooks);

} // namespace cep::runtime
