// Exit codes of the `cep` command (documented in `cep --help` and the README).
#pragma once

namespace cep::cli {

enum ExitCode : int {
  kOk = 0,             // success; `check`: no errors
  kRuleErrors = 1,     // the .cep files have errors (diagnostics printed)
  kUsage = 2,          // bad command line, or a subcommand that is not available yet
  kRuntimeFailure = 3, // the run failed (unreadable input, --strict bad record, I/O error)
  kInternal = 70,      // a bug in cep (EX_SOFTWARE): `internal error: ...` on stderr
  kInterrupted = 128,  // + the signal: `cep run` stopped by SIGINT (130) or SIGTERM (143), after
                       // writing what was complete (docs/semantics.md §3)
};

} // namespace cep::cli
