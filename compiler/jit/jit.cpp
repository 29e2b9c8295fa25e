// The compiling side of the JIT (jit.hpp): programs compiled in this process, loaded through the
// load host (load_host.hpp).
#include "compiler/jit/jit.hpp"

#include "compiler/codegen/module_builder.hpp"
#include "compiler/jit/host_target.hpp"

#include <chrono>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <mutex>

namespace cep::compiler::jit {

namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

// A target machine for this host at `opt_level` (host_target.hpp: the load host's settings).
std::unique_ptr<llvm::TargetMachine> hostMachine(int opt_level, std::string &error) {
  auto builder = hostTargetMachineBuilder(opt_level);
  if (!builder) {
    error = "cannot detect the host target: " + message(builder.takeError());
    return nullptr;
  }
  auto target = builder->createTargetMachine();
  if (!target) {
    error = "cannot create the host target machine: " + message(target.takeError());
    return nullptr;
  }
  return std::move(*target);
}

std::vector<const nfa::Nfa *> pointersTo(const std::vector<nfa::Nfa> &nfas) {
  std::vector<const nfa::Nfa *> out;
  for (const auto &n : nfas) {
    out.push_back(&n);
  }
  return out;
}

} // namespace

struct Jit::Compiler {
  std::unique_ptr<llvm::TargetMachine> target; // for the optimisation pipeline
  std::mutex mutex;                            // one compilation at a time (the target)
};

Jit::Jit(std::shared_ptr<Impl> host, std::unique_ptr<Compiler> compiler)
    : LoadHost(std::move(host)), compiler_(std::move(compiler)) {}
Jit::~Jit() = default;

std::unique_ptr<Jit> Jit::create(int opt_level, std::string &error) {
  auto compiler = std::make_unique<Compiler>();
  compiler->target = hostMachine(opt_level, error);
  if (!compiler->target) {
    return nullptr;
  }
  std::shared_ptr<Impl> host = makeImpl(opt_level, error);
  if (!host) {
    return nullptr;
  }
  return std::unique_ptr<Jit>(new Jit(std::move(host), std::move(compiler)));
}

std::optional<LoadedProgram>
Jit::compileProgram(const lang::typed::Program &program, const std::vector<nfa::Nfa> &nfas,
                    ModuleStats &stats, std::string &error,
                    const std::vector<aggregate::AggregatePlan> &aggregates) {
  std::lock_guard lock(compiler_->mutex);
  auto start = std::chrono::steady_clock::now();
  stats = ModuleStats();
  stats.module = "cep.program";
  auto context = std::make_unique<llvm::LLVMContext>();
  std::vector<runtime::native::PatternImage> images;
  codegen::ModuleTimings timings;
  std::vector<runtime::native::AggregateImage> aggregate_images;
  std::unique_ptr<llvm::Module> module =
      codegen::buildProgramModule(*context, program, pointersTo(nfas), *compiler_->target,
                                  optLevel(), images, &timings, aggregates, &aggregate_images);
  stats.aggregates = aggregate_images.size();
  stats.codegen_ms = timings.codegen_ms;
  stats.optimize_ms = timings.optimize_ms;
  for (const auto &image : images) {
    ++stats.patterns;
    stats.emit_values += image.emit.fields.size() + image.timeout_emit.fields.size();
  }
  auto out = loadModule(std::move(module), std::move(context), std::move(images), error,
                        std::move(aggregate_images));
  stats.compile_ms = msSince(start);
  return out;
}

bool programIr(const lang::typed::Program &program, const std::vector<const nfa::Nfa *> &nfas,
               int opt_level, std::string &ir, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> target = hostMachine(opt_level, error);
  if (!target) {
    return false;
  }
  llvm::LLVMContext context;
  std::vector<runtime::native::PatternImage> images;
  std::unique_ptr<llvm::Module> module =
      codegen::buildProgramModule(context, program, nfas, *target, opt_level, images);
  llvm::raw_string_ostream os(ir);
  module->print(os, nullptr);
  return true;
}

bool patternIr(const lang::typed::Program &program, const nfa::Nfa &nfa, int opt_level,
               std::string &ir, std::string &error) {
  return programIr(program, {&nfa}, opt_level, ir, error);
}

} // namespace cep::compiler::jit
