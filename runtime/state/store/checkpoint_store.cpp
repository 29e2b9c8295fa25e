// The checkpoint store over RocksDB (checkpoint_store.hpp; README.md draws the layout): open,
// recovery, commit, statistics, test hooks. The view of one checkpoint is checkpoint_view.
#include "runtime/state/store/checkpoint_store.hpp"

#include "runtime/state/store/checkpoint_view.hpp"
#include "runtime/state/store/record_format.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <filesystem>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <set>
#include <system_error>
#include <thread>

namespace cep::runtime::store {

namespace fs = std::filesystem;
using format::Domain;
using format::MetaRecord;
using format::OperatorEntry;

struct CheckpointStore::Impl {
  std::string dir;
  StoreOptions options;
  std::shared_ptr<rdb::Cache> cache;
  rdb::DBOptions db_options;
  rdb::ColumnFamilyOptions operator_options, undo_options, artifact_options;
  std::unique_ptr<rdb::DB> db;
  rdb::ColumnFamilyHandle *default_cf = nullptr;
  rdb::ColumnFamilyHandle *undo_cf = nullptr;
  rdb::ColumnFamilyHandle *artifact_cf = nullptr;
  std::map<std::string, rdb::ColumnFamilyHandle *, std::less<>> families; // "op-<id>-<gen>"
  std::vector<rdb::ColumnFamilyHandle *> retired;       // dropped; a Reader may still hold them
  std::vector<std::weak_ptr<SnapshotHolder>> snapshots; // readers' snapshots, released at close

  std::uint64_t physical = 0;        // the latest checkpoint on disk, damaged or not (0: none)
  std::optional<MetaRecord> current; // the usable checkpoint
  std::string current_bytes;         // its encoded meta record
  std::shared_ptr<const Overlay> rollback; // set: `current` is `physical` with its undo applied
  std::string fallback_reason;
  std::string open_note; // open() cleared an interrupted creation
  StoreStats stats;
  bool read_only = false; // openReadOnly: no lock taken, nothing written

  ~Impl() {
    if (!db) {
      return;
    }
    for (auto &weak : snapshots) {
      if (auto holder = weak.lock()) {
        holder->release();
      }
    }
    for (auto *h : {default_cf, undo_cf, artifact_cf}) {
      if (h != nullptr) {
        db->DestroyColumnFamilyHandle(h);
      }
    }
    for (auto &[name, h] : families) {
      db->DestroyColumnFamilyHandle(h);
    }
    for (auto *h : retired) {
      db->DestroyColumnFamilyHandle(h);
    }
    db->Close();
  }

  std::string prefix() const { return "checkpoint store \"" + dir + "\": "; }

  void configure() {
    cache = rdb::NewLRUCache(options.block_cache_bytes);
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.paranoid_checks = true;
    db_options.wal_recovery_mode = rdb::WALRecoveryMode::kPointInTimeRecovery;
    db_options.max_background_jobs = options.background_jobs;
    db_options.write_buffer_manager =
        std::make_shared<rdb::WriteBufferManager>(options.total_write_buffer_bytes);
    db_options.keep_log_file_num = 4;
    db_options.max_log_file_size = std::size_t{4} << 20;
    db_options.max_manifest_file_size = std::size_t{64} << 20;
    db_options.bytes_per_sync = std::size_t{1} << 20;

    rdb::CompressionType compression = rdb::kNoCompression;
    auto supported = rdb::GetSupportedCompressions();
    if (std::find(supported.begin(), supported.end(), rdb::kLZ4Compression) != supported.end()) {
      compression = rdb::kLZ4Compression;
    }
    auto table = [&](bool bloom) {
      rdb::BlockBasedTableOptions t;
      t.block_cache = cache;
      if (bloom) {
        t.filter_policy.reset(rdb::NewBloomFilterPolicy(10));
      }
      t.cache_index_and_filter_blocks = true;
      t.pin_l0_filter_and_index_blocks_in_cache = true;
      t.format_version = 5;
      t.checksum = rdb::kXXH3;
      t.block_size = 16 * 1024;
      return std::shared_ptr<rdb::TableFactory>(rdb::NewBlockBasedTableFactory(t));
    };
    auto family = [&](bool bloom) {
      rdb::ColumnFamilyOptions cf;
      cf.table_factory = table(bloom);
      cf.compaction_style = rdb::kCompactionStyleLevel;
      cf.level_compaction_dynamic_level_bytes = true;
      cf.write_buffer_size = options.write_buffer_bytes;
      cf.max_write_buffer_number = 3;
      cf.target_file_size_base = std::uint64_t{32} << 20;
      cf.max_bytes_for_level_base = std::uint64_t{256} << 20;
      cf.compression = compression;
      return cf;
    };
    operator_options = family(true);
    artifact_options = family(true);
    undo_options = family(false); // only scanned (at open), never looked up by key
  }

  rdb::ColumnFamilyOptions optionsFor(const std::string &name) const {
    std::uint64_t op = 0, gen = 0;
    if (format::parseFamilyName(name, op, gen)) {
      return operator_options;
    }
    if (name == format::kUndoFamily) {
      return undo_options;
    }
    if (name == format::kArtifactFamily) {
      return artifact_options;
    }
    return rdb::ColumnFamilyOptions(); // `default` (the marker and the meta), or foreign
  }

  bool openDb(bool existing, std::string &error) {
    std::vector<std::string> names;
    if (existing) {
      auto s = rdb::DB::ListColumnFamilies(db_options, dir, &names);
      if (!s.ok()) {
        error = prefix() + "cannot list its column families: " + rocksText(s);
        return false;
      }
    } else {
      names = {rdb::kDefaultColumnFamilyName, std::string(format::kUndoFamily),
               std::string(format::kArtifactFamily)};
    }
    std::vector<rdb::ColumnFamilyDescriptor> descriptors;
    for (const auto &n : names) {
      descriptors.emplace_back(n, optionsFor(n));
    }
    std::vector<rdb::ColumnFamilyHandle *> handles;
    rdb::DB *raw = nullptr;
    auto s = read_only ? rdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
                       : rdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
    if (!s.ok()) {
      std::string text = s.ToString();
      if (s.IsIOError() && text.find("lock") != std::string::npos) {
        error = prefix() + "it is in use by another process (" + text + ")";
      } else {
        error = prefix() + "cannot open it: " + rocksText(s);
      }
      return false;
    }
    db.reset(raw);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == rdb::kDefaultColumnFamilyName) {
        default_cf = handles[i];
      } else if (names[i] == format::kUndoFamily) {
        undo_cf = handles[i];
      } else if (names[i] == format::kArtifactFamily) {
        artifact_cf = handles[i];
      } else {
        families.emplace(names[i], handles[i]);
      }
    }
    return true;
  }

  enum class Marker { Store, Fresh, Refused };

  // The store marker of an open database: present and right, or absent from an empty database
  // with no other families (a fresh one, or one whose creation was killed before the marker).
  Marker inspectMarker(rdb::DB *d, rdb::ColumnFamilyHandle *def, bool other_families,
                       std::string &error) const {
    std::string marker;
    auto s = d->Get(rdb::ReadOptions(), def, format::kStoreKey, &marker);
    if (s.ok()) {
      if (marker == format::kStoreMarker) {
        return Marker::Store;
      }
      if (marker.rfind(format::kStoreMarkerPrefix, 0) == 0) {
        error = prefix() + "it is a checkpoint store of format " +
                marker.substr(format::kStoreMarkerPrefix.size()) + ", this cep reads format 1";
      } else {
        error = prefix() + "it is a RocksDB database but not a cep checkpoint store";
      }
      return Marker::Refused;
    }
    if (!s.IsNotFound()) {
      error = prefix() + "cannot read its store marker: " + rocksText(s);
      return Marker::Refused;
    }
    std::unique_ptr<rdb::Iterator> it(d->NewIterator(rdb::ReadOptions(), def));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok() || other_families) {
      error = prefix() + "it is a RocksDB database but not a cep checkpoint store (no store "
                         "marker)";
      return Marker::Refused;
    }
    return Marker::Fresh;
  }

  static bool ownFamily(const std::string &name) {
    return name == rdb::kDefaultColumnFamilyName || name == format::kUndoFamily ||
           name == format::kArtifactFamily;
  }

  // A database without the store's own families may be someone else's: it is looked at
  // read-only, so a refused one is left exactly as it was.
  bool peekReadOnly(std::string &error) const {
    std::vector<std::string> names;
    auto s = rdb::DB::ListColumnFamilies(db_options, dir, &names);
    if (!s.ok()) {
      error = prefix() + "cannot list its column families: " + rocksText(s);
      return false;
    }
    bool has_undo = std::find(names.begin(), names.end(), format::kUndoFamily) != names.end();
    bool has_artifacts =
        std::find(names.begin(), names.end(), format::kArtifactFamily) != names.end();
    if (has_undo && has_artifacts) {
      return true;
    }
    std::vector<rdb::ColumnFamilyDescriptor> descriptors;
    bool others = false;
    std::size_t def = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      descriptors.emplace_back(names[i], rdb::ColumnFamilyOptions());
      others = others || !ownFamily(names[i]);
      def = names[i] == rdb::kDefaultColumnFamilyName ? i : def;
    }
    std::vector<rdb::ColumnFamilyHandle *> handles;
    rdb::DB *raw = nullptr;
    s = rdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw);
    if (!s.ok()) {
      error = prefix() + "cannot open it: " + rocksText(s);
      return false;
    }
    std::unique_ptr<rdb::DB> peek(raw);
    Marker m = inspectMarker(peek.get(), handles[def], others, error);
    for (auto *h : handles) {
      peek->DestroyColumnFamilyHandle(h);
    }
    peek->Close();
    return m != Marker::Refused;
  }

  bool checkMarker(std::string &error) {
    Marker m = inspectMarker(db.get(), default_cf, !families.empty(), error);
    if (m != Marker::Fresh) {
      return m == Marker::Store;
    }
    rdb::WriteOptions wo;
    wo.sync = true;
    auto s = db->Put(wo, default_cf, format::kStoreKey, format::kStoreMarker);
    if (!s.ok()) {
      error = prefix() + "cannot write its store marker: " + rocksText(s);
      return false;
    }
    return true;
  }

  bool ensureFamily(rdb::ColumnFamilyHandle *&handle, std::string_view name, bool undo,
                    std::string &error) {
    if (handle != nullptr) {
      return true;
    }
    auto s =
        db->CreateColumnFamily(undo ? undo_options : artifact_options, std::string(name), &handle);
    if (!s.ok()) {
      error = prefix() + "cannot create column family " + std::string(name) + ": " + rocksText(s);
      return false;
    }
    return true;
  }

  std::shared_ptr<CheckpointStore::Reader::State> view(const MetaRecord &meta,
                                                       std::shared_ptr<const Overlay> overlay) {
    auto st = std::make_shared<CheckpointStore::Reader::State>();
    st->db = db.get();
    st->meta = meta;
    st->overlay = std::move(overlay);
    st->artifacts = artifact_cf;
    for (const auto &e : meta.operators) {
      auto f = families.find(format::familyName(e.id, e.generation));
      if (f != families.end()) {
        st->families.emplace(e.id, f->second);
      }
    }
    auto holder = std::make_shared<SnapshotHolder>();
    holder->db = db.get();
    holder->snapshot = db->GetSnapshot();
    std::erase_if(snapshots, [](const auto &weak) { return weak.expired(); });
    snapshots.push_back(holder);
    st->snapshot = std::move(holder);
    return st;
  }

  // Finds the latest checkpoint, verifies it, and falls back one when it is damaged.
  bool recover(std::string &error) {
    std::string meta_bytes;
    auto s = db->Get(rdb::ReadOptions(), default_cf, format::kMetaKey, &meta_bytes);
    std::optional<std::uint64_t> journal; // the newest checkpoint in the undo journal
    {
      std::unique_ptr<rdb::Iterator> it(db->NewIterator(rdb::ReadOptions(), undo_cf));
      it->SeekToLast();
      format::UndoKey key;
      if (it->Valid() &&
          format::parseUndoKey(std::string_view(it->key().data(), it->key().size()), key)) {
        journal = key.checkpoint;
      } else if (!it->status().ok()) {
        error = prefix() + "cannot read its undo journal: " + rocksText(it->status());
        return false;
      }
    }
    if (s.IsNotFound() && !journal) {
      return true; // no checkpoint yet
    }
    MetaRecord meta;
    std::string latest_reason;
    bool meta_ok = false;
    if (s.ok()) {
      meta_ok = format::decodeMeta(meta_bytes, meta, latest_reason);
    } else if (s.IsNotFound()) {
      latest_reason = "its meta record is missing";
    } else {
      latest_reason = rocksText(s);
    }
    if (!meta_ok && !journal) {
      error = prefix() + "its latest checkpoint is damaged (" + latest_reason +
              ") and it has no undo journal to go back to the one before; move the folder " +
              "away to start empty (its state is then lost)";
      return false;
    }
    std::uint64_t latest = meta_ok ? meta.checkpoint : *journal;
    physical = latest;
    if (meta_ok) {
      auto st = view(meta, nullptr);
      if (st->verify(latest_reason, nullptr)) {
        current = meta;
        current_bytes = meta_bytes;
        return true;
      }
    }
    return fallBack(latest,
                    "checkpoint " + std::to_string(latest) + " is damaged (" + latest_reason + ")",
                    error);
  }

  // Uses the checkpoint before `latest` (physical): N's undo journal over the current values.
  // `head` says why, in the fallback reason and the errors.
  bool fallBack(std::uint64_t latest, const std::string &head, std::string &error) {
    auto overlay = std::make_shared<Overlay>();
    overlay->undone = latest;
    std::optional<std::string> previous_meta;
    bool have_meta_entry = false;
    std::string reason;
    {
      std::unique_ptr<rdb::Iterator> it(db->NewIterator(rdb::ReadOptions(), undo_cf));
      std::string from = format::undoPrefix(latest);
      std::string to = format::undoPrefix(latest + 1);
      rdb::Slice upper(to);
      for (it->Seek(from); it->Valid() && it->key().compare(upper) < 0; it->Next()) {
        std::string_view k(it->key().data(), it->key().size());
        std::string_view v(it->value().data(), it->value().size());
        format::UndoKey key;
        std::optional<std::string_view> prev;
        if (!format::parseUndoKey(k, key)) {
          reason = "an undo key of " + std::to_string(k.size()) + " bytes is malformed";
          break;
        }
        if (!format::decodeUndo(k, v, prev, reason)) {
          reason = (key.kind == format::UndoKind::Meta
                        ? std::string("meta")
                        : CheckpointStore::Reader::State::where(
                              key.kind == format::UndoKind::Artifact ? Domain::Artifact
                                                                     : Domain::Operator,
                              key.op, key.key)) +
                   ": " + reason;
          break;
        }
        std::optional<std::string> copy;
        if (prev) {
          copy.emplace(*prev);
        }
        switch (key.kind) {
        case format::UndoKind::Meta:
          have_meta_entry = true;
          previous_meta = std::move(copy);
          break;
        case format::UndoKind::Record:
          overlay->records[key.op].insert_or_assign(std::string(key.key), std::move(copy));
          break;
        case format::UndoKind::Artifact:
          overlay->artifacts.insert_or_assign(std::string(key.key), std::move(copy));
          break;
        }
      }
      if (reason.empty() && !it->status().ok()) {
        reason = rocksText(it->status());
      }
    }
    if (reason.empty() && !have_meta_entry) {
      reason = "its undo journal is missing";
    }
    if (reason.empty() && !previous_meta) {
      error = prefix() + head + " and there is no checkpoint before it; move the folder away " +
              "to start empty (its state is then lost)";
      return false;
    }
    MetaRecord before;
    if (reason.empty()) {
      format::decodeMeta(*previous_meta, before, reason);
    }
    if (reason.empty()) {
      auto st = view(before, overlay);
      Overlay added;
      if (st->verify(reason, &added)) {
        for (auto &[op, keys] : added.records) {
          overlay->records[op].merge(keys);
        }
        overlay->artifacts.merge(added.artifacts);
        current = before;
        current_bytes = *previous_meta;
        rollback = overlay;
        fallback_reason =
            head + ": using checkpoint " + std::to_string(before.checkpoint) + " before it";
        return true;
      }
    }
    std::string which = before.checkpoint != 0 ? "checkpoint " + std::to_string(before.checkpoint)
                                               : std::string("the checkpoint");
    error = prefix() + head + " and so is " + which + " before it (" + reason +
            "); no usable checkpoint: move the folder away to start empty (its state is then "
            "lost)";
    return false;
  }

  rdb::ColumnFamilyHandle *familyOf(const OperatorEntry &e) const {
    auto f = families.find(format::familyName(e.id, e.generation));
    return f == families.end() ? nullptr : f->second;
  }

  // Looks up the stored frames of `keys` (sorted) in `cf`, as of the usable checkpoint.
  bool previous(rdb::ColumnFamilyHandle *cf, const std::vector<std::string_view> &keys,
                const KeyMap *over, std::vector<std::optional<std::string>> &out,
                std::string &error) {
    out.assign(keys.size(), std::nullopt);
    if (keys.empty()) {
      return true;
    }
    auto t0 = std::chrono::steady_clock::now();
    std::vector<rdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rdb::PinnableSlice> values(keys.size());
    std::vector<rdb::Status> statuses(keys.size());
    db->MultiGet(rdb::ReadOptions(), cf, keys.size(), slices.data(), values.data(), statuses.data(),
                 /*sorted_input=*/true);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (over != nullptr) {
        auto o = over->find(keys[i]);
        if (o != over->end()) {
          out[i] = o->second;
          continue;
        }
      }
      if (statuses[i].ok()) {
        out[i].emplace(values[i].data(), values[i].size());
      } else if (!statuses[i].IsNotFound()) {
        error = prefix() + "cannot read the previous value of key " + format::printable(keys[i]) +
                ": " + rocksText(statuses[i]);
        return false;
      }
    }
    stats.last_lookups += keys.size();
    stats.last_lookup_seconds += secondsSince(t0);
    return true;
  }
};

// ---- Batch ----

void CheckpointStore::Batch::put(std::uint64_t op, std::string_view key, std::string_view value) {
  auto &ch = operators_[op];
  ch.live = true;
  ch.records.insert_or_assign(std::string(key), std::string(value));
}

void CheckpointStore::Batch::putMoved(std::uint64_t op, std::string &&key, std::string &&value) {
  auto &ch = operators_[op];
  ch.live = true;
  // Callers put in key order (exportChanges sorts): the end is the usual place.
  auto at = ch.records.lower_bound(key);
  if (at != ch.records.end() && at->first == key) {
    at->second = std::move(value);
  } else {
    ch.records.emplace_hint(at, std::move(key), std::move(value));
  }
}

void CheckpointStore::Batch::erase(std::uint64_t op, std::string_view key) {
  auto &ch = operators_[op];
  ch.live = true;
  ch.records.insert_or_assign(std::string(key), std::nullopt);
}

void CheckpointStore::Batch::dropOperator(std::uint64_t op) {
  auto &ch = operators_[op];
  ch.drop_existing = true;
  ch.live = false;
  ch.records.clear();
}

void CheckpointStore::Batch::putArtifact(std::string_view hash, std::string_view bytes) {
  artifacts_.insert_or_assign(std::string(hash), std::string(bytes));
}

void CheckpointStore::Batch::eraseArtifact(std::string_view hash) {
  artifacts_.insert_or_assign(std::string(hash), std::nullopt);
}

void CheckpointStore::Batch::setMeta(std::string_view bytes) {
  meta_.emplace(bytes);
}

std::size_t CheckpointStore::Batch::changes() const {
  std::size_t n = artifacts_.size();
  for (const auto &[op, ch] : operators_) {
    n += ch.records.size();
  }
  return n;
}

// ---- CheckpointStore ----

namespace {

// True when every entry of `dir` is a regular file RocksDB writes while it creates a database,
// before CURRENT: LOCK, IDENTITY, LOG and LOG.old.*, MANIFEST-*, OPTIONS-*, *.dbtmp, and
// numbered WAL files (*.log). `files` receives them.
bool interruptedCreation(const std::string &dir, std::vector<fs::path> &files) {
  std::error_code ec;
  for (const fs::directory_entry &entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    auto starts = [&](std::string_view p) { return name.rfind(p, 0) == 0; };
    auto ends = [&](std::string_view x) {
      return name.size() >= x.size() && name.compare(name.size() - x.size(), x.size(), x) == 0;
    };
    bool numbered_log =
        ends(".log") && name.size() > 4 && name.find_first_not_of("0123456789") == name.size() - 4;
    if (!entry.is_regular_file(ec) ||
        !(name == "LOCK" || name == "IDENTITY" || name == "LOG" || starts("LOG.old.") ||
          starts("MANIFEST-") || starts("OPTIONS-") || ends(".dbtmp") || numbered_log)) {
      return false;
    }
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return !ec && !files.empty();
}

} // namespace

CheckpointStore::CheckpointStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CheckpointStore::~CheckpointStore() = default;

std::unique_ptr<CheckpointStore>
CheckpointStore::open(const std::string &dir, const StoreOptions &options, std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  std::error_code ec;
  auto status = fs::status(dir, ec);
  bool existing = false;
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      error = impl->prefix() + "it exists and is not a folder";
      return nullptr;
    }
    existing = fs::exists(fs::path(dir) / "CURRENT", ec);
    if (!existing && !fs::is_empty(dir, ec)) {
      // RocksDB writes CURRENT last when it creates a database: a folder that holds only what
      // it writes before (a process killed while creating the store) never held a checkpoint.
      std::vector<fs::path> leftovers;
      if (!interruptedCreation(dir, leftovers)) {
        error = impl->prefix() + "the folder is not empty and holds no RocksDB database (no "
                                 "CURRENT file): not a checkpoint store";
        return nullptr;
      }
      std::string names;
      for (const fs::path &file : leftovers) {
        names += (names.empty() ? "" : ", ") + file.filename().string();
        if (!fs::remove(file, ec) && ec) {
          error = impl->prefix() + "cannot clear an interrupted creation: " + ec.message();
          return nullptr;
        }
      }
      impl->open_note = "the folder held an interrupted creation (" + names +
                        ", no CURRENT file: never a checkpoint); cleared, created afresh";
    }
    if (ec) {
      error = impl->prefix() + "cannot read the folder: " + ec.message();
      return nullptr;
    }
  } else if (!fs::create_directory(dir, ec)) {
    error = impl->prefix() +
            "cannot create the folder: " + (ec ? ec.message() : std::string("unknown error"));
    return nullptr;
  }
  impl->configure();
  if ((existing && !impl->peekReadOnly(error)) || !impl->openDb(existing, error) ||
      !impl->checkMarker(error) ||
      !impl->ensureFamily(impl->undo_cf, format::kUndoFamily, true, error) ||
      !impl->ensureFamily(impl->artifact_cf, format::kArtifactFamily, false, error) ||
      !impl->recover(error)) {
    return nullptr;
  }
  impl->stats.last_checkpoint = impl->current ? impl->current->checkpoint : 0;
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(std::move(impl)));
}

namespace {

// RocksDB's info log, silenced: a read-only open would otherwise rotate the folder's LOG file
// (rename LOG to LOG.old.<time> and start a new one), writing into a folder it must not touch.
class SilentLogger final : public rdb::Logger {
public:
  using rdb::Logger::Logv;
  void Logv(const char *, std::va_list) override {}
};

} // namespace

std::unique_ptr<CheckpointStore> CheckpointStore::openReadOnly(const std::string &dir,
                                                               const StoreOptions &options,
                                                               std::string &error) {
  std::string attempt_error;
  // A server writing the store may roll its WAL or delete compacted files between our listing
  // of them and their opening: a few tries, each from the files as they are then.
  // A fallback is tried again too: RocksDB's read-only view of a database being written is not
  // one point in time across column families (a flush between our reads of the MANIFEST and the
  // WAL loses memtable data of one family), which looks like a damaged latest checkpoint. A
  // store that is really damaged shows the same fallback every time, and it is then returned
  // after about 1.5 s of tries. An open that fails outright while a writer changes the store
  // (its column families created or dropped, files it compacted deleted, a view that is not one
  // point in time) is tried for up to 6 s, so an open slowed down by a busy machine still finds
  // a moment between two changes; a store that fails every time is reported after those 6 s.
  using Clock = std::chrono::steady_clock;
  constexpr auto kFallbackBudget = std::chrono::milliseconds(1500);
  constexpr auto kFailureBudget = std::chrono::milliseconds(6000);
  const Clock::time_point start = Clock::now();
  std::unique_ptr<CheckpointStore> fallen_back;
  for (int attempt = 0;; ++attempt) {
    attempt_error.clear();
    bool transient = false;
    auto store = openReadOnlyOnce(dir, options, attempt_error, transient);
    if (store && !store->fallbackReason().empty()) {
      fallen_back = std::move(store);
    } else if (store || !transient) {
      error = std::move(attempt_error);
      return store;
    }
    const auto wait = std::chrono::milliseconds(std::min(10 << std::min(attempt, 5), 200));
    if (Clock::now() - start + wait > (fallen_back ? kFallbackBudget : kFailureBudget)) {
      break;
    }
    std::this_thread::sleep_for(wait);
  }
  if (fallen_back) {
    return fallen_back;
  }
  error = std::move(attempt_error);
  return nullptr;
}

std::unique_ptr<CheckpointStore> CheckpointStore::openReadOnlyOnce(const std::string &dir,
                                                                   const StoreOptions &options,
                                                                   std::string &error,
                                                                   bool &transient) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->read_only = true;
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (!fs::exists(status)) {
    error = impl->prefix() + "no such folder";
    return nullptr;
  }
  if (!fs::is_directory(status)) {
    error = impl->prefix() + "it is not a folder";
    return nullptr;
  }
  if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    error = impl->prefix() + "it holds no RocksDB database (no CURRENT file): not a checkpoint "
                             "store";
    return nullptr;
  }
  impl->configure();
  impl->db_options.create_if_missing = false;
  impl->db_options.create_missing_column_families = false;
  impl->db_options.info_log = std::make_shared<SilentLogger>();
  // A writer may change the files between our reads of them: the column families listed, then
  // the MANIFEST and the WAL read by the open (a family created in between is not opened and its
  // records are skipped; the checkpoint that uses it then looks damaged). Such a failure, and
  // any failed open, is tried again from the files as they are then.
  if (!impl->openDb(/*existing=*/true, error)) {
    transient = true;
    return nullptr;
  }
  std::vector<std::string> names_after;
  std::set<std::string, std::less<>> opened;
  for (const auto &[name, h] : impl->families) {
    opened.insert(name);
  }
  for (auto [h, name] : {std::pair{impl->default_cf, std::string(rdb::kDefaultColumnFamilyName)},
                         std::pair{impl->undo_cf, std::string(format::kUndoFamily)},
                         std::pair{impl->artifact_cf, std::string(format::kArtifactFamily)}}) {
    if (h != nullptr) {
      opened.insert(name);
    }
  }
  if (!rdb::DB::ListColumnFamilies(impl->db_options, dir, &names_after).ok() ||
      std::set<std::string, std::less<>>(names_after.begin(), names_after.end()) != opened) {
    error = impl->prefix() + "its column families changed while it was opened";
    transient = true;
    return nullptr;
  }
  Impl::Marker m =
      impl->inspectMarker(impl->db.get(), impl->default_cf, !impl->families.empty(), error);
  if (m == Impl::Marker::Refused) {
    // A store's own families without a readable marker: the marker was lost by the same race
    // as above (it is in every store from its creation on), so this is tried again.
    transient = impl->undo_cf != nullptr && impl->artifact_cf != nullptr &&
                error.find("no store marker") != std::string::npos;
    return nullptr;
  }
  if (m == Impl::Marker::Fresh || impl->undo_cf == nullptr || impl->artifact_cf == nullptr) {
    // A store whose creation has not finished: it holds no checkpoint.
    return std::unique_ptr<CheckpointStore>(new CheckpointStore(std::move(impl)));
  }
  if (!impl->recover(error)) {
    transient = true; // see above: a damaged store fails every try, with the same reason
    return nullptr;
  }
  impl->stats.last_checkpoint = impl->current ? impl->current->checkpoint : 0;
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(std::move(impl)));
}

bool CheckpointStore::readOnly() const {
  return impl_->read_only;
}

bool CheckpointStore::discardLatest(const std::string &reason, std::string &error) {
  Impl &im = *impl_;
  if (im.read_only) {
    error = im.prefix() + "opened read-only: nothing can be discarded";
    return false;
  }
  if (!im.current || im.rollback || im.current->checkpoint != im.physical) {
    error = im.prefix() + "only the latest checkpoint on disk can be discarded, once";
    return false;
  }
  return im.fallBack(im.physical,
                     "checkpoint " + std::to_string(im.physical) + " is discarded (" + reason + ")",
                     error);
}

std::optional<std::uint64_t> CheckpointStore::latest() const {
  if (!impl_->current) {
    return std::nullopt;
  }
  return impl_->current->checkpoint;
}

const std::string &CheckpointStore::openNote() const {
  return impl_->open_note;
}

const std::string &CheckpointStore::fallbackReason() const {
  return impl_->fallback_reason;
}

CheckpointStore::Batch CheckpointStore::begin() const {
  return Batch(impl_.get(), impl_->physical + 1);
}

bool CheckpointStore::commit(Batch &&batch, std::string &error) {
  Impl &im = *impl_;
  CEP_ASSERT(batch.owner_ == &im, "a batch committed to another store");
  if (im.read_only) {
    error = im.prefix() + "it was opened read-only: nothing can be committed";
    return false;
  }
  if (batch.id_ != im.physical + 1) {
    error = im.prefix() + "the batch is for checkpoint " + std::to_string(batch.id_) +
            " but the store is at checkpoint " + std::to_string(im.physical) +
            ": begin a new batch";
    return false;
  }
  auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t n = batch.id_;
  StoreStats st = im.stats;
  st.last_bytes_written = st.last_keys_put = st.last_keys_erased = st.last_undo_entries = 0;
  st.last_lookups = 0;
  st.last_lookup_seconds = 0;
  im.stats.last_lookups = 0;
  im.stats.last_lookup_seconds = 0;

  const MetaRecord *base = im.current ? &*im.current : nullptr;
  const Overlay *rollback = im.rollback.get();
  MetaRecord next;
  next.checkpoint = n;
  next.previous = base ? base->checkpoint : 0;
  next.meta = batch.meta_ ? *batch.meta_ : (base ? base->meta : std::string());
  next.artifacts = base ? base->artifacts : 0;
  std::map<std::uint64_t, OperatorEntry> live;
  if (base) {
    for (const auto &e : base->operators) {
      live.emplace(e.id, e);
    }
  }

  rdb::WriteBatch wb;
  // After a fallback: undo the damaged checkpoint first; the changes below win over it.
  if (rollback != nullptr && base != nullptr) {
    for (const auto &[op, keys] : rollback->records) {
      const auto *e = base->find(op);
      rdb::ColumnFamilyHandle *cf = e ? im.familyOf(*e) : nullptr;
      if (cf == nullptr) {
        continue;
      }
      for (const auto &[key, stored] : keys) {
        stored ? wb.Put(cf, key, *stored) : wb.Delete(cf, key);
      }
    }
    for (const auto &[hash, stored] : rollback->artifacts) {
      stored ? wb.Put(im.artifact_cf, hash, *stored) : wb.Delete(im.artifact_cf, hash);
    }
  }

  std::vector<std::pair<std::string, rdb::ColumnFamilyHandle *>> created;
  auto fail = [&](std::string message) {
    error = std::move(message);
    im.stats.last_lookups = 0;
    im.stats.last_lookup_seconds = 0;
    return false;
  };
  for (auto &[op, ch] : batch.operators_) {
    auto existing = live.find(op);
    if (ch.drop_existing && existing != live.end()) {
      live.erase(existing);
      existing = live.end();
    }
    if (!ch.live) {
      continue;
    }
    bool fresh = existing == live.end();
    bool any_put = std::any_of(ch.records.begin(), ch.records.end(),
                               [](const auto &r) { return r.second.has_value(); });
    if (fresh && !any_put) {
      continue; // erases on an operator that does not exist
    }
    OperatorEntry entry = fresh ? OperatorEntry{op, n, 0} : existing->second;
    rdb::ColumnFamilyHandle *cf = nullptr;
    if (fresh) {
      std::string name = format::familyName(op, n);
      auto f = im.families.find(name);
      if (f != im.families.end()) {
        cf = f->second; // left empty by a commit that did not complete
      } else {
        auto s = im.db->CreateColumnFamily(im.operator_options, name, &cf);
        if (!s.ok()) {
          return fail(im.prefix() + "cannot create column family " + name + ": " + rocksText(s));
        }
        im.families.emplace(name, cf);
      }
    } else {
      cf = im.familyOf(entry);
      if (cf == nullptr) {
        return fail(im.prefix() + "operator " + std::to_string(op) +
                    ": its column family is missing");
      }
    }
    std::vector<std::optional<std::string>> prev;
    if (!fresh) {
      std::vector<std::string_view> keys;
      keys.reserve(ch.records.size());
      for (const auto &r : ch.records) {
        keys.emplace_back(r.first);
      }
      const KeyMap *over = nullptr;
      if (rollback != nullptr) {
        auto o = rollback->records.find(op);
        over = o == rollback->records.end() ? nullptr : &o->second;
      }
      if (!im.previous(cf, keys, over, prev, error)) {
        return false;
      }
    }
    std::size_t i = 0;
    for (const auto &[key, value] : ch.records) {
      const std::optional<std::string> *before = fresh ? nullptr : &prev[i];
      ++i;
      bool had = before != nullptr && before->has_value();
      if (value) {
        wb.Put(cf, key, format::encodeValue(Domain::Operator, op, key, n, *value));
        ++st.last_keys_put;
        if (had) {
          wb.Put(im.undo_cf, format::undoRecordKey(n, op, key),
                 format::encodeUndo(format::undoRecordKey(n, op, key), **before));
          ++st.last_undo_entries;
        } else {
          ++entry.records;
        }
      } else if (had) {
        wb.Delete(cf, key);
        std::string undo_key = format::undoRecordKey(n, op, key);
        wb.Put(im.undo_cf, undo_key, format::encodeUndo(undo_key, **before));
        ++st.last_undo_entries;
        ++st.last_keys_erased;
        --entry.records;
      }
    }
    live[op] = entry;
  }

  {
    std::vector<std::string_view> hashes;
    for (const auto &a : batch.artifacts_) {
      hashes.emplace_back(a.first);
    }
    std::vector<std::optional<std::string>> prev;
    if (!im.previous(im.artifact_cf, hashes, rollback ? &rollback->artifacts : nullptr, prev,
                     error)) {
      return false;
    }
    std::size_t i = 0;
    for (const auto &[hash, bytes] : batch.artifacts_) {
      const auto &before = prev[i++];
      std::string undo_key = format::undoArtifactKey(n, hash);
      if (bytes) {
        wb.Put(im.artifact_cf, hash, format::encodeValue(Domain::Artifact, 0, hash, n, *bytes));
        ++st.last_keys_put;
        if (before) {
          wb.Put(im.undo_cf, undo_key, format::encodeUndo(undo_key, *before));
          ++st.last_undo_entries;
        } else {
          ++next.artifacts;
        }
      } else if (before) {
        wb.Delete(im.artifact_cf, hash);
        wb.Put(im.undo_cf, undo_key, format::encodeUndo(undo_key, *before));
        ++st.last_undo_entries;
        ++st.last_keys_erased;
        --next.artifacts;
      }
    }
  }

  for (const auto &[op, e] : live) {
    next.operators.push_back(e);
  }
  std::string next_bytes = format::encodeMeta(next);
  std::string undo_meta = format::undoMetaKey(n);
  std::optional<std::string_view> before_meta;
  if (base) {
    before_meta = im.current_bytes;
  }
  wb.Put(im.undo_cf, undo_meta, format::encodeUndo(undo_meta, before_meta));
  wb.DeleteRange(im.undo_cf, format::undoPrefix(0), format::undoPrefix(n));
  wb.Put(im.default_cf, format::kMetaKey, next_bytes);

  rdb::WriteOptions wo;
  wo.sync = im.options.sync;
  auto s = im.db->Write(wo, &wb);
  if (!s.ok()) {
    return fail(im.prefix() + "cannot commit checkpoint " + std::to_string(n) + ": " +
                rocksText(s));
  }

  // Column families neither this checkpoint nor the one before refers to: dropped operators,
  // and those left by commits that did not complete. A failed drop is tried again next time.
  std::set<std::string, std::less<>> referenced;
  for (const auto &e : next.operators) {
    referenced.insert(format::familyName(e.id, e.generation));
  }
  if (base) {
    for (const auto &e : base->operators) {
      referenced.insert(format::familyName(e.id, e.generation));
    }
  }
  for (auto it = im.families.begin(); it != im.families.end();) {
    if (referenced.count(it->first) == 0 && im.db->DropColumnFamily(it->second).ok()) {
      im.retired.push_back(it->second);
      it = im.families.erase(it);
    } else {
      ++it;
    }
  }

  im.current = std::move(next);
  im.current_bytes = std::move(next_bytes);
  im.physical = n;
  im.rollback.reset();
  im.fallback_reason.clear();

  st.commits += 1;
  st.last_checkpoint = n;
  st.last_bytes_written = wb.GetDataSize();
  st.last_lookups = im.stats.last_lookups;
  st.last_lookup_seconds = im.stats.last_lookup_seconds;
  st.last_commit_seconds = secondsSince(t0);
  st.operators = im.current->operators.size();
  st.live_keys = 0;
  for (const auto &e : im.current->operators) {
    st.live_keys += e.records;
  }
  im.stats = st;
  return true;
}

std::optional<CheckpointStore::Reader> CheckpointStore::read(std::string &error) const {
  (void)error;
  if (!impl_->current) {
    return std::nullopt;
  }
  Reader r(impl_->view(*impl_->current, impl_->rollback));
  r.fallback_reason = impl_->fallback_reason;
  return r;
}

StoreStats CheckpointStore::stats() const {
  StoreStats st = impl_->stats;
  st.operator_families = impl_->families.size();
  std::uint64_t bytes = 0;
  if (impl_->db->GetAggregatedIntProperty("rocksdb.live-sst-files-size", &bytes)) {
    st.live_sst_bytes = bytes;
  }
  if (impl_->current) {
    st.operators = impl_->current->operators.size();
    st.live_keys = 0;
    for (const auto &e : impl_->current->operators) {
      st.live_keys += e.records;
    }
  }
  return st;
}

// ---- test hooks ----

namespace {

bool flipStored(rdb::DB *db, rdb::ColumnFamilyHandle *cf, std::string_view key) {
  std::string bytes;
  if (!db->Get(rdb::ReadOptions(), cf, key, &bytes).ok() || bytes.empty()) {
    return false;
  }
  bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x5A);
  rdb::WriteOptions wo;
  wo.sync = true;
  return db->Put(wo, cf, key, bytes).ok();
}

} // namespace

bool CheckpointStore::corruptForTest(std::uint64_t op, std::string_view key) {
  const auto *e = impl_->current ? impl_->current->find(op) : nullptr;
  auto *cf = e ? impl_->familyOf(*e) : nullptr;
  return cf != nullptr && flipStored(impl_->db.get(), cf, key);
}

bool CheckpointStore::corruptMetaForTest() {
  std::string bytes;
  if (!impl_->db->Get(rdb::ReadOptions(), impl_->default_cf, format::kMetaKey, &bytes).ok() ||
      bytes.size() < 20) {
    return false;
  }
  bytes[12] = static_cast<char>(bytes[12] ^ 0x01); // inside the checkpoint id
  rdb::WriteOptions wo;
  wo.sync = true;
  return impl_->db->Put(wo, impl_->default_cf, format::kMetaKey, bytes).ok();
}

bool CheckpointStore::eraseForTest(std::uint64_t op, std::string_view key) {
  const auto *e = impl_->current ? impl_->current->find(op) : nullptr;
  auto *cf = e ? impl_->familyOf(*e) : nullptr;
  rdb::WriteOptions wo;
  wo.sync = true;
  return cf != nullptr && impl_->db->Delete(wo, cf, key).ok();
}

bool CheckpointStore::flushForTest() {
  std::vector<rdb::ColumnFamilyHandle *> all = {impl_->default_cf, impl_->undo_cf,
                                                impl_->artifact_cf};
  for (auto &[name, h] : impl_->families) {
    all.push_back(h);
  }
  return impl_->db->Flush(rdb::FlushOptions(), all).ok();
}

std::vector<std::string> CheckpointStore::sstFilesForTest(std::uint64_t op) const {
  const auto *e = impl_->current ? impl_->current->find(op) : nullptr;
  std::vector<std::string> out;
  if (e == nullptr) {
    return out;
  }
  std::string name = format::familyName(e->id, e->generation);
  std::vector<rdb::LiveFileMetaData> files;
  impl_->db->GetLiveFilesMetaData(&files);
  for (const auto &f : files) {
    if (f.column_family_name == name) {
      out.push_back(f.db_path + f.name);
    }
  }
  return out;
}

} // namespace cep::runtime::store
