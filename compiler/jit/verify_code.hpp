// Verification of an artifact's code sections (compiler/artifact/cepo.hpp) before the JIT loads
// them (jit.hpp loadObject, loadBitcode), against the images they are loaded with:
//
//   object   parsed with our bounds-checked ELF reader (elf_view.hpp; verify_object.cpp, no
//            LLVM, so cep_loader_lean has it too): a relocatable ELF object for x86-64 or AArch64
//            whose sections lie inside it; every symbol an image needs (step, prefilter, key hash,
//            key eq, emit and timeout emit value functions) defined as a function in a section;
//            each image's fingerprint global (runtime/native/image_codec.hpp) defined, 8 bytes,
//            inside its section and equal to the image's (over the schema and the image); every
//            undefined symbol a cep host function; every relocation inside its section and naming
//            an existing symbol.
//   bitcode  parsed first in a child process (LLVM's reader crashes on some malformed bitcode):
//            a fresh one (this executable again, see runBitcodeCheckChild) when main() opted in,
//            else a fork (single-threaded programs only); then here, then the LLVM verifier; every
//            function an image needs defined with its C ABI type (runtime/native/image.hpp); each
//            fingerprint a constant i64 equal to the image's; every other declaration a cep host
//            function or an LLVM intrinsic.
//
// This stops our loaders and the native matcher from crashing on an artifact whose images and
// code disagree or whose code sections are malformed. It proves nothing about what the code
// does: machine code and bitcode are code, and only a signature (cep compile --sign,
// cep run --trust) makes them trustworthy.
//
// LLVM-free header. Never throws; false and `error` ("object: ...", "bitcode: ...") set. What both
// halves require of the code is required_symbols.hpp.
#pragma once

#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::jit {

// `schema`, `images` and `aggregates` as the artifact holds them (already verified:
// compiler/artifact/verify.hpp). An aggregate needs its condition and `having` (when it has
// them) as CepAggTestFn, its computed slots and emit values as value functions, and its
// fingerprint global (runtime/native/aggregate_codec.hpp aggregateFingerprint).
bool verifyObjectCode(std::string_view object, const runtime::Schema &schema,
                      const std::vector<runtime::native::PatternImage> &images, std::string &error,
                      const std::vector<runtime::native::AggregateImage> &aggregates = {});
bool verifyBitcode(std::string_view bitcode, const runtime::Schema &schema,
                   const std::vector<runtime::native::PatternImage> &images, std::string &error,
                   const std::vector<runtime::native::AggregateImage> &aggregates = {});

// The child process that parses bitcode for verifyBitcode. A multithreaded program must not
// fork() and then run LLVM in the child (a lock another thread held stays held), so an
// executable that may verify bitcode with threads running calls, first thing in main():
//
//   if (int rc = runBitcodeCheckChild(); rc >= 0) return rc;  // this process is such a child
//   useFreshProcessForBitcodeCheck();
//
// verifyBitcode then starts /proc/self/exe with the bitcode on stdin and an environment variable
// that makes runBitcodeCheckChild parse it (exit 0, or 42 when LLVM refuses it; anything else is
// a crash). Without the opt-in, verifyBitcode forks (the fuzzers, which are single-threaded).
int runBitcodeCheckChild();
void useFreshProcessForBitcodeCheck();

} // namespace cep::compiler::jit
