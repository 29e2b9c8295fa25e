// Verification of an artifact's bitcode (compiler/jit/verify_code.hpp verifyBitcode); the object
// half, LLVM-free, is verify_object.cpp.
#include "compiler/jit/verify_code.hpp"

#include "compiler/jit/required_symbols.hpp"

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
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <set>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cep::compiler::jit {

namespace {

using runtime::native::AggregateImage;
using runtime::native::PatternImage;

std::string message(llvm::Error e) {
  return llvm::toString(std::move(e));
}

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
        error =
            "bitcode: " + r.owner + "fingerprint `" + r.symbol + "` is not a constant i64 global";
        return false;
      }
      if (value->getZExtValue() != r.fingerprint) {
        error = "bitcode: " + r.owner +
                "the image differs from the one its code was compiled with (fingerprint mismatch)";
        return false;
      }
      continue;
    }
    const llvm::Function *f = (*module)->getFunction(r.symbol);
    if (f == nullptr || f->isDeclaration()) {
      error = "bitcode: " + r.owner + "function `" + r.symbol + "` is not defined";
      return false;
    }
    if (f->getFunctionType() != abiType(context, r.need) || f->hasLocalLinkage()) {
      error = "bitcode: " + r.owner + "function `" + r.symbol +
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
