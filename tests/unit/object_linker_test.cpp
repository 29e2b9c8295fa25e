// Our x86-64 object linker (compiler/jit/object_linker.hpp, tag [objlink]): real objects
// compiled in this process are linked and run, with the same results as ORC's loadObject on the
// same bytes (the fraud example's patterns; aggregates calling string host functions); hostile
// objects, made by editing bytes of a real one, are refused with the reason and never crash the
// linker (truncated, a relocation outside its section, an unsupported type, a symbol index out of
// range, a PC32 that overflows, random damage). The loader takes x86-64 object code through it
// (no load host made).
#include "compiler/artifact/load.hpp"
#include "compiler/driver/pipeline.hpp"
#include "compiler/jit/load_host.hpp"
#include "compiler/jit/object_linker.hpp"
#include "compiler/jit/verify_code.hpp"
#include "driver_fixture_test.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "tests/loader/run_matchers.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <random>

namespace {

namespace artifact = cep::compiler::artifact;
namespace driver = cep::compiler::driver;
namespace jit = cep::compiler::jit;
namespace runtime = cep::runtime;
using Catch::Matchers::Contains;
using cep::test::TempDir;

// `files` compiled in this process as `cep compile` does.
artifact::Artifact compileFiles(const std::vector<std::string> &files) {
  driver::Pipeline pipeline;
  REQUIRE(pipeline.check(files));
  artifact::Artifact out;
  std::string error;
  INFO(error);
  REQUIRE(pipeline.compileArtifact({2, "test"}, out, error));
  return out;
}

// A LoadedArtifact around a loaded program, for its makeMatchers.
artifact::LoadedArtifact asLoaded(const artifact::Artifact &a, jit::LoadedProgram program) {
  artifact::LoadedArtifact out;
  out.schema = std::make_shared<const runtime::Schema>(a.schema);
  out.images = std::move(program.images);
  out.code = std::move(program.code);
  out.aggregates = std::move(program.aggregates);
  out.aggregate_code = std::move(program.aggregate_code);
  return out;
}

// What the loaded program writes for the records of the file `events`, as `cep run` writes it.
std::string runFile(const artifact::LoadedArtifact &loaded, const std::string &events,
                    std::int64_t max_delay_ms) {
  return cep::test::runMatchers(*loaded.schema, loaded.makeMatchers({}), events, max_delay_ms);
}

// The program linked by our linker and loaded by ORC, run on `events`: both outputs.
std::pair<std::string, std::string> bothWays(const artifact::Artifact &a, const std::string &events,
                                             std::int64_t max_delay_ms) {
  std::string error;
  auto linked = jit::linkObject(a.object, a.schema, a.patterns, error, a.aggregates);
  INFO(error);
  REQUIRE(linked);
  std::shared_ptr<jit::LoadHost> host = jit::LoadHost::create(2, error);
  REQUIRE(host);
  auto orc = host->loadObject(a.object, a.schema, a.patterns, error, a.aggregates);
  REQUIRE(orc);
  return {runFile(asLoaded(a, std::move(*linked)), events, max_delay_ms),
          runFile(asLoaded(a, std::move(*orc)), events, max_delay_ms)};
}

// The section headers of an ELF object, and where in the bytes each lives.
struct Sections {
  std::vector<Elf64_Shdr> headers;
  std::vector<std::string> names;
  std::size_t at = 0; // e_shoff
};

Sections sectionsOf(const std::string &object) {
  Elf64_Ehdr header;
  REQUIRE(object.size() >= sizeof header);
  std::memcpy(&header, object.data(), sizeof header);
  Sections out;
  out.at = header.e_shoff;
  out.headers.resize(header.e_shnum);
  REQUIRE(header.e_shoff + header.e_shnum * sizeof(Elf64_Shdr) <= object.size());
  std::memcpy(out.headers.data(), object.data() + header.e_shoff,
              header.e_shnum * sizeof(Elf64_Shdr));
  const Elf64_Shdr &names = out.headers.at(header.e_shstrndx);
  for (const Elf64_Shdr &s : out.headers) {
    out.names.emplace_back(object.data() + names.sh_offset + s.sh_name);
  }
  return out;
}

// The byte offset of relocation `n` of section `name` (an SHT_RELA section) in `object`.
std::size_t relaAt(const std::string &object, const std::string &name, std::size_t n = 0) {
  Sections s = sectionsOf(object);
  for (std::size_t i = 0; i < s.headers.size(); ++i) {
    if (s.names[i] == name) {
      REQUIRE(s.headers[i].sh_type == SHT_RELA);
      REQUIRE((n + 1) * sizeof(Elf64_Rela) <= s.headers[i].sh_size);
      return s.headers[i].sh_offset + n * sizeof(Elf64_Rela);
    }
  }
  FAIL("no section " << name);
  return 0;
}

Elf64_Rela readRela(const std::string &object, std::size_t at) {
  Elf64_Rela r;
  std::memcpy(&r, object.data() + at, sizeof r);
  return r;
}

void writeRela(std::string &object, std::size_t at, const Elf64_Rela &r) {
  std::memcpy(object.data() + at, &r, sizeof r);
}

std::string linkError(const artifact::Artifact &a, const std::string &object) {
  std::string error;
  auto linked = jit::linkVerifiedObject(object, a.patterns, error, a.aggregates);
  return linked ? "(linked)" : error;
}

std::string aggregateRules() {
  return "event E { k: string, shop: string?, x: int, f: float?, ts: time }\n"
         "pattern p partition by k { a: E(x > 100 and x in [101, 102, 103, 104, 105, 106, 107, "
         "108, 109, 110, 111, 112, 113, 114, 115, 116, 117]) }\n"
         "emit P { k: a.k, s: upper(a.k) }\n"
         "aggregate agg partition by k window hopping 6s every 2s { e: E(x > 0) }\n"
         "having count(e) >= 2 and (max(e.f) is null or max(e.f) > 0.5)\n"
         "emit A { n: count(e), total: sum(e.x * 2), mean: avg(e.f), top: max(upper(e.shop)),\n"
         "         low: min(e.f), shops: count_distinct(lower(e.shop)), last: last(e).shop,\n"
         "         r: round(sum(e.x) / 3.0), label: \"w\" + \"x\" }\n";
}

std::string aggregateEvents() {
  std::string out;
  const char *shops[] = {"\"a\"", "\"B\"", "null", "\"b\""};
  for (int i = 0; i < 60; ++i) {
    out += "{\"k\":\"k" + std::to_string(i % 3) + "\",\"shop\":" + shops[i % 4] +
           ",\"x\":" + std::to_string((i * 7) % 13 + (i % 9 == 0 ? 105 : 0)) +
           ",\"f\":" + (i % 5 == 0 ? std::string("null") : std::to_string((i % 7) * 0.25)) +
           ",\"ts\":" + std::to_string(i * 700 + (i % 4) * 100) + "}\n";
  }
  return out;
}

} // namespace

TEST_CASE("linked objects run like ORC's: the fraud example", "[objlink]") {
  std::vector<std::string> files;
  for (const auto &entry : std::filesystem::directory_iterator(CEP_SOURCE_DIR "/examples/fraud")) {
    if (entry.path().extension() == ".cep") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  artifact::Artifact a = compileFiles(files);
  REQUIRE(jit::isX86_64Object(a.object));
  auto [linked, orc] = bothWays(a, CEP_SOURCE_DIR "/examples/fraud/events.jsonl", 2000);
  CHECK(std::count(linked.begin(), linked.end(), '\n') > 10);
  CHECK(linked == orc);
}

TEST_CASE("linked objects run like ORC's: aggregates and host functions", "[objlink]") {
  TempDir dir;
  artifact::Artifact a = compileFiles({dir.write("rules.cep", aggregateRules())});
  REQUIRE(a.aggregates.size() == 1);
  std::string events = dir.write("events.jsonl", aggregateEvents());
  auto [linked, orc] = bothWays(a, events, 0);
  CHECK(linked.find("\"A\"") != std::string::npos);
  CHECK(linked.find("\"P\"") != std::string::npos);
  CHECK(linked == orc);
}

TEST_CASE("the loader links x86-64 object code itself and unmaps it with its last user",
          "[objlink]") {
  TempDir dir;
  artifact::Artifact a = compileFiles({dir.write("rules.cep", cep::test::raiseRules())});
  std::string bytes = artifact::encodeArtifact(a);
  auto events = cep::test::decodeEvents(dir.write("e.jsonl", cep::test::raiseEvents(3)), a.schema);
  std::vector<std::unique_ptr<runtime::Matcher>> kept;
  {
    artifact::LoadedArtifact loaded = artifact::loadArtifact(bytes, {});
    CHECK(loaded.object_code);
    CHECK(loaded.jit == nullptr); // no load host was needed
    kept = loaded.makeMatchers({});
  } // the matchers keep the mapping
  CHECK(cep::test::runMatchers(kept, events).size() == 3);
  for (int i = 0; i < 50; ++i) { // loads and unloads do not leak mappings
    artifact::LoadedArtifact again = artifact::loadArtifact(bytes, {});
    CHECK(cep::test::runMatchers(again.makeMatchers({}), events).size() == 3);
  }
}

TEST_CASE("hostile objects are refused with the reason", "[objlink]") {
  TempDir dir;
  artifact::Artifact a = compileFiles({dir.write("rules.cep", aggregateRules())});
  const std::string good = a.object;
  REQUIRE(linkError(a, good) == "(linked)");
  const std::size_t first = relaAt(good, ".rela.text");
  const Elf64_Rela rela = readRela(good, first);
  REQUIRE(ELF64_R_TYPE(rela.r_info) == R_X86_64_PLT32);

  SECTION("truncated") {
    for (std::size_t size :
         {std::size_t{0}, std::size_t{10}, std::size_t{64}, good.size() / 2, good.size() - 1}) {
      INFO(size);
      CHECK(linkError(a, good.substr(0, size)).rfind("object: ", 0) == 0);
    }
    CHECK_THAT(linkError(a, good.substr(0, 10)), Contains("not a 64-bit little-endian ELF file"));
  }
  SECTION("a relocation outside its section") {
    std::string bad = good;
    Elf64_Rela r = rela;
    r.r_offset = 0x7ffffff0;
    writeRela(bad, first, r);
    CHECK_THAT(linkError(a, bad),
               Contains("object: relocation 0 in section .text: offset 2147483632 outside its "
                        "section"));
    std::string error;
    CHECK_FALSE(jit::verifyObjectCode(bad, a.schema, a.patterns, error, a.aggregates));
    CHECK_THAT(error, Contains("outside its section"));
  }
  SECTION("an unsupported relocation type") {
    std::string bad = good;
    Elf64_Rela r = rela;
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(rela.r_info), R_X86_64_GOTPC32);
    writeRela(bad, first, r);
    CHECK(linkError(a, bad) == "object: relocation 0 in section .text: type 26 is not supported");
  }
  SECTION("a symbol index out of range") {
    std::string bad = good;
    Elf64_Rela r = rela;
    r.r_info = ELF64_R_INFO(0xfffff, R_X86_64_PLT32);
    writeRela(bad, first, r);
    CHECK_THAT(linkError(a, bad), Contains("object: relocation 0 in section .text: symbol 1048575 "
                                           "out of range"));
  }
  SECTION("a PC32 that overflows") {
    std::string bad = good;
    Elf64_Rela r = rela;
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(rela.r_info), R_X86_64_PC32);
    r.r_addend = std::int64_t{1} << 40;
    writeRela(bad, first, r);
    CHECK_THAT(linkError(a, bad), Contains("object: relocation 0 in section .text: PC32 to "
                                           "`cep_rt_") &&
                                      Contains("does not fit in 32 bits"));
  }
  SECTION("32-bit absolute relocations refused when the address does not fit") {
    std::string bad = good;
    Elf64_Rela r = rela;
    r.r_info = ELF64_R_INFO(ELF64_R_SYM(rela.r_info), R_X86_64_32S);
    writeRela(bad, first, r);
    CHECK_THAT(linkError(a, bad), Contains("does not fit in 32 bits"));
  }
  SECTION("an undefined symbol that is no host function") {
    // The first relocation's symbol is a host function: rename it in the string table.
    std::string bad = good;
    std::size_t pos = bad.find("cep_rt_");
    REQUIRE(pos != std::string::npos);
    bad[pos] = 'x';
    CHECK_THAT(linkError(a, bad), Contains("is not a cep host function"));
  }
  SECTION("random damage never crashes the linker") {
    std::mt19937_64 random(7);
    const std::size_t tables = sectionsOf(good).at; // the section headers run to the end
    int linked = 0;
    for (int round = 0; round < 3000; ++round) {
      std::string bad = good;
      int flips = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < flips; ++i) {
        // Mostly the headers and tables (where the linker reads offsets), sometimes anywhere.
        std::size_t at = random() % 3 == 0   ? random() % 64
                         : random() % 2 == 0 ? tables + random() % (bad.size() - tables)
                                             : random() % bad.size();
        bad[at] = static_cast<char>(random());
      }
      std::string error;
      auto program = jit::linkVerifiedObject(bad, a.patterns, error, a.aggregates);
      linked += program ? 1 : 0;
      CHECK((program || error.rfind("object: ", 0) == 0)); // never run: the code is damaged
    }
    CHECK(linked < 3000);
  }
}
