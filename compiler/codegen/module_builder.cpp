// Building and writing out a program's module (module_builder.hpp).
#include "compiler/codegen/module_builder.hpp"

#include "compiler/codegen/aggregate_codegen.hpp"
#include "compiler/codegen/pattern_codegen.hpp"
#include "compiler/jit/optimize.hpp"
#include "compiler/schema_from_program.hpp"
#include "runtime/native/aggregate_codec.hpp"
#include "runtime/native/image_codec.hpp"
#include "support/internal_error.hpp"

#include <chrono>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

namespace cep::compiler::codegen {

namespace {

// At the default level, a pattern's emit values (its record's fields) are compiled plainly:
// optnone after the optimiser, so the code generator leaves out its optional passes for them.
// Each runs once per record, beside a record writer of ~1,500 instructions, while their
// instruction selection and machine passes took ~4% of a pattern's compile
// (bench/RESULTS.md "Compile: no DSE, emit values compiled plainly"). Aggregates' values run once
// per window and key, and stay fully compiled.
void compileEmitsPlainly(llvm::Module &module,
                         const std::vector<runtime::native::PatternImage> &images) {
  for (const runtime::native::PatternImage &image : images) {
    for (const runtime::native::EmitShape *shape : {&image.emit, &image.timeout_emit}) {
      for (const runtime::native::OutputField &field : shape->fields) {
        if (llvm::Function *f = module.getFunction(field.symbol); f && !f->isDeclaration()) {
          f->addFnAttr(llvm::Attribute::NoInline); // optnone requires it
          f->addFnAttr(llvm::Attribute::OptimizeNone);
        }
      }
    }
  }
}

} // namespace

std::unique_ptr<llvm::Module>
buildProgramModule(llvm::LLVMContext &context, const lang::typed::Program &program,
                   const std::vector<const nfa::Nfa *> &nfas, llvm::TargetMachine &target,
                   int opt_level, std::vector<runtime::native::PatternImage> &images,
                   ModuleTimings *timings, const std::vector<aggregate::AggregatePlan> &aggregates,
                   std::vector<runtime::native::AggregateImage> *aggregate_images) {
  auto start = std::chrono::steady_clock::now();
  auto module = std::make_unique<llvm::Module>("cep.program", context);
  module->setDataLayout(target.createDataLayout());
  module->setTargetTriple(target.getTargetTriple().str());
  images = emitProgram(*module, program, nfas);
  // Each image's fingerprint, so a loader can tell the image was compiled with this code
  // (runtime/native/image_codec.hpp imageFingerprint).
  const runtime::Schema schema = schemaFromProgram(program);
  for (const runtime::native::PatternImage &image : images) {
    auto *i64 = llvm::Type::getInt64Ty(context);
    new llvm::GlobalVariable(
        *module, i64, true, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantInt::get(i64, runtime::native::imageFingerprint(schema, image)),
        runtime::native::imageFingerprintSymbol(image));
  }
  if (!aggregates.empty()) {
    CEP_ASSERT(aggregate_images != nullptr, "aggregate plans without room for their images");
    *aggregate_images = emitAggregates(*module, program, aggregates);
    for (const runtime::native::AggregateImage &image : *aggregate_images) {
      auto *i64 = llvm::Type::getInt64Ty(context);
      new llvm::GlobalVariable(
          *module, i64, true, llvm::GlobalValue::ExternalLinkage,
          llvm::ConstantInt::get(i64, runtime::native::aggregateFingerprint(schema, image)),
          runtime::native::aggregateFingerprintSymbol(image));
    }
  }
  std::string problems;
  llvm::raw_string_ostream problem_stream(problems);
  CEP_ASSERT(!llvm::verifyModule(*module, &problem_stream),
             "the generated module is invalid: " + problems);
  auto optimise = std::chrono::steady_clock::now();
  jit::optimizeModule(*module, &target, opt_level);
  if (opt_level == 2) {
    compileEmitsPlainly(*module, images);
  }
  if (timings != nullptr) {
    using Ms = std::chrono::duration<double, std::milli>;
    timings->codegen_ms = Ms(optimise - start).count();
    timings->optimize_ms = Ms(std::chrono::steady_clock::now() - optimise).count();
  }
  return module;
}

bool emitObjectFile(llvm::Module &module, llvm::TargetMachine &target, std::string &out,
                    std::string &error) {
  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream os(bytes);
  llvm::legacy::PassManager passes;
  if (target.addPassesToEmitFile(passes, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the host target cannot emit object files";
    return false;
  }
  passes.run(module);
  out.assign(bytes.begin(), bytes.end());
  return true;
}

std::string bitcodeOf(const llvm::Module &module) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::WriteBitcodeToFile(module, os);
  os.flush();
  return out;
}

} // namespace cep::compiler::codegen
