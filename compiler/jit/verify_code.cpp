// Verification of an artifact's code sections (compiler/jit/verify_code.hpp).
#include "compiler/jit/verify_code.hpp"

#include "compiler/jit/host_symbols.hpp"
#include "runtime/native/aggregate_codec.hpp"
#include "runtime/native/image_codec.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/InstrTypes.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Object/ELF.h>
#include <llvm/Object/ELFTypes.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MathExtras.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <map>
#include <set>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cep::compiler::jit {

namespace {

using runtime::native::AggregateImage;
using runtime::native::PatternImage;
using ELFT = llvm::object::ELF64LE;
using Shdr = ELFT::Shdr;
using Sym = ELFT::Sym;

std::string message(llvm::Error e) {
  return llvm::toString(std::move(e));
}

// Kinds of symbol an image needs.
enum class Need { Step, Prefilter, KeyHash, KeyEq, Value, Test, Fingerprint };

struct Required {
  std::string symbol;
  Need need;
  std::string owner;             // "pattern `p`: ", "aggregate `a`: "
  std::uint64_t fingerprint = 0; // Need::Fingerprint: the value the image gives
};

std::vector<Required> requiredSymbols(const runtime::Schema &schema,
                                      const std::vector<PatternImage> &images,
                                      const std::vector<AggregateImage> &aggregates) {
  std::vector<Required> out;
  for (const PatternImage &p : images) {
    std::string owner = "pattern `" + p.name + "`: ";
    out.push_back({p.step_symbol, Need::Step, owner});
    out.push_back({p.prefilter_symbol, Need::Prefilter, owner});
    out.push_back({p.key_hash_symbol, Need::KeyHash, owner});
    out.push_back({p.key_eq_symbol, Need::KeyEq, owner});
    for (const auto &f : p.emit.fields) {
      out.push_back({f.symbol, Need::Value, owner});
    }
    if (p.has_timeout_emit) {
      for (const auto &f : p.timeout_emit.fields) {
        out.push_back({f.symbol, Need::Value, owner});
      }
    }
    out.push_back({runtime::native::imageFingerprintSymbol(p), Need::Fingerprint, owner,
                   runtime::native::imageFingerprint(schema, p)});
  }
  for (const AggregateImage &a : aggregates) {
    std::string owner = "aggregate `" + a.name + "`: ";
    if (!a.condition_symbol.empty()) {
      out.push_back({a.condition_symbol, Need::Test, owner});
    }
    for (const std::string &symbol : a.computed_symbols) {
      out.push_back({symbol, Need::Value, owner});
    }
    if (!a.having_symbol.empty()) {
      out.push_back({a.having_symbol, Need::Test, owner});
    }
    for (const auto &f : a.emit.fields) {
      out.push_back({f.symbol, Need::Value, owner});
    }
    out.push_back({runtime::native::aggregateFingerprintSymbol(a), Need::Fingerprint, owner,
                   runtime::native::aggregateFingerprint(schema, a)});
  }
  return out;
}

std::set<std::string, std::less<>> hostSymbolNames() {
  std::set<std::string, std::less<>> names;
  for (const auto &s : hostSymbols()) {
    names.insert(s.name);
  }
  return names;
}

std::string patternOf(const Required &r) {
  return r.owner;
}

std::uint64_t le64(const std::uint8_t *p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  }
  return v;
}

class ObjectChecker {
public:
  ObjectChecker(std::string_view bytes, const runtime::Schema &schema, std::string &error)
      : bytes_(bytes), schema_(schema), error_(error) {}

  bool run(const std::vector<PatternImage> &images, const std::vector<AggregateImage> &aggregates) {
    auto file = llvm::object::ELFFile<ELFT>::create(llvm::StringRef(bytes_.data(), bytes_.size()));
    if (!file) {
      return fail("not a 64-bit little-endian ELF file: " + message(file.takeError()));
    }
    const auto &header = file->getHeader();
    if (header.e_type != llvm::ELF::ET_REL) {
      return fail("not a relocatable object (ELF type " + std::to_string(header.e_type) + ")");
    }
    if (header.e_machine != llvm::ELF::EM_X86_64 && header.e_machine != llvm::ELF::EM_AARCH64) {
      return fail("machine " + std::to_string(header.e_machine) + " is neither x86-64 nor AArch64");
    }
    auto sections = file->sections();
    if (!sections) {
      return fail("bad section headers: " + message(sections.takeError()));
    }
    sections_ = *sections;
    machine_ = header.e_machine;
    if (!checkSections(*file) || !readSymbols(*file) || !checkRelocations(*file)) {
      return false;
    }
    return checkRequired(*file, images, aggregates);
  }

private:
  bool fail(const std::string &why) {
    error_ = "object: " + why;
    return false;
  }

  bool checkSections(const llvm::object::ELFFile<ELFT> &file) {
    for (std::size_t i = 0; i < sections_.size(); ++i) {
      const Shdr &s = sections_[i];
      if (s.sh_type != llvm::ELF::SHT_NOBITS && s.sh_type != llvm::ELF::SHT_NULL) {
        auto contents = file.getSectionContents(s);
        if (!contents) {
          return fail("section " + std::to_string(i) + ": " + message(contents.takeError()));
        }
      }
      if (s.sh_addralign > 4096 || (s.sh_addralign != 0 && !llvm::isPowerOf2_64(s.sh_addralign))) {
        return fail("section " + std::to_string(i) + ": alignment " +
                    std::to_string(s.sh_addralign) + " is not a power of two up to 4096");
      }
      if (s.sh_type == llvm::ELF::SHT_SYMTAB) {
        if (symtab_ != nullptr) {
          return fail("two symbol tables");
        }
        symtab_ = &s;
      }
    }
    if (symtab_ == nullptr) {
      return fail("no symbol table");
    }
    return true;
  }

  bool readSymbols(const llvm::object::ELFFile<ELFT> &file) {
    auto symbols = file.symbols(symtab_);
    if (!symbols) {
      return fail("bad symbol table: " + message(symbols.takeError()));
    }
    auto strtab = file.getStringTableForSymtab(*symtab_, sections_);
    if (!strtab) {
      return fail("bad symbol names: " + message(strtab.takeError()));
    }
    std::set<std::string, std::less<>> host = hostSymbolNames();
    symbols_ = *symbols;
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
      const Sym &s = symbols_[i];
      auto name = s.getName(*strtab);
      if (!name) {
        return fail("symbol " + std::to_string(i) + ": " + message(name.takeError()));
      }
      std::string n = name->str();
      if (s.st_shndx == llvm::ELF::SHN_UNDEF) {
        if (i != 0 && !host.count(n) && n != "_GLOBAL_OFFSET_TABLE_") {
          return fail("undefined symbol `" + n + "` is not a cep host function");
        }
        continue;
      }
      if (s.st_shndx == llvm::ELF::SHN_ABS || s.st_shndx == llvm::ELF::SHN_COMMON) {
        if (s.getType() == llvm::ELF::STT_FUNC) {
          return fail("function symbol `" + n + "` outside every section");
        }
      } else if (s.st_shndx >= sections_.size()) {
        return fail("symbol `" + n + "`: section " + std::to_string(s.st_shndx) +
                    " out of range (" + std::to_string(sections_.size()) + " sections)");
      } else {
        const Shdr &in = sections_[s.st_shndx];
        if (s.getType() != llvm::ELF::STT_SECTION &&
            (s.st_value > in.sh_size || s.st_size > in.sh_size - s.st_value)) {
          return fail("symbol `" + n + "` lies outside its section");
        }
      }
      if (s.getBinding() == llvm::ELF::STB_GLOBAL && !n.empty()) {
        defined_.emplace(n, i);
      }
    }
    return true;
  }

  bool checkRelocations(const llvm::object::ELFFile<ELFT> &file) {
    for (std::size_t i = 0; i < sections_.size(); ++i) {
      const Shdr &s = sections_[i];
      if (s.sh_type != llvm::ELF::SHT_RELA && s.sh_type != llvm::ELF::SHT_REL) {
        continue;
      }
      const std::string where = "relocation section " + std::to_string(i);
      if (s.sh_link >= sections_.size() || &sections_[s.sh_link] != symtab_) {
        return fail(where + " does not use the symbol table");
      }
      if (s.sh_info == 0 || s.sh_info >= sections_.size()) {
        return fail(where + ": target section " + std::to_string(s.sh_info) + " out of range");
      }
      std::uint64_t target_size = sections_[s.sh_info].sh_size;
      auto check = [&](std::uint64_t offset, std::uint32_t symbol, std::uint32_t type) {
        // The bytes the fixup writes: 8 for x86-64's 64-bit kinds (64, PC64, GOTOFF64, GOTPC64),
        // else at most 4 (AArch64 patches one 4-byte instruction or data word, or 8 for ABS64).
        std::uint64_t width = 4;
        if ((machine_ == llvm::ELF::EM_X86_64 && (type == 1 || (type >= 24 && type <= 27))) ||
            (machine_ == llvm::ELF::EM_AARCH64 && type == 257)) {
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
      if (s.sh_type == llvm::ELF::SHT_RELA) {
        auto relas = file.relas(s);
        if (!relas) {
          return fail(where + ": " + message(relas.takeError()));
        }
        for (const auto &r : *relas) {
          if (!check(r.r_offset, r.getSymbol(false), r.getType(false))) {
            return false;
          }
        }
      } else {
        auto rels = file.rels(s);
        if (!rels) {
          return fail(where + ": " + message(rels.takeError()));
        }
        for (const auto &r : *rels) {
          if (!check(r.r_offset, r.getSymbol(false), r.getType(false))) {
            return false;
          }
        }
      }
    }
    return true;
  }

  bool checkRequired(const llvm::object::ELFFile<ELFT> &file,
                     const std::vector<PatternImage> &images,
                     const std::vector<AggregateImage> &aggregates) {
    for (const Required &r : requiredSymbols(schema_, images, aggregates)) {
      auto found = defined_.find(r.symbol);
      if (found == defined_.end()) {
        return fail(patternOf(r) + "symbol `" + r.symbol + "` is not defined");
      }
      const Sym &s = symbols_[found->second];
      if (r.need != Need::Fingerprint) {
        if (s.getType() != llvm::ELF::STT_FUNC || s.st_shndx >= sections_.size() ||
            !(sections_[s.st_shndx].sh_flags & llvm::ELF::SHF_EXECINSTR)) {
          return fail(patternOf(r) + "symbol `" + r.symbol + "` is not a function");
        }
        continue;
      }
      if (s.getType() != llvm::ELF::STT_OBJECT || s.st_size != 8 ||
          s.st_shndx >= sections_.size()) {
        return fail(patternOf(r) + "fingerprint `" + r.symbol + "` is not 8 bytes of data");
      }
      const Shdr &in = sections_[s.st_shndx];
      std::uint64_t value = 0;
      if (in.sh_type != llvm::ELF::SHT_NOBITS) {
        auto contents = file.getSectionContents(in);
        if (!contents) {
          return fail(patternOf(r) + message(contents.takeError()));
        }
        value = le64(contents->data() + s.st_value); // inside: readSymbols checked
      }
      if (value != r.fingerprint) {
        return fail(patternOf(r) + "the image differs from the one its code was compiled with " +
                    "(fingerprint mismatch)");
      }
    }
    return true;
  }

  std::string_view bytes_;
  const runtime::Schema &schema_;
  std::string &error_;
  llvm::ArrayRef<Shdr> sections_;
  llvm::ArrayRef<Sym> symbols_;
  const Shdr *symtab_ = nullptr;
  std::uint16_t machine_ = 0;
  std::map<std::string, std::size_t, std::less<>> defined_;
};

llvm::FunctionType *abiType(llvm::LLVMContext &c, Need need) {
  auto *ptr = llvm::PointerType::get(c, 0);
  auto *i8 = llvm::Type::getInt8Ty(c);
  auto *i32 = llvm::Type::getInt32Ty(c);
  auto *i64 = llvm::Type::getInt64Ty(c);
  switch (need) {
  case Need::Step: // CepStepFn
    return llvm::FunctionType::get(i32, {ptr, ptr, i32, i32, ptr, ptr}, false);
  case Need::Prefilter: // CepPrefilterFn
    return llvm::FunctionType::get(i8, {ptr}, false);
  case Need::KeyHash: // CepKeyHashFn
    return llvm::FunctionType::get(i64, {ptr}, false);
  case Need::KeyEq: // CepKeyEqFn
  case Need::Test:  // CepAggTestFn
    return llvm::FunctionType::get(i8, {ptr, ptr}, false);
  case Need::Value: // CepValueFn
    return llvm::FunctionType::get(llvm::Type::getVoidTy(c), {ptr, ptr, ptr}, false);
  case Need::Fingerprint:
    break;
  }
  return nullptr;
}

} // namespace

bool verifyObjectCode(std::string_view object, const runtime::Schema &schema,
                      const std::vector<PatternImage> &images, std::string &error,
                      const std::vector<AggregateImage> &aggregates) {
  return ObjectChecker(object, schema, error).run(images, aggregates);
}

namespace {

// LLVM's bitcode reader is not hardened: some malformed inputs make it crash or allocate without
// bound (found by artifact_load_fuzz). So the bitcode is first parsed in a child process: only
// when that child reads it and exits normally does this process parse it.
//
// The child is a fresh process (posix_spawn of /proc/self/exe, the bitcode on its stdin from a
// memfd) when the executable's main() handles kBitcodeCheckEnv (runBitcodeCheckChild), which
// it says with useFreshProcessForBitcodeCheck(): `cep` and the unit tests do. A fork() that parses
// without exec is only safe in a process with one thread (after fork only the calling thread
// exists, and a lock another thread held, in malloc, LLVM or a sanitizer, stays held forever),
// so it is the fall-back for executables that did not opt in (the single-threaded fuzzers).
constexpr int kChildParseError = 42; // any other end of the child is a crash (sanitizers exit 1)
constexpr const char *kBitcodeCheckEnv = "CEP_INTERNAL_BITCODE_CHECK";
std::atomic<bool> fresh_process_check{false};

// The child's work: parse and say whether LLVM could. Returns the exit code.
int parseBitcodeHere(std::string_view bitcode) {
  llvm::LLVMContext context;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()),
                                                 "cep.bitcode", false);
  auto module = llvm::parseBitcodeFile(buffer->getMemBufferRef(), context);
  bool ok = static_cast<bool>(module);
  if (!ok) {
    llvm::consumeError(module.takeError());
  }
  return ok ? 0 : kChildParseError;
}

bool childEndedNormally(pid_t child, std::string &error) {
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      error = std::string("bitcode: cannot read it safely: ") + std::strerror(errno);
      return false;
    }
  }
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == kChildParseError)) {
    return true; // a parse error is reported by the parse in this process
  }
  error = "bitcode: the LLVM bitcode reader crashed on it (" +
          (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                               : "exit " + std::to_string(WEXITSTATUS(status))) +
          ")";
  return false;
}

bool bitcodeParsesInForkedChild(std::string_view bitcode, std::string &error) {
  pid_t child = ::fork();
  if (child < 0) {
    error = std::string("bitcode: cannot fork to read it safely: ") + std::strerror(errno);
    return false;
  }
  if (child == 0) {
    ::_exit(parseBitcodeHere(bitcode));
  }
  return childEndedNormally(child, error);
}

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

bool bitcodeParsesInFreshProcess(std::string_view bitcode, std::string &error) {
  auto fail = [&](const char *what) {
    error = std::string("bitcode: cannot start a process to read it safely (") + what +
            "): " + std::strerror(errno);
    return false;
  };
  Fd input{::memfd_create("cep-bitcode", MFD_CLOEXEC)};
  if (input.fd < 0) {
    return fail("memfd_create");
  }
  for (std::size_t done = 0; done < bitcode.size();) {
    ssize_t n = ::write(input.fd, bitcode.data() + done, bitcode.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::lseek(input.fd, 0, SEEK_SET) != 0) {
    return fail("lseek");
  }
  posix_spawn_file_actions_t actions;
  if (::posix_spawn_file_actions_init(&actions) != 0) {
    return fail("posix_spawn_file_actions_init");
  }
  ::posix_spawn_file_actions_adddup2(&actions, input.fd, STDIN_FILENO);
  // A crash report of the child would only confuse: the parent says what happened.
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> env_text;
  for (char **e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, kBitcodeCheckEnv, std::strlen(kBitcodeCheckEnv)) != 0) {
      env_text.emplace_back(*e);
    }
  }
  env_text.push_back(std::string(kBitcodeCheckEnv) + "=1");
  std::vector<char *> envp;
  for (std::string &e : env_text) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  char name[] = "cep-bitcode-check";
  char *argv[] = {name, nullptr};
  pid_t child = -1;
  int rc = ::posix_spawn(&child, "/proc/self/exe", &actions, nullptr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    return fail("posix_spawn");
  }
  return childEndedNormally(child, error);
}

bool bitcodeParsesInChild(std::string_view bitcode, std::string &error) {
  return fresh_process_check.load(std::memory_order_relaxed)
             ? bitcodeParsesInFreshProcess(bitcode, error)
             : bitcodeParsesInForkedChild(bitcode, error);
}

} // namespace

bool verifyBitcode(std::string_view bitcode, const runtime::Schema &schema,
                   const std::vector<PatternImage> &images, std::string &error,
                   const std::vector<AggregateImage> &aggregates) {
  if (!bitcodeParsesInChild(bitcode, error)) {
    return false;
  }
  llvm::LLVMContext context;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()),
                                                 "cep.bitcode", false);
  auto module = llvm::parseBitcodeFile(buffer->getMemBufferRef(), context);
  if (!module) {
    error = "bitcode: cannot read it: " + message(module.takeError());
    return false;
  }
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(**module, &os)) {
    os.flush();
    if (problems.size() > 500) {
      problems.resize(500);
      problems += "...";
    }
    while (!problems.empty() && problems.back() == '\n') {
      problems.pop_back();
    }
    error = "bitcode: fails the LLVM verifier: " + problems;
    return false;
  }
  // What cep's code generator never makes: inline assembly, aliases, ifuncs.
  if (!(*module)->getModuleInlineAsm().empty() || !(*module)->alias_empty() ||
      !(*module)->ifunc_empty()) {
    error = "bitcode: module-level assembly, aliases or ifuncs, which cep never generates";
    return false;
  }
  std::set<std::string, std::less<>> host = hostSymbolNames();
  for (const llvm::Function &f : (*module)->functions()) {
    if (f.isDeclaration() && !f.isIntrinsic() && !host.count(f.getName())) {
      error = "bitcode: declared function `" + f.getName().str() + "` is not a cep host function";
      return false;
    }
    for (const llvm::BasicBlock &block : f) {
      for (const llvm::Instruction &i : block) {
        if (const auto *call = llvm::dyn_cast<llvm::CallBase>(&i); call && call->isInlineAsm()) {
          error = "bitcode: function `" + f.getName().str() +
                  "` uses inline assembly, which cep never generates";
          return false;
        }
      }
    }
  }
  for (const Required &r : requiredSymbols(schema, images, aggregates)) {
    if (r.need == Need::Fingerprint) {
      const llvm::GlobalVariable *g = (*module)->getNamedGlobal(r.symbol);
      const auto *value = g && g->isConstant() && g->hasInitializer()
                              ? llvm::dyn_cast<llvm::ConstantInt>(g->getInitializer())
                              : nullptr;
      if (value == nullptr || value->getBitWidth() != 64) {
        error = "bitcode: " + patternOf(r) + "fingerprint `" + r.symbol +
                "` is not a constant i64 global";
        return false;
      }
      if (value->getZExtValue() != r.fingerprint) {
        error = "bitcode: " + patternOf(r) +
                "the image differs from the one its code was compiled with (fingerprint mismatch)";
        return false;
      }
      continue;
    }
    const llvm::Function *f = (*module)->getFunction(r.symbol);
    if (f == nullptr || f->isDeclaration()) {
      error = "bitcode: " + patternOf(r) + "function `" + r.symbol + "` is not defined";
      return false;
    }
    if (f->getFunctionType() != abiType(context, r.need) || f->hasLocalLinkage()) {
      error = "bitcode: " + patternOf(r) + "function `" + r.symbol +
              "` does not have its exported C ABI type";
      return false;
    }
  }
  return true;
}

void useFreshProcessForBitcodeCheck() {
  fresh_process_check.store(true, std::memory_order_relaxed);
}

int runBitcodeCheckChild() {
  const char *flag = std::getenv(kBitcodeCheckEnv);
  if (flag == nullptr || std::strcmp(flag, "1") != 0) {
    return -1;
  }
  std::string bitcode;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return 3;
    }
    if (n == 0) {
      break;
    }
    bitcode.append(chunk, static_cast<std::size_t>(n));
  }
  return parseBitcodeHere(bitcode);
}

} // namespace cep::compiler::jit
