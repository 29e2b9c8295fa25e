// The one compile pipeline every command calls (`cep run`, `cep compile`, `cep explain`,
// bench/cep_bench.cpp, and `cep serve` when it takes rule files): parse → check (field limits
// included) → schema → lower → passes → engine (interpreter or JIT) or a .cepo artifact.
//
// Each stage is its own call, so `cep explain --emit=...` stops at any of them. The pipeline
// prints nothing: diagnostics collect in diagnostics() and the caller renders them; failures of
// the engine or of code generation come back as a message. Option parsing, printing and exit
// codes stay in cli/.
//
//   compiler::driver::Pipeline pipeline({.import_paths = {}, .disabled_passes = {"split-guards"}});
//   bool ok = pipeline.check({"rules.cep"});
//   pipeline.diagnostics().render(std::cerr, false);          // errors and warnings
//   if (!ok) return 1;
//   const runtime::Schema &schema = pipeline.schema();
//   compiler::driver::MatcherSet set;
//   std::string error;
//   if (!pipeline.makeMatchers({compiler::driver::Engine::Jit, 2}, {}, set, error)) ...
//   // set.matchers: one per pattern, in declaration order; they borrow the pipeline's program
//   // (interpreter) or share the JIT's code, so keep `pipeline` and `set` alive while they run.
//
// Not thread-safe: one pipeline is used by one thread.
#pragma once

#include "compiler/aggregate/plan.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"
#include "lang/typed.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::compiler::driver {

struct PipelineOptions {
  std::vector<std::string> import_paths;    // --import-path: more folders imports may use
  std::vector<std::string> disabled_passes; // --disable-pass NAME|all (checkPassNames first)
};

// False and `error` ("unknown pass `x` for --disable-pass (passes: …, or all)") when a name of
// `names` is no pass of the standard pipeline: check before anything is read.
bool checkPassNames(const std::vector<std::string> &names, std::string &error);

enum class Engine { Interp, Jit };

struct EngineOptions {
  Engine engine = Engine::Jit;
  int opt_level = 2; // Engine::Jit: LLVM optimisation level 0-3
};

// What makeMatchers makes: one matcher per pattern and one operator per aggregate
// (compiler/interp/aggregate_operator.hpp, runtime/native/native_aggregate.hpp), all in
// declaration order (file load order, then
// position in the file: `cep run` numbers the operators so, docs/semantics.md §6), the JIT
// their code was compiled into (null for the interpreter) and its per-module statistics
// (`cep run --stats`).
struct MatcherSet {
  std::vector<std::unique_ptr<runtime::Matcher>> matchers;
  std::unique_ptr<jit::Jit> jit;
  std::vector<jit::ModuleStats> jit_stats;
};

// What compileArtifact records beside the code (the header's fields the pipeline cannot know).
struct ArtifactOptions {
  int opt_level = 2;
  std::string cep_version; // the compiling cep's version, written in the header
  // The rule files as checked in the optional sources section (cepo.hpp), which traces of the
  // artifact need (`cep compile --no-sources`: false).
  bool sources = true;
};

class Pipeline {
public:
  explicit Pipeline(PipelineOptions options = {});
  Pipeline(const Pipeline &) = delete;
  Pipeline &operator=(const Pipeline &) = delete;

  // Stage 1 alone (`explain --emit=ast`): reads and parses `paths` and their imports; false
  // when there were errors (in diagnostics()).
  bool parse(const std::vector<std::string> &paths);
  // Stages 1-2: parses and checks `paths` and their imports (the field-count limit is a checker
  // diagnostic); false when there were errors. Call once.
  bool check(const std::vector<std::string> &paths);

  // Before `cep run` with `engine` (both engines run aggregates): false, with an error,
  // when an aggregate cannot be planned (a row wider than runtime::kMaxFields).
  bool requireRunnable(Engine engine);

  // The aggregate IR (compiler/aggregate/plan.hpp) of every aggregate, in declaration order,
  // each with its operator_index (its position among patterns and aggregates in declaration
  // order); after a successful check() (and requireRunnable: a plan that cannot be made throws).
  std::vector<aggregate::AggregatePlan> aggregatePlans() const;

  lang::SourceManager &sources() { return sources_; }
  lang::DiagnosticEngine &diagnostics() { return diags_; }
  // Every file loaded (imports too), in load order; after parse() or check().
  const std::vector<lang::ast::Module> &modules() const { return modules_; }
  std::vector<std::string> ruleFiles() const; // their paths, as the SourceManager names them
  // The checked program; only after a successful check().
  const lang::typed::Program &program() const;

  // Stage 3: the runtime's schema of the program (made once).
  const runtime::Schema &schema();
  std::shared_ptr<const runtime::Schema> sharedSchema();

  // Stage 4: the NFA of each pattern of `patterns` (indices into program().patterns; all when
  // empty), lowered and verified, then optimised by the standard passes minus the disabled
  // ones when `optimise` (`explain --emit=nfa` does not).
  std::vector<nfa::Nfa> lower(const std::vector<int> &patterns = {}, bool optimise = true) const;

  // Stage 5: one matcher per pattern over the optimised NFAs and one operator per aggregate,
  // in operator order (AggregatePlan::operator_index): the reference interpreter (with
  // compiler/interp/aggregate_operator.hpp), or the native matcher and native aggregate
  // operator (runtime/native/native_aggregate.hpp) over code the JIT compiles (one module for
  // the whole program). False and `error` when the JIT cannot be created (set.jit stays null)
  // or LLVM fails to compile or link.
  bool makeMatchers(const EngineOptions &engine, const runtime::MatcherOptions &matcher_options,
                    MatcherSet &set, std::string &error);

  // `cep compile`: the whole artifact (header, schema, pattern images, object code, bitcode;
  // not signed). Source names are relative to the first checked file's folder. False and
  // `error` when code generation fails.
  bool compileArtifact(const ArtifactOptions &options, artifact::Artifact &out, std::string &error);

private:
  PipelineOptions options_;
  lang::SourceManager sources_;
  lang::DiagnosticEngine diags_;
  std::vector<std::string> paths_;
  std::vector<lang::ast::Module> modules_;
  std::optional<lang::typed::Program> program_;
  std::shared_ptr<const runtime::Schema> schema_;
};

} // namespace cep::compiler::driver
