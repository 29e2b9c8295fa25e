// The ORC "load host": what a process needs to run code compiled elsewhere (a .cepo's bitcode,
// or its object code for AArch64: x86-64 object code is linked by our own linker,
// object_linker.hpp, compiler/artifact/load.hpp) for the native matcher
// (runtime/native/native_matcher.hpp), and nothing of the compiler: no front end, no code
// generator, no optimiser. An ORC LLJIT for this host (compiler/jit/host_target.hpp), the cep_rt_*
// and stdlib host functions defined as absolute symbols in a "cep.host" JITDylib
// (host_symbols.hpp; process symbols are not linked, the platform is inactive), one JITDylib and
// ResourceTracker per loaded module, so a module unloads on its own: dropping its last
// PatternCode::module reference removes its code.
//
//   std::string error;
//   std::shared_ptr<LoadHost> host = LoadHost::create(2, error);       // null: error says why
//   auto program = host->loadObject(object_bytes, schema, images, error); // verified, then loaded
//   auto matcher = runtime::native::makeNativeMatcher(schema_ptr, program->images[0],
//                                                     program->code[0], {});
//   // ... matcher and program dropped: the module's JITDylib and code are removed
//
// compiler/jit/jit.hpp's Jit (the compiling side: codegen, optimisation) is a LoadHost that also
// compiles programs in this process; loading never needs it. Library cep_loader, which links no
// front end (tests/loader checks its link closure).
//
// Threads: one LoadHost may be used from several threads at once. Loading (loadObject,
// loadBitcode, a Jit's compileProgram) and the unloading done when a module's last PatternCode
// goes take one mutex of the host, so they run one at a time: LLJIT's ExecutionSession, JITDylibs
// and ResourceTracker::remove are themselves thread-safe in LLVM 19, but its default compile layer
// (one TargetMachine, no concurrent compilation) and the module counter are not. Calling loaded
// functions takes no lock: code is never removed while a PatternCode refers to it, so a thread
// running matchers is never held up by a load, except when it drops the last matcher of a module
// (the unload waits for a load in progress). Example (compiler/artifact/load.hpp):
//   auto host = std::shared_ptr<LoadHost>(LoadHost::create(2, error));
//   std::thread events([&] { run(matchers_of_v1); });         // runs v1's code
//   LoadedArtifact v2 = loadArtifact(bytes, {.jit = host});    // loads beside it, on this thread
// tests/unit/artifact_load_test.cpp loads and unloads on one thread while another matches.
//
// LLVM-free header (pimpl): the only TU that includes LLJIT.h is load_host.cpp.
#pragma once

#include "compiler/jit/loaded_program.hpp"
#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace cep::compiler::jit {

class LoadHost {
public:
  // A load host for this host's CPU; `opt_level` (0-3) is the code generator's level for bitcode
  // (and a Jit's modules). Null and `error` set when the host target cannot be initialised (a
  // user-facing failure, not a bug).
  static std::unique_ptr<LoadHost> create(int opt_level, std::string &error);
  virtual ~LoadHost();
  LoadHost(const LoadHost &) = delete;
  LoadHost &operator=(const LoadHost &) = delete;

  // Loads a relocatable object file made ahead of time (built with host_target.hpp's
  // hostTargetMachineBuilder) whose functions `images` (and `aggregates`) name. Both loaders
  // first verify the code against the images (verify_code.hpp) and refuse it with the reason;
  // nullopt and `error` set when verifying, linking or resolving fails.
  std::optional<LoadedProgram>
  loadObject(std::string_view object_file_bytes, const runtime::Schema &schema,
             std::vector<runtime::native::PatternImage> images, std::string &error,
             std::vector<runtime::native::AggregateImage> aggregates = {});
  // Loads such a module as LLVM bitcode (already optimised: compiled to machine code as is).
  std::optional<LoadedProgram>
  loadBitcode(std::string_view bitcode, const runtime::Schema &schema,
              std::vector<runtime::native::PatternImage> images, std::string &error,
              std::vector<runtime::native::AggregateImage> aggregates = {});

  int optLevel() const;

  struct Impl; // opaque (load_host.cpp)

protected:
  explicit LoadHost(std::shared_ptr<Impl> impl);
  // The state of a new host (create's), for a derived class's factory; null and `error` set.
  static std::shared_ptr<Impl> makeImpl(int opt_level, std::string &error);
  // Adds `module` (made in this process in `context`, for this host's target) in its own
  // JITDylib and resolves every function of `images` in it: how the compiling side (Jit) and
  // loadBitcode load IR. Not verified: the caller made it.
  std::optional<LoadedProgram>
  loadModule(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> context,
             std::vector<runtime::native::PatternImage> images, std::string &error,
             std::vector<runtime::native::AggregateImage> aggregates = {});

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace cep::compiler::jit
