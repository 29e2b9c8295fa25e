// What an artifact's code must define for its images, shared by both halves of the code
// verifier (verify_code.hpp: the object half in verify_object.cpp, the bitcode half in
// verify_code.cpp): per pattern its step, prefilter, key hash, key eq and emit / timeout-emit
// value functions and its fingerprint global; per aggregate its condition and `having` tests,
// computed-slot and emit value functions and its fingerprint global.
//
//   for (const Required &r : requiredSymbols(schema, images, aggregates)) {
//     // r.symbol "cep.p0.step", r.need Need::Step, r.owner "pattern `p`: "
//   }
//   auto host = hostSymbolNames(); // "cep_rt_bound_count", ..., "memcpy": what may be undefined
//
// LLVM-free; part of the loader (cep_loader and cep_loader_lean).
#pragma once

#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace cep::compiler::jit {

// Kinds of symbol an image needs (each function kind has its C ABI type, runtime/native/image.hpp).
enum class Need { Step, Prefilter, KeyHash, KeyEq, Value, Test, Fingerprint };

struct Required {
  std::string symbol;
  Need need;
  std::string owner;             // "pattern `p`: ", "aggregate `a`: "
  std::uint64_t fingerprint = 0; // Need::Fingerprint: the value the image gives
};

std::vector<Required>
requiredSymbols(const runtime::Schema &schema,
                const std::vector<runtime::native::PatternImage> &images,
                const std::vector<runtime::native::AggregateImage> &aggregates);

// The names of host_symbols.hpp's table: the only undefined symbols code may reference.
std::set<std::string, std::less<>> hostSymbolNames();

} // namespace cep::compiler::jit
