#include "compiler/jit/optimize.hpp"

#include "support/internal_error.hpp"

#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

namespace cep::compiler::jit {

// The default level's pipeline (optimize.hpp): what the new pass manager's O2 pipeline does that
// pays on generated pattern code, in one inliner walk. Bottom-up over the call graph: inline the
// guards, fap and visit functions into the step function (and small helpers into the emit and
// key functions), derive the pointer attributes (function-attrs: nocapture, readonly), then per
// function: registers for the locals (sroa), redundant loads and tests (early-cse, gvn,
// correlated-propagation), the decision graph's branches threaded and folded (jump-threading,
// simplifycfg, instcombine), and the same blocks of the branches merged (the last simplifycfg's
// options are the O2 pipeline's late ones). Drops unused internal functions (globaldce). No loop,
// vectoriser or interprocedural constant passes: generated pattern code has no loops to speak of,
// and leaving them out cuts the optimiser's time by 36-52% (bench/RESULTS.md "Compile time and
// start-up") for a step function of the same size. No dead-store elimination either: it took 9%
// of a pattern's compile and changed the code of 3 of 330 rule files (a looping step's counter
// kept in memory; bench/RESULTS.md "Compile: no DSE, emit values compiled plainly").
constexpr const char *kDefaultPipeline =
    "cgscc(inline,function-attrs,function("
    "sroa,early-cse<memssa>,simplifycfg,instcombine<no-verify-fixpoint>,jump-threading,correlated-"
    "propagation,"
    "simplifycfg,gvn,instcombine<no-verify-fixpoint>,jump-threading,"
    "simplifycfg<hoist-common-insts;sink-common-insts;switch-to-lookup>)),"
    "globaldce";

const char *defaultPipeline() {
  return kDefaultPipeline;
}

void optimizeModule(llvm::Module &module, llvm::TargetMachine *target, int opt_level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(target);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes;
  if (opt_level <= 0) {
    passes = builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0);
  } else if (opt_level == 1) {
    passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O1);
  } else if (opt_level == 2) {
    llvm::Error e = builder.parsePassPipeline(passes, kDefaultPipeline);
    std::string problem = e ? llvm::toString(std::move(e)) : std::string();
    CEP_ASSERT(problem.empty(), "the default pass pipeline does not parse: " + problem);
  } else {
    passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  }
  passes.run(module, mam);
}

} // namespace cep::compiler::jit
