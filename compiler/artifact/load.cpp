// Loading a .cepo (load.hpp). Compiled twice: into cep_loader, and with CEP_LOADER_LEAN=1 into
// cep_loader_lean, where nothing of the ORC load host is referenced (what needs it throws
// LoadError::Kind::NeedsJit instead).
#include "compiler/artifact/load.hpp"

#include "compiler/jit/object_linker.hpp"
#include "compiler/jit/verify_code.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/native/native_matcher.hpp"

#include <chrono>
#include <sodium.h>

namespace cep::compiler::artifact {

namespace {

double msSince(std::chrono::steady_clock::time_point &start) {
  auto now = std::chrono::steady_clock::now();
  double ms = std::chrono::duration<double, std::milli>(now - start).count();
  start = now;
  return ms;
}

// The artifact's object code or bitcode checked against its images (verify_code.hpp).
bool verifyCode(const Artifact &artifact, bool object_code, std::string &error) {
  if (object_code) {
    return jit::verifyObjectCode(artifact.object, artifact.schema, artifact.patterns, error,
                                 artifact.aggregates);
  }
#ifdef CEP_LOADER_LEAN
  error = "bitcode: this program does not read bitcode"; // never here: NeedsJit was thrown
  return false;
#else
  return jit::verifyBitcode(artifact.bitcode, artifact.schema, artifact.patterns, error,
                            artifact.aggregates);
#endif
}

} // namespace

std::string artifactHash(std::string_view bytes) {
  if (sodium_init() < 0) { // idempotent; 1 when already started
    throw LoadError(LoadError::Kind::Internal, "libsodium cannot be initialised");
  }
  std::array<std::uint8_t, crypto_generichash_BYTES> hash{};
  static_assert(crypto_generichash_BYTES == 32);
  crypto_generichash(hash.data(), hash.size(),
                     reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(), nullptr,
                     0);
  return hex(hash);
}

LoadedArtifact loadArtifact(std::string_view bytes, const LoadOptions &options) {
  auto start = std::chrono::steady_clock::now();
  const std::string &name = options.name;
  Artifact artifact;
  try {
    artifact = decodeArtifact(bytes, name, options.trusted.empty() ? nullptr : &options.trusted);
  } catch (const ArtifactError &e) {
    throw LoadError(LoadError::Kind::User, e.what());
  }
  LoadedArtifact out;
  out.hash = artifactHash(bytes);
  out.timings.read_ms = msSince(start);
  std::string error;
  if (!hostTarget(out.host, error)) {
    throw LoadError(LoadError::Kind::Internal, error);
  }
  out.object_code = out.host == artifact.header.target && !options.force_bitcode;
  // x86-64 object code is linked by our own linker; the rest needs the ORC load host.
  const bool linked = out.object_code && jit::isX86_64Object(artifact.object);
  out.jit = options.jit;
#ifdef CEP_LOADER_LEAN
  if (!linked) {
    std::string why = options.force_bitcode ? "compiling its bitcode was asked for"
                      : out.object_code     ? "its object code is not for x86-64"
                                            : "it was built for another CPU (" +
                                              artifact.header.target.cpu + ", this host is " +
                                              out.host.cpu + "): its bitcode must be compiled";
    throw LoadError(LoadError::Kind::NeedsJit,
                    name + ": this program loads object code only: " + why);
  }
#else
  if (!linked && !out.jit) {
    out.jit = jit::LoadHost::create(artifact.header.opt_level, error);
    if (!out.jit) {
      throw LoadError(LoadError::Kind::Internal, error);
    }
  }
#endif
  out.timings.setup_ms = msSince(start);
  // Code that does not match its images is refused like a damaged artifact.
  if (!verifyCode(artifact, out.object_code, error)) {
    throw LoadError(LoadError::Kind::User, name + ": corrupt: " + error);
  }
  out.timings.read_ms += msSince(start);
  std::size_t patterns = artifact.patterns.size();
  std::size_t aggregates = artifact.aggregates.size();
  for (const runtime::native::PatternImage &image : artifact.patterns) {
    out.pattern_names.push_back(image.name);
  }
  std::optional<jit::LoadedProgram> loaded;
  if (linked) {
    loaded = jit::linkVerifiedObject(artifact.object, std::move(artifact.patterns), error,
                                     std::move(artifact.aggregates));
  } else {
#ifndef CEP_LOADER_LEAN
    loaded =
        out.object_code
            ? out.jit->loadObject(artifact.object, artifact.schema, std::move(artifact.patterns),
                                  error, std::move(artifact.aggregates))
            : out.jit->loadBitcode(artifact.bitcode, artifact.schema, std::move(artifact.patterns),
                                   error, std::move(artifact.aggregates));
#endif
  }
  if (!loaded || loaded->code.size() != patterns || loaded->images.size() != patterns ||
      loaded->aggregates.size() != aggregates || loaded->aggregate_code.size() != aggregates) {
    throw LoadError(LoadError::Kind::Internal, name + ": " + error);
  }
  out.timings.link_ms = msSince(start);
  out.images = std::move(loaded->images);
  out.code = std::move(loaded->code);
  out.aggregates = std::move(loaded->aggregates);
  out.aggregate_code = std::move(loaded->aggregate_code);
  out.header = std::move(artifact.header);
  out.sources = std::move(artifact.sources);
  out.schema = std::make_shared<const runtime::Schema>(std::move(artifact.schema));
  return out;
}

LoadedArtifact loadArtifactFile(const std::string &path, LoadOptions options) {
  auto start = std::chrono::steady_clock::now();
  std::string bytes;
  try {
    bytes = readArtifactBytes(path);
  } catch (const ArtifactError &e) {
    throw LoadError(LoadError::Kind::User, e.what());
  }
  options.name = path;
  double read_ms = msSince(start);
  LoadedArtifact out = loadArtifact(bytes, options);
  out.timings.read_ms += read_ms;
  return out;
}

std::vector<std::unique_ptr<runtime::Matcher>>
LoadedArtifact::makeMatchers(const runtime::MatcherOptions &options) const {
  std::vector<std::unique_ptr<runtime::Matcher>> matchers;
  for (std::size_t i = 0; i < images.size(); ++i) {
    matchers.push_back(runtime::native::makeNativeMatcher(schema, images[i], code[i], options));
  }
  std::vector<std::pair<std::int32_t, std::unique_ptr<runtime::Matcher>>> operators;
  for (std::size_t i = 0; i < aggregates.size(); ++i) {
    operators.emplace_back(
        aggregates[i]->operator_index,
        runtime::native::makeNativeAggregate(schema, aggregates[i], aggregate_code[i], options));
  }
  return runtime::native::placeOperators(std::move(matchers), std::move(operators));
}

} // namespace cep::compiler::artifact
