// State that moves between processes (#12 §3; tag [partition-state]): a matcher's keys split by
// input partition (runtime/state/partition_state.hpp over runtime/kafka/key_partition.hpp),
// the partition's key records carried in a changelog record (service/changelog_record.hpp) and
// merged into another matcher that already holds the other keys, on both engines and across them:
//   - over every golden match case and a stream of many cards: half the events fed, the state
//     cut into one partition's keys and the rest, the rest restored alone, then the partition's
//     records (through an encoded changelog record) merged into it with other arrival seqs, into
//     a fresh matcher of either engine; the other half fed to it and to the original: the same
//     records come out;
//   - the changelog record: round trip, and every bad byte refused with the reason;
//   - a key's message key and partition (librdkafka's partitioners), a key merged twice refused.
#include "compiler/jit/jit.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "interp_fixture_test.hpp"
#include "runtime/kafka/key_partition.hpp"
#include "runtime/native/native_matcher.hpp"
#include "runtime/snapshot_codec.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/partition_state.hpp"
#include "service/changelog_record.hpp"
#include "support/fnv1a.hpp"

#include <filesystem>
#include <fstream>
#include <set>

using namespace interp_test;
namespace ci = cep::compiler::interp;
namespace rn = cep::runtime::native;
namespace jit = cep::compiler::jit;
namespace rk = cep::runtime::kafka;
namespace svc = cep::service;
namespace fs = std::filesystem;

namespace {

std::string readText(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

jit::Jit &theJit() {
  static std::unique_ptr<jit::Jit> j = [] {
    std::string error;
    auto made = jit::Jit::create(1, error);
    INFO(error);
    REQUIRE(made != nullptr);
    return made;
  }();
  return *j;
}

enum class Engine { Interp, Jit };

// A checked program with its optimised NFAs and, once asked for, its native code.
struct Program {
  std::unique_ptr<Compiled> c;
  std::vector<nfa::Nfa> nfas;
  std::optional<jit::LoadedProgram> code;
  std::shared_ptr<const runtime::Schema> schema;

  explicit Program(const std::string &text) : c(compile(text)) {
    auto passes = cep::compiler::passes::PassManager::standard();
    for (std::size_t i = 0; i < c->prog().patterns.size(); ++i) {
      nfas.push_back(cep::compiler::lowerPattern(c->prog(), static_cast<std::int32_t>(i)));
      passes.run(nfas.back());
    }
    schema = std::make_shared<const runtime::Schema>(c->schema);
  }

  std::unique_ptr<runtime::Matcher> matcher(Engine engine, std::size_t pattern) {
    runtime::MatcherOptions options;
    options.with_events = true; // the records then also show the events bound
    if (engine == Engine::Interp) {
      return ci::makeInterpMatcher(c->prog(), static_cast<std::int32_t>(pattern),
                                   nfas.at(pattern).clone(), options);
    }
    if (!code) {
      jit::ModuleStats stats;
      std::string error;
      code = theJit().compileProgram(c->prog(), nfas, stats, error);
      INFO(error);
      REQUIRE(code.has_value());
    }
    return rn::makeNativeMatcher(schema, code->images.at(pattern), code->code.at(pattern), options);
  }
};

// Events decoded once, numbered in arrival order from `first_seq`, sorted by (time, arrival).
std::vector<runtime::EventRef> decodeAll(const runtime::Schema &schema, const std::string &text,
                                         std::uint64_t first_seq) {
  runtime::JsonlDecoder decoder(schema, runtime::DecoderOptions{true});
  std::vector<runtime::EventRef> events;
  std::istringstream lines(text);
  std::string line;
  std::uint64_t seq = first_seq, number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    runtime::RecordContext ctx;
    ctx.seq = seq;
    ctx.line = number;
    runtime::DecodeResult r = decoder.decodeCopy(line, ctx);
    if (r.status == runtime::DecodeStatus::Event) {
      events.push_back(std::move(r.event));
      ++seq;
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto &a, const auto &b) { return a->time < b->time; });
  return events;
}

std::vector<fs::path> matchCases() {
  std::vector<fs::path> out;
  for (const auto &d : fs::directory_iterator(fs::path(CEP_SOURCE_DIR) / "tests/golden/match")) {
    if (fs::exists(d.path() / "rules.cep") && fs::exists(d.path() / "events.jsonl")) {
      out.push_back(d.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Fed {
  std::int64_t time = INT64_MIN;
  std::vector<runtime::MatchOutput> out;
  void event(runtime::Matcher &m, const runtime::EventRef &e) {
    if (e->time > time) {
      m.advanceTime(e->time, out);
      time = e->time;
    }
    m.onEvent(e, out);
  }
  std::vector<std::string> records() const {
    std::vector<std::string> r;
    for (const auto &o : out) {
      r.push_back(o.json);
    }
    std::sort(r.begin(), r.end());
    return r;
  }
};

std::set<std::string> keysOf(const runtime::MatcherState &st) {
  std::set<std::string> out;
  for (const auto &k : st.keys) {
    out.insert(k.key_json);
  }
  return out;
}

constexpr std::int32_t kPartitions = 3;

// One pattern of `program` over `events`: cut at half, partition `moved`'s keys carried through
// a changelog record into a matcher of `to` that restored the rest; the records after the cut
// must be the original's. Returns how many keys moved.
std::size_t moveAndCompare(Program &program, std::size_t pattern, Engine from, Engine to,
                           const std::vector<runtime::EventRef> &events) {
  const std::size_t half = events.size() / 2;
  auto original = program.matcher(from, pattern);
  Fed a;
  for (std::size_t i = 0; i < half; ++i) {
    a.event(*original, events[i]);
  }
  runtime::MatcherState st;
  original->exportState(st);
  // The partition of the first key moves (any key's partition would do).
  std::int32_t moved = st.keys.empty() ? 0
                                       : rk::keyPartitionOf(st.keys.front().key_json, kPartitions,
                                                            rk::Partitioner::Consistent);
  auto inMoved = [&](std::string_view key) {
    return rk::keyPartitionOf(key, kPartitions, rk::Partitioner::Consistent) == moved;
  };
  svc::ChangelogRecord rec;
  rec.topic = "payments";
  rec.partition = static_cast<std::uint32_t>(std::max(moved, 0));
  rec.partitions = kPartitions;
  rec.group = "fraud";
  rec.transaction = "1-1";
  svc::ChangelogPattern &cp = rec.patterns.emplace_back();
  cp.pattern = st.pattern;
  cp.records = runtime::keyRecordsOf(st, inMoved);
  runtime::MatcherState rest = runtime::withoutKeys(st, inMoved);

  // Every key is in exactly one of the two.
  std::set<std::string> part_keys;
  for (const std::string &r : cp.records) {
    part_keys.insert(runtime::decodeKeyRecord(r, *program.schema).key.key_json);
  }
  std::set<std::string> rest_keys = keysOf(rest), all = rest_keys;
  for (const std::string &k : part_keys) {
    CHECK(rest_keys.count(k) == 0);
    all.insert(k);
  }
  CHECK(all == keysOf(st));
  CHECK(rest.runCount() + 0 <= st.runCount());

  std::string value;
  svc::encodeChangelogRecord(rec, value);
  svc::ChangelogRecord back = svc::decodeChangelogRecord(value);
  REQUIRE(back.patterns.size() == 1);
  std::vector<std::string_view> views(back.patterns[0].records.begin(),
                                      back.patterns[0].records.end());
  // The moved events take seqs below every later event (events were numbered from 10^6).
  std::uint64_t next_seq = 0;
  runtime::MatcherState merged = runtime::withKeys(rest, views, next_seq);
  CHECK(next_seq < 1000000);
  CHECK(keysOf(merged) == keysOf(st));
  CHECK(merged.runCount() == st.runCount());
  CHECK(merged.heldCount() == st.heldCount());
  CHECK(merged.time == st.time);
  auto moved_to = program.matcher(to, pattern);
  moved_to->restoreState(merged);

  Fed b;
  b.time = a.time;
  a.out.clear();
  for (std::size_t i = half; i < events.size(); ++i) {
    a.event(*original, events[i]);
    b.event(*moved_to, events[i]);
  }
  original->finish(a.out);
  moved_to->finish(b.out);
  CHECK(a.records() == b.records());
  return part_keys.size();
}

} // namespace

TEST_CASE("partition state: one partition's keys moved through a changelog record into a matcher "
          "holding the rest continue as before, every golden match case, both engines",
          "[partition-state]") {
  std::size_t patterns = 0, moved_keys = 0;
  for (const fs::path &dir : matchCases()) {
    if (fs::exists(dir / "args")) {
      continue; // state bounds and other options: the plain matchers are what moves here
    }
    Program program(readText(dir / "rules.cep"));
    auto events = decodeAll(*program.schema, readText(dir / "events.jsonl"), 1000000);
    for (std::size_t p = 0; p < program.c->prog().patterns.size(); ++p) {
      ++patterns;
      for (Engine from : {Engine::Interp, Engine::Jit}) {
        for (Engine to : {Engine::Interp, Engine::Jit}) {
          INFO(dir.filename().string() << " pattern " << program.c->pattern(p).name << " from "
                                       << (from == Engine::Jit ? "jit" : "interp") << " to "
                                       << (to == Engine::Jit ? "jit" : "interp"));
          moved_keys += moveAndCompare(program, p, from, to, events);
        }
      }
    }
  }
  WARN("patterns: " << patterns << ", keys moved: " << moved_keys);
  CHECK(patterns > 100);
  CHECK(moved_keys > 50);
}

TEST_CASE("partition state: many cards, a third of them moved, both engines", "[partition-state]") {
  Program program(
      "event Tx { card: string, amount: float, time: time }\n"
      "pattern testing partition by card within 10s {\n"
      "    small: Tx(amount < 5.0){2,} -> big: Tx(amount > 100.0)\n"
      "}\n"
      "emit Testing { card: big.card, probes: count(small) }\n"
      "on timeout emit TestingTimeout { card: first(small).card, probes: count(small) }\n");
  std::string text;
  std::uint64_t x = 7;
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int card = static_cast<int>((x >> 33) % 40);
    const char *amount = (x >> 20) % 3 == 0 ? "150.0" : "1.5";
    text += R"({"card":"c)" + std::to_string(card) + R"(","amount":)" + amount + R"(,"time":)" +
            std::to_string(i * 100) + "}\n";
  }
  auto events = decodeAll(*program.schema, text, 1000000);
  for (Engine from : {Engine::Interp, Engine::Jit}) {
    for (Engine to : {Engine::Interp, Engine::Jit}) {
      CHECK(moveAndCompare(program, 0, from, to, events) >= 5);
    }
  }
}

TEST_CASE("partition state: a key restored twice is refused", "[partition-state]") {
  Program program("event Tx { card: string, amount: float, time: time }\n"
                  "pattern p partition by card { a: Tx(amount < 5.0) -> b: Tx(amount > 9.0) }\n"
                  "emit P { card: a.card }\n");
  auto events = decodeAll(*program.schema,
                          R"({"card":"c1","amount":1.0,"time":1})"
                          "\n"
                          R"({"card":"c2","amount":1.0,"time":2})"
                          "\n",
                          0);
  for (Engine engine : {Engine::Interp, Engine::Jit}) {
    auto m = program.matcher(engine, 0);
    Fed f;
    for (const auto &e : events) {
      f.event(*m, e);
    }
    runtime::MatcherState st;
    m->exportState(st);
    REQUIRE(st.keys.size() == 2);
    auto all = [](std::string_view) { return true; };
    std::vector<std::string> records = runtime::keyRecordsOf(st, all);
    std::vector<std::string_view> views(records.begin(), records.end());
    std::uint64_t next = 100;
    CHECK_THROWS_WITH(runtime::withKeys(st, views, next),
                      Catch::Contains("two records of key \"c1\""));
    runtime::MatcherState none = runtime::withoutKeys(st, all);
    CHECK(none.keys.empty());
    CHECK(none.events.empty());
    CHECK(none.nodes.empty());
    runtime::MatcherState again = runtime::withKeys(none, views, next);
    CHECK(keysOf(again) == keysOf(st));
    CHECK(next == 102); // two events moved to 100 and 101
  }
}

TEST_CASE("partition state: a key's message key and partition", "[partition-state][kafka]") {
  CHECK(rk::messageKeyOf("\"c-001611\"") == std::optional<std::string>("c-001611"));
  CHECK(rk::messageKeyOf("\"a\\\"b\"") == std::optional<std::string>("a\"b"));
  CHECK(rk::messageKeyOf("42") == std::optional<std::string>("42"));
  CHECK(rk::messageKeyOf("[\"u-1\",3]") == std::optional<std::string>("[\"u-1\",3]"));
  CHECK_FALSE(rk::messageKeyOf("null").has_value());
  CHECK_FALSE(rk::messageKeyOf("").has_value());
  // librdkafka's default partitioner is CRC32 of the key modulo the partition count (values
  // from Python's zlib.crc32).
  CHECK(rk::keyPartition("c-001611", 4, rk::Partitioner::Consistent) == 0);
  CHECK(rk::keyPartition("c-001611", 7, rk::Partitioner::Consistent) == 4);
  CHECK(rk::keyPartition("u-7", 4, rk::Partitioner::Consistent) == 1);
  CHECK(rk::keyPartition("card-42", 4, rk::Partitioner::Consistent) == 2);
  CHECK(rk::keyPartitionOf("\"card-42\"", 4, rk::Partitioner::Consistent) == 2);
  CHECK(rk::keyPartitionOf("[\"u-1\",3]", 7, rk::Partitioner::Consistent) == 0);
  CHECK(rk::keyPartitionOf("null", 4, rk::Partitioner::Consistent) == -1);
  std::set<std::int32_t> seen;
  for (int i = 0; i < 200; ++i) {
    std::int32_t p = rk::keyPartition("k" + std::to_string(i), 5, rk::Partitioner::Murmur2);
    REQUIRE(p >= 0);
    REQUIRE(p < 5);
    seen.insert(p);
    CHECK(p == rk::keyPartition("k" + std::to_string(i), 5, rk::Partitioner::Murmur2));
  }
  CHECK(seen.size() == 5);
  CHECK(rk::partitionerNamed("murmur2_random") == rk::Partitioner::Murmur2);
  CHECK(rk::partitionerNamed("consistent_random") == rk::Partitioner::Consistent);
  CHECK_FALSE(rk::partitionerNamed("fnv1a").has_value());
}

TEST_CASE("changelog record: round trip, and bad bytes refused with the reason",
          "[partition-state][changelog]") {
  svc::ChangelogRecord rec;
  rec.topic = "payments";
  rec.partition = 2;
  rec.partitions = 4;
  rec.group = "fraud";
  rec.cluster = "mock-cluster";
  rec.transaction = "1733301234567-7";
  rec.transactional_id = "cep-fraud-host1";
  rec.taken_at = 1733301235000;
  rec.next_offset = 516;
  rec.read_to = 530;
  rec.watermark = 1764842400000;
  rec.input_watermarks = {1764842000000, INT64_MIN, 1764843000000};
  rec.input_idle = {0, 1, 0};
  rec.patterns.push_back({"card_testing", "3248ce6a4836", "3248ce6a4836aa", "", {"r1", "r22"}});
  rec.patterns.push_back({"velocity", "3248ce6a4836", "3248ce6a4836aa", "", {}});
  rec.patterns.push_back({"hourly", "3248ce6a4836", "3248ce6a4836aa", "CEPASNAP...", {"w1"}});
  CHECK(svc::changelogKey("payments", 2) == "payments/2");
  CHECK(svc::changelogTopic("fraud") == "fraud-state");
  std::string bytes;
  svc::encodeChangelogRecord(rec, bytes);
  svc::ChangelogRecord back = svc::decodeChangelogRecord(bytes);
  CHECK(back.topic == "payments");
  CHECK(back.partition == 2);
  CHECK(back.partitions == 4);
  CHECK(back.group == "fraud");
  CHECK(back.cluster == "mock-cluster");
  CHECK(back.transaction == "1733301234567-7");
  CHECK(back.transactional_id == "cep-fraud-host1");
  CHECK(back.taken_at == 1733301235000);
  CHECK(back.next_offset == 516);
  CHECK(back.read_to == 530);
  CHECK(back.watermark == 1764842400000);
  CHECK(back.input_watermarks == rec.input_watermarks);
  CHECK(back.input_idle == rec.input_idle);
  REQUIRE(back.patterns.size() == 3);
  CHECK(back.patterns[0].pattern == "card_testing");
  CHECK(back.patterns[0].version == "3248ce6a4836");
  CHECK(back.patterns[0].artifact_hash == "3248ce6a4836aa");
  CHECK(back.patterns[0].header.empty());
  CHECK(back.patterns[0].records == std::vector<std::string>{"r1", "r22"});
  CHECK(back.patterns[1].records.empty());
  CHECK(back.patterns[2].header == "CEPASNAP...");
  CHECK(back.patterns[2].records == std::vector<std::string>{"w1"});
  CHECK(back.keyRecords() == 3);
  // By name over records, an aggregate's headers beside its key records.
  const std::vector<svc::ChangelogRecord> two = {back, back}; // the views point into it
  std::map<std::string, svc::PatternRecords> by = svc::recordsByPattern(two);
  CHECK(by["card_testing"].records.size() == 4);
  CHECK(by["card_testing"].headers.empty());
  CHECK(by["hourly"].records == std::vector<std::string_view>{"w1", "w1"});
  CHECK(by["hourly"].headers == std::vector<std::string_view>{"CEPASNAP...", "CEPASNAP..."});
  std::string again;
  svc::encodeChangelogRecord(back, again);
  CHECK(again == bytes);

  CHECK_THROWS_WITH(svc::decodeChangelogRecord("CEPCHLOG"), Catch::Contains("too short"));
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(std::string(40, 'x')),
                    Catch::Contains("bad changelog record: not a changelog record"));
  // Every single flipped byte is caught (the checksum, or the magic).
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    CHECK_THROWS_WITH(svc::decodeChangelogRecord(bad), Catch::Contains("bad changelog record"));
  }
  // A truncated one.
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(bytes.substr(0, bytes.size() - 3)),
                    Catch::Contains("bad changelog record"));
}

TEST_CASE("changelog record: format version 1, without read_to, is still read",
          "[partition-state][changelog]") {
  svc::ChangelogRecord rec;
  rec.topic = "payments";
  rec.partition = 1;
  rec.partitions = 4;
  rec.group = "fraud";
  rec.next_offset = 7;
  rec.read_to = 9;
  rec.watermark = 1764842400000;
  std::string v2;
  svc::encodeChangelogRecord(rec, v2);
  // Version 1's bytes: the version field 1, no read_to and no input partitions (the i64 and
  // the u32 count before the u32 pattern count, the last field of a record without patterns),
  // checksummed again.
  std::string body = v2.substr(0, v2.size() - 8);
  std::string v1 = body.substr(0, body.size() - 16) + body.substr(body.size() - 4);
  v1[8] = 1; // u32 little-endian after the 8-byte magic
  v1[9] = v1[10] = v1[11] = 0;
  runtime::SnapshotWriter(v1).u64(cep::fnv1a64(v1));
  svc::ChangelogRecord back = svc::decodeChangelogRecord(v1);
  CHECK(back.next_offset == 7);
  CHECK(back.watermark == 1764842400000);
  CHECK(back.read_to == -1);
  v1[8] = 3;
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(v1), Catch::Contains("bad changelog record"));
}

TEST_CASE("changelog record: format version 2, without aggregate headers, is still read",
          "[partition-state][changelog]") {
  // Version 2's layout written field by field: one pattern, no header blob.
  std::string v2;
  runtime::SnapshotWriter w(v2);
  w.bytes(svc::kChangelogMagic, sizeof svc::kChangelogMagic);
  w.u32(2);
  w.str("payments");
  w.u32(1);
  w.u32(4);
  w.str("fraud");
  w.str("cluster");
  w.str("1-1");
  w.str("cep-fraud-a");
  w.i64(1733301235000);
  w.i64(7);
  w.i64(1764842400000);
  w.i64(9);
  w.u32(1);
  w.str("card_testing");
  w.str("3248ce6a4836");
  w.str("3248ce6a4836aa");
  w.u64(1);
  w.blob("r1");
  w.u64(cep::fnv1a64(v2));
  svc::ChangelogRecord back = svc::decodeChangelogRecord(v2);
  CHECK(back.read_to == 9);
  REQUIRE(back.patterns.size() == 1);
  CHECK(back.patterns[0].header.empty());
  CHECK(back.patterns[0].records == std::vector<std::string>{"r1"});
  // Read as version 3 the same bytes are refused (the header's length eats the count).
  std::string v3 = v2.substr(0, v2.size() - 8);
  v3[8] = 3;
  runtime::SnapshotWriter(v3).u64(cep::fnv1a64(v3));
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(v3), Catch::Contains("bad changelog record"));
}

TEST_CASE("changelog record: format version 3, without input partitions, is still read",
          "[partition-state][changelog]") {
  // Version 3's layout written field by field: one pattern with a header, no input partitions.
  std::string v3;
  runtime::SnapshotWriter w(v3);
  w.bytes(svc::kChangelogMagic, sizeof svc::kChangelogMagic);
  w.u32(3);
  w.str("fraud-repartition");
  w.u32(1);
  w.u32(4);
  w.str("fraud");
  w.str("cluster");
  w.str("1-1");
  w.str("cep-fraud-a");
  w.i64(1733301235000);
  w.i64(7);
  w.i64(1764842400000);
  w.i64(9);
  w.u32(1);
  w.str("card_testing");
  w.str("3248ce6a4836");
  w.str("3248ce6a4836aa");
  w.blob("");
  w.u64(1);
  w.blob("r1");
  w.u64(cep::fnv1a64(v3));
  svc::ChangelogRecord back = svc::decodeChangelogRecord(v3);
  CHECK(back.read_to == 9);
  CHECK(back.input_watermarks.empty());
  CHECK(back.input_idle.empty());
  REQUIRE(back.patterns.size() == 1);
  CHECK(back.patterns[0].records == std::vector<std::string>{"r1"});
  // Read as version 4 the same bytes are refused (the pattern count read as input partitions).
  std::string v4 = v3.substr(0, v3.size() - 8);
  v4[8] = 4;
  runtime::SnapshotWriter(v4).u64(cep::fnv1a64(v4));
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(v4), Catch::Contains("bad changelog record"));
}

TEST_CASE("changelog record: format version 4, without a drain's shares, is still read",
          "[partition-state][changelog]") {
  // Version 4's layout written field by field: one aggregate entry, no draining flag or share.
  std::string v4;
  runtime::SnapshotWriter w(v4);
  w.bytes(svc::kChangelogMagic, sizeof svc::kChangelogMagic);
  w.u32(4);
  w.str("payments");
  w.u32(1);
  w.u32(4);
  w.str("fraud");
  w.str("cluster");
  w.str("1-1");
  w.str("cep-fraud-a");
  w.i64(1733301235000);
  w.i64(7);
  w.i64(1764842400000);
  w.i64(9);
  w.u32(0);
  w.u32(1);
  w.str("card_hour");
  w.str("3248ce6a4836");
  w.str("3248ce6a4836aa");
  w.blob("CEPASNAP...");
  w.u64(1);
  w.blob("w1");
  w.u64(cep::fnv1a64(v4));
  svc::ChangelogRecord back = svc::decodeChangelogRecord(v4);
  REQUIRE(back.patterns.size() == 1);
  CHECK_FALSE(back.patterns[0].draining);
  CHECK(back.patterns[0].own_from == INT64_MIN);
  CHECK(back.patterns[0].own_before == INT64_MAX);
  CHECK(back.patterns[0].records == std::vector<std::string>{"w1"});
  // Read as version 5 the same bytes are refused (the record count read as the share).
  std::string v5 = v4.substr(0, v4.size() - 8);
  v5[8] = 5;
  runtime::SnapshotWriter(v5).u64(cep::fnv1a64(v5));
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(v5), Catch::Contains("bad changelog record"));
}

TEST_CASE("changelog record: a drain's two versions of an aggregate kept apart by version",
          "[partition-state][changelog]") {
  const std::int64_t S = 1764842400000; // the switch time
  svc::ChangelogRecord rec;
  rec.topic = "payments";
  rec.partition = 0;
  rec.partitions = 2;
  rec.group = "fraud";
  svc::ChangelogPattern &active = rec.patterns.emplace_back();
  active.pattern = "card_hour";
  active.version = "v2v2v2v2v2v2";
  active.artifact_hash = "v2-hash";
  active.header = "H2";
  active.records = {"new-a"};
  active.own_from = S;
  svc::ChangelogPattern &old = rec.patterns.emplace_back();
  old.pattern = "card_hour";
  old.version = "v1v1v1v1v1v1";
  old.artifact_hash = "v1-hash";
  old.header = "H1";
  old.records = {"old-a", "old-b"};
  old.draining = true;
  old.own_before = S;
  std::string bytes;
  svc::encodeChangelogRecord(rec, bytes);
  const std::vector<svc::ChangelogRecord> back = {svc::decodeChangelogRecord(bytes)};
  REQUIRE(back[0].patterns.size() == 2);
  CHECK(back[0].patterns[1].draining);
  CHECK(back[0].patterns[1].own_from == INT64_MIN);
  CHECK(back[0].patterns[1].own_before == S);
  CHECK_FALSE(back[0].patterns[0].draining);
  CHECK(back[0].patterns[0].own_from == S);
  CHECK(back[0].patterns[0].own_before == INT64_MAX);
  // By name the active version's alone; the draining one's apart, under its version.
  std::map<std::string, svc::PatternRecords> by = svc::recordsByPattern(back);
  REQUIRE(by.size() == 1);
  const svc::PatternRecords &named = by["card_hour"];
  CHECK(named.records == std::vector<std::string_view>{"new-a"});
  CHECK(named.headers == std::vector<std::string_view>{"H2"});
  CHECK(named.own_from == S);
  REQUIRE(named.draining.size() == 1);
  const svc::PatternRecords::Draining &d = named.draining.at("v1v1v1v1v1v1");
  CHECK(d.artifact_hash == "v1-hash");
  CHECK(d.records == std::vector<std::string_view>{"old-a", "old-b"});
  CHECK(d.headers == std::vector<std::string_view>{"H1"});
  CHECK(d.own_before == S);
  // A draining entry that owns no window is refused.
  rec.patterns[1].own_from = S;
  std::string none;
  svc::encodeChangelogRecord(rec, none);
  CHECK_THROWS_WITH(svc::decodeChangelogRecord(none), Catch::Contains("owns no window"));
  // The artifact keys beside the partitions' keys.
  CHECK(svc::changelogArtifactKey("v1-hash") == "@artifact/v1-hash");
  CHECK(svc::artifactOfChangelogKey("@artifact/v1-hash") == "v1-hash");
  CHECK(svc::artifactOfChangelogKey("payments/0").empty());
}

TEST_CASE("changelog record: a pattern drain's two versions kept apart by version",
          "[partition-state][changelog]") {
  // A pattern's draining entry (no header, every window its own): its runs never merge into
  // the active version's by name (#12: a taker serves them in the draining version).
  svc::ChangelogRecord rec;
  rec.topic = "payments";
  rec.partition = 1;
  rec.partitions = 2;
  rec.group = "fraud";
  svc::ChangelogPattern &active = rec.patterns.emplace_back();
  active.pattern = "velocity";
  active.version = "v2v2v2v2v2v2";
  active.artifact_hash = "v2-hash";
  active.records = {"new-runs"};
  svc::ChangelogPattern &old = rec.patterns.emplace_back();
  old.pattern = "velocity";
  old.version = "v1v1v1v1v1v1";
  old.artifact_hash = "v1-hash";
  old.records = {"old-runs-a", "old-runs-b"};
  old.draining = true;
  std::string bytes;
  svc::encodeChangelogRecord(rec, bytes);
  const std::vector<svc::ChangelogRecord> back = {svc::decodeChangelogRecord(bytes)};
  REQUIRE(back[0].patterns.size() == 2);
  CHECK(back[0].patterns[1].draining);
  CHECK(back[0].patterns[1].header.empty());
  std::map<std::string, svc::PatternRecords> by = svc::recordsByPattern(back);
  REQUIRE(by.size() == 1);
  const svc::PatternRecords &named = by["velocity"];
  CHECK(named.records == std::vector<std::string_view>{"new-runs"});
  CHECK(named.headers.empty());
  CHECK(named.own_from == INT64_MIN);
  CHECK(named.own_before == INT64_MAX);
  REQUIRE(named.draining.size() == 1);
  const svc::PatternRecords::Draining &d = named.draining.at("v1v1v1v1v1v1");
  CHECK(d.artifact_hash == "v1-hash");
  CHECK(d.records == std::vector<std::string_view>{"old-runs-a", "old-runs-b"});
  CHECK(d.headers.empty());
}
