// A small ORC LLJIT wrapper: compiles a program's native pattern functions (compileProgram,
// compiler/codegen/pattern_codegen.hpp, for runtime/native), loads them from .cepo artifacts
// (loadObject, loadBitcode) for the native matcher (runtime/native/native_matcher.hpp).
//
// One JITDylib and ResourceTracker per loaded module (one module per program), so a module can
// be unloaded on its own: dropping the last PatternCode::module reference removes its code. Host
// functions (stdlib/native.hpp, the cep_rt_* helpers) are defined explicitly as absolute
// symbols in a "cep.host" JITDylib every module links against; process symbols are not.
//
// Threads: one Jit may be used from several threads at once. compileProgram, loadObject and
// loadBitcode, and the unloading done when a module's last PatternCode goes, take one mutex of
// the Jit, so they run one at a time: LLJIT's ExecutionSession, JITDylibs and
// ResourceTracker::remove are themselves thread-safe in LLVM 19, but its default compile layer
// (one TargetMachine, no concurrent compilation) and the module counter are not. Calling loaded
// functions takes no lock: code is never removed while a PatternCode refers to it, so a thread
// running matchers is never held up by a load, except when it drops the last matcher of a module
// (the unload waits for a load in progress). Example (compiler/artifact/load.hpp):
//   auto jit = std::shared_ptr<Jit>(Jit::create(2, error));
//   std::thread events([&] { run(matchers_of_v1); });   // runs v1's code
//   LoadedArtifact v2 = loadArtifact(bytes, {.jit = jit}); // loads beside it, on this thread
// tests/unit/artifact_load_test.cpp loads and unloads on one thread while another matches.
//
// LLVM-free header (pimpl): the only TU that includes LLJIT.h is jit.cpp.
#pragma once

#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"
#include "runtime/native/image.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::jit {

// One compiled module (one per program): `cep run --stats`.
struct ModuleStats {
  std::string module;            // its name
  std::uint64_t patterns = 0;    // patterns in the module (4 functions each: step, prefilter,
  std::uint64_t emit_values = 0; // key hash, key eq) and emit / timeout value functions
  double codegen_ms = 0;         // IR generation
  double optimize_ms = 0;        // the new pass manager pipeline
  double compile_ms = 0;         // total, including machine code and linking
};

// A program's native pattern functions once loaded (runtime/native/image.hpp), parallel to the
// NFAs / images given. Every PatternCode::module keeps the code loaded (one JITDylib and
// resource tracker per module, shared by the program's patterns).
struct LoadedProgram {
  std::vector<std::shared_ptr<const runtime::native::PatternImage>> images;
  std::vector<runtime::native::PatternCode> code;
};

class Jit {
public:
  // A JIT for the host at LLVM optimisation level 0-3. Null and `error` set when the host
  // target cannot be initialised (a user-facing failure, not a bug).
  static std::unique_ptr<Jit> create(int opt_level, std::string &error);
  ~Jit();
  Jit(const Jit &) = delete;
  Jit &operator=(const Jit &) = delete;

  // The native functions of every pattern of `nfas` (optimised NFAs of `program`'s patterns):
  // one module, optimised at optLevel(), loaded into its own JITDylib. Nullopt and `error` set
  // when LLVM fails to compile or link it; InternalError when codegen cannot lower something.
  std::optional<LoadedProgram> compileProgram(const lang::typed::Program &program,
                                              const std::vector<nfa::Nfa> &nfas, ModuleStats &stats,
                                              std::string &error);
  // Loads a relocatable object file made ahead of time from such a module (built with
  // host_target.hpp's hostTargetMachineBuilder) whose functions `images` name. Both loaders
  // first verify the code against the images (verify_code.hpp) and refuse it with the reason.
  std::optional<LoadedProgram> loadObject(std::string_view object_file_bytes,
                                          const runtime::Schema &schema,
                                          std::vector<runtime::native::PatternImage> images,
                                          std::string &error);
  // Loads such a module as LLVM bitcode (already optimised: compiled as is).
  std::optional<LoadedProgram> loadBitcode(std::string_view bitcode, const runtime::Schema &schema,
                                           std::vector<runtime::native::PatternImage> images,
                                           std::string &error);

  int optLevel() const;

  struct Impl; // opaque (jit.cpp)

private:
  explicit Jit(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
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
