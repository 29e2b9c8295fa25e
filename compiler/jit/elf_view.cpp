// The bounds-checked ELF reader (elf_view.hpp).
#include "compiler/jit/elf_view.hpp"

#include <cstring>

namespace cep::compiler::jit {

bool ElfView::readHeader(std::string &why) {
  if (bytes_.size() < sizeof(Elf64_Ehdr)) {
    why = "the size (" + std::to_string(bytes_.size()) + ") is smaller than an ELF header (" +
          std::to_string(sizeof(Elf64_Ehdr)) + ")";
    return false;
  }
  std::memcpy(&header_, bytes_.data(), sizeof header_);
  if (std::memcmp(header_.e_ident, ELFMAG, SELFMAG) != 0) {
    why = "no ELF magic";
    return false;
  }
  if (header_.e_ident[EI_CLASS] != ELFCLASS64 || header_.e_ident[EI_DATA] != ELFDATA2LSB) {
    why = "class " + std::to_string(header_.e_ident[EI_CLASS]) + ", data encoding " +
          std::to_string(header_.e_ident[EI_DATA]);
    return false;
  }
  return true;
}

bool ElfView::readSections(std::string &why) {
  sections_.clear();
  if (header_.e_shoff == 0) {
    return true; // no section header table
  }
  if (header_.e_shnum == 0) {
    why = "extended section numbering (e_shnum 0) is not supported";
    return false;
  }
  if (header_.e_shentsize != sizeof(Elf64_Shdr)) {
    why = "e_shentsize " + std::to_string(header_.e_shentsize) + ", not " +
          std::to_string(sizeof(Elf64_Shdr));
    return false;
  }
  std::uint64_t size = std::uint64_t{header_.e_shnum} * sizeof(Elf64_Shdr);
  if (header_.e_shoff > bytes_.size() || bytes_.size() - header_.e_shoff < size) {
    why = "the section header table (offset " + std::to_string(header_.e_shoff) + ", " +
          std::to_string(header_.e_shnum) + " entries) runs past the end of the file";
    return false;
  }
  sections_.resize(header_.e_shnum);
  std::memcpy(sections_.data(), bytes_.data() + header_.e_shoff, size);
  return true;
}

bool ElfView::contents(std::size_t index, std::string_view &out, std::string &why) const {
  if (index >= sections_.size()) {
    why = "section " + std::to_string(index) + " out of range";
    return false;
  }
  const Elf64_Shdr &s = sections_[index];
  if (s.sh_type == SHT_NOBITS) {
    out = {};
    return true;
  }
  if (s.sh_offset > bytes_.size() || bytes_.size() - s.sh_offset < s.sh_size) {
    why = "section contents (offset " + std::to_string(s.sh_offset) + ", size " +
          std::to_string(s.sh_size) + ") run past the end of the file (" +
          std::to_string(bytes_.size()) + " bytes)";
    return false;
  }
  out = bytes_.substr(s.sh_offset, s.sh_size);
  return true;
}

template <typename Entry>
bool ElfView::table(std::size_t index, std::vector<Entry> &out, std::string &why) const {
  std::string_view data;
  if (!contents(index, data, why)) {
    return false;
  }
  const Elf64_Shdr &s = sections_[index];
  if (s.sh_entsize != sizeof(Entry)) {
    why = "entry size " + std::to_string(s.sh_entsize) + ", not " + std::to_string(sizeof(Entry));
    return false;
  }
  if (data.size() % sizeof(Entry) != 0) {
    why = "size " + std::to_string(data.size()) + " is not a multiple of the entry size " +
          std::to_string(sizeof(Entry));
    return false;
  }
  out.resize(data.size() / sizeof(Entry));
  if (!out.empty()) {
    std::memcpy(out.data(), data.data(), data.size());
  }
  return true;
}

bool ElfView::symbols(std::size_t symtab, std::vector<Elf64_Sym> &out, std::string &why) const {
  return table(symtab, out, why);
}

bool ElfView::relas(std::size_t index, std::vector<Elf64_Rela> &out, std::string &why) const {
  return table(index, out, why);
}

bool ElfView::rels(std::size_t index, std::vector<Elf64_Rel> &out, std::string &why) const {
  return table(index, out, why);
}

bool ElfView::stringTableFor(std::size_t symtab, std::string_view &out, std::string &why) const {
  if (symtab >= sections_.size()) {
    why = "section " + std::to_string(symtab) + " out of range";
    return false;
  }
  std::size_t link = sections_[symtab].sh_link;
  if (link == 0 || link >= sections_.size()) {
    why = "string table section " + std::to_string(link) + " out of range";
    return false;
  }
  if (sections_[link].sh_type != SHT_STRTAB) {
    why = "section " + std::to_string(link) + " is not a string table";
    return false;
  }
  if (!contents(link, out, why)) {
    return false;
  }
  if (out.empty() || out.back() != '\0') {
    why = "string table section " + std::to_string(link) + " is empty or not NUL-terminated";
    return false;
  }
  return true;
}

bool ElfView::stringAt(std::string_view table, std::uint64_t offset, std::string_view &out) {
  if (offset >= table.size()) {
    return false;
  }
  std::size_t end = table.find('\0', offset);
  if (end == std::string_view::npos) {
    return false;
  }
  out = table.substr(offset, end - offset);
  return true;
}

std::string ElfView::sectionName(std::size_t index) const {
  std::string fallback = "section " + std::to_string(index);
  std::size_t names = header_.e_shstrndx;
  if (index >= sections_.size() || names == SHN_UNDEF || names >= sections_.size() ||
      sections_[names].sh_type != SHT_STRTAB) {
    return fallback;
  }
  std::string_view table, name;
  std::string why;
  if (!contents(names, table, why) || table.empty() || table.back() != '\0' ||
      !stringAt(table, sections_[index].sh_name, name) || name.empty()) {
    return fallback;
  }
  return std::string(name);
}

} // namespace cep::compiler::jit
