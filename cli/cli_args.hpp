// Command-line definitions shared by the whole program (main.cpp, `cep-full`) and the lean `cep`
// (main_lean.cpp): the `run` subcommand's options, and the options several subcommands take.
//
//   CLI::App app{"...", "cep"};
//   RunOptions run;
//   CLI::App *run_cmd = addRunCommand(app, run); // `run` with every option of `cep run`
//   app.parse(argc, argv);
//   if (run_cmd->parsed()) { noteRunEngineOptions(*run_cmd, run); return runRun(run); }
#pragma once

#include "cli/commands.hpp"

#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace cep::cli {

// --import-path (repeatable, existing folders) and --color (auto, always, never) on `cmd`.
void addImportPath(CLI::App *cmd, std::vector<std::string> &paths);
void addColor(CLI::App *cmd, std::string &color);

// Adds `run` to `app`, its options written into `run`; returns the subcommand.
CLI::App *addRunCommand(CLI::App &app, RunOptions &run);
// After parsing: run.engine_options_given (--engine, --opt-level or --disable-pass given).
void noteRunEngineOptions(const CLI::App &run_cmd, RunOptions &run);

} // namespace cep::cli
