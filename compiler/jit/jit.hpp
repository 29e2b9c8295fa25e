// A small ORC LLJIT wrapper: compiles a pattern's guards and emit values (compiler/codegen)
// into native functions the interpreter's matcher calls (compiler/interp/compiled.hpp).
//
// One JITDylib and ResourceTracker per loaded module (one module per pattern), so a module can
// be unloaded on its own: dropping the last reference to a CompiledExprs removes its code. Host
// functions (stdlib/native.hpp, the cep_rt_* helpers) are defined explicitly as absolute
// symbols in a "cep.host" JITDylib every module links against; process symbols are not.
//
// LLVM-free header (pimpl): the only TU that includes LLJIT.h is jit.cpp.
#pragma once

#include "compiler/interp/compiled.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace cep::compiler::jit {

struct ModuleStats {
  std::string pattern;
  std::uint64_t guards = 0;             // compiled guard functions
  std::uint64_t values = 0;             // compiled emit value functions
  std::uint64_t interpreted_guards = 0; // left to the interpreter (codegen cannot lower them)
  std::uint64_t interpreted_values = 0;
  double codegen_ms = 0;  // IR generation
  double optimize_ms = 0; // the new pass manager pipeline
  double compile_ms = 0;  // total, including machine code and linking
};

class Jit {
public:
  // A JIT for the host at LLVM optimisation level 0-3. Null and `error` set when the host
  // target cannot be initialised (a user-facing failure, not a bug).
  static std::unique_ptr<Jit> create(int opt_level, std::string &error);
  ~Jit();
  Jit(const Jit &) = delete;
  Jit &operator=(const Jit &) = delete;

  // Compiles pattern `nfa.pattern_index`'s conditions and emit values into a new module. Null
  // and `error` set when LLVM fails to compile or link it.
  std::shared_ptr<interp::CompiledExprs> compilePattern(const lang::typed::Program &program,
                                                        const nfa::Nfa &nfa, ModuleStats &stats,
                                                        std::string &error);

  int optLevel() const;

  struct Impl; // opaque (jit.cpp)

private:
  explicit Jit(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The optimised LLVM IR of a pattern's functions (`cep explain --emit=llvm`); false and `error`
// set when the host target is unavailable.
bool patternIr(const lang::typed::Program &program, const nfa::Nfa &nfa, int opt_level,
               std::string &ir, std::string &error);

} // namespace cep::compiler::jit
