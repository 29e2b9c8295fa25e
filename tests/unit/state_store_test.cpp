// The RocksDB checkpoint store (runtime/state/store): incremental checkpoints, operators,
// artifacts, reopening, a child killed while committing, damaged checkpoints and the fallback
// to the one before, refusals (tag [store]). The benchmark of 1M keys is hidden: run it with
// `cep_unit_tests "[store-bench]"`.
#include "runtime/state/store/checkpoint_store.hpp"
#include "runtime/state/store/crc32c.hpp"
#include "runtime/state/store/record_format.hpp"
#include "store_model_test.hpp"
#include "support/internal_error.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <poll.h>
#include <random>
#include <set>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace {

using cep::runtime::store::CheckpointStore;
using cep::runtime::store::StoreOptions;
namespace fs = std::filesystem;
namespace model = cep::test::store_model;

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    // mkdtemp(3) replaces the trailing XXXXXX with a unique name and creates the folder.
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cep-store-XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string store() const { return (path / "state").string(); }
};

std::unique_ptr<CheckpointStore> openOk(const std::string &dir, StoreOptions options = {}) {
  std::string error;
  auto store = CheckpointStore::open(dir, options, error);
  INFO(error);
  REQUIRE(store);
  return store;
}

std::string openError(const std::string &dir) {
  std::string error;
  auto store = CheckpointStore::open(dir, {}, error);
  CHECK_FALSE(store);
  return error;
}

void commitOk(CheckpointStore &store, CheckpointStore::Batch &&batch) {
  std::string error;
  bool ok = store.commit(std::move(batch), error);
  INFO(error);
  REQUIRE(ok);
}

// Everything a store's latest usable checkpoint holds, in the model's shape.
model::State contents(const CheckpointStore &store) {
  std::string error;
  auto reader = store.read(error);
  INFO(error);
  REQUIRE(reader);
  model::State s;
  s.meta = reader->meta;
  for (auto op : reader->operators()) {
    auto &keys = s.operators[op];
    bool ok = reader->forEach(
        op, [&](std::string_view k, std::string_view v) { keys.emplace(k, v); }, error);
    INFO(error);
    REQUIRE(ok);
    CHECK(keys.size() == reader->keyCount(op));
  }
  auto hashes = reader->artifactHashes(error);
  INFO(error);
  REQUIRE(error.empty());
  for (const auto &hash : hashes) {
    auto bytes = reader->artifact(hash, error);
    INFO(error);
    REQUIRE(bytes);
    s.artifacts[hash] = *bytes;
  }
  return s;
}

void requireEqual(const model::State &got, const model::State &want) {
  CHECK(got.meta == want.meta);
  REQUIRE(got.operators.size() == want.operators.size());
  for (const auto &[op, keys] : want.operators) {
    auto it = got.operators.find(op);
    REQUIRE(it != got.operators.end());
    INFO("operator " << op);
    CHECK(it->second == keys);
  }
  CHECK(got.artifacts == want.artifacts);
}

// Commits checkpoints from..to of the model history.
void commitHistory(CheckpointStore &store, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t i = from; i <= to; ++i) {
    auto batch = store.begin();
    REQUIRE(batch.id() == i);
    model::changesOf(i, batch);
    commitOk(store, std::move(batch));
  }
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// A small store of two checkpoints: 1 = {a, b, c} on operator 1, 2 = {a changed, b, d}.
void twoCheckpoints(CheckpointStore &store) {
  auto b1 = store.begin();
  b1.put(1, "a", "a1");
  b1.put(1, "b", "b1");
  b1.put(1, "c", "c1");
  b1.putArtifact("h1", "one");
  b1.setMeta("m1");
  commitOk(store, std::move(b1));
  auto b2 = store.begin();
  b2.put(1, "a", "a2");
  b2.put(1, "d", "d2");
  b2.erase(1, "c");
  b2.putArtifact("h2", "two");
  b2.eraseArtifact("h1");
  b2.setMeta("m2");
  commitOk(store, std::move(b2));
}

model::State checkpointOne() {
  model::State s;
  s.meta = "m1";
  s.operators[1] = {{"a", "a1"}, {"b", "b1"}, {"c", "c1"}};
  s.artifacts = {{"h1", "one"}};
  return s;
}

model::State checkpointTwo() {
  model::State s;
  s.meta = "m2";
  s.operators[1] = {{"a", "a2"}, {"b", "b1"}, {"d", "d2"}};
  s.artifacts = {{"h2", "two"}};
  return s;
}

} // namespace

TEST_CASE("crc32c gives the Castagnoli check values", "[store]") {
  using cep::runtime::store::crc32c;
  CHECK(crc32c(0, "123456789", 9) == 0xE3069283u);
  CHECK(crc32c(0, "", 0) == 0u);
  std::string zeros(32, '\0');
  CHECK(crc32c(0, zeros.data(), zeros.size()) == 0x8A9136AAu);
  // Extending equals one pass, across the 8-byte steps of the hardware path.
  std::string text = "the quick brown fox jumps over the lazy dog";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    CHECK(crc32c(crc32c(0, text.data(), cut), text.data() + cut, text.size() - cut) ==
          crc32c(0, text.data(), text.size()));
  }
}

TEST_CASE("store record formats round-trip and reject damage", "[store]") {
  namespace f = cep::runtime::store::format;
  std::string stored = f::encodeValue(f::Domain::Operator, 7, "card", 12, "payload");
  f::DecodedValue v;
  std::string reason;
  REQUIRE(f::decodeValue(f::Domain::Operator, 7, "card", stored, v, reason));
  CHECK(v.writer == 12);
  CHECK(v.payload == "payload");
  // The checksum covers the key, the operator and the domain, not only the bytes.
  CHECK_FALSE(f::decodeValue(f::Domain::Operator, 8, "card", stored, v, reason));
  CHECK_FALSE(f::decodeValue(f::Domain::Operator, 7, "cart", stored, v, reason));
  CHECK_FALSE(f::decodeValue(f::Domain::Artifact, 7, "card", stored, v, reason));
  CHECK(reason == "checksum mismatch");

  f::MetaRecord m;
  m.checkpoint = 5;
  m.previous = 4;
  m.operators = {{1, 1, 10}, {4, 3, 0}};
  m.artifacts = 2;
  m.meta = std::string("bytes\0with nul", 14);
  std::string bytes = f::encodeMeta(m);
  f::MetaRecord back;
  REQUIRE(f::decodeMeta(bytes, back, reason));
  CHECK(back.checkpoint == 5);
  CHECK(back.operators.size() == 2);
  CHECK(back.find(4)->generation == 3);
  CHECK(back.meta == m.meta);
  bytes[20] ^= 1;
  CHECK_FALSE(f::decodeMeta(bytes, back, reason));
  CHECK(reason == "meta record: checksum mismatch");

  f::UndoKey key;
  const std::string undo_key = f::undoRecordKey(9, 3, "k"); // key.key points into it
  REQUIRE(f::parseUndoKey(undo_key, key));
  CHECK((key.checkpoint == 9 && key.kind == f::UndoKind::Record && key.op == 3 && key.key == "k"));
  CHECK(f::undoPrefix(255) < f::undoPrefix(256)); // bytewise order is checkpoint order
  std::uint64_t op = 0, gen = 0;
  REQUIRE(f::parseFamilyName(f::familyName(12, 40), op, gen));
  CHECK((op == 12 && gen == 40));
  CHECK_FALSE(f::parseFamilyName("op-1", op, gen));
  CHECK(f::printable(std::string("a\x01\"", 3)) == "\"a\\x01\\\"\"");
}

TEST_CASE("a checkpoint writes only what changed: put, erase, unchanged keys", "[store]") {
  TempDir tmp;
  auto store = openOk(tmp.store());
  CHECK_FALSE(store->latest());
  std::string error;
  CHECK_FALSE(store->read(error));
  CHECK(error.empty());

  const int keys = 10000;
  auto b1 = store->begin();
  CHECK(b1.id() == 1);
  for (int i = 0; i < keys; ++i) {
    b1.put(1, "key" + std::to_string(i), std::string(100, 'a' + i % 26));
  }
  b1.setMeta("positions@1");
  commitOk(*store, std::move(b1));
  auto s1 = store->stats();
  CHECK(s1.last_keys_put == keys);
  CHECK(s1.last_undo_entries == 0); // new keys need no undo entry
  CHECK(s1.live_keys == keys);
  CHECK(s1.last_bytes_written > keys * 100);

  auto b2 = store->begin();
  b2.put(1, "key42", "changed");
  b2.setMeta("positions@2");
  commitOk(*store, std::move(b2));
  auto s2 = store->stats();
  CHECK(store->latest() == 2u);
  CHECK(s2.last_keys_put == 1);
  CHECK(s2.last_undo_entries == 1);
  CHECK(s2.last_lookups == 1);
  // One changed key of 10,000: its value, its previous value in the undo journal, the meta.
  CHECK(s2.last_bytes_written < 600);
  std::printf("[store] 1 of %d keys changed: %llu bytes written, %llu lookup in %.1f us, "
              "commit %.2f ms\n",
              keys, static_cast<unsigned long long>(s2.last_bytes_written),
              static_cast<unsigned long long>(s2.last_lookups), s2.last_lookup_seconds * 1e6,
              s2.last_commit_seconds * 1e3);

  auto b3 = store->begin();
  b3.erase(1, "key7");
  b3.erase(1, "no such key"); // nothing happens
  commitOk(*store, std::move(b3));
  auto s3 = store->stats();
  CHECK(s3.last_keys_erased == 1);
  CHECK(s3.live_keys == keys - 1);

  auto check = [&](const CheckpointStore &st) {
    auto got = contents(st);
    CHECK(got.meta == "positions@2"); // unset meta: the previous one is kept
    const auto &k = got.operators.at(1);
    CHECK(k.size() == keys - 1);
    CHECK(k.at("key42") == "changed");
    CHECK(k.at("key43") == std::string(100, 'a' + 43 % 26));
    CHECK(k.count("key7") == 0);
  };
  check(*store);
  store.reset();
  auto again = openOk(tmp.store());
  CHECK(again->latest() == 3u);
  CHECK(again->fallbackReason().empty());
  check(*again);
}

TEST_CASE("operators are dropped, and started again under the same id", "[store]") {
  TempDir tmp;
  auto store = openOk(tmp.store());
  auto b1 = store->begin();
  b1.put(1, "x", "1x");
  b1.put(2, "y", "2y");
  b1.put(2, "z", "2z");
  commitOk(*store, std::move(b1));

  auto b2 = store->begin();
  b2.dropOperator(2);
  b2.put(3, "w", "3w");
  commitOk(*store, std::move(b2));
  auto got = contents(*store);
  CHECK(got.operators.size() == 2);
  CHECK(got.operators.count(2) == 0);
  CHECK(got.operators.at(3).at("w") == "3w");
  CHECK(store->stats().operator_families == 3); // checkpoint 1 still needs operator 2's

  // Dropped and put to in the same checkpoint: an empty operator with only the new key.
  auto b3 = store->begin();
  b3.put(1, "old", "gone with the drop");
  b3.dropOperator(1);
  b3.put(1, "new", "1new");
  b3.erase(4, "nothing"); // an erase alone does not create operator 4
  commitOk(*store, std::move(b3));
  got = contents(*store);
  CHECK(got.operators.at(1) == std::map<std::string, std::string>{{"new", "1new"}});
  CHECK(got.operators.count(4) == 0);
  // Operator 2's family is gone; operator 1's old one stays for checkpoint 2.
  CHECK(store->stats().operator_families == 3);

  // Operator 2 again, after its drop was committed: it starts empty.
  auto b4 = store->begin();
  b4.put(2, "z2", "again");
  commitOk(*store, std::move(b4));
  store.reset();
  auto again = openOk(tmp.store());
  got = contents(*again);
  CHECK(got.operators.at(2) == std::map<std::string, std::string>{{"z2", "again"}});
  CHECK(again->stats().operators == 3);
}

TEST_CASE("artifacts are put once, erased explicitly, and read by hash", "[store]") {
  TempDir tmp;
  auto store = openOk(tmp.store());
  std::string big(300000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>(i * 31 % 251);
  }
  auto b1 = store->begin();
  b1.putArtifact("sha256:aa", big);
  b1.putArtifact("sha256:bb", "small");
  commitOk(*store, std::move(b1));
  auto b2 = store->begin();
  b2.eraseArtifact("sha256:bb");
  b2.eraseArtifact("sha256:never");
  commitOk(*store, std::move(b2));
  std::string error;
  auto reader = store->read(error);
  REQUIRE(reader);
  CHECK(reader->artifactHashes(error) == std::vector<std::string>{"sha256:aa"});
  CHECK(reader->artifact("sha256:aa", error) == big);
  CHECK_FALSE(reader->artifact("sha256:bb", error));
  CHECK(error.empty());
}

TEST_CASE("a reader keeps showing its checkpoint after later commits", "[store]") {
  TempDir tmp;
  auto store = openOk(tmp.store());
  twoCheckpoints(*store);
  std::string error;
  auto reader = store->read(error);
  REQUIRE(reader);
  auto b3 = store->begin();
  b3.put(1, "a", "a3");
  b3.dropOperator(1);
  commitOk(*store, std::move(b3));
  auto b4 = store->begin();
  b4.put(5, "e", "e4");
  commitOk(*store, std::move(b4)); // operator 1's column family is dropped now
  std::map<std::string, std::string> keys;
  REQUIRE(reader->forEach(
      1, [&](std::string_view k, std::string_view v) { keys.emplace(k, v); }, error));
  CHECK(keys == checkpointTwo().operators.at(1));
  CHECK(reader->id == 2);
  store.reset();
  CHECK_THROWS_AS(reader->forEach(1, {}, error), cep::InternalError);
}

TEST_CASE("a batch for another checkpoint is refused", "[store]") {
  TempDir tmp;
  auto store = openOk(tmp.store());
  auto first = store->begin();
  auto second = store->begin();
  first.put(1, "k", "v");
  commitOk(*store, std::move(first));
  std::string error;
  CHECK_FALSE(store->commit(std::move(second), error));
  CHECK(contains(error, "the batch is for checkpoint 1 but the store is at checkpoint 1"));
  CHECK(store->latest() == 1u);
}

TEST_CASE("a damaged latest checkpoint falls back to the one before", "[store]") {
  TempDir tmp;
  std::string reason_part;
  {
    auto store = openOk(tmp.store());
    twoCheckpoints(*store);
    SECTION("a value the latest wrote fails its checksum") {
      REQUIRE(store->corruptForTest(1, "a"));
      reason_part = "checkpoint 2 is damaged (operator 1, key \"a\": checksum mismatch): using "
                    "checkpoint 1 before it";
    }
    SECTION("the meta record fails its checksum") {
      REQUIRE(store->corruptMetaForTest());
      reason_part = "checkpoint 2 is damaged (meta record: checksum mismatch)";
    }
    SECTION("a key the latest added is missing: the counts disagree") {
      REQUIRE(store->eraseForTest(1, "d"));
      reason_part = "operator 1 holds 2 key records, its meta expects 3";
    }
  }
  auto store = openOk(tmp.store());
  CHECK(store->latest() == 1u);
  INFO(store->fallbackReason());
  CHECK(contains(store->fallbackReason(), reason_part));
  std::string error;
  {
    auto reader = store->read(error);
    REQUIRE(reader);
    CHECK(reader->fallback_reason == store->fallbackReason());
  }
  requireEqual(contents(*store), checkpointOne());

  // The next commit is numbered 3 and continues from checkpoint 1: checkpoint 2 is undone.
  auto b = store->begin();
  CHECK(b.id() == 3);
  b.put(1, "b", "b3");
  b.setMeta("m3");
  commitOk(*store, std::move(b));
  auto want = checkpointOne();
  want.meta = "m3";
  want.operators[1]["b"] = "b3";
  requireEqual(contents(*store), want);
  CHECK(store->fallbackReason().empty());
  store.reset();
  auto again = openOk(tmp.store());
  CHECK(again->latest() == 3u);
  CHECK(again->fallbackReason().empty());
  requireEqual(contents(*again), want);
  // And checkpoint 3's own fallback is checkpoint 1.
  REQUIRE(again->corruptForTest(1, "b"));
  again.reset();
  auto third = openOk(tmp.store());
  CHECK(third->latest() == 1u);
  requireEqual(contents(*third), checkpointOne());
}

TEST_CASE("a fallback undoes operators the damaged checkpoint created and dropped", "[store]") {
  TempDir tmp;
  {
    auto store = openOk(tmp.store());
    auto b1 = store->begin();
    b1.put(1, "a", "a1");
    b1.put(2, "b", "b1");
    b1.put(4, "x", "x1");
    commitOk(*store, std::move(b1));
    auto b2 = store->begin();
    b2.dropOperator(2);   // dropped by the damaged checkpoint
    b2.put(3, "c", "c2"); // created by it
    b2.dropOperator(4);   // dropped and started again by it
    b2.put(4, "y", "y2");
    b2.put(1, "a", "a2");
    b2.erase(1, "a");             // erased by it
    b2.putArtifact("h", "bytes"); // an artifact it added
    commitOk(*store, std::move(b2));
    REQUIRE(store->corruptForTest(3, "c"));
  }
  model::State one;
  one.operators[1] = {{"a", "a1"}};
  one.operators[2] = {{"b", "b1"}};
  one.operators[4] = {{"x", "x1"}};
  auto store = openOk(tmp.store());
  CHECK(store->latest() == 1u);
  CHECK(contains(store->fallbackReason(), "operator 3, key \"c\": checksum mismatch"));
  requireEqual(contents(*store), one);

  // Continuing from checkpoint 1: operator 3 starts again, empty; 2 and 4 have their old keys.
  auto b3 = store->begin();
  b3.put(3, "d", "d3");
  b3.put(2, "b2", "new");
  commitOk(*store, std::move(b3));
  one.operators[3] = {{"d", "d3"}};
  one.operators[2]["b2"] = "new";
  requireEqual(contents(*store), one);
  // The families only the damaged checkpoint had (3 and 4 of generation 2) are dropped:
  // checkpoint 3 and its fallback 1 use 1, 2, 4 of generation 1 and 3 of generation 3.
  CHECK(store->stats().operator_families == 4);
  auto b4 = store->begin();
  commitOk(*store, std::move(b4));
  CHECK(store->stats().operator_families == 4);
  store.reset();
  auto again = openOk(tmp.store());
  CHECK(again->latest() == 4u);
  requireEqual(contents(*again), one);
}

TEST_CASE("a damaged checkpoint whose fallback is damaged too is an error", "[store]") {
  TempDir tmp;
  std::string part;
  {
    auto store = openOk(tmp.store());
    twoCheckpoints(*store);
    SECTION("a value both checkpoints hold") {
      REQUIRE(store->corruptForTest(1, "b"));
      part = "checkpoint 2 is damaged (operator 1, key \"b\": checksum mismatch) and so is "
             "checkpoint 1 before it (operator 1, key \"b\": checksum mismatch); no usable "
             "checkpoint";
    }
    SECTION("a key both checkpoints hold is missing") {
      REQUIRE(store->eraseForTest(1, "b"));
      part = "and so is checkpoint 1 before it (operator 1 holds 2 key records, its meta "
             "expects 3)";
    }
  }
  auto error = openError(tmp.store());
  INFO(error);
  CHECK(contains(error, part));
  CHECK(contains(error, "move the folder away to start empty"));
}

TEST_CASE("a damaged first checkpoint is an error, not an empty state", "[store]") {
  TempDir tmp;
  {
    auto store = openOk(tmp.store());
    auto b = store->begin();
    b.put(1, "a", "a1");
    commitOk(*store, std::move(b));
    REQUIRE(store->corruptForTest(1, "a"));
  }
  auto error = openError(tmp.store());
  CHECK(contains(error, "checkpoint 1 is damaged (operator 1, key \"a\": checksum mismatch) and "
                        "there is no checkpoint before it"));
}

TEST_CASE("a torn WAL tail opens at the previous complete checkpoint", "[store]") {
  TempDir tmp;
  auto newestWal = [](const std::string &dir) {
    fs::path wal;
    for (const auto &entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".log" && (wal.empty() || entry.path() > wal)) {
        wal = entry.path();
      }
    }
    REQUIRE_FALSE(wal.empty());
    return wal;
  };
  std::uintmax_t before = 0, after = 0; // the WAL's size without and with checkpoint 3
  {
    auto store = openOk(tmp.store());
    commitHistory(*store, 1, 2);
    before = fs::file_size(newestWal(tmp.store()));
    commitHistory(*store, 3, 3);
    after = fs::file_size(newestWal(tmp.store()));
  }
  REQUIRE(after > before + 100);
  // Checkpoint 3's batch is the WAL's last record: cut it anywhere, as a kill mid-write would.
  for (std::uintmax_t cut : {before + 1, before + 7, (before + after) / 2, after - 1}) {
    INFO("WAL cut at " << cut << " of " << after << " bytes (checkpoint 3 from " << before << ")");
    TempDir copy;
    fs::copy(tmp.store(), copy.store(), fs::copy_options::recursive);
    fs::resize_file(newestWal(copy.store()), cut);
    auto store = openOk(copy.store());
    CHECK(store->latest() == 2u);
    CHECK(store->fallbackReason().empty()); // a torn commit is not damage: it never completed
    requireEqual(contents(*store), model::stateAfter(2));
    commitHistory(*store, 3, 4);
    requireEqual(contents(*store), model::stateAfter(4));
  }
  auto whole = openOk(tmp.store());
  CHECK(whole->latest() == 3u);
  requireEqual(contents(*whole), model::stateAfter(3));
}

TEST_CASE("a damaged SST file is reported by RocksDB and refused", "[store]") {
  TempDir tmp;
  std::vector<std::string> files;
  {
    auto store = openOk(tmp.store());
    commitHistory(*store, 1, 2);
    REQUIRE(store->flushForTest());
    files = store->sstFilesForTest(2);
  }
  REQUIRE(files.size() == 1);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp(100);
    std::string junk(64, '\x7f');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto error = openError(tmp.store());
  INFO(error);
  CHECK(contains(error, "Corruption"));
  CHECK(contains(error, "no usable checkpoint"));
}

TEST_CASE("opening what is not a checkpoint store is refused with the reason", "[store]") {
  TempDir tmp;
  SECTION("a file") {
    std::ofstream(tmp.store()) << "hello";
    CHECK(contains(openError(tmp.store()), "it exists and is not a folder"));
  }
  SECTION("a folder with other files") {
    fs::create_directory(tmp.store());
    std::ofstream(tmp.store() + "/notes.txt") << "mine";
    CHECK(contains(openError(tmp.store()), "the folder is not empty and holds no RocksDB "
                                           "database (no CURRENT file): not a checkpoint store"));
    CHECK(fs::exists(tmp.store() + "/notes.txt"));
    CHECK_FALSE(fs::exists(tmp.store() + "/CURRENT"));
  }
  SECTION("a folder whose parent does not exist") {
    CHECK(contains(openError(tmp.store() + "/deeper"), "cannot create the folder"));
  }
  SECTION("what RocksDB writes before CURRENT, beside a file of someone else's") {
    fs::create_directory(tmp.store());
    std::ofstream(tmp.store() + "/LOCK");
    std::ofstream(tmp.store() + "/notes.txt") << "mine";
    CHECK(contains(openError(tmp.store()), "not a checkpoint store"));
    CHECK(fs::exists(tmp.store() + "/LOCK"));
    CHECK(fs::exists(tmp.store() + "/notes.txt"));
  }
  SECTION("another RocksDB database, left as it was") {
    std::string cmd = std::string(CEP_STORE_KILL_HELPER) + " foreign " + tmp.store();
    REQUIRE(std::system(cmd.c_str()) == 0);
    auto files = [&] {
      std::map<std::string, std::uintmax_t> out;
      for (const auto &e : fs::directory_iterator(tmp.store())) {
        if (e.path().filename().string().rfind("LOG", 0) != 0) { // RocksDB's info log
          out[e.path().filename().string()] = fs::file_size(e.path());
        }
      }
      return out;
    };
    auto before = files();
    CHECK(contains(openError(tmp.store()),
                   "it is a RocksDB database but not a cep checkpoint store"));
    CHECK(files() == before);
  }
  SECTION("a store of another format") {
    std::string cmd = std::string(CEP_STORE_KILL_HELPER) + " foreign " + tmp.store() +
                      " 'cep checkpoint store, format 2'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(contains(openError(tmp.store()),
                   "it is a checkpoint store of format 2, this cep reads format 1"));
  }
  SECTION("a store that is open already") {
    auto store = openOk(tmp.store());
    CHECK(contains(openError(tmp.store()), "it is in use by another process"));
  }
}

TEST_CASE("a process killed at random moments while committing loses no checkpoint", "[store]") {
  TempDir tmp;
  std::mt19937_64 rng(Catch::rngSeed() + 11);
  std::uint64_t reported = 0; // the last checkpoint a child said was committed
  const int kills = 24;
  int unreported = 0; // opened at a checkpoint whose commit had returned but was not reported
  int in_commit = 0;  // killed between "b ID" and "c ID"
  for (int round = 0; round < kills; ++round) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string helper = CEP_STORE_KILL_HELPER, mode = "commit", dir = tmp.store();
    char *argv[] = {helper.data(), mode.data(), dir.data(), nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, helper.c_str(), &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);

    // Wait for 1..4 commits of this child (the first one shows it recovered), then kill it
    // at a random instant of the commits that follow.
    int target = 1 + static_cast<int>(rng() % 4);
    int seen = 0;
    std::string pending;
    bool committing = false; // the last line was "b ID": killed building or committing ID
    auto takeLines = [&] {
      int commits = 0;
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        committing = pending[0] == 'b';
        if (pending[0] == 'c') {
          reported = std::stoull(pending.substr(2, nl - 2));
          ++commits;
        }
        pending.erase(0, nl + 1);
      }
      return commits;
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (seen < target && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 1000) <= 0) {
        continue;
      }
      char buf[256];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      seen += takeLines();
    }
    REQUIRE(seen >= target);
    // Not waiting for a condition: the point is a kill at an unpredictable instant, mostly
    // inside a commit (0-6 ms; a commit of the history takes about 1-10 ms here).
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 6000));
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    // Lines written before the kill: the last reported commit.
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) {
      pending.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    takeLines();
    in_commit += committing ? 1 : 0;

    auto store = openOk(tmp.store());
    REQUIRE(store->latest());
    std::uint64_t latest = *store->latest();
    INFO("round " << round << ": reported " << reported << ", opened at " << latest);
    // Every reported commit is there; at most the one being written when killed is too.
    CHECK(latest >= reported);
    CHECK(latest <= reported + 1);
    CHECK(store->fallbackReason().empty());
    requireEqual(contents(*store), model::stateAfter(latest));
    unreported += latest > reported ? 1 : 0;
    reported = latest;
  }
  std::printf("[store] %d kills: %d while building or committing a checkpoint, %d of which "
              "reopened with it (its WAL record was written, the sync not returned); the store "
              "at %llu checkpoints\n",
              kills, in_commit, unreported, static_cast<unsigned long long>(reported));
  CHECK(in_commit > 0); // the kills do land inside commits
}

TEST_CASE("checkpoint cost with 1M keys of which 1% changed", "[.][store-bench]") {
  TempDir tmp;
  const std::uint64_t keys = 1000000, changed = keys / 100;
  std::mt19937_64 rng(7);
  // 100 bytes that do not compress much (a run's state is mostly numbers and ids).
  auto value = [&] {
    std::string v(100, ' ');
    for (auto &c : v) {
      c = static_cast<char>('0' + rng() % 64);
    }
    return v;
  };
  auto store = openOk(tmp.store());
  auto key = [](std::uint64_t i) { return "\"card-" + std::to_string(i * 7919 % 1000003) + "\""; };
  auto t0 = std::chrono::steady_clock::now();
  auto b1 = store->begin();
  for (std::uint64_t i = 0; i < keys; ++i) {
    b1.put(i % 4, key(i), value());
  }
  commitOk(*store, std::move(b1));
  auto s1 = store->stats();
  std::printf("[store-bench] load: %llu keys in 4 operators, %.0f MB written, commit %.2f s "
              "(batch built and committed in %.2f s)\n",
              static_cast<unsigned long long>(keys), s1.last_bytes_written / 1e6,
              s1.last_commit_seconds,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  for (int round = 0; round < 5; ++round) {
    auto b = store->begin();
    for (std::uint64_t c = 0; c < changed; ++c) {
      std::uint64_t i = rng() % keys;
      b.put(i % 4, key(i), value());
    }
    b.setMeta("positions");
    commitOk(*store, std::move(b));
    auto s = store->stats();
    std::printf("[store-bench] checkpoint %llu: %llu keys changed (1%%), %.2f MB written "
                "(%llu undo entries), %llu lookups in %.1f ms, commit %.1f ms, live SST %.0f MB\n",
                static_cast<unsigned long long>(s.last_checkpoint),
                static_cast<unsigned long long>(s.last_keys_put), s.last_bytes_written / 1e6,
                static_cast<unsigned long long>(s.last_undo_entries),
                static_cast<unsigned long long>(s.last_lookups), s.last_lookup_seconds * 1e3,
                s.last_commit_seconds * 1e3, s.live_sst_bytes / 1e6);
    if (round == 2) {
      REQUIRE(store->flushForTest()); // the later lookups read SST files, not only memtables
    }
  }
  store.reset();
  auto t1 = std::chrono::steady_clock::now();
  auto again = openOk(tmp.store());
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::uint64_t n = 0;
  std::string error;
  auto reader = again->read(error);
  REQUIRE(reader);
  auto t2 = std::chrono::steady_clock::now();
  for (auto op : reader->operators()) {
    REQUIRE(reader->forEach(
        op, [&](std::string_view, std::string_view) { ++n; }, error));
  }
  double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  CHECK(n == again->stats().live_keys);
  REQUIRE(again->flushForTest());
  auto st = again->stats();
  std::printf("[store-bench] recovery of %llu keys: open and verify %.2f s, read all %.2f s; "
              "on disk %.0f MB of SST files, %.0f bytes per key (values of 100 bytes)\n",
              static_cast<unsigned long long>(n), open_s, read_s, st.live_sst_bytes / 1e6,
              static_cast<double>(st.live_sst_bytes) / static_cast<double>(n));
}

namespace {

// Every file of a folder, name -> bytes (what a read-only open must leave as it was).
std::map<std::string, std::string> folderBytes(const std::string &dir) {
  std::map<std::string, std::string> out;
  for (const auto &e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

std::unique_ptr<CheckpointStore> openReadOnlyOk(const std::string &dir) {
  std::string error;
  auto store = CheckpointStore::openReadOnly(dir, {}, error);
  INFO(error);
  REQUIRE(store);
  CHECK(store->readOnly());
  return store;
}

std::string openReadOnlyError(const std::string &dir) {
  std::string error;
  auto store = CheckpointStore::openReadOnly(dir, {}, error);
  CHECK_FALSE(store);
  return error;
}

} // namespace

TEST_CASE("a read-only open reads the latest checkpoint of a store another handle writes",
          "[store]") {
  TempDir tmp;
  auto writer = openOk(tmp.store());
  twoCheckpoints(*writer);
  auto before = folderBytes(tmp.store());
  {
    auto reader = openReadOnlyOk(tmp.store()); // the writer holds RocksDB's LOCK
    CHECK(reader->latest() == 2u);
    CHECK(reader->fallbackReason().empty());
    requireEqual(contents(*reader), checkpointTwo());
    std::string error;
    auto batch = reader->begin();
    batch.put(1, "z", "z");
    CHECK_FALSE(reader->commit(std::move(batch), error));
    CHECK(contains(error, "it was opened read-only: nothing can be committed"));
    CHECK(folderBytes(tmp.store()) == before); // nothing written by the read-only handle

    // The writer goes on; the read-only handle shows the store as it was when opened.
    auto b3 = writer->begin();
    b3.put(1, "e", "e3");
    b3.setMeta("m3");
    commitOk(*writer, std::move(b3));
    CHECK(reader->latest() == 2u);
    requireEqual(contents(*reader), checkpointTwo());
  }
  auto again = openReadOnlyOk(tmp.store());
  CHECK(again->latest() == 3u);
  auto want = checkpointTwo();
  want.meta = "m3";
  want.operators[1]["e"] = "e3";
  requireEqual(contents(*again), want);
  again.reset();
  writer.reset();

  // With no writer either: every file byte for byte as it was, none added or removed.
  auto closed = folderBytes(tmp.store());
  {
    auto reader = openReadOnlyOk(tmp.store());
    requireEqual(contents(*reader), want);
  }
  CHECK(folderBytes(tmp.store()) == closed);
}

TEST_CASE("a read-only open falls back from a damaged checkpoint as recovery does", "[store]") {
  TempDir tmp;
  {
    auto store = openOk(tmp.store());
    twoCheckpoints(*store);
    REQUIRE(store->corruptForTest(1, "a"));
  }
  auto before = folderBytes(tmp.store());
  {
    auto reader = openReadOnlyOk(tmp.store());
    CHECK(reader->latest() == 1u);
    CHECK(contains(reader->fallbackReason(),
                   "checkpoint 2 is damaged (operator 1, key \"a\": checksum mismatch): using "
                   "checkpoint 1 before it"));
    std::string error;
    auto r = reader->read(error);
    REQUIRE(r);
    CHECK(r->fallback_reason == reader->fallbackReason());
    requireEqual(contents(*reader), checkpointOne());
  }
  CHECK(folderBytes(tmp.store()) == before); // the damaged checkpoint is not undone on disk
  auto store = openOk(tmp.store());          // the writer's recovery agrees
  CHECK(store->latest() == 1u);
}

TEST_CASE("a creation killed before CURRENT is cleared and the store created afresh", "[store]") {
  // What a process killed while RocksDB created the database leaves (seen in the kill loop):
  // the lock, the info log, the identity and a manifest not yet renamed to CURRENT.
  TempDir tmp;
  fs::create_directory(tmp.store());
  for (const char *name : {"LOCK", "LOG", "IDENTITY", "000001.dbtmp", "MANIFEST-000001"}) {
    std::ofstream(tmp.store() + "/" + name) << "partial";
  }
  std::string error;
  auto store = CheckpointStore::open(tmp.store(), {}, error);
  REQUIRE(store);
  CHECK(error.empty());
  CHECK(store->openNote() == "the folder held an interrupted creation (" +
                                 std::string("000001.dbtmp, IDENTITY, LOCK, LOG, MANIFEST-000001") +
                                 ", no CURRENT file: never a checkpoint); cleared, created afresh");
  CHECK_FALSE(store->latest());
  auto batch = store->begin();
  batch.put(1, "k", "v");
  batch.setMeta("m");
  REQUIRE(store->commit(std::move(batch), error));
  store.reset();
  auto again = CheckpointStore::open(tmp.store(), {}, error);
  REQUIRE(again);
  CHECK(again->openNote().empty());
  CHECK(again->latest() == std::optional<std::uint64_t>(1));
}

TEST_CASE("a read-only open refuses what is not a checkpoint store, changing nothing", "[store]") {
  TempDir tmp;
  SECTION("no such folder") {
    CHECK(contains(openReadOnlyError(tmp.store()), "no such folder"));
    CHECK_FALSE(fs::exists(tmp.store()));
  }
  SECTION("a file") {
    std::ofstream(tmp.store()) << "hello";
    CHECK(contains(openReadOnlyError(tmp.store()), "it is not a folder"));
  }
  SECTION("an empty folder") {
    fs::create_directory(tmp.store());
    CHECK(contains(openReadOnlyError(tmp.store()), "holds no RocksDB database"));
    CHECK(fs::is_empty(tmp.store()));
  }
  SECTION("another RocksDB database") {
    std::string cmd = std::string(CEP_STORE_KILL_HELPER) + " foreign " + tmp.store();
    REQUIRE(std::system(cmd.c_str()) == 0);
    auto before = folderBytes(tmp.store());
    CHECK(contains(openReadOnlyError(tmp.store()),
                   "it is a RocksDB database but not a cep checkpoint store"));
    CHECK(folderBytes(tmp.store()) == before);
  }
  SECTION("a store without a checkpoint yet") {
    openOk(tmp.store()).reset();
    auto reader = openReadOnlyOk(tmp.store());
    CHECK_FALSE(reader->latest());
    std::string error;
    CHECK_FALSE(reader->read(error));
    CHECK(error.empty());
  }
}

TEST_CASE("read-only opens while a writer commits and flushes see whole checkpoints", "[store]") {
  TempDir tmp;
  StoreOptions small;
  small.write_buffer_bytes = 64 << 10; // frequent flushes and compactions: files come and go
  auto writer = openOk(tmp.store(), small);
  commitHistory(*writer, 1, 5);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> committed{5};
  std::string writer_error;
  std::thread commits([&] {
    for (std::uint64_t i = 6; i <= 400 && !stop; ++i) {
      auto batch = writer->begin();
      model::changesOf(i, batch);
      if (!writer->commit(std::move(batch), writer_error)) {
        return;
      }
      committed = i;
      if (i % 25 == 0) {
        writer->flushForTest();
      }
      // A server commits at most every --checkpoint-every (100 ms in the chaos tests); this
      // history also creates or drops a column family every few checkpoints (a deploy does).
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::size_t opened = 0;
  std::set<std::uint64_t> seen;
  for (int round = 0; round < 20; ++round) {
    std::string error;
    auto reader = CheckpointStore::openReadOnly(tmp.store(), {}, error);
    INFO(error);
    REQUIRE(reader);
    ++opened;
    REQUIRE(reader->latest());
    const std::uint64_t id = *reader->latest();
    INFO(reader->fallbackReason());
    CHECK(reader->fallbackReason().empty());
    seen.insert(id);
    INFO("checkpoint " << id);
    requireEqual(contents(*reader), model::stateAfter(id));
  }
  stop = true;
  commits.join();
  INFO(writer_error);
  CHECK(writer_error.empty());
  CHECK(opened == 20);
  CHECK(committed > 5u);
}

TEST_CASE("discardLatest goes back to the checkpoint before, on purpose", "[store]") {
  // `cep serve` discards a checkpoint written before a Kafka transaction that did not commit
  // (docs/kafka.md, "Exactly once"): the same path as a damaged latest checkpoint.
  std::string error;
  {
    TempDir alone;
    auto store = openOk(alone.store());
    auto first = store->begin();
    first.put(1, "a", "a1");
    first.setMeta("m1");
    commitOk(*store, std::move(first));
    CHECK_FALSE(store->discardLatest("its transaction did not commit", error));
    CHECK(contains(error, "there is no checkpoint before it"));
    CHECK(store->latest() == 1u); // unchanged
    CHECK(store->fallbackReason().empty());
  }
  TempDir tmp;
  {
    auto store = openOk(tmp.store());
    twoCheckpoints(*store);
    REQUIRE(store->discardLatest("its transaction did not commit", error));
    CHECK(store->latest() == 1u);
    CHECK(contains(store->fallbackReason(), "checkpoint 2 is discarded (its transaction did not "
                                            "commit): using checkpoint 1 before it"));
    requireEqual(contents(*store), checkpointOne());
    CHECK_FALSE(store->discardLatest("again", error)); // once
    CHECK(contains(error, "once"));
  }
  {
    // Until the next commit the discard is in memory: a restart decides again.
    auto store = openOk(tmp.store());
    CHECK(store->latest() == 2u);
    REQUIRE(store->discardLatest("its transaction did not commit", error));
    auto b = store->begin();
    CHECK(b.id() == 3);
    b.put(1, "b", "b3");
    b.setMeta("m3");
    commitOk(*store, std::move(b));
  }
  auto store = openOk(tmp.store());
  CHECK(store->latest() == 3u);
  auto want = checkpointOne();
  want.meta = "m3";
  want.operators[1]["b"] = "b3";
  requireEqual(contents(*store), want);
}
