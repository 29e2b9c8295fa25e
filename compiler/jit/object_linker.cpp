// The x86-64 object linker (object_linker.hpp).
#include "compiler/jit/object_linker.hpp"

#include "compiler/jit/elf_view.hpp"
#include "compiler/jit/host_symbols.hpp"
#include "compiler/jit/verify_code.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <sys/mman.h>
#include <unistd.h>

namespace cep::compiler::jit {

namespace {

using runtime::native::AggregateImage;
using runtime::native::PatternImage;

constexpr std::uint64_t kPage = 4096; // x86-64 Linux; also the largest alignment we accept
constexpr std::uint64_t kMaxMapping = std::uint64_t{256} << 20; // far beyond any cep program
constexpr std::uint64_t kUnmapped = ~std::uint64_t{0};
constexpr std::uint64_t kStubSize = 8; // jmp *slot(%rip): ff 25 <disp32>, then 2 x int3

std::uint64_t alignUp(std::uint64_t v, std::uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}

bool fitsSigned32(std::int64_t v) {
  return v >= INT32_MIN && v <= INT32_MAX;
}

// The mapping, unmapped when dropped unless released.
struct Mapping {
  void *base = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (base != nullptr) {
      ::munmap(base, size);
    }
  }
};

class Linker {
public:
  Linker(std::string_view bytes, std::string &error) : elf_(bytes), error_(error) {}

  std::optional<LoadedProgram> run(std::vector<PatternImage> images,
                                   std::vector<AggregateImage> aggregates) {
    if (!read() || !plan() || !layout() || !map() || !relocate() || !protect()) {
      return std::nullopt;
    }
    std::map<std::string, std::uint64_t, std::less<>> exported;
    for (std::size_t i = 1; i < symbols_.size(); ++i) {
      const Elf64_Sym &s = symbols_[i];
      unsigned bind = ELF64_ST_BIND(s.st_info);
      std::string_view name;
      if ((bind != STB_GLOBAL && bind != STB_WEAK) || s.st_shndx == SHN_UNDEF ||
          s.st_shndx >= SHN_LORESERVE || !ElfView::stringAt(strtab_, s.st_name, name) ||
          name.empty()) {
        continue;
      }
      std::uint64_t address = 0;
      if (symbolAddress(i, address)) {
        exported.emplace(name, address);
      }
    }
    std::size_t size = mapping_.size;
    std::shared_ptr<void> module(mapping_.base, [size](void *p) { ::munmap(p, size); });
    mapping_.base = nullptr; // owned by `module` now
    auto find = [&](const std::string &symbol, void *&out, std::string &why) {
      auto it = exported.find(symbol);
      if (it == exported.end()) {
        why = "object: symbol `" + symbol + "` is not defined";
        return false;
      }
      out = reinterpret_cast<void *>(it->second);
      return true;
    };
    return resolveProgram(std::move(module), std::move(images), std::move(aggregates), find,
                          error_);
  }

private:
  bool fail(const std::string &why) {
    error_ = "object: " + why;
    return false;
  }

  std::string symbolName(std::size_t index) const {
    std::string_view name;
    if (index < symbols_.size() && ElfView::stringAt(strtab_, symbols_[index].st_name, name) &&
        !name.empty()) {
      return "`" + std::string(name) + "`";
    }
    return "symbol " + std::to_string(index);
  }

  // Header, sections, the symbol table and its names.
  bool read() {
    std::string why;
    if (!elf_.readHeader(why)) {
      return fail("not a 64-bit little-endian ELF file: " + why);
    }
    if (elf_.header().e_type != ET_REL || elf_.header().e_machine != EM_X86_64) {
      return fail("not an x86-64 relocatable object (ELF type " +
                  std::to_string(elf_.header().e_type) + ", machine " +
                  std::to_string(elf_.header().e_machine) + ")");
    }
    if (!elf_.readSections(why)) {
      return fail("bad section headers: " + why);
    }
    const auto &sections = elf_.sections();
    bool found = false;
    for (std::size_t i = 0; i < sections.size(); ++i) {
      if (sections[i].sh_type == SHT_SYMTAB) {
        if (found) {
          return fail("two symbol tables");
        }
        found = true;
        symtab_ = i;
      }
    }
    if (!found) {
      return fail("no symbol table");
    }
    if (!elf_.symbols(symtab_, symbols_, why)) {
      return fail("bad symbol table: " + why);
    }
    if (!elf_.stringTableFor(symtab_, strtab_, why)) {
      return fail("bad symbol names: " + why);
    }
    for (const HostSymbol &s : hostSymbols()) {
      host_.emplace(s.name, reinterpret_cast<std::uint64_t>(s.address));
    }
    return true;
  }

  // The relocation sections to apply, and which symbols need a GOT slot or a jump stub.
  bool plan() {
    const auto &sections = elf_.sections();
    offset_.assign(sections.size(), kUnmapped);
    got_.assign(symbols_.size(), kUnmapped);
    stub_.assign(symbols_.size(), kUnmapped);
    for (std::size_t i = 0; i < sections.size(); ++i) {
      const Elf64_Shdr &s = sections[i];
      if (s.sh_type != SHT_RELA && s.sh_type != SHT_REL) {
        continue;
      }
      std::size_t target = s.sh_info;
      if (target == 0 || target >= sections.size()) {
        return fail("relocation section " + elf_.sectionName(i) + ": target section " +
                    std::to_string(target) + " out of range");
      }
      if (!(sections[target].sh_flags & SHF_ALLOC)) {
        continue; // patches a section that is not loaded: nothing to do
      }
      if (s.sh_type == SHT_REL) {
        return fail("relocation section " + elf_.sectionName(i) +
                    ": relocations without addends (SHT_REL) are not supported");
      }
      if (s.sh_link != symtab_) {
        return fail("relocation section " + elf_.sectionName(i) + " does not use the symbol table");
      }
      std::vector<Elf64_Rela> relas;
      std::string why;
      if (!elf_.relas(i, relas, why)) {
        return fail("relocation section " + elf_.sectionName(i) + ": " + why);
      }
      for (std::size_t n = 0; n < relas.size(); ++n) {
        std::uint64_t symbol = ELF64_R_SYM(relas[n].r_info);
        if (symbol >= symbols_.size()) {
          return fail("relocation " + std::to_string(n) + " in section " +
                      elf_.sectionName(target) + ": symbol " + std::to_string(symbol) +
                      " out of range (" + std::to_string(symbols_.size()) + " symbols)");
        }
        switch (ELF64_R_TYPE(relas[n].r_info)) {
        case R_X86_64_GOTPCREL:
        case R_X86_64_GOTPCRELX:
        case R_X86_64_REX_GOTPCRELX:
          if (got_[symbol] == kUnmapped) {
            got_[symbol] = got_count_++;
          }
          break;
        case R_X86_64_PC32:
        case R_X86_64_PLT32:
          if (symbol != 0 && symbols_[symbol].st_shndx == SHN_UNDEF && stub_[symbol] == kUnmapped) {
            stub_[symbol] = stub_count_++;
            if (got_[symbol] == kUnmapped) {
              got_[symbol] = got_count_++;
            }
          }
          break;
        default:
          break;
        }
      }
      relocations_.push_back({i, target, std::move(relas)});
    }
    return true;
  }

  // Where each loaded section, the stubs and the GOT go in the mapping.
  bool layout() {
    const auto &sections = elf_.sections();
    std::uint64_t end[3] = {0, 0, 0}; // code, read-only data, writable data
    for (std::size_t i = 0; i < sections.size(); ++i) {
      const Elf64_Shdr &s = sections[i];
      if (!(s.sh_flags & SHF_ALLOC)) {
        continue;
      }
      const std::string where = "section " + elf_.sectionName(i);
      if (s.sh_flags & SHF_TLS) {
        return fail(where + ": thread-local storage is not supported");
      }
      if (s.sh_type == SHT_INIT_ARRAY || s.sh_type == SHT_FINI_ARRAY ||
          s.sh_type == SHT_PREINIT_ARRAY) {
        return fail(where + ": static initialisers and finalisers are not supported");
      }
      std::uint64_t align = s.sh_addralign == 0 ? 1 : s.sh_addralign;
      if (align > kPage || (align & (align - 1)) != 0) {
        return fail(where + ": alignment " + std::to_string(s.sh_addralign) +
                    " is not a power of two up to 4096");
      }
      if (s.sh_size > kMaxMapping) {
        return fail(where + ": " + std::to_string(s.sh_size) + " bytes, too large to load");
      }
      if (s.sh_type != SHT_NOBITS) {
        std::string_view contents;
        std::string why;
        if (!elf_.contents(i, contents, why)) {
          return fail(where + ": " + why);
        }
      }
      int part = (s.sh_flags & SHF_EXECINSTR) ? 0 : (s.sh_flags & SHF_WRITE) ? 2 : 1;
      offset_[i] = alignUp(end[part], align);
      end[part] = offset_[i] + s.sh_size;
      part_of_.emplace(i, part);
      if (end[part] > kMaxMapping) {
        return fail("the sections need more than " + std::to_string(kMaxMapping) +
                    " bytes, too large to load");
      }
    }
    stubs_ = alignUp(end[0], 8);
    end[0] = stubs_ + stub_count_ * kStubSize;
    got_offset_ = alignUp(end[1], 8);
    end[1] = got_offset_ + got_count_ * 8;
    base_[0] = 0;
    base_[1] = alignUp(end[0], kPage);
    base_[2] = base_[1] + alignUp(end[1], kPage);
    size_[0] = base_[1];
    size_[1] = base_[2] - base_[1];
    size_[2] = alignUp(end[2], kPage);
    std::uint64_t total = base_[2] + size_[2];
    if (total > kMaxMapping) {
      return fail("the sections need more than " + std::to_string(kMaxMapping) +
                  " bytes, too large to load");
    }
    for (auto &[section, part] : part_of_) {
      offset_[section] += base_[part];
    }
    stubs_ += base_[0];
    got_offset_ += base_[1];
    mapping_.size = total == 0 ? kPage : total;
    return true;
  }

  // The mapping, with every loaded section's bytes (.bss and the like stay zero).
  bool map() {
    void *base =
        ::mmap(nullptr, mapping_.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
      return fail(std::string("cannot map memory for the code: ") + std::strerror(errno));
    }
    mapping_.base = base;
    start_ = reinterpret_cast<std::uint64_t>(base);
    memory_ = static_cast<char *>(base);
    const auto &sections = elf_.sections();
    for (std::size_t i = 0; i < sections.size(); ++i) {
      if (offset_[i] == kUnmapped || sections[i].sh_type == SHT_NOBITS) {
        continue;
      }
      std::string_view contents;
      std::string why;
      if (!elf_.contents(i, contents, why)) { // checked by layout(); kept for safety
        return fail("section " + elf_.sectionName(i) + ": " + why);
      }
      std::memcpy(memory_ + offset_[i], contents.data(), contents.size());
    }
    return true;
  }

  // The address of symbol `index` in this process; false and the error set when it has none.
  bool symbolAddress(std::size_t index, std::uint64_t &out) {
    if (index == 0) {
      out = 0;
      return true;
    }
    const Elf64_Sym &s = symbols_[index];
    if (s.st_shndx == SHN_UNDEF) {
      std::string_view name;
      auto it = ElfView::stringAt(strtab_, s.st_name, name) ? host_.find(name) : host_.end();
      if (it == host_.end()) {
        return fail("undefined symbol " + symbolName(index) + " is not a cep host function");
      }
      out = it->second;
      return true;
    }
    if (s.st_shndx == SHN_ABS) {
      out = s.st_value;
      return true;
    }
    if (s.st_shndx == SHN_COMMON) {
      return fail("symbol " + symbolName(index) +
                  " is a common symbol (SHN_COMMON): not supported");
    }
    if (s.st_shndx >= elf_.sections().size()) {
      return fail("symbol " + symbolName(index) + ": section " + std::to_string(s.st_shndx) +
                  " out of range (" + std::to_string(elf_.sections().size()) + " sections)");
    }
    if (offset_[s.st_shndx] == kUnmapped) {
      return fail("symbol " + symbolName(index) + " is in section " + elf_.sectionName(s.st_shndx) +
                  ", which is not loaded");
    }
    if (s.st_value > elf_.sections()[s.st_shndx].sh_size) {
      return fail("symbol " + symbolName(index) + " lies outside its section");
    }
    out = start_ + offset_[s.st_shndx] + s.st_value;
    return true;
  }

  void write32(std::uint64_t at, std::uint32_t v) { std::memcpy(memory_ + at, &v, 4); }
  void write64(std::uint64_t at, std::uint64_t v) { std::memcpy(memory_ + at, &v, 8); }

  // The GOT slots and stubs, then every relocation of a loaded section.
  bool relocate() {
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      if (got_[i] == kUnmapped) {
        continue;
      }
      std::uint64_t address = 0;
      if (!symbolAddress(i, address)) {
        return false;
      }
      std::uint64_t slot = got_offset_ + got_[i] * 8;
      write64(slot, address);
      if (stub_[i] != kUnmapped) {
        std::uint64_t stub = stubs_ + stub_[i] * kStubSize;
        // jmp *slot(%rip); the displacement is from the end of the 6-byte instruction.
        std::int64_t disp = static_cast<std::int64_t>(slot - (stub + 6));
        const unsigned char code[kStubSize] = {0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc};
        std::memcpy(memory_ + stub, code, sizeof code);
        write32(stub + 2, static_cast<std::uint32_t>(static_cast<std::int32_t>(disp)));
      }
    }
    for (const RelocationSection &r : relocations_) {
      for (std::size_t n = 0; n < r.relas.size(); ++n) {
        if (!apply(r.target, n, r.relas[n])) {
          return false;
        }
      }
    }
    return true;
  }

  bool apply(std::size_t target, std::size_t n, const Elf64_Rela &rela) {
    const Elf64_Shdr &section = elf_.sections()[target];
    const std::string where =
        "relocation " + std::to_string(n) + " in section " + elf_.sectionName(target);
    std::uint32_t type = ELF64_R_TYPE(rela.r_info);
    std::size_t symbol = ELF64_R_SYM(rela.r_info); // < symbols_.size(): plan() checked
    if (type == R_X86_64_NONE) {
      return true;
    }
    std::uint64_t width = 0;
    switch (type) {
    case R_X86_64_64:
    case R_X86_64_PC64:
      width = 8;
      break;
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX:
    case R_X86_64_32:
    case R_X86_64_32S:
      width = 4;
      break;
    default:
      return fail(where + ": type " + std::to_string(type) + " is not supported");
    }
    if (section.sh_type == SHT_NOBITS) {
      return fail(where + ": the section has no contents to patch");
    }
    if (rela.r_offset > section.sh_size || section.sh_size - rela.r_offset < width) {
      return fail(where + ": offset " + std::to_string(rela.r_offset) + " outside its section");
    }
    std::uint64_t at = offset_[target] + rela.r_offset;
    std::uint64_t place = start_ + at;
    std::uint64_t addend = static_cast<std::uint64_t>(rela.r_addend);
    std::uint64_t s = 0;
    if (!symbolAddress(symbol, s)) {
      return false;
    }
    auto overflow = [&](const char *kind) {
      return fail(where + ": " + kind + " to " + symbolName(symbol) + " does not fit in 32 bits");
    };
    switch (type) {
    case R_X86_64_64:
      write64(at, s + addend);
      return true;
    case R_X86_64_PC64:
      write64(at, s + addend - place);
      return true;
    case R_X86_64_PC32:
    case R_X86_64_PLT32: {
      auto v = static_cast<std::int64_t>(s + addend - place);
      if (!fitsSigned32(v) && stub_[symbol] != kUnmapped) {
        v = static_cast<std::int64_t>(start_ + stubs_ + stub_[symbol] * kStubSize + addend - place);
      }
      if (!fitsSigned32(v)) {
        return overflow(type == R_X86_64_PC32 ? "PC32" : "PLT32");
      }
      write32(at, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
      return true;
    }
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX: {
      auto v = static_cast<std::int64_t>(start_ + got_offset_ + got_[symbol] * 8 + addend - place);
      if (!fitsSigned32(v)) {
        return overflow("GOTPCREL");
      }
      write32(at, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
      return true;
    }
    case R_X86_64_32: {
      std::uint64_t v = s + addend;
      if (v > UINT32_MAX) {
        return overflow("R_X86_64_32");
      }
      write32(at, static_cast<std::uint32_t>(v));
      return true;
    }
    case R_X86_64_32S: {
      auto v = static_cast<std::int64_t>(s + addend);
      if (!fitsSigned32(v)) {
        return overflow("R_X86_64_32S");
      }
      write32(at, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
      return true;
    }
    default:
      return fail(where + ": type " + std::to_string(type) + " is not supported");
    }
  }

  // Code read+execute, read-only data read-only; writable data stays read+write.
  bool protect() {
    const int prot[2] = {PROT_READ | PROT_EXEC, PROT_READ};
    for (int part = 0; part < 2; ++part) {
      if (size_[part] != 0 && ::mprotect(memory_ + base_[part], size_[part], prot[part]) != 0) {
        return fail(std::string("cannot protect the loaded code: ") + std::strerror(errno));
      }
    }
    return true;
  }

  struct RelocationSection {
    std::size_t index;  // the SHT_RELA section
    std::size_t target; // the loaded section it patches
    std::vector<Elf64_Rela> relas;
  };

  ElfView elf_;
  std::string &error_;
  std::size_t symtab_ = 0;
  std::vector<Elf64_Sym> symbols_;
  std::string_view strtab_;
  std::map<std::string, std::uint64_t, std::less<>> host_;
  std::vector<RelocationSection> relocations_;
  std::vector<std::uint64_t> offset_;  // per section: its offset in the mapping, or kUnmapped
  std::map<std::size_t, int> part_of_; // loaded section -> 0 code, 1 read-only, 2 writable
  std::vector<std::uint64_t> got_;     // per symbol: its GOT slot, or kUnmapped
  std::vector<std::uint64_t> stub_;    // per symbol: its jump stub, or kUnmapped
  std::uint64_t got_count_ = 0, stub_count_ = 0;
  std::uint64_t stubs_ = 0, got_offset_ = 0; // offsets in the mapping
  std::uint64_t base_[3] = {0, 0, 0}, size_[3] = {0, 0, 0};
  Mapping mapping_;
  std::uint64_t start_ = 0; // the mapping's address
  char *memory_ = nullptr;
};

} // namespace

bool isX86_64Object(std::string_view object) {
  ElfView elf(object);
  std::string why;
  return elf.readHeader(why) && elf.header().e_machine == EM_X86_64;
}

std::optional<LoadedProgram> linkObject(std::string_view object, const runtime::Schema &schema,
                                        std::vector<PatternImage> images, std::string &error,
                                        std::vector<AggregateImage> aggregates) {
  if (!verifyObjectCode(object, schema, images, error, aggregates)) {
    return std::nullopt;
  }
  return linkVerifiedObject(object, std::move(images), error, std::move(aggregates));
}

std::optional<LoadedProgram> linkVerifiedObject(std::string_view object,
                                                std::vector<PatternImage> images,
                                                std::string &error,
                                                std::vector<AggregateImage> aggregates) {
  return Linker(object, error).run(std::move(images), std::move(aggregates));
}

} // namespace cep::compiler::jit
