#include "compiler/jit/jit.hpp"

#include "compiler/codegen/expr_codegen.hpp"
#include "compiler/jit/optimize.hpp"
#include "support/internal_error.hpp"

#include <chrono>
#include <iostream>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <mutex>

namespace cep::compiler::jit {

namespace {

namespace orc = llvm::orc;

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

bool initialiseTarget(std::string &error) {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter();
  });
  if (!ok) {
    error = "the host target is not available in this LLVM";
  }
  return ok;
}

llvm::CodeGenOptLevel codeGenLevel(int opt_level) {
  switch (opt_level) {
  case 0:
    return llvm::CodeGenOptLevel::None;
  case 1:
    return llvm::CodeGenOptLevel::Less;
  case 3:
    return llvm::CodeGenOptLevel::Aggressive;
  default:
    return llvm::CodeGenOptLevel::Default;
  }
}

// The host's target machine builder at `opt_level`.
bool hostBuilder(int opt_level, std::optional<orc::JITTargetMachineBuilder> &out,
                 std::string &error) {
  if (!initialiseTarget(error)) {
    return false;
  }
  auto builder = orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = "cannot detect the host target: " + message(builder.takeError());
    return false;
  }
  builder->setCodeGenOptLevel(codeGenLevel(opt_level));
  out.emplace(std::move(*builder));
  return true;
}

// A module for pattern `nfa` with the target's layout, its functions emitted and optimised.
std::unique_ptr<llvm::Module> buildModule(llvm::LLVMContext &context,
                                          const lang::typed::Program &program, const nfa::Nfa &nfa,
                                          llvm::TargetMachine &target, int opt_level,
                                          codegen::PatternFunctions &functions,
                                          ModuleStats *stats) {
  auto start = std::chrono::steady_clock::now();
  auto module = std::make_unique<llvm::Module>("cep." + nfa.pattern, context);
  module->setDataLayout(target.createDataLayout());
  module->setTargetTriple(target.getTargetTriple().str());
  functions = codegen::emitPatternFunctions(*module, program, nfa);
  auto optimise = std::chrono::steady_clock::now();
  optimizeModule(*module, &target, opt_level);
  if (stats) {
    stats->codegen_ms = std::chrono::duration<double, std::milli>(optimise - start).count();
    stats->optimize_ms = msSince(optimise);
  }
  return module;
}

} // namespace

struct Jit::Impl {
  std::unique_ptr<orc::LLJIT> lljit;
  std::unique_ptr<llvm::TargetMachine> target; // for the optimisation pipeline
  orc::JITDylib *host = nullptr;
  int opt_level = 2;
  std::uint64_t modules = 0;
};

namespace {

// One loaded module: its JITDylib and resource tracker; unloads the code when dropped.
struct LoadedModule {
  std::shared_ptr<Jit::Impl> impl;
  orc::JITDylib *dylib = nullptr;
  orc::ResourceTrackerSP tracker;

  ~LoadedModule() {
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

} // namespace

Jit::Jit(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Jit::~Jit() = default;

int Jit::optLevel() const {
  return impl_->opt_level;
}

std::unique_ptr<Jit> Jit::create(int opt_level, std::string &error) {
  std::optional<orc::JITTargetMachineBuilder> builder;
  if (!hostBuilder(opt_level, builder, error)) {
    return nullptr;
  }
  auto impl = std::make_shared<Impl>();
  impl->opt_level = opt_level;
  auto target = builder->createTargetMachine();
  if (!target) {
    error = "cannot create the host target machine: " + message(target.takeError());
    return nullptr;
  }
  impl->target = std::move(*target);
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
  for (const codegen::HostSymbol &s : codegen::hostSymbols()) {
    symbols[impl->lljit->mangleAndIntern(s.name)] = {orc::ExecutorAddr::fromPtr(s.address),
                                                     llvm::JITSymbolFlags::Exported |
                                                         llvm::JITSymbolFlags::Callable};
  }
  if (llvm::Error e = impl->host->define(orc::absoluteSymbols(std::move(symbols)))) {
    error = "cannot define the host symbols: " + message(std::move(e));
    return nullptr;
  }
  return std::unique_ptr<Jit>(new Jit(std::move(impl)));
}

std::shared_ptr<interp::CompiledExprs> Jit::compilePattern(const lang::typed::Program &program,
                                                           const nfa::Nfa &nfa, ModuleStats &stats,
                                                           std::string &error) {
  auto start = std::chrono::steady_clock::now();
  stats = ModuleStats();
  stats.pattern = nfa.pattern;
  auto context = std::make_unique<llvm::LLVMContext>();
  codegen::PatternFunctions functions;
  std::unique_ptr<llvm::Module> module =
      buildModule(*context, program, nfa, *impl_->target, impl_->opt_level, functions, &stats);

  auto loaded = std::make_shared<LoadedModule>();
  loaded->impl = impl_;
  auto dylib = impl_->lljit->createJITDylib("cep.pattern." + std::to_string(impl_->modules++) +
                                            "." + nfa.pattern);
  if (!dylib) {
    error = "JIT: " + message(dylib.takeError());
    return nullptr;
  }
  loaded->dylib = &*dylib;
  loaded->dylib->addToLinkOrder(*impl_->host);
  loaded->tracker = loaded->dylib->createResourceTracker();
  if (llvm::Error e = impl_->lljit->addIRModule(
          loaded->tracker, orc::ThreadSafeModule(std::move(module), std::move(context)))) {
    error = "JIT: pattern " + nfa.pattern + ": " + message(std::move(e));
    return nullptr;
  }

  auto compiled = std::make_shared<interp::CompiledExprs>();
  for (const codegen::ExprFunction &f : functions.compiled) {
    auto address = impl_->lljit->lookup(*loaded->dylib, f.name);
    if (!address) {
      error = "JIT: pattern " + nfa.pattern + ": " + message(address.takeError());
      return nullptr;
    }
    if (f.kind == codegen::FunctionKind::Guard) {
      compiled->guards[f.expr] = address->toPtr<interp::CompiledGuardFn>();
      ++stats.guards;
    } else {
      compiled->values[f.expr] = address->toPtr<interp::CompiledValueFn>();
      ++stats.values;
    }
  }
  compiled->interpreted_guards = functions.interpreted_guards.size();
  compiled->interpreted_values = functions.interpreted_values.size();
  stats.interpreted_guards = compiled->interpreted_guards;
  stats.interpreted_values = compiled->interpreted_values;
  compiled->code = std::move(loaded);
  stats.compile_ms = msSince(start);
  return compiled;
}

bool patternIr(const lang::typed::Program &program, const nfa::Nfa &nfa, int opt_level,
               std::string &ir, std::string &error) {
  std::optional<orc::JITTargetMachineBuilder> builder;
  if (!hostBuilder(opt_level, builder, error)) {
    return false;
  }
  auto target = builder->createTargetMachine();
  if (!target) {
    error = "cannot create the host target machine: " + message(target.takeError());
    return false;
  }
  llvm::LLVMContext context;
  codegen::PatternFunctions functions;
  std::unique_ptr<llvm::Module> module =
      buildModule(context, program, nfa, **target, opt_level, functions, nullptr);
  llvm::raw_string_ostream os(ir);
  for (const auto *e : functions.interpreted_guards) {
    os << "; interpreted guard (not compiled yet) at byte " << e->range.begin << '\n';
  }
  module->print(os, nullptr);
  return true;
}

} // namespace cep::compiler::jit
