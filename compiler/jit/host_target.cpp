// The host target (host_target.hpp); artifact::hostTarget, which must agree with it, is
// host_cpu.cpp (no ORC there).
#include "compiler/jit/host_target.hpp"

#include <algorithm>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>
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

artifact::Target targetOf(const llvm::orc::JITTargetMachineBuilder &builder) {
  artifact::Target t;
  t.triple = builder.getTargetTriple().str();
  t.cpu = builder.getCPU();
  t.features = builder.getFeatures().getFeatures();
  std::sort(t.features.begin(), t.features.end());
  t.features.erase(std::unique(t.features.begin(), t.features.end()), t.features.end());
  return t;
}

} // namespace cep::compiler::jit
