// SIGINT and SIGTERM during `cep run`: the handler only records which signal came and wakes a
// reader blocked on a pipe, FIFO or terminal (a self-pipe that LineReader polls with its input).
// The run loop sees stopSignal() between records and stops the way docs/semantics.md §3 says:
// it reads no more, writes out what is complete, and does not finish the matchers. The handler is
// one-shot (SA_RESETHAND): a second signal ends the process the default way.
#pragma once

#include <string>

namespace cep::runtime {

// Installs the handlers for SIGINT and SIGTERM (once per process; later calls do nothing).
// False with `error` set when the self-pipe or sigaction fails.
bool installStopSignals(std::string &error);
// The signal that asked the run to stop (SIGINT, SIGTERM), 0 while none has.
int stopSignal();
// The read end of the self-pipe, readable once a stop was asked; -1 before installStopSignals.
int stopWakeFd();
// As if `signal` had been received (tests); 0 clears the request.
void requestStop(int signal);
// "SIGINT", "SIGTERM" or "signal N".
std::string signalName(int signal);

} // namespace cep::runtime
