// A bounds-checked reader of 64-bit little-endian ELF relocatable objects (glibc's <elf.h>, no
// LLVM): what the object verifier (verify_code.hpp verifyObjectCode) and our x86-64 linker
// (object_linker.hpp) read an artifact's object code with. Every table is copied out of the bytes
// (memcpy: the bytes need no alignment), every offset and size is checked against the bytes
// before use, and nothing here trusts a count or an index from the file.
//
//   ElfView elf(object_bytes);
//   std::string why;
//   if (!elf.readHeader(why) || !elf.readSections(why)) { /* why: "e_shentsize 40, not 64" */ }
//   std::string_view text;
//   if (elf.contents(2, text, why)) { ... }                // section 2's bytes, inside the file
//   std::vector<Elf64_Sym> symbols;
//   elf.symbols(symtab_index, symbols, why);
//
// LLVM-free; part of the loader (cep_loader and cep_loader_lean). Never throws.
#pragma once

#include <cstdint>
#include <elf.h>
#include <string>
#include <string_view>
#include <vector>

namespace cep::compiler::jit {

class ElfView {
public:
  explicit ElfView(std::string_view bytes) : bytes_(bytes) {}

  // The ELF header: size, magic, 64-bit class, little-endian. False and `why` set.
  bool readHeader(std::string &why);
  // The section header table (after readHeader): entry size, inside the file; no extended
  // numbering (e_shnum 0 with a table). False and `why` set.
  bool readSections(std::string &why);

  const Elf64_Ehdr &header() const { return header_; }
  const std::vector<Elf64_Shdr> &sections() const { return sections_; }

  // The bytes of section `index` (not SHT_NOBITS), checked to lie inside the file.
  bool contents(std::size_t index, std::string_view &out, std::string &why) const;
  // The entries of a table section (`entry` bytes each: sh_entsize must be it, the size a
  // multiple of it).
  bool symbols(std::size_t symtab, std::vector<Elf64_Sym> &out, std::string &why) const;
  bool relas(std::size_t index, std::vector<Elf64_Rela> &out, std::string &why) const;
  bool rels(std::size_t index, std::vector<Elf64_Rel> &out, std::string &why) const;
  // The string table a symbol table links to (sh_link): in range, SHT_STRTAB, ends in NUL.
  bool stringTableFor(std::size_t symtab, std::string_view &out, std::string &why) const;
  // The NUL-terminated string at `offset` of `table` (which ends in NUL); false when outside.
  static bool stringAt(std::string_view table, std::uint64_t offset, std::string_view &out);
  // A section's name from the section name table, or "section N" when it has none.
  std::string sectionName(std::size_t index) const;

private:
  template <typename Entry>
  bool table(std::size_t index, std::vector<Entry> &out, std::string &why) const;

  std::string_view bytes_;
  Elf64_Ehdr header_{};
  std::vector<Elf64_Shdr> sections_;
};

} // namespace cep::compiler::jit
