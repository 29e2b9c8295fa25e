// Our own linker for an artifact's x86-64 object code (compiler/artifact/cepo.hpp section 4): a
// relocatable ELF object as `cep compile` makes it (small code model, PIC) mapped into this
// process without LLVM, so that a program that only runs .cepo files (cep_loader_lean) need not
// load the shared libLLVM. ORC (load_host.hpp) still loads bitcode and AArch64 objects.
//
//   std::string error;
//   std::optional<LoadedProgram> program =
//       linkObject(object_bytes, schema, std::move(images), error);  // verified, then linked
//   if (!program) { /* error: "object: relocation 3 in section .text: type 26 is not supported" */
//   } auto matcher = runtime::native::makeNativeMatcher(schema_ptr, program->images[0],
//                                                     program->code[0], {});
//   // ... the last PatternCode / AggregateCode dropped: the mapping is unmapped
//
// What it does: the SHF_ALLOC sections go into one anonymous mapping, each at its alignment, in
// three page-aligned parts: code (then one 8-byte jump stub per host function a call cannot
// reach directly) read+execute, read-only data (then the GOT slots) read-only, writable data and
// .bss read+write. Relocations into those sections are applied: R_X86_64_NONE, 64, PC64, PC32,
// PLT32 (a host function more than 2 GB away through its stub), GOTPCREL, GOTPCRELX,
// REX_GOTPCRELX (through a GOT slot of the mapping: no relaxation), 32 and 32S only when the
// value fits; any other type, a value that does not fit its field, SHT_REL sections, SHN_COMMON
// symbols, TLS sections and static initialisers (init/fini arrays) are refused with the reason.
// Relocation sections of sections that are not loaded (debug info and the like) are ignored:
// nothing of them is in memory to patch. Undefined symbols resolve to host_symbols.hpp's table
// only. No unwind tables are registered (cep's code throws no C++ exception through itself).
//
// linkVerifiedObject trusts nothing either: every offset, index and size it uses is checked (a
// malformed object is refused, never a crash), but it does not check the code against the
// images (verify_code.hpp verifyObjectCode does; linkObject calls it first).
//
// LLVM-free; part of the loader (cep_loader and cep_loader_lean). Thread-safe (no shared state).
#pragma once

#include "compiler/jit/loaded_program.hpp"
#include "runtime/schema.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::jit {

// True when `object` is an ELF file for x86-64 (e_machine EM_X86_64): the objects this linker
// takes. False for anything else, malformed bytes included.
bool isX86_64Object(std::string_view object);

// Verifies `object` against the images (verifyObjectCode), then links it. Nullopt and `error`
// ("object: ...") set when either fails.
std::optional<LoadedProgram>
linkObject(std::string_view object, const runtime::Schema &schema,
           std::vector<runtime::native::PatternImage> images, std::string &error,
           std::vector<runtime::native::AggregateImage> aggregates = {});

// Links an object already verified against `images` and resolves their functions in it.
std::optional<LoadedProgram>
linkVerifiedObject(std::string_view object, std::vector<runtime::native::PatternImage> images,
                   std::string &error,
                   std::vector<runtime::native::AggregateImage> aggregates = {});

} // namespace cep::compiler::jit
