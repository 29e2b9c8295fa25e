// The compiling side of the JIT: a load host (load_host.hpp: the ORC LLJIT, host symbols,
// one JITDylib per module, unloading, its "Threads" rules) that also compiles a program's
// native pattern functions in this process (compileProgram: compiler/codegen/module_builder.hpp,
// optimised at optLevel()) for the native matcher (runtime/native/native_matcher.hpp). Needs the
// checked program and the NFAs, so it is in cep_codegen with the front end; a process that only
// loads .cepo artifacts uses LoadHost (cep_loader) instead.
//
//   std::string error;
//   std::unique_ptr<Jit> jit = Jit::create(2, error);          // null: error says why
//   ModuleStats stats;
//   auto program = jit->compileProgram(checked, nfas, stats, error);   // nullopt: error
//   auto more = jit->loadObject(object_bytes, schema, images, error);  // a Jit loads too
//
// Threads: as LoadHost's; compileProgram generates and optimises the module under a mutex of its
// own (its target machine), then loads it under the host's.
//
// LLVM-free header (pimpl): the only TU that includes LLJIT.h is load_host.cpp.
#pragma once

#include "compiler/aggregate/plan.hpp"
#include "compiler/jit/load_host.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::compiler::jit {

// One compiled module (one per program): `cep run --stats`.
struct ModuleStats {
  std::string module;            // its name
  std::uint64_t patterns = 0;    // patterns in the module (4 functions each: step, prefilter,
  std::uint64_t emit_values = 0; // key hash, key eq) and emit / timeout value functions
  std::uint64_t aggregates = 0;  // aggregates in the module
  double codegen_ms = 0;         // IR generation
  double optimize_ms = 0;        // the new pass manager pipeline
  double compile_ms = 0;         // total, including machine code and linking
};

class Jit : public LoadHost {
public:
  // A JIT for the host at LLVM optimisation level 0-3. Null and `error` set when the host
  // target cannot be initialised (a user-facing failure, not a bug).
  static std::unique_ptr<Jit> create(int opt_level, std::string &error);
  ~Jit() override;

  // The native functions of every pattern of `nfas` (optimised NFAs of `program`'s patterns):
  // one module, optimised at optLevel(), loaded into its own JITDylib. Nullopt and `error` set
  // when LLVM fails to compile or link it; InternalError when codegen cannot lower something.
  // With `aggregates` (plans with operator_index set), their functions are in the same module
  // and LoadedProgram::aggregates / aggregate_code hold them.
  std::optional<LoadedProgram>
  compileProgram(const lang::typed::Program &program, const std::vector<nfa::Nfa> &nfas,
                 ModuleStats &stats, std::string &error,
                 const std::vector<aggregate::AggregatePlan> &aggregates = {});

  struct Compiler; // opaque (jit.cpp): the target machine the optimiser uses

private:
  Jit(std::shared_ptr<Impl> host, std::unique_ptr<Compiler> compiler);
  std::unique_ptr<Compiler> compiler_;
};

// The optimised LLVM IR of the native functions of `nfas` in one module (`cep explain
// --emit=llvm`): step, prefilter, key and emit functions; false and `error` set when the host
// target is unavailable.
bool programIr(const lang::typed::Program &program, const std::vector<const nfa::Nfa *> &nfas,
               int opt_level, std::string &ir, std::string &error);
// programIr of one pattern.
bool patternIr(const lang::typed::Program &program, const nfa::Nfa &nfa, int opt_level,
               std::string &ir, std::string &error);

} // namespace cep::compiler::jit
