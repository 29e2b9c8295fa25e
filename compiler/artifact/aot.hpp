// Ahead-of-time compilation for .cepo artifacts (compiler/artifact/cepo.hpp): the program's
// module exactly as the JIT makes it (compiler/codegen/module_builder.hpp buildProgramModule),
// written as LLVM bitcode and as a relocatable object for the host, made by a target machine
// configured exactly like the loading LLJIT's (compiler/jit/host_target.hpp: same triple, CPU,
// features, code model and relocation model). The compiling side (cep_codegen); what the host
// is, as a loader compares it with an artifact's header, is compiler/artifact/load.hpp's
// hostTarget.
//
// LLVM-free header: LLVM is only in aot.cpp.
#pragma once

#include "compiler/aggregate/plan.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/nfa/ir.hpp"
#include "lang/typed.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::artifact {

struct NamedSource {
  std::string name; // relative, as recorded in the artifact
  std::string_view text;
};
// SHA-256 over the sources in load order: per file str name (u32 length + bytes), u64 size,
// bytes.
std::array<std::uint8_t, 32> sourceHash(const std::vector<NamedSource> &sources);

// The whole program: patterns' images, object code and bitcode into `out` (header.target and
// header.opt_level too; the caller fills the rest of the header and the schema). False and
// `error` set on failure.
// With `aggregates` (plans with operator_index set), their images go into out.aggregates and
// their functions into the same code.
bool compileProgram(const lang::typed::Program &program, const std::vector<nfa::Nfa> &nfas,
                    int opt_level, Artifact &out, std::string &error,
                    const std::vector<aggregate::AggregatePlan> &aggregates = {});

} // namespace cep::compiler::artifact
