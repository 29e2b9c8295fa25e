#include "compiler/jit/host_target.hpp"

#include "compiler/codegen/pattern_codegen.hpp"
#include "compiler/jit/optimize.hpp"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <mutex>

namespace cep::compiler::jit {

namespace {

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

} // namespace

bool initialiseHostTarget(std::string &error) {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter() &&
         !llvm::InitializeNativeTargetAsmParser();
  });
  if (!ok) {
    error = "the host target is not available in this LLVM";
  }
  return ok;
}

llvm::Expected<llvm::orc::JITTargetMachineBuilder> hostTargetMachineBuilder(int opt_level) {
  std::string error;
  if (!initialiseHostTarget(error)) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  }
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    return builder.takeError();
  }
  builder->setCodeGenOptLevel(codeGenLevel(opt_level));
  builder->setCodeModel(llvm::CodeModel::Small);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  return builder;
}

std::unique_ptr<llvm::Module>
buildProgramModule(llvm::LLVMContext &context, const lang::typed::Program &program,
                   const std::vector<const nfa::Nfa *> &nfas, llvm::TargetMachine &target,
                   int opt_level, std::vector<runtime::native::PatternImage> &images) {
  auto module = std::make_unique<llvm::Module>("cep.program", context);
  module->setDataLayout(target.createDataLayout());
  module->setTargetTriple(target.getTargetTriple().str());
  images = codegen::emitProgram(*module, program, nfas);
  optimizeModule(*module, &target, opt_level);
  return module;
}

} // namespace cep::compiler::jit
