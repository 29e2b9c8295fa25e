// The view of one checkpoint and its verification (checkpoint_view.hpp), and the Reader over
// it (checkpoint_store.hpp).
#include "runtime/state/store/checkpoint_view.hpp"

#include "support/internal_error.hpp"

#include <memory>

namespace cep::runtime::store {

using format::Domain;

rdb::ReadOptions CheckpointStore::Reader::State::readOptions() const {
  CEP_ASSERT(snapshot && snapshot->db != nullptr,
             "a checkpoint reader used after its store was closed");
  rdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false; // one pass over everything: keep the cache for the hot keys
  ro.snapshot = snapshot ? snapshot->snapshot : nullptr;
  return ro;
}

bool CheckpointStore::Reader::State::admit(Domain domain, std::uint64_t owner, std::string_view key,
                                           std::string_view stored, bool from_overlay,
                                           std::string_view &payload, bool &added,
                                           std::string &reason) const {
  format::DecodedValue v;
  added = false;
  std::string why;
  if (!format::decodeValue(domain, owner, key, stored, v, why)) {
    reason = where(domain, owner, key) + ": " + why;
    return false;
  }
  if (!from_overlay && overlay && v.writer == overlay->undone) {
    added = true;
    return true;
  }
  if (v.writer > meta.checkpoint) {
    reason = where(domain, owner, key) + ": written by checkpoint " + std::to_string(v.writer) +
             ", after checkpoint " + std::to_string(meta.checkpoint);
    return false;
  }
  payload = v.payload;
  return true;
}

std::string CheckpointStore::Reader::State::where(Domain domain, std::uint64_t owner,
                                                  std::string_view key) {
  if (domain == Domain::Artifact) {
    return "artifact " + format::printable(key);
  }
  return "operator " + std::to_string(owner) + ", key " + format::printable(key);
}

bool CheckpointStore::Reader::State::walk(
    std::optional<std::uint64_t> op,
    const std::function<void(std::string_view, std::string_view)> &fn, std::uint64_t &count,
    std::string &error, std::vector<std::string> *added) const {
  Domain domain = op ? Domain::Operator : Domain::Artifact;
  std::uint64_t owner = op ? *op : 0;
  rdb::ColumnFamilyHandle *cf = artifacts;
  const KeyMap *over = nullptr;
  if (op) {
    auto f = families.find(*op);
    if (f == families.end()) {
      error = "operator " + std::to_string(*op) + ": its column family is missing";
      return false;
    }
    cf = f->second;
    if (overlay) {
      auto o = overlay->records.find(*op);
      over = o == overlay->records.end() ? nullptr : &o->second;
    }
  } else if (overlay) {
    over = &overlay->artifacts;
  }
  count = 0;
  rdb::ReadOptions ro = readOptions();
  std::unique_ptr<rdb::Iterator> it(db->NewIterator(ro, cf));
  it->SeekToFirst();
  KeyMap::const_iterator ot, oend;
  if (over != nullptr) {
    ot = over->begin();
    oend = over->end();
  }
  auto emit = [&](std::string_view key, std::optional<std::string_view> stored, bool from_overlay) {
    if (!stored) {
      return true;
    }
    std::string_view payload;
    bool was_added = false;
    if (!admit(domain, owner, key, *stored, from_overlay, payload, was_added, error)) {
      return false;
    }
    if (was_added) {
      if (added != nullptr) {
        added->emplace_back(key);
      }
      return true;
    }
    ++count;
    if (fn) {
      fn(key, payload);
    }
    return true;
  };
  while (it->Valid() || (over != nullptr && ot != oend)) {
    int cmp = -1;
    if (!it->Valid()) {
      cmp = 1;
    } else if (over != nullptr && ot != oend) {
      cmp = it->key().compare(rdb::Slice(ot->first));
    }
    bool ok = true;
    if (cmp < 0) {
      ok = emit(std::string_view(it->key().data(), it->key().size()),
                std::string_view(it->value().data(), it->value().size()), false);
      it->Next();
    } else {
      std::optional<std::string_view> prev;
      if (ot->second) {
        prev = *ot->second;
      }
      ok = emit(ot->first, prev, true);
      if (cmp == 0) {
        it->Next();
      }
      ++ot;
    }
    if (!ok) {
      return false;
    }
  }
  if (!it->status().ok()) {
    error = rocksText(it->status());
    return false;
  }
  return true;
}

bool CheckpointStore::Reader::State::verify(std::string &error, Overlay *added) const {
  for (const auto &e : meta.operators) {
    std::uint64_t count = 0;
    std::vector<std::string> keys;
    if (!walk(e.id, {}, count, error, added ? &keys : nullptr)) {
      return false;
    }
    if (count != e.records) {
      error = "operator " + std::to_string(e.id) + " holds " + std::to_string(count) +
              " key records, its meta expects " + std::to_string(e.records);
      return false;
    }
    for (auto &k : keys) {
      added->records[e.id].emplace(std::move(k), std::nullopt);
    }
  }
  std::uint64_t count = 0;
  std::vector<std::string> keys;
  if (!walk(std::nullopt, {}, count, error, added ? &keys : nullptr)) {
    return false;
  }
  if (count != meta.artifacts) {
    error = "the store holds " + std::to_string(count) + " artifacts, the meta expects " +
            std::to_string(meta.artifacts);
    return false;
  }
  for (auto &k : keys) {
    added->artifacts.emplace(std::move(k), std::nullopt);
  }
  return true;
}

// ---- Reader ----

CheckpointStore::Reader::Reader(std::shared_ptr<const State> state) : state_(std::move(state)) {
  id = state_->meta.checkpoint;
  meta = state_->meta.meta;
}

std::vector<std::uint64_t> CheckpointStore::Reader::operators() const {
  std::vector<std::uint64_t> out;
  for (const auto &e : state_->meta.operators) {
    out.push_back(e.id);
  }
  return out;
}

std::uint64_t CheckpointStore::Reader::keyCount(std::uint64_t op) const {
  const auto *e = state_->meta.find(op);
  return e == nullptr ? 0 : e->records;
}

bool CheckpointStore::Reader::forEach(
    std::uint64_t op, const std::function<void(std::string_view, std::string_view)> &fn,
    std::string &error) const {
  if (state_->meta.find(op) == nullptr) {
    return true;
  }
  std::uint64_t count = 0;
  return state_->walk(op, fn, count, error, nullptr);
}

std::vector<std::string> CheckpointStore::Reader::artifactHashes(std::string &error) const {
  std::vector<std::string> out;
  std::uint64_t count = 0;
  if (!state_->walk(
          std::nullopt, [&](std::string_view hash, std::string_view) { out.emplace_back(hash); },
          count, error, nullptr)) {
    out.clear();
  }
  return out;
}

std::optional<std::string> CheckpointStore::Reader::artifact(std::string_view hash,
                                                             std::string &error) const {
  std::optional<std::string> stored;
  bool from_overlay = false;
  if (state_->overlay) {
    auto o = state_->overlay->artifacts.find(hash);
    if (o != state_->overlay->artifacts.end()) {
      stored = o->second;
      from_overlay = true;
      if (!stored) {
        return std::nullopt;
      }
    }
  }
  if (!from_overlay) {
    std::string bytes;
    rdb::ReadOptions ro = state_->readOptions();
    auto s = state_->db->Get(ro, state_->artifacts, hash, &bytes);
    if (s.IsNotFound()) {
      return std::nullopt;
    }
    if (!s.ok()) {
      error = rocksText(s);
      return std::nullopt;
    }
    stored = std::move(bytes);
  }
  std::string_view payload;
  bool added = false;
  if (!state_->admit(Domain::Artifact, 0, hash, *stored, from_overlay, payload, added, error)) {
    return std::nullopt;
  }
  if (added) {
    return std::nullopt;
  }
  return std::string(payload);
}

} // namespace cep::runtime::store
