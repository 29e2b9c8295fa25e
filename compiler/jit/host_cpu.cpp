// artifact::hostTarget (compiler/artifact/load.hpp): this host as the JIT targets it, read with
// LLVM's host detection alone (llvm/TargetParser/Host.h), so that it links from LLVM's static
// archives TargetParser, Support and Demangle without the shared libLLVM (cep_loader_lean). It
// must equal what host_target.hpp's hostTargetMachineBuilder targets (JITTargetMachineBuilder::
// detectHost: the process triple, the host CPU name, each host CPU feature as "+name" / "-name"
// in lower case), or an object `cep compile` made on this host would not be taken as this host's
// (tests/unit/host_cpu_test.cpp compares them).
//
//   artifact::Target host;
//   std::string error;
//   artifact::hostTarget(host, error); // {"x86_64-pc-linux-gnu", "znver3", {"+adx", ...}}
#include "compiler/artifact/load.hpp"

#include <algorithm>
#include <cctype>
#include <llvm/ADT/StringMap.h>
#include <llvm/TargetParser/Host.h>

namespace cep::compiler::artifact {

namespace {

std::string lower(llvm::StringRef text) {
  std::string out = text.str();
  for (char &c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

} // namespace

bool hostTarget(Target &out, std::string &error) {
  Target t;
  t.triple = llvm::sys::getProcessTriple();
  t.cpu = llvm::sys::getHostCPUName().str();
  for (const auto &feature : llvm::sys::getHostCPUFeatures()) {
    llvm::StringRef name = feature.first();
    if (name.empty()) {
      continue;
    }
    // As SubtargetFeatures::AddFeature spells them: a name already flagged kept as it is.
    bool flagged = name.front() == '+' || name.front() == '-';
    t.features.push_back(flagged ? lower(name) : (feature.second ? "+" : "-") + lower(name));
  }
  std::sort(t.features.begin(), t.features.end());
  t.features.erase(std::unique(t.features.begin(), t.features.end()), t.features.end());
  if (t.triple.empty() || t.cpu.empty()) {
    error = "cannot detect the host target";
    return false;
  }
  out = std::move(t);
  return true;
}

} // namespace cep::compiler::artifact
