// Ahead-of-time emission of a program's module (compiler/artifact/aot.hpp).
#include "compiler/artifact/aot.hpp"

#include "compiler/codegen/module_builder.hpp"
#include "compiler/jit/host_target.hpp"
#include "runtime/snapshot_codec.hpp"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Target/TargetMachine.h>
#include <optional>

namespace cep::compiler::artifact {

namespace {

namespace orc = llvm::orc;

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

// The host's target machine builder exactly as every cep LLJIT is built from it
// (compiler/jit/host_target.hpp: host CPU and features, small code model, PIC): the object code
// made here links into `cep run`'s JIT.
bool jitTargetBuilder(int opt_level, std::optional<orc::JITTargetMachineBuilder> &out,
                      std::string &error) {
  auto builder = jit::hostTargetMachineBuilder(opt_level);
  if (!builder) {
    error = "cannot set up the host target: " + message(builder.takeError());
    return false;
  }
  out.emplace(std::move(*builder));
  return true;
}

} // namespace

std::array<std::uint8_t, 32> sourceHash(const std::vector<NamedSource> &sources) {
  llvm::SHA256 sha;
  for (const NamedSource &s : sources) {
    std::string prefix;
    runtime::SnapshotWriter w(prefix);
    w.str(s.name);
    w.u64(s.text.size());
    sha.update(llvm::StringRef(prefix));
    sha.update(llvm::StringRef(s.text.data(), s.text.size()));
  }
  std::array<std::uint8_t, 32> hash{};
  auto digest = sha.final();
  std::copy(digest.begin(), digest.end(), hash.begin());
  return hash;
}

bool compileProgram(const lang::typed::Program &program, const std::vector<nfa::Nfa> &nfas,
                    int opt_level, Artifact &out, std::string &error,
                    const std::vector<aggregate::AggregatePlan> &aggregates) {
  std::optional<orc::JITTargetMachineBuilder> builder;
  if (!jitTargetBuilder(opt_level, builder, error)) {
    return false;
  }
  auto machine = builder->createTargetMachine();
  if (!machine) {
    error = "cannot create the host target machine: " + message(machine.takeError());
    return false;
  }
  std::vector<const nfa::Nfa *> pointers;
  for (const auto &n : nfas) {
    pointers.push_back(&n);
  }
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module =
      codegen::buildProgramModule(context, program, pointers, **machine, opt_level, out.patterns,
                                  nullptr, aggregates, &out.aggregates);
  out.bitcode = codegen::bitcodeOf(*module);
  if (!codegen::emitObjectFile(*module, **machine, out.object, error)) {
    return false;
  }
  out.header.target = jit::targetOf(*builder);
  out.header.opt_level = static_cast<std::uint8_t>(opt_level);
  return true;
}

} // namespace cep::compiler::artifact
