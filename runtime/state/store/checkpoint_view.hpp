// What the checkpoint store's translation units share besides the public header: the view of
// one checkpoint (Reader::State: its meta, the undo overlay when it is the one before the
// latest, the column families, a RocksDB snapshot) and its verification. Private to
// runtime/state/store: it includes rocksdb/*.h, checkpoint_store.hpp does not.
#pragma once

#include "runtime/state/store/checkpoint_store.hpp"
#include "runtime/state/store/record_format.hpp"

#include <chrono>
#include <rocksdb/db.h>

namespace cep::runtime::store {

namespace rdb = ROCKSDB_NAMESPACE;

using KeyMap = std::map<std::string, std::optional<std::string>, std::less<>>;

// Checkpoint U's undo journal applied: the view of the checkpoint before U. A present value is
// the exact stored frame the key had then; nullopt: the key was absent then (U added it).
struct Overlay {
  std::uint64_t undone = 0;
  std::map<std::uint64_t, KeyMap> records;
  KeyMap artifacts;
};

// A reader's snapshot. The store releases it when it closes first (db is then null).
struct SnapshotHolder {
  rdb::DB *db = nullptr;
  const rdb::Snapshot *snapshot = nullptr;
  void release() {
    if (db != nullptr && snapshot != nullptr) {
      db->ReleaseSnapshot(snapshot);
    }
    db = nullptr;
    snapshot = nullptr;
  }
  ~SnapshotHolder() { release(); }
};

inline std::string rocksText(const rdb::Status &s) {
  return "RocksDB reports " + s.ToString();
}

inline double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What a Reader (and the verification at open) reads: one checkpoint's meta, the undo overlay
// when it is the one before the latest, the column families at that time, a snapshot.
struct CheckpointStore::Reader::State {
  rdb::DB *db = nullptr;
  format::MetaRecord meta;
  std::shared_ptr<const Overlay> overlay;
  std::map<std::uint64_t, rdb::ColumnFamilyHandle *> families; // per live operator
  rdb::ColumnFamilyHandle *artifacts = nullptr;
  std::shared_ptr<SnapshotHolder> snapshot;

  rdb::ReadOptions readOptions() const;

  // Whether a stored frame belongs to this view; false with `reason` when it is damage.
  // `added` is set when the frame was written by the undone checkpoint (absent in this view).
  bool admit(format::Domain domain, std::uint64_t owner, std::string_view key,
             std::string_view stored, bool from_overlay, std::string_view &payload, bool &added,
             std::string &reason) const;

  // "operator 3, key \"k\"" or "artifact \"h\"", for messages.
  static std::string where(format::Domain domain, std::uint64_t owner, std::string_view key);

  // Every record of one operator (or the artifacts: op == nullopt) in key order, merged with
  // the overlay. `fn` may be empty; `added` collects the keys the undone checkpoint added.
  bool walk(std::optional<std::uint64_t> op,
            const std::function<void(std::string_view, std::string_view)> &fn, std::uint64_t &count,
            std::string &error, std::vector<std::string> *added) const;

  // Reads everything once: checksums, writers, the meta's counts. `added` (may be null)
  // collects, per operator and for artifacts, the keys the undone checkpoint added.
  bool verify(std::string &error, Overlay *added) const;
};

} // namespace cep::runtime::store
