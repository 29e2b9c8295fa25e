// The checkpoint store: numbered checkpoints of opaque bytes in a RocksDB database under one
// folder, each committed as ONE atomic WriteBatch, written incrementally, checksummed, with an
// undo journal that can fall back one checkpoint when the latest is found damaged. It knows
// nothing of matchers, events or `cep serve`: its callers produce the bytes.
// README.md (this folder) draws the key layout; RocksDB's headers stay in the .cpp (pimpl).
//
// A checkpoint N (1, 2, ...; increasing) is:
//   - one META blob: the run's small state (positions, watermarks, counters, served patterns);
//   - per OPERATOR (a u64 id; one RocksDB column family each, created on first use, dropped
//     when the operator is), KEY RECORDS: key bytes -> value bytes. A checkpoint carries only
//     the keys put or erased since the previous one; unchanged keys are not rewritten;
//   - ARTIFACTS: content hash -> bytes, put once, erased explicitly.
//
//   std::string error;
//   auto store = CheckpointStore::open("/var/lib/cep/state", StoreOptions{}, error);
//   if (!store) { /* error: `checkpoint store "/var/lib/cep/state": ...` */ }
//   if (auto r = store->read(error)) {             // recovery: the latest usable checkpoint
//     if (!r->fallback_reason.empty()) { /* print it: the latest was damaged */ }
//     restoreRunState(r->meta);
//     for (std::uint64_t op : r->operators()) {
//       r->forEach(op, [&](std::string_view key, std::string_view value) { ... }, error);
//     }
//   } else if (!error.empty()) { /* no usable checkpoint: refuse to start */ }
//   auto batch = store->begin();                  // the next checkpoint, batch.id()
//   batch.put(7, R"("card-1")", runs_bytes);       // changed since the last checkpoint
//   batch.erase(7, R"("card-2")");                 // its state went away
//   batch.dropOperator(3);                         // the pattern was undeployed
//   batch.putArtifact("sha256:ab12...", cepo_bytes);
//   batch.setMeta(run_meta_bytes);
//   if (!store->commit(std::move(batch), error)) { /* the previous checkpoint stands */ }
//
// Integrity. Every stored value carries a CRC-32C over its bytes, its key, its operator and
// the id of the checkpoint that wrote it (its "writer"). The meta record carries the
// checkpoint id, the count of key records it expects per operator and of artifacts, and its
// own CRC-32C. Opening the store verifies the latest checkpoint whole (one pass over every
// stored record: the cost of recovery, which reads them all anyway): a checksum mismatch, a
// count that disagrees with what is stored, a value written after the checkpoint, or RocksDB
// reporting corruption make it DAMAGED; the store then verifies and uses the one before it
// (`fallbackReason()` says why), and if that one is damaged too, `open` fails with both
// reasons (never a silent empty state). An interrupted commit is atomic in RocksDB: a torn
// WAL record is dropped on open (point-in-time recovery), so a kill -9 at any instant leaves
// the previous complete checkpoint.
//
// The undo journal (what falling back costs). Committing checkpoint N also writes, into the
// `undo` column family under (N, operator, key), the PREVIOUS stored value of every key it
// overwrites or erases (read with one point lookup per changed key: a batched MultiGet, the
// bloom filters answering most lookups of new keys without reading a block), and the previous
// meta record; the same batch deletes the undo entries of N-1 (one DeleteRange). A key N adds
// needs no entry: its value's writer is N, so "absent before N" is read from the value itself.
// Checkpoint N-1 is then "the current values with N's undo entries applied, minus the keys N
// added". So a commit writes each changed key about twice (its value and the old one) and
// reads it once; unchanged keys cost nothing. StoreStats shows each commit's share (lookups
// and their time); `cep_unit_tests "[store-bench]"` measures 1% of 1M keys changed: 10k
// lookups, 2.8 MB written per checkpoint (numbers in README.md). Operators created by N
// need no undo entries, and the column family of an operator dropped by N lives on until
// checkpoint N+1 is committed (N-1 may still need it).
//
// A fallback can also be asked for: discardLatest (a Kafka transaction that did not commit).
// After a fallback to N-1 the next commit (numbered N+1: ids never repeat) first undoes N in
// the same WriteBatch, so the store continues from what the caller restored.
//
// Not thread-safe: one thread uses a store (and its readers and batches) at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::store {

// RocksDB is configured for this use, not left at its defaults (README.md has the table):
//   - a column family per operator: dropping an operator drops its family, no key-by-key
//     delete; one pattern's lookups and compactions do not touch the others';
//   - a bloom filter per family (BlockBasedTableOptions, NewBloomFilterPolicy(10)): every
//     commit looks up each changed key, and a new key is answered "absent" without a block read;
//   - one LRU block cache shared by every family, index and filter blocks in it: one memory
//     budget for the hot keys of all operators;
//   - level compaction (dynamic level sizes), 16 MiB write buffers under a shared cap: bounded
//     space for state overwritten in place, bounded memtable memory however many operators;
//   - create_missing_column_families: a fresh store gets `undo` and `artifacts` at creation;
//   - point-in-time WAL recovery: a torn last record (a kill mid-commit) is dropped, so the
//     store opens at the last complete WriteBatch, never inside one;
//   - paranoid_checks, and reads with verify_checksums: RocksDB refuses missing or damaged files
//     and reports damaged blocks instead of going on.
struct StoreOptions {
  // Commits fsync the WAL before returning (a checkpoint survives a power loss, not only a
  // kill). false: a kill -9 still loses nothing committed; a power loss may lose the last ones
  // (the store then opens at an earlier complete checkpoint).
  bool sync = true;
  // One LRU block cache shared by every column family (data, index and filter blocks).
  std::size_t block_cache_bytes = std::size_t{64} << 20;
  // Memtable size per column family, and the cap over all of them (a WriteBufferManager):
  // many operators do not multiply the memory.
  std::size_t write_buffer_bytes = std::size_t{16} << 20;
  std::size_t total_write_buffer_bytes = std::size_t{128} << 20;
  // Background flush and compaction threads.
  int background_jobs = 2;
};

// What the last commit cost, and the totals. Cheap to read (one RocksDB property).
struct StoreStats {
  std::uint64_t commits = 0;            // commits by this process since open
  std::uint64_t last_checkpoint = 0;    // 0: none yet
  std::uint64_t last_bytes_written = 0; // the WriteBatch's size (values, undo, meta)
  std::uint64_t last_keys_put = 0;      // key records and artifacts put
  std::uint64_t last_keys_erased = 0;   // key records and artifacts erased
  std::uint64_t last_undo_entries = 0;  // previous values journalled
  std::uint64_t last_lookups = 0;       // point lookups of previous values
  double last_lookup_seconds = 0;       // their time (part of the commit's)
  double last_commit_seconds = 0;       // begin of commit() to the synced write
  std::uint64_t live_keys = 0;          // key records of the latest checkpoint
  std::uint64_t operators = 0;          // live operators of the latest checkpoint
  std::uint64_t operator_families = 0;  // their column families on disk, and those the
                                        // checkpoint before still needs
  std::uint64_t live_sst_bytes = 0;     // "rocksdb.live-sst-files-size", all families
};

class CheckpointStore {
public:
  struct Impl;

  // The changes that make the next checkpoint. Later calls win over earlier ones for the same
  // key; put/erase after dropOperator(op) start a new, empty operator under the same id.
  class Batch {
  public:
    std::uint64_t id() const { return id_; } // the checkpoint it will be
    void put(std::uint64_t op, std::string_view key, std::string_view value);
    void putMoved(std::uint64_t op, std::string &&key, std::string &&value); // put, no copies
    void erase(std::uint64_t op, std::string_view key); // absent key: nothing happens
    void dropOperator(std::uint64_t op);                // every key record of op goes
    void putArtifact(std::string_view hash, std::string_view bytes);
    void eraseArtifact(std::string_view hash);
    void setMeta(std::string_view bytes); // unset: the previous checkpoint's meta is kept
    std::size_t changes() const;          // keys put or erased so far

  private:
    friend class CheckpointStore;
    struct OperatorChanges {
      bool drop_existing = false; // the committed operator under this id is dropped
      bool live = true;           // false: dropped and not put to since
      std::map<std::string, std::optional<std::string>, std::less<>> records; // nullopt: erase
    };
    Batch(const Impl *owner, std::uint64_t id) : owner_(owner), id_(id) {}
    const Impl *owner_ = nullptr;
    std::uint64_t id_ = 0;
    std::map<std::uint64_t, OperatorChanges> operators_;
    std::map<std::string, std::optional<std::string>, std::less<>> artifacts_;
    std::optional<std::string> meta_;
  };

  // One verified checkpoint, read at a RocksDB snapshot: later commits do not change what it
  // shows. Using it after its store was destroyed throws InternalError.
  class Reader {
  public:
    struct State;
    std::uint64_t id = 0;
    std::string meta;
    std::string
        fallback_reason; // not empty: the latest checkpoint was damaged, this is the one before

    std::vector<std::uint64_t> operators() const; // ascending
    std::uint64_t keyCount(std::uint64_t op) const;
    // Every key record of `op` in key order (bytewise); the views are valid during the call
    // only. False with `error` when RocksDB fails to read or a value no longer verifies.
    bool forEach(std::uint64_t op,
                 const std::function<void(std::string_view key, std::string_view value)> &fn,
                 std::string &error) const;
    // Ascending; empty with `error` when RocksDB fails to read or a value no longer verifies.
    std::vector<std::string> artifactHashes(std::string &error) const;
    // nullopt with an empty `error`: no such artifact in this checkpoint.
    std::optional<std::string> artifact(std::string_view hash, std::string &error) const;

    explicit Reader(std::shared_ptr<const State> state);

  private:
    std::shared_ptr<const State> state_;
  };

  // Opens the store in `dir`, creating the folder (one level) and the database when absent.
  // Refused, with `error`: a path that is not a folder, a non-empty folder that holds no
  // RocksDB database, a RocksDB database that is not a checkpoint store, a store of another
  // format version, a database another process has open, and a store whose latest checkpoint
  // and the one before are both damaged.
  static std::unique_ptr<CheckpointStore> open(const std::string &dir, const StoreOptions &options,
                                               std::string &error);
  // Opens an existing store READ-ONLY (RocksDB OpenForReadOnly: no lock, so a running server may
  // hold the store; no file of the folder is created, renamed or written, its info log
  // included) and finds the latest usable checkpoint exactly as open() does: verified whole,
  // falling back one checkpoint when the latest is damaged (fallbackReason()). What it shows is
  // the store as it was when opened (a server's later commits are not seen; open again).
  // RocksDB's read-only view of a database being written is not one point in time across its
  // files (a WAL or SST file removed between reads, a column family created, a flush between
  // the MANIFEST and the WAL): what that breaks (an open that fails, column families that
  // changed meanwhile, a missing marker, a checkpoint that looks damaged) is tried again from
  // the files as they are then, for up to about 1.5 s; a store really damaged gives the same
  // fallback every time and is then returned with it.
  // Refused, with `error`: a missing path, one that is not a folder or holds no RocksDB
  // database, a database that is not a checkpoint store or of another format, and a store whose
  // latest checkpoint and the one before are both damaged. commit() on it fails.
  static std::unique_ptr<CheckpointStore>
  openReadOnly(const std::string &dir, const StoreOptions &options, std::string &error);
  bool readOnly() const;
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore &) = delete;
  CheckpointStore &operator=(const CheckpointStore &) = delete;

  // The latest complete, intact checkpoint (nullopt: none yet).
  std::optional<std::uint64_t> latest() const;
  // Not empty when the latest checkpoint on disk was damaged and latest() is the one before.
  const std::string &fallbackReason() const;
  // Not empty when open() found a folder holding only what RocksDB writes before CURRENT while
  // it creates a database (a process killed during the first start): those files were removed
  // and the store created afresh; nothing was lost, no checkpoint ever existed there.
  const std::string &openNote() const;

  Batch begin() const; // for the next checkpoint
  // Writes the batch as one WriteBatch (synced when StoreOptions::sync); the checkpoint is
  // complete when this returns true. False with `error`: the previous checkpoint stands.
  bool commit(Batch &&batch, std::string &error);

  // Uses the checkpoint before the latest from now on, as when the latest is found damaged
  // (fallbackReason() says `checkpoint N is discarded (<reason>): using checkpoint N-1 before
  // it`; the next commit undoes N first). `cep serve` discards a checkpoint written before a
  // Kafka transaction that did not commit (docs/kafka.md, "Exactly once"). False with `error`,
  // the store unchanged, when there is no checkpoint before the latest (or it cannot be read),
  // or the latest was already left for the one before.
  //
  //   if (!store->discardLatest("its transaction did not commit", error)) { ... }
  //   auto r = store->read(error);              // checkpoint N-1
  bool discardLatest(const std::string &reason, std::string &error);

  // The latest usable checkpoint: nullopt with an empty `error` when there is none yet.
  std::optional<Reader> read(std::string &error) const;

  StoreStats stats() const;

  // Test hooks: damage the store behind its back. corruptForTest rewrites a stored value (one
  // payload byte flipped) without fixing its checksum; corruptMetaForTest does so to the meta
  // record; eraseForTest deletes a key record without updating the meta's counts; flushForTest
  // flushes every memtable to SST files. False when there is nothing to damage.
  bool corruptForTest(std::uint64_t op, std::string_view key);
  bool corruptMetaForTest();
  bool eraseForTest(std::uint64_t op, std::string_view key);
  bool flushForTest();
  // The SST files (full paths) holding `op`'s records, after flushForTest.
  std::vector<std::string> sstFilesForTest(std::uint64_t op) const;

private:
  explicit CheckpointStore(std::unique_ptr<Impl> impl);
  static std::unique_ptr<CheckpointStore> openReadOnlyOnce(const std::string &dir,
                                                           const StoreOptions &options,
                                                           std::string &error, bool &transient);
  std::unique_ptr<Impl> impl_;
};

} // namespace cep::runtime::store
