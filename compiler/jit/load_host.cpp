// The ORC load host (load_host.hpp): the LLJIT, the host symbols, loading and unloading.
#include "compiler/jit/load_host.hpp"

#include "compiler/jit/host_symbols.hpp"
#include "compiler/jit/host_target.hpp"
#include "compiler/jit/verify_code.hpp"

#include <cstdint>
#include <iostream>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <mutex>

namespace cep::compiler::jit {

namespace {

namespace orc = llvm::orc;

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

} // namespace

struct LoadHost::Impl {
  std::unique_ptr<orc::LLJIT> lljit;
  orc::JITDylib *host = nullptr;
  int opt_level = 2;
  std::uint64_t modules = 0;
  // Serialises everything that adds to, looks up in or removes from the LLJIT (load_host.hpp
  // "Threads"). Recursive: a load that fails drops its half-made module under the lock.
  std::recursive_mutex mutex;
};

namespace {

// One loaded module: its JITDylib and resource tracker; unloads the code when dropped.
struct LoadedModule {
  std::shared_ptr<LoadHost::Impl> impl;
  orc::JITDylib *dylib = nullptr;
  orc::ResourceTrackerSP tracker;

  ~LoadedModule() {
    std::lock_guard lock(impl->mutex);
    if (tracker) {
      if (llvm::Error e = tracker->remove()) {
        std::cerr << "cep: warning: unloading JIT code: " << message(std::move(e)) << '\n';
      }
    }
    if (dylib) {
      if (llvm::Error e = impl->lljit->getExecutionSession().removeJITDylib(*dylib)) {
        std::cerr << "cep: warning: unloading JIT code: " << message(std::move(e)) << '\n';
      }
    }
  }
};

// A new JITDylib (linked against the host symbols) and resource tracker for one module.
std::shared_ptr<LoadedModule> newModule(const std::shared_ptr<LoadHost::Impl> &impl,
                                        const std::string &name, std::string &error) {
  auto loaded = std::make_shared<LoadedModule>();
  loaded->impl = impl;
  auto dylib =
      impl->lljit->createJITDylib("cep.program." + std::to_string(impl->modules++) + "." + name);
  if (!dylib) {
    error = "JIT: " + message(dylib.takeError());
    return nullptr;
  }
  loaded->dylib = &*dylib;
  loaded->dylib->addToLinkOrder(*impl->host);
  loaded->tracker = loaded->dylib->createResourceTracker();
  return loaded;
}

// The addresses of every function of `images` in `loaded` (loaded_program.hpp).
std::optional<LoadedProgram> resolve(LoadHost::Impl &impl, std::shared_ptr<LoadedModule> loaded,
                                     std::vector<runtime::native::PatternImage> images,
                                     std::vector<runtime::native::AggregateImage> aggregates,
                                     std::string &error) {
  orc::JITDylib &dylib = *loaded->dylib;
  auto find = [&](const std::string &symbol, void *&out, std::string &why) {
    auto address = impl.lljit->lookup(dylib, symbol);
    if (!address) {
      why = "JIT: " + message(address.takeError());
      return false;
    }
    out = address->toPtr<void *>();
    return true;
  };
  return resolveProgram(std::move(loaded), std::move(images), std::move(aggregates), find, error);
}

// `module` in a new JITDylib named after `kind`, its functions resolved (the caller holds the
// host's mutex).
std::optional<LoadedProgram> addIrModule(const std::shared_ptr<LoadHost::Impl> &impl,
                                         std::unique_ptr<llvm::Module> module,
                                         std::unique_ptr<llvm::LLVMContext> context,
                                         std::vector<runtime::native::PatternImage> images,
                                         std::vector<runtime::native::AggregateImage> aggregates,
                                         const std::string &kind, std::string &error) {
  std::shared_ptr<LoadedModule> loaded = newModule(impl, kind, error);
  if (!loaded) {
    return std::nullopt;
  }
  if (llvm::Error e = impl->lljit->addIRModule(
          loaded->tracker, orc::ThreadSafeModule(std::move(module), std::move(context)))) {
    error = "JIT: " + message(std::move(e));
    return std::nullopt;
  }
  return resolve(*impl, std::move(loaded), std::move(images), std::move(aggregates), error);
}

} // namespace

LoadHost::LoadHost(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoadHost::~LoadHost() = default;

int LoadHost::optLevel() const {
  return impl_->opt_level;
}

std::shared_ptr<LoadHost::Impl> LoadHost::makeImpl(int opt_level, std::string &error) {
  auto builder = hostTargetMachineBuilder(opt_level);
  if (!builder) {
    error = "cannot detect the host target: " + message(builder.takeError());
    return nullptr;
  }
  // Code compiled here, just in time, goes through FastISel at levels 0-2: instruction
  // selection without the SelectionDAG, 13-16% of a pattern's compile, for ~1.6% more matcher
  // instructions (bench/RESULTS.md "Compile: no DSE, emit values compiled plainly, FastISel in the
  // JIT"). Code compiled ahead (`cep compile`, compiler/artifact/aot.cpp) and level 3 keep the
  // full selector: an artifact is compiled once and run long.
  if (opt_level <= 2) {
    builder->getOptions().EnableFastISel = true;
  }
  auto impl = std::make_shared<Impl>();
  impl->opt_level = opt_level;
  auto lljit = orc::LLJITBuilder()
                   .setJITTargetMachineBuilder(std::move(*builder))
                   .setLinkProcessSymbolsByDefault(false)        // host symbols are explicit
                   .setPlatformSetUp(orc::setUpInactivePlatform) // no static initialisers
                   .create();
  if (!lljit) {
    error = "cannot create the JIT: " + message(lljit.takeError());
    return nullptr;
  }
  impl->lljit = std::move(*lljit);
  orc::ExecutionSession &session = impl->lljit->getExecutionSession();
  impl->host = &session.createBareJITDylib("cep.host");
  orc::SymbolMap symbols;
  for (const HostSymbol &s : hostSymbols()) {
    symbols[impl->lljit->mangleAndIntern(s.name)] = {orc::ExecutorAddr::fromPtr(s.address),
                                                     llvm::JITSymbolFlags::Exported |
                                                         llvm::JITSymbolFlags::Callable};
  }
  if (llvm::Error e = impl->host->define(orc::absoluteSymbols(std::move(symbols)))) {
    error = "cannot define the host symbols: " + message(std::move(e));
    return nullptr;
  }
  return impl;
}

std::unique_ptr<LoadHost> LoadHost::create(int opt_level, std::string &error) {
  std::shared_ptr<Impl> impl = makeImpl(opt_level, error);
  if (!impl) {
    return nullptr;
  }
  return std::unique_ptr<LoadHost>(new LoadHost(std::move(impl)));
}

std::optional<LoadedProgram>
LoadHost::loadModule(std::unique_ptr<llvm::Module> module,
                     std::unique_ptr<llvm::LLVMContext> context,
                     std::vector<runtime::native::PatternImage> images, std::string &error,
                     std::vector<runtime::native::AggregateImage> aggregates) {
  std::lock_guard lock(impl_->mutex);
  return addIrModule(impl_, std::move(module), std::move(context), std::move(images),
                     std::move(aggregates), "jit", error);
}

std::optional<LoadedProgram>
LoadHost::loadObject(std::string_view object_file_bytes, const runtime::Schema &schema,
                     std::vector<runtime::native::PatternImage> images, std::string &error,
                     std::vector<runtime::native::AggregateImage> aggregates) {
  std::lock_guard lock(impl_->mutex);
  if (!verifyObjectCode(object_file_bytes, schema, images, error, aggregates)) {
    return std::nullopt;
  }
  std::shared_ptr<LoadedModule> loaded = newModule(impl_, "object", error);
  if (!loaded) {
    return std::nullopt;
  }
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(object_file_bytes.data(), object_file_bytes.size()), "cep.object");
  if (llvm::Error e = impl_->lljit->addObjectFile(loaded->tracker, std::move(buffer))) {
    error = "JIT: cannot load the object code: " + message(std::move(e));
    return std::nullopt;
  }
  return resolve(*impl_, std::move(loaded), std::move(images), std::move(aggregates), error);
}

std::optional<LoadedProgram>
LoadHost::loadBitcode(std::string_view bitcode, const runtime::Schema &schema,
                      std::vector<runtime::native::PatternImage> images, std::string &error,
                      std::vector<runtime::native::AggregateImage> aggregates) {
  std::lock_guard lock(impl_->mutex);
  if (!verifyBitcode(bitcode, schema, images, error, aggregates)) {
    return std::nullopt;
  }
  auto context = std::make_unique<llvm::LLVMContext>();
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()),
                                                 "cep.bitcode", false);
  auto module = llvm::parseBitcodeFile(buffer->getMemBufferRef(), *context);
  if (!module) {
    error = "JIT: cannot read the bitcode: " + message(module.takeError());
    return std::nullopt;
  }
  return addIrModule(impl_, std::move(*module), std::move(context), std::move(images),
                     std::move(aggregates), "bitcode", error);
}

} // namespace cep::compiler::jit
