// The `cep` program users start: `cep run X.cepo` runs here, in a process that links neither
// libLLVM nor RocksDB, librdkafka, cpp-httplib or the front end, so it starts in about a
// millisecond instead of the ~70 ms the whole program's shared libraries cost
// (bench/RESULTS.md "Start-up"). Every other command line is handed to the whole program,
// `cep-full` (main.cpp), by exec: the same process id, arguments, environment and open files,
// so callers see one `cep` either way.
//
//   cep run rules.cepo -i events.jsonl       here: the artifact's object code, linked without ORC
//   cep run rules.cep -i events.jsonl        handed over (.cep files need the compiler)
//   cep run rules.cepo --trace K             handed over (--trace checks the rule sources)
//   CEP_FORCE_BITCODE=1 cep run rules.cepo   handed over when loading needs the JIT
//   cep compile ..., cep serve ..., --help   handed over
//
// The `run` options are parsed by the same definition as the whole program's (cli_args.hpp), and
// the run is the same code (run_execute.cpp, run_artifact.cpp): output, errors and exit codes are
// the whole program's. Nothing is read or written before the hand-over is decided, except the
// artifact file, which the whole program reads again.
#include "cli/cli_args.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_shared.hpp"
#include "compiler/artifact/load.hpp"
#include "support/internal_error.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#ifndef CEP_FULL_FROM_BIN
#define CEP_FULL_FROM_BIN "../libexec/cep/cep-full"
#endif

namespace {

using namespace cep::cli;

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The folder of this executable, with a trailing slash ("" when /proc is not mounted).
std::string ownFolder() {
  std::vector<char> buffer(4096);
  ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (n <= 0) {
    return {};
  }
  std::string path(buffer.data(), static_cast<std::size_t>(n));
  return path.substr(0, path.rfind('/') + 1);
}

// Replaces this process with the whole program: `cep-full` beside this executable (the build
// tree), else CEP_FULL_FROM_BIN relative to it (an installed tree: bin/cep, libexec/cep/cep-full).
// Returns only when neither could be started.
int handOver(char **argv) {
  std::string folder = ownFolder();
  std::string tried;
  for (const std::string &path : {folder + "cep-full", folder + CEP_FULL_FROM_BIN}) {
    ::execv(path.c_str(), argv);
    tried += (tried.empty() ? "" : ", ") + path + " (" + std::strerror(errno) + ")";
  }
  std::cerr << "internal error: cep cannot start the whole program for this command: tried "
            << tried << "; is cep installed whole?\n";
  return kInternal;
}

// What only the whole program does with `cep run`: .cep files (the compiler), several rule files
// (refused there with its message), --trace (the rule sources checked again), --disable-pass
// (checked against the compiler's pass names).
bool leanRuns(const RunOptions &run) {
  return run.rules.size() == 1 && endsWith(run.rules.front(), ".cepo") && !run.trace &&
         !run.trace_output && run.trace_format == "text" && run.disabled_passes.empty();
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || std::string(argv[1]) != "run") {
    return handOver(argv);
  }
  CLI::App app{"cep run", "cep"};
  app.require_subcommand(1);
  app.fallthrough(false);
  RunOptions run;
  CLI::App *run_cmd = addRunCommand(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Error &) {
    return handOver(argv); // --help and bad command lines: the whole program's words
  }
  noteRunEngineOptions(*run_cmd, run);
  if (!leanRuns(run)) {
    return handOver(argv);
  }
  try {
    RunPlan plan;
    if (int code = checkRunCommandLine(run, plan); code != kOk) {
      return code;
    }
    cep::compiler::artifact::LoadedArtifact loaded;
    try {
      if (int code = loadRunArtifact(run, plan, loaded); code != kOk) {
        return code;
      }
    } catch (const cep::compiler::artifact::LoadError &e) {
      if (e.kind() == cep::compiler::artifact::LoadError::Kind::NeedsJit) {
        return handOver(argv);
      }
      throw;
    }
    std::vector<std::unique_ptr<cep::runtime::Matcher>> owned =
        loaded.makeMatchers(matcherOptions(run, plan));
    std::vector<cep::runtime::Matcher *> matchers;
    for (const auto &matcher : owned) {
      matchers.push_back(matcher.get());
    }
    return executeArtifactRun(loaded, matchers, run, plan);
  } catch (const cep::InternalError &e) {
    std::cerr << "internal error: " << e.what() << '\n';
    return kInternal;
  } catch (const std::exception &e) {
    std::cerr << "internal error: unexpected exception: " << e.what() << '\n';
    return kInternal;
  }
}
