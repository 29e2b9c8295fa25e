// The artifact load path that artifact_load_fuzz and its regression replay
// (tests/unit/artifact_fuzz_regressions_test.cpp) share: take bytes meant as a .cepo, recompute
// every section checksum so edits get past them, then parse and verify (cepo.hpp, verify.hpp),
// verify the code (compiler/jit/verify_code.hpp) and load it (x86-64 object code with our own
// linker, compiler/jit/object_linker.hpp, as `cep run` does; bitcode into the Jit). When all of
// that accepts and the code sections are the seed's, run the loaded matchers over a small fixed
// event stream.
// Refusals (ArtifactError, a false verifier, a failed load) are fine; anything else escaping,
// a crash or a sanitizer report is a bug.
#pragma once

#include "compiler/artifact/aot.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/jit/jit.hpp"
#include "compiler/jit/object_linker.hpp"
#include "compiler/jit/verify_code.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "lang/frontend.hpp"
#include "runtime/engine/run_snapshot.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/native/native_matcher.hpp"

#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cep::fuzz {

// The seed: tests/fuzz/artifact_seed.cep compiled as `cep compile` does (header aside).
struct ArtifactSeed {
  std::string bytes; // the whole artifact
  std::string object, bitcode;
};

inline ArtifactSeed compileArtifactSeed(const std::string &path) {
  lang::SourceManager sources;
  lang::DiagnosticEngine diags(sources);
  lang::Frontend frontend = lang::loadProgram({path}, sources, diags);
  if (diags.hasErrors()) {
    std::ostringstream os;
    diags.render(os, false);
    throw std::runtime_error("the artifact seed does not compile:\n" + os.str());
  }
  const lang::typed::Program &program = *frontend.program;
  compiler::artifact::Artifact a;
  a.header.cep_version = "fuzz";
  a.header.sources = {"artifact_seed.cep"};
  a.schema = compiler::schemaFromProgram(program);
  auto passes = compiler::passes::PassManager::standard();
  std::vector<compiler::nfa::Nfa> nfas;
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    nfas.push_back(compiler::lowerPattern(program, static_cast<std::int32_t>(i)));
    passes.run(nfas.back());
  }
  std::string error;
  if (!compiler::artifact::compileProgram(program, nfas, 2, a, error)) {
    throw std::runtime_error("the artifact seed does not compile: " + error);
  }
  return {compiler::artifact::encodeArtifact(a), a.object, a.bitcode};
}

// Rewrites the checksum of every section whose framing is intact (cepo.hpp layout).
inline void fixArtifactChecksums(std::string &bytes) {
  auto le64 = [&bytes](std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[at + i])) << (8 * i);
    }
    return v;
  };
  std::size_t pos = 12; // magic, format, ABI
  while (bytes.size() >= pos && bytes.size() - pos >= 20) {
    std::uint64_t size = le64(pos + 4);
    if (size > bytes.size() - pos - 20) {
      return;
    }
    std::uint64_t sum =
        runtime::runSnapshotChecksum(std::string_view(bytes).substr(pos + 20, size));
    for (int i = 0; i < 8; ++i) {
      bytes[pos + 12 + i] = static_cast<char>(sum >> (8 * i));
    }
    pos += 20 + static_cast<std::size_t>(size);
  }
}

// A small stream of artifact_seed.cep's event types; records that do not fit a mutated schema
// are rejected by the decoder, as in a run.
inline constexpr const char *kArtifactFuzzEvents[] = {
    R"({"@type":"Payment","card":"c1","amount":0.5,"country":"FR","n":1,"ok":true,"ts":1000})",
    R"({"@type":"Login","user":"u1","ts":1100})",
    R"({"@type":"Payment","card":"c1","amount":0.25,"country":"FR","n":2,"ok":false,"ts":1200})",
    R"({"@type":"Payment","card":"c2","amount":0.75,"country":"DE","n":3,"ok":true,"ts":1300})",
    R"({"@type":"Login","user":"u2","ts":1400})",
    R"({"@type":"Payment","card":"c1","amount":900.0,"country":"US","n":4,"ok":true,"ts":1500})",
    R"({"@type":"Login","user":"u3","ts":3000})",
    R"({"@type":"Payment","card":"c2","amount":0.1,"country":"DE","n":5,"ok":false,"ts":3100})",
    R"({"@type":"Payment","card":"c2","amount":600.0,"country":"IT","n":6,"ok":true,"ts":3200})",
    R"({"@type":"Login","user":"u4","ts":3300})",
};

enum class ArtifactOutcome { Refused, Loaded, Ran };

// One input. `reason` gets the refusal; the number of matches found goes to `matches`.
inline ArtifactOutcome runArtifactInput(std::string bytes, const ArtifactSeed &seed,
                                        compiler::jit::Jit &jit, std::string &reason,
                                        std::size_t &matches) {
  fixArtifactChecksums(bytes);
  compiler::artifact::Artifact a;
  try {
    a = compiler::artifact::decodeArtifact(bytes, "fuzz.cepo");
  } catch (const compiler::artifact::ArtifactError &e) {
    reason = e.what();
    return ArtifactOutcome::Refused;
  }
  bool same_code = a.object == seed.object && a.bitcode == seed.bitcode;
  // Changed code is loaded from the section that changed; the seed's, from both in turn.
  bool object = a.object != seed.object ||
                (a.bitcode == seed.bitcode && runtime::runSnapshotChecksum(bytes) % 2 == 0);
  std::optional<compiler::jit::LoadedProgram> loaded =
      !object ? jit.loadBitcode(a.bitcode, a.schema, a.patterns, reason)
      : compiler::jit::isX86_64Object(a.object)
          ? compiler::jit::linkObject(a.object, a.schema, a.patterns, reason)
          : jit.loadObject(a.object, a.schema, a.patterns, reason);
  if (!loaded) {
    return ArtifactOutcome::Refused;
  }
  if (!same_code) {
    return ArtifactOutcome::Loaded; // code that is not ours is never run
  }
  auto schema = std::make_shared<const runtime::Schema>(a.schema);
  std::vector<std::unique_ptr<runtime::Matcher>> matchers;
  for (std::size_t i = 0; i < loaded->images.size(); ++i) {
    matchers.push_back(runtime::native::makeNativeMatcher(schema, loaded->images[i],
                                                          std::move(loaded->code[i]), {}));
  }
  runtime::JsonlDecoder decoder(*schema);
  std::vector<runtime::MatchOutput> out;
  std::uint64_t seq = 0;
  for (const char *record : kArtifactFuzzEvents) {
    runtime::RecordContext context;
    context.line = ++seq;
    context.seq = seq;
    runtime::DecodeResult result = decoder.decodeCopy(record, context);
    if (result.status != runtime::DecodeStatus::Event) {
      continue;
    }
    for (auto &m : matchers) {
      m->advanceTime(result.event->time, out);
      m->onEvent(result.event, out);
    }
  }
  for (auto &m : matchers) {
    m->finish(out);
  }
  matches = out.size();
  return ArtifactOutcome::Ran;
}

} // namespace cep::fuzz
