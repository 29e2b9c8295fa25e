// The object half of the code verifier (verify_code.hpp verifyObjectCode): an artifact's object
// code read with our bounds-checked ELF reader (elf_view.hpp), no LLVM, so that a program that
// loads object code only (cep_loader_lean) can verify it. The bitcode half is verify_code.cpp.
#include "compiler/jit/elf_view.hpp"
#include "compiler/jit/required_symbols.hpp"
#include "compiler/jit/verify_code.hpp"

#include <map>

namespace cep::compiler::jit {

namespace {

using runtime::native::AggregateImage;
using runtime::native::PatternImage;

std::uint64_t le64(const char *p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

bool isPowerOfTwo(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

class ObjectChecker {
public:
  ObjectChecker(std::string_view bytes, const runtime::Schema &schema, std::string &error)
      : elf_(bytes), schema_(schema), error_(error) {}

  bool run(const std::vector<PatternImage> &images, const std::vector<AggregateImage> &aggregates) {
    std::string why;
    if (!elf_.readHeader(why)) {
      return fail("not a 64-bit little-endian ELF file: " + why);
    }
    const Elf64_Ehdr &header = elf_.header();
    if (header.e_type != ET_REL) {
      return fail("not a relocatable object (ELF type " + std::to_string(header.e_type) + ")");
    }
    if (header.e_machine != EM_X86_64 && header.e_machine != EM_AARCH64) {
      return fail("machine " + std::to_string(header.e_machine) + " is neither x86-64 nor AArch64");
    }
    if (!elf_.readSections(why)) {
      return fail("bad section headers: " + why);
    }
    machine_ = header.e_machine;
    return checkSections() && readSymbols() && checkRelocations() &&
           checkRequired(images, aggregates);
  }

private:
  bool fail(const std::string &why) {
    error_ = "object: " + why;
    return false;
  }

  const std::vector<Elf64_Shdr> &sections() const { return elf_.sections(); }

  // A symbol's section index names a section of the file (not SHN_ABS, SHN_COMMON, ...).
  bool inSection(const Elf64_Sym &s) const {
    return s.st_shndx != SHN_UNDEF && s.st_shndx < SHN_LORESERVE && s.st_shndx < sections().size();
  }

  bool checkSections() {
    std::string why;
    for (std::size_t i = 0; i < sections().size(); ++i) {
      const Elf64_Shdr &s = sections()[i];
      std::string_view contents;
      if (s.sh_type != SHT_NOBITS && s.sh_type != SHT_NULL && !elf_.contents(i, contents, why)) {
        return fail("section " + std::to_string(i) + ": " + why);
      }
      if (s.sh_addralign > 4096 || (s.sh_addralign != 0 && !isPowerOfTwo(s.sh_addralign))) {
        return fail("section " + std::to_string(i) + ": alignment " +
                    std::to_string(s.sh_addralign) + " is not a power of two up to 4096");
      }
      if (s.sh_type == SHT_SYMTAB) {
        if (symtab_ != kNone) {
          return fail("two symbol tables");
        }
        symtab_ = i;
      }
    }
    if (symtab_ == kNone) {
      return fail("no symbol table");
    }
    return true;
  }

  bool readSymbols() {
    std::string why;
    if (!elf_.symbols(symtab_, symbols_, why)) {
      return fail("bad symbol table: " + why);
    }
    std::string_view strtab;
    if (!elf_.stringTableFor(symtab_, strtab, why)) {
      return fail("bad symbol names: " + why);
    }
    std::set<std::string, std::less<>> host = hostSymbolNames();
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      const Elf64_Sym &s = symbols_[i];
      std::string_view name;
      if (!ElfView::stringAt(strtab, s.st_name, name)) {
        return fail("symbol " + std::to_string(i) + ": name offset " + std::to_string(s.st_name) +
                    " outside the string table");
      }
      std::string n(name);
      unsigned type = ELF64_ST_TYPE(s.st_info);
      if (s.st_shndx == SHN_UNDEF) {
        if (i != 0 && !host.count(n) && n != "_GLOBAL_OFFSET_TABLE_") {
          return fail("undefined symbol `" + n + "` is not a cep host function");
        }
        continue;
      }
      if (s.st_shndx == SHN_ABS || s.st_shndx == SHN_COMMON) {
        if (type == STT_FUNC) {
          return fail("function symbol `" + n + "` outside every section");
        }
      } else if (s.st_shndx >= sections().size()) {
        return fail("symbol `" + n + "`: section " + std::to_string(s.st_shndx) +
                    " out of range (" + std::to_string(sections().size()) + " sections)");
      } else {
        const Elf64_Shdr &in = sections()[s.st_shndx];
        if (type != STT_SECTION &&
            (s.st_value > in.sh_size || s.st_size > in.sh_size - s.st_value)) {
          return fail("symbol `" + n + "` lies outside its section");
        }
      }
      if (ELF64_ST_BIND(s.st_info) == STB_GLOBAL && !n.empty()) {
        defined_.emplace(n, i);
      }
    }
    return true;
  }

  bool checkRelocations() {
    for (std::size_t i = 0; i < sections().size(); ++i) {
      const Elf64_Shdr &s = sections()[i];
      if (s.sh_type != SHT_RELA && s.sh_type != SHT_REL) {
        continue;
      }
      const std::string where = "relocation section " + std::to_string(i);
      if (s.sh_link >= sections().size() || s.sh_link != symtab_) {
        return fail(where + " does not use the symbol table");
      }
      if (s.sh_info == 0 || s.sh_info >= sections().size()) {
        return fail(where + ": target section " + std::to_string(s.sh_info) + " out of range");
      }
      std::uint64_t target_size = sections()[s.sh_info].sh_size;
      auto check = [&](std::uint64_t offset, std::uint32_t symbol, std::uint32_t type) {
        // The bytes the fixup writes: 8 for x86-64's 64-bit kinds (64, PC64, GOTOFF64, GOTPC64),
        // else at most 4 (AArch64 patches one 4-byte instruction or data word, or 8 for ABS64).
        std::uint64_t width = 4;
        if ((machine_ == EM_X86_64 && (type == R_X86_64_64 || (type >= 24 && type <= 27))) ||
            (machine_ == EM_AARCH64 && type == R_AARCH64_ABS64)) {
          width = 8;
        }
        if (offset >= target_size || target_size - offset < width) {
          return fail(where + ": offset " + std::to_string(offset) + " outside its section");
        }
        if (symbol >= symbols_.size()) {
          return fail(where + ": symbol " + std::to_string(symbol) + " out of range (" +
                      std::to_string(symbols_.size()) + " symbols)");
        }
        return true;
      };
      std::string why;
      if (s.sh_type == SHT_RELA) {
        std::vector<Elf64_Rela> relas;
        if (!elf_.relas(i, relas, why)) {
          return fail(where + ": " + why);
        }
        for (const Elf64_Rela &r : relas) {
          if (!check(r.r_offset, ELF64_R_SYM(r.r_info), ELF64_R_TYPE(r.r_info))) {
            return false;
          }
        }
      } else {
        std::vector<Elf64_Rel> rels;
        if (!elf_.rels(i, rels, why)) {
          return fail(where + ": " + why);
        }
        for (const Elf64_Rel &r : rels) {
          if (!check(r.r_offset, ELF64_R_SYM(r.r_info), ELF64_R_TYPE(r.r_info))) {
            return false;
          }
        }
      }
    }
    return true;
  }

  bool checkRequired(const std::vector<PatternImage> &images,
                     const std::vector<AggregateImage> &aggregates) {
    for (const Required &r : requiredSymbols(schema_, images, aggregates)) {
      auto found = defined_.find(r.symbol);
      if (found == defined_.end()) {
        return fail(r.owner + "symbol `" + r.symbol + "` is not defined");
      }
      const Elf64_Sym &s = symbols_[found->second];
      if (r.need != Need::Fingerprint) {
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || !inSection(s) ||
            !(sections()[s.st_shndx].sh_flags & SHF_EXECINSTR)) {
          return fail(r.owner + "symbol `" + r.symbol + "` is not a function");
        }
        continue;
      }
      if (ELF64_ST_TYPE(s.st_info) != STT_OBJECT || s.st_size != 8 || !inSection(s)) {
        return fail(r.owner + "fingerprint `" + r.symbol + "` is not 8 bytes of data");
      }
      std::uint64_t value = 0;
      if (sections()[s.st_shndx].sh_type != SHT_NOBITS) {
        std::string_view contents;
        std::string why;
        if (!elf_.contents(s.st_shndx, contents, why)) {
          return fail(r.owner + why);
        }
        value = le64(contents.data() + s.st_value); // inside: readSymbols checked
      }
      if (value != r.fingerprint) {
        return fail(r.owner + "the image differs from the one its code was compiled with " +
                    "(fingerprint mismatch)");
      }
    }
    return true;
  }

  ElfView elf_;
  const runtime::Schema &schema_;
  std::string &error_;
  std::vector<Elf64_Sym> symbols_;
  static constexpr std::size_t kNone = ~std::size_t{0};
  std::size_t symtab_ = kNone;
  std::uint16_t machine_ = 0;
  std::map<std::string, std::size_t, std::less<>> defined_;
};

} // namespace

bool verifyObjectCode(std::string_view object, const runtime::Schema &schema,
                      const std::vector<PatternImage> &images, std::string &error,
                      const std::vector<AggregateImage> &aggregates) {
  return ObjectChecker(object, schema, error).run(images, aggregates);
}

} // namespace cep::compiler::jit
