// .cepo artifacts (tag [cepo]): the schema and pattern image codec (runtime/native/image_codec),
// the artifact format and its refusals (compiler/artifact/cepo), and ahead-of-time emission
// (compiler/artifact/aot): reproducible bytes, the host target, object and bitcode sections.
#include "compiler/artifact/aot.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/load.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/engine/run_snapshot.hpp"
#include "runtime/native/image_codec.hpp"
#include "runtime/snapshot_codec.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

namespace {

namespace artifact = cep::compiler::artifact;
namespace native = cep::runtime::native;
using cep::runtime::FieldKind;
using cep::runtime::Schema;

Schema sampleSchema() {
  Schema s;
  s.types.push_back({"Tx",
                     {{"user", FieldKind::String, false},
                      {"amount", FieldKind::Float, true},
                      {"at", FieldKind::Time, false},
                      {"ok", FieldKind::Bool, true},
                      {"n", FieldKind::Int, false},
                      {"d", FieldKind::Duration, true}},
                     2});
  s.types.push_back({"Login", {{"user", FieldKind::String, false}}, -1});
  s.types.push_back({"Empty", {}, -1});
  return s;
}

native::PatternImage sampleImage() {
  native::PatternImage p;
  p.name = "fraud";
  p.index = 3;
  p.event_types = {0, 1};
  p.steps = {{"a", false, 0}, {"b", true, 1}, {"c", false, 0}};
  p.states = {{"a", native::StateKind::Normal, 0, native::kNoBound, false},
              {"b", native::StateKind::Normal, 1, 5000, true},
              {"$pending", native::StateKind::Pending, -1, native::kNoBound, true},
              {"$stop", native::StateKind::Stop, -1, native::kNoBound, false},
              {"$final", native::StateKind::Final, -1, native::kNoBound, false}};
  p.start = 0;
  p.within_ms = 60000;
  p.skip = native::Skip::ToLast;
  p.skip_step = 2;
  p.keyed = true;
  p.key_fields = {{0, 4}, {0}, {}};
  p.emit = {"Alert",
            {{"user", native::ValueKind::String, "cep.p3.emit.0"},
             {"none", native::ValueKind::Null, "cep.p3.emit.1"},
             {"total", native::ValueKind::Float, "cep.p3.emit.2"}}};
  p.has_timeout_emit = true;
  p.timeout_emit = {"Late", {{"when", native::ValueKind::Time, "cep.p3.timeout.0"}}};
  p.max_branches = 7;
  p.step_symbol = "cep.p3.step";
  p.prefilter_symbol = "cep.p3.prefilter";
  p.key_hash_symbol = "cep.p3.key_hash";
  p.key_eq_symbol = "cep.p3.key_eq";
  return p;
}

void requireEqual(const native::EmitShape &a, const native::EmitShape &b) {
  REQUIRE(a.stream == b.stream);
  REQUIRE(a.fields.size() == b.fields.size());
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    CHECK(a.fields[i].name == b.fields[i].name);
    CHECK(a.fields[i].kind == b.fields[i].kind);
    CHECK(a.fields[i].symbol == b.fields[i].symbol);
  }
}

void requireEqual(const native::PatternImage &a, const native::PatternImage &b) {
  CHECK(a.name == b.name);
  CHECK(a.index == b.index);
  CHECK(a.event_types == b.event_types);
  REQUIRE(a.steps.size() == b.steps.size());
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    CHECK(a.steps[i].name == b.steps[i].name);
    CHECK(a.steps[i].negated == b.steps[i].negated);
    CHECK(a.steps[i].event_type == b.steps[i].event_type);
  }
  REQUIRE(a.states.size() == b.states.size());
  for (std::size_t i = 0; i < a.states.size(); ++i) {
    CHECK(a.states[i].name == b.states[i].name);
    CHECK(a.states[i].kind == b.states[i].kind);
    CHECK(a.states[i].step == b.states[i].step);
    CHECK(a.states[i].within_ms == b.states[i].within_ms);
    CHECK(a.states[i].completes_at_end == b.states[i].completes_at_end);
  }
  CHECK(a.start == b.start);
  CHECK(a.within_ms == b.within_ms);
  CHECK(a.skip == b.skip);
  CHECK(a.skip_step == b.skip_step);
  CHECK(a.keyed == b.keyed);
  CHECK(a.key_fields == b.key_fields);
  requireEqual(a.emit, b.emit);
  CHECK(a.has_timeout_emit == b.has_timeout_emit);
  requireEqual(a.timeout_emit, b.timeout_emit);
  CHECK(a.max_branches == b.max_branches);
  CHECK(a.step_symbol == b.step_symbol);
  CHECK(a.prefilter_symbol == b.prefilter_symbol);
  CHECK(a.key_hash_symbol == b.key_hash_symbol);
  CHECK(a.key_eq_symbol == b.key_eq_symbol);
}

artifact::Artifact sampleArtifact() {
  artifact::Artifact a;
  a.header.cep_version = "0.1.0";
  a.header.sources = {"rules.cep", "lib/common.cep"};
  for (std::size_t i = 0; i < a.header.source_hash.size(); ++i) {
    a.header.source_hash[i] = static_cast<std::uint8_t>(i * 7);
  }
  a.header.target = {"x86_64-pc-linux-gnu", "znver3", {"+avx2", "-avx512f"}};
  a.header.opt_level = 3;
  a.header.disabled_passes = {"split-guards"};
  a.schema = sampleSchema();
  a.patterns = {sampleImage()};
  a.patterns.push_back(sampleImage());
  native::PatternImage &other = a.patterns.back();
  other.name = "other";
  other.index = 4; // indices and symbols are unique in a program
  for (std::string *symbol :
       {&other.step_symbol, &other.prefilter_symbol, &other.key_hash_symbol, &other.key_eq_symbol,
        &other.emit.fields[0].symbol, &other.emit.fields[1].symbol, &other.emit.fields[2].symbol}) {
    symbol->replace(0, 6, "cep.p4");
  }
  other.has_timeout_emit = false;
  other.timeout_emit = {};
  a.object = std::string("\x7f"
                         "ELF object bytes\0with a nul",
                         27);
  a.bitcode = "BC\xc0\xde bitcode";
  return a;
}

std::string decodeError(std::string_view bytes) {
  try {
    artifact::decodeArtifact(bytes, "x.cepo");
  } catch (const artifact::ArtifactError &e) {
    return e.what();
  }
  return "(no error)";
}

std::string imagesError(const std::string &bytes, const Schema &schema) {
  try {
    native::decodeImages(bytes, schema);
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "(no error)";
}

std::string le32(std::uint32_t v) {
  std::string s;
  cep::runtime::SnapshotWriter w(s);
  w.u32(v);
  return s;
}

} // namespace

TEST_CASE("schema and pattern images round-trip through the codec", "[cepo]") {
  Schema schema = sampleSchema();
  Schema back = native::decodeSchema(native::encodeSchema(schema));
  REQUIRE(back.types.size() == schema.types.size());
  for (std::size_t t = 0; t < schema.types.size(); ++t) {
    CHECK(back.types[t].name == schema.types[t].name);
    CHECK(back.types[t].time_field == schema.types[t].time_field);
    REQUIRE(back.types[t].fields.size() == schema.types[t].fields.size());
    for (std::size_t f = 0; f < schema.types[t].fields.size(); ++f) {
      CHECK(back.types[t].fields[f].name == schema.types[t].fields[f].name);
      CHECK(back.types[t].fields[f].kind == schema.types[t].fields[f].kind);
      CHECK(back.types[t].fields[f].nullable == schema.types[t].fields[f].nullable);
    }
  }
  std::vector<native::PatternImage> images = {sampleImage(), native::PatternImage()};
  images[1].name = "defaults";
  images[1].states = {{"$final", native::StateKind::Final, -1, native::kNoBound, false}};
  auto decoded = native::decodeImages(native::encodeImages(images), schema);
  REQUIRE(decoded.size() == 2);
  requireEqual(decoded[0], images[0]);
  requireEqual(decoded[1], images[1]);
}

TEST_CASE("the image codec rejects bad bytes with the exact reason", "[cepo]") {
  Schema schema = sampleSchema();
  auto encodeWith = [](auto change) {
    native::PatternImage p = sampleImage();
    change(p);
    return native::encodeImages({p});
  };
  CHECK(imagesError(encodeWith([](auto &p) { p.states[1].step = 3; }), schema) ==
        "bad pattern images: pattern `fraud`: state `b`: step 3 out of range (3)");
  CHECK(imagesError(encodeWith([](auto &p) { p.start = 5; }), schema) ==
        "bad pattern images: pattern `fraud`: start state 5 out of range (5)");
  CHECK(imagesError(encodeWith([](auto &p) {
                      p.event_types = {1, 0};
                    }),
                    schema) == "bad pattern images: pattern `fraud`: event types not ascending");
  CHECK(imagesError(encodeWith([](auto &p) {
                      p.event_types = {0, 3};
                    }),
                    schema) ==
        "bad pattern images: pattern `fraud`: event type 3 out of range (3 types)");
  CHECK(imagesError(encodeWith([](auto &p) { p.key_fields[1] = {1}; }), schema) ==
        "bad pattern images: pattern `fraud`: key field of `Login` 1 out of range (1)");
  CHECK(imagesError(encodeWith([](auto &p) { p.skip = static_cast<native::Skip>(9); }), schema) ==
        "bad pattern images: pattern `fraud`: skip strategy 9 out of range");
  CHECK(imagesError(encodeWith([](auto &p) { p.steps[0].event_type = 7; }), schema) ==
        "bad pattern images: pattern `fraud`: step `a`: event type 7 out of range (3)");
  CHECK(imagesError(encodeWith([](auto &p) { p.max_branches = 0; }), schema) ==
        "bad pattern images: pattern `fraud`: max branches is 0");
  CHECK(imagesError(encodeWith([](auto &p) { p.states.clear(); }), schema) ==
        "bad pattern images: pattern `fraud`: no states");
  std::string good = native::encodeImages({sampleImage()});
  CHECK(imagesError(good + "x", schema) == "bad pattern images: trailing bytes");
  CHECK(imagesError(le32(3) + good.substr(4), schema) ==
        "bad pattern images: encoding version 3, this cep reads version 1 to 2");
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_THROWS_AS(native::decodeImages(good.substr(0, n), schema), std::runtime_error);
  }
  Schema twice = schema;
  twice.types[1].name = "Tx";
  CHECK_THROWS_WITH(native::decodeSchema(native::encodeSchema(twice)),
                    "bad schema: event type `Tx` twice");
  Schema bad_time = schema;
  bad_time.types[0].time_field = 0; // a string field
  CHECK_THROWS_WITH(native::decodeSchema(native::encodeSchema(bad_time)),
                    "bad schema: event type `Tx`: time field 0 is not a field of type time");
}

TEST_CASE("an artifact round-trips and is byte-reproducible", "[cepo]") {
  artifact::Artifact a = sampleArtifact();
  std::string bytes = artifact::encodeArtifact(a);
  CHECK(bytes == artifact::encodeArtifact(sampleArtifact()));
  CHECK(bytes.compare(0, 4, "CEPO") == 0);
  artifact::Artifact b = artifact::decodeArtifact(bytes, "x.cepo");
  CHECK(b.header.format == artifact::kPatternsOnlyFormatVersion); // no aggregates: format 2
  CHECK(b.header.abi == native::kAbiVersion);
  CHECK(b.header.cep_version == a.header.cep_version);
  CHECK(b.header.sources == a.header.sources);
  CHECK(b.header.source_hash == a.header.source_hash);
  CHECK(b.header.target == a.header.target);
  CHECK(b.header.opt_level == 3);
  CHECK(b.header.disabled_passes == a.header.disabled_passes);
  REQUIRE(b.patterns.size() == 2);
  requireEqual(b.patterns[0], a.patterns[0]);
  requireEqual(b.patterns[1], a.patterns[1]);
  CHECK(b.object == a.object);
  CHECK(b.bitcode == a.bitcode);
  REQUIRE(b.sections.size() == 5);
  CHECK(b.sections[3].id == artifact::SectionId::Object);
  CHECK(b.sections[3].size == a.object.size());
  CHECK(artifact::encodeArtifact(b) == bytes);
}

TEST_CASE("artifacts of another kind, format or ABI are refused with the reason", "[cepo]") {
  std::string bytes = artifact::encodeArtifact(sampleArtifact());
  CHECK(decodeError("") == "x.cepo: not a cep artifact");
  CHECK(decodeError("event E {}") == "x.cepo: not a cep artifact");
  CHECK(decodeError("CEP") == "x.cepo: not a cep artifact");
  CHECK(decodeError("CEPO") == "x.cepo: truncated: 4 bytes, the artifact header alone is 12");
  CHECK(decodeError("CEPO" + le32(5) + le32(1)) ==
        "x.cepo: artifact format 5, this cep reads formats 2 to 4");
  CHECK(decodeError("CEPO" + le32(1) + le32(1)) ==
        "x.cepo: artifact format 1, this cep reads formats 2 to 4");
  CHECK(decodeError("CEPO" + le32(artifact::kPatternsOnlyFormatVersion) +
                    le32(native::kAbiVersion + 1) + bytes.substr(12)) ==
        "x.cepo: built for ABI " + std::to_string(native::kAbiVersion + 1) +
            ", this cep runs ABI " + std::to_string(native::kAbiVersion) +
            "; recompile it with cep compile");
  CHECK(decodeError(bytes.substr(0, 12)) == "x.cepo: truncated: the header section is missing");
  CHECK(decodeError(bytes.substr(0, 20)) ==
        "x.cepo: truncated: the header section's header is cut short");
  CHECK(decodeError(bytes + "!") == "x.cepo: corrupt: 1 bytes after the last section");
  CHECK(decodeError(bytes + std::string(20, '\0')) ==
        "x.cepo: corrupt: expected the signature section at byte " + std::to_string(bytes.size()) +
            ", found section id 0");
  std::string flipped = bytes;
  flipped[40] ^= 1; // inside the header section's content
  CHECK(decodeError(flipped) == "x.cepo: corrupt: the header section fails its checksum");
  std::string wrong_id = bytes;
  wrong_id[12] = 2;
  CHECK(decodeError(wrong_id) ==
        "x.cepo: corrupt: expected the header section at byte 12, found section id 2");
}

namespace {

// sampleArtifact with its rule sources: the header's names and hash are theirs.
artifact::Artifact withSources() {
  artifact::Artifact a = sampleArtifact();
  a.sources = std::vector<artifact::SourceText>{{"rules.cep", "import \"lib/common.cep\"\n"},
                                                {"lib/common.cep", "event Tx {}\n"}};
  a.header.source_hash = artifact::sourceTextHash(*a.sources);
  return a;
}

// `bytes` (an artifact ending in its last section) with one more section appended.
std::string appendSection(std::string bytes, std::uint32_t id, std::string_view content) {
  cep::runtime::SnapshotWriter w(bytes);
  w.u32(id);
  w.u64(content.size());
  w.u64(cep::runtime::runSnapshotChecksum(content));
  w.bytes(content.data(), content.size());
  return bytes;
}

} // namespace

TEST_CASE("the optional sources section: format 4, checked against the header", "[cepo]") {
  artifact::Artifact a = withSources();
  // The hash is the one aot.hpp's sourceHash (LLVM's SHA-256) writes in the header.
  CHECK(a.header.source_hash == artifact::sourceHash({{"rules.cep", (*a.sources)[0].text},
                                                      {"lib/common.cep", (*a.sources)[1].text}}));
  std::string bytes = artifact::encodeArtifact(a);
  CHECK(bytes == artifact::encodeArtifact(withSources()));
  artifact::Artifact b = artifact::decodeArtifact(bytes, "x.cepo");
  CHECK(b.header.format == 4);
  REQUIRE(b.sources);
  CHECK(*b.sources == *a.sources);
  REQUIRE(b.sections.size() == 7); // 1-5, aggregates (empty), sources
  CHECK(b.sections[5].id == artifact::SectionId::Aggregates);
  CHECK(b.sections[6].id == artifact::SectionId::Sources);
  CHECK(b.aggregates.empty());
  CHECK(artifact::encodeArtifact(b) == bytes);

  // Without sources the artifact is what it was before they existed: format 2, no section 8.
  artifact::Artifact none = withSources();
  none.sources.reset();
  artifact::Artifact c = artifact::decodeArtifact(artifact::encodeArtifact(none), "x.cepo");
  CHECK(c.header.format == 2);
  CHECK_FALSE(c.sources);

  // Files that are not the header's are refused.
  artifact::Artifact renamed = withSources();
  (*renamed.sources)[1].name = "lib/other.cep";
  renamed.header.source_hash = artifact::sourceTextHash(*renamed.sources);
  CHECK(decodeError(artifact::encodeArtifact(renamed)) ==
        "x.cepo: bad sources section: its files are not the header's sources");
  artifact::Artifact changed = withSources();
  (*changed.sources)[1].text = "event Tx { a: int }\n";
  CHECK(decodeError(artifact::encodeArtifact(changed)) ==
        "x.cepo: bad sources section: its files do not have the header's source sha256");

  // An optional section this cep does not know (id 9, after the sources) is skipped; one in a
  // format 2 file is not optional (read as a signature that is not one).
  std::string later = appendSection(bytes, 9, "from a later cep");
  artifact::Artifact d = artifact::decodeArtifact(later, "x.cepo");
  CHECK(d.sources);
  CHECK(d.sections.size() == 7);
  std::string old = artifact::encodeArtifact(none);
  CHECK(decodeError(appendSection(old, 9, "x")) ==
        "x.cepo: corrupt: expected the signature section at byte " + std::to_string(old.size()) +
            ", found section id 9");
  // Optional sections come in rising id order.
  CHECK(decodeError(appendSection(later, 9, "x")) ==
        "x.cepo: corrupt: expected the signature section at byte " + std::to_string(later.size()) +
            ", found section id 9");
  // A format 4 file without its sources section is cut short.
  std::size_t cut = bytes.size() - 20 - static_cast<std::size_t>(b.sections[6].size);
  CHECK(decodeError(bytes.substr(0, cut)) == "x.cepo: truncated: the sources section is missing");
}

TEST_CASE("a damaged artifact never crashes the reader", "[cepo]") {
  std::string bytes = artifact::encodeArtifact(sampleArtifact());
  // Cut at every offset: always refused, never a crash or a partial artifact.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("cut at " << n);
    CHECK_THROWS_AS(artifact::decodeArtifact(std::string_view(bytes).substr(0, n), "x.cepo"),
                    artifact::ArtifactError);
  }
  // Every single changed byte is caught (magic, versions, section framing, checksums).
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    INFO("byte " << i);
    CHECK_THROWS_AS(artifact::decodeArtifact(damaged, "x.cepo"), artifact::ArtifactError);
  }
}

namespace {

const char *kRules = R"(
event Tx { user: string, amount: float, at: time }
event Login { user: string, at: time }
pattern fraud partition by user within 10m {
    l: Login() -> t: Tx(amount > 100.0)+ -> not Login()
}
emit Alert { user: l.user, total: sum(t.amount), n: count(t) }
on timeout emit Late { user: l.user }
pattern big { b: Tx(amount > 1000.0) }
emit Big { amount: b.amount }
)";

artifact::Artifact compileRules(int opt_level) {
  auto compiled = interp_test::compile(kRules);
  const auto &program = compiled->prog();
  std::vector<cep::compiler::nfa::Nfa> nfas;
  auto passes = cep::compiler::passes::PassManager::standard();
  for (std::size_t i = 0; i < program.patterns.size(); ++i) {
    nfas.push_back(cep::compiler::lowerPattern(program, static_cast<std::int32_t>(i)));
    passes.run(nfas.back());
  }
  artifact::Artifact a;
  a.header.cep_version = "test";
  a.header.sources = {"rules.cep"};
  a.header.source_hash = artifact::sourceHash({{"rules.cep", kRules}});
  a.schema = cep::compiler::schemaFromProgram(program);
  std::string error;
  REQUIRE(artifact::compileProgram(program, nfas, opt_level, a, error));
  CHECK(error.empty());
  return a;
}

} // namespace

TEST_CASE("a damaged artifact with sources never crashes the reader", "[cepo]") {
  std::string bytes = artifact::encodeArtifact(withSources());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("cut at " << n);
    CHECK_THROWS_AS(artifact::decodeArtifact(std::string_view(bytes).substr(0, n), "x.cepo"),
                    artifact::ArtifactError);
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    INFO("byte " << i);
    CHECK_THROWS_AS(artifact::decodeArtifact(damaged, "x.cepo"), artifact::ArtifactError);
  }
}

TEST_CASE("ahead-of-time code: host object and bitcode, reproducible", "[cepo]") {
  for (int opt_level : {0, 2}) {
    INFO("O" << opt_level);
    artifact::Artifact a = compileRules(opt_level);
    REQUIRE(a.patterns.size() == 2);
    CHECK(a.patterns[0].name == "fraud");
    CHECK(a.patterns[0].keyed);
    CHECK(a.header.opt_level == opt_level);
    REQUIRE(a.object.size() > 4);
    CHECK(a.object.compare(0, 4,
                           "\x7f"
                           "ELF") == 0);
    REQUIRE(a.bitcode.size() > 4);
    CHECK(a.bitcode.compare(0, 4, "BC\xc0\xde") == 0);
    artifact::Target host;
    std::string error;
    REQUIRE(artifact::hostTarget(host, error));
    CHECK(a.header.target == host);
    CHECK(std::is_sorted(host.features.begin(), host.features.end()));
    CHECK(!host.triple.empty());
    // The same rules twice: the same bytes (no timestamps, paths or hash-map order).
    std::string bytes = artifact::encodeArtifact(a);
    CHECK(bytes == artifact::encodeArtifact(compileRules(opt_level)));
    artifact::Artifact back = artifact::decodeArtifact(bytes, "x.cepo");
    CHECK(back.object == a.object);
    CHECK(back.bitcode == a.bitcode);
    CHECK(bytes.find("/work") == std::string::npos);
  }
  // The source hash covers names and bytes.
  CHECK(artifact::sourceHash({{"a.cep", "x"}}) != artifact::sourceHash({{"b.cep", "x"}}));
  CHECK(artifact::sourceHash({{"a.cep", "x"}}) != artifact::sourceHash({{"a.cep", "y"}}));
  CHECK(artifact::sourceHash({{"a", "bc"}}) != artifact::sourceHash({{"ab", "c"}}));
  CHECK(artifact::hex(artifact::sourceHash({})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); // SHA-256("")
}
